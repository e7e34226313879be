"""Metrics of generated molecules (MOSES-style definitions, computed with RDKit).

* ``validity``: valid / all samples (``None`` or unparsable SMILES are invalid).
* ``unique_at(k)``: unique canonical SMILES among the first ``k`` valid ones, divided by that count (MOSES'
  unique@k; when fewer than ``k`` are valid, all valid ones are used and the report says how many).
* ``novelty``: unique valid molecules not in the training set / unique valid molecules.
* ``internal_diversity``: 1 − mean Tanimoto similarity over distinct pairs of Morgan fingerprints (radius 2,
  2048 bits) of the unique valid molecules (a random subset of ≤ 1,000, seeded).
* ``pains_pass_rate``: fraction of valid molecules that match no RDKit PAINS (A/B/C) filter.
* ``fcd``: Fréchet ChemNet Distance with ``fcd_torch`` (its wheel ships the ChemNet weights); ``None`` when not
  installed.
* ``property_histograms``: QED / logP / SA histograms of generated vs reference molecules (matplotlib figure).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
from rdkit import Chem, DataStructs, RDLogger
from rdkit.Chem import rdFingerprintGenerator
from rdkit.Chem.FilterCatalog import FilterCatalog, FilterCatalogParams

from deep_arena.envs.molecule import rewards
from deep_arena.gan.data import package_dir

__all__ = ["canonical_smiles", "validity", "unique_at", "novelty", "internal_diversity", "pains_pass_rate", "fcd",
           "fcd_available", "property_values", "property_histograms", "summary"]


def canonical_smiles(smiles: str | None) -> str | None:
    if not smiles:
        return None
    RDLogger.DisableLog("rdApp.*")
    try:
        mol = Chem.MolFromSmiles(smiles)
    finally:
        RDLogger.EnableLog("rdApp.*")
    return None if mol is None else Chem.MolToSmiles(mol)


def _valid(smiles: Iterable[str | None]) -> list[str]:
    return [c for c in (canonical_smiles(s) for s in smiles) if c is not None]


def validity(smiles: Sequence[str | None]) -> float:
    if not smiles:
        raise ValueError("validity of an empty sample list is undefined")
    return len(_valid(smiles)) / len(smiles)


def unique_at(smiles: Sequence[str | None], k: int) -> float:
    valid = _valid(smiles)[:k]
    return len(set(valid)) / len(valid) if valid else 0.0


def novelty(smiles: Sequence[str | None], training: Iterable[str]) -> float:
    uniq = set(_valid(smiles))
    if not uniq:
        return 0.0
    train = training if isinstance(training, (set, frozenset)) else set(_valid(training))
    return len(uniq - train) / len(uniq)


def internal_diversity(smiles: Sequence[str | None], max_molecules: int = 1000, seed: int = 0) -> float:
    uniq = sorted(set(_valid(smiles)))
    if len(uniq) < 2:
        return 0.0
    if len(uniq) > max_molecules:
        idx = np.random.default_rng(seed).choice(len(uniq), max_molecules, replace=False)
        uniq = [uniq[i] for i in sorted(idx)]
    gen = rdFingerprintGenerator.GetMorganGenerator(radius=2, fpSize=2048)
    fps = [gen.GetFingerprint(Chem.MolFromSmiles(s)) for s in uniq]
    total, pairs = 0.0, 0
    for i in range(1, len(fps)):
        sims = DataStructs.BulkTanimotoSimilarity(fps[i], fps[:i])
        total += float(np.sum(sims))
        pairs += len(sims)
    return 1.0 - total / pairs


_PAINS = None


def pains_pass_rate(smiles: Sequence[str | None]) -> float:
    global _PAINS
    if _PAINS is None:
        params = FilterCatalogParams()
        params.AddCatalog(FilterCatalogParams.FilterCatalogs.PAINS)
        _PAINS = FilterCatalog(params)
    valid = _valid(smiles)
    if not valid:
        return 0.0
    return float(np.mean([not _PAINS.HasMatch(Chem.MolFromSmiles(s)) for s in valid]))


def fcd_available() -> bool:
    return package_dir("fcd_torch") is not None


def fcd(generated: Sequence[str | None], reference: Sequence[str], device: str = "cpu") -> float | None:
    """FCD between the valid generated molecules and ``reference`` (``None`` if fcd_torch is not installed)."""
    if not fcd_available():
        return None
    from fcd_torch import FCD  # lazy: an optional extra (deep-arena[gan]), checked for just above

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return float(FCD(device=device, n_jobs=1)(_valid(generated), list(reference)))


def property_values(smiles: Iterable[str]) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {"qed": [], "logp": [], "sa": []}
    for s in smiles:
        mol = Chem.MolFromSmiles(s) if s else None
        if mol is None:
            continue
        out["qed"].append(rewards.qed(mol))
        out["logp"].append(rewards.logp(mol))
        out["sa"].append(rewards.sa_score(mol))
    return out


def property_histograms(generated: Sequence[str], reference: Sequence[str],
                        labels: tuple[str, str] = ("generated", "data")) -> Any:
    """A matplotlib figure with QED / logP / SA histograms of both sets (densities)."""
    import matplotlib  # lazy: slow, and selecting Agg at import would change the caller's backend

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # lazy: as matplotlib above

    gen, ref = property_values(generated), property_values(reference)
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.4))
    for ax, key, title in zip(axes, ("qed", "logp", "sa"), ("QED", "logP", "SA score")):
        values = gen[key] + ref[key]
        bins = np.linspace(min(values), max(values), 30) if values else 10
        ax.hist(ref[key], bins=bins, density=True, alpha=0.5, label=f"{labels[1]} (mean {np.mean(ref[key]):.2f})")
        if gen[key]:
            ax.hist(gen[key], bins=bins, density=True, alpha=0.5,
                    label=f"{labels[0]} (mean {np.mean(gen[key]):.2f})")
        ax.set_title(title)
        ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def summary(smiles: Sequence[str | None], training: Iterable[str] | None = None,
            reference: Sequence[str] | None = None, with_fcd: bool = True) -> dict[str, Any]:
    """Every metric above as a dict (novelty needs ``training``, FCD ``reference``)."""
    valid = _valid(smiles)
    out: dict[str, Any] = {"n": len(smiles), "n_valid": len(valid), "validity": len(valid) / max(1, len(smiles)),
                           "unique@1k": unique_at(smiles, 1000), "unique@10k": unique_at(smiles, 10000),
                           "n_unique": len(set(valid)),
                           "intdiv": internal_diversity(smiles), "pains_pass": pains_pass_rate(smiles)}
    out["novelty"] = novelty(smiles, training) if training is not None else None
    out["fcd"] = fcd(smiles, reference) if (with_fcd and reference is not None and len(valid) > 1) else None
    props = property_values(valid[:2000])
    out.update({f"{k}_mean": (float(np.mean(v)) if v else None) for k, v in props.items()})
    return out
