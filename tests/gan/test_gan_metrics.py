"""Metric functions against hand-computed values on fixed lists."""

from __future__ import annotations

import pytest
from rdkit import Chem, DataStructs
from rdkit.Chem import rdFingerprintGenerator

from deep_arena.gan import metrics

SAMPLES = ["CCO", "OCC", "c1ccccc1", None, "not a smiles", "CCN", "CCO"]


def test_validity_uniqueness_novelty_by_hand():
    # valid: CCO, CCO (OCC), benzene, CCN, CCO -> 5 of 7; unique canonical: CCO, c1ccccc1, CCN -> 3
    assert metrics.validity(SAMPLES) == pytest.approx(5 / 7)
    assert metrics.unique_at(SAMPLES, 1000) == pytest.approx(3 / 5)
    assert metrics.unique_at(SAMPLES, 2) == pytest.approx(1 / 2)          # first two valid: CCO, CCO
    assert metrics.novelty(SAMPLES, ["OCC", "C"]) == pytest.approx(2 / 3)  # CCO is in the training set
    with pytest.raises(ValueError):
        metrics.validity([])


def test_internal_diversity_matches_pairwise_tanimoto():
    smiles = ["CCO", "CCN", "c1ccccc1"]
    gen = rdFingerprintGenerator.GetMorganGenerator(radius=2, fpSize=2048)
    fps = [gen.GetFingerprint(Chem.MolFromSmiles(s)) for s in sorted(smiles)]
    sims = [DataStructs.TanimotoSimilarity(fps[i], fps[j]) for i in range(3) for j in range(i)]
    assert metrics.internal_diversity(smiles + ["OCC"]) == pytest.approx(1 - sum(sims) / 3)
    assert metrics.internal_diversity(["CCO", "OCC"]) == 0.0


def test_pains_and_summary():
    # 4-hydroxy-azobenzene-like quinone patterns are PAINS; ethanol is not
    assert metrics.pains_pass_rate(["CCO", "CCN"]) == 1.0
    s = metrics.summary(SAMPLES, training={"CCO"}, reference=None)
    assert s["validity"] == pytest.approx(5 / 7) and s["novelty"] == pytest.approx(2 / 3) and s["fcd"] is None
    assert 0 < s["qed_mean"] < 1
