"""optimize(score_fn, budget, method, seed) for every method, and the arena-optimize command."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import pytest
import torch

from deep_arena.agents.molecule.optimize import AUGMEM_SETTINGS, is_budget_stop, optimize
from deep_arena.agents.molecule.optimize_cli import main
from deep_arena.envs.molecule.pmo import get_task
from deep_arena.envs.molecule.pmo_oracle import BudgetExhausted
from deep_arena.envs.molecule.rewards import RewardError

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_reinvent import tiny_prior  # noqa: E402


@pytest.fixture(scope="module")
def prior_file(tmp_path_factory) -> Path:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    path = tiny_prior().save(tmp_path_factory.mktemp("prior") / "model.pt")
    torch.set_num_threads(threads)
    return path


def test_budget_stop_is_seen_through_wrapping():
    try:
        try:
            raise BudgetExhausted("spent")
        except BudgetExhausted as err:
            raise RewardError("wrapped") from err
    except RewardError as exc:
        assert is_budget_stop(exc)
    assert not is_budget_stop(ValueError("other"))


@pytest.mark.parametrize("method,settings", [
    ("moldqn", {"learning_starts": 20, "batch_size": 16}),
    ("ppo", {"n_envs": 1, "ppo": {"n_steps": 32, "batch_size": 32}}),
])
def test_env_methods_stop_at_the_budget(method, settings):
    log = optimize("qed", budget=60, method=method, seed=0, settings=settings)
    assert len(log) == 60 and len(set(log.smiles)) == 60
    task = get_task("qed")
    assert all(abs(task.score_smiles(s) - v) < 1e-12 for s, v in zip(log.smiles[:10], log.scores[:10]))


def test_user_score_fn_and_determinism(prior_file):
    def n_carbons(smiles: str) -> float:
        return smiles.count("C") / 10

    a = optimize(n_carbons, budget=50, method="reinvent", seed=1, prior=str(prior_file),
                 settings={"batch_size": 16})
    b = optimize(n_carbons, budget=50, method="reinvent", seed=1, prior=str(prior_file),
                 settings={"batch_size": 16})
    assert a.smiles == b.smiles and len(a) == 50
    with pytest.raises(ValueError, match="unknown setting"):
        optimize(n_carbons, budget=5, method="reinvent", prior=str(prior_file), settings={"sigmaa": 1})
    with pytest.raises(ValueError, match="known: reinvent"):
        optimize(n_carbons, budget=5, method="graph_ga")


def test_command_writes_outputs_and_never_overwrites(tmp_path, prior_file, capsys):
    out = tmp_path / "run"
    assert main(["--task", "qed", "--budget", "40", "--prior", str(prior_file), "--out", str(out),
                 "--set", "batch_size=16"]) == 0
    for name in ("oracle_calls.csv", "summary.json", "best_molecules.png", "top10_vs_calls.png"):
        assert (out / name).is_file(), name
    rows = list(csv.DictReader((out / "oracle_calls.csv").open()))
    assert [int(r["call"]) for r in rows] == list(range(1, 41))
    summary = json.loads((out / "summary.json").read_text())
    assert summary["calls"] == 40 and 0 <= summary["auc_top10"] <= 1
    assert "auc_top10" in capsys.readouterr().out
    assert list(out.glob("events.out.tfevents.*"))
    with pytest.raises(SystemExit):
        main(["--task", "qed", "--out", str(out)])
    with pytest.raises(SystemExit):
        main(["--task", "nope", "--out", str(tmp_path / "x")])


def test_patience_ends_a_run_that_stops_finding_better_molecules():
    """MolDQN on a score that is the same for every molecule: the top 100 stops changing after 100 calls, so
    patience ends the run long before its budget, and the log says why."""
    log = optimize(lambda s: 0.5, budget=10_000, method="moldqn", seed=0, patience=200, patience_min_calls=0,
                   settings={"learning_starts": 20, "batch_size": 16})
    assert 100 <= len(log) < 10_000 and log.stop_reason == "patience"
    assert log.summary(sa=False)["stop_reason"] == "patience"


def test_augmem_is_reinvent_with_augmented_memory_settings(prior_file, monkeypatch):
    """method="augmem" runs REINVENT with AUGMEM_SETTINGS under the user's overrides."""
    from deep_arena.agents.reinvent import optimizer as reinvent_optimizer

    seen = []
    original = reinvent_optimizer.Reinvent.__init__

    def spy(self, prior, oracle, settings=None, **kwargs):
        seen.append(settings)
        original(self, prior, oracle, settings, **kwargs)

    monkeypatch.setattr(reinvent_optimizer.Reinvent, "__init__", spy)
    log = optimize("qed", budget=40, method="augmem", seed=0, prior=str(prior_file),
                   settings={"batch_size": 16, "sigma": 300})
    assert len(log) == 40
    s = seen[0]
    assert s.augmentation_rounds == 2 and s.replay == 10 and s.likelihood_penalty == 0
    assert s.diversity_filter.purge_memory and s.sigma == 300      # the user's value wins over the preset's 500
    assert AUGMEM_SETTINGS["sigma"] == 500                          # the preset itself is left alone
