"""The MOSES benchmark's metrics of generated SMILES (Polykovskiy et al. 2020, ``molsets`` 0.3.1), computed as MOSES
computes them, on current RDKit / pandas / NumPy.

MOSES's own metric code does not import on current libraries (``rdkit.six`` is gone, ``DataFrame.append`` too), so
these are written here from the definitions; ``tests/gan/test_moses_metrics.py`` checks them against MOSES's code
loaded with two compatibility shims, on fixed inputs.

Given ``gen`` (the generated SMILES, invalid ones included):

* ``valid``: fraction that RDKit parses and sanitises; every later metric uses the valid ones only, canonicalised,
  duplicates kept, in order;
* ``unique@k``: distinct canonical SMILES among the first ``k`` valid ones / that count;
* ``FCD/Test``, ``FCD/TestSF``: Fréchet ChemNet Distance (``fcd_torch``'s ChemNet) to MOSES test / scaffold test;
* ``SNN/Test``: mean over the valid molecules of the largest Tanimoto similarity (Morgan radius 2, 1,024 bits) to a
  test molecule;
* ``Frag/Test``: cosine similarity of the BRICS fragment counts (``FragmentOnBRICSBonds``) of both sets;
* ``Scaf/Test``: cosine similarity of the Bemis-Murcko scaffold counts (scaffolds with at least 2 rings);
* ``IntDiv1`` / ``IntDiv2``: 1 - (mean over valid x of (mean over valid y of T(x, y)^p)^(1/p)), p = 1 / 2, all pairs
  including x = y;
* ``Filters``: fraction of valid molecules with no ring of 8 or more atoms, no charged atom, only C N S O F Cl Br H,
  no match of MOSES's MCF and PAINS SMARTS (``mcf.csv``, ``wehi_pains.csv`` of the wheel, matched with explicit
  hydrogens) and a SMILES that parses back;
* ``Novelty``: distinct valid canonical SMILES not in the MOSES training SMILES / distinct valid ones.

Reference statistics come from the wheel's ``test_stats.npz`` / ``test_scaffolds_stats.npz``: the test sets'
Morgan fingerprints, BRICS fragment and scaffold counts (identical, row for row and key for key, to what current
RDKit computes from ``test.csv.gz``: checked by the tests) and ChemNet's activation mean and covariance, which
fcd_torch 1.0.7 reproduces: 10,000 test molecules drawn at random (seed 0) are at FCD 0.117 from the shipped
statistics, 5,000 at 0.243 (two disjoint random 5,000s: 0.500), the finite-sample floor. (``test.csv.gz`` is not
shuffled: its first 10,000 molecules are at FCD 3.36 from the whole set, so never take a head of it as a sample.)
"""

from __future__ import annotations

import csv
import functools
import math
import time
import warnings
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from rdkit import Chem, RDLogger
from rdkit.Chem import rdFingerprintGenerator
from rdkit.Chem.FilterCatalog import FilterCatalog, FilterCatalogEntry, SmartsMatcher
from rdkit.Chem.Scaffolds import MurckoScaffold

from deep_arena.gan.data import DataError, _MOSES_HINT, load_moses, package_dir

__all__ = ["ALLOWED_ATOMS", "MOSES_SPLITS", "get_mol", "canonical", "fraction_valid", "fraction_unique",
           "novelty", "morgan_fingerprints", "tanimoto_aggregate", "snn", "internal_diversity", "fragments",
           "scaffolds", "cosine_counts", "passes_filters", "fraction_passes_filters", "chemnet_activations",
           "gaussian_stats", "frechet_distance", "fcd_to_moses", "reference_statistics", "moses_train_set",
           "moses_metrics",
           "METRIC_ORDER"]

ALLOWED_ATOMS = frozenset({"C", "N", "S", "O", "F", "Cl", "Br", "H"})
MOSES_SPLITS = {"Test": "test", "TestSF": "test_scaffolds"}
METRIC_ORDER = ("valid", "unique@1k", "unique@10k", "FCD/Test", "FCD/TestSF", "SNN/Test", "SNN/TestSF",
                "Frag/Test", "Frag/TestSF", "Scaf/Test", "Scaf/TestSF", "IntDiv1", "IntDiv2", "Filters", "Novelty")
_MORGAN = rdFingerprintGenerator.GetMorganGenerator(radius=2, fpSize=1024)


# --- molecules ----------------------------------------------------------------------------------------------------

