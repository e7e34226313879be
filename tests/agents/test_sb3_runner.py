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


def test_checkpointer_keeps_the_newest_models_with_their_state_and_the_protected_ones(tmp_path):
    run_dir = RunDir.create("toy", "sac", root=tmp_path)
    checkpointer = Checkpointer(run_dir.checkpoints_dir, state={"pool": lambda path: path.write_bytes(b"x")},
                                keep_last=2, keep_steps=(0,))
    model = FakeModel()
    for step in (0, 10, 20, 30, 40):
        model.num_timesteps = step
        checkpointer.save(model)
    assert [s for s, _ in checkpoints(run_dir)] == [0, 30, 40]
    assert sorted(p.name for p in run_dir.checkpoints_dir.glob("pool_*.pt")) == [
        "pool_000000000.pt", "pool_000000030.pt", "pool_000000040.pt"]
    every = Checkpointer(run_dir.checkpoints_dir, keep_last=None)
    model.num_timesteps = 50
    every.save(model)
    assert [s for s, _ in checkpoints(run_dir)] == [0, 30, 40, 50]


def test_replay_buffer_is_saved_as_large_as_what_it_holds_and_restored_at_its_size(tmp_path):
    """A HER buffer of 50,000 slots that holds 120 transitions: the pickle holds 121 slots, loading gives the
    50,000 back with the same contents, and HerReplayBuffer's truncation warning (expected on a resume) is silent."""
    import warnings

    from stable_baselines3 import HerReplayBuffer, SAC

    from deep_arena.agents.sb3.checkpoints import buffer_path, save_replay_buffer
    from deep_arena.agents.sb3.models import restore_replay_buffer

    env = DummyVecEnv([lambda: gym.wrappers.TimeLimit(ToyGoalEnv(), 7)])
    kwargs = {"buffer_size": 50_000, "learning_starts": 1_000, "replay_buffer_class": HerReplayBuffer,
              "policy_kwargs": {"net_arch": [8]}}
    model = SAC("MultiInputPolicy", env, seed=0, device="cpu", **kwargs)
    model.learn(120)
    buffer = model.replay_buffer
    path = buffer_path(tmp_path, 120)
    save_replay_buffer(model, path)
    assert model.replay_buffer is buffer and buffer.observations["observation"].shape[0] == 50_000
    full = tmp_path / "full.pkl"
    model.save_replay_buffer(full)
    assert path.stat().st_size * 50 < full.stat().st_size
    fresh = SAC("MultiInputPolicy", env, seed=0, device="cpu", **kwargs)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert restore_replay_buffer(fresh, path, learning_starts=100)
    restored = fresh.replay_buffer
    assert restored.buffer_size == 50_000 and restored.pos == buffer.pos == 120 and not restored.full
    for key, array in buffer.observations.items():
        assert restored.observations[key].shape == array.shape
        np.testing.assert_array_equal(restored.observations[key][:120], array[:120])
    np.testing.assert_array_equal(restored.actions, buffer.actions)
    assert restored.ep_length.shape == buffer.ep_length.shape and restored.infos.shape == buffer.infos.shape
    assert restored.infos[-1, 0] == {}
    fresh.learn(60, reset_num_timesteps=False)  # it keeps filling and sampling
    assert fresh.replay_buffer.pos == 180
    env.close()


class ToyGoalEnv(gym.Env):
    """A point that moves towards a goal on a line: the smallest goal env HER accepts."""

    observation_space = gym.spaces.Dict({k: gym.spaces.Box(-1.0, 1.0, (1,), np.float32)
                                         for k in ("observation", "achieved_goal", "desired_goal")})
    action_space = gym.spaces.Box(-1.0, 1.0, (1,), np.float32)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.x, self.goal = np.zeros(1, np.float32), self.np_random.uniform(-1, 1, 1).astype(np.float32)
        return self._obs(), {}

    def _obs(self):
        return {"observation": self.x.copy(), "achieved_goal": self.x.copy(), "desired_goal": self.goal.copy()}

    def compute_reward(self, achieved, desired, info):
        return -(np.abs(achieved - desired).sum(axis=-1) > 0.1).astype(np.float32)

    def step(self, action):
        self.x = np.clip(self.x + 0.2 * np.asarray(action, np.float32), -1, 1)
        return self._obs(), float(self.compute_reward(self.x, self.goal, {})), False, False, {}


class ResumableToy(ToyTrainer):
    def load(self, checkpoint):
        self.load_model(checkpoint)


def _scalar_steps(run, tag: str) -> list[int]:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(run))
    acc.Reload()
    return [event.step for event in acc.Scalars(tag)]


def test_resumed_runs_purge_what_the_interrupted_one_logged_after_the_checkpoint(tmp_path):
    run_dir = RunDir.create("toy", "ppo", root=tmp_path)
    ResumableToy({"device": "cpu"}, run_dir, progress_bar=False).run()  # logs at 32 and 64, checkpoints both
    trainer = ResumableToy({"device": "cpu", "total_steps": 96}, run_dir, progress_bar=False)
    trainer.load(run_dir.checkpoints_dir / "model_000000032.zip")  # as if killed after the checkpoint at 32
    trainer.run()
    assert _scalar_steps(run_dir.path, "time/fps") == [32, 64, 96]  # not 32, 64, 64, 96


def test_interrupt_stops_at_the_next_step_saves_and_skips_the_final_evaluation(tmp_path):
    import os
    import signal

    class Interrupted(ToyTrainer):
        def callbacks(self):
            return [*super().callbacks(), PeriodicCallback(40, lambda m: os.kill(os.getpid(), signal.SIGINT))]

        def finish(self):
            raise AssertionError("no final evaluation after an interrupt")

    run_dir = RunDir.create("toy", "ppo", root=tmp_path)
    result = Interrupted({"device": "cpu", "total_steps": 640}, run_dir, progress_bar=False).run()
    assert result.stopped_by == "interrupt" and result.counters["env_steps"] < 640
    steps = result.counters["env_steps"]
    assert (run_dir.checkpoints_dir / f"model_{steps:09d}.zip").is_file()
    assert result.model_path == run_dir.path / "final_model.zip" and result.model_path.is_file()
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # the handler is put back


def test_time_budget_counts_the_seconds_a_resumed_run_had_spent():
    model = FakeModel()
    budget = TimeBudgetCallback(1.0, seconds_before=61.0)
    budget.init_callback(model)
    assert budget.on_step() is False and budget.spent and model.arena_seconds > 61.0
