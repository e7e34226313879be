"""Evaluating molecule-design agents: seeded episodes, top molecules, validity and uniqueness, and MolDQN's
constrained-optimisation protocol.

Constrained optimisation (similarity δ): for each start molecule the agent runs ``episodes_per_start`` episodes from
it (the first greedy, the rest ε-greedy with a small ε, all seeded); among every molecule visited whose Tanimoto
similarity (Morgan counts, radius 2) to the start is at least δ, the one with the highest penalized logP counts.
Improvement = its pLogP − the start's pLogP (0 when only the start itself qualifies); a start is a *success* when
a different molecule with similarity ≥ δ and a higher pLogP was found. MolDQN and GCPN report the mean ± std
improvement and the success rate over 800 start molecules.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
from rdkit import Chem

from deep_arena.envs.molecule import rewards
from deep_arena.runtime import progress


@dataclass
class EpisodeRecord:
    start: str
    visited: list[str] = field(default_factory=list)   # SMILES after each step (start first)
    final: str = ""
    score: float = 0.0


def run_episodes(env, act: Callable[[Any, Any], int], starts: list[str | None], episodes_per_start: int,
                 epsilon: float = 0.0, seed: int = 0, progress_bar: bool = False) -> list[EpisodeRecord]:
    """Episodes of ``act(env, obs) -> action`` from each start (None = the env's own start). The first episode of
    each start is greedy; the others take a random valid edit with probability ``epsilon`` at each step."""
    rng = np.random.default_rng(seed)
    records = []
    stop = env.unwrapped.codec.stop
    total = len(starts) * episodes_per_start
    with progress(total=total, desc="episodes", unit="ep", disable=not progress_bar) as bar:
        for s_index, start in enumerate(starts):
            for k in range(episodes_per_start):
                options = {"smiles": start} if start else None
                obs, info = env.reset(seed=seed + s_index * episodes_per_start + k, options=options)
                record = EpisodeRecord(start=info["smiles"], visited=[info["smiles"]])
                done = False
                while not done:
                    if k > 0 and rng.random() < epsilon:
                        mask = env.unwrapped.action_masks()
                        mask[stop] = False
                        legal = np.flatnonzero(mask)
                        action = int(rng.choice(legal)) if legal.size else stop
                    else:
                        action = act(env, obs)
                    obs, _, terminated, truncated, info = env.step(action)
                    record.visited.append(info["smiles"])
                    done = terminated or truncated
                record.final, record.score = info["smiles"], float(info["score"])
                records.append(record)
                bar.update(1)
    return records


def summarize(records: list[EpisodeRecord], top_k: int = 10) -> dict[str, Any]:
    """Top-k distinct final molecules, validity (every final SMILES parses) and uniqueness of final molecules."""
    finals = [r.final for r in records]
    valid = [Chem.MolFromSmiles(s) is not None for s in finals]
    best: dict[str, float] = {}
    for r in records:
        best[r.final] = max(best.get(r.final, -np.inf), r.score)
    top = sorted(((v, s) for s, v in best.items()), reverse=True)[:top_k]
    return {"episodes": len(records), "validity": float(np.mean(valid)) if valid else 0.0,
            "uniqueness": len(set(finals)) / max(len(finals), 1), "top": top,
            "mean_score": float(np.mean([r.score for r in records])) if records else float("nan")}


def constrained_improvement(records: list[EpisodeRecord], delta: float) -> dict[str, Any]:
    """MolDQN's constrained-optimisation figures from episodes grouped by start molecule."""
    by_start: dict[str, list[EpisodeRecord]] = {}
    for r in records:
        by_start.setdefault(r.start, []).append(r)
    rows = []
    for start, recs in by_start.items():
        reward = rewards.ConstrainedPenalizedLogP(start, delta=delta)
        start_mol = Chem.MolFromSmiles(start)
        start_plogp = rewards.penalized_logp(start_mol)
        best_plogp, best_smiles, best_sim = start_plogp, start, 1.0
        for smiles in {s for r in recs for s in r.visited}:
            mol = Chem.MolFromSmiles(smiles)
            sim = reward.similarity(mol)
            if sim >= delta:
                value = rewards.penalized_logp(mol)
                if value > best_plogp:
                    best_plogp, best_smiles, best_sim = value, smiles, sim
        rows.append({"start": start, "start_plogp": start_plogp, "best": best_smiles, "best_plogp": best_plogp,
                     "similarity": best_sim, "improvement": best_plogp - start_plogp,
                     "success": best_smiles != start})
    improvements = np.array([r["improvement"] for r in rows])
    return {"delta": delta, "starts": len(rows), "mean_improvement": float(improvements.mean()),
            "std_improvement": float(improvements.std()), "success_rate": float(np.mean([r["success"] for r in rows])),
            "mean_similarity": float(np.mean([r["similarity"] for r in rows])), "rows": rows}


def read_smiles_file(path) -> list[str]:
    """SMILES from a file: the first column of each line; blank lines, ``#`` comments and a ``smiles`` header
    are skipped."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"SMILES file {str(path)!r} does not exist")
    out = [line.split()[0].split(",")[0] for line in path.read_text().splitlines()
           if line.strip() and not line.lstrip().startswith("#")]
    out = [s for s in out if s.lower() != "smiles"]
    if not out:
        raise ValueError(f"SMILES file {str(path)!r} holds no SMILES")
    return out
