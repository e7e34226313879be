"""Molecular property rewards: pure chemistry on RDKit molecules (imports rdkit and numpy only).

Every property function takes a sanitized ``rdkit.Chem.Mol`` and returns a finite ``float`` -- for any such
molecule, including charged atoms, single atoms (``C``, ``[Cl-]``), isotopes, radicals, several fragments,
aromatic heteroatoms, huge rings and the empty molecule. Explicit hydrogens (``Chem.AddHs``) are removed
before scoring, so a molecule scores the same with or without them.

| name         | formula                                                                    | constants / notes      |
|--------------|----------------------------------------------------------------------------|------------------------|
| `qed`        | RDKit ``Chem.QED.qed`` (Bickerton 2012, mean weights)                      | in [0, 1], higher better|
| `logp`       | Crippen ``MolLogP`` (Wildman & Crippen 1999)                               |                        |
| `sa`         | Ertl & Schuffenhausen synthetic accessibility, RDKit Contrib ``sascorer``  | 1 easy .. 10 hard; the empty molecule scores `SA_EMPTY` = 10 |
| `sa_norm`    | ``clip((SA - 5) / (1.5 - 5), 0, 1)`` (MolGAN)                              | 1 = easy, 0 = SA >= 5  |
| `logp_norm`  | ``clip((logP + 2.1218) / (6.0429 + 2.1218), 0, 1)`` (MolGAN)               |                        |
| `ring penalty`| ``max(largest ring - 6, 0)``, ring sizes from ``GetRingInfo().AtomRings()``| 8-membered ring -> 2   |
| `plogp`      | ``logP - SA - ring penalty`` (raw form, MolDQN)                            |                        |
| `plogp_zinc` | ``(logP - 2.4571)/1.4343 + (-SA + 3.0526)/0.8335 + (-pen + 0.0486)/0.2860``| ZINC250k z-scores (JT-VAE / GCPN) |
| `similarity` | Tanimoto of Morgan *count* fingerprints, radius 2, to a target             | in [0, 1]              |
| `sim_plogp`  | ``plogp`` if sim > delta else ``plogp + 100 (sim - delta)`` (MolDQN)       | delta = 0.4 default    |
| `multi`      | ``sum_k w_k * objective_k`` over names of this table                       | e.g. qed 0.7, sa_norm 0.3 |

Use :func:`make_objective` to turn a name (or any callable ``reward_fn(mol) -> float``) into a reward
function; user callables are wrapped in :class:`CheckedReward`, which turns exceptions and non-finite values
into a :class:`RewardError` naming the callable. :func:`property_table` gives every property at once (SA
computed once) for CSV output and rendering.

Note that ``sa`` is *lower is better*; as a reward to maximise use ``sa_norm`` (or a negative weight).
"""

from __future__ import annotations

import math
import os
import sys
from contextlib import nullcontext
from functools import cached_property, lru_cache
from typing import Any, Callable, Mapping

import numpy as np
from rdkit import Chem, DataStructs, RDConfig, rdBase
from rdkit.Chem import QED, Crippen, rdFingerprintGenerator

__all__ = [
    "ZINC_LOGP_MEAN",
    "ZINC_LOGP_STD",
    "ZINC_NEG_SA_MEAN",
    "ZINC_NEG_SA_STD",
    "ZINC_NEG_CYCLE_MEAN",
    "ZINC_NEG_CYCLE_STD",
    "SA_EMPTY",
    "RewardError",
    "qed",
    "logp",
    "sa_score",
    "sa_norm",
    "logp_norm",
    "largest_ring_size",
    "ring_penalty",
    "penalized_logp",
    "penalized_logp_zinc",
    "morgan_count_fp",
    "tanimoto_similarity",
    "SimilarityReward",
    "constrained_plogp",
    "ConstrainedPenalizedLogP",
    "MultiObjective",
    "CheckedReward",
    "OBJECTIVES",
    "PARAMETRIC_OBJECTIVES",
    "make_objective",
    "property_table",
]

