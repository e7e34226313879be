"""Robot-arm agents: scripts/train_arm.py (run directory, resume), scripts/evaluate.py arm, input errors, the frame
strip and ``agents.load_pretrained("arm-reach")``. Scripts run in-process (their ``main``) on tiny networks."""

from __future__ import annotations

import os

os.environ.setdefault("MUJOCO_GL", "egl")  # before mujoco is imported anywhere: headless rendering
os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

import importlib.util  # noqa: E402
import json  # noqa: E402
import re  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from deep_arena.agents.arm import sb3_trainer as arm  # noqa: E402

torch.set_num_threads(1)

REPO = Path(__file__).resolve().parents[2]
TINY = ["--set", "threads=1", "--set", "eval_every=150", "--set", "eval_episodes=2", "--set", "checkpoint_every=150",
        "--set", "model.learning_starts=100", "--set", "model.batch_size=32", "--set", "model.buffer_size=2000",
        "--set", "model.policy_kwargs.net_arch=[16,16]", "--set", "frame_size=64", "--set", "frame_stride=10",
        "--no-progress", "--device", "cpu"]


def _script(name: str):
    spec = importlib.util.spec_from_file_location(f"{name}_script", REPO / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A 300-step TQC+HER reach run (checkpoints every 150 steps)."""
    root = tmp_path_factory.mktemp("runs")
    assert _script("train_arm").main(["--task", "reach", "--algo", "tqc", "--her", "--steps", "300",
                                      "--run-root", str(root), *TINY]) == 0
    (run,) = (root / "arm").iterdir()
    return run


def test_train_creates_run_directory(trained):
    assert trained.name.startswith("tqc-")
    for name in ("final_model.zip", "config.yml", "command.txt", "evaluations.npz"):
        assert (trained / name).is_file(), name
    ckpts = sorted(p.name for p in (trained / "checkpoints").iterdir())
    assert ckpts == ["model_000000150.zip", "model_000000300.zip", "replay_buffer_000000300.pkl"]
    assert "--her" in (trained / "command.txt").read_text()
    from deep_arena.runtime import load_config

    config = load_config(trained / "config.yml")
    assert config["task"] == "reach" and config["algo"] == "tqc" and config["her"] is True
    assert config["model"]["policy_kwargs"]["net_arch"] == [16, 16] and config["model"]["gamma"] == 0.95
    with np.load(trained / "evaluations.npz") as ev:
        assert ev["timesteps"].tolist() == [150, 300]
        assert ev["successes"].shape == (2, 2) and ev["results"].shape == (2, 2)
        assert np.all(ev["results"] <= 0) and np.all(ev["final_distances"] >= 0)
    events = list(trained.glob("events.out.tfevents.*"))
    assert events and events[0].stat().st_size > 1000  # scalars and the frame strip
    model = arm.load_model(trained / "final_model.zip", device="cpu")
    assert model.num_timesteps == 300 and arm.saved_algo(trained / "final_model.zip") == "tqc"


def test_resume_continues_steps_and_evaluations(trained, tmp_path):
    import shutil

    run = tmp_path / "copy"
    shutil.copytree(trained, run)
    (run / "checkpoints" / "model_000000300.zip").unlink()  # resume from 150, whose replay buffer is gone: warns
    with pytest.warns(UserWarning, match="empty replay buffer"):
        # no budget flag: the run finishes its saved plan (300 steps)
        assert _script("train_arm").main(["--resume", str(run), "--no-progress"]) == 0
    model = arm.load_model(run / "final_model.zip", device="cpu")
    assert model.num_timesteps == 300
    with np.load(run / "evaluations.npz") as ev:
        assert ev["timesteps"].tolist() == [150, 300]  # the old 300 dropped, the resumed run's 300 added
        assert ev["successes"].shape == (2, 2)
    assert (run / "checkpoints" / "replay_buffer_000000300.pkl").is_file()
    # TensorBoard: what the first run logged after step 150 is hidden, every curve's steps strictly increase
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(run))
    events.Reload()
    assert [e.step for e in events.Scalars("eval/success_rate")] == [150, 300]
    for tag in events.Tags()["scalars"]:
        steps = [e.step for e in events.Scalars(tag)]
        assert steps == sorted(set(steps)), (tag, steps)


def test_resume_of_a_finished_run_needs_a_budget_flag(trained, tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        _script("train_arm").main(["--resume", str(trained), "--no-progress"])
    err = capsys.readouterr().err
    assert exc.value.code == 2 and "nothing left to train" in err and "give --steps N" in err


def test_resume_restores_replay_buffer(trained, tmp_path, capsys):
    import shutil

    run = tmp_path / "copy"
    shutil.copytree(trained, run)
    assert _script("train_arm").main(["--resume", str(run), "--steps", "100", "--no-progress",  # 100 more
                                      "--set", "eval_episodes=1"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"from model_000000300\.zip at env step 300 \(\d+\.\d min\): training to env step 400 "
                     r"\(--steps 100 more\)", out), out
    model = arm.load_model(run / "final_model.zip", device="cpu")
    assert model.num_timesteps == 400
    import pickle

    with open(run / "checkpoints" / "replay_buffer_000000400.pkl", "rb") as f:
        buffer = pickle.load(f)
    assert buffer.size() == 400  # 300 restored + 100 new
    assert len(buffer.actions) == 401 and buffer.buffer_size == 2000  # saved as large as what it holds


def test_interrupt_saves_prints_the_resume_command_and_exits_130(tmp_path, interrupt_when):
    """SIGINT during training: a checkpoint (model, trimmed replay buffer) and final_model.zip at the step it stopped,
    the exact resume command, exit status 130, no traceback; that command with --steps 100 trains 100 more steps."""
    import signal
    import subprocess
    import sys

    cmd = [sys.executable, str(REPO / "scripts" / "train_arm.py"), "--task", "reach", "--algo", "tqc", "--her",
           "--steps", "100000", "--run-root", str(tmp_path), *TINY]
    env = {**os.environ, "MUJOCO_GL": "egl", "SDL_VIDEODRIVER": "dummy"}
    code, out, err = interrupt_when(cmd, lambda: bool(list(tmp_path.glob("arm/*/checkpoints/model_*.zip"))),
                                    signal.SIGINT, env=env)
    assert code == 130, out + err
    assert "Traceback" not in err and "SIGINT: stopping" in err
    (run,) = (tmp_path / "arm").iterdir()
    assert f"continue with: arena-train arm --resume {run}" in err
    assert f"run directory: {run} (" in out
    steps = arm.load_model(run / "final_model.zip", device="cpu").num_timesteps
    assert 150 <= steps < 100000
    assert (run / "checkpoints" / f"model_{steps:09d}.zip").is_file()
    assert (run / "checkpoints" / f"replay_buffer_{steps:09d}.pkl").is_file()
    done = subprocess.run([sys.executable, str(REPO / "scripts" / "train_arm.py"), "--resume", str(run), "--steps",
                           "100", "--no-progress"], cwd=REPO, capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"training to env step {steps + 100:,} (--steps 100 more)" in done.stdout
    assert "will be truncated" not in done.stderr, done.stderr  # HER's warning on load: expected, silenced
    assert arm.load_model(run / "final_model.zip", device="cpu").num_timesteps == steps + 100


def test_evaluate_arm_prints_success_rate_and_writes_results(trained, tmp_path, capsys):
    out = tmp_path / "eval"
    assert _script("evaluate").main(["arm", "--task", "reach", "--model", str(trained / "final_model.zip"),
                                     "--episodes", "3", "--out", str(out), "--no-progress", "--device", "cpu"]) == 0
    text = capsys.readouterr().out
    assert "success rate" in text and "95% Wilson interval" in text and "mean final distance" in text
    results = json.loads((out / "results.json").read_text())
    assert results["episodes"] == 3 and results["algo"] == "tqc" and results["reward_type"] == "sparse"
    lo, hi = results["success_interval_95"]
    assert 0 <= lo <= results["success_rate"] <= hi <= 1
    assert len(results["per_episode"]["final_distances"]) == 3
    assert (out / "final_distances.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("argv, message", [
    (["--task", "reach", "--algo", "ppo", "--her"], "--her needs an off-policy algorithm"),
    (["--task", "lift"], "invalid choice: 'lift'"),
    (["--task", "reach", "--set", "eval_every=0"], "eval_every must be a positive integer"),
    (["--task", "reach", "--set", "no_such_key=1"], "no_such_key"),
    (["--task", "reach", "--set", "env_kwargs.goal_space=huge"], "goal_space"),
])
def test_train_bad_input_exits_2_before_any_run_directory(argv, message, tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        _script("train_arm").main([*argv, "--run-root", str(tmp_path), "--steps", "10"])
    assert exc.value.code == 2
    assert message in capsys.readouterr().err
    assert not any(tmp_path.iterdir())


def test_resume_bad_input(trained, tmp_path, capsys):
    script = _script("train_arm")
    for argv, message in ((["--resume", str(tmp_path / "nope")], "does not exist"),
                          (["--resume", str(trained), "--algo", "sac"], "cannot change it")):
        with pytest.raises(SystemExit) as exc:
            script.main(argv)
        assert exc.value.code == 2 and message in capsys.readouterr().err


def test_evaluate_bad_models_exit_2(trained, tmp_path, capsys):
    script = _script("evaluate")
    corrupt = tmp_path / "corrupt.zip"
    corrupt.write_bytes(b"not a zip at all")
    cases = [(tmp_path / "missing.zip", "does not exist"), (corrupt, "not a Stable-Baselines3 model zip"),
             (trained / "final_model.zip", "trained on task 'reach', not 'push'")]
    for model, message in cases:
        task = "push" if model.name == "final_model.zip" else "reach"
        assert script.main(["arm", "--task", task, "--model", str(model), "--out", str(tmp_path / "o")]) == 2
        err = capsys.readouterr().err
        assert message in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "o").exists()


def test_frame_strip():
    frames = [np.full((8, 6, 3), i, np.uint8) for i in range(3)]
    strip = arm.frame_strip(frames, gap=2)
    assert strip.shape == (8, 3 * 6 + 2 * 2, 3) and strip.dtype == np.uint8
    assert strip[0, 6, 0] == 255 and strip[0, 8, 0] == 1


@pytest.mark.parametrize("task, env_id", [("reach", "arena/ArmReach-v0"), ("push", "arena/ArmPush-v0")])
def test_load_pretrained_arm_model_predicts(task, env_id):
    import gymnasium as gym

    from deep_arena import agents
    import deep_arena.envs  # noqa: F401

    policy = agents.load_pretrained(f"arm-{task}", device="cpu")
    env = gym.make(env_id)
    obs, _ = env.reset(seed=0)
    action, _ = policy.predict(obs, deterministic=True)
    assert action.shape == env.action_space.shape and np.all(np.abs(action) <= 1)
    assert (REPO / "agents" / "pretrained" / f"arm-{task}.zip").stat().st_size < 5 * 2**20
    env.close()


def test_pretrained_arm_push_solves_most_episodes():
    """The shipped push policy (README: 92/100 on seeds 0-99); 10 seeded episodes, at least 7 solved."""
    from deep_arena.agents.pretrained import pretrained_arm_path

    model = arm.load_model(pretrained_arm_path("push"), device="cpu")
    env = arm.make_env(arm.default_config("push", "tqc"))
    result = arm.run_episodes(model, env, 10, 0)
    env.close()
    assert result["successes"].sum() >= 7


def test_pretrained_arm_pick_and_place_loads_and_plays():
    """The shipped pick-and-place policy (docs/arm.md has its 100-episode figure): it loads by name and a short
    seeded evaluation runs; at least half of 5 episodes (a loose bound: the shipped figure is far above it)."""
    from deep_arena import agents

    model = agents.load_pretrained("arm-pick-and-place", device="cpu")
    env = arm.make_env(arm.default_config("pick_and_place", "tqc"))
    result = arm.run_episodes(model, env, 5, 0)
    env.close()
    assert result["lengths"].tolist() == [50] * 5 and result["successes"].sum() >= 3
    assert (REPO / "agents" / "pretrained" / "arm-pick-and-place.zip").stat().st_size < 5 * 2**20


def test_sbx_tqc_trains_evaluates_and_loads(tmp_path, capsys):
    """arena-train arm --algo sbx_tqc (SB3 in JAX, the [fast] extra): HER on the Dict observation, a run directory,
    updates/s in TensorBoard, and the saved zip loads through load_model and arena-evaluate."""
    pytest.importorskip("sbx")
    assert _script("train_arm").main(["--task", "reach", "--algo", "sbx_tqc", "--her", "--steps", "200",
                                      "--run-root", str(tmp_path), *TINY]) == 0
    (run,) = (tmp_path / "arm").iterdir()
    assert run.name.startswith("sbx_tqc-") and (run / "final_model.zip").is_file()
    assert arm.saved_algo(run / "final_model.zip") == "sbx_tqc"
    model = arm.load_model(run / "final_model.zip", env=arm.make_env(arm.default_config("reach", "sbx_tqc")))
    assert model._n_updates > 0
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(run))
    events.Reload()
    assert {"time/updates_per_second", "time/steps_per_second", "eval/success_rate",
            "eval/mean_final_distance"} <= set(events.Tags()["scalars"])
    capsys.readouterr()
    assert _script("evaluate").main(["arm", "--task", "reach", "--model", str(run / "final_model.zip"),
                                     "--episodes", "2", "--out", str(tmp_path / "eval")]) == 0
    assert "success rate" in capsys.readouterr().out


def test_play_arm_watches_pretrained_in_a_window(capsys):
    assert _script("play").main(["arm", "--task", "reach", "--model", "pretrained", "--episodes", "1",
                                 "--size", "96", "--device", "cpu"]) == 0
    out = capsys.readouterr().out
    assert "episode 1: success" in out and "1/1 successes" in out


def test_play_arm_bad_model_exits_2(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        _script("play").main(["arm", "--task", "push", "--model", str(tmp_path / "missing.zip")])
    assert exc.value.code == 2 and "does not exist" in capsys.readouterr().err
