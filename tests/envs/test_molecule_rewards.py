"""Molecular property rewards (envs/molecule/rewards.py): known values, awkward molecules, the registry."""

from __future__ import annotations

import ast
import math
import os
import pickle
import sys
from pathlib import Path

import numpy as np
import pytest
from rdkit import Chem, DataStructs, RDConfig
from rdkit.Chem import QED, Crippen, rdFingerprintGenerator

from deep_arena.envs.molecule import rewards as R

sys.path.append(os.path.join(RDConfig.RDContribDir, "SA_Score"))
import sascorer  # noqa: E402  - the reference implementation, imported independently of the module under test

ASPIRIN = "CC(=O)Oc1ccccc1C(=O)O"
BENZENE = "c1ccccc1"

AWKWARD = [
    "C",
    "O",
    "[Cl-]",
    "[Na+].[Cl-]",
    "[NH4+]",
    "[CH3]",  # radical
    "[O][O]",  # diradical
    "[H][H]",
    "[H+]",
    "[2H]C",
    "[13CH4]",
    "[He]",
    "[Fe+3]",
    "C1" + "C" * 28 + "C1",  # 30-membered ring
    "C1CCCCCCC1",
    "c1ccc2ccccc2c1.CCO",  # fragments
    "c1cc[nH]c1",
    "[O-][n+]1ccccc1",
    "[se]1cccc1",
    "c1ccncc1",
    "CS(=O)(=O)C",
    "F[S](F)(F)(F)(F)F",
    "[C-]#[O+]",
    "B1OB(O)OB(O)O1",
    "*C",
    ASPIRIN,
    "",  # no atoms
]


def mol(smiles: str) -> Chem.Mol:
    m = Chem.MolFromSmiles(smiles)
    assert m is not None, smiles
    return m


def reference_ring(m: Chem.Mol) -> int:
    return max((len(r) for r in m.GetRingInfo().AtomRings()), default=0)


# --- known values --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("smiles", [BENZENE, ASPIRIN])
def test_qed_logp_sa_match_rdkit(smiles: str) -> None:
    m = mol(smiles)
    assert R.qed(m) == pytest.approx(QED.qed(m), abs=1e-12)
    assert R.logp(m) == pytest.approx(Crippen.MolLogP(m), abs=1e-12)
    assert R.sa_score(m) == pytest.approx(sascorer.calculateScore(m), abs=1e-12)


def test_known_qed_values() -> None:
    assert R.qed(mol(ASPIRIN)) == pytest.approx(0.550, abs=2e-3)
    assert R.qed(mol(BENZENE)) == pytest.approx(0.443, abs=2e-3)


@pytest.mark.parametrize("smiles", [ASPIRIN, "C1CCCCCCC1", "CCCCCCCCCC1CCCCCC1", "c1ccc2ccccc2c1", "CCO"])
def test_penalized_logp_matches_independent_computation(smiles: str) -> None:
    m = mol(smiles)
    expected = Crippen.MolLogP(m) - sascorer.calculateScore(m) - max(reference_ring(m) - 6, 0)
    assert R.penalized_logp(m) == pytest.approx(expected, abs=1e-12)


def test_ring_sizes_and_penalty() -> None:
    assert R.largest_ring_size(mol("C1CCCCCCC1")) == 8
    assert R.ring_penalty(mol("C1CCCCCCC1")) == 2.0
    assert R.largest_ring_size(mol("c1ccc2ccccc2c1")) == 6
    assert R.ring_penalty(mol("c1ccc2ccccc2c1")) == 0.0
    assert R.largest_ring_size(mol("C1" + "C" * 28 + "C1")) == 30
    assert R.largest_ring_size(mol("CCO")) == 0
    assert R.largest_ring_size(mol("C")) == 0
    assert R.largest_ring_size(mol("C1CC1.C1CCCCCCCC1")) == 9


