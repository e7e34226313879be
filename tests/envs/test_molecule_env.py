"""`arena/MoleculeDesign-v0`: API checkers, determinism, observations, rewards, errors, rendering."""

from __future__ import annotations

import os

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env as gym_check_env
from rdkit import Chem
from stable_baselines3.common.env_checker import check_env as sb3_check_env

import deep_arena.envs  # noqa: F401  (registers the ids)
from deep_arena.envs.molecule import rewards
from deep_arena.envs.molecule.chem import IllegalEditError, MoleculeError
from deep_arena.envs.molecule.env import MoleculeEnv


def random_episode(env, seed: int, steps: int = 15):
    rng = np.random.default_rng(seed)
    obs, info = env.reset(seed=seed)
    out = [(obs, info["smiles"])]
    for _ in range(steps):
        mask = info["action_mask"].copy()
        mask[env.unwrapped.codec.stop] = False
        obs, reward, term, trunc, info = env.step(int(rng.choice(np.flatnonzero(mask))))
        out.append((obs, info["smiles"], reward))
        if term or trunc:
            break
    return out


def test_checkers_on_graph_observations():
    # The defaults (fingerprint observations) are checked in tests/envs/test_env_contract.py. The checkers step random
    # (mostly masked) actions, which the default illegal_action="penalize" turns into penalties.
    kwargs = dict(obs_type="graph", max_atoms=12, max_steps=10)
    gym_check_env(MoleculeEnv(**kwargs), skip_render_check=True)
    sb3_check_env(MoleculeEnv(**kwargs), warn=True)


def test_registered_and_masks():
    env = gym.make("arena/MoleculeDesign-v0")
    obs, info = env.reset(seed=0)
    assert info["smiles"] == "C"
    assert env.action_space.n == 3497
    assert np.array_equal(env.unwrapped.action_masks(), info["action_mask"])
    # From methane: add C/N/O/F/S/Cl with the orders each allows (F/Cl single only; O, S up to double) + stop.
    assert info["action_mask"].sum() == 3 + 3 + 2 + 1 + 2 + 1 + 1


def test_same_seed_same_trajectory():
    a = random_episode(MoleculeEnv(start_smiles=["CCO", "c1ccccc1", "CC(=O)N"]), seed=5, steps=30)
    b = random_episode(MoleculeEnv(start_smiles=["CCO", "c1ccccc1", "CC(=O)N"]), seed=5, steps=30)
    assert [x[1] for x in a] == [x[1] for x in b]
    assert all(np.array_equal(x[0], y[0]) for x, y in zip(a, b))


def test_every_state_is_valid_and_smiles_round_trip():
    env = MoleculeEnv(valences={"S": (2, 4, 6)})
    for seed in range(5):
        for item in random_episode(env, seed, steps=40):
            mol = Chem.MolFromSmiles(item[1])
            assert mol is not None and Chem.MolToSmiles(mol) == item[1]


def test_episode_end_and_rewards():
    env = MoleculeEnv(objective="qed", max_steps=3, discount=0.9)
    obs, info = env.reset(seed=0, options={"smiles": "CCO"})
    codec = env.codec
    a = codec.add_action(0, 0, 1)
    obs, r, term, trunc, info = env.step(a)
    assert r == pytest.approx(rewards.qed(Chem.MolFromSmiles(info["smiles"])) * 0.9**2)
    assert info["steps_left"] == 2 and not term and not trunc
    obs, r, term, trunc, info = env.step(codec.stop)
    assert term and not trunc and r == pytest.approx(info["score"])
    with pytest.raises(RuntimeError, match="reset"):
        env.step(codec.stop)
    # Final-only reward: zero until the last step, then the score.
    env = MoleculeEnv(objective="plogp", reward_mode="final", max_steps=2)
    env.reset(seed=0)
    _, r1, *_ = env.step(codec.add_action(0, 0, 1))
    _, r2, term, trunc, info = env.step(codec.add_action(0, 0, 1))
    assert r1 == 0.0 and trunc and r2 == pytest.approx(rewards.penalized_logp(Chem.MolFromSmiles("CCC")))