Mol = Chem.Mol
RewardFn = Callable[[Mol], float]

# --- constants -----------------------------------------------------------------------------------------------
# ZINC250k statistics used by JT-VAE (Jin et al. 2018) and GCPN (You et al. 2018) to z-score the three terms of
# penalized logP (values as quoted in /work/shared/REFERENCE.md, "Molecules"): logP, -SA and -cycle, where
# cycle = max(largest ring size - 6, 0).
ZINC_LOGP_MEAN = 2.4571
ZINC_LOGP_STD = 1.4343
ZINC_NEG_SA_MEAN = -3.0526
ZINC_NEG_SA_STD = 0.8335
ZINC_NEG_CYCLE_MEAN = -0.0486
ZINC_NEG_CYCLE_STD = 0.2860

RING_PENALTY_FREE_SIZE = 6  # rings up to this size cost nothing in penalized logP

# SA score range of sascorer, and the value given to a molecule without atoms (sascorer itself returns None).
SA_MIN, SA_MAX = 1.0, 10.0
SA_EMPTY = SA_MAX

# MolGAN (De Cao & Kipf 2018) normalisations: SA 5 -> 0, 1.5 -> 1; logP -2.1218 -> 0, 6.0429 -> 1 (both clipped).
SA_NORM_WORST, SA_NORM_BEST = 5.0, 1.5
LOGP_NORM_LOW, LOGP_NORM_HIGH = -2.1218, 6.0429

# Similarity-constrained penalized logP (MolDQN, Zhou et al. 2019).
MORGAN_RADIUS = 2
DEFAULT_DELTA = 0.4
CONSTRAINT_PENALTY = 100.0


class RewardError(ValueError):
    """A reward function raised or returned something that is not a finite number."""


# --- helpers -------------------------------------------------------------------------------------------------
_REMOVE_HS = Chem.RemoveHsParameters()
_REMOVE_HS.showWarnings = False


def _quiet(mol: Mol) -> Any:
    """Silence RDKit's log while scoring a molecule that has hydrogen atoms (RDKit warns about ``[H+]``,
    ``[H][H]``... each time QED or RemoveHs meets them); a no-op context for ordinary molecules."""
    return nullcontext() if mol.GetNumAtoms() == mol.GetNumHeavyAtoms() else rdBase.BlockLogs()


def _heavy(mol: Mol) -> Mol:
    """``mol`` without removable explicit hydrogens (a no-op, and no copy, when it has none)."""
    if mol is None:
        raise ValueError("expected an RDKit Mol, got None (an unparsable SMILES?)")
    if mol.GetNumAtoms() == mol.GetNumHeavyAtoms():
        return mol
    try:
        with rdBase.BlockLogs():
            return Chem.RemoveHs(mol, _REMOVE_HS, sanitize=True)
    except Exception:  # noqa: BLE001 - exotic hydrogens: score the molecule as given
        return mol


_SASCORER: Any = None


def _sascorer() -> Any:
    """RDKit Contrib ``sascorer``, imported once, with its fragment scores (fpscores.pkl.gz) loaded once."""
    global _SASCORER
    if _SASCORER is None:
        # lazy (both imports below): RDKit Contrib's sascorer is found at run time, in one of two places, and only the
        # SA-based scores need it
        try:
            from rdkit.Contrib.SA_Score import sascorer  # type: ignore[import-not-found]  # lazy: see above
        except ImportError:
            path = os.path.join(RDConfig.RDContribDir, "SA_Score")
            if path not in sys.path:
                sys.path.append(path)
            try:
                import sascorer  # type: ignore[import-not-found, no-redef]  # lazy: see above
            except ImportError as err:
                raise ImportError(
                    "SA score needs RDKit's Contrib sascorer (rdkit/Contrib/SA_Score/sascorer.py, shipped in the "
                    f"rdkit wheel); not found under {path!r}. Reinstall rdkit from PyPI (pip install rdkit)."
                ) from err
        if getattr(sascorer, "_fscores", None) is None:
            sascorer.readFragmentScores()
        _SASCORER = sascorer
    return _SASCORER