def get_mol(smiles: str | None) -> Chem.Mol | None:
    """The sanitised RDKit molecule of a SMILES string, or None (empty, unparsable or failing sanitisation)."""
    if not isinstance(smiles, str) or not smiles:
        return None
    RDLogger.DisableLog("rdApp.*")
    try:
        mol = Chem.MolFromSmiles(smiles)
        if mol is None:
            return None
        try:
            Chem.SanitizeMol(mol)
        except (ValueError, RuntimeError):
            return None
        return mol
    finally:
        RDLogger.EnableLog("rdApp.*")


def canonical(smiles: str | None) -> str | None:
    mol = get_mol(smiles)
    return None if mol is None else Chem.MolToSmiles(mol)


def fraction_valid(gen: Sequence[str | None]) -> float:
    if not len(gen):
        raise ValueError("no generated SMILES given")
    return sum(get_mol(s) is not None for s in gen) / len(gen)


def fraction_unique(valid_canonical: Sequence[str], k: int | None = None) -> float:
    """Distinct SMILES among the first ``k`` (all when None) of an already valid, canonical list."""
    head = list(valid_canonical[:k] if k is not None else valid_canonical)
    if not head:
        return 0.0
    return len(set(head)) / len(head)


def novelty(valid_canonical: Iterable[str], train: set[str] | frozenset[str]) -> float:
    uniq = set(valid_canonical)
    return len(uniq - set(train)) / len(uniq) if uniq else 0.0


# --- fingerprints and similarities --------------------------------------------------------------------------------

def morgan_fingerprints(mols: Sequence[Chem.Mol]) -> np.ndarray:
    """[n, 1024] uint8 Morgan bits (radius 2), as MOSES's ``fingerprints(..., fp_type='morgan')``."""
    out = np.zeros((len(mols), 1024), dtype=np.uint8)
    for i, mol in enumerate(mols):
        out[i] = _MORGAN.GetFingerprintAsNumPy(mol)
    return out


def tanimoto_aggregate(ref: np.ndarray, gen: np.ndarray, agg: str = "max", p: float = 1.0,
                       batch: int = 4096) -> np.ndarray:
    """For each row of ``gen``: the largest (``agg="max"``) or the power mean (``"mean"``, exponent ``p``) of its
    Tanimoto similarities to the rows of ``ref`` (bit matrices; two empty fingerprints count as similarity 1)."""
    if agg not in ("max", "mean"):
        raise ValueError(f"agg must be 'max' or 'mean', got {agg!r}")
    if len(ref) == 0 or len(gen) == 0:
        raise ValueError("Tanimoto aggregation needs at least one fingerprint on each side")
    out = np.zeros(len(gen), dtype=np.float64)
    ref_t = torch.from_numpy(np.ascontiguousarray(ref, dtype=np.float32))
    ref_n = ref_t.sum(1)
    for i in range(0, len(gen), batch):
        g = torch.from_numpy(np.ascontiguousarray(gen[i:i + batch], dtype=np.float32))
        g_n = g.sum(1)
        acc = torch.zeros(len(g), dtype=torch.float64)
        for j in range(0, len(ref_t), batch):
            inter = g @ ref_t[j:j + batch].T
            union = g_n[:, None] + ref_n[None, j:j + batch] - inter
            sim = torch.where(union > 0, inter / union.clamp_min(1), torch.ones_like(inter))
            if agg == "max":
                acc = torch.maximum(acc, sim.max(1).values.double())
            else:
                acc += (sim.double() ** p).sum(1)
        out[i:i + len(g)] = acc.numpy()
    if agg == "mean":
        out = (out / len(ref)) ** (1.0 / p)
    return out


def snn(gen_fps: np.ndarray, ref_fps: np.ndarray) -> float:
    """Mean nearest-neighbour Tanimoto similarity of the generated fingerprints to the reference ones (identical
    generated fingerprints are computed once)."""
    uniq, inverse = np.unique(gen_fps, axis=0, return_inverse=True)
    return float(tanimoto_aggregate(ref_fps, uniq, "max")[inverse.reshape(-1)].mean())