def test_user_reward_fn_and_sim_plogp_follow_the_start():
    env = MoleculeEnv(reward_fn=lambda mol: float(mol.GetNumAtoms()))
    env.reset(seed=0, options={"smiles": "CCCC"})
    _, r, *_ = env.step(env.codec.add_action(0, 0, 1))
    assert r == 5.0
    env = MoleculeEnv(objective="sim_plogp", objective_kwargs={"delta": 0.4})
    _, info = env.reset(seed=0, options={"smiles": "CCOc1ccccc1"})
    start = rewards.ConstrainedPenalizedLogP("CCOc1ccccc1", delta=0.4)
    assert info["score"] == pytest.approx(start(Chem.MolFromSmiles("CCOc1ccccc1")))
    bad = MoleculeEnv(reward_fn=lambda mol: float("nan"))
    with pytest.raises(ValueError, match="lambda|nan|NaN|finite"):
        bad.reset(seed=0)


def test_graph_observation_matches_molecule():
    env = MoleculeEnv(obs_type="graph", max_atoms=20)
    obs, info = env.reset(seed=0, options={"smiles": "C=CC#N"})
    assert obs["atoms"][:, -1].sum() == 4
    assert obs["bonds"][1].sum() == 2 and obs["bonds"][2].sum() == 2 and obs["bonds"][0].sum() == 2
    assert env.observation_space.contains(obs)


def test_bad_input_errors():
    with pytest.raises(MoleculeError, match="could not parse"):
        MoleculeEnv(start_smiles="C1CC")
    with pytest.raises(ValueError, match="unknown element"):
        MoleculeEnv(valences={"Qq": (1,)})
    with pytest.raises(ValueError, match="no valences"):
        MoleculeEnv(atom_types=("C", "Si"))
    with pytest.raises(ValueError, match="obs_type"):
        MoleculeEnv(obs_type="image")
    with pytest.raises(ValueError, match="discount"):
        MoleculeEnv(discount=0.0)
    env = MoleculeEnv(illegal_action="raise")
    env.reset(seed=0)
    with pytest.raises(MoleculeError, match="charge"):
        env.reset(options={"smiles": "C[NH3+]"})
    with pytest.raises(ValueError, match="unknown reset option"):
        env.reset(options={"smile": "CC"})
    with pytest.raises(ValueError, match="integer"):
        env.step(np.float32(np.nan))
    with pytest.raises(ValueError, match="outside"):
        env.step(10**6)
    with pytest.raises(IllegalEditError, match="there is no atom 5"):
        env.step(env.codec.add_action(5, 0, 1))
    assert env.mol.smiles() == "C"  # unchanged


def test_illegal_action_penalize_is_the_default():
    env = MoleculeEnv(illegal_penalty=-2.0)
    env.reset(seed=0)
    obs, r, term, trunc, info = env.step(env.codec.add_action(0, env.rules.atom_types.index("F"), 2))
    assert r == -2.0 and info["illegal_action"] is True and info["smiles"] == "C"
    assert "F" in info["illegal_reason"] and "order 2" in info["illegal_reason"]  # a new F cannot take a double bond
    _, r, *_, info = env.step(env.codec.add_action(0, 0, 1))
    assert info["illegal_action"] is False and "illegal_reason" not in info and info["smiles"] == "CC"


def test_next_states_are_the_distinct_valid_results():
    env = MoleculeEnv()
    env.reset(seed=0, options={"smiles": "CC(=O)O"})
    ns = env.next_states()
    assert ns["stop"][-1] and ns["smiles"][-1] == "CC(=O)O"
    assert len(set(ns["smiles"])) == len(ns["smiles"])
    brute = set()
    for a in np.flatnonzero(env.action_masks()):
        if a != env.codec.stop:
            brute.add(env.mol.apply(env.codec, int(a)).smiles())
    brute.discard("CC(=O)O")
    assert set(ns["smiles"][:-1]) == brute
    for fp, m in zip(ns["fingerprints"], ns["mols"]):
        assert np.array_equal(fp, env.fingerprint(m))


def test_render_rgb_array_and_human():
    env = MoleculeEnv(render_mode="rgb_array")
    env.reset(seed=0, options={"smiles": "c1ccccc1O"})
    frame = env.render()
    assert frame.ndim == 3 and frame.shape[2] == 3 and frame.dtype == np.uint8 and frame.std() > 0
    env.close()
    human = MoleculeEnv(render_mode="human")
    human.reset(seed=0)
    human.step(human.codec.add_action(0, 0, 1))
    human.close()
