"""An oracle with PMO's accounting, its call log and PMO's metrics (pure chemistry: RDKit and NumPy).

:class:`Oracle` wraps any ``score_fn(smiles) -> float`` (a PMO task from :mod:`envs.molecule.pmo`, or a user's own
oracle) and counts calls as PMO does (``mol_opt``'s ``Oracle``):

* a SMILES is parsed and canonicalised; **each distinct canonical molecule costs one call**, and ``score_fn`` sees
  the canonical SMILES;
* a molecule scored before is served from the cache and **not counted**;
* an **invalid SMILES** (RDKit cannot parse it, or it is empty) scores 0.0 and is **not counted** (as in PMO); the
  oracle keeps the number of invalid requests in ``invalid``;
* once ``budget`` calls are made, asking for a new molecule raises :class:`BudgetExhausted`, which every optimiser
  catches to stop (cached molecules are still served);
* every call is logged in order in :class:`CallLog` (call number from 1, canonical SMILES, score).

Metrics (:meth:`CallLog.summary`): AUC top-1 / top-10 / top-100 exactly as PMO computes them (the mean of the best
k scores among the first n calls, at n = 100, 200, ... and at the last call, joined by trapezoids from (0, 0); a run
that stopped before the budget is extended with its last value; divided by the budget), the top-1 / top-10 /
top-100 means, the internal diversity of the top 100 (TDC's: 1 − mean pairwise Tanimoto of Morgan r2 2,048-bit
fingerprints) and the mean SA score of the top 100 (RDKit Contrib ``sascorer``).
"""

from __future__ import annotations

import csv
import heapq
import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Sequence

import numpy as np
from rdkit import Chem, rdBase

from deep_arena.envs.molecule.pmo import diversity, get_task
from deep_arena.envs.molecule.rewards import sa_score

__all__ = ["BudgetExhausted", "CallLog", "Oracle", "auc_top_k", "canonical", "top_k_curve", "LOG_EVERY",
           "PATIENCE_MIN_CALLS"]

LOG_EVERY = 100   # PMO logs the top-k means every 100 calls
PATIENCE_MIN_CALLS = 1000   # PMO's optimisers test for convergence only once more than 1,000 calls are made


class BudgetExhausted(RuntimeError):
    """The oracle's budget of distinct molecules is spent."""


def canonical(smiles: str) -> str | None:
    """RDKit's canonical SMILES of ``smiles``, or None when it does not parse (RDKit's log kept quiet)."""
    if not isinstance(smiles, str) or not smiles:
        return None
    with rdBase.BlockLogs():
        mol = Chem.MolFromSmiles(smiles)
        return None if mol is None else Chem.MolToSmiles(mol)


def _top_mean(sorted_desc: np.ndarray, k: int) -> float:
    return float(np.mean(sorted_desc[:k])) if len(sorted_desc) else 0.0


def top_k_curve(scores: Sequence[float], k: int, every: int = LOG_EVERY) -> tuple[np.ndarray, np.ndarray]:
    """``(calls, top-k mean)`` at every ``every`` calls and at the last call (the mean over fewer than ``k``
    molecules while fewer have been scored, as PMO's)."""
    scores = np.asarray(scores, dtype=np.float64)
    n = len(scores)
    points = list(range(every, n, every)) + ([n] if n else [])
    values = [_top_mean(-np.sort(-scores[:p]), k) for p in points]
    return np.asarray(points, dtype=np.int64), np.asarray(values)


def auc_top_k(scores: Sequence[float], k: int, budget: int, every: int = LOG_EVERY) -> float:
    """PMO's ``top_auc`` (finish=True) of the scores in call order: trapezoids from (0, 0) through the top-k mean at
    every ``every`` calls and at the last call, a short run extended with its last value to ``budget``, divided by
    ``budget``. Calls beyond the budget are ignored."""
    if budget < 1:
        raise ValueError(f"budget must be a positive number of calls, got {budget}")
    scores = list(scores)[:budget]
    if not scores:
        return 0.0
    calls, values = top_k_curve(scores, k, every)
    total, prev_call, prev_value = 0.0, 0, 0.0
    for c, v in zip(calls.tolist(), values.tolist()):
        total += (c - prev_call) * (v + prev_value) / 2.0
        prev_call, prev_value = c, v
    total += (budget - prev_call) * prev_value
    return total / budget