def internal_diversity(fps: np.ndarray, p: int = 1) -> float:
    """MOSES IntDiv_p of a set of fingerprints (duplicates and self-pairs included, as MOSES counts them)."""
    uniq, inverse, counts = np.unique(fps, axis=0, return_inverse=True, return_counts=True)
    inverse = inverse.reshape(-1)
    # mean over all y of T(x, y)^p, with each distinct y weighted by its count
    ref_t = torch.from_numpy(uniq.astype(np.float32))
    ref_n, w = ref_t.sum(1), torch.from_numpy(counts.astype(np.float64))
    per = np.zeros(len(uniq))
    for i in range(0, len(uniq), 4096):
        g = ref_t[i:i + 4096]
        inter = g @ ref_t.T
        union = g.sum(1)[:, None] + ref_n[None, :] - inter
        sim = torch.where(union > 0, inter / union.clamp_min(1), torch.ones_like(inter)).double()
        per[i:i + len(g)] = ((sim ** p) @ w).numpy() / len(fps)
    return float(1.0 - np.mean(per[inverse] ** (1.0 / p)))


def fragments(mols: Iterable[Chem.Mol]) -> Counter:
    """BRICS fragment SMILES counts (the molecule cut at its BRICS bonds, dummy atoms kept)."""
    out: Counter = Counter()
    for mol in mols:
        out.update(Chem.MolToSmiles(Chem.FragmentOnBRICSBonds(mol)).split("."))
    return out


def scaffolds(mols: Iterable[Chem.Mol], min_rings: int = 2) -> Counter:
    """Bemis-Murcko scaffold SMILES counts, scaffolds with fewer than ``min_rings`` rings left out."""
    out: Counter = Counter()
    for mol in mols:
        try:
            scaf = MurckoScaffold.GetScaffoldForMol(mol)
        except (ValueError, RuntimeError):
            continue
        text = Chem.MolToSmiles(scaf)
        if text and scaf.GetRingInfo().NumRings() >= min_rings:
            out[text] += 1
    return out


def cosine_counts(ref: Counter, gen: Counter) -> float:
    """Cosine similarity of two count dictionaries (missing keys are 0); NaN when either is empty."""
    if not ref or not gen:
        return math.nan
    dot = sum(v * gen.get(k, 0) for k, v in ref.items())
    norm = math.sqrt(sum(v * v for v in ref.values())) * math.sqrt(sum(v * v for v in gen.values()))
    return dot / norm


# --- filters --------------------------------------------------------------------------------------------------------

_FILTERS: FilterCatalog | None = None


def _metrics_dir() -> Path:
    root = package_dir("moses")
    if root is None:
        raise DataError(f"MOSES data set not installed: the package 'molsets' (module moses) is missing; "
                        f"run: {_MOSES_HINT}")
    return root / "metrics"


def _filter_catalog() -> FilterCatalog:
    """MOSES's MCF and PAINS SMARTS (the wheel's ``mcf.csv`` and ``wehi_pains.csv``) as one RDKit catalog."""
    global _FILTERS
    if _FILTERS is None:
        folder = _metrics_dir()
        patterns: list[tuple[str, str]] = []
        for name, has_header, smarts_col in (("mcf.csv", True, 1), ("wehi_pains.csv", False, 0)):
            path = folder / name
            if not path.is_file():
                raise DataError(f"MOSES filter file {str(path)!r} is missing; reinstall: {_MOSES_HINT}")
            with path.open(newline="", encoding="utf-8") as handle:
                rows = list(csv.reader(handle))
            for i, row in enumerate(rows[1:] if has_header else rows):
                patterns.append((f"{name}:{i}", row[smarts_col].strip()))
        catalog = FilterCatalog()
        for name, smarts in patterns:
            matcher = SmartsMatcher(name, smarts, 1)
            if not matcher.IsValid():
                raise DataError(f"MOSES filter {name} has an unreadable SMARTS: {smarts!r}")
            catalog.AddEntry(FilterCatalogEntry(name, matcher))
        _FILTERS = catalog
    return _FILTERS


def passes_filters(mol: Chem.Mol | None) -> bool:
    """MOSES's ``mol_passes_filters`` rules (see the module docstring)."""
    if mol is None:
        return False
    rings = mol.GetRingInfo()
    if rings.NumRings() and any(len(r) >= 8 for r in rings.AtomRings()):
        return False
    if any(a.GetFormalCharge() != 0 for a in mol.GetAtoms()):
        return False
    if any(a.GetSymbol() not in ALLOWED_ATOMS for a in mol.GetAtoms()):
        return False
    if _filter_catalog().HasMatch(Chem.AddHs(mol)):
        return False
    text = Chem.MolToSmiles(mol, isomericSmiles=False)
    return bool(text) and get_mol(text) is not None