@lru_cache(maxsize=8)
def _morgan_generator(radius: int) -> Any:
    return rdFingerprintGenerator.GetMorganGenerator(radius=int(radius))


def _as_mol(mol_or_smiles: Mol | str, what: str) -> Mol:
    """A Mol from a Mol or a SMILES string; ValueError naming ``what`` for an unparsable SMILES."""
    if isinstance(mol_or_smiles, Chem.Mol):
        return mol_or_smiles
    if isinstance(mol_or_smiles, str):
        mol = Chem.MolFromSmiles(mol_or_smiles) if mol_or_smiles.strip() else None
        if mol is None:
            raise ValueError(f"{what}: invalid SMILES {mol_or_smiles!r}")
        return mol
    raise ValueError(f"{what}: expected a SMILES string or an RDKit Mol, got {type(mol_or_smiles).__name__}")


# --- single properties ---------------------------------------------------------------------------------------
def qed(mol: Mol) -> float:
    """Quantitative estimate of drug-likeness, RDKit ``Chem.QED.qed`` (0..1)."""
    mol = _heavy(mol)
    with _quiet(mol):
        return float(QED.qed(mol))


def logp(mol: Mol) -> float:
    """Wildman-Crippen logP (``Crippen.MolLogP``)."""
    return float(Crippen.MolLogP(_heavy(mol)))


def sa_score(mol: Mol) -> float:
    """Synthetic accessibility (RDKit Contrib ``sascorer``): 1 easy .. 10 hard; `SA_EMPTY` for no atoms."""
    mol = _heavy(mol)
    if mol.GetNumAtoms() == 0:
        return SA_EMPTY
    score = _sascorer().calculateScore(mol)
    return SA_EMPTY if score is None else float(score)


def _sa_norm_from(sa: float) -> float:
    return float(np.clip((sa - SA_NORM_WORST) / (SA_NORM_BEST - SA_NORM_WORST), 0.0, 1.0))


def _logp_norm_from(value: float) -> float:
    return float(np.clip((value - LOGP_NORM_LOW) / (LOGP_NORM_HIGH - LOGP_NORM_LOW), 0.0, 1.0))


def sa_norm(mol: Mol) -> float:
    """MolGAN's normalised SA: ``clip((SA - 5) / (1.5 - 5), 0, 1)``, 1 = easy to make."""
    return _sa_norm_from(sa_score(mol))


def logp_norm(mol: Mol) -> float:
    """MolGAN's normalised logP: ``clip((logP + 2.1218) / (6.0429 + 2.1218), 0, 1)``."""
    return _logp_norm_from(logp(mol))


def largest_ring_size(mol: Mol) -> int:
    """Size of the largest ring in ``mol.GetRingInfo().AtomRings()`` (SSSR); 0 without rings."""
    rings = mol.GetRingInfo().AtomRings()
    if not rings and mol.GetNumBonds() >= 3:
        # Ring info is silently empty on an unsanitized molecule: perceive rings rather than report none.
        rings = tuple(tuple(r) for r in Chem.GetSymmSSSR(mol))
    return max((len(r) for r in rings), default=0)


def _ring_penalty_from(largest: int) -> float:
    return float(max(largest - RING_PENALTY_FREE_SIZE, 0))


def ring_penalty(mol: Mol) -> float:
    """``max(largest ring size - 6, 0)``: the cycle term of penalized logP."""
    return _ring_penalty_from(largest_ring_size(mol))


def _plogp_from(lp: float, sa: float, pen: float) -> float:
    return lp - sa - pen


