"""runtime/video.py: mp4 files that play back (frames, sizes, never an overwrite) and TensorBoard clips."""

from __future__ import annotations

import numpy as np
import pytest

from deep_arena.runtime.video import VideoWriter, even_frame, log_video, read_video, write_video


def _frames(n: int = 6, h: int = 41, w: int = 64) -> list[np.ndarray]:
    frames = []
    for k in range(n):
        f = np.zeros((h, w, 3), np.uint8)
        f[:, : (k + 1) * w // n] = (200, 40, 40)  # a red bar that grows
        frames.append(f)
    return frames


def test_mp4_round_trip(tmp_path):
    path = write_video(tmp_path / "clip.mp4", _frames(), fps=10)
    back = read_video(path)
    assert len(back) == 6
    assert back[0].shape == (40, 64, 3)  # cropped to even sides for yuv420p
    assert back[-1][:, -4:, 0].mean() > 150 and back[0][:, -4:, 0].mean() < 50  # the bar grew


def test_never_overwrites_and_no_file_without_frames(tmp_path):
    path = tmp_path / "clip.mp4"
    path.write_bytes(b"keep")
    with pytest.raises(FileExistsError):
        VideoWriter(path)
    assert path.read_bytes() == b"keep"
    empty = tmp_path / "empty.mp4"
    with VideoWriter(empty) as writer:
        pass
    assert writer.frames == 0 and not empty.exists()
    assert write_video(empty, []) is None


def test_frames_of_another_size_are_resized(tmp_path):
    path = tmp_path / "mixed.mp4"
    with VideoWriter(path, fps=5) as writer:
        writer.append(np.full((32, 48, 3), 255, np.uint8))
        writer.append(np.zeros((20, 20, 4), np.uint8))  # RGBA, other size
        writer.append(np.zeros((32, 48), np.uint8))  # grey
    assert [f.shape for f in read_video(path)] == [(32, 48, 3)] * 3


def test_even_frame_rejects_non_images():
    with pytest.raises(ValueError):
        even_frame(np.zeros((4, 4, 2)))


def test_log_video_is_an_animated_gif_in_tensorboard(tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    from torch.utils.tensorboard import SummaryWriter

    with SummaryWriter(str(tmp_path)) as writer:
        assert log_video(writer, "eval/video", _frames(), step=7, fps=4)
        assert not log_video(writer, "eval/none", [], step=7)
    acc = EventAccumulator(str(tmp_path), size_guidance={"images": 0})
    acc.Reload()
    (image,) = acc.Images("eval/video")
    assert image.step == 7 and image.encoded_image_string[:6] == b"GIF89a"
    assert (image.width, image.height) == (64, 40)
