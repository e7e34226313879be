"""gan.moses_metrics: against MOSES's own metric code (molsets 0.3.1, loaded with two compatibility shims) on fixed
inputs, against hand-computed values, and against the wheel's shipped test statistics."""

from __future__ import annotations

import math
import sys
import types
from collections import Counter

import numpy as np
import pytest
from rdkit import Chem, DataStructs
from rdkit.Chem import rdFingerprintGenerator

from deep_arena.gan import moses_metrics as M
from deep_arena.gan.data import DataError, load_moses, package_dir

needs_moses = pytest.mark.skipif(package_dir("moses") is None, reason="molsets is not installed (make gan-data)")
EDGE = ["C1CC", "", "c1ccccc1[N+](=O)[O-]", "CCCCCCCC1CCCCCCC1", "C[Si](C)C", "CCO", "CCO", "OCC",
        "S=C1SC(=Cc2ccccc2)C(=O)N1", "c1ccccc1N=Nc1ccc(O)cc1", "CC(=O)Cl", "ICC"]


@pytest.fixture(scope="module")
def moses_reference():
    """MOSES's ``moses.metrics`` modules. They do not import on current libraries (``rdkit.six`` is gone and
    ``DataFrame.append`` was removed from pandas); both are shimmed for the import and removed again after it."""
    if package_dir("moses") is None:
        pytest.skip("molsets is not installed")
    import pandas as pd

    six = types.ModuleType("rdkit.six")
    six.iteritems = lambda d: iter(d.items())
    six.PY3 = True
    had_six = "rdkit.six" in sys.modules
    sys.modules["rdkit.six"] = six
    added = not hasattr(pd.DataFrame, "append")
    if added:
        pd.DataFrame.append = lambda self, other, sort=False: pd.concat([self, other], sort=sort)
    try:
        from moses.metrics import metrics as moses_m, utils as moses_u  # lazy: only importable under the shims
    except Exception as exc:  # a newer molsets or library may break it differently
        pytest.skip(f"MOSES's metric code does not import even with the shims: {exc}")
    finally:
        if added:
            del pd.DataFrame.append
        if not had_six:
            del sys.modules["rdkit.six"]
    return moses_m, moses_u


@pytest.fixture(scope="module")
def fixed_sets():
    test = load_moses("test", 1500)
    gen = test[:150] + EDGE + test[1400:1500]
    mols = [m for m in (M.get_mol(s) for s in gen) if m is not None]
    ref = [M.get_mol(s) for s in test[400:800]]
    return gen, mols, ref, test


@needs_moses
def test_against_moses_code(moses_reference, fixed_sets):
    moses_m, _ = moses_reference
    gen, mols, ref, test = fixed_sets
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert M.fraction_valid(gen) == moses_m.fraction_valid(gen)
        valid = [Chem.MolToSmiles(m) for m in mols]
        assert valid == moses_m.remove_invalid(gen)
        for k in (10, 100, 1000):
            assert M.fraction_unique(valid, k) == moses_m.fraction_unique(valid, k)
        assert M.novelty(valid, set(test[200:])) == moses_m.novelty(valid, test[200:])
        assert M.fraction_passes_filters(mols) == moses_m.fraction_passes_filters(mols)
        fps, ref_fps = M.morgan_fingerprints(mols), M.morgan_fingerprints(ref)
        for p in (1, 2):
            assert M.internal_diversity(fps, p) == pytest.approx(moses_m.internal_diversity(mols, p=p), abs=1e-6)
        assert M.snn(fps, ref_fps) == pytest.approx(moses_m.SNNMetric()(gen=mols, ref=ref), abs=1e-9)
        assert M.cosine_counts(M.fragments(ref), M.fragments(mols)) == pytest.approx(
            moses_m.FragMetric()(gen=mols, ref=ref), abs=1e-12)
        assert M.cosine_counts(M.scaffolds(ref), M.scaffolds(mols)) == pytest.approx(
            moses_m.ScafMetric()(gen=mols, ref=ref), abs=1e-12)
        # and molecule by molecule for the filters
        _, moses_u = moses_reference
        assert [M.passes_filters(m) for m in mols] == [moses_u.mol_passes_filters(m) for m in mols]


