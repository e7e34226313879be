"""``arena-train arm --video``: each evaluation's first episode as ``videos/eval_<step>.mp4`` and TensorBoard's
``eval/video``; the finished run also has its HParams summary."""

from __future__ import annotations

import os

os.environ.setdefault("MUJOCO_GL", "egl")
os.environ.setdefault("SDL_VIDEODRIVER", "dummy")

import torch

from deep_arena.runtime.video import read_video

torch.set_num_threads(1)

TINY = ["--set", "threads=1", "--set", "eval_every=150", "--set", "eval_episodes=1", "--set", "checkpoint_every=300",
        "--set", "model.learning_starts=100", "--set", "model.batch_size=16", "--set", "model.buffer_size=1000",
        "--set", "model.policy_kwargs.net_arch=[8,8]", "--set", "frame_size=64", "--set", "frame_stride=10",
        "--no-progress", "--device", "cpu"]


def test_train_video_records_each_evaluation(tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    from deep_arena.agents.arm import commands

    assert commands.train(["--task", "reach", "--algo", "sac", "--steps", "300", "--video",
                           "--run-root", str(tmp_path), *TINY]) == 0
    (run,) = (tmp_path / "arm").iterdir()
    videos = sorted(p.name for p in (run / "videos").iterdir())
    assert videos == ["eval_000000150.mp4", "eval_000000300.mp4"]
    frames = read_video(run / "videos" / videos[0])
    first = frames[0].reshape(-1, 3)
    assert len(frames) > 1 and (first.max(0) - first.min(0)).max() > 30  # not one colour
    acc = EventAccumulator(str(run), size_guidance={"images": 0})
    acc.Reload()
    clips = acc.Images("eval/video")
    assert [c.step for c in clips] == [150, 300] and clips[0].encoded_image_string[:6] == b"GIF89a"
    assert "eval/frames" in acc.Tags()["images"]  # the frame strip is still there
    assert acc.PluginTagToContent("hparams")  # the HParams summary of the finished run
