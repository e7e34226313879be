"""Goal GAN curriculum (gan.goalgan): labelling, sampling on toy goal spaces, the LSGAN learning where the
intermediate goals are, state round trips; and its use in agents.arm.sb3_trainer (curriculum wrapper, coverage grid,
train_arm.py --curriculum goalgan)."""

from __future__ import annotations

import os

os.environ.setdefault("MUJOCO_GL", "egl")
os.environ.setdefault("SDL_VIDEODRIVER", "dummy")

import importlib.util  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from deep_arena.gan.goalgan import GoalGAN, GoalGANConfig, GoalGANCurriculum, label_goals  # noqa: E402

torch.set_num_threads(1)
REPO = Path(__file__).resolve().parents[2]
LOW, HIGH = np.array([-1.0, -1.0, 0.5]), np.array([1.0, 1.0, 0.5])   # a flat third axis, like push's table


# --- labelling -------------------------------------------------------------------------------------------------

def test_label_goals_uses_nearest_outcomes():
    goals = np.array([[0.0], [0.1], [0.2], [5.0], [5.1], [5.2]])
    outcomes = np.array([1, 1, 0, 0, 0, 0])
    rates, labels = label_goals(goals, outcomes, neighbours=3, r_min=0.1, r_max=0.9)
    np.testing.assert_allclose(rates, [2 / 3, 2 / 3, 2 / 3, 0, 0, 0])
    np.testing.assert_array_equal(labels, [1, 1, 1, 0, 0, 0])
    # one neighbour = the goal's own outcome: never intermediate
    _, labels = label_goals(goals, outcomes, neighbours=1, r_min=0.1, r_max=0.9)
    assert labels.sum() == 0
    # bounds are inclusive
    _, labels = label_goals(np.zeros((2, 1)) + [[0.0], [0.01]], np.array([1, 0]), 2, 0.5, 0.5)
    np.testing.assert_array_equal(labels, [1, 1])
    with pytest.raises(ValueError, match="2 goals but 3 outcomes"):
        label_goals(np.zeros((2, 1)), np.zeros(3), 2, 0.1, 0.9)


@pytest.mark.parametrize("values, message", [
    ({"r_min": 0.9, "r_max": 0.1}, "r_min < r_max"),
    ({"goals_per_iteration": 0}, "goals_per_iteration"),
    ({"replay_fraction": 1.0}, "replay_fraction"),
    ({"generator_hidden": []}, "generator_hidden"),
    ({"lr": float("nan")}, "lr"),
    ({"no_such": 1}, "unknown goalgan setting"),
])
def test_config_errors_name_the_setting(values, message):
    with pytest.raises(ValueError, match=message):
        GoalGANConfig.from_mapping(values)


# --- sampling ------------------------------------------------------------------------------------------------

def _curriculum(seed=0, **config):
    settings = {"pretrain_steps": 50, "gan_steps": 30, "goals_per_iteration": 8, "start_goals": 50, **config}
    return GoalGANCurriculum(LOW, HIGH, np.array([[0.0, 0.0, 0.5]]), settings, seed=seed)


def test_goals_stay_in_the_box_and_flat_axes_stay_fixed():
    cur = _curriculum()
    goals = np.array([cur.next_goal() for _ in range(24)])   # several iterations (8 goals each)
    assert cur.iterations >= 2
    assert goals.shape == (24, 3)
    assert np.all(goals >= LOW) and np.all(goals <= HIGH)
    np.testing.assert_array_equal(goals[:, 2], 0.5)
    # the first goals lie around the start position (pretrained there), not all over the box
    assert np.abs(goals[:8, :2]).mean() < 0.5


def test_bad_boxes_and_records_are_refused():
    with pytest.raises(ValueError, match="zero width"):
        GoalGANCurriculum(np.zeros(3), np.zeros(3), np.zeros((1, 3)))
    with pytest.raises(ValueError, match="low <= high"):
        GoalGANCurriculum(np.ones(3), np.zeros(3), np.zeros((1, 3)))
    cur = _curriculum()
    with pytest.raises(ValueError, match="finite goal of shape"):
        cur.record(np.array([np.nan, 0.0, 0.5]), True)
    with pytest.raises(ValueError, match="finite goal of shape"):
        cur.record(np.zeros(2), True)


def _play(cur: GoalGANCurriculum, episodes: int, skill: float, rng: np.random.Generator) -> np.ndarray:
    """A toy agent that reaches goals within ``skill`` of the origin (and, near that radius, sometimes)."""
    goals = []
    for _ in range(episodes):
        g = cur.next_goal()
        d = np.linalg.norm(g[:2])
        p = np.clip((skill + 0.15 - d) / 0.3, 0.0, 1.0)   # 1 well inside, 0 well outside, graded in between
        cur.record(g, bool(rng.random() < p))
        goals.append(g)
    return np.array(goals)


def _near_frontier(goals: np.ndarray, skill: float) -> float:
    return float(np.mean(np.abs(np.linalg.norm(goals[:, :2], axis=1) - skill) < 0.2))


