"""The task registry: the built-in families are consistent with the env ids and shipped models, and a new family
registered through the public API alone gets train / evaluate / play / demo / load_pretrained from the generic
commands (the README's "Adding an environment" in miniature)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from deep_arena import agents, envs
from deep_arena.agents import pretrained, registry
from deep_arena.agents.registry import DemoJob, Task, get_task, register_task, task_names
from deep_arena.runtime import RunDir
from deep_arena.scripts import demo, evaluate, play, train


def test_builtin_families_own_every_env_id_and_shipped_model():
    owned = [i for name in task_names() for i in get_task(name).env_ids]
    assert sorted(owned) == sorted(envs.ENV_IDS) and len(set(owned)) == len(owned)
    shipped = [m for name in task_names() for m in get_task(name).pretrained]
    assert sorted(shipped) == sorted(pretrained.FILES)
    assert list(registry.BUILTIN_TASKS) == ["go", "arm", "molecule"]


def test_unknown_family_and_duplicate_registration_are_refused(capsys):
    with pytest.raises(ValueError, match="unknown environment family 'chess'; choose one of go, arm, molecule"):
        get_task("chess")
    assert train.main(["chess"]) == 2 and "unknown environment family 'chess'" in capsys.readouterr().err
    with pytest.raises(ValueError, match="already registered"):
        register_task(Task(name="go", summary="another go"))
    with pytest.raises(ValueError, match="lower-case"):
        Task(name="Bad Name", summary="x")
    with pytest.raises(TypeError, match="train must be callable"):
        Task(name="x", summary="x", train="not a function")  # type: ignore[arg-type]


# --- a throwaway family, as a contributor would add one -------------------------------------------------------

class CounterEnv(gym.Env):
    """Count up to 5 with action 1; action 0 does nothing. Reward 1 on reaching 5 (terminated)."""

    metadata = {"render_modes": ["rgb_array"], "render_fps": 4}

    def __init__(self, render_mode: str | None = None):
        self.observation_space = gym.spaces.Box(0.0, 5.0, (1,), np.float32)
        self.action_space = gym.spaces.Discrete(2)
        self.render_mode = render_mode
        self.count = 0

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.count = int(self.np_random.integers(0, 2))
        return np.array([self.count], np.float32), {}

    def step(self, action):
        self.count = min(self.count + int(action), 5)
        done = self.count == 5
        return np.array([self.count], np.float32), float(done), done, False, {}

    def render(self):
        frame = np.zeros((8, 8, 3), np.uint8)
        frame[:, : self.count] = 255
        return frame


def _train(argv) -> int:
    parser = argparse.ArgumentParser(prog="arena-train counter")
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--run-root", default="runs")
    args = parser.parse_args(argv)
    run = RunDir.create("counter", "always_one", root=args.run_root)
    (run.path / "model.json").write_text(json.dumps({"action": 1, "steps": args.steps}))
    print(f"run directory: {run.path}")
    return 0


def _evaluate(argv) -> int:
    env = gym.make("test/Counter-v0")
    returns = []
    for episode in range(int(argv[0]) if argv else 3):
        env.reset(seed=episode)
        total, done = 0.0, False
        while not done:
            _, reward, terminated, truncated, _ = env.step(1)
            total, done = total + reward, terminated or truncated
        returns.append(total)
    print(f"mean return {np.mean(returns):.1f}")
    return 0


@pytest.fixture
def counter_family(monkeypatch):
    """Registers the family through the public API only; the registry is restored afterwards."""
    monkeypatch.setattr(registry, "_registered", dict(registry._registered))
    if "test/Counter-v0" not in gym.registry:
        gym.register("test/Counter-v0", entry_point=CounterEnv, max_episode_steps=20)
    return register_task(Task(
        name="counter", summary="count to five", env_ids=("test/Counter-v0",), algorithms=("always_one",),
        train=_train, evaluate=_evaluate, play=lambda argv: print("a window would open") or 0,
        load_pretrained=lambda name, device="auto": {"action": 1, "name": name}, pretrained=("counter-best",),
        demo_jobs=(DemoJob("Counter, always one", ("counter", "--steps", "3")),)))


def test_a_family_registered_through_the_public_api_gets_every_generic_command(counter_family, tmp_path, capsys):
    check_env(gym.make("test/Counter-v0").unwrapped)
    assert "counter" in task_names()
    assert train.main(["--help"]) == 0 and "count to five" in capsys.readouterr().out
    assert train.main(["counter", "--steps", "3", "--run-root", str(tmp_path)]) == 0
    (run,) = (tmp_path / "counter").iterdir()
    assert json.loads((run / "model.json").read_text()) == {"action": 1, "steps": 3}
    assert evaluate.main(["counter", "2"]) == 0 and "mean return 1.0" in capsys.readouterr().out
    assert play.main(["counter"]) == 0 and "a window would open" in capsys.readouterr().out
    assert DemoJob("Counter, always one", ("counter", "--steps", "3")) in demo.demo_jobs()
    assert agents.load_pretrained("counter-best") == {"action": 1, "name": "counter-best"}
    with pytest.raises(ValueError, match="unknown pretrained model 'counter-worst'"):
        agents.load_pretrained("counter-worst")


def test_a_family_without_a_hook_says_so(monkeypatch, capsys):
    monkeypatch.setattr(registry, "_registered", dict(registry._registered))
    register_task(Task(name="silent", summary="no commands"))
    assert play.main(["silent"]) == 2
    assert "environment family 'silent' has no play command" in capsys.readouterr().err


def test_adding_an_environment_section_lists_the_files():
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = readme.split("## Adding an environment", 1)[1].split("\n## ", 1)[0]
    for path in ("envs/__init__.py", "pyproject.toml", "README.md", "envs/drone/", "agents/drone/", "task.py"):
        assert path in section
