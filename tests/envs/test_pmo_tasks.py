"""The 20 PMO tasks against reference values, and the oracle's PMO accounting and metrics.

``tests/data/pmo_reference.json`` holds the scores PyTDC 1.1.15's oracle functions (what ``tdc.Oracle(name)`` calls,
and what PMO scored with) gave for 45 fixed molecules, computed outside this project's environment; our own
definitions (:mod:`envs.molecule.pmo`) must reproduce them to 1e-6.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from rdkit import Chem

from deep_arena.envs.molecule import pmo
from deep_arena.envs.molecule.pmo_oracle import (PATIENCE_MIN_CALLS, BudgetExhausted, CallLog, Oracle, auc_top_k,
                                                 top_k_curve)

REFERENCE = json.loads((Path(__file__).resolve().parents[1] / "data" / "pmo_reference.json").read_text())


def test_twenty_tasks():
    assert len(pmo.TASK_NAMES) == 20
    assert set(pmo.TASK_NAMES) == set(REFERENCE["scores"])


@pytest.mark.parametrize("name", sorted(REFERENCE["scores"]))
def test_task_matches_tdc(name):
    task = pmo.get_task(name)
    ours = np.array([task.score_smiles(s) for s in REFERENCE["molecules"]])
    ref = np.array(REFERENCE["scores"][name])
    np.testing.assert_allclose(ours, ref, atol=1e-6, rtol=0)


def test_reference_molecules_score_one_where_they_should():
    smiles = {"celecoxib_rediscovery": "Cc1ccc(-c2cc(C(F)(F)F)nn2-c2ccc(S(N)(=O)=O)cc2)cc1",
              "albuterol_similarity": "CC(C)(C)NCC(O)c1ccc(O)c(CO)c1"}
    for name, s in smiles.items():
        assert pmo.get_task(name).score_smiles(s) == pytest.approx(1.0)


def test_unknown_task_lists_names():
    with pytest.raises(ValueError, match="qed"):
        pmo.get_task("nope")


def test_diversity_matches_tdc():
    assert pmo.diversity(REFERENCE["molecules"]) == pytest.approx(REFERENCE["diversity"], abs=1e-9)


# --- the oracle -----------------------------------------------------------------------------------------------------

def test_oracle_counts_distinct_canonical_molecules():
    seen = []
    oracle = Oracle(lambda s: seen.append(s) or float(len(s)), budget=3)
    assert oracle("OCC") == 3.0
    assert oracle("CCO") == 3.0           # same canonical molecule: cached, not counted
    assert oracle("not a smiles") == 0.0  # invalid: 0, not counted
    assert oracle("") == 0.0
    assert oracle("c1ccccc1") == 8.0
    assert oracle("C") == 1.0
    assert oracle.calls == 3 and oracle.finished
    with pytest.raises(BudgetExhausted):
        oracle("CC")
    assert oracle("CCO") == 3.0           # cached molecules are still served
    assert seen == ["CCO", "c1ccccc1", "C"]
    assert oracle.log.smiles == seen and oracle.log.invalid == 2


def test_oracle_task_by_name_and_errors():
    oracle = Oracle("qed", budget=5)
    assert 0 < oracle("CCO") < 1
    with pytest.raises(ValueError, match="budget"):
        Oracle("qed", budget=0)
    with pytest.raises(ValueError, match="unknown PMO task"):
        Oracle("nope")
    bad = Oracle(lambda s: float("nan"), budget=2)
    with pytest.raises(ValueError, match="nan"):
        bad("C")


def _pmo_top_auc(buffer, top_n, freq_log, max_calls):
    """PMO's published formula (mol_opt main/optimizer.py top_auc, finish=True), on a {smiles: [score, call]}
    buffer, written here independently of the implementation under test."""
    total, prev, called = 0.0, 0.0, 0
    ordered = sorted(buffer.items(), key=lambda kv: kv[1][1])
    for idx in range(freq_log, min(len(buffer), max_calls), freq_log):
        best = sorted((v[0] for _, v in ordered[:idx]), reverse=True)[:top_n]
        now = float(np.mean(best))
        total += freq_log * (now + prev) / 2
        prev, called = now, idx
    now = float(np.mean(sorted((v[0] for _, v in ordered), reverse=True)[:top_n]))
    total += (len(buffer) - called) * (now + prev) / 2
    if len(buffer) < max_calls:
        total += (max_calls - len(buffer)) * now
    return total / max_calls


@pytest.mark.parametrize("n,budget", [(1000, 1000), (537, 1000), (50, 300), (1, 10)])
@pytest.mark.parametrize("k", [1, 10, 100])
def test_auc_is_pmos(n, budget, k):
    scores = np.random.default_rng(n + k).random(n)
    buffer = {f"m{i}": [float(s), i + 1] for i, s in enumerate(scores)}
    assert auc_top_k(scores, k, budget) == pytest.approx(_pmo_top_auc(buffer, k, 100, budget), abs=1e-12)


def test_curve_and_summary(tmp_path: Path):
    log = CallLog(budget=200)
    for i in range(150):
        log.append("C" * (i % 7 + 1) + "O" * (i // 7), i / 150)
    calls, values = top_k_curve(log.scores, 10)
    assert calls.tolist() == [100, 150]
    assert values[-1] == pytest.approx(np.mean(log.scores[-10:]))
    summary = log.summary()
    assert summary["calls"] == 150 and 0 < summary["auc_top10"] < summary["top10_mean"]
    assert 0 <= summary["diversity_top100"] <= 1 and 1 <= summary["sa_top100"] <= 10
    path = log.write_csv(tmp_path / "calls.csv")
    assert path.read_text().splitlines()[0] == "call,smiles,score"
    again = CallLog.read_csv(path, 200)
    assert again.smiles == log.smiles and again.scores == log.scores


def test_mol_reward_scores_through_the_oracle():
    oracle = Oracle("qed", budget=2)
    reward = oracle.mol_reward()
    reward(Chem.MolFromSmiles("CCO"))
    reward(Chem.MolFromSmiles("OCC"))
    assert oracle.calls == 1


def test_time_limit_stops_like_the_budget():
    oracle = Oracle("qed", budget=100, seconds=0.0)
    with pytest.raises(BudgetExhausted, match="time limit"):
        oracle("CCO")
    assert oracle.finished and oracle.log.summary(sa=False)["complete"] is False


def test_patience_stops_an_optimiser_that_only_repeats_itself():
    oracle = Oracle(lambda s: float(len(s)), budget=1000, patience=3, patience_min_calls=0)
    for s in ("C", "CC", "CCC"):                      # three new molecules: each changes the top 100
        oracle(s)
    oracle("C"), oracle("CC"), oracle("CCC")           # three requests that change nothing: still within patience
    with pytest.raises(BudgetExhausted, match="patience"):
        oracle("CCCC")                                 # the fourth in a row without a change ends the run
    assert oracle.finished and oracle.stop_reason == "patience" and oracle.calls == 3
    # a full top 100 changes only when a new score beats its worst
    full = Oracle(lambda s: 1.0 if "O" in s else 0.5, budget=1000, patience=2, patience_min_calls=0)
    for n in range(1, 101):
        full("C" * n)
    full("C" * 101), full("C" * 102)                   # new molecules, but no better than the top 100's worst
    with pytest.raises(BudgetExhausted, match="patience"):
        full("C" * 103)
    better = Oracle(lambda s: 1.0 if "O" in s else 0.5, budget=1000, patience=2, patience_min_calls=0)
    for n in range(1, 101):
        better("C" * n)
    better("C" * 101), better("O" + "C" * 101)           # the second beats the worst: the count starts again
    better("C" * 102), better("C" * 103)
    assert not better.finished
    with pytest.raises(ValueError, match="patience"):
        Oracle("qed", patience=0)
    with pytest.raises(ValueError, match="patience_min_calls"):
        Oracle("qed", patience=5, patience_min_calls=-1)


def test_patience_waits_for_pmos_first_thousand_calls():
    """A task that scores every early molecule 0 (valsartan_smarts, say) leaves the top 100 unchanged from its
    101st call on; PMO's optimisers test for convergence only after 1,000 calls, and so does the default here: the
    count of unchanged requests starts at call 1,000."""
    chains = [f"C{'C' * a}O{'C' * b}" for a in range(80) for b in range(a + 2)]   # ethers C(a+1)-O-C(b): distinct
    assert len({Chem.CanonSmiles(c) for c in chains[:1100]}) == 1100
    oracle = Oracle(lambda s: 0.0, budget=5000, patience=50)
    assert oracle.patience_min_calls == PATIENCE_MIN_CALLS == 1000
    for smi in chains[:1000]:
        oracle(smi)                                  # 900 unchanged requests, but before call 1,000: no stop
    assert oracle.calls == 1000 and not oracle.finished
    for smi in chains[1000:1050]:
        oracle(smi)                                  # 50 unchanged requests after call 1,000: still within patience
    with pytest.raises(BudgetExhausted, match="patience"):
        oracle(chains[1050])
    assert oracle.stop_reason == "patience" and oracle.calls == 1050
    early = Oracle(lambda s: 0.0, budget=5000, patience=50, patience_min_calls=0)   # the count from the first call
    with pytest.raises(BudgetExhausted, match="patience"):
        for smi in chains:
            early(smi)
    assert early.calls == 150
