"""MolGAN graphs: encode/decode round trip on QM9 molecules, honest decoding, generator/critic shapes, sampler."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from rdkit import Chem

from gan.data import load_smiles_file
from gan.molgan import (ATOMS, BONDS, MolGAN, RGCNCritic, decode_graph, encode_mol, encode_smiles,
                        graphs_to_tensors, gumbel_hard)

torch.set_num_threads(1)
SAMPLE = Path(__file__).parent / "data" / "qm9_sample.smi"


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
    for decode in ("sample", "argmax"):
        a = model.sample(50, seed=3, decode=decode)
        assert a == model.sample(50, seed=3, decode=decode) and len(a) == 50
        for s in a:
            assert s is None or Chem.MolToSmiles(Chem.MolFromSmiles(s)) == s
    model.save(tmp_path / "g.pt")
    again = MolGAN.load(tmp_path / "g.pt")
    assert again.sample(20, seed=1) == model.sample(20, seed=1)
    with pytest.raises(ValueError):
        model.sample(-1)