def test_curriculum_proposes_goals_of_intermediate_difficulty():
    """With a toy agent whose skill radius is 0.6, the curriculum's goals gather near that frontier: far more of
    them than of uniform goals in the box (which would fail with an untrained or label-blind GAN)."""
    rng = np.random.default_rng(0)
    cur = _curriculum(seed=1, goals_per_iteration=10, gan_steps=50, label_window=100)
    _play(cur, 100, skill=0.6, rng=rng)
    late = _play(cur, 60, skill=0.6, rng=rng)
    uniform = np.random.default_rng(1).uniform(LOW, HIGH, size=(4000, 3))
    frontier_uniform = _near_frontier(uniform, 0.6)       # about 0.3
    frontier_gan = _near_frontier(late, 0.6)
    assert frontier_gan > frontier_uniform + 0.2, (frontier_gan, frontier_uniform)
    assert cur.log_values()["window_intermediate_fraction"] > 0.3


def test_lsgan_learns_the_labelled_region():
    """Directly: goals labelled GOID only in the band x in [0.2, 0.6] → generated goals move into that band."""
    cfg = GoalGANConfig(gan_steps=1)
    gan = GoalGAN(2, cfg, seed=0)
    rng = np.random.default_rng(0)
    goals = rng.uniform(-1, 1, size=(512, 2))
    labels = ((goals[:, 0] > 0.2) & (goals[:, 0] < 0.6)).astype(float)
    before = np.mean((gan.sample(1000)[:, 0] > 0.2) & (gan.sample(1000)[:, 0] < 0.6))
    gan.train(goals, labels, 600)
    after_samples = gan.sample(1000)
    after = np.mean((after_samples[:, 0] > 0.1) & (after_samples[:, 0] < 0.7))
    assert after > 0.7 and after > before + 0.4, (before, after)


def test_same_seed_and_outcomes_same_goals():
    def goals(seed):
        cur, rng = _curriculum(seed=seed), np.random.default_rng(5)
        return _play(cur, 30, skill=0.4, rng=rng)

    np.testing.assert_array_equal(goals(3), goals(3))
    assert not np.array_equal(goals(3), goals(4))


def test_state_round_trip_through_a_weights_only_checkpoint(tmp_path):
    from deep_arena.runtime import load_checkpoint, save_checkpoint

    cur = _curriculum(seed=2)
    _play(cur, 13, skill=0.4, rng=np.random.default_rng(0))
    path = save_checkpoint(tmp_path / "curriculum.pt", cur.state_dict())
    copy = _curriculum(seed=99)
    copy.load_state_dict(load_checkpoint(path))
    a = _play(cur, 20, skill=0.4, rng=np.random.default_rng(1))
    b = _play(copy, 20, skill=0.4, rng=np.random.default_rng(1))
    np.testing.assert_array_equal(a, b)
    assert copy.iterations == cur.iterations and copy.episodes == cur.episodes
    other_box = GoalGANCurriculum(LOW * 2, HIGH * 2, np.zeros((1, 3)), {"pretrain_steps": 0})
    with pytest.raises(ValueError, match="another goal box"):
        other_box.load_state_dict(load_checkpoint(path))


def test_image_is_an_rgb_picture():
    cur = _curriculum()
    _play(cur, 20, skill=0.4, rng=np.random.default_rng(0))
    picture = cur.image()
    assert picture.ndim == 3 and picture.shape[2] == 3 and picture.dtype == np.uint8


# --- with the arm ----------------------------------------------------------------------------------------------

class _FixedGoals:
    def __init__(self, goal):
        self.goal, self.records = np.asarray(goal), []

    def next_goal(self):
        return self.goal

    def record(self, goal, success):
        self.records.append((np.asarray(goal).copy(), success))


def test_wrapper_resets_with_curriculum_goals_and_reports_outcomes():
    from deep_arena.agents.arm import sb3_trainer as arm

    config = arm.default_config("reach", "tqc")
    config["env_kwargs"] = {"goal_space": "wide"}
    curriculum = _FixedGoals([0.4, 0.1, 0.6])
    env = arm.GoalCurriculumWrapper(arm.make_env(config), curriculum)
    obs, _ = env.reset(seed=0)
    np.testing.assert_allclose(obs["desired_goal"], [0.4, 0.1, 0.6], atol=1e-6)
    still = np.zeros(env.action_space.shape, dtype=np.float32)
    done = False
    while not done:
        _, _, terminated, truncated, info = env.step(still)
        done = terminated or truncated
    assert len(curriculum.records) == 1 and curriculum.records[0][1] == info["is_success"]
    obs, _ = env.reset(seed=1, options={"goal": [0.3, 0.0, 0.5]})   # an explicit goal wins, unreported
    np.testing.assert_allclose(obs["desired_goal"], [0.3, 0.0, 0.5], atol=1e-6)
    for _ in range(50):
        env.step(still)
    assert len(curriculum.records) == 1
    env.close()