@dataclass
class CallLog:
    """Every oracle call in order: ``smiles[i]`` and ``scores[i]`` are call ``i + 1``."""

    budget: int
    smiles: list[str] = field(default_factory=list)
    scores: list[float] = field(default_factory=list)
    invalid: int = 0
    requests: int = 0
    seconds: float = 0.0       # wall time of the run that made the calls (set by the optimiser)
    cpu_seconds: float = 0.0   # its CPU time
    stop_reason: str | None = None   # why it ended before the budget: "time", "patience" (set by the optimiser)

    def __len__(self) -> int:
        return len(self.smiles)

    def append(self, smiles: str, score: float) -> None:
        self.smiles.append(smiles)
        self.scores.append(float(score))

    def best(self, k: int = 10) -> list[tuple[float, str]]:
        """The ``k`` best ``(score, smiles)``, best first (ties: the earlier call first)."""
        order = sorted(range(len(self.scores)), key=lambda i: (-self.scores[i], i))[:k]
        return [(self.scores[i], self.smiles[i]) for i in order]

    def top_mean(self, k: int) -> float:
        return _top_mean(-np.sort(-np.asarray(self.scores, dtype=np.float64)), k)

    def auc(self, k: int) -> float:
        return auc_top_k(self.scores, k, self.budget)

    def summary(self, sa: bool = True) -> dict[str, float | int]:
        """PMO's numbers for this log (see the module docstring); ``sa=False`` skips the SA score."""
        top100 = [s for _, s in self.best(100)]
        out: dict[str, float | int] = {
            "calls": len(self), "budget": self.budget, "complete": len(self) >= self.budget,
            "stop_reason": self.stop_reason,
            "invalid_requests": self.invalid, "requests": self.requests,
            "auc_top1": self.auc(1), "auc_top10": self.auc(10), "auc_top100": self.auc(100),
            "top1": self.top_mean(1), "top10_mean": self.top_mean(10), "top100_mean": self.top_mean(100),
            "diversity_top100": diversity(top100),
        }
        if sa:
            mols = [Chem.MolFromSmiles(s) for s in top100]
            out["sa_top100"] = float(np.mean([sa_score(m) for m in mols])) if mols else math.nan
        return out

    def write_csv(self, path: str | os.PathLike[str]) -> Path:
        """``call,smiles,score`` rows in call order."""
        path = Path(path)
        with path.open("w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(["call", "smiles", "score"])
            for i, (s, v) in enumerate(zip(self.smiles, self.scores), 1):
                w.writerow([i, s, repr(float(v))])
        return path

    @classmethod
    def read_csv(cls, path: str | os.PathLike[str], budget: int) -> CallLog:
        log = cls(budget)
        with Path(path).open(newline="", encoding="utf-8") as f:
            for row in csv.DictReader(f):
                log.append(row["smiles"], float(row["score"]))
        return log


class Oracle:
    """Scores SMILES under PMO's accounting (module docstring). ``score_fn`` is a PMO task name or a callable
    ``score_fn(canonical_smiles) -> float``; ``on_log(calls, log)`` is called every ``log_every`` calls (live
    curves)."""

    def __init__(self, score_fn: str | Callable[[str], float], budget: int = 10_000,
                 on_log: Callable[[int, CallLog], None] | None = None, log_every: int = LOG_EVERY,
                 seconds: float | None = None, patience: int | None = None,
                 patience_min_calls: int = PATIENCE_MIN_CALLS) -> None:
        """``seconds``: a wall-clock limit as well; past it the next new molecule raises BudgetExhausted (the run
        ends early, and its AUC is extended with its last value, as PMO does for a run that stops early).

        ``patience``: PMO's early stop for an optimiser that has converged: once ``patience`` requests in a row
        (cache hits included) have not changed the top 100, the next request raises BudgetExhausted. Without it an
        agent that only revisits known molecules (MolDQN once its epsilon is low) would never spend the budget.
        ``patience_min_calls``: the rule applies only from this many calls on, and its count starts there (PMO's
        optimisers test for convergence once more than 1,000 calls are made), so a task that scores every early
        molecule 0 is not stopped before its optimiser has had those calls to find a first hit."""
        if not isinstance(budget, (int, np.integer)) or isinstance(budget, bool) or budget < 1:
            raise ValueError(f"budget must be a positive integer number of oracle calls, got {budget!r}")
        if patience is not None and (not isinstance(patience, (int, np.integer)) or isinstance(patience, bool)
                                     or patience < 1):
            raise ValueError(f"patience must be a positive integer number of requests or None, got {patience!r}")
        if (not isinstance(patience_min_calls, (int, np.integer)) or isinstance(patience_min_calls, bool)
                or patience_min_calls < 0):
            raise ValueError(f"patience_min_calls must be an integer number of calls >= 0, got {patience_min_calls!r}")
        if isinstance(score_fn, str):
            self.name = score_fn
            score_fn = get_task(score_fn).score_smiles
        elif callable(score_fn):
            self.name = getattr(score_fn, "__name__", type(score_fn).__name__)
        else:
            raise TypeError(f"score_fn must be a PMO task name or a callable smiles -> float, got "
                            f"{type(score_fn).__name__}")
        self.score_fn = score_fn
        self.budget = int(budget)
        self.log = CallLog(self.budget)
        self.cache: dict[str, float] = {}
        self.on_log = on_log
        self.log_every = int(log_every)
        self.deadline = None if seconds is None else time.monotonic() + float(seconds)
        self.timed_out = False
        self.patience = None if patience is None else int(patience)
        self.patience_min_calls = int(patience_min_calls)
        self.stalled = False
        self._top100: list[float] = []          # a min-heap of the 100 best scores so far
        self._last_top100_change = 0            # the request that last changed it

    @property
    def calls(self) -> int:
        return len(self.log)

    @property
    def finished(self) -> bool:
        return self.calls >= self.budget or self.timed_out or self.stalled

    @property
    def stop_reason(self) -> str | None:
        """Why the run ended before its budget (``"time"``, ``"patience"``), or None."""
        return "time" if self.timed_out else "patience" if self.stalled else None

    def __call__(self, smiles: str) -> float:
        """The score of one SMILES (0.0 if invalid); BudgetExhausted for a new molecule once the budget is spent."""
        self.log.requests += 1
        if (self.patience is not None and self.calls >= self.patience_min_calls
                and self.log.requests - self._last_top100_change > self.patience):
            self.stalled = True
            raise BudgetExhausted(f"the top 100 has not changed in {self.patience} requests (patience); stopped "
                                  f"after {self.calls} oracle calls")
        key = canonical(smiles)
        if key is None:
            self.log.invalid += 1
            return 0.0
        if key in self.cache:
            return self.cache[key]
        if self.finished:
            raise BudgetExhausted(f"the oracle budget of {self.budget} calls is spent")
        if self.deadline is not None and time.monotonic() > self.deadline:
            self.timed_out = True
            raise BudgetExhausted(f"the time limit is reached after {self.calls} oracle calls")
        value = self.score_fn(key)
        try:
            value = float(value)
        except (TypeError, ValueError):
            raise ValueError(f"score_fn {self.name!r} returned {value!r} for {key!r}, not a number") from None
        if not math.isfinite(value):
            raise ValueError(f"score_fn {self.name!r} returned {value} for {key!r}")
        self.cache[key] = value
        self.log.append(key, value)
        if self.calls == self.patience_min_calls:   # the patience count starts here at the earliest
            self._last_top100_change = self.log.requests
        if len(self._top100) < 100:
            heapq.heappush(self._top100, value)
            self._last_top100_change = self.log.requests
        elif value > self._top100[0]:
            heapq.heapreplace(self._top100, value)
            self._last_top100_change = self.log.requests
        if self.on_log is not None and self.calls % self.log_every == 0:
            self.on_log(self.calls, self.log)
        return value

    def score_many(self, smiles: Iterable[str]) -> np.ndarray:
        """Scores in order; stops with BudgetExhausted at the first new molecule past the budget (the molecules
        before it are logged)."""
        return np.asarray([self(s) for s in smiles], dtype=np.float64)

    def mol_reward(self) -> Callable[[Chem.Mol], float]:
        """A ``reward_fn(mol) -> float`` for ``arena/MoleculeDesign-v0`` that scores through this oracle."""
        return _MolReward(self)


class _MolReward:
    def __init__(self, oracle: Oracle) -> None:
        self.oracle = oracle
        self.__name__ = f"oracle:{oracle.name}"

    def __call__(self, mol: Chem.Mol) -> float:
        return self.oracle(Chem.MolToSmiles(mol))
