"""The slow reference for the action mask: enumerate every edit, apply it to a copy with RDKit's own graph
operations, sanitize, and check the rules, which is what MolDQN does to find valid actions. The tests compare the
valence-arithmetic mask with it and `benchmarks/molecule_speed.py` times it as the baseline. It shares no mask code
with `chem.py`: ring sizes come from `Chem.GetShortestPath`, connectivity from `Chem.GetMolFrags`, valences from
RDKit's sanitization."""

from __future__ import annotations

import numpy as np
from rdkit import Chem, rdBase

from deep_arena.envs.molecule.chem import ActionCodec, EditableMolecule

_BT = {1: Chem.BondType.SINGLE, 2: Chem.BondType.DOUBLE, 3: Chem.BondType.TRIPLE}


def kekule_rwmol(mol: EditableMolecule) -> Chem.RWMol:
    """The molecule as an unsanitized RWMol built from its Kekulé arrays."""
    rw = Chem.RWMol()
    for e in mol.elements[: mol.n]:
        rw.AddAtom(Chem.Atom(int(mol.rules.atomic_numbers[e])))
    for i in range(mol.n):
        for j in range(i + 1, mol.n):
            if mol.order[i, j]:
                rw.AddBond(i, j, _BT[int(mol.order[i, j])])
    return rw


def edit_with_rdkit(mol: EditableMolecule, codec: ActionCodec, action: int,
                    base: Chem.RWMol | None = None) -> Chem.Mol | None:
    """The sanitized molecule ``action`` gives, or None if the edit is not allowed."""
    rules = mol.rules
    kind = codec.decode(action)
    rw = Chem.RWMol(base) if base is not None else kekule_rwmol(mol)
    if kind[0] == "stop":
        result = rw.GetMol()
        Chem.SanitizeMol(result)
        return result
    if kind[0] == "add":
        _, atom, t, k = kind
        if atom >= mol.n or mol.n >= rules.max_atoms:
            return None
        new = rw.AddAtom(Chem.Atom(rules.atom_types[t]))
        rw.AddBond(atom, new, _BT[k])
    else:
        _, i, j, k = kind
        if j >= mol.n:
            return None
        bond = rw.GetBondBetweenAtoms(i, j)
        if bond is None and k == 0:
            return None
        if bond is not None and int(bond.GetBondTypeAsDouble()) == k:
            return None
        if bond is None:
            path = Chem.GetShortestPath(rw, i, j)   # atoms on the path, ends included = size of the new ring
            if len(path) not in rules.ring_sizes:
                return None
            rw.AddBond(i, j, _BT[k])
        elif k == 0:
            rw.RemoveBond(i, j)
            frags = Chem.GetMolFrags(rw, asMols=False, sanitizeFrags=False)
            if len(frags) > 1:
                lone = [f[0] for f in frags if len(f) == 1]
                if not lone:
                    return None
                rw.RemoveAtom(max(lone))
        else:
            bond.SetBondType(_BT[k])
    result = rw.GetMol()
    blocker = rdBase.BlockLogs()  # failed sanitizations are the point here  # noqa: F841
    try:
        Chem.SanitizeMol(result)
    except Exception:
        return None
    if len(Chem.GetMolFrags(result)) != 1:
        return None
    for atom in result.GetAtoms():
        if atom.GetFormalCharge() != 0 or atom.GetTotalValence() not in rules.valences[atom.GetSymbol()]:
            return None
    # The SMILES must read back (odd aromatic perception could give unreadable SMILES).
    if Chem.MolFromSmiles(Chem.MolToSmiles(result)) is None:
        return None
    return result


def relevant_actions(mol: EditableMolecule, codec: ActionCodec) -> np.ndarray:
    """Actions that refer only to existing atoms (every other action is trivially invalid)."""
    n = mol.n
    pairs = codec.pairs_below(n)
    return np.r_[np.arange(0, n * codec.n_types * 3),
                 codec.n_add + (pairs[:, None] * 4 + np.arange(4)[None, :]).ravel(),
                 codec.stop].astype(np.int64)


def reference_mask(mol: EditableMolecule, codec: ActionCodec) -> np.ndarray:
    """The mask by enumerate-and-sanitize."""
    mask = np.zeros(codec.n_actions, dtype=bool)
    base = kekule_rwmol(mol)
    for a in relevant_actions(mol, codec).tolist():
        mask[a] = edit_with_rdkit(mol, codec, a, base) is not None
    return mask