def test_ring_size_on_unsanitized_molecule() -> None:
    """Ring info is silently empty before sanitization: the size must still be right."""
    m = Chem.MolFromSmiles("C1CCCCCCC1", sanitize=False)
    assert R.largest_ring_size(m) == 8


def test_cyclooctane_plogp_includes_ring_penalty_of_two() -> None:
    m = mol("C1CCCCCCC1")
    assert R.penalized_logp(m) == pytest.approx(R.logp(m) - R.sa_score(m) - 2.0)


def test_zinc_normalisation_by_hand() -> None:
    m = mol("C1CCCCCCC1")  # ring penalty 2, so all three terms matter
    lp, sa, cyc = Crippen.MolLogP(m), sascorer.calculateScore(m), 2.0
    expected = (lp - 2.4571) / 1.4343 + (-sa - -3.0526) / 0.8335 + (-cyc - -0.0486) / 0.2860
    assert R.penalized_logp_zinc(m) == pytest.approx(expected, abs=1e-12)
    assert (R.ZINC_LOGP_MEAN, R.ZINC_LOGP_STD) == (2.4571, 1.4343)
    assert (R.ZINC_NEG_SA_MEAN, R.ZINC_NEG_SA_STD) == (-3.0526, 0.8335)
    assert (R.ZINC_NEG_CYCLE_MEAN, R.ZINC_NEG_CYCLE_STD) == (-0.0486, 0.2860)


def test_sa_norm_and_logp_norm_formulas() -> None:
    for s in [ASPIRIN, "c1cc[nH]c1", "C", "CCCCCCCCCCCCCCCCCC"]:
        m = mol(s)
        assert R.sa_norm(m) == pytest.approx(float(np.clip((sascorer.calculateScore(m) - 5) / (1.5 - 5), 0, 1)))
        assert R.logp_norm(m) == pytest.approx(
            float(np.clip((Crippen.MolLogP(m) + 2.1218) / (6.0429 + 2.1218), 0, 1))
        )


def test_explicit_hydrogens_do_not_change_scores() -> None:
    m = mol(ASPIRIN)
    mh = Chem.AddHs(m)
    assert R.property_table(mh) == pytest.approx(R.property_table(m))
    assert R.tanimoto_similarity(mh, R.morgan_count_fp(m)) == pytest.approx(1.0)


def test_empty_molecule_sa_is_worst() -> None:
    assert R.sa_score(Chem.Mol()) == R.SA_EMPTY == 10.0


def test_sascorer_loaded_once() -> None:
    assert R._sascorer() is R._sascorer()
    assert R._sascorer()._fscores is not None


# --- awkward molecules ---------------------------------------------------------------------------------------
SIMPLE_FUNCS = [
    R.qed,
    R.logp,
    R.sa_score,
    R.sa_norm,
    R.logp_norm,
    R.largest_ring_size,
    R.ring_penalty,
    R.penalized_logp,
    R.penalized_logp_zinc,
]


@pytest.mark.parametrize("smiles", AWKWARD)
def test_every_function_finite_on_awkward_molecules(smiles: str) -> None:
    m = mol(smiles)
    before = Chem.MolToSmiles(m)
    for f in SIMPLE_FUNCS:
        v = f(m)
        assert isinstance(v, (float, int)) and math.isfinite(v), (f.__name__, smiles, v)
    target_fp = R.morgan_count_fp(mol(ASPIRIN))
    assert 0.0 <= R.tanimoto_similarity(m, target_fp) <= 1.0
    assert math.isfinite(R.constrained_plogp(m, target_fp, 0.4))
    for name, kw in [
        ("similarity", {"target": ASPIRIN}),
        ("sim_plogp", {"start": ASPIRIN, "delta": 0.4}),
        ("multi", {"weights": {"qed": 0.7, "sa_norm": 0.3, "similarity": 0.5, "plogp_zinc": 0.1}, "target": BENZENE}),
    ]:
        assert math.isfinite(R.make_objective(name, **kw)(m)), (name, smiles)
    table = R.property_table(m)
    assert set(table) == {"qed", "logp", "sa", "plogp", "plogp_zinc", "largest_ring", "num_atoms"}
    assert all(math.isfinite(v) for v in table.values())
    assert Chem.MolToSmiles(m) == before  # scoring does not edit the molecule


