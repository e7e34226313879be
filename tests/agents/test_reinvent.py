"""REINVENT under an oracle budget, on a tiny prior trained in seconds on tests/data/*.smi."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from rdkit import Chem

from deep_arena.agents.reinvent.config import ReinventSettings
from deep_arena.agents.reinvent.optimizer import DiversityFilter, Memory, Reinvent, _trim, randomized_tokens
from deep_arena.envs.molecule.pmo_oracle import Oracle
from deep_arena.gan.lm import ChemicalLM, SmilesVocabulary

DATA = Path(__file__).resolve().parents[1] / "data"


def tiny_prior(steps: int = 150, seed: int = 0) -> ChemicalLM:
    """A small GRU taught QM9 + drug-like SMILES for a few seconds (valid SMILES appear after ~50 steps)."""
    smiles = [line.split()[0] for f in ("qm9_sample.smi", "molecules_sample.smi")
              for line in (DATA / f).read_text().splitlines() if line.strip()]
    torch.manual_seed(seed)
    model = ChemicalLM(SmilesVocabulary.from_smiles(smiles), {"embedding_dim": 16, "hidden_size": 96, "layers": 1},
                       max_length=60)
    opt = torch.optim.Adam(model.net.parameters(), lr=1e-2)
    rng = np.random.default_rng(seed)
    for _ in range(steps):
        batch = [smiles[i] for i in rng.choice(len(smiles), 64)]
        tokens = model.encode(batch)
        loss = -model.log_likelihood_tokens(tokens).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.net.eval()
    return model


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """Two cores shared with other jobs: more torch threads only make these tiny models slower."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def prior(one_thread) -> ChemicalLM:
    return tiny_prior()


def _run(prior, seed=0, budget=150, **overrides):
    settings = ReinventSettings.from_dict({"batch_size": 32, **overrides})
    oracle = Oracle("qed", budget=budget)
    return Reinvent(prior, oracle, settings, seed=seed).run()


def test_reinvent_spends_the_budget_and_logs_valid_molecules(prior):
    log = _run(prior)
    assert len(log) == 150
    assert len(set(log.smiles)) == 150
    for smi, score in zip(log.smiles[:20], log.scores[:20]):
        mol = Chem.MolFromSmiles(smi)
        assert mol is not None and Chem.MolToSmiles(mol) == smi
        assert score == pytest.approx(Chem.QED.qed(mol))


def test_reinvent_is_deterministic(prior):
    a, b = _run(prior, seed=3, budget=80), _run(prior, seed=3, budget=80)
    assert a.smiles == b.smiles and a.scores == b.scores
    assert _run(prior, seed=4, budget=80).smiles != a.smiles


def test_prior_is_left_unchanged(prior):
    before = {k: v.clone() for k, v in prior.net.state_dict().items()}
    _run(prior, budget=60, replay=4, memory=10)
    assert all(torch.equal(before[k], v) for k, v in prior.net.state_dict().items())


def test_diversity_filter_and_memory():
    f = DiversityFilter(bucket_size=2, min_score=0.5)
    mol = Chem.MolFromSmiles("c1ccccc1C")
    assert f("a", mol, 0.9) == 0.9 and f("b", mol, 0.9) == 0.9
    assert f("c", mol, 0.9) == 0.0          # bucket of benzene full
    assert f("a", mol, 0.9) == 0.9          # a member keeps its reward
    assert f("d", mol, 0.1) == 0.1          # below min_score: untouched
    m = Memory(2)
    for i, r in enumerate([0.1, 0.5, 0.3]):
        m.add(f"s{i}", r, torch.tensor([5, 2]), -3.0)
    assert sorted(m.entries) == ["s1", "s2"]
    assert len(m.sample(2, np.random.default_rng(0))) == 2


def test_critic_is_mixed_into_the_reward_not_the_log(prior):
    seen = []

    def critic(mol) -> float:
        seen.append(Chem.MolToSmiles(mol))
        return 1.0

    oracle = Oracle("qed", budget=40)
    log = Reinvent(prior, oracle, ReinventSettings.from_dict({"batch_size": 32, "critic_weight": 0.5}),
                   critic=critic).run()
    assert seen and len(log) == 40
    assert log.scores[0] == pytest.approx(Chem.QED.qed(Chem.MolFromSmiles(log.smiles[0])))


def test_randomized_tokens_spell_the_same_molecule_differently(prior):
    smiles = ["CC(=O)Oc1ccccc1C(=O)O", "c1ccccc1", "C"]
    fallback = [_trim(row) for row in prior.encode(smiles).cpu()]
    rng = np.random.default_rng(0)
    rows = randomized_tokens(prior, smiles, fallback, rng)
    decoded = prior.decode(rows)
    assert [Chem.CanonSmiles(d) for d in decoded] == [Chem.CanonSmiles(s) for s in smiles]
    assert decoded[0] != Chem.CanonSmiles(smiles[0]) or decoded[1] != "c1ccccc1"   # a new spelling (seed 0)
    assert torch.equal(rows, randomized_tokens(prior, smiles, fallback, np.random.default_rng(0)))
    bad = randomized_tokens(prior, ["not a smiles"], [fallback[2]], rng)     # unparsable: the fallback row
    assert torch.equal(bad[0, :len(fallback[2])], fallback[2])


def test_augmented_memory_spends_the_budget_deterministically_and_leaves_the_prior(prior):
    before = {k: v.clone() for k, v in prior.net.state_dict().items()}
    a = _run(prior, seed=2, budget=80, augmentation_rounds=2, sigma=500, replay=4, memory=20)
    b = _run(prior, seed=2, budget=80, augmentation_rounds=2, sigma=500, replay=4, memory=20)
    plain = _run(prior, seed=2, budget=80, sigma=500, replay=4, memory=20)
    assert len(a) == 80 and a.smiles == b.smiles and a.scores == b.scores
    assert a.smiles != plain.smiles    # the extra updates change what the agent samples next
    assert all(torch.equal(before[k], v) for k, v in prior.net.state_dict().items())


def test_selective_memory_purge_drops_a_full_scaffold(prior):
    memory = Memory(10)
    row = torch.tensor([1, 2])
    memory.add("a", 0.9, row, -10.0, "c1ccccc1")
    memory.add("b", 0.8, row, -10.0, "c1ccccc1")
    memory.add("c", 0.7, row, -10.0, "C1CC1")
    assert memory.purge("c1ccccc1") == 2 and list(memory.entries) == ["c"]
    log = _run(prior, seed=1, budget=80, augmentation_rounds=1,
               diversity_filter={"enabled": True, "bucket_size": 1, "min_score": 0.0, "purge_memory": True})
    assert len(log) == 80