def _plogp_zinc_from(lp: float, sa: float, pen: float) -> float:
    return (
        (lp - ZINC_LOGP_MEAN) / ZINC_LOGP_STD
        + (-sa - ZINC_NEG_SA_MEAN) / ZINC_NEG_SA_STD
        + (-pen - ZINC_NEG_CYCLE_MEAN) / ZINC_NEG_CYCLE_STD
    )


def penalized_logp(mol: Mol) -> float:
    """Raw penalized logP (MolDQN): ``logP - SA - max(largest ring - 6, 0)``."""
    p = _Props(mol)
    return p.plogp


def penalized_logp_zinc(mol: Mol) -> float:
    """ZINC250k-normalised penalized logP (JT-VAE / GCPN): sum of the z-scores of logP, -SA and -cycle."""
    p = _Props(mol)
    return p.plogp_zinc


class _Props:
    """Lazily computed properties of one molecule: each computed at most once (SA especially)."""

    def __init__(self, mol: Mol) -> None:
        self.mol = _heavy(mol)

    @cached_property
    def qed(self) -> float:
        with _quiet(self.mol):
            return float(QED.qed(self.mol))

    @cached_property
    def logp(self) -> float:
        return float(Crippen.MolLogP(self.mol))

    @cached_property
    def sa(self) -> float:
        return sa_score(self.mol)

    @cached_property
    def sa_norm(self) -> float:
        return _sa_norm_from(self.sa)

    @cached_property
    def logp_norm(self) -> float:
        return _logp_norm_from(self.logp)

    @cached_property
    def largest_ring(self) -> int:
        return largest_ring_size(self.mol)

    @cached_property
    def ring_penalty(self) -> float:
        return _ring_penalty_from(self.largest_ring)

    @cached_property
    def plogp(self) -> float:
        return _plogp_from(self.logp, self.sa, self.ring_penalty)

    @cached_property
    def plogp_zinc(self) -> float:
        return _plogp_zinc_from(self.logp, self.sa, self.ring_penalty)


# --- similarity ----------------------------------------------------------------------------------------------
def morgan_count_fp(mol: Mol, radius: int = MORGAN_RADIUS) -> Any:
    """Morgan *count* fingerprint (``UIntSparseIntVect``) of radius ``radius`` via ``rdFingerprintGenerator``."""
    return _morgan_generator(radius).GetCountFingerprint(_heavy(mol))


def tanimoto_similarity(mol: Mol, target_fp: Any, radius: int = MORGAN_RADIUS) -> float:
    """Tanimoto similarity of ``mol``'s Morgan count fingerprint to ``target_fp`` (a fingerprint or a Mol).

    Two molecules without atoms (empty fingerprints) have similarity 0 (RDKit's convention).
    """
    if isinstance(target_fp, Chem.Mol):
        target_fp = morgan_count_fp(target_fp, radius)
    return float(DataStructs.TanimotoSimilarity(morgan_count_fp(mol, radius), target_fp))


class SimilarityReward:
    """Callable ``mol -> Tanimoto(Morgan count fp radius 2)`` to a fixed target (fingerprint computed once).

    Picklable (for subprocess vector envs): it pickles the target SMILES and rebuilds the fingerprint.
    """

    def __init__(self, target: Mol | str, radius: int = MORGAN_RADIUS) -> None:
        mol = _as_mol(target, "similarity target")
        self.radius = int(radius)
        self.target_smiles = Chem.MolToSmiles(mol)
        self.target_fp = morgan_count_fp(mol, self.radius)

    def __call__(self, mol: Mol) -> float:
        return tanimoto_similarity(mol, self.target_fp, self.radius)

    def __getstate__(self) -> dict[str, Any]:
        return {"target_smiles": self.target_smiles, "radius": self.radius}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["target_smiles"], state["radius"])  # type: ignore[misc]

    def __repr__(self) -> str:
        return f"SimilarityReward({self.target_smiles!r}, radius={self.radius})"