# --- similarity ----------------------------------------------------------------------------------------------
def test_similarity_matches_rdkit_count_fingerprints() -> None:
    gen = rdFingerprintGenerator.GetMorganGenerator(radius=2)
    a, b = mol(ASPIRIN), mol("OC(=O)c1ccccc1O")
    expected = DataStructs.TanimotoSimilarity(gen.GetCountFingerprint(a), gen.GetCountFingerprint(b))
    assert 0.0 < expected < 1.0
    assert R.tanimoto_similarity(a, gen.GetCountFingerprint(b)) == pytest.approx(expected)
    assert R.tanimoto_similarity(a, b) == pytest.approx(expected)  # a Mol target is fingerprinted
    sim = R.SimilarityReward(ASPIRIN)
    assert sim(b) == pytest.approx(expected)
    assert sim(mol(ASPIRIN)) == pytest.approx(1.0)
    assert R.SimilarityReward(mol(ASPIRIN))(b) == pytest.approx(expected)


def test_similarity_bad_target() -> None:
    with pytest.raises(ValueError, match="invalid SMILES"):
        R.SimilarityReward("C1CC")
    with pytest.raises(ValueError, match="invalid SMILES"):
        R.SimilarityReward("")


# --- constrained ---------------------------------------------------------------------------------------------
def test_constrained_plogp_branches() -> None:
    start = ASPIRIN
    near, far = mol("OC(=O)c1ccccc1OC(=O)CC"), mol("CCCCCCCCCC")
    reward = R.ConstrainedPenalizedLogP(start, delta=0.4)
    s_near, s_far = reward.similarity(near), reward.similarity(far)
    assert s_near > 0.4 > s_far
    # above delta: plain penalized logP
    assert reward(near) == pytest.approx(R.penalized_logp(near))
    # below delta: penalised by 100 (sim - delta)
    assert reward(far) == pytest.approx(R.penalized_logp(far) + 100 * (s_far - 0.4))
    # the start molecule itself has similarity 1
    assert reward.similarity(mol(start)) == pytest.approx(1.0)
    assert reward(mol(start)) == pytest.approx(R.penalized_logp(mol(start)))
    # thresholds straddling one similarity switch branches
    just_below = R.ConstrainedPenalizedLogP(start, delta=s_near - 1e-6)
    just_above = R.ConstrainedPenalizedLogP(start, delta=min(1.0, s_near + 0.1))
    assert just_below(near) == pytest.approx(R.penalized_logp(near))
    assert just_above(near) == pytest.approx(R.penalized_logp(near) + 100 * (s_near - just_above.delta))
    # the function form agrees with the class
    fp = R.morgan_count_fp(mol(start))
    for m in (near, far):
        assert R.constrained_plogp(m, fp, 0.4) == pytest.approx(reward(m))
    # ZINC-normalised variant
    zinc = R.ConstrainedPenalizedLogP(start, delta=0.4, normalized=True)
    assert zinc(near) == pytest.approx(R.penalized_logp_zinc(near))


def test_constrained_bad_arguments() -> None:
    with pytest.raises(ValueError, match="delta"):
        R.ConstrainedPenalizedLogP(ASPIRIN, delta=1.5)
    with pytest.raises(ValueError, match="invalid SMILES"):
        R.ConstrainedPenalizedLogP("not a smiles")