def test_coverage_grid():
    from deep_arena.agents.arm import sb3_trainer as arm

    grid = arm.coverage_goals([0.0, 0.0, 0.4], [1.0, 2.0, 0.4], 4)
    assert grid.shape == (16, 3)
    np.testing.assert_allclose(np.unique(grid[:, 0]), [0.125, 0.375, 0.625, 0.875])
    np.testing.assert_allclose(np.unique(grid[:, 1]), [0.25, 0.75, 1.25, 1.75])
    assert np.all(grid[:, 2] == 0.4)
    assert arm.coverage_goals(np.zeros(3), np.ones(3), 3).shape == (27, 3)
    with pytest.raises(ValueError, match="per_axis"):
        arm.coverage_goals(np.zeros(3), np.ones(3), 0)
    config = arm.default_config("reach", "tqc")
    assert arm.coverage_per_axis(config) == 0
    assert arm.coverage_per_axis({**config, "curriculum": "goalgan"}) == 4
    assert arm.coverage_per_axis({**config, "env_kwargs": {"goal_space": "wide"}, "coverage_per_axis": 2}) == 2


def _train_arm():
    spec = importlib.util.spec_from_file_location("train_arm_script", REPO / "scripts" / "train_arm.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


TINY = ["--set", "threads=1", "--set", "eval_every=200", "--set", "eval_episodes=2", "--set", "checkpoint_every=200",
        "--set", "model.learning_starts=100", "--set", "model.batch_size=32", "--set", "model.buffer_size=2000",
        "--set", "model.policy_kwargs.net_arch=[16,16]", "--set", "eval_frames=false", "--no-progress",
        "--device", "cpu", "--coverage", "2",
        "--set", "goalgan.pretrain_steps=20", "--set", "goalgan.gan_steps=10", "--set", "goalgan.goals_per_iteration=2"]


def test_train_arm_with_goalgan_curriculum_logs_coverage_and_resumes(tmp_path, capsys):
    script = _train_arm()
    assert script.main(["--task", "reach", "--curriculum", "goalgan", "--goal-space", "wide", "--steps", "200",
                        "--run-root", str(tmp_path), *TINY]) == 0
    assert "coverage:" in capsys.readouterr().out
    (run,) = (tmp_path / "arm").iterdir()
    assert (run / "checkpoints" / "curriculum_000000200.pt").is_file()
    with np.load(run / "coverage.npz") as data:
        assert data["goals"].shape == (8, 3) and data["reached"].shape == (1, 8)
        assert list(data["timesteps"]) == [200]
    good = run / "checkpoints" / "curriculum_000000200.pt"
    saved = good.read_bytes()
    good.write_bytes(saved[: len(saved) // 2])            # a truncated curriculum file: exit 2, named
    with pytest.raises(SystemExit) as exc:
        script.main(["--resume", str(run), "--steps", "200", "--no-progress"])
    assert exc.value.code == 2 and "curriculum_000000200.pt" in capsys.readouterr().err
    good.write_bytes(saved)
    assert script.main(["--resume", str(run), "--steps", "200", "--no-progress"]) == 0  # 200 more
    with np.load(run / "coverage.npz") as data:
        assert list(data["timesteps"]) == [200, 400]
    from deep_arena.runtime import load_checkpoint

    state = load_checkpoint(run / "checkpoints" / "curriculum_000000400.pt")
    assert state["episodes"] == 8   # 400 steps of 50-step episodes, counted across the resume
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(run), size_guidance={"images": 2})
    events.Reload()
    assert {"eval/coverage", "curriculum/iterations"} <= set(events.Tags()["scalars"])
    assert "curriculum/goals" in events.Tags()["images"]
    # evaluate.py arm --coverage: the same grid, the goal space read from the run's config
    spec = importlib.util.spec_from_file_location("evaluate_script", REPO / "scripts" / "evaluate.py")
    evaluate = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(evaluate)
    out = tmp_path / "coverage-eval"
    assert evaluate.main(["arm", "--task", "reach", "--model", str(run / "final_model.zip"), "--coverage",
                          "--per-axis", "2", "--out", str(out), "--no-progress", "--device", "cpu"]) == 0
    text = capsys.readouterr().out
    assert "grid goals reached, 95% Wilson interval" in text and "wide goal box" in text
    import json

    record = json.loads((out / "results.json").read_text())
    assert record["goals"] == 8 and len(record["grid_reached"]) == 8 and 0 <= record["coverage"] <= 1
    assert (out / "coverage.png").stat().st_size > 1000


@pytest.mark.parametrize("argv, message", [
    (["--curriculum", "goalgan", "--set", "goalgan.r_min=2"], "r_min"),
    (["--curriculum", "goalgan", "--set", "n_envs=2", "--set", "vec_env=subproc"], "vec_env=dummy"),
    (["--coverage", "-1"], "coverage_per_axis"),
])
def test_bad_curriculum_settings_exit_before_any_run_directory(argv, message, tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        _train_arm().main(["--task", "reach", "--run-root", str(tmp_path), *argv])
    assert exc.value.code == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "arm").exists()