def _constrained(plogp_value: float, sim: float, delta: float, penalty: float = CONSTRAINT_PENALTY) -> float:
    return plogp_value if sim > delta else plogp_value + penalty * (sim - delta)


def constrained_plogp(mol: Mol, start_fp: Any, delta: float = DEFAULT_DELTA) -> float:
    """MolDQN's similarity-constrained penalized logP.

    ``sim`` = Tanimoto(Morgan count fp radius 2) of ``mol`` to ``start_fp`` (a fingerprint or a Mol);
    reward = ``plogp`` if ``sim > delta`` else ``plogp + 100 * (sim - delta)``.
    """
    return _constrained(penalized_logp(mol), tanimoto_similarity(mol, start_fp), float(delta))


class ConstrainedPenalizedLogP:
    """Callable similarity-constrained penalized logP (MolDQN) around a start molecule.

    ``reward(mol) = pLogP(mol)`` if ``sim > delta`` else ``pLogP(mol) + penalty * (sim - delta)``, with
    ``sim = Tanimoto(Morgan count fp radius 2)`` to the start. ``normalized=True`` uses the ZINC-normalised
    pLogP instead of the raw one. Also exposes :meth:`similarity` and :meth:`plogp`.
    """

    def __init__(
        self,
        start: Mol | str,
        delta: float = DEFAULT_DELTA,
        *,
        radius: int = MORGAN_RADIUS,
        penalty: float = CONSTRAINT_PENALTY,
        normalized: bool = False,
    ) -> None:
        delta = float(delta)
        if not math.isfinite(delta) or not 0.0 <= delta <= 1.0:
            raise ValueError(f"sim_plogp: delta must be a similarity threshold in [0, 1], got {delta!r}")
        self._sim = SimilarityReward(start, radius)
        self.start_smiles = self._sim.target_smiles
        self.delta = delta
        self.penalty = float(penalty)
        self.normalized = bool(normalized)

    def similarity(self, mol: Mol) -> float:
        return self._sim(mol)

    def plogp(self, mol: Mol) -> float:
        return penalized_logp_zinc(mol) if self.normalized else penalized_logp(mol)

    def __call__(self, mol: Mol) -> float:
        return _constrained(self.plogp(mol), self.similarity(mol), self.delta, self.penalty)

    def __repr__(self) -> str:
        return f"ConstrainedPenalizedLogP({self.start_smiles!r}, delta={self.delta})"


# --- multi-objective -----------------------------------------------------------------------------------------
# Names MultiObjective can weight, each read off a _Props (so SA / logP are computed once per molecule).
_PROP_TERMS = ("qed", "logp", "sa", "sa_norm", "logp_norm", "plogp", "plogp_zinc", "ring_penalty")


