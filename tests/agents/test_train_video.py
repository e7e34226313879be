"""``arena-train go|molecule --video``: a tiny run of each trainer (AlphaZero and MaskablePPO for Go, MolDQN and
MaskablePPO for molecules) ends with one game / episode of its final model as ``videos/final_<step>.mp4`` (the first
frame not one colour) and TensorBoard's ``eval/video`` clip at that step."""

from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")

import pytest
import torch

from deep_arena.runtime.video import read_video

torch.set_num_threads(1)

GO_AZ = ["--algo", "alphazero", "--board-size", "5", "--steps", "1", "--device", "cpu", "--no-progress",
         *[a for s in ("positions_per_iteration=16", "min_replay=16", "replay_capacity=200",
                       "selfplay.parallel_games=4", "selfplay.simulations=4", "selfplay.fast_simulations=2",
                       "net.channels=4", "net.blocks=1", "eval.games_vs_random=1", "eval.games_vs_gnugo=0",
                       "eval.sims=2", "threads=1", "train.batch_size=16") for a in ("--set", s)]]
GO_PPO = ["--algo", "maskable_ppo", "--board-size", "5", "--steps", "64", "--device", "cpu", "--no-progress",
          *[a for s in ("n_envs=2", "ppo.n_steps=32", "ppo.batch_size=32", "ppo.n_epochs=1", "eval_every=1000",
                        "eval_games=2", "checkpoint_every=1000", "net.channels=4", "net.hidden=16", "threads=1")
            for a in ("--set", s)]]
MOL_DQN = ["--algo", "moldqn", "--episodes", "2", "--device", "cpu", "--no-progress",
           *[a for s in ("learning_starts=4", "batch_size=4", "log_every=1", "threads=1", "replay_capacity=100",
                         "env.max_atoms=6", "env.max_steps=4", "env.fp_bits=64", "net.hidden=[16]")
             for a in ("--set", s)]]
MOL_PPO = ["--algo", "maskable_ppo", "--steps", "64", "--device", "cpu", "--no-progress",
           *[a for s in ("n_envs=2", "ppo.n_steps=32", "ppo.batch_size=32", "ppo.n_epochs=1", "eval_every=100000",
                         "checkpoint_every=1000", "net_arch=[16]", "env.max_atoms=6", "env.max_steps=4",
                         "env.fp_bits=64", "threads=1")
             for a in ("--set", s)]]


def _check_video(run: Path, step: int) -> None:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    video = run / "videos" / f"final_{step:09d}.mp4"
    assert video.is_file(), sorted(p.name for p in run.rglob("*"))
    frames = read_video(video)
    first = frames[0].reshape(-1, 3)
    assert len(frames) > 1 and (first.max(0) - first.min(0)).max() > 30  # not one colour
    acc = EventAccumulator(str(run), size_guidance={"images": 0})
    acc.Reload()
    clips = acc.Images("eval/video")
    assert [c.step for c in clips] == [step] and clips[0].encoded_image_string[:6] == b"GIF89a"
    assert max(clips[0].width, clips[0].height) <= 320  # scaled down: the events stay small


@pytest.mark.parametrize("argv,step", [(GO_AZ, 1), (GO_PPO, 64)], ids=["alphazero", "maskable_ppo"])
def test_go_training_video(tmp_path, argv, step, capsys):
    from deep_arena.agents.go.commands import train

    assert train([*argv, "--video", "--run-root", str(tmp_path)]) == 0
    (run,) = (tmp_path / "go").iterdir()
    assert "video: " in capsys.readouterr().out
    _check_video(run, step)


@pytest.mark.parametrize("argv,step", [(MOL_DQN, 2), (MOL_PPO, None)], ids=["moldqn", "maskable_ppo"])
def test_molecule_training_video(tmp_path, argv, step, capsys):
    from deep_arena.agents.molecule.commands import train

    assert train([*argv, "--video", "--run-root", str(tmp_path)]) == 0
    (run,) = (tmp_path / "molecule").iterdir()
    assert "video: " in capsys.readouterr().out
    (video,) = (run / "videos").iterdir()
    _check_video(run, int(video.stem.split("_")[1]) if step is None else step)
