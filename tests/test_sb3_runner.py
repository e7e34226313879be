"""The generic SB3 runner (agents/sb3): schedules of the module-level callbacks, the checkpointer (model, newest
replay buffer, extra state), finding checkpoints, reading a zip's algorithm, and the SB3Trainer skeleton end to end
on a toy env (CartPole), with no env family involved."""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace

import gymnasium as gym
import numpy as np
import pytest
import torch
from stable_baselines3.common.vec_env import DummyVecEnv

from deep_arena.agents.sb3.callbacks import (CheckpointCallback, EvaluationCallback, PeriodicCallback,
                                             TimeBudgetCallback, frame_strip, next_multiple)
from deep_arena.agents.sb3.checkpoints import (BUFFER_RE, Checkpointer, checkpoint_steps, checkpoints,
                                               latest_model_checkpoint)
from deep_arena.agents.sb3.models import algo_class, saved_algo
from deep_arena.agents.sb3.trainer import SB3Trainer
from deep_arena.runtime import RunDir
from deep_arena.runtime.settings import RunSettings, setting

torch.set_num_threads(1)


class FakeModel:
    """What the callbacks and the checkpointer use of a model: a step counter, save, save_replay_buffer."""

    def __init__(self) -> None:
        self.num_timesteps = 0
        self.logger = SimpleNamespace(record=lambda *a, **k: None, dump=lambda step: None)

    def save(self, path) -> None:
        path.write_bytes(b"model")

    def save_replay_buffer(self, path) -> None:
        path.write_bytes(b"buffer")


def _drive(callback, model: FakeModel, steps: list[int]) -> None:
    callback.init_callback(model)
    callback.on_training_start({}, {})
    for step in steps:
        model.num_timesteps = step
        callback.on_step()


def test_periodic_schedule_follows_multiples_and_survives_a_resume():
    assert next_multiple(0, 100) == 100 and next_multiple(100, 100) == 200 and next_multiple(199, 100) == 200
    fired, model = [], FakeModel()
    _drive(PeriodicCallback(100, lambda m: fired.append(m.num_timesteps)), model, list(range(8, 420, 8)))
    assert fired == [104, 200, 304, 400]       # 8 envs: the first step at or past each multiple
    fired.clear()
    model.num_timesteps = 250                  # a resumed run keeps the first run's schedule
    _drive(PeriodicCallback(100, lambda m: fired.append(m.num_timesteps)), model, [258, 300, 308])
    assert fired == [300]


def test_evaluation_callback_keeps_the_last_result_and_runs_on_demand():
    model = FakeModel()
    evaluation = EvaluationCallback(10, lambda m: {"at": m.num_timesteps})
    _drive(evaluation, model, [5, 10, 15])
    assert evaluation.last == {"at": 10} and evaluation.last_step == 10
    assert evaluation.evaluate_now(model) == {"at": 15} and evaluation.last_step == 15


def test_time_budget_stops_once_spent():
    budget, model = TimeBudgetCallback(0.0), FakeModel()
    budget.init_callback(model)
    budget.on_training_start({}, {})
    assert budget.on_step() is False and budget.spent
    never = TimeBudgetCallback(None)
    never.init_callback(model)
    assert never.on_step() is True and not never.spent