# --- multi-objective -----------------------------------------------------------------------------------------
def test_multi_objective_weighted_sum() -> None:
    m = mol(ASPIRIN)
    f = R.MultiObjective({"qed": 0.7, "sa_norm": 0.3})
    assert f(m) == pytest.approx(0.7 * R.qed(m) + 0.3 * R.sa_norm(m))
    g = R.MultiObjective({"qed": 1.0, "similarity": 2.0, "sa": -0.5}, target=BENZENE)
    comps = g.components(m)
    assert comps["similarity"] == pytest.approx(R.SimilarityReward(BENZENE)(m))
    assert g(m) == pytest.approx(R.qed(m) + 2 * comps["similarity"] - 0.5 * R.sa_score(m))


def test_multi_objective_errors() -> None:
    with pytest.raises(ValueError, match="unknown objective 'qeed'.*valid names"):
        R.MultiObjective({"qeed": 1.0})
    with pytest.raises(ValueError, match="target"):
        R.MultiObjective({"similarity": 1.0})
    with pytest.raises(ValueError, match="finite"):
        R.MultiObjective({"qed": float("nan")})
    with pytest.raises(ValueError, match="non-empty"):
        R.MultiObjective({})


# --- registry ------------------------------------------------------------------------------------------------
def test_make_objective_names() -> None:
    m = mol(ASPIRIN)
    assert R.make_objective("qed")(m) == pytest.approx(R.qed(m))
    assert R.make_objective("plogp") is R.penalized_logp
    assert R.make_objective("PLOGP_ZINC")(m) == pytest.approx(R.penalized_logp_zinc(m))
    assert R.make_objective("sa")(m) == pytest.approx(R.sa_score(m))
    assert R.make_objective("logp")(m) == pytest.approx(R.logp(m))
    assert R.make_objective("similarity", target=ASPIRIN)(m) == pytest.approx(1.0)
    assert R.make_objective("sim_plogp", start=ASPIRIN, delta=0.4)(m) == pytest.approx(R.penalized_logp(m))
    assert R.make_objective("sim_plogp", start=ASPIRIN).delta == 0.4
    multi = R.make_objective("multi", weights={"qed": 0.7, "sa_norm": 0.3})
    assert multi(m) == pytest.approx(0.7 * R.qed(m) + 0.3 * R.sa_norm(m))
    for name in R.OBJECTIVES:
        assert math.isfinite(R.make_objective(name)(m))


def test_make_objective_errors() -> None:
    with pytest.raises(ValueError, match=r"unknown objective 'qde'.*'plogp'.*'sim_plogp'"):
        R.make_objective("qde")
    with pytest.raises(ValueError, match="'similarity' needs target="):
        R.make_objective("similarity")
    with pytest.raises(ValueError, match="'sim_plogp' needs start="):
        R.make_objective("sim_plogp", delta=0.4)
    with pytest.raises(ValueError, match="'multi' needs weights="):
        R.make_objective("multi")
    with pytest.raises(ValueError, match="invalid SMILES 'C1CC'"):
        R.make_objective("similarity", target="C1CC")
    with pytest.raises(ValueError, match="invalid SMILES"):
        R.make_objective("sim_plogp", start="xyz")
    with pytest.raises(ValueError, match="takes no arguments"):
        R.make_objective("qed", target=BENZENE)
    with pytest.raises(ValueError, match="unexpected arguments \\['taget'\\]"):
        R.make_objective("similarity", target=BENZENE, taget=BENZENE)
    with pytest.raises(ValueError, match="valid names"):
        R.make_objective(42)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="takes no objective arguments"):
        R.make_objective(lambda m: 1.0, target=BENZENE)


# --- user callables ------------------------------------------------------------------------------------------
def my_broken_reward(m: Chem.Mol) -> float:
    raise KeyError("boom")


