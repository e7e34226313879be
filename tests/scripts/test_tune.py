"""arena-tune (scripts/tune.py, runtime/tuning.py, agents/arm/tune.py): a 4-trial study of tiny arm trials run by two
worker processes against one SQLite file, its best.yml read back by arena-train's config layering, and pruning."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

optuna = pytest.importorskip("optuna")

from deep_arena.agents.sb3.callbacks import EvaluationCallback  # noqa: E402
from deep_arena.agents.sb3.trainer import EvaluationReportCallback  # noqa: E402
from deep_arena.runtime.tuning import SearchSpace, TrialReporter  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
TINY = ["--set", "threads=1", "--set", "eval_episodes=2", "--set", "checkpoint_every=1000", "--set",
        "model.learning_starts=100", "--set", "model.batch_size=32", "--set", "model.buffer_size=2000", "--set",
        "model.policy_kwargs.net_arch=[16,16]", "--set", "eval_frames=false", "--device", "cpu"]


def test_two_workers_share_one_sqlite_study(tmp_path):
    db = tmp_path / "study.db"
    env = {**os.environ, "SDL_VIDEODRIVER": "dummy", "MUJOCO_GL": "egl", "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "deep_arena.scripts.tune", "arm", "--task", "reach", "--algo", "tqc",
           "--trials", "4", "--workers", "2", "--storage", f"sqlite:///{db}", "--study", "tiny",
           "--steps", "200", "--evaluations", "2", "--startup-trials", "2", "--run-root", str(tmp_path / "runs"),
           *TINY]
    done = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr

    study = optuna.load_study(study_name="tiny", storage=f"sqlite:///{db}")
    trials = study.get_trials()
    assert len(trials) == 4
    states = optuna.trial.TrialState
    assert all(t.state in (states.COMPLETE, states.PRUNED) for t in trials)
    assert sum(t.state == states.COMPLETE for t in trials) >= 2  # the pruner waits for 2 finished trials
    assert len({t.user_attrs["worker"] for t in trials}) == 2  # both processes took part
    assert {t.user_attrs["worker_index"] for t in trials} == {0, 1}
    for t in trials:
        config = t.user_attrs["config"]
        assert "model.learning_rate" in config and "model.gamma" in config
        assert "model.tau" in config and "model.batch_size" not in config and "model.policy_kwargs.net_arch" not in config  # fixed by --set
        assert Path(t.user_attrs["run_dir"]).name == f"trial-{t.number}"
        assert (Path(t.user_attrs["run_dir"]) / "final_model.zip").is_file()
        steps = sorted(t.intermediate_values)  # each evaluation reported to the pruner
        assert steps == ([100, 200] if t.state == states.COMPLETE else [100])

    best = tmp_path / "runs" / "tune" / "tiny" / "best.yml"
    assert best.is_file()
    assert f"--config {best}" in done.stdout

    # arena-train arm --config best.yml: the best trial's values land in the run's config
    from deep_arena.agents.arm import commands
    from deep_arena.agents.arm.config import DEFAULTS, default_config
    from deep_arena.runtime import build_config

    args = commands.build_parser().parse_args(["--task", "reach", "--algo", "tqc", "--config", str(best)])
    config = build_config(args, default_config("reach", "tqc"), cli_keys=commands.CLI_KEYS, schema=DEFAULTS)
    for key, value in study.best_trial.user_attrs["config"].items():
        node = config
        for part in key.split("."):
            node = node[part]
        assert node == value, key


class FakeTrial:
    """Records what is reported; prunes once a value drops below ``threshold``."""

    def __init__(self, threshold: float) -> None:
        self.threshold = threshold
        self.reported: list[tuple[float, int]] = []
        self.params: dict = {}

    def report(self, value: float, step: int) -> None:
        self.reported.append((value, step))

    def should_prune(self) -> bool:
        return self.reported[-1][0] < self.threshold

    def suggest_float(self, name, low, high, log=False):
        self.params[name] = low
        return low

    def suggest_categorical(self, name, choices):
        self.params[name] = choices[-1]
        return choices[-1]


def test_reporter_stops_training_when_the_trial_is_pruned():
    trial = FakeTrial(threshold=0.5)
    reporter = TrialReporter(trial, value=lambda evaluation: evaluation["success_rate"])
    evaluation = EvaluationCallback(100, evaluate=lambda model: None)
    callback = EvaluationReportCallback([evaluation], reporter)
    callback._on_training_start()
    assert callback._on_step() and not trial.reported  # no evaluation yet: nothing reported
    evaluation.last, evaluation.last_step = {"success_rate": 0.8}, 100
    assert callback._on_step() and trial.reported == [(0.8, 100)]
    assert callback._on_step() and len(trial.reported) == 1  # the same evaluation is reported once
    evaluation.last, evaluation.last_step = {"success_rate": 0.2}, 200
    assert not callback._on_step()
    assert callback.stopped and reporter.pruned and reporter.reports == [(100, 0.8), (200, 0.2)]


def test_median_pruner_prunes_a_trial_below_the_median():
    study = optuna.create_study(direction="maximize",
                                pruner=optuna.pruners.MedianPruner(n_startup_trials=1, n_warmup_steps=0))
    first = study.ask()
    assert TrialReporter(first, value=float)(100, 0.9)
    study.tell(first, 0.9)
    second = study.ask()
    reporter = TrialReporter(second, value=float)
    assert not reporter(100, 0.1) and reporter.pruned


def test_search_space_skips_keys_fixed_with_set():
    from deep_arena.agents.arm.tune import NET_ARCH, search_space

    trial = FakeTrial(0.0)
    space = SearchSpace(trial, fixed=["model.batch_size", "model.policy_kwargs"])
    search_space(space, "sac")
    assert "model.batch_size" not in space.values and "model.policy_kwargs.net_arch" not in space.values
    assert space.values["model.gradient_steps"] == space.values["model.train_freq"]
    space = SearchSpace(FakeTrial(0.0))
    search_space(space, "ppo")
    assert space.values["model.policy_kwargs.net_arch"] == {"pi": NET_ARCH["medium"], "vf": NET_ARCH["medium"]}
    assert space.values["model.batch_size"] <= space.values["model.n_steps"]


MOLDQN_TINY = ["--set", "threads=1", "--set", "learning_starts=4", "--set", "batch_size=4", "--set",
               "replay_capacity=200", "--set", "env.max_atoms=6", "--set", "env.max_steps=4", "--set",
               "env.fp_bits=64", "--set", "log_every=1", "--set", "checkpoint_every=100", "--device", "cpu"]


def test_moldqn_study_reports_each_evaluation_and_writes_best_yml(tmp_path, capsys):
    """arena-tune molecule --algo moldqn: 3 tiny trials in one process, each evaluation reported to the pruner,
    best.yml read back by arena-train molecule's config layering."""
    from deep_arena.scripts import tune

    db = tmp_path / "study.db"
    assert tune.main(["molecule", "--algo", "moldqn", "--trials", "3", "--storage", f"sqlite:///{db}", "--study",
                      "mol", "--steps", "4", "--evaluations", "2", "--startup-trials", "1", "--run-root",
                      str(tmp_path / "runs"), *MOLDQN_TINY]) == 0
    out = capsys.readouterr().out
    study = optuna.load_study(study_name="mol", storage=f"sqlite:///{db}")
    trials = study.get_trials()
    states = optuna.trial.TrialState
    assert len(trials) == 3 and all(t.state in (states.COMPLETE, states.PRUNED) for t in trials)
    for t in trials:
        config = t.user_attrs["config"]
        assert {"lr", "gamma", "train_every", "epsilon.end", "epsilon.decay_fraction", "net.hidden"} <= set(config)
        assert "batch_size" not in config  # fixed by --set
        assert sorted(t.intermediate_values) == ([2, 4] if t.state == states.COMPLETE else [2])
        assert (Path(t.user_attrs["run_dir"]) / "model.pt").is_file()
    best = tmp_path / "runs" / "tune" / "mol" / "best.yml"
    assert f"arena-train molecule --algo moldqn --objective qed --config {best}" in out

    # arena-train molecule --config best.yml: the best trial's values land in the run's config
    from deep_arena.agents.molecule import commands
    from deep_arena.runtime import load_config

    assert commands.train(["--config", str(best), "--episodes", "1", "--no-progress", "--run-root",
                           str(tmp_path / "train"), *MOLDQN_TINY]) == 0
    (run,) = (tmp_path / "train" / "molecule").iterdir()
    config = load_config(run / "config.yml")
    for key, value in study.best_trial.user_attrs["config"].items():
        node = config
        for part in key.split("."):
            node = node[part]
        assert node == value, key


