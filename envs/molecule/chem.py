"""Editable molecules for molecule design: valence arithmetic, the edit-action codec and RDKit conversion.

Pure chemistry (RDKit, NumPy, numba): no Gymnasium, pygame or RL imports.

A molecule is held as a Kekulé graph: element indices and a symmetric matrix of bond orders 0..3 over at most
``max_atoms`` atoms, all neutral, with hydrogens implicit. RDKit only sees it when a `Chem.Mol` is asked for (SMILES,
fingerprints, properties). Which edits are allowed is decided by arithmetic on that graph, not by building and
sanitizing each candidate:

* An atom's *explicit valence* is the sum of its bond orders. RDKit gives a neutral atom as many implicit hydrogens
  as it takes to reach the smallest valence in RDKit's list for that element that is >= the explicit valence
  (S: 2, 4, 6), so the atom's total valence is that number, and the atom is valid exactly when that total is in the
  element's allowed list (`EditRules.valences`). `EditRules.valid_explicit[e, v]` tabulates this once.
* A new bond between atoms i and j closes a ring of size ``dist(i, j) + 1`` (shortest path in the current graph);
  it is allowed only for the sizes in ``ring_sizes``.
* Removing a bond keeps the molecule connected when the bond lies on a ring; a bridge may only be removed when one
  side is a single atom, which is then dropped (for a two-atom molecule the higher-indexed atom goes).

Aromaticity: a start molecule given as aromatic SMILES is kekulized (RDKit's Kekulé form) and its bonds become
ordinary single and double bonds. Edits act on those Kekulé orders: raising a ring single bond to double, or
lowering a ring double bond, is an ordinary edit, and may turn an aromatic ring into a non-aromatic one (or make a
new ring aromatic). RDKit re-perceives aromaticity whenever a `Chem.Mol` is built, so SMILES, fingerprints and
properties always see the aromatic form.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Iterable, Mapping

import numpy as np
from numba import njit
from rdkit import Chem, rdBase

BOND_TYPES = {1: Chem.BondType.SINGLE, 2: Chem.BondType.DOUBLE, 3: Chem.BondType.TRIPLE}
BOND_ORDERS = (1, 2, 3)

DEFAULT_ATOM_TYPES = ("C", "N", "O", "F", "S", "Cl")
# Allowed total valences of neutral atoms. Elements beyond the addable ones may appear in start molecules.
DEFAULT_VALENCES: dict[str, tuple[int, ...]] = {
    "C": (4,), "N": (3,), "O": (2,), "F": (1,), "S": (2,), "Cl": (1,), "Br": (1,), "I": (1,), "P": (3,),
}
DEFAULT_RING_SIZES = (5, 6)
DEFAULT_MAX_ATOMS = 38
MAX_EXPLICIT = 16  # columns of the valence table; explicit valences never get near it (max allowed + 3)

_PERIODIC_TABLE = Chem.GetPeriodicTable()


class MoleculeError(ValueError):
    """A molecule that cannot be held: bad SMILES, charged atoms, an element or valence the rules do not allow."""


class IllegalEditError(ValueError):
    """An edit the current molecule does not allow. ``reason`` says which rule it breaks."""

    def __init__(self, message: str, action: int, reason: str):
        super().__init__(message)
        self.action = action
        self.reason = reason


def _rdkit_valences(symbol: str) -> tuple[int, ...]:
    return tuple(sorted(v for v in _PERIODIC_TABLE.GetValenceList(symbol) if v >= 0))


@dataclass(frozen=True)
class EditRules:
    """What the editor may do. Validated on construction (ValueError naming the problem).

    Args:
        atom_types: elements that "add atom" actions may add.
        valences: allowed total valences per element, merged over `DEFAULT_VALENCES` (e.g. ``{"S": (2, 4, 6)}``).
            Every value must be one RDKit accepts for the neutral element.
        ring_sizes: ring sizes a new bond between two existing atoms may close.
        max_atoms: heavy-atom cap; "add atom" actions are masked at the cap.
    """

    atom_types: tuple[str, ...] = DEFAULT_ATOM_TYPES
    valences: Mapping[str, tuple[int, ...]] = field(default_factory=dict)
    ring_sizes: tuple[int, ...] = DEFAULT_RING_SIZES
    max_atoms: int = DEFAULT_MAX_ATOMS

    def __post_init__(self) -> None:
        atom_types = tuple(self.atom_types)
        if not atom_types:
            raise ValueError("atom_types must name at least one element")
        if len(set(atom_types)) != len(atom_types):
            raise ValueError(f"atom_types has duplicates: {atom_types}")
        merged = dict(DEFAULT_VALENCES)
        for symbol, vals in dict(self.valences).items():
            vals = (vals,) if isinstance(vals, (int, np.integer)) else tuple(vals)
            merged[str(symbol)] = tuple(sorted({int(v) for v in vals}))
        for symbol, vals in merged.items():
            if not _is_element(symbol):
                raise ValueError(f"unknown element {symbol!r} in valences")
            if not vals:
                raise ValueError(f"valences[{symbol!r}] is empty")
            allowed = _rdkit_valences(symbol)
            bad = [v for v in vals if v not in allowed or v < 1]
            if bad:
                raise ValueError(f"RDKit does not accept valence {bad} for neutral {symbol}; it allows {list(allowed)}")
        for symbol in atom_types:
            if symbol not in merged:
                raise ValueError(f"atom type {symbol!r} has no valences; give valences={{{symbol!r}: (...)}}")
            if max(vals) > MAX_EXPLICIT - 4:
                raise ValueError(f"valence {max(vals)} for {symbol} is above the supported {MAX_EXPLICIT - 4}")
        ring_sizes = tuple(sorted({int(r) for r in self.ring_sizes}))
        if any(r < 3 for r in ring_sizes):
            raise ValueError(f"ring sizes must be >= 3, got {ring_sizes}")
        if not (2 <= int(self.max_atoms) <= 200):
            raise ValueError(f"max_atoms must be between 2 and 200, got {self.max_atoms}")
        object.__setattr__(self, "atom_types", atom_types)
        object.__setattr__(self, "valences", merged)
        object.__setattr__(self, "ring_sizes", ring_sizes)
        object.__setattr__(self, "max_atoms", int(self.max_atoms))

    @cached_property
    def symbols(self) -> tuple[str, ...]:
        """Element symbols by element index: the addable types first, then the other known elements."""
        return self.atom_types + tuple(s for s in self.valences if s not in self.atom_types)

    @cached_property
    def element_index(self) -> dict[str, int]:
        return {s: i for i, s in enumerate(self.symbols)}

    @cached_property
    def atomic_numbers(self) -> np.ndarray:
        return np.array([_PERIODIC_TABLE.GetAtomicNumber(s) for s in self.symbols], dtype=np.int64)

    @cached_property
    def valid_explicit(self) -> np.ndarray:
        """``valid_explicit[e, v]``: a neutral atom of element e with explicit valence v is valid."""
        table = np.zeros((len(self.symbols), MAX_EXPLICIT), dtype=np.bool_)
        for e, symbol in enumerate(self.symbols):
            rd = _rdkit_valences(symbol)
            for v in range(MAX_EXPLICIT):
                total = next((x for x in rd if x >= v), None)
                table[e, v] = total is not None and total in self.valences[symbol]
        return table

    @cached_property
    def max_ring(self) -> int:
        return max(self.ring_sizes) if self.ring_sizes else 0

    @cached_property
    def ring_size_ok(self) -> np.ndarray:
        """``ring_size_ok[d]``: a new bond between atoms at distance d closes an allowed ring (size d + 1)."""
        ok = np.zeros(self.max_atoms + 2, dtype=np.bool_)
        for r in self.ring_sizes:
            if r - 1 < ok.size:
                ok[r - 1] = True
        return ok


def _is_element(symbol: str) -> bool:
    try:
        return _PERIODIC_TABLE.GetAtomicNumber(symbol) > 0
    except RuntimeError:
        return False


# ---------------------------------------------------------------------------------------------------------------
# Action codec


class ActionCodec:
    """The fixed, flat action space of an `EditRules`.

    | range                       | action                                                              |
    |-----------------------------|---------------------------------------------------------------------|
    | ``[0, n_add)``              | add atom: ``((i * T) + t) * 3 + (order - 1)``: new atom of type t bonded to atom i |
    | ``[n_add, n_add + 4 P)``    | set bond: ``n_add + p * 4 + k``: set the bond of pair p = (i < j) to order k (0 removes) |
    | ``n_add + 4 P``             | stop                                                                |

    with ``M = max_atoms``, ``T = len(atom_types)``, ``n_add = 3 M T`` and ``P = M (M - 1) / 2`` pairs in row-major
    upper-triangle order. "Set bond" covers bonding two unbonded atoms (k = 1..3), raising and lowering an existing
    bond (k != current) and removing it (k = 0).
    """

    def __init__(self, rules: EditRules):
        self.rules = rules
        m, t = rules.max_atoms, len(rules.atom_types)
        self.n_types = t
        self.n_add = 3 * m * t
        self.pair_i, self.pair_j = (a.astype(np.int64) for a in np.triu_indices(m, 1))
        self.n_pairs = self.pair_i.size
        self.pair_index = np.full((m, m), -1, dtype=np.int64)
        self.pair_index[self.pair_i, self.pair_j] = np.arange(self.n_pairs)
        self.pair_index[self.pair_j, self.pair_i] = np.arange(self.n_pairs)
        self.stop = self.n_add + 4 * self.n_pairs
        self.n_actions = self.stop + 1
        # Pairs among the first n atoms, for every n: the only pairs a molecule of n atoms can use.
        self._pairs_below = [np.flatnonzero(self.pair_j < n) for n in range(m + 1)]

    def pairs_below(self, n: int) -> np.ndarray:
        return self._pairs_below[n]

    def add_action(self, atom: int, atom_type: int, order: int) -> int:
        return (atom * self.n_types + atom_type) * 3 + (order - 1)

    def bond_action(self, i: int, j: int, order: int) -> int:
        if i == j:
            raise ValueError("a bond needs two different atoms")
        return self.n_add + int(self.pair_index[i, j]) * 4 + order

    def decode(self, action: int) -> tuple:
        """``("add", atom, type_index, order)``, ``("bond", i, j, order)`` or ``("stop",)``."""
        if not 0 <= action < self.n_actions:
            raise ValueError(f"action {action} is outside Discrete({self.n_actions})")
        if action < self.n_add:
            rest, order = divmod(action, 3)
            atom, t = divmod(rest, self.n_types)
            return ("add", atom, t, order + 1)
        if action < self.stop:
            p, k = divmod(action - self.n_add, 4)
            return ("bond", int(self.pair_i[p]), int(self.pair_j[p]), k)
        return ("stop",)

    def describe(self, action: int) -> str:
        kind = self.decode(action)
        names = {0: "no", 1: "a single", 2: "a double", 3: "a triple"}
        if kind[0] == "add":
            return f"add {self.rules.atom_types[kind[2]]} to atom {kind[1]} with {names[kind[3]]} bond"
        if kind[0] == "bond":
            if kind[3] == 0:
                return f"remove the bond between atoms {kind[1]} and {kind[2]}"
            return f"set the bond between atoms {kind[1]} and {kind[2]} to {names[kind[3]]} bond"
        return "stop"


# ---------------------------------------------------------------------------------------------------------------
# Graph arithmetic (numba: shortest paths up to the largest ring size, and which bonds lie on rings)


@njit(cache=True)
def _bfs_dist(order: np.ndarray, n: int, src: int, skip_i: int, skip_j: int, out: np.ndarray) -> None:
    for k in range(n):
        out[k] = -1
    queue = np.empty(n, dtype=np.int64)
    head, tail = 0, 1
    queue[0] = src
    out[src] = 0
    while head < tail:
        u = queue[head]
        head += 1
        for v in range(n):
            if order[u, v] > 0 and out[v] < 0:
                if (u == skip_i and v == skip_j) or (u == skip_j and v == skip_i):
                    continue
                out[v] = out[u] + 1
                queue[tail] = v
                tail += 1


@njit(cache=True)
def graph_info(order: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """All-pairs shortest path lengths (-1 where unreachable) and, per bonded pair, whether the bond lies on a ring
    (removing it leaves its two atoms connected)."""
    dist = np.empty((n, n), dtype=np.int64)
    for s in range(n):
        _bfs_dist(order, n, s, -1, -1, dist[s])
    on_ring = np.zeros((n, n), dtype=np.bool_)
    tmp = np.empty(n, dtype=np.int64)
    for i in range(n):
        for j in range(i + 1, n):
            if order[i, j] > 0:
                _bfs_dist(order, n, i, i, j, tmp)
                if tmp[j] >= 0:
                    on_ring[i, j] = True
                    on_ring[j, i] = True
    return dist, on_ring


# ---------------------------------------------------------------------------------------------------------------
# The editable molecule


class EditableMolecule:
    """One connected, neutral molecule under `EditRules`: ``elements[:n]`` (element indices) and ``order[:n, :n]``
    (Kekulé bond orders). Edits return new molecules; an instance is never changed after construction."""

    __slots__ = ("rules", "n", "elements", "order", "_mol", "_smiles", "_graph", "_kekule")

    def __init__(self, rules: EditRules, elements: np.ndarray, order: np.ndarray, n: int):
        self.rules = rules
        self.n = int(n)
        self.elements = elements
        self.order = order
        self._mol: Chem.Mol | None = None
        self._smiles: str | None = None
        self._graph: tuple[np.ndarray, np.ndarray] | None = None
        self._kekule: Chem.RWMol | None = None

    # --- construction ---------------------------------------------------------------------------------------------

    @classmethod
    def from_smiles(cls, smiles: str, rules: EditRules) -> "EditableMolecule":
        """Parse ``smiles`` (one connected, neutral molecule of known elements with allowed valences).
        `MoleculeError` names what is wrong otherwise."""
        if not isinstance(smiles, str) or not smiles.strip():
            raise MoleculeError(f"start SMILES must be a non-empty string, got {smiles!r}")
        blocker = rdBase.BlockLogs()  # our own error says what is wrong; RDKit's log lines would only add noise
        try:
            mol = Chem.MolFromSmiles(smiles.strip())
        finally:
            del blocker
        if mol is None:
            raise MoleculeError(f"RDKit could not parse SMILES {smiles!r}")
        return cls.from_mol(mol, rules, source=smiles)

    @classmethod
    def from_mol(cls, mol: Chem.Mol, rules: EditRules, source: str | None = None) -> "EditableMolecule":
        name = source if source is not None else Chem.MolToSmiles(mol)
        mol = Chem.RemoveHs(mol)
        n = mol.GetNumAtoms()
        if n == 0:
            raise MoleculeError(f"{name!r} has no heavy atoms")
        if n > rules.max_atoms:
            raise MoleculeError(f"{name!r} has {n} heavy atoms, more than max_atoms={rules.max_atoms}")
        if len(Chem.GetMolFrags(mol)) > 1:
            raise MoleculeError(f"{name!r} has several fragments; the editor holds one connected molecule")
        mol = Chem.RWMol(mol)
        try:
            Chem.Kekulize(mol, clearAromaticFlags=True)
        except Chem.KekulizeException as exc:
            raise MoleculeError(f"{name!r} cannot be kekulized: {exc}") from None
        m = rules.max_atoms
        elements = np.zeros(m, dtype=np.int64)
        order = np.zeros((m, m), dtype=np.int64)
        for atom in mol.GetAtoms():
            symbol = atom.GetSymbol()
            where = f"atom {atom.GetIdx()} ({symbol}) of {name!r}"
            if symbol not in rules.element_index:
                raise MoleculeError(f"{where}: element {symbol} is not in the valence table "
                                    f"{sorted(rules.valences)}; pass valences={{{symbol!r}: (...)}}")
            if atom.GetFormalCharge() != 0:
                raise MoleculeError(f"{where} has charge {atom.GetFormalCharge():+d}; the editor holds neutral atoms")
            if atom.GetNumRadicalElectrons():
                raise MoleculeError(f"{where} is a radical; the editor holds closed-shell atoms")
            if atom.GetIsotope():
                raise MoleculeError(f"{where} has an isotope label; the editor does not keep isotopes")
            total = atom.GetTotalValence()
            if total not in rules.valences[symbol]:
                raise MoleculeError(f"{where} has valence {total}; allowed for {symbol}: {list(rules.valences[symbol])}")
            elements[atom.GetIdx()] = rules.element_index[symbol]
        for bond in mol.GetBonds():
            bt = bond.GetBondType()
            k = {Chem.BondType.SINGLE: 1, Chem.BondType.DOUBLE: 2, Chem.BondType.TRIPLE: 3}.get(bt)
            if k is None:
                raise MoleculeError(f"{name!r} has a {bt} bond; only single, double and triple bonds are edited")
            i, j = bond.GetBeginAtomIdx(), bond.GetEndAtomIdx()
            order[i, j] = order[j, i] = k
        result = cls(rules, elements, order, n)
        # Implicit hydrogens must follow from the bonds alone (e.g. "[CH2]" style explicit counts are rejected).
        for atom in mol.GetAtoms():
            idx = atom.GetIdx()
            if not rules.valid_explicit[elements[idx], int(order[idx].sum())]:
                raise MoleculeError(f"atom {idx} ({atom.GetSymbol()}) of {name!r} has a valence the rules do not allow")
            expected_h = _implicit_h(rules, elements[idx], int(order[idx].sum()))
            if atom.GetTotalNumHs() != expected_h:
                raise MoleculeError(f"atom {idx} ({atom.GetSymbol()}) of {name!r} has {atom.GetTotalNumHs()} "
                                    f"hydrogens, not the {expected_h} its bonds imply")
        return result

    # --- views ----------------------------------------------------------------------------------------------------

    def explicit_valence(self) -> np.ndarray:
        return self.order[: self.n, : self.n].sum(axis=1)

    def symbols(self) -> list[str]:
        return [self.rules.symbols[e] for e in self.elements[: self.n]]

    def graph(self) -> tuple[np.ndarray, np.ndarray]:
        """(shortest-path distances, on-ring flags) for the current atoms; computed once."""
        if self._graph is None:
            self._graph = graph_info(self.order, self.n)
        return self._graph

    def to_mol(self) -> Chem.Mol:
        """The molecule as a sanitized RDKit `Mol` (aromaticity perceived); built once and cached."""
        if self._mol is None:
            self._mol = build_mol(self.rules.atomic_numbers[self.elements[: self.n]], self.order, self.n)
        return self._mol

    def preview_mol(self, codec: ActionCodec, action: int) -> Chem.Mol:
        """The sanitized RDKit Mol after a *legal* ``action``, built by copying this molecule's RDKit graph and
        editing the copy (much cheaper than building an `EditableMolecule` and then its Mol; MolDQN-style agents
        score every next state this way). Same atom order as `apply` gives."""
        if self._kekule is None:
            rw = Chem.RWMol()
            for z in self.rules.atomic_numbers[self.elements[: self.n]]:
                rw.AddAtom(Chem.Atom(int(z)))
            ii, jj = np.nonzero(np.triu(self.order[: self.n, : self.n], 1))
            for i, j in zip(ii.tolist(), jj.tolist()):
                rw.AddBond(i, j, BOND_TYPES[int(self.order[i, j])])
            self._kekule = rw
        kind = codec.decode(action)
        rw = Chem.RWMol(self._kekule)
        if kind[0] == "add":
            _, atom, t, k = kind
            new = rw.AddAtom(Chem.Atom(int(self.rules.atomic_numbers[t])))
            rw.AddBond(atom, new, BOND_TYPES[k])
        elif kind[0] == "bond":
            _, i, j, k = kind
            current = int(self.order[i, j])
            if current == 0:
                rw.AddBond(i, j, BOND_TYPES[k])
            elif k > 0:
                rw.GetBondBetweenAtoms(i, j).SetBondType(BOND_TYPES[k])
            else:
                rw.RemoveBond(i, j)
                if not self.graph()[1][i, j]:
                    deg_j = int((self.order[j, : self.n] > 0).sum())
                    rw.RemoveAtom(j if deg_j == 1 else i)
        mol = rw.GetMol()
        Chem.SanitizeMol(mol)
        return mol

    def smiles(self) -> str:
        """Canonical SMILES (aromatic form)."""
        if self._smiles is None:
            self._smiles = Chem.MolToSmiles(self.to_mol())
        return self._smiles

    def __repr__(self) -> str:
        return f"EditableMolecule({self.smiles()!r})"

    # --- edits ----------------------------------------------------------------------------------------------------

    def legal_mask(self, codec: ActionCodec) -> np.ndarray:
        """Boolean mask over ``codec.n_actions``: True exactly for edits that give a valid molecule."""
        return legal_mask(self, codec)

    def apply(self, codec: ActionCodec, action: int) -> "EditableMolecule":
        """The molecule after ``action`` (stop returns self). `IllegalEditError` if the edit is not allowed."""
        kind = codec.decode(action)
        if kind[0] == "stop":
            return self
        reason = illegal_reason(self, codec, action)
        if reason is not None:
            raise IllegalEditError(f"illegal edit {action} ({codec.describe(action)}) on {self.smiles()}: {reason}",
                                   action, reason)
        return self._apply_unchecked(kind)

    def _apply_unchecked(self, kind: tuple) -> "EditableMolecule":
        elements = self.elements.copy()
        order = self.order.copy()
        n = self.n
        if kind[0] == "add":
            _, atom, t, k = kind
            elements[n] = t  # addable types come first in the element index
            order[atom, n] = order[n, atom] = k
            return EditableMolecule(self.rules, elements, order, n + 1)
        _, i, j, k = kind
        order[i, j] = order[j, i] = k
        if k == 0 and not self.graph()[1][i, j]:
            # A bridge whose removal leaves a single atom apart: drop that atom (the higher index if both are).
            drop = j if order[j, :n].sum() == 0 else i
            keep = np.r_[0:drop, drop + 1 : n]
            new_elements = np.zeros_like(elements)
            new_elements[: n - 1] = elements[keep]
            new_order = np.zeros_like(order)
            new_order[: n - 1, : n - 1] = order[np.ix_(keep, keep)]
            return EditableMolecule(self.rules, new_elements, new_order, n - 1)
        return EditableMolecule(self.rules, elements, order, n)


def _implicit_h(rules: EditRules, element: int, explicit: int) -> int:
    rd = _rdkit_valences(rules.symbols[element])
    total = next(x for x in rd if x >= explicit)
    return total - explicit


def build_mol(atomic_numbers: Iterable[int], order: np.ndarray, n: int) -> Chem.Mol:
    """A sanitized RDKit Mol from atomic numbers and a Kekulé bond-order matrix (first n atoms)."""
    rw = Chem.RWMol()
    for z in atomic_numbers:
        rw.AddAtom(Chem.Atom(int(z)))
    ii, jj = np.nonzero(np.triu(order[:n, :n], 1))
    for i, j in zip(ii.tolist(), jj.tolist()):
        rw.AddBond(i, j, BOND_TYPES[int(order[i, j])])
    mol = rw.GetMol()
    Chem.SanitizeMol(mol)
    return mol


# ---------------------------------------------------------------------------------------------------------------
# The mask: valence arithmetic over all edits at once


def legal_mask(mol: EditableMolecule, codec: ActionCodec) -> np.ndarray:
    rules = mol.rules
    n = mol.n
    valid = rules.valid_explicit
    elem = mol.elements[:n]
    ev = mol.explicit_valence()
    mask = np.zeros(codec.n_actions, dtype=np.bool_)
    mask[codec.stop] = True

    # Add an atom of type t to atom i with order k: both ends must stay valid, and there must be room.
    if n < rules.max_atoms:
        t_count = codec.n_types
        new_ok = valid[:t_count, 1:4]                                   # (T, 3): the new atom itself
        old_ok = np.stack([valid[elem, ev + k] for k in BOND_ORDERS], axis=1)  # (n, 3)
        add = old_ok[:, None, :] & new_ok[None, :, :]                   # (n, T, 3)
        mask[: n * t_count * 3] = add.reshape(-1)

    if n >= 2:
        pairs = codec.pairs_below(n)
        pi, pj = codec.pair_i[pairs], codec.pair_j[pairs]
        current = mol.order[pi, pj]
        ei, ej, vi, vj = elem[pi], elem[pj], ev[pi], ev[pj]
        dist, on_ring = mol.graph()
        bonded = current > 0
        ring_ok = rules.ring_size_ok[np.minimum(dist[pi, pj], rules.ring_size_ok.size - 1)]
        deg = (mol.order[:n, :n] > 0).sum(axis=1)
        base = codec.n_add + pairs * 4
        for k in range(4):
            delta = k - current
            vi_new, vj_new = vi + delta, vj + delta
            # Never negative (a bond's own order is part of both valences) and never past the table (max + 3).
            ok_i = valid[ei, vi_new]
            ok_j = valid[ej, vj_new]
            if k == 0:
                ring = on_ring[pi, pj]
                leaf_j = deg[pj] == 1          # j is dropped (also when both are leaves)
                leaf_i = (deg[pi] == 1) & ~leaf_j
                ok = bonded & ((ring & ok_i & ok_j) | (~ring & leaf_j & ok_i) | (~ring & leaf_i & ok_j))
            else:
                ok = (current != k) & ok_i & ok_j & (bonded | ring_ok)
            mask[base + k] = ok
    return mask


def illegal_reason(mol: EditableMolecule, codec: ActionCodec, action: int) -> str | None:
    """Why ``action`` is not allowed on ``mol`` (None if it is). Slow path, used for error messages."""
    rules = mol.rules
    kind = codec.decode(action)
    if kind[0] == "stop":
        return None
    n = mol.n
    ev = mol.explicit_valence()
    valid = rules.valid_explicit

    def atom_text(idx: int, new_explicit: int) -> str:
        symbol = rules.symbols[mol.elements[idx]]
        return (f"atom {idx} ({symbol}) would have explicit valence {new_explicit}; "
                f"allowed total valences for {symbol}: {list(rules.valences[symbol])}")

    if kind[0] == "add":
        _, atom, t, k = kind
        if atom >= n:
            return f"there is no atom {atom} (the molecule has {n})"
        if n >= rules.max_atoms:
            return f"the molecule already has max_atoms={rules.max_atoms} atoms"
        if not valid[t, k]:
            return f"a new {rules.atom_types[t]} cannot take a bond of order {k}"
        if not valid[mol.elements[atom], ev[atom] + k]:
            return atom_text(atom, int(ev[atom] + k))
        return None
    _, i, j, k = kind
    if j >= n:
        return f"there is no atom {j} (the molecule has {n})"
    current = int(mol.order[i, j])
    if current == k:
        return f"the bond already has order {k}" if k else "the atoms are not bonded"
    delta = k - current
    dist, on_ring = mol.graph()
    if current == 0 and not rules.ring_size_ok[min(int(dist[i, j]), rules.ring_size_ok.size - 1)]:
        return (f"the new bond would close a ring of size {int(dist[i, j]) + 1}; "
                f"allowed ring sizes: {list(rules.ring_sizes)}")
    if k == 0 and not on_ring[i, j]:
        deg = (mol.order[:n, :n] > 0).sum(axis=1)
        if deg[i] > 1 and deg[j] > 1:
            return "removing the bond would split the molecule into two fragments of more than one atom"
        dropped = j if deg[j] == 1 else i
        kept = i if dropped == j else j
        if not valid[mol.elements[kept], ev[kept] + delta]:
            return atom_text(kept, int(ev[kept] + delta))
        return None
    for idx in (i, j):
        if not valid[mol.elements[idx], ev[idx] + delta]:
            return atom_text(idx, int(ev[idx] + delta))
    return None
