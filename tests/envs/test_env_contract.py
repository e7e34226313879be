"""The contract every registered env keeps with default arguments (`deep_arena.envs.ENV_IDS`), and the PettingZoo
API of the two-player Go env (`deep_arena.envs.go.env()`).

* Gymnasium's and Stable-Baselines3's `check_env` pass on `gymnasium.make(id)` with defaults.
* Every element of the action space can be stepped: random `action_space.sample()` actions, no mask, never raise;
  an action the mask forbids ends the episode as a loss (Go) or pays a penalty (molecule) and says so in
  `info["illegal_action"]` / `info["illegal_reason"]`.
* Seeding: the same seed gives the same trajectory; another seed a different one where the env is random.
* `copy.deepcopy` of a reset env is a faithful and independent copy.
* `render_mode="rgb_array"` frames are uint8 (H, W, 3) pictures, not one colour; `close()` may be called twice.
* Bad seeds and bad reset options are refused with a TypeError / ValueError that names the problem.
* PettingZoo's `api_test`, `seed_test` and `render_test` on the AEC Go env with defaults.

Env-specific behaviour (rules, rewards, physics, non-default settings) is tested in each env's own test file.
"""

from __future__ import annotations

import os

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")  # before pygame is imported anywhere: no real display here
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
os.environ.setdefault("MUJOCO_GL", "egl")  # before mujoco is imported anywhere: headless rendering

import copy
import warnings
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env as gym_check_env
from gymnasium.utils.env_checker import data_equivalence

import deep_arena.envs  # registers the ids
from deep_arena import envs

ENV_IDS = list(deep_arena.envs.ENV_IDS)
DISCRETE_IDS = ["arena/Go-v0", "arena/MoleculeDesign-v0"]  # the envs with an action mask
# Settings that keep the long random loops short; everything else, the checkers included, runs with defaults.
SMALL = {"arena/Go-v0": {"board_size": 5}}
# Envs that draw from their RNG with default arguments (Go: the random opponent; arm: goal and cube positions).
# The molecule env starts every episode from "C" by default: only a list of start molecules makes it random.
RANDOM_KWARGS = {"arena/MoleculeDesign-v0": {"start_smiles": ["CCO", "c1ccccc1", "CC(=O)N"]}}


def first_action(env: gym.Env, info: dict[str, Any], rng: np.random.Generator) -> Any:
    """A legal action (from the mask when there is one, never Go's pass or the molecule's stop, so the episode
    goes on), or a sampled one for the arm."""
    mask = info.get("action_mask")
    if mask is None:
        return rng.uniform(-1, 1, env.action_space.shape).astype(np.float32)
    choices = np.flatnonzero(mask[:-1])  # pass / stop is the last action
    return int(rng.choice(choices)) if len(choices) else len(mask) - 1


def trajectory(env: gym.Env, seed: int, steps: int = 40) -> list[tuple]:
    """reset(seed) then up to ``steps`` legal actions drawn by an rng seeded with 0: every (obs, reward, terminated,
    truncated, info) in order. The actions depend only on what the env returns, so two runs compare the envs."""
    rng = np.random.default_rng(0)
    obs, info = env.reset(seed=seed)
    out = [(obs, 0.0, False, False, info)]
    for _ in range(steps):
        obs, reward, terminated, truncated, info = env.step(first_action(env, info, rng))
        out.append((obs, reward, terminated, truncated, info))
        if terminated or truncated:
            break
    return out


# ---------------------------------------------------------------------------------------------------------------
# The checkers, with default arguments


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_gymnasium_and_sb3_checkers_with_defaults(env_id: str) -> None:
    from stable_baselines3.common.env_checker import check_env as sb3_check_env

    env = gym.make(env_id)
    # Both checkers are handed the unwrapped env: they check the env's own code, and Gymnasium's warns when given a
    # wrapper (gym.make adds PassiveEnvChecker, which runs the same checks, and TimeLimit for the arm envs). The
    # unwrapped env keeps its spec, so Gymnasium's checker still makes one env per render mode and renders it.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        gym_check_env(env.unwrapped)
        sb3_check_env(env.unwrapped)
    messages = [str(w.message) for w in caught]
    # Expected, not faults: SB3 takes any 3-D Box for an image (Go's planes), and the arm's observation boxes are
    # unbounded (positions, velocities), which Gymnasium points out.
    unexpected = [m for m in messages if "image" not in m and "infinity" not in m]
    assert unexpected == []
    env.close()