class MultiObjective:
    """Weighted sum of named objectives, e.g. ``MultiObjective({"qed": 0.7, "sa_norm": 0.3})``.

    Names: ``qed``, ``logp``, ``sa``, ``sa_norm``, ``logp_norm``, ``plogp``, ``plogp_zinc``, ``ring_penalty``,
    and ``similarity`` (needs ``target=``, a SMILES or Mol). Weights may be negative (e.g. ``{"sa": -1}``).
    :meth:`components` returns the unweighted terms, for logging.
    """

    def __init__(self, weights: Mapping[str, float], target: Mol | str | None = None) -> None:
        if not isinstance(weights, Mapping) or not weights:
            raise ValueError(
                f"multi: weights must be a non-empty dict of objective name -> weight; valid names: "
                f"{sorted(_PROP_TERMS + ('similarity',))}"
            )
        clean: dict[str, float] = {}
        for name, w in weights.items():
            if name not in _PROP_TERMS and name != "similarity":
                raise ValueError(
                    f"multi: unknown objective {name!r}; valid names: {sorted(_PROP_TERMS + ('similarity',))}"
                )
            try:
                w = float(w)
            except (TypeError, ValueError):
                raise ValueError(f"multi: weight of {name!r} must be a number, got {w!r}") from None
            if not math.isfinite(w):
                raise ValueError(f"multi: weight of {name!r} must be finite, got {w!r}")
            clean[name] = w
        if "similarity" in clean and target is None:
            raise ValueError("multi: the 'similarity' term needs target=SMILES (or an RDKit Mol)")
        self.weights = clean
        self._similarity = SimilarityReward(target) if target is not None else None

    def components(self, mol: Mol) -> dict[str, float]:
        props = _Props(mol)
        out: dict[str, float] = {}
        for name in self.weights:
            if name == "similarity":
                assert self._similarity is not None
                out[name] = self._similarity(props.mol)
            else:
                out[name] = float(getattr(props, name))
        return out

    def __call__(self, mol: Mol) -> float:
        comps = self.components(mol)
        return float(sum(self.weights[k] * v for k, v in comps.items()))

    def __repr__(self) -> str:
        tgt = f", target={self._similarity.target_smiles!r}" if self._similarity is not None else ""
        return f"MultiObjective({self.weights!r}{tgt})"


# --- user callables ------------------------------------------------------------------------------------------
def _callable_name(fn: Any) -> str:
    name = getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None)
    if name is None:
        name = type(fn).__qualname__
    module = getattr(fn, "__module__", None) or getattr(type(fn), "__module__", None)
    return f"{module}.{name}" if module and module != "builtins" else str(name)


def _safe_smiles(mol: Any) -> str:
    try:
        return Chem.MolToSmiles(mol)
    except Exception:  # noqa: BLE001 - only for an error message
        return "<unprintable molecule>"


class CheckedReward:
    """Wraps a user reward ``fn(mol) -> float``: a raise or a non-finite / non-scalar result becomes a
    :class:`RewardError` naming the callable and the molecule. Accepts Python / NumPy numbers and one-element
    arrays or tensors (anything with ``.item()``)."""

    def __init__(self, fn: Callable[[Mol], Any], name: str | None = None) -> None:
        if not callable(fn):
            raise TypeError(f"reward must be callable, got {type(fn).__name__}")
        self.fn = fn
        self.name = name or _callable_name(fn)

    def __call__(self, mol: Mol) -> float:
        try:
            value = self.fn(mol)
        except Exception as err:
            raise RewardError(
                f"reward callable {self.name!r} raised {type(err).__name__}: {err} (molecule {_safe_smiles(mol)!r})"
            ) from err
        try:
            if not isinstance(value, (int, float)) and callable(getattr(value, "item", None)):
                value = value.item()  # numpy scalar, 1-element array or tensor; raises for more elements
            result = float(value)
        except Exception as err:
            raise RewardError(
                f"reward callable {self.name!r} returned {type(value).__name__} {value!r}, not a float "
                f"(molecule {_safe_smiles(mol)!r})"
            ) from err
        if not math.isfinite(result):
            raise RewardError(
                f"reward callable {self.name!r} returned non-finite {result!r} (molecule {_safe_smiles(mol)!r})"
            )
        return result

    def __repr__(self) -> str:
        return f"CheckedReward({self.name})"


# --- registry ------------------------------------------------------------------------------------------------
OBJECTIVES: dict[str, RewardFn] = {
    "qed": qed,
    "logp": logp,
    "sa": sa_score,
    "sa_norm": sa_norm,
    "logp_norm": logp_norm,
    "plogp": penalized_logp,
    "plogp_zinc": penalized_logp_zinc,
}