def test_checked_reward_wraps_user_callables() -> None:
    m = mol(ASPIRIN)
    f = R.make_objective(lambda x: x.GetNumAtoms() / 10)
    assert isinstance(f, R.CheckedReward)
    assert f(m) == pytest.approx(1.3)
    assert R.make_objective(f) is f  # not wrapped twice
    assert R.CheckedReward(lambda x: np.float32(0.5))(m) == 0.5
    assert R.CheckedReward(lambda x: np.array([0.25]))(m) == 0.25
    assert R.CheckedReward(lambda x: 3)(m) == 3.0

    broken = R.make_objective(my_broken_reward)
    with pytest.raises(R.RewardError, match="my_broken_reward.*raised KeyError.*boom") as info:
        broken(m)
    assert isinstance(info.value.__cause__, KeyError)
    assert isinstance(info.value, ValueError)

    with pytest.raises(R.RewardError, match="'nan_reward'.*non-finite nan"):
        R.CheckedReward(lambda x: float("nan"), name="nan_reward")(m)
    with pytest.raises(R.RewardError, match="non-finite inf"):
        R.CheckedReward(lambda x: np.inf)(m)
    with pytest.raises(R.RewardError, match="returned NoneType"):
        R.CheckedReward(lambda x: None)(m)
    with pytest.raises(R.RewardError, match="not a float"):
        R.CheckedReward(lambda x: np.array([1.0, 2.0]))(m)
    with pytest.raises(TypeError):
        R.CheckedReward(3)  # type: ignore[arg-type]


class Scorer:
    def __call__(self, m: Chem.Mol) -> float:
        return float("nan")


def test_checked_reward_names_callable_objects() -> None:
    with pytest.raises(R.RewardError, match="Scorer"):
        R.make_objective(Scorer())(mol("C"))


# --- table, pickling, purity ---------------------------------------------------------------------------------
def test_property_table_consistent_and_computes_sa_once(monkeypatch: pytest.MonkeyPatch) -> None:
    m = mol("C1CCCCCCC1")
    table = R.property_table(m)
    assert table["qed"] == pytest.approx(R.qed(m))
    assert table["logp"] == pytest.approx(R.logp(m))
    assert table["sa"] == pytest.approx(R.sa_score(m))
    assert table["plogp"] == pytest.approx(R.penalized_logp(m))
    assert table["plogp_zinc"] == pytest.approx(R.penalized_logp_zinc(m))
    assert table["largest_ring"] == 8 and table["num_atoms"] == 8

    calls = []
    real = R.sa_score
    monkeypatch.setattr(R, "sa_score", lambda x: calls.append(1) or real(x))
    R.property_table(m)
    assert len(calls) == 1
    calls.clear()
    R.MultiObjective({"sa": -1.0, "sa_norm": 1.0, "plogp": 1.0, "plogp_zinc": 1.0})(m)
    assert len(calls) == 1


def test_rewards_pickle() -> None:
    m = mol("OC(=O)c1ccccc1O")
    for f in [
        R.SimilarityReward(ASPIRIN),
        R.ConstrainedPenalizedLogP(ASPIRIN, 0.3),
        R.MultiObjective({"qed": 1.0, "similarity": 1.0}, target=ASPIRIN),
        R.make_objective("plogp"),
    ]:
        g = pickle.loads(pickle.dumps(f))
        assert g(m) == pytest.approx(f(m))


def test_rewards_module_imports_only_chemistry() -> None:
    tree = ast.parse(Path(R.__file__).read_text())
    roots = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            roots.add(node.module.split(".")[0])
    assert roots <= {"__future__", "contextlib", "functools", "math", "os", "sys", "typing", "numpy", "rdkit",
                     "sascorer"}, roots


def test_module_docstring_documents_every_objective() -> None:
    doc = R.__doc__ or ""
    for name in list(R.OBJECTIVES) + list(R.PARAMETRIC_OBJECTIVES):
        assert f"`{name}`" in doc, name
    for constant in ("2.4571", "1.4343", "3.0526", "0.8335", "0.0486", "0.2860"):
        assert constant in doc
