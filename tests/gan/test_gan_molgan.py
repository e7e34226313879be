"""MolGAN graphs: encode/decode round trip on QM9 molecules, honest decoding, generator/critic shapes, sampler."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from rdkit import Chem

from deep_arena.gan.data import load_smiles_file
from deep_arena.gan.molgan import (ATOMS, BONDS, MAX_VALENCE, MolGAN, RGCNCritic, decode_graph, encode_mol, encode_smiles,
                        graphs_to_tensors, gumbel_hard, valence_project)

torch.set_num_threads(1)
SAMPLE = Path(__file__).resolve().parents[1] / "data" / "qm9_sample.smi"


def test_round_trip_on_qm9_sample():
    smiles = load_smiles_file(SAMPLE, limit=500)
    encoded = 0
    for s in smiles:
        g = encode_smiles(s)
        if g is None:
            mol = Chem.MolFromSmiles(s)   # only charged molecules are refused in QM9
            assert any(a.GetFormalCharge() for a in mol.GetAtoms()), s
            continue
        encoded += 1
        back = decode_graph(*g)
        assert back is not None, s
        assert Chem.MolToSmiles(back) == Chem.MolToSmiles(Chem.MolFromSmiles(s)), s
    assert encoded >= 480


@pytest.mark.parametrize("smiles", ["CCCCCCCCCC", "CCS", "CCCl", "C[N+](C)(C)C", "[CH3]"])
def test_unrepresentable_molecules_encode_to_none(smiles):
    assert encode_smiles(smiles) is None


def test_decoding_counts_bad_graphs_as_invalid():
    n = 9
    atoms = np.zeros(n, int)
    bonds = np.zeros((n, n), int)
    assert decode_graph(atoms, bonds) is None                      # empty
    atoms[:3] = ATOMS.index("C")
    assert decode_graph(atoms, bonds) is None                      # three disconnected carbons
    bonds[0, 1] = bonds[1, 0] = 1
    bonds[1, 2] = bonds[2, 1] = 1
    assert Chem.MolToSmiles(decode_graph(atoms, bonds)) == "CCC"
    atoms[3] = ATOMS.index("F")
    for j in range(3):
        bonds[3, j] = bonds[j, 3] = 1                              # F with three bonds: valence error
    assert decode_graph(atoms, bonds) is None
    atoms[3] = 0                                                   # bonds to an empty slot are dropped
    assert Chem.MolToSmiles(decode_graph(atoms, bonds)) == "CCC"
    bonds[0, 1] = bonds[1, 0] = 3
    bonds[1, 2] = bonds[2, 1] = 3                                  # central carbon with 6 bonds
    assert decode_graph(atoms, bonds) is None


def test_aromatic_molecules_are_kekulized():
    a, b = encode_smiles("c1ccccc1O")
    assert set(b[b > 0].tolist()) == {BONDS.index(Chem.BondType.SINGLE), BONDS.index(Chem.BondType.DOUBLE)}
    assert Chem.MolToSmiles(decode_graph(a, b)) == "Oc1ccccc1"


def test_generator_critic_shapes_and_gumbel_symmetry():
    torch.manual_seed(0)
    model = MolGAN({"minibatch_std": True})
    e, x = model.generator(torch.randn(6, 32))
    assert e.shape == (6, 9, 9, len(BONDS)) and x.shape == (6, 9, len(ATOMS))
    adj, nodes = gumbel_hard(e, x)
    assert torch.equal(adj, adj.transpose(1, 2))
    assert torch.all(adj.sum(-1) == 1) and torch.all(nodes.sum(-1) == 1)
    assert torch.all(adj[:, torch.arange(9), torch.arange(9), 0] == 1)   # no self bonds
    assert model.critic(adj, nodes).shape == (6,)
    reward = RGCNCritic(sigmoid=True)(adj, nodes)
    assert reward.shape == (6,) and torch.all((reward > 0) & (reward < 1))
    a, b = encode_smiles("CC(=O)O")
    adj2, nodes2 = graphs_to_tensors(a[None], b[None])
    adj2.requires_grad_(True)
    model.critic(adj2, nodes2).sum().backward()                      # differentiable w.r.t. the graph


def test_sample_is_seeded_and_returns_canonical_or_none(tmp_path):
    model = MolGAN()
    for decode in ("sample", "argmax", "valence"):
        a = model.sample(50, seed=3, decode=decode)
        assert a == model.sample(50, seed=3, decode=decode) and len(a) == 50
        for s in a:
            assert s is None or Chem.MolToSmiles(Chem.MolFromSmiles(s)) == s
    model.save(tmp_path / "g.pt")
    again = MolGAN.load(tmp_path / "g.pt")
    assert again.sample(20, seed=1) == model.sample(20, seed=1)
    with pytest.raises(ValueError):
        model.sample(-1)


def _slots(*symbols: str) -> np.ndarray:
    return np.array([ATOMS.index(x) for x in symbols] + [0] * (9 - len(symbols)))


def test_valence_projection_keeps_the_most_probable_bonds_within_valence():
    atoms = _slots("F", "C", "C")
    proposed = np.zeros((9, 9), int)
    presence = np.zeros((9, 9))
    for (i, j, k, p) in [(0, 1, 1, 0.9), (0, 2, 1, 0.6), (1, 2, 3, 0.8)]:
        proposed[i, j] = proposed[j, i] = k
        presence[i, j] = presence[j, i] = p
    assert decode_graph(atoms, proposed) is None                    # F with two bonds: over-valent
    out = valence_project(atoms, proposed, presence)
    assert out[0, 1] == 1 and out[0, 2] == 0                         # F keeps its more probable bond
    assert out[1, 2] == 3 and (out == out.T).all()                   # C#C: the C bonded to F still has room
    assert Chem.MolToSmiles(decode_graph(atoms, out)) == "C#CF"
    proposed[1, 2] = proposed[2, 1] = 0                               # now C-F and F-C proposed, C..C not
    presence[1, 2] = presence[2, 1] = 0.1
    out = valence_project(atoms, proposed, presence)
    assert out[0, 1] == 1 and out[1, 2] == 1                          # fragment {C2} joined by the best pair left
    assert Chem.MolToSmiles(decode_graph(atoms, out)) == "CCF"


def test_valence_projection_lowers_orders_and_leaves_unjoinable_graphs_invalid():
    atoms = _slots("C", "C", "O")
    proposed = np.zeros((9, 9), int)
    presence = np.zeros((9, 9))
    for i, j, k, p in [(0, 1, 3, 0.9), (1, 2, 2, 0.8)]:
        proposed[i, j] = proposed[j, i] = k
        presence[i, j] = presence[j, i] = p
    out = valence_project(atoms, proposed, presence)
    assert out[0, 1] == 3 and out[1, 2] == 1                          # C=O lowered to C-O: C1 had one left
    assert Chem.MolToSmiles(decode_graph(atoms, out)) == "C#CO"
    # O=C=O takes all of C's and both O's valence: the fourth atom, an O, cannot be joined -> still invalid
    atoms = _slots("O", "C", "O", "O")
    proposed = np.zeros((9, 9), int)
    for i, j in [(0, 1), (1, 2), (1, 3)]:
        proposed[i, j] = proposed[j, i] = 2
    presence = np.full((9, 9), 0.5)
    presence[1, 3] = presence[3, 1] = 0.1
    out = valence_project(atoms, proposed, presence)
    assert out[1, 3] == 0 and not out[3].any()
    assert decode_graph(atoms, out) is None
    atoms = _slots("F", "F", "F")
    proposed = np.zeros((9, 9), int)
    proposed[0, 1] = proposed[1, 0] = 1
    assert decode_graph(atoms, valence_project(atoms, proposed, np.full((9, 9), 0.5))) is None


def test_valence_projection_on_random_graphs_never_exceeds_valence():
    rng = np.random.default_rng(0)
    valid = 0
    for _ in range(300):
        atoms = rng.integers(0, len(ATOMS), size=9)
        upper = np.triu(rng.integers(0, len(BONDS), size=(9, 9)), 1)
        proposed = upper + upper.T
        p = np.triu(rng.random((9, 9)), 1)
        out = valence_project(atoms, proposed, p + p.T)
        assert (out == out.T).all() and (np.diag(out) == 0).all() and (out <= proposed.clip(min=1)).all()
        for i in range(9):
            if atoms[i] == 0:
                assert not out[i].any()
            else:
                assert out[i].sum() <= MAX_VALENCE[ATOMS[atoms[i]]]
        mol = decode_graph(atoms, out)
        if mol is not None:
            valid += 1
            assert Chem.MolFromSmiles(Chem.MolToSmiles(mol)) is not None
            continue
        # rejected only when it is empty, or in fragments that no pair of atoms with valence left could join
        occupied = [i for i in range(9) if atoms[i] > 0]
        if not occupied:
            continue
        room = {i: MAX_VALENCE[ATOMS[atoms[i]]] - out[i].sum() for i in occupied}
        seen, stack = {occupied[0]}, [occupied[0]]
        while stack:
            i = stack.pop()
            for j in occupied:
                if out[i, j] and j not in seen:
                    seen.add(j)
                    stack.append(j)
        assert len(seen) < len(occupied)
        assert not any(room[i] and room[j] for i in seen for j in occupied if j not in seen)
    assert valid > 100


def test_temperature_is_checked_and_changes_samples():
    model = MolGAN({"decode": "valence", "temperature": 2.0})
    assert model.sample(30, seed=1) == model.sample(30, seed=1, temperature=2.0)
    assert model.sample(30, seed=1) != model.sample(30, seed=1, temperature=1.0)
    with pytest.raises(ValueError, match="temperature"):
        model.sample(5, temperature=0.0)
    with pytest.raises(ValueError, match="temperature"):
        MolGAN({"temperature": float("nan")})
    with pytest.raises(ValueError, match="decode"):
        model.sample(5, decode="greedy")
