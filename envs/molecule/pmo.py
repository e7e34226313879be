"""The 20 PMO tasks that RDKit can compute (Gao et al., "Sample Efficiency Matters", NeurIPS 2022): pure chemistry,
RDKit and NumPy only.

PMO scores its molecules with TDC's oracles (``tdc.Oracle(name)``), which wrap GuacaMol's goal-directed benchmarks
(Brown et al. 2019). The definitions below are written from those published definitions; where TDC differs from
GuacaMol we follow TDC, because PMO's numbers come from it:

* **isomer scores** (``isomers_*``, and the isomer term of ``zaleplon_mpo`` and ``sitagliptin_mpo``): TDC's current
  ``Isomer_scoring``: one Gaussian (σ 1) per element of the target formula on the molecule's count of that element
  (hydrogens counted after adding them), one Gaussian (σ 2) on the molecule's total atom count read from its full
  molecular formula (hydrogens and elements outside the target formula included), geometric mean. GuacaMol's
  ``IsomerScoringFunction`` has the same terms; TDC's older ``*_prev`` variant (which counted atoms in the SMILES
  string) is not used.
* **deco_hop / scaffold_hop** use the arithmetic mean (as both GuacaMol and TDC do); every other multi-term task the
  geometric mean.
* **rediscovery, perindopril, amlodipine, zaleplon, median1/2** use the raw Tanimoto similarity (no modifier); the
  three ``*_similarity`` tasks clip it at 0.75 (TDC; GuacaMol's ``similarity()`` default of 0.7 is not what PMO used).

Fingerprints (GuacaMol's, all count-based except PHCO): ECFP4 = Morgan radius 2 counts, ECFP6 = radius 3 counts,
FCFP4 = radius 2 counts with feature invariants, AP = atom pairs up to distance 10 (counts), PHCO = Gobbi 2D
pharmacophore bits; similarity = Tanimoto.

Modifiers: ``gaussian(μ, σ)`` = exp(−½((x−μ)/σ)²); ``min_gaussian`` is 1 for x ≤ μ and the Gaussian above (a target
to stay under); ``max_gaussian`` is 1 for x ≥ μ and the Gaussian below; ``clipped(t)`` = min(x / t, 1) for x ≥ 0.

Use :func:`get_task` (or :data:`TASKS`): ``task(mol) -> float`` in [0, 1] for a sanitized RDKit molecule;
``task.score_smiles(smiles)`` gives 0.0 for an unparsable SMILES (the oracle, :mod:`envs.molecule.pmo_oracle`, keeps
those out of the call count).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np
from rdkit import Chem, DataStructs, rdBase
from rdkit.Chem import QED, Crippen, rdFingerprintGenerator, rdMolDescriptors
from rdkit.Chem.GraphDescriptors import BertzCT
from rdkit.Chem.Pharm2D import Gobbi_Pharm2D, Generate

__all__ = ["PMOTask", "TASKS", "TASK_NAMES", "get_task", "fingerprint", "tanimoto", "gaussian", "min_gaussian",
           "max_gaussian", "clipped", "geometric_mean", "isomer_score", "diversity"]

Mol = Chem.Mol


# --- fingerprints ------------------------------------------------------------------------------------------------

# RDKit's fingerprint generators give the same sparse count vectors as the (deprecated) calls GuacaMol and TDC make,
# AllChem.GetMorganFingerprint(mol, r[, useFeatures=True]) and GetAtomPairFingerprint(mol, maxLength=10): the
# reference-value tests (tests/envs/test_pmo_tasks.py) check the scores to 1e-9.
_MORGAN2 = rdFingerprintGenerator.GetMorganGenerator(radius=2)
_MORGAN3 = rdFingerprintGenerator.GetMorganGenerator(radius=3)
_FMORGAN2 = rdFingerprintGenerator.GetMorganGenerator(
    radius=2, atomInvariantsGenerator=rdFingerprintGenerator.GetMorganFeatureAtomInvGen())
_ATOM_PAIRS = rdFingerprintGenerator.GetAtomPairGenerator(maxDistance=10)
_MORGAN2_BITS = rdFingerprintGenerator.GetMorganGenerator(radius=2, fpSize=2048)


def _ecfp4(mol: Mol):
    return _MORGAN2.GetSparseCountFingerprint(mol)


def _ecfp6(mol: Mol):
    return _MORGAN3.GetSparseCountFingerprint(mol)


def _fcfp4(mol: Mol):
    return _FMORGAN2.GetSparseCountFingerprint(mol)


def _ap(mol: Mol):
    return _ATOM_PAIRS.GetSparseCountFingerprint(mol)


def _phco(mol: Mol):
    return Generate.Gen2DFingerprint(mol, Gobbi_Pharm2D.factory)


_FINGERPRINTS: dict[str, Callable[[Mol], object]] = {"ECFP4": _ecfp4, "ECFP6": _ecfp6, "FCFP4": _fcfp4, "AP": _ap,
                                                     "PHCO": _phco}


def fingerprint(mol: Mol, kind: str):
    """The GuacaMol fingerprint ``kind`` (ECFP4, ECFP6, FCFP4, AP, PHCO) of ``mol``."""
    try:
        return _FINGERPRINTS[kind](mol)
    except KeyError:
        raise ValueError(f"unknown fingerprint {kind!r}; known: {', '.join(_FINGERPRINTS)}") from None


def tanimoto(a, b) -> float:
    return float(DataStructs.TanimotoSimilarity(a, b))


# --- modifiers ---------------------------------------------------------------------------------------------------

def gaussian(x: float, mu: float, sigma: float) -> float:
    return float(np.exp(-0.5 * np.power((x - mu) / sigma, 2.0)))


def min_gaussian(x: float, mu: float, sigma: float) -> float:
    """1 for x <= mu, a Gaussian decay above (GuacaMol's MinGaussianModifier)."""
    return gaussian(max(x, mu), mu, sigma)


def max_gaussian(x: float, mu: float, sigma: float) -> float:
    """1 for x >= mu, a Gaussian decay below (GuacaMol's MaxGaussianModifier)."""
    return gaussian(min(x, mu), mu, sigma)


def clipped(x: float, upper: float) -> float:
    """Linear from 0 at x = 0 to 1 at x = ``upper``, clipped to [0, 1] (GuacaMol's ClippedScoreModifier)."""
    return float(np.clip(x / upper, 0.0, 1.0))


def geometric_mean(values: Sequence[float]) -> float:
    """exp(mean(log v)); 0 when any value is 0 (as scipy's gmean)."""
    v = np.asarray(values, dtype=np.float64)
    if np.any(v <= 0.0):
        return 0.0
    return float(np.exp(np.mean(np.log(v))))


# --- isomers -----------------------------------------------------------------------------------------------------

_FORMULA_TERM = re.compile(r"([A-Z][a-z]*)(\d*)")


def _parse_formula(formula: str) -> list[tuple[str, int]]:
    return [(el, int(n) if n else 1) for el, n in _FORMULA_TERM.findall(formula)]


def isomer_score(mol: Mol, formula: str) -> float:
    """How close ``mol`` is to an isomer of ``formula`` (TDC's ``Isomer_scoring``; see the module docstring)."""
    target = _parse_formula(formula)
    with_h = Chem.AddHs(mol)
    symbols = [a.GetSymbol() for a in with_h.GetAtoms()]
    terms = [gaussian(float(symbols.count(el)), n, 1.0) for el, n in target]
    total = sum(n for _, n in _parse_formula(rdMolDescriptors.CalcMolFormula(mol)))
    terms.append(gaussian(float(total), sum(n for _, n in target), 2.0))
    return geometric_mean(terms)


# --- tasks -------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class PMOTask:
    """One PMO objective: ``task(mol) -> float`` in [0, 1]."""

    name: str
    fn: Callable[[Mol], float]
    description: str

    def __call__(self, mol: Mol) -> float:
        return float(self.fn(mol))

    def score_smiles(self, smiles: str) -> float:
        """The score of a SMILES string; 0.0 if RDKit cannot parse it."""
        mol = _parse(smiles)
        return 0.0 if mol is None else self(mol)


def _parse(smiles: str) -> Mol | None:
    if not isinstance(smiles, str) or not smiles:
        return None
    with rdBase.BlockLogs():
        return Chem.MolFromSmiles(smiles)


def _target(smiles: str) -> Mol:
    mol = Chem.MolFromSmiles(smiles)
    assert mol is not None, smiles
    return mol


def _similarity_task(target: str, fp: str, upper: float | None):
    target_fp = fingerprint(_target(target), fp)

    def score(mol: Mol) -> float:
        sim = tanimoto(target_fp, fingerprint(mol, fp))
        return sim if upper is None else clipped(sim, upper)

    return score


def _median_task(first: str, second: str, fp: str):
    fp1, fp2 = fingerprint(_target(first), fp), fingerprint(_target(second), fp)

    def score(mol: Mol) -> float:
        f = fingerprint(mol, fp)
        return geometric_mean([tanimoto(fp1, f), tanimoto(fp2, f)])

    return score


def _isomer_task(formula: str):
    return lambda mol: isomer_score(mol, formula)


def _osimertinib():
    ref = _target("COc1cc(N(C)CCN(C)C)c(NC(=O)C=C)cc1Nc2nccc(n2)c3cn(C)c4ccccc34")
    fcfp4, ecfp6 = fingerprint(ref, "FCFP4"), fingerprint(ref, "ECFP6")

    def score(mol: Mol) -> float:
        return geometric_mean([
            max_gaussian(rdMolDescriptors.CalcTPSA(mol), 100.0, 10.0),
            min_gaussian(Crippen.MolLogP(mol), 1.0, 1.0),
            clipped(tanimoto(fcfp4, fingerprint(mol, "FCFP4")), 0.8),
            min_gaussian(tanimoto(ecfp6, fingerprint(mol, "ECFP6")), 0.85, 0.1),
        ])

    return score


def _fexofenadine():
    ref = fingerprint(_target("CC(C)(C(=O)O)c1ccc(cc1)C(O)CCCN2CCC(CC2)C(O)(c3ccccc3)c4ccccc4"), "AP")

    def score(mol: Mol) -> float:
        return geometric_mean([
            max_gaussian(rdMolDescriptors.CalcTPSA(mol), 90.0, 10.0),
            min_gaussian(Crippen.MolLogP(mol), 4.0, 1.0),
            clipped(tanimoto(ref, fingerprint(mol, "AP")), 0.8),
        ])

    return score


def _count(mol: Mol, symbol: str) -> int:
    return sum(1 for a in mol.GetAtoms() if a.GetSymbol() == symbol)


def _ranolazine():
    ref = fingerprint(_target("COc1ccccc1OCC(O)CN2CCN(CC(=O)Nc3c(C)cccc3C)CC2"), "AP")

    def score(mol: Mol) -> float:
        return geometric_mean([
            max_gaussian(rdMolDescriptors.CalcTPSA(mol), 95.0, 20.0),
            max_gaussian(Crippen.MolLogP(mol), 7.0, 1.0),
            clipped(tanimoto(ref, fingerprint(mol, "AP")), 0.7),
            gaussian(float(_count(mol, "F")), 1.0, 1.0),
        ])

    return score


def _perindopril():
    ref = fingerprint(_target("O=C(OCC)C(NC(C(=O)N1C(C(=O)O)CC2CCCCC12)C)CCC"), "ECFP4")

    def score(mol: Mol) -> float:
        return geometric_mean([tanimoto(ref, fingerprint(mol, "ECFP4")),
                               gaussian(float(rdMolDescriptors.CalcNumAromaticRings(mol)), 2.0, 0.5)])

    return score


def _amlodipine():
    ref = fingerprint(_target(r"Clc1ccccc1C2C(=C(/N/C(=C2/C(=O)OCC)COCCN)C)\C(=O)OC"), "ECFP4")

    def score(mol: Mol) -> float:
        return geometric_mean([tanimoto(ref, fingerprint(mol, "ECFP4")),
                               gaussian(float(rdMolDescriptors.CalcNumRings(mol)), 3.0, 0.5)])

    return score


def _zaleplon():
    ref = fingerprint(_target("O=C(C)N(CC)C1=CC=CC(C2=CC=NC3=C(C=NN23)C#N)=C1"), "ECFP4")

    def score(mol: Mol) -> float:
        return geometric_mean([tanimoto(ref, fingerprint(mol, "ECFP4")), isomer_score(mol, "C19H17N3O2")])

    return score


def _sitagliptin():
    ref_mol = _target("Fc1cc(c(F)cc1F)CC(N)CC(=O)N3Cc2nnc(n2CC3)C(F)(F)F")
    ref, ref_logp, ref_tpsa = fingerprint(ref_mol, "ECFP4"), Crippen.MolLogP(ref_mol), rdMolDescriptors.CalcTPSA(ref_mol)

    def score(mol: Mol) -> float:
        return geometric_mean([
            gaussian(tanimoto(ref, fingerprint(mol, "ECFP4")), 0.0, 0.1),
            gaussian(Crippen.MolLogP(mol), ref_logp, 0.2),
            gaussian(rdMolDescriptors.CalcTPSA(mol), ref_tpsa, 5.0),
            isomer_score(mol, "C16H15F6N5O"),
        ])

    return score


def _valsartan():
    pattern = Chem.MolFromSmarts("CN(C=O)Cc1ccc(c2ccccc2)cc1")
    other = _target("NC(CC(=O)N1CCn2c(nnc2C(F)(F)F)C1)Cc1cc(F)c(F)cc1F")   # sitagliptin: its properties
    logp, tpsa, bertz = Crippen.MolLogP(other), rdMolDescriptors.CalcTPSA(other), BertzCT(other)

    def score(mol: Mol) -> float:
        return geometric_mean([
            1.0 if mol.HasSubstructMatch(pattern) else 0.0,
            gaussian(rdMolDescriptors.CalcTPSA(mol), tpsa, 5.0),
            gaussian(Crippen.MolLogP(mol), logp, 0.2),
            gaussian(BertzCT(mol), bertz, 30.0),
        ])

    return score


_HOP_REFERENCE = "CCCOc1cc2ncnc(Nc3ccc4ncsc4c3)c2cc1S(=O)(=O)C(C)(C)C"
_HOP_SCAFFOLD = "[#7]-c1n[c;h1]nc2[c;h1]c(-[#8])[c;h0][c;h1]c12"


def _deco_hop():
    ref = fingerprint(_target(_HOP_REFERENCE), "PHCO")
    deco1, deco2 = Chem.MolFromSmarts("CS([#6])(=O)=O"), Chem.MolFromSmarts("[#7]-c1ccc2ncsc2c1")
    scaffold = Chem.MolFromSmarts(_HOP_SCAFFOLD)

    def score(mol: Mol) -> float:
        return float(np.mean([
            clipped(tanimoto(ref, fingerprint(mol, "PHCO")), 0.85),
            0.0 if mol.HasSubstructMatch(deco1) else 1.0,
            0.0 if mol.HasSubstructMatch(deco2) else 1.0,
            1.0 if mol.HasSubstructMatch(scaffold) else 0.0,
        ]))

    return score


def _scaffold_hop():
    ref = fingerprint(_target(_HOP_REFERENCE), "PHCO")
    deco = Chem.MolFromSmarts("[#6]-[#6]-[#6]-[#8]-[#6]~[#6]~[#6]~[#6]~[#6]-[#7]-c1ccc2ncsc2c1")
    scaffold = Chem.MolFromSmarts(_HOP_SCAFFOLD)

    def score(mol: Mol) -> float:
        return float(np.mean([
            clipped(tanimoto(ref, fingerprint(mol, "PHCO")), 0.75),
            1.0 if mol.HasSubstructMatch(deco) else 0.0,
            0.0 if mol.HasSubstructMatch(scaffold) else 1.0,
        ]))

    return score


_DEFINITIONS: dict[str, tuple[Callable[[], Callable[[Mol], float]], str]] = {
    "albuterol_similarity": (lambda: _similarity_task("CC(C)(C)NCC(O)c1ccc(O)c(CO)c1", "FCFP4", 0.75),
                             "FCFP4 Tanimoto to albuterol, clipped at 0.75"),
    "amlodipine_mpo": (_amlodipine, "gmean(ECFP4 sim to amlodipine, Gaussian(rings; 3, 0.5))"),
    "celecoxib_rediscovery": (lambda: _similarity_task("CC1=CC=C(C=C1)C1=CC(=NN1C1=CC=C(C=C1)S(N)(=O)=O)C(F)(F)F",
                                                       "ECFP4", None), "ECFP4 Tanimoto to celecoxib"),
    "deco_hop": (_deco_hop, "mean(PHCO sim clipped 0.85, no sulfone, no benzothiazole amine, quinazoline scaffold)"),
    "fexofenadine_mpo": (_fexofenadine, "gmean(AP sim clipped 0.8, TPSA >= 90, logP <= 4)"),
    "isomers_c7h8n2o2": (lambda: _isomer_task("C7H8N2O2"), "isomer of C7H8N2O2"),
    "isomers_c9h10n2o2pf2cl": (lambda: _isomer_task("C9H10N2O2PF2Cl"), "isomer of C9H10N2O2PF2Cl"),
    "median1": (lambda: _median_task("CC1(C)C2CCC1(C)C(=O)C2", "CC(C)C1CCC(C)CC1O", "ECFP4"),
                "gmean(ECFP4 sim to camphor, to menthol)"),
    "median2": (lambda: _median_task("O=C1N(CC(N2C1CC3=C(C2C4=CC5=C(OCO5)C=C4)NC6=C3C=CC=C6)=O)C",
                                     "CCCC1=NN(C2=C1N=C(NC2=O)C3=C(C=CC(=C3)S(=O)(=O)N4CCN(CC4)C)OCC)C", "ECFP6"),
                "gmean(ECFP6 sim to tadalafil, to sildenafil)"),
    "mestranol_similarity": (lambda: _similarity_task(
        "COc1ccc2[C@H]3CC[C@@]4(C)[C@@H](CC[C@@]4(O)C#C)[C@@H]3CCc2c1", "AP", 0.75),
        "AP Tanimoto to mestranol, clipped at 0.75"),
    "osimertinib_mpo": (_osimertinib, "gmean(TPSA >= 100, logP <= 1, FCFP4 sim clipped 0.8, ECFP6 sim <= 0.85)"),
    "perindopril_mpo": (_perindopril, "gmean(ECFP4 sim to perindopril, Gaussian(aromatic rings; 2, 0.5))"),
    "qed": (lambda: QED.qed, "RDKit QED"),
    "ranolazine_mpo": (_ranolazine, "gmean(TPSA >= 95, logP >= 7, AP sim clipped 0.7, Gaussian(F count; 1, 1))"),
    "scaffold_hop": (_scaffold_hop, "mean(PHCO sim clipped 0.75, decoration kept, quinazoline scaffold gone)"),
    "sitagliptin_mpo": (_sitagliptin, "gmean(ECFP4 sim ~ 0, logP and TPSA of sitagliptin, isomer C16H15F6N5O)"),
    "thiothixene_rediscovery": (lambda: _similarity_task("CN(C)S(=O)(=O)c1ccc2Sc3ccccc3C(=CCCN4CCN(C)CC4)c2c1",
                                                         "ECFP4", None), "ECFP4 Tanimoto to thiothixene"),
    "troglitazone_rediscovery": (lambda: _similarity_task("Cc1c(C)c2OC(C)(COc3ccc(CC4SC(=O)NC4=O)cc3)CCc2c(C)c1O",
                                                          "ECFP4", None), "ECFP4 Tanimoto to troglitazone"),
    "valsartan_smarts": (_valsartan, "gmean(valsartan SMARTS, sitagliptin's TPSA, logP and Bertz)"),
    "zaleplon_mpo": (_zaleplon, "gmean(ECFP4 sim to zaleplon, isomer C19H17N3O2)"),
}

TASK_NAMES: tuple[str, ...] = tuple(sorted(_DEFINITIONS))
_BUILT: dict[str, PMOTask] = {}


def get_task(name: str) -> PMOTask:
    """The PMO task ``name`` (built on first use); ValueError listing the names for an unknown one."""
    if name not in _DEFINITIONS:
        raise ValueError(f"unknown PMO task {name!r}; known: {', '.join(TASK_NAMES)}")
    if name not in _BUILT:
        build, description = _DEFINITIONS[name]
        _BUILT[name] = PMOTask(name, build(), description)
    return _BUILT[name]


class _Tasks(dict):
    """``TASKS[name]``: every task by name, built lazily."""

    def __missing__(self, name: str) -> PMOTask:
        return get_task(name)


TASKS = _Tasks()


# --- set metrics -------------------------------------------------------------------------------------------------

def diversity(smiles: Sequence[str]) -> float:
    """Internal diversity (TDC's): 1 − the mean pairwise Tanimoto similarity of Morgan radius-2 2,048-bit
    fingerprints over the distinct molecules; 0.0 for fewer than two."""
    mols = [m for m in (_parse(s) for s in dict.fromkeys(smiles)) if m is not None]
    if len(mols) < 2:
        return 0.0
    fps = [_MORGAN2_BITS.GetFingerprint(m) for m in mols]
    sims: list[float] = []
    for i in range(1, len(fps)):
        sims.extend(DataStructs.BulkTanimotoSimilarity(fps[i], fps[:i]))
    return float(1.0 - np.mean(sims)) if sims else 0.0
