"""DiscriminatorReward: awkward molecules never crash, scores in [0, 1], plugs into the molecule env."""

from __future__ import annotations

import math

import pytest
import torch
from rdkit import Chem

from deep_arena.gan.molgan import MolGAN
from deep_arena.gan.rewards import DiscriminatorReward

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def reward(tmp_path_factory):
    torch.manual_seed(0)
    model = MolGAN()
    model.critic_stats = {"real_mean": 1.0, "real_std": 0.5, "fake_mean": -1.0, "real_batch_std": 0.2}
    path = tmp_path_factory.mktemp("gan") / "generator.pt"
    model.save(path)
    return DiscriminatorReward(path, low_score=0.0)


@pytest.mark.parametrize("smiles", ["C", "CCO", "c1ccccc1", "O=C1CC1"])
def test_encodable_molecules_score_in_unit_interval(reward, smiles):
    value = reward(Chem.MolFromSmiles(smiles))
    assert 0.0 < value < 1.0 and math.isfinite(value)
    assert reward.raw(Chem.MolFromSmiles(smiles)) is not None


@pytest.mark.parametrize("smiles", ["C" * 30, "CCS", "CCCl", "C[NH3+]", "[CH3]", ""])
def test_unencodable_molecules_get_the_low_score(reward, smiles):
    mol = Chem.MolFromSmiles(smiles)
    assert reward(mol) == 0.0
    assert reward(None) == 0.0


def test_plugs_into_the_molecule_env(reward):
    from deep_arena.envs.molecule.env import MoleculeEnv

    env = MoleculeEnv(reward_fn=reward, start_smiles="C", max_atoms=12, max_steps=4)
    env.reset(seed=0)
    total = 0.0
    for _ in range(4):
        mask = env.action_masks()
        action = int(mask.nonzero()[0][0])
        _, r, terminated, truncated, _ = env.step(action)
        total += r
        assert math.isfinite(r)
        if terminated or truncated:
            break


def test_pretrained_generator_samples_and_scores():
    from deep_arena.gan import PRETRAINED_DIR, load_pretrained

    if not (PRETRAINED_DIR / "molgan-qm9.pt").is_file():
        pytest.skip("no pretrained GAN shipped in this checkout")
    gan = load_pretrained("molgan-qm9")
    samples = gan.sample(200, seed=0)
    assert samples == gan.sample(200, seed=0) and len(samples) == 200
    valid = [s for s in samples if s is not None]
    assert len(valid) > 40
    reward = DiscriminatorReward("pretrained")
    assert 0.0 <= reward(Chem.MolFromSmiles(valid[0])) <= 1.0
    with pytest.raises(ValueError, match="unknown pretrained"):
        load_pretrained("nope")


def test_qed_finetuned_generator_is_shipped_and_leans_to_higher_qed():
    """molgan-qm9-qed is molgan-qm9's run fine-tuned with the RL term on QED (README): both use valence
    decoding at temperature 2, and on the same latent draws the fine-tuned one's valid molecules score higher QED."""
    from rdkit.Chem import QED

    from deep_arena.gan import PRETRAINED_DIR, load_pretrained

    if not (PRETRAINED_DIR / "molgan-qm9-qed.pt").is_file():
        pytest.skip("no QED-tuned GAN shipped in this checkout")
    plain, tuned = load_pretrained("molgan-qm9"), load_pretrained("molgan-qm9-qed")
    assert tuned.config["decode"] == plain.config["decode"] == "valence" and tuned.config["temperature"] == 2.0

    def mean_qed(model):
        valid = [s for s in model.sample(1500, seed=7) if s is not None]
        assert len(valid) > 1300 and len(set(valid)) > 0.9 * len(valid)
        return sum(QED.qed(Chem.MolFromSmiles(s)) for s in valid) / len(valid)

    assert mean_qed(tuned) > mean_qed(plain) + 0.01