def test_checkpointer_keeps_the_newest_buffer_and_writes_extra_state(tmp_path):
    run_dir = RunDir.create("toy", "sac", root=tmp_path)
    written = []
    checkpointer = Checkpointer(run_dir.checkpoints_dir, replay_buffer=True,
                                state={"pool": lambda path: (written.append(path.name), path.write_bytes(b"x"))})
    model, then = FakeModel(), []
    _drive(CheckpointCallback(50, checkpointer, then=lambda m: then.append(m.num_timesteps)), model, [50, 75, 100])
    assert [p.name for _, p in checkpoints(run_dir)] == ["model_000000050.zip", "model_000000100.zip"]
    assert [p.name for _, p in checkpoints(run_dir, BUFFER_RE)] == ["replay_buffer_000000100.pkl"]
    assert written == ["pool_000000050.pt", "pool_000000100.pt"] and then == [50, 100]
    assert latest_model_checkpoint(run_dir).name == "model_000000100.zip"
    (run_dir.checkpoints_dir / "replay_buffer_000000100.pkl").unlink()
    (run_dir.checkpoints_dir / "replay_buffer_000000050.pkl").write_bytes(b"buffer")
    assert latest_model_checkpoint(run_dir).name == "model_000000050.zip"   # the newest one with its buffer
    assert checkpoint_steps(run_dir.checkpoints_dir / "model_000000050.zip") == 50
    with pytest.raises(ValueError, match="not a model_<steps>.zip"):
        checkpoint_steps(tmp_path / "final_model.zip")


def test_frame_strip_pads_shorter_frames():
    strip = frame_strip([np.zeros((4, 3, 3), np.uint8), np.zeros((2, 3, 3), np.uint8)], gap=1)
    assert strip.shape == (4, 7, 3) and strip[0, 3, 0] == 255


@dataclass
class ToySettings(RunSettings):
    total_steps: int = setting(64, low=1)
    minutes: float | None = setting(None, low=0.0, low_open=True)
    threads: int | None = setting(1, low=1)
    eval_every: int = setting(32, low=1)
    checkpoint_every: int = setting(32, low=1)


class ToyTrainer(SB3Trainer):
    """PPO on CartPole through the skeleton: what a family adds, in a dozen lines."""

    settings_class = ToySettings
    algorithm = "ppo"

    def make_venv(self):
        return DummyVecEnv([lambda: gym.make("CartPole-v1") for _ in range(2)])

    def model_kwargs(self, venv):
        return {"n_steps": 16, "batch_size": 16, "n_epochs": 1, "policy_kwargs": {"net_arch": [8]}}

    def callbacks(self):
        self.evaluation = EvaluationCallback(self.config["eval_every"], lambda m: {"steps": m.num_timesteps})
        checkpointer = Checkpointer(self.run_dir.checkpoints_dir)
        return [self.evaluation, CheckpointCallback(self.config["checkpoint_every"], checkpointer)]

    def finish(self):
        self.model.save(self.run_dir.path / "final_model.zip")
        return self.result({"evaluations": 1.0}, details={"last": self.evaluation.last})


def test_trainer_skeleton_runs_a_toy_env_and_refuses_resume_by_default(tmp_path):
    run_dir = RunDir.create("toy", "ppo", root=tmp_path)
    with pytest.raises(ValueError, match="total_steps must be a positive integer"):
        ToyTrainer({"total_steps": 0, "device": "cpu"}, run_dir)
    with pytest.raises(ValueError, match="unknown setting"):
        ToyTrainer({"no_such_setting": 1}, run_dir)
    trainer = ToyTrainer({"device": "cpu"}, run_dir, progress_bar=False)
    result = trainer.run()
    assert result.counters == {"env_steps": 64} and result.stopped_by == "budget"
    assert result.model_path == run_dir.path / "final_model.zip" and result.details["last"] == {"steps": 64}
    assert [p.name for _, p in checkpoints(run_dir)] == ["model_000000032.zip", "model_000000064.zip"]
    assert list(run_dir.path.glob("events.out.tfevents.*"))
    assert saved_algo(result.model_path) == "ppo" and algo_class("ppo").__name__ == "PPO"
    with pytest.raises(ValueError, match=r"expected SAC or TQC"):
        saved_algo(result.model_path, allowed=("sac", "tqc"))
    with pytest.raises(ValueError, match="resuming ppo runs is not supported yet"):
        ToyTrainer({"device": "cpu"}, run_dir).load(result.model_path)
    bad = tmp_path / "bad.zip"
    bad.write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="not a Stable-Baselines3 model zip"):
        saved_algo(bad)
    with pytest.raises(ValueError, match="unknown algorithm"):
        algo_class("dqn")