# ---------------------------------------------------------------------------------------------------------------
# Every element of the action space can be stepped


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_random_unmasked_actions_never_raise(env_id: str) -> None:
    env = gym.make(env_id, **SMALL.get(env_id, {}))
    env.action_space.seed(0)
    obs, info = env.reset(seed=0)
    illegal_seen = episodes = 0
    for _ in range(300):
        action = env.action_space.sample()
        mask = info.get("action_mask")
        obs, reward, terminated, truncated, info = env.step(action)
        assert env.observation_space.contains(obs) and np.isfinite(reward)
        if mask is not None:
            illegal = not mask[int(action)]
            assert info["illegal_action"] is illegal
            if illegal:
                illegal_seen += 1
                assert isinstance(info["illegal_reason"], str) and info["illegal_reason"]
                if env_id == "arena/Go-v0":
                    assert info["illegal_reason"] in ("occupied", "suicide", "superko")
                    assert (reward, terminated, truncated) == (-1.0, True, False)
                    assert info["winner"] == -info["agent_color"]
                else:
                    assert reward == env.unwrapped.illegal_penalty
            else:
                assert "illegal_reason" not in info
        if terminated or truncated:
            episodes += 1
            obs, info = env.reset()
    assert episodes > 0
    assert (illegal_seen > 0) is (env_id in DISCRETE_IDS)
    env.close()


@pytest.mark.parametrize("env_id", DISCRETE_IDS)
def test_an_illegal_action_ends_or_penalises_with_the_reason(env_id: str) -> None:
    env = gym.make(env_id, **SMALL.get(env_id, {}))
    obs, info = env.reset(seed=0)
    if env_id == "arena/Go-v0":
        obs, _, _, _, info = env.step(12)  # a stone on the centre: playing there again is illegal
        assert not info["illegal_action"]
        action = 12 if env.unwrapped.game.board.reshape(-1)[12] else int(np.flatnonzero(~info["action_mask"])[0])
        obs, reward, terminated, truncated, info = env.step(action)
        assert (reward, terminated, truncated) == (-1.0, True, False)
        assert info["illegal_action"] and info["illegal_reason"] == "occupied"
        assert not info["action_mask"].any()
        with pytest.raises(RuntimeError, match="reset"):
            env.step(0)
    else:
        codec = env.unwrapped.codec
        obs, reward, terminated, truncated, info = env.step(codec.add_action(5, 0, 1))  # methane has no atom 5
        assert (reward, terminated, truncated) == (-1.0, False, False)
        assert info["illegal_action"] and "there is no atom 5" in info["illegal_reason"]
        assert info["smiles"] == "C" and info["steps_left"] == env.unwrapped.max_steps - 1
        obs, reward, terminated, truncated, info = env.step(codec.add_action(0, 0, 1))  # a legal edit goes on
        assert not info["illegal_action"] and info["smiles"] == "CC"
    env.close()


@pytest.mark.parametrize("env_id", DISCRETE_IDS)
def test_illegal_action_raise_is_still_available(env_id: str) -> None:
    from deep_arena.envs.go import IllegalMoveError
    from deep_arena.envs.molecule.chem import IllegalEditError

    env = gym.make(env_id, illegal_action="raise", **SMALL.get(env_id, {}))
    env.reset(seed=0)
    if env_id == "arena/Go-v0":
        env.step(12)
        error, action = IllegalMoveError, 12
        if not env.unwrapped.game.board.reshape(-1)[12]:
            pytest.skip("the opponent took the point")  # not with seed 0
    else:
        error, action = IllegalEditError, env.unwrapped.codec.add_action(5, 0, 1)
    with pytest.raises(error) as excinfo:
        env.unwrapped.step(action)  # unwrapped: a raised step is a debugging aid, not a step the checker should see
    assert isinstance(excinfo.value, ValueError) and excinfo.value.reason


