"""Episode videos: mp4 files (:class:`VideoWriter`) and TensorBoard clips (:func:`log_video`).

* :class:`VideoWriter` -- append RGB frames (``H x W x 3`` uint8 arrays), close; writes an H.264 mp4 through
  imageio's ffmpeg plugin (``imageio-ffmpeg`` ships its own ffmpeg binary in its wheel, nothing else to install).
  It refuses a path that exists: a recording never overwrites a file.
* :func:`log_video` -- a clip in TensorBoard's Images tab as an animated GIF, the very summary
  ``SummaryWriter.add_video`` writes, but encoded with Pillow: ``add_video`` needs ``moviepy.editor``, which
  moviepy 2 no longer has.
* :func:`read_video` -- the frames of an mp4 back (tests, checks).
* :func:`save_run_video` -- ``--video`` for a trainer: an episode as ``RUN_DIR/videos/<name>_<step>.mp4`` and as the
  run's TensorBoard clip ``eval/video`` at that step (Go and molecule record one game / episode of the final model).

imageio is imported inside the functions that write or read a file: importing this module stays cheap.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PIL import Image

from deep_arena.runtime.tb import make_writer

if TYPE_CHECKING:
    from torch.utils.tensorboard import SummaryWriter

__all__ = ["VideoWriter", "even_frame", "fit_frame", "gif_bytes", "log_video", "read_video", "save_run_video",
           "write_video"]


def even_frame(frame: Any) -> np.ndarray:
    """``frame`` as a contiguous ``H x W x 3`` uint8 array, cropped to even sides (H.264's yuv420p needs them).
    A grey frame (``H x W``) is repeated to RGB; an alpha channel is dropped."""
    array = np.asarray(frame)
    if array.ndim == 2:
        array = np.repeat(array[:, :, None], 3, axis=2)
    if array.ndim != 3 or array.shape[2] not in (3, 4):
        raise ValueError(f"a video frame is H x W x 3 (RGB), got shape {array.shape}")
    array = array[:, :, :3]
    if array.dtype != np.uint8:
        array = np.clip(array, 0, 255).astype(np.uint8)
    h, w = array.shape[:2]
    return np.ascontiguousarray(array[: h - h % 2, : w - w % 2])


class VideoWriter:
    """Writes RGB frames to an mp4 at ``fps`` frames per second.

    The file is opened at the first frame (so a recording that never got a frame leaves no file); every frame
    must have the first frame's size (a frame of another size is resized with Pillow). ``path`` must not exist:
    :class:`FileExistsError` otherwise, at construction. Use it as a context manager, or call :meth:`close`.
    """

    def __init__(self, path: str | os.PathLike[str], fps: float = 25.0):
        self.path = Path(path)
        if self.path.exists():
            raise FileExistsError(f"{self.path} exists (a recording never overwrites a file)")
        if not fps > 0:
            raise ValueError(f"fps must be positive, got {fps}")
        self.fps = float(fps)
        self.frames = 0
        self._writer: Any = None
        self._shape: tuple[int, ...] | None = None

    def append(self, frame: Any) -> None:
        array = even_frame(frame)
        if self._writer is None:
            import imageio.v2 as imageio  # lazy: imageio and its ffmpeg plugin, only when a video is written

            if self.path.exists():  # made meanwhile: still never overwrite
                raise FileExistsError(f"{self.path} exists (a recording never overwrites a file)")
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # macro_block_size=1: no resizing to multiples of 16 (even sides are enough for yuv420p)
            self._writer = imageio.get_writer(str(self.path), format="FFMPEG", mode="I", fps=self.fps,
                                              codec="libx264", pixelformat="yuv420p", macro_block_size=1,
                                              ffmpeg_log_level="error")
            self._shape = array.shape
        elif array.shape != self._shape:
            
            h, w = self._shape[:2]
            array = np.asarray(Image.fromarray(array).resize((w, h)))
        self._writer.append_data(array)
        self.frames += 1

    def extend(self, frames: Iterable[Any]) -> None:
        for frame in frames:
            self.append(frame)

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def __enter__(self) -> VideoWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def write_video(path: str | os.PathLike[str], frames: Sequence[Any], fps: float = 25.0) -> Path | None:
    """Write ``frames`` to a new mp4 at ``path``; ``None`` (no file) when there are no frames."""
    if not len(frames):
        return None
    with VideoWriter(path, fps) as writer:
        writer.extend(frames)
    return writer.path


def read_video(path: str | os.PathLike[str]) -> list[np.ndarray]:
    """All frames of a video file as ``H x W x 3`` uint8 arrays."""
    import imageio.v2 as imageio  # lazy: imageio and its ffmpeg, only when a video is written

    reader = imageio.get_reader(str(path), format="FFMPEG")
    try:
        return [np.asarray(frame) for frame in reader]
    finally:
        reader.close()


def gif_bytes(frames: Sequence[Any], fps: float) -> bytes:
    """An animated GIF (looping) of ``frames``."""
    
    images = [Image.fromarray(even_frame(f)) for f in frames]
    buffer = io.BytesIO()
    duration = max(20, int(round(1000 / fps)))  # ms per frame; browsers slow down anything under 20
    images[0].save(buffer, format="GIF", save_all=True, append_images=images[1:], duration=duration, loop=0)
    return buffer.getvalue()


def log_video(writer: SummaryWriter, tag: str, frames: Sequence[Any], step: int, fps: float = 25.0) -> bool:
    """Log ``frames`` as a clip (an animated GIF in the Images tab, as ``add_video`` does); ``False`` when there
    are no frames (nothing logged)."""
    if not len(frames):
        return False
    from tensorboard.compat.proto.summary_pb2 import Summary  # lazy: tensorboard

    first = even_frame(frames[0])
    h, w = first.shape[:2]
    image = Summary.Image(height=h, width=w, colorspace=3, encoded_image_string=gif_bytes(frames, fps))
    writer._get_file_writer().add_summary(Summary(value=[Summary.Value(tag=tag, image=image)]), int(step))
    return True


def fit_frame(frame: Any, max_side: int) -> np.ndarray:
    """``frame`` (see :func:`even_frame`) scaled down so that its longer side is at most ``max_side`` pixels."""
    array = even_frame(frame)
    h, w = array.shape[:2]
    scale = max_side / max(h, w)
    if scale >= 1:
        return array
    size = (max(2, int(w * scale)), max(2, int(h * scale)))
    return np.asarray(Image.fromarray(array).resize(size, Image.LANCZOS))


def save_run_video(run_dir: str | os.PathLike[str], frames: Sequence[Any], step: int, fps: float = 4.0,
                   name: str = "final", tag: str = "eval/video", clip_side: int = 320) -> Path | None:
    """``frames`` as ``run_dir/videos/<name>_<step>.mp4`` (an existing file is kept: a recording never overwrites)
    and as the TensorBoard clip ``tag`` at ``step`` in the run's own events, scaled to at most ``clip_side`` pixels
    (a GIF of full-size boards would weigh megabytes), through a writer of its own, opened and closed here (so it
    works after the trainer closed its writer). Returns the mp4's path (``None``: no frames)."""
    if not len(frames):
        return None
    path = Path(run_dir) / "videos" / f"{name}_{int(step):09d}.mp4"
    if not path.exists():
        write_video(path, frames, fps=fps)
    writer = make_writer(run_dir)
    try:
        log_video(writer, tag, [fit_frame(f, clip_side) for f in frames], int(step), fps=fps)
    finally:
        writer.close()
    return path