def fraction_passes_filters(mols: Sequence[Chem.Mol]) -> float:
    return float(np.mean([passes_filters(m) for m in mols])) if len(mols) else 0.0


# --- FCD --------------------------------------------------------------------------------------------------------------

def chemnet_activations(smiles: Sequence[str], device: str = "cpu", batch_size: int = 512) -> np.ndarray:
    """[n, 512] ChemNet penultimate activations (``fcd_torch``, SMILES canonicalised first, as MOSES does)."""
    if package_dir("fcd_torch") is None:
        raise DataError("FCD needs fcd_torch (it ships ChemNet's weights); run: pip install fcd-torch==1.0.7 "
                        "(or: make gan-data)")
    from fcd_torch import FCD  # lazy: an optional extra, checked for just above; loads ChemNet's weights

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return np.asarray(FCD(device=device, n_jobs=1, batch_size=batch_size).get_predictions(list(smiles)))


def gaussian_stats(activations: np.ndarray) -> dict[str, np.ndarray]:
    if len(activations) < 2:
        raise ValueError(f"FCD needs at least 2 molecules, got {len(activations)}")
    return {"mu": activations.mean(0), "sigma": np.cov(activations.T)}


def frechet_distance(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> float:
    """||mu_a - mu_b||^2 + Tr(S_a + S_b - 2 (S_a S_b)^(1/2)) (``fcd_torch``'s numerically stable form)."""
    from fcd_torch.utils import calculate_frechet_distance  # lazy: the optional extra, as in chemnet_activations

    return float(calculate_frechet_distance(a["mu"], a["sigma"], b["mu"], b["sigma"]))


@functools.lru_cache(maxsize=2)
def _shipped_stats(split: str) -> dict[str, Any]:
    path = package_dir("moses")
    if path is None:
        raise DataError(f"MOSES data set not installed: the package 'molsets' (module moses) is missing; "
                        f"run: {_MOSES_HINT}")
    file = path / "dataset" / "data" / f"{split}_stats.npz"
    if not file.is_file():
        raise DataError(f"MOSES statistics {str(file)!r} are missing; reinstall: {_MOSES_HINT}")
    # the file is a pickled dict (Counters inside): written by MOSES's authors, shipped in the wheel we read
    return np.load(file, allow_pickle=True)["stats"].item()


def reference_statistics(split: str = "test", with_fcd: bool = True) -> dict[str, Any]:
    """``fps`` (Morgan bits), ``frag`` and ``scaf`` counts and ``fcd`` (ChemNet ``mu``, ``sigma``) of a MOSES split
    (``test`` or ``test_scaffolds``), from the wheel's ``<split>_stats.npz`` (see the module docstring)."""
    shipped = _shipped_stats(split)
    out = {"fps": shipped["SNN"]["fps"], "frag": shipped["Frag"]["frag"], "scaf": shipped["Scaf"]["scaf"]}
    if with_fcd:
        out["fcd"] = {"mu": np.asarray(shipped["FCD"]["mu"]), "sigma": np.asarray(shipped["FCD"]["sigma"])}
    return out


@functools.lru_cache(maxsize=2)
def _fcd_stats(split: str) -> dict[str, np.ndarray]:
    stats = _shipped_stats.__wrapped__(split)   # not kept in the cache: the fingerprints are 180 MB
    return {"mu": np.asarray(stats["FCD"]["mu"]), "sigma": np.asarray(stats["FCD"]["sigma"])}


def fcd_to_moses(smiles: Sequence[str], split: str = "test", device: str = "cpu") -> float | None:
    """FCD of valid canonical ``smiles`` to a MOSES split's shipped statistics; None when fcd_torch or molsets is
    not installed or fewer than 2 molecules are given (training checks use it on their samples)."""
    if len(smiles) < 2 or package_dir("fcd_torch") is None or package_dir("moses") is None:
        return None
    return frechet_distance(gaussian_stats(chemnet_activations(smiles, device=device)), _fcd_stats(split))


_TRAIN: set[str] | None = None


def moses_train_set() -> set[str]:
    """MOSES training SMILES as a set (MOSES's novelty compares canonical generated SMILES with these strings)."""
    global _TRAIN
    if _TRAIN is None:
        _TRAIN = set(load_moses("train"))
    return _TRAIN


# --- everything -----------------------------------------------------------------------------------------------------

def moses_metrics(gen: Sequence[str | None], train: Iterable[str] | None = None, with_fcd: bool = True,
                  scaffold_split: str = "all", device: str = "cpu", ks: Sequence[int] = (1000, 10000),
                  references: dict[str, dict[str, Any]] | None = None,
                  log: Callable[[str], None] | None = None) -> dict[str, Any]:
    """MOSES's metrics of ``gen`` (see the module docstring) against MOSES test and scaffold test.

    ``train``: the training SMILES for novelty (MOSES train when None); ``scaffold_split``: ``"all"`` computes
    FCD, SNN, Frag and Scaf against the scaffold test set too, ``"fcd"`` only FCD/TestSF, ``"none"`` nothing;
    ``references``: statistics per split name (``{"test": reference_statistics("test"), ...}``) in place of the
    MOSES files (tests use small ones). Returns the metrics (keys of :data:`METRIC_ORDER`), plus ``n``,
    ``n_valid``, ``seconds`` and ``cpu_seconds`` (wall-clock and process CPU time per stage)."""
    if scaffold_split not in ("all", "fcd", "none"):
        raise ValueError(f"scaffold_split must be all, fcd or none, got {scaffold_split!r}")
    if not len(gen):
        raise ValueError("no generated SMILES given")
    seconds: dict[str, float] = {}
    cpu_seconds: dict[str, float] = {}
    clock, cpu_clock = time.perf_counter(), time.process_time()

    def lap(name: str) -> None:
        nonlocal clock, cpu_clock
        now, cpu_now = time.perf_counter(), time.process_time()
        seconds[name] = seconds.get(name, 0.0) + now - clock
        cpu_seconds[name] = cpu_seconds.get(name, 0.0) + cpu_now - cpu_clock
        clock, cpu_clock = now, cpu_now

    mols_all = [get_mol(s) for s in gen]
    mols = [m for m in mols_all if m is not None]
    valid = [Chem.MolToSmiles(m) for m in mols]
    out: dict[str, Any] = {"n": len(gen), "n_valid": len(valid), "valid": len(valid) / len(gen)}
    for k in ks:
        if len(valid) < k:
            warnings.warn(f"unique@{k}: only {len(valid)} valid molecules, so it is computed on those",
                          stacklevel=2)
        out[f"unique@{k // 1000}k" if k % 1000 == 0 else f"unique@{k}"] = fraction_unique(valid, k)
    lap("valid+unique")
    if not valid:
        out["seconds"], out["cpu_seconds"] = seconds, cpu_seconds
        return out
    splits = {"Test": "test"}
    if scaffold_split != "none":
        splits["TestSF"] = "test_scaffolds"
    refs = {}
    for label, split in splits.items():
        if references is not None and split in references:
            refs[label] = references[split]
        else:
            refs[label] = reference_statistics(split, with_fcd=with_fcd)
    lap("references")
    if with_fcd:
        if len(valid) >= 2:
            gen_stats = gaussian_stats(chemnet_activations(valid, device=device))
            lap("chemnet")
            for label in splits:
                out[f"FCD/{label}"] = frechet_distance(gen_stats, refs[label]["fcd"])
        else:
            out.update({f"FCD/{label}": math.nan for label in splits})
        lap("FCD")
    fps = morgan_fingerprints(mols)
    frag, scaf = fragments(mols), scaffolds(mols)
    lap("fingerprints+fragments+scaffolds")
    for label in splits:
        if label == "TestSF" and scaffold_split == "fcd":
            continue
        out[f"SNN/{label}"] = snn(fps, refs[label]["fps"])
        lap("SNN")
        out[f"Frag/{label}"] = cosine_counts(refs[label]["frag"], frag)
        out[f"Scaf/{label}"] = cosine_counts(refs[label]["scaf"], scaf)
        lap("Frag+Scaf")
    out["IntDiv1"] = internal_diversity(fps, 1)
    out["IntDiv2"] = internal_diversity(fps, 2)
    lap("IntDiv")
    out["Filters"] = fraction_passes_filters(mols)
    lap("Filters")
    train_set = moses_train_set() if train is None else (train if isinstance(train, (set, frozenset))
                                                         else set(train))
    out["Novelty"] = novelty(valid, train_set)
    lap("Novelty")
    out["seconds"], out["cpu_seconds"] = seconds, cpu_seconds
    return out