@pytest.mark.parametrize("env_id", [i for i in ENV_IDS if i not in DISCRETE_IDS])
def test_box_actions_at_and_beyond_the_bounds_are_stepped(env_id: str) -> None:
    env = gym.make(env_id)
    env.reset(seed=0)
    space = env.action_space
    for action in (space.low, space.high, np.zeros_like(space.low), space.high * 5):  # the last is clipped
        obs, reward, terminated, truncated, info = env.step(action)
        assert env.observation_space.contains(obs) and np.isfinite(reward) and not truncated
    env.close()


def test_aec_random_unmasked_actions_end_the_game_as_a_loss_for_the_mover() -> None:
    env = envs.go.env(board_size=5)
    rng = np.random.default_rng(0)
    illegal_games = 0
    for game in range(20):
        env.reset(seed=game)
        for agent in env.agent_iter():
            obs, reward, terminated, truncated, info = env.last()
            if terminated or truncated:
                env.step(None)
                continue
            action = int(rng.integers(env.action_space(agent).n))
            illegal = not obs["action_mask"][action]
            other = "white" if agent == "black" else "black"
            env.step(action)
            if illegal:
                illegal_games += 1
                assert env.rewards == {agent: -1.0, other: 1.0}
                assert env.terminations == {agent: True, other: True}
                assert env.infos[agent]["illegal_action"] is True
                assert env.infos[agent]["illegal_reason"] in ("occupied", "suicide", "superko")
                assert "illegal_action" not in env.infos[other]
    assert illegal_games > 5


# ---------------------------------------------------------------------------------------------------------------
# Seeding, copies


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_same_seed_same_trajectory_and_another_seed_differs(env_id: str) -> None:
    kwargs = SMALL.get(env_id, {})
    run = trajectory(gym.make(env_id, **kwargs), seed=3)
    assert len(run) > 2
    assert data_equivalence(trajectory(gym.make(env_id, **kwargs), seed=3), run, exact=True)
    env = gym.make(env_id, **kwargs)
    trajectory(env, seed=11)
    assert data_equivalence(trajectory(env, seed=3), run, exact=True)  # a reset with the seed forgets the past

    kwargs = {**kwargs, **RANDOM_KWARGS.get(env_id, {})}
    runs = [trajectory(gym.make(env_id, **kwargs), seed=s) for s in range(3, 8)]
    assert not all(data_equivalence(r, runs[0]) for r in runs[1:])


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_deepcopy_is_faithful_and_independent(env_id: str) -> None:
    kwargs = SMALL.get(env_id, {})
    rng = np.random.default_rng(1)

    reference = gym.make(env_id, **kwargs)
    _, info = reference.reset(seed=5)
    action = first_action(reference, info, rng)
    expected = reference.step(action)

    env = gym.make(env_id, **kwargs)
    env.reset(seed=5)
    twin = copy.deepcopy(env)
    assert data_equivalence(twin.step(action), expected, exact=True)  # the copy carries the state and the RNG
    step = expected
    for _ in range(10):  # the copy goes on by itself
        if step[2] or step[3]:
            _, info = twin.reset(seed=9)
        else:
            info = step[4]
        step = twin.step(first_action(twin, info, rng))
    assert data_equivalence(env.step(action), expected, exact=True)  # the original did not move
    for e in (reference, env, twin):
        e.close()


# ---------------------------------------------------------------------------------------------------------------
# Rendering and closing


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_rgb_array_frames_are_pictures_and_close_twice_is_fine(env_id: str) -> None:
    env = gym.make(env_id, render_mode="rgb_array")
    _, info = env.reset(seed=0)
    rng = np.random.default_rng(0)
    for _ in range(3):
        _, _, terminated, truncated, info = env.step(first_action(env, info, rng))
        if terminated or truncated:
            _, info = env.reset()
    frame = env.render()
    assert isinstance(frame, np.ndarray) and frame.dtype == np.uint8
    assert frame.ndim == 3 and frame.shape[2] == 3 and min(frame.shape[:2]) >= 64
    assert len(np.unique(frame.reshape(-1, 3), axis=0)) > 10  # a picture, not one colour
    env.close()
    env.close()

    plain = gym.make(env_id)  # closed without ever rendering, and before any reset
    plain.close()
    plain.close()


