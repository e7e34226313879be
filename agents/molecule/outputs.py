"""Outputs shared by the molecule-design trainers (MolDQN, MaskablePPO): the best distinct molecules seen, and
``top_molecules.csv`` / ``top_molecules.png`` in a run directory.

CSV columns: ``rank``, ``smiles``, ``objective`` (the training objective's value), then every property of
:func:`envs.molecule.rewards.property_table` (``qed``, ``logp``, ``sa``, ``plogp``, ``plogp_zinc``,
``largest_ring``, ``num_atoms``). The PNG is a grid of the same molecules with the objective as legend.
"""

from __future__ import annotations

import csv
import heapq
import os
from pathlib import Path
from typing import Any, Sequence

import numpy as np
from PIL import Image
from rdkit import Chem

from deep_arena.envs.molecule import rewards
from deep_arena.envs.molecule.render import molecule_grid

__all__ = ["TopMolecules", "top_molecule_rows", "write_top_molecules", "TOP_CSV", "TOP_PNG"]

TOP_CSV = "top_molecules.csv"
TOP_PNG = "top_molecules.png"


class TopMolecules:
    """The best distinct molecules seen at episode ends (SMILES -> score); the first score of a SMILES is kept.
    Each may carry a ``payload`` (e.g. how the episode that made it can be replayed), kept while it stays in."""

    def __init__(self, k: int):
        self.k = k
        self.heap: list[tuple[float, str]] = []
        self.payloads: dict[str, Any] = {}   # one entry per member

    def add(self, smiles: str, score: float, payload: Any = None) -> None:
        if smiles in self.payloads:
            return
        if len(self.heap) < self.k:
            heapq.heappush(self.heap, (score, smiles))
        elif score > self.heap[0][0]:
            _, old = heapq.heapreplace(self.heap, (score, smiles))
            del self.payloads[old]
        else:
            return
        self.payloads[smiles] = payload

    def best(self) -> list[tuple[float, str]]:
        """``(score, smiles)`` pairs, best first."""
        return sorted(self.heap, reverse=True)

    def payload(self, smiles: str) -> Any:
        return self.payloads[smiles]

    def __len__(self) -> int:
        return len(self.heap)


def top_molecule_rows(top: Sequence[tuple[float, str]]) -> list[dict[str, Any]]:
    """One CSV row per ``(score, smiles)``, in the given order: rank, smiles, objective and every property."""
    rows = []
    for score, smiles in top:
        mol = Chem.MolFromSmiles(smiles)
        if mol is None:  # not expected (every env state is valid), but never lose the row
            raise ValueError(f"top molecule {smiles!r} is not a valid SMILES")
        rows.append({"rank": len(rows) + 1, "smiles": smiles, "objective": float(score),
                     **rewards.property_table(mol)})
    return rows


def write_top_molecules(out_dir: str | os.PathLike[str], top: Sequence[tuple[float, str]]) -> np.ndarray | None:
    """Write ``top_molecules.csv`` and ``top_molecules.png`` for ``top`` (``(score, smiles)``, best first) into
    ``out_dir``. Returns the grid image (``(H, W, 3)`` uint8, for ``add_image(..., dataformats="HWC")``), or None when
    ``top`` is empty or the drawing failed (a warning is printed: a drawing problem must not end a training run)."""
    if not top:
        return None
    out = Path(out_dir)
    rows = top_molecule_rows(top)
    with open(out / TOP_CSV, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    try:
        grid = molecule_grid([r["smiles"] for r in rows], [f"{r['objective']:.3f}" for r in rows])
        Image.fromarray(grid).save(out / TOP_PNG, format="PNG")
        return grid
    except Exception as exc:  # noqa: BLE001
        print(f"warning: could not draw the top molecules: {exc}")
        return None