def test_hand_computed_values():
    # validity / uniqueness / novelty
    gen = ["CCO", "OCC", "c1ccccc1", "C1CC", "", "CCN"]
    assert M.fraction_valid(gen) == pytest.approx(4 / 6)
    valid = [M.canonical(s) for s in gen if M.canonical(s)]
    assert valid == ["CCO", "CCO", "c1ccccc1", "CCN"]
    assert M.fraction_unique(valid, 2) == 0.5 and M.fraction_unique(valid) == 0.75
    assert M.novelty(valid, {"CCO"}) == pytest.approx(2 / 3)
    # IntDiv of two molecules: all four ordered pairs, self-pairs included
    mols = [Chem.MolFromSmiles(s) for s in ("CCO", "c1ccccc1O")]
    gen2 = rdFingerprintGenerator.GetMorganGenerator(radius=2, fpSize=1024)
    t = DataStructs.TanimotoSimilarity(gen2.GetFingerprint(mols[0]), gen2.GetFingerprint(mols[1]))
    fps = M.morgan_fingerprints(mols)
    assert M.internal_diversity(fps, 1) == pytest.approx(1 - (1 + t) / 2)
    assert M.internal_diversity(fps, 2) == pytest.approx(1 - math.sqrt((1 + t * t) / 2))
    assert M.internal_diversity(np.vstack([fps[:1]] * 3), 1) == pytest.approx(0.0)
    # SNN: nearest neighbour of each generated molecule; two empty fingerprints count as identical
    assert M.snn(fps, fps) == pytest.approx(1.0)
    assert M.snn(fps[:1], fps[1:]) == pytest.approx(t)
    assert M.tanimoto_aggregate(np.zeros((1, 8)), np.zeros((1, 8)))[0] == 1.0
    # cosine of counts
    assert M.cosine_counts(Counter(a=1, b=1), Counter(a=1)) == pytest.approx(1 / math.sqrt(2))
    assert math.isnan(M.cosine_counts(Counter(), Counter(a=1)))
    # fragments and scaffolds
    assert M.fragments([Chem.MolFromSmiles("CCOC(=O)c1ccccc1")]) == Counter(
        Chem.MolToSmiles(Chem.FragmentOnBRICSBonds(Chem.MolFromSmiles("CCOC(=O)c1ccccc1"))).split("."))
    assert M.scaffolds([Chem.MolFromSmiles("c1ccccc1CCc1ccncc1")]) == Counter({"c1ccc(CCc2ccncc2)cc1": 1})
    assert M.scaffolds([Chem.MolFromSmiles("Cc1ccccc1")]) == Counter()      # one ring: below min_rings 2
    with pytest.raises(ValueError):
        M.fraction_valid([])


@needs_moses
def test_filters_by_rule():
    ok = [M.passes_filters(M.get_mol(s)) for s in
          ("CCO", "c1ccccc1[N+](=O)[O-]", "CCCCCCCC1CCCCCCC1", "C[Si](C)C", "ICC", "CC(C)Cc1ccc(C(C)C(=O)O)cc1")]
    # ethanol passes; a charge, an 8-membered ring, Si and I fail; ibuprofen passes
    assert ok == [True, False, False, False, False, True]
    assert not M.passes_filters(M.get_mol("S=C1SC(=Cc2ccccc2)C(=O)N1"))     # a PAINS ene_rhod
    assert M.passes_filters(None) is False


@needs_moses
def test_shipped_statistics_match_current_rdkit():
    stats = M.reference_statistics("test")
    test = load_moses("test", 200)
    mols = [M.get_mol(s) for s in test]
    assert np.array_equal(M.morgan_fingerprints(mols), stats["fps"][:200])
    assert set(M.fragments(mols)) <= set(stats["frag"]) and set(M.scaffolds(mols)) <= set(stats["scaf"])
    assert stats["fcd"]["mu"].shape == (512,) and stats["fcd"]["sigma"].shape == (512, 512)


@needs_moses
def test_moses_metrics_end_to_end_with_small_references(fixed_sets):
    gen, mols, ref, test = fixed_sets
    refs = {}
    for split, rows in (("test", ref[:200]), ("test_scaffolds", ref[200:])):
        refs[split] = {"fps": M.morgan_fingerprints(rows), "frag": M.fragments(rows), "scaf": M.scaffolds(rows)}
    out = M.moses_metrics(gen, train=set(test[:100]), with_fcd=False, references=refs)
    assert out["n"] == len(gen) and out["n_valid"] == len(mols)
    for key in ("valid", "unique@1k", "unique@10k", "SNN/Test", "SNN/TestSF", "Frag/Test", "Scaf/Test",
                "IntDiv1", "IntDiv2", "Filters", "Novelty"):
        assert 0 <= out[key] <= 1, key
    assert out["Novelty"] < 1 and "FCD/Test" not in out and set(out["seconds"]) >= {"SNN", "IntDiv", "Filters"}
    only_fcd = M.moses_metrics(gen[:20], train=set(), with_fcd=False, references=refs, scaffold_split="fcd")
    assert "SNN/TestSF" not in only_fcd and "SNN/Test" in only_fcd
    with pytest.raises(ValueError, match="scaffold_split"):
        M.moses_metrics(gen, scaffold_split="x")


@pytest.mark.skipif(package_dir("fcd_torch") is None or package_dir("moses") is None,
                    reason="fcd_torch or molsets is not installed")
def test_fcd_small():
    test = load_moses("test", 2000)
    a = M.gaussian_stats(M.chemnet_activations(test[:2000:50]))
    assert M.frechet_distance(a, a) == pytest.approx(0.0, abs=1e-3)
    shipped = M.reference_statistics("test")["fcd"]
    near = M.frechet_distance(a, shipped)
    far = M.frechet_distance(M.gaussian_stats(M.chemnet_activations(["C" * n for n in range(1, 41)])), shipped)
    assert 0 < near < far and math.isfinite(far)


def test_missing_package_errors(monkeypatch):
    monkeypatch.setattr(M, "package_dir", lambda name: None)
    M._shipped_stats.cache_clear()              # statistics read by earlier tests are cached
    with pytest.raises(DataError, match="pip install"):
        M.reference_statistics("test")
    with pytest.raises(DataError, match="fcd-torch"):
        M.chemnet_activations(["CCO", "CCN"])