# name -> (constructor, required kwargs, optional kwargs)
PARAMETRIC_OBJECTIVES: dict[str, tuple[Callable[..., RewardFn], tuple[str, ...], tuple[str, ...]]] = {
    "similarity": (lambda target, radius=MORGAN_RADIUS: SimilarityReward(target, radius), ("target",), ("radius",)),
    "sim_plogp": (
        lambda start, delta=DEFAULT_DELTA, **kw: ConstrainedPenalizedLogP(start, delta, **kw),
        ("start",),
        ("delta", "radius", "penalty", "normalized"),
    ),
    "multi": (lambda weights, target=None: MultiObjective(weights, target), ("weights",), ("target",)),
}


def _valid_names() -> list[str]:
    return sorted(OBJECTIVES) + sorted(PARAMETRIC_OBJECTIVES)


def make_objective(name_or_callable: str | Callable[[Mol], Any], **kwargs: Any) -> RewardFn:
    """A reward function ``mol -> float`` from a name or a callable.

    * ``"qed" | "logp" | "sa" | "sa_norm" | "logp_norm" | "plogp" | "plogp_zinc"``: no arguments.
    * ``"similarity"``: ``target=`` SMILES/Mol (``radius=`` optional).
    * ``"sim_plogp"``: ``start=`` SMILES/Mol, ``delta=`` (0.4), optional ``radius``, ``penalty``, ``normalized``.
    * ``"multi"``: ``weights=`` dict name -> weight, optional ``target=`` for a ``similarity`` term.
    * any callable ``reward_fn(mol)``: returned wrapped in :class:`CheckedReward` (``name=`` optional).

    Unknown names, missing or unexpected arguments and invalid SMILES raise ``ValueError`` listing the choices.
    """
    if callable(name_or_callable) and not isinstance(name_or_callable, str):
        unexpected = set(kwargs) - {"name"}
        if unexpected:
            raise ValueError(f"a reward callable takes no objective arguments; got {sorted(unexpected)}")
        if isinstance(name_or_callable, CheckedReward):
            return name_or_callable
        return CheckedReward(name_or_callable, kwargs.get("name"))
    if not isinstance(name_or_callable, str):
        raise ValueError(
            f"objective must be a name or a callable reward_fn(mol) -> float, got "
            f"{type(name_or_callable).__name__}; valid names: {_valid_names()}"
        )
    name = name_or_callable.strip().lower()
    if name in OBJECTIVES:
        if kwargs:
            raise ValueError(f"objective {name!r} takes no arguments; got {sorted(kwargs)}")
        return OBJECTIVES[name]
    if name in PARAMETRIC_OBJECTIVES:
        ctor, required, optional = PARAMETRIC_OBJECTIVES[name]
        missing = [k for k in required if kwargs.get(k) is None]
        if missing:
            raise ValueError(
                f"objective {name!r} needs {', '.join(f'{k}=' for k in missing)} "
                f"(required: {list(required)}, optional: {list(optional)})"
            )
        unexpected = sorted(set(kwargs) - set(required) - set(optional))
        if unexpected:
            raise ValueError(
                f"objective {name!r} got unexpected arguments {unexpected} "
                f"(required: {list(required)}, optional: {list(optional)})"
            )
        return ctor(**kwargs)
    raise ValueError(f"unknown objective {name_or_callable!r}; valid choices: {_valid_names()} or a callable")


# --- table ---------------------------------------------------------------------------------------------------
def property_table(mol: Mol) -> dict[str, float]:
    """Every property of ``mol`` at once (SA computed once), for CSV output and rendering.

    Keys: ``qed``, ``logp``, ``sa``, ``plogp``, ``plogp_zinc``, ``largest_ring`` (int), ``num_atoms`` (int,
    atoms after removing explicit hydrogens, i.e. heavy atoms for an ordinary molecule).
    """
    p = _Props(mol)
    return {
        "qed": p.qed,
        "logp": p.logp,
        "sa": p.sa,
        "plogp": p.plogp,
        "plogp_zinc": p.plogp_zinc,
        "largest_ring": p.largest_ring,
        "num_atoms": p.mol.GetNumAtoms(),
    }