# ---------------------------------------------------------------------------------------------------------------
# Bad seeds and options

BAD_SEEDS = [(-1, ValueError), ("x", TypeError), (1.5, TypeError), (True, TypeError), ([1], TypeError)]
# A key of the right name with a value of the wrong type, per env (Go takes no options).
BAD_OPTION_VALUES = {
    "arena/MoleculeDesign-v0": ({"smiles": 5}, TypeError, "smiles"),
    "arena/ArmReach-v0": ({"goal": "x"}, ValueError, "goal"),
    "arena/ArmPush-v0": ({"object_xy": [1, 2, 3]}, ValueError, "object_xy"),
    "arena/ArmPickAndPlace-v0": ({"goal": [0.4, 0.0]}, ValueError, "goal"),
}


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_bad_seeds_and_options_are_refused_by_name(env_id: str) -> None:
    env = gym.make(env_id, **SMALL.get(env_id, {}))
    for seed, error in BAD_SEEDS:
        with pytest.raises(error, match="seed must be a non-negative integer"):
            env.reset(seed=seed)
    env.reset(seed=np.int64(3))  # a NumPy integer is a fine seed
    with pytest.raises(ValueError, match="unknown reset option.*'no_such_option'"):
        env.reset(seed=0, options={"no_such_option": 1})
    for options in ("x", [("goal", 1)], 3):
        with pytest.raises(TypeError, match="options must be a dict or None"):
            env.reset(seed=0, options=options)
    if env_id in BAD_OPTION_VALUES:
        options, error, name = BAD_OPTION_VALUES[env_id]
        with pytest.raises(error, match=name):
            env.reset(seed=0, options=options)
    env.reset(seed=0, options={})  # an empty dict and None are fine
    env.reset(seed=None, options=None)
    env.close()


def test_aec_bad_seeds_and_options_are_refused_by_name() -> None:
    # Unknown option keys are let through here: PettingZoo's own api_test resets with {"options": 1}.
    env = envs.go.env()
    for seed, error in BAD_SEEDS:
        with pytest.raises(error, match="seed must be a non-negative integer"):
            env.reset(seed=seed)
    with pytest.raises(TypeError, match="options must be a dict or None"):
        env.reset(options="x")
    env.reset(seed=np.int64(3), options={})


# ---------------------------------------------------------------------------------------------------------------
# PettingZoo's tests on the two-player Go env, with defaults


@pytest.mark.filterwarnings("ignore:Observation space for each agent probably should be:UserWarning")
@pytest.mark.filterwarnings("ignore:We recommend agents to be named:UserWarning")
@pytest.mark.filterwarnings("ignore:Observation is not a NumPy array:UserWarning")  # a Dict, as in classic games
@pytest.mark.filterwarnings("ignore:The old environment creation API:DeprecationWarning")  # PettingZoo's own import
def test_pettingzoo_api_test_with_defaults() -> None:
    from pettingzoo.test import api_test

    api_test(envs.go.env(), num_cycles=1000)


def test_pettingzoo_seed_test_with_defaults() -> None:
    from pettingzoo.test import seed_test

    seed_test(envs.go.env, num_cycles=500)


def test_pettingzoo_render_test_with_defaults() -> None:
    from pettingzoo.test import render_test

    def env_fn(render_mode: str | None = None):
        env = envs.go.env(render_mode=render_mode)
        env.metadata = {**env.metadata, "render_fps": 1000}  # the human window need not hold 4 fps in a test
        return env

    def many_colours(frame: np.ndarray) -> bool:
        return len(np.unique(frame.reshape(-1, 3), axis=0)) > 500

    render_test(env_fn, custom_tests={"rgb_array": many_colours})