def test_moldqn_trainer_stops_when_pruned(tmp_path):
    """MolDQNTrainer.on_evaluation returning False stops the run after that evaluation: stopped_by 'pruned'."""
    from deep_arena.agents.moldqn.trainer import DEFAULTS, MolDQNTrainer
    from deep_arena.runtime import RunDir
    from deep_arena.runtime.config import deep_merge

    config = deep_merge(DEFAULTS, {"episodes": 6, "eval_every": 2, "learning_starts": 4, "batch_size": 4,
                                   "threads": 1, "device": "cpu", "replay_capacity": 100, "log_every": 1,
                                   "env": {"max_atoms": 6, "max_steps": 3, "fp_bits": 64}, "net": {"hidden": [8]}})
    trainer = MolDQNTrainer(config, RunDir.create("molecule", "moldqn", root=tmp_path), progress_bar=False)
    seen = []
    trainer.on_evaluation = lambda ep, evaluation: seen.append((ep, evaluation["mean_score"])) or len(seen) < 2
    result = trainer.run()
    assert [e for e, _ in seen] == [2, 4] and result.stopped_by == "pruned" and result.counters["episodes"] == 4
    assert result.metrics["eval_score"] == seen[-1][1]


def test_moldqn_search_space_skips_fixed_keys():
    from deep_arena.agents.molecule.tune import HIDDEN, search_space

    space = SearchSpace(FakeTrial(0.0), fixed=["net", "gamma"])
    search_space(space, "moldqn")
    assert "net.hidden" not in space.values and "gamma" not in space.values
    assert space.values["lr"] == 1e-5 and space.values["batch_size"] == 256
    space = SearchSpace(FakeTrial(0.0))
    search_space(space, "moldqn")
    assert space.values["net.hidden"] == HIDDEN["big"]
