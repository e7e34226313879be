"""rl-zoo interop: agents/hyperparams/rl_zoo/<algo>.yml are generated from our files and train with rl_zoo3.train.

The slow test runs ``python -m rl_zoo3.train`` in a separate venv named by ``RL_ZOO3_PYTHON``: rl_zoo3's
dependencies would downgrade pillow and python-dateutil in the project's own venv (pyproject.toml, extra ``zoo``).
Make one once and point the variable at its interpreter::

    python3.11 -m venv /tmp/zoo-venv
    /tmp/zoo-venv/bin/pip install torch==2.13.0          # first and pinned, as the Makefile does
    /tmp/zoo-venv/bin/pip install rl_zoo3 -e .
    RL_ZOO3_PYTHON=/tmp/zoo-venv/bin/python .venv/bin/python -m pytest -m slow tests/agents/test_rl_zoo.py

Without ``RL_ZOO3_PYTHON`` the test uses the running interpreter if it has rl_zoo3 (``pip install -e '.[zoo]'``),
and skips otherwise, saying the above.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from deep_arena.agents.arm.config import TASKS
from deep_arena.agents.hyperparams import load_hyperparams
from deep_arena.agents.hyperparams import rl_zoo

REPO = Path(__file__).resolve().parents[2]


def test_committed_files_match_the_generated_ones():
    assert rl_zoo.stale() == [], ("agents/hyperparams/rl_zoo/*.yml are stale: run "
                                  "`python -m deep_arena.agents.hyperparams.rl_zoo`")


@pytest.mark.parametrize("algo", rl_zoo.ALGOS)
def test_files_parse_with_rl_zoo_required_keys(algo):
    data = yaml.safe_load((rl_zoo.RL_ZOO_DIR / f"{algo}.yml").read_text(encoding="utf-8"))
    assert set(data) == set(TASKS.values())
    for env_id, entry in data.items():
        assert isinstance(entry["n_timesteps"], int) and entry["n_timesteps"] > 0
        assert entry["policy"] == "MultiInputPolicy"
        ours = load_hyperparams(algo, env_id)
        assert entry["n_timesteps"] == ours["total_steps"]
        model = dict(ours["model"])
        # rl-zoo evaluates its "dict(...)" strings; they must give our values back.
        assert eval(entry["policy_kwargs"], {"dict": dict}) == model.pop("policy_kwargs")  # noqa: S307
        for key, value in model.items():
            assert entry[key] == value, (env_id, key)
        if ours.get("her"):
            assert entry["replay_buffer_class"] == "HerReplayBuffer"
            assert eval(entry["replay_buffer_kwargs"], {"dict": dict}) == ours["her_kwargs"]  # noqa: S307
        else:
            assert "replay_buffer_class" not in entry
        if "action_noise_sigma" in ours:
            assert (entry["noise_type"], entry["noise_std"]) == ("normal", ours["action_noise_sigma"])
        if "n_envs" in ours:
            assert entry["n_envs"] == ours["n_envs"]


def test_non_default_env_settings_become_env_kwargs_and_extras_are_refused():
    from deep_arena.agents.arm.config import default_config

    config = default_config("push", "sac")
    config["reward_type"] = "dense"
    config["env_kwargs"] = {"substeps": 5}
    assert rl_zoo.rl_zoo_entry(config)["env_kwargs"] == {"reward_type": "dense", "substeps": 5}
    assert "env_kwargs" not in rl_zoo.rl_zoo_entry(default_config("push", "sac"))
    config["curriculum"] = "goalgan"
    with pytest.raises(ValueError, match="rl-zoo"):
        rl_zoo.rl_zoo_entry(config)
    with pytest.raises(ValueError, match="unknown algorithm"):
        rl_zoo.to_rl_zoo("maskable_ppo")


def _zoo_python() -> str | None:
    """RL_ZOO3_PYTHON (a separate venv with rl_zoo3 and this project), else this interpreter if it has rl_zoo3."""
    given = os.environ.get("RL_ZOO3_PYTHON")
    if given:
        if not Path(given).is_file():
            pytest.fail(f"RL_ZOO3_PYTHON={given} is not a file (give the venv's bin/python)")
        return given
    if importlib.util.find_spec("rl_zoo3") is not None:
        return sys.executable
    return None


@pytest.mark.slow
@pytest.mark.parametrize("task,net_arch", [("Reach", "net_arch=[64, 64]"), ("Push", "net_arch=[256, 256]")])
def test_rl_zoo3_train_runs_with_our_file(tmp_path, task, net_arch):
    python = _zoo_python()
    if python is None:
        pytest.skip("rl_zoo3 is not in this venv (it would downgrade pillow and python-dateutil here): set "
                    "RL_ZOO3_PYTHON to a separate venv's python with rl_zoo3 and this project installed, e.g. "
                    "python3.11 -m venv /tmp/zoo-venv && /tmp/zoo-venv/bin/pip install torch==2.13.0 && "
                    "/tmp/zoo-venv/bin/pip install rl_zoo3 -e . (see this file's docstring)")
    env_id = f"arena/Arm{task}-v0"
    # 300 steps; learning_starts lowered to 200 so that the run also makes 100 gradient steps (HER sampling
    # included), the buffer to 10,000 (push's 1,000,000 would be allocated for nothing). One torch thread: more
    # oversubscribe a shared CPU (200 updates took 95 s with the default, 2 s here).
    cmd = [python, "-m", "rl_zoo3.train", "--algo", "tqc", "--env", env_id,
           "--gym-packages", "deep_arena.envs", "-conf", "agents/hyperparams/rl_zoo/tqc.yml",
           "-n", "300", "--log-folder", str(tmp_path), "--seed", "0", "--eval-freq", "-1",
           "-params", "learning_starts:200", "buffer_size:10000", "--num-threads", "1"]
    env = {**os.environ, "SDL_VIDEODRIVER": "dummy", "MUJOCO_GL": os.environ.get("MUJOCO_GL", "egl")}
    result = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    name = env_id.replace("/", "-")
    models = list(tmp_path.glob(f"tqc/{name}_*/{name}.zip"))
    assert len(models) == 1, sorted(str(p) for p in tmp_path.rglob("*"))
    config = (models[0].parent / name / "config.yml").read_text(encoding="utf-8")
    assert "HerReplayBuffer" in config and net_arch in config

    import gymnasium as gym
    from sb3_contrib import TQC

    import deep_arena.envs  # noqa: F401 (registers the arena ids)

    env = gym.make(env_id)  # a HerReplayBuffer model loads with its env
    model = TQC.load(models[0], env=env, device="cpu")
    env.close()
    assert model.num_timesteps == 300
    assert model.gamma == 0.95 and model.batch_size == 256
