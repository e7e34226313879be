"""The editable-molecule core: the action mask against brute force (apply each edit with RDKit's own graph
operations, sanitize, check the rules), SMILES parsing errors, and edit semantics."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from rdkit import Chem, RDLogger

from deep_arena.envs.molecule.chem import (
    ActionCodec,
    EditableMolecule,
    EditRules,
    IllegalEditError,
    MoleculeError,
)
from deep_arena.envs.molecule.reference import edit_with_rdkit, kekule_rwmol, relevant_actions

RDLogger.DisableLog("rdApp.*")
SAMPLE = Path(__file__).resolve().parents[1] / "data" / "molecules_sample.smi"


def random_molecules(rules: EditRules, count: int, seed: int) -> list[EditableMolecule]:
    """Molecules reached by random legal edits from the sample start molecules and from a single carbon."""
    codec = ActionCodec(rules)
    rng = np.random.default_rng(seed)
    starts = []
    for line in SAMPLE.read_text().split():
        try:
            starts.append(EditableMolecule.from_smiles(line, rules))
        except MoleculeError:
            pass
    starts.append(EditableMolecule.from_smiles("C", rules))
    out = []
    while len(out) < count:
        mol = starts[rng.integers(len(starts))]
        for _ in range(int(rng.integers(0, 30))):
            mask = mol.legal_mask(codec)
            mask[codec.stop] = False
            legal = np.flatnonzero(mask)
            if legal.size == 0:
                break
            # Favour bond edits sometimes so that rings and multiple bonds appear often.
            mol = mol.apply(codec, int(rng.choice(legal)))
        out.append(mol)
    return out


def _check_mask(mol: EditableMolecule, codec: ActionCodec, actions: np.ndarray) -> list[str]:
    mask = mol.legal_mask(codec)
    base = kekule_rwmol(mol)
    problems = []
    for a in actions:
        expected = edit_with_rdkit(mol, codec, int(a), base) is not None
        if bool(mask[a]) != expected:
            problems.append(f"{mol.smiles()}: action {a} ({codec.describe(int(a))}) mask={mask[a]} brute={expected}")
    return problems


@pytest.mark.parametrize("molecules", [200, pytest.param(500, marks=pytest.mark.slow)])
@pytest.mark.parametrize(
    "rules",
    [
        EditRules(max_atoms=20),
        EditRules(max_atoms=16, valences={"S": (2, 4, 6), "N": (3,)}, ring_sizes=(3, 4, 5, 6, 7)),
    ],
    ids=["default-elements", "S246-rings3to7"],
)
def test_mask_matches_brute_force(rules, molecules):
    """Sound and complete on 200 random molecules per rule set (500 each in ``make test-slow``): every action a
    molecule of n atoms can refer to is checked against `envs.molecule.reference` (apply with RDKit, sanitize, check
    the rules)."""
    codec = ActionCodec(rules)
    problems: list[str] = []
    for mol in random_molecules(rules, molecules, seed=len(rules.ring_sizes)):
        relevant = relevant_actions(mol, codec)
        problems += _check_mask(mol, codec, relevant)
        # Actions about atoms that do not exist must be masked.
        mask = mol.legal_mask(codec)
        assert mask.sum() == mask[relevant].sum()
    assert not problems, f"{len(problems)} mismatches, e.g. {problems[:5]}"


def test_apply_matches_brute_force_molecule():
    """The molecule `apply` builds is the one RDKit's edit gives (same canonical SMILES)."""
    rules = EditRules(max_atoms=20)
    codec = ActionCodec(rules)
    rng = np.random.default_rng(7)
    for mol in random_molecules(rules, 60, seed=3):
        legal = np.flatnonzero(mol.legal_mask(codec))
        for a in rng.choice(legal, size=min(10, legal.size), replace=False):
            new = mol.apply(codec, int(a))
            Chem.MolFromSmiles(new.smiles())
            assert new.to_mol().GetNumAtoms() == new.n
            assert len(Chem.GetMolFrags(new.to_mol())) == 1


def test_parsing_errors_name_the_problem():
    rules = EditRules()
    cases = {
        "not a smiles": "could not parse",
        "": "non-empty",
        "CC.O": "fragments",
        "C[N+](C)(C)C": "charge",
        "[CH3]": "radical",
        "[13CH4]": "isotope",
        "C[Si](C)(C)C": "element Si",
        "CS(=O)C": "valence 4",
        "C" * 39: "max_atoms",
    }
    for smiles, words in cases.items():
        with pytest.raises(MoleculeError, match=words):
            EditableMolecule.from_smiles(smiles, rules)
    # Widened valences make sulfoxides reachable.
    wide = EditRules(valences={"S": (2, 4, 6)})
    assert EditableMolecule.from_smiles("CS(=O)C", wide).smiles() == "CS(C)=O"


def test_rules_validation():
    with pytest.raises(ValueError, match="RDKit does not accept valence"):
        EditRules(valences={"N": (3, 5)})
    with pytest.raises(ValueError, match="unknown element"):
        EditRules(valences={"Xx": (1,)})
    with pytest.raises(ValueError, match="no valences"):
        EditRules(atom_types=("C", "Si"))
    with pytest.raises(ValueError, match="ring sizes"):
        EditRules(ring_sizes=(2, 5))


def test_edit_semantics():
    rules = EditRules()
    codec = ActionCodec(rules)
    mol = EditableMolecule.from_smiles("C", rules)
    mol = mol.apply(codec, codec.add_action(0, rules.atom_types.index("O"), 2))
    assert mol.smiles() == "C=O"
    with pytest.raises(IllegalEditError) as err:
        mol.apply(codec, codec.add_action(1, rules.atom_types.index("C"), 1))
    assert "O" in str(err.value) and err.value.reason
    # Removing the only bond drops the higher-indexed atom.
    assert mol.apply(codec, codec.bond_action(0, 1, 0)).smiles() == "C"
    # A chain of six carbons can be closed into a ring of 6 but not a ring of 4.
    hexane = EditableMolecule.from_smiles("CCCCCC", rules)
    assert hexane.apply(codec, codec.bond_action(0, 5, 1)).smiles() == "C1CCCCC1"
    with pytest.raises(IllegalEditError, match="ring of size 4"):
        hexane.apply(codec, codec.bond_action(0, 3, 1))
    # Splitting into two fragments of two atoms or more is not allowed; dropping a leaf is.
    with pytest.raises(IllegalEditError, match="two fragments"):
        hexane.apply(codec, codec.bond_action(2, 3, 0))
    assert hexane.apply(codec, codec.bond_action(0, 1, 0)).smiles() == "CCCCC"
    # Aromatic input is kekulized; its ring bonds are ordinary edits.
    benzene = EditableMolecule.from_smiles("c1ccccc1", rules)
    assert sorted(set(benzene.order[:6, :6].ravel().tolist())) == [0, 1, 2]
    assert benzene.smiles() == "c1ccccc1"


def test_preview_mol_equals_apply():
    """The cheap candidate builder gives the same molecule, atom for atom, as `apply`."""
    rules = EditRules(max_atoms=20)
    codec = ActionCodec(rules)
    for mol in random_molecules(rules, 40, seed=11):
        for a in np.flatnonzero(mol.legal_mask(codec)):
            preview = mol.preview_mol(codec, int(a))
            applied = mol.apply(codec, int(a)).to_mol()
            assert Chem.MolToSmiles(preview, canonical=False) == Chem.MolToSmiles(applied, canonical=False)
