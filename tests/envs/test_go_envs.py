"""The Go environments: Gymnasium `arena/Go-v0` (envs/go/gym_env.py) and the PettingZoo AEC env (envs/go/aec_env.py).

API checkers on non-default settings (tests/envs/test_env_contract.py runs them, and PettingZoo's api/seed/render tests,
with the defaults), seeding, observation planes, rewards, illegal and malformed actions, action masks with
sb3-contrib's MaskablePPO, GNU Go and callable opponents, two board sizes in one process, and rendering. Headless: SDL's dummy video driver stands in for a display.
"""

from __future__ import annotations

import os

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")  # before pygame is imported anywhere: no real display here
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

import warnings
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env as gym_check_env
from gymnasium.utils.env_checker import data_equivalence

import deep_arena.envs  # noqa: F401  (registers arena/Go-v0)
from deep_arena import envs
from deep_arena.envs.go import BLACK, WHITE, GoGame, IllegalMoveError
from deep_arena.envs.go.gnugo import gnugo_path
from deep_arena.envs.go.gym_env import GoEnv

ENV_ID = "arena/Go-v0"
needs_gnugo = pytest.mark.skipif(gnugo_path() is None, reason="GNU Go is not installed")


# ---------------------------------------------------------------------------------------------------------------
# Helpers


def random_action(rng: np.random.Generator, mask: np.ndarray) -> int:
    return int(rng.choice(np.flatnonzero(mask)))


def random_point(rng: np.random.Generator, mask: np.ndarray) -> int:
    """A random legal board point (not pass), or pass when there is none."""
    points = np.flatnonzero(mask[:-1])
    return int(rng.choice(points)) if len(points) else len(mask) - 1


def pass_policy(game: GoGame) -> int:
    return game.pass_action


def centre_then_pass(game: GoGame) -> int:
    """Plays the centre point if it is free, otherwise passes."""
    centre = (game.board_size // 2) * game.board_size + game.board_size // 2
    return centre if game.board.reshape(-1)[centre] == 0 else game.pass_action


def gym_trajectory(env: gym.Env, seed: int, agent_seed: int) -> list[tuple]:
    """One episode with actions drawn by a seeded rng from info["action_mask"]: every (obs, reward, term, trunc,
    info) in order, reset included."""
    rng = np.random.default_rng(agent_seed)
    obs, info = env.reset(seed=seed)
    steps = [(obs, 0.0, False, False, info)]
    while True:
        obs, reward, terminated, truncated, info = env.step(random_action(rng, info["action_mask"]))
        steps.append((obs, reward, terminated, truncated, info))
        if terminated or truncated:
            return steps


def aec_trajectory(env, seed: int, agent_seed: int) -> list[tuple]:
    """One AEC game driven by a seeded rng: every (agent, obs, reward, term, trunc, info) from last()."""
    rng = np.random.default_rng(agent_seed)
    env.reset(seed=seed)
    steps = []
    for agent in env.agent_iter():
        obs, reward, terminated, truncated, info = env.last()
        steps.append((agent, obs, reward, terminated, truncated, info))
        env.step(None if terminated or truncated else random_action(rng, obs["action_mask"]))
    return steps


def aec_final(env) -> dict[str, tuple]:
    """Drain a finished AEC game: each agent's last() once it is done."""
    final = {}
    for agent in env.agent_iter():
        _, reward, terminated, truncated, info = env.last()
        assert terminated or truncated, f"{agent} is not done"
        final[agent] = (reward, terminated, truncated, info)
        env.step(None)
    return final


def boards_after_each_move(game: GoGame) -> list[np.ndarray]:
    """Replays ``game.history`` into a fresh game: the board before any move, then after each move."""
    replay = GoGame(game.board_size, game.komi)
    boards = [replay.board.copy()]
    for action in game.history:
        replay.play(action)
        boards.append(replay.board.copy())
    return boards


def check_planes(obs: np.ndarray, game: GoGame, colour: int, legal: np.ndarray, history_length: int) -> None:
    """Every plane of ``obs`` as the features table says, from ``colour``'s point of view (history rebuilt by
    replaying the game, independently of the env's ring buffer)."""
    h, n = history_length, game.board_size
    assert obs.shape == (2 * h + 2, n, n) and obs.dtype == np.float32
    assert set(np.unique(obs)) <= {0.0, 1.0}
    boards = boards_after_each_move(game)
    assert np.array_equal(boards[-1], game.board)
    for t in range(h):
        board = boards[-1 - t] if t < len(boards) else np.zeros((n, n), dtype=np.int8)
        assert np.array_equal(obs[t], board == colour), f"own stones, {t} moves ago"
        assert np.array_equal(obs[h + t], board == -colour), f"opponent stones, {t} moves ago"
    assert np.all(obs[2 * h] == (1.0 if colour == BLACK else 0.0)), "colour plane"
    assert np.array_equal(obs[2 * h + 1].reshape(-1), legal[:-1]), "legal-move plane"


# ---------------------------------------------------------------------------------------------------------------
# API checkers


# The defaults (9x9, black) are checked in tests/envs/test_env_contract.py.
@pytest.mark.parametrize(("board_size", "agent_color"),
                         [(5, "black"), (5, "white"), (5, "random"), (9, "white"), (9, "random")])
def test_gymnasium_and_sb3_env_checkers(board_size: int, agent_color: str) -> None:
    from stable_baselines3.common.env_checker import check_env as sb3_check_env

    # The checkers step with unmasked samples, so an occupied point is likely: the default "lose" ends the episode.
    env = gym.make(ENV_ID, board_size=board_size, agent_color=agent_color)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        gym_check_env(env.unwrapped)
    assert [str(w.message) for w in caught] == []

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        sb3_check_env(env.unwrapped)
    # SB3 mistakes any 3-D Box for an image (uint8, channels, 36x36 for its CNN); nothing else may come up.
    others = [str(w.message) for w in caught if "image" not in str(w.message)]
    assert others == []
    env.close()


@pytest.mark.filterwarnings("ignore:Observation space for each agent probably should be:UserWarning")
@pytest.mark.filterwarnings("ignore:We recommend agents to be named:UserWarning")
@pytest.mark.filterwarnings("ignore:Observation is not a NumPy array:UserWarning")  # a Dict, as in classic games
@pytest.mark.filterwarnings("ignore:The old environment creation API:DeprecationWarning")  # PettingZoo's own import
def test_pettingzoo_api_test_on_other_settings() -> None:
    # With the defaults, PettingZoo's api_test, seed_test and render_test run in tests/envs/test_env_contract.py.
    from pettingzoo.test import api_test, seed_test

    api_test(envs.go.env(board_size=5, illegal_action="raise", history_length=2), num_cycles=1000)
    seed_test(lambda: envs.go.env(board_size=5), num_cycles=500)


# ---------------------------------------------------------------------------------------------------------------
# Seeding


def test_gym_same_seed_same_trajectory_and_different_seed_differs() -> None:
    make = lambda: gym.make(ENV_ID, board_size=5, opponent="random", agent_color="random")  # noqa: E731
    env_a, env_b = make(), make()
    run_1 = gym_trajectory(env_a, seed=7, agent_seed=3)
    run_2 = gym_trajectory(env_b, seed=7, agent_seed=3)
    assert data_equivalence(run_1, run_2, exact=True)
    # The same env, reset again with the same seed, replays the episode too.
    assert data_equivalence(gym_trajectory(env_a, seed=7, agent_seed=3), run_1, exact=True)
    # Another seed changes the agent's colour draw and/or the opponent's moves.
    assert not data_equivalence(gym_trajectory(env_b, seed=8, agent_seed=3), run_1)
    colours = {gym_trajectory(env_a, seed=s, agent_seed=0)[0][4]["agent_color"] for s in range(10)}
    assert colours == {BLACK, WHITE}
    env_a.close()
    env_b.close()


def test_aec_same_seed_same_trajectory_and_different_seed_differs() -> None:
    run_1 = aec_trajectory(envs.go.env(board_size=5), seed=7, agent_seed=3)
    run_2 = aec_trajectory(envs.go.env(board_size=5), seed=7, agent_seed=3)
    assert len(run_1) > 4
    assert data_equivalence(run_1, run_2, exact=True)
    assert not data_equivalence(aec_trajectory(envs.go.env(board_size=5), seed=7, agent_seed=4), run_1)


# ---------------------------------------------------------------------------------------------------------------
# Observations


@pytest.mark.parametrize("agent_color", ["black", "white"])
@pytest.mark.parametrize("history_length", [1, 4])
def test_gym_observation_planes_follow_the_features_table(agent_color: str, history_length: int) -> None:
    env = GoEnv(board_size=5, agent_color=agent_color, history_length=history_length)
    rng = np.random.default_rng(0)
    obs, info = env.reset(seed=1)
    colour = BLACK if agent_color == "black" else WHITE
    assert info["agent_color"] == colour
    for _ in range(12):
        assert env.observation_space.contains(obs)
        assert np.array_equal(info["action_mask"], env.game.legal_moves())
        check_planes(obs, env.game, colour, info["action_mask"], history_length)
        obs, _, terminated, truncated, info = env.step(random_point(rng, info["action_mask"]))
        if terminated or truncated:
            break
    assert env.game.move_number >= 10


def test_gym_history_planes_show_the_previous_boards() -> None:
    # Black agent plays C3 (12); the opponent always answers on the first free point of the top row.
    first_free = lambda game: int(np.flatnonzero(game.legal_moves()[:-1])[0])  # noqa: E731
    env = GoEnv(board_size=5, opponent=first_free, history_length=4)
    env.reset(seed=0)
    obs, *_ = env.step(12)
    assert env.game.history == [12, 0]
    own, opp = obs[0:4].reshape(4, -1), obs[4:8].reshape(4, -1)
    assert np.flatnonzero(own[0]).tolist() == [12]  # now
    assert np.flatnonzero(own[1]).tolist() == [12]  # after our move, before the reply
    assert not own[2].any() and not own[3].any()  # the empty board, then nothing earlier
    assert np.flatnonzero(opp[0]).tolist() == [0]
    assert not opp[1].any() and not opp[2].any()

    obs, *_ = env.step(6)
    own, opp = obs[0:4].reshape(4, -1), obs[4:8].reshape(4, -1)
    assert [np.flatnonzero(p).tolist() for p in own] == [[6, 12], [6, 12], [12], [12]]
    assert [np.flatnonzero(p).tolist() for p in opp] == [[0, 1], [0], [0], []]


def test_gym_white_agent_sees_its_own_stones_first() -> None:
    env = GoEnv(board_size=5, agent_color="white", opponent=centre_then_pass)
    obs, info = env.reset(seed=0)
    h = env.history_length
    assert env.game.history == [12]  # the opponent (Black) has moved already
    assert not obs[0].any()  # no white stones
    assert np.flatnonzero(obs[h]).tolist() == [12]  # the black stone is the opponent's
    assert not obs[h + 1].any()  # the empty board before Black's move
    assert not obs[2 * h].any()  # colour plane: zeros for White
    assert obs[2 * h + 1].reshape(-1)[12] == 0 and obs[2 * h + 1].sum() == 24
    obs, *_ = env.step(0)
    assert np.flatnonzero(obs[0]).tolist() == [0]
    assert np.flatnonzero(obs[1]).tolist() == [0]  # our stone, before the opponent's reply (a pass)


def test_aec_observations_from_each_players_point_of_view() -> None:
    env = envs.go.env(board_size=5, history_length=2)
    env.reset(seed=0)
    space = env.observation_space("black")
    rng = np.random.default_rng(5)
    for _ in range(10):
        mover = env.agent_selection
        other = "white" if mover == "black" else "black"
        for agent in (mover, other):
            obs = env.observe(agent)
            assert space.contains(obs)
            colour = BLACK if agent == "black" else WHITE
            mask = obs["action_mask"].astype(bool)
            if agent == mover:
                assert np.array_equal(mask, env.game.legal_moves())
                assert np.array_equal(env.action_mask(), mask)
            else:
                assert not mask.any()  # not this agent's turn
            assert np.array_equal(env.action_mask(agent), mask)
            check_planes(obs["observation"], env.game, colour, mask, 2)
        env.step(random_point(rng, env.observe(mover)["action_mask"]))
    assert np.array_equal(env.state(), env.game.board)


# ---------------------------------------------------------------------------------------------------------------
# Rewards and episode ends


def test_gym_win_gives_plus_one_at_the_end_only() -> None:
    env = GoEnv(board_size=5, komi=0.5, opponent=pass_policy)
    env.reset(seed=0)
    _, reward, terminated, truncated, info = env.step(12)  # Black C3, White passes
    assert (reward, terminated, truncated) == (0.0, False, False)
    _, reward, terminated, truncated, info = env.step(25)  # Black passes: game over, Black owns the board
    assert (reward, terminated, truncated) == (1.0, True, False)
    assert info["winner"] == BLACK and info["score"] == 25 - 0.5
    assert not info["action_mask"].any()


def test_gym_loss_gives_minus_one() -> None:
    env = GoEnv(board_size=5, komi=0.5, opponent=centre_then_pass, agent_color="white")
    env.reset(seed=0)
    _, reward, terminated, truncated, info = env.step(25)  # White passes, Black passes: Black owns the board
    assert (reward, terminated, truncated) == (-1.0, True, False)
    assert info["winner"] == BLACK and info["agent_color"] == WHITE


@pytest.mark.parametrize("agent_color", ["black", "white"])
def test_gym_draw_with_integer_komi_gives_zero(agent_color: str) -> None:
    env = GoEnv(board_size=5, komi=0, opponent=pass_policy, agent_color=agent_color)
    env.reset(seed=0)
    _, reward, terminated, truncated, info = env.step(25)  # two passes on an empty board: score 0
    assert (reward, terminated, truncated) == (0.0, True, False)
    assert info["winner"] == 0 and info["score"] == 0


@pytest.mark.parametrize("agent_color", ["black", "white"])
def test_gym_truncation_at_max_moves(agent_color: str) -> None:
    env = GoEnv(board_size=5, max_moves=7, agent_color=agent_color)
    obs, info = env.reset(seed=3)
    rng = np.random.default_rng(0)
    for _ in range(10):
        obs, reward, terminated, truncated, info = env.step(random_point(rng, info["action_mask"]))
        if terminated or truncated:
            break
    assert (reward, terminated, truncated) == (0.0, False, True)
    assert info["move_number"] == 7 and "score" in info and "winner" in info
    assert not info["action_mask"].any() and not obs[-1].any()
    with pytest.raises(RuntimeError, match="reset"):
        env.step(25)


def test_aec_rewards_go_to_the_right_player() -> None:
    # Black takes the whole board: Black +1, White -1, both terminated.
    env = envs.go.env(board_size=5, komi=0.5)
    env.reset()
    env.step(12)
    env.step(25)
    env.step(25)
    assert env.rewards == {"black": 1.0, "white": -1.0}
    final = aec_final(env)
    assert final["black"][:3] == (1.0, True, False) and final["white"][:3] == (-1.0, True, False)
    assert final["black"][3]["winner"] == BLACK
    assert env.agents == []

    # Empty board, komi 7.5: White wins.
    env = envs.go.env(board_size=5)
    env.reset()
    env.step(25)
    env.step(25)
    final = aec_final(env)
    assert final["black"][0] == -1.0 and final["white"][0] == 1.0

    # Empty board, komi 0: a draw.
    env = envs.go.env(board_size=5, komi=0)
    env.reset()
    env.step(25)
    env.step(25)
    final = aec_final(env)
    assert {a: f[:3] for a, f in final.items()} == {"black": (0.0, True, False), "white": (0.0, True, False)}
    assert final["white"][3]["winner"] == 0


def test_aec_truncation_and_illegal_move_loss() -> None:
    env = envs.go.env(board_size=5, max_moves=4)
    env.reset()
    for action in (0, 1, 2, 3):
        env.step(action)
    final = aec_final(env)
    assert {a: f[:3] for a, f in final.items()} == {"black": (0.0, False, True), "white": (0.0, False, True)}

    env = envs.go.env(board_size=5)  # illegal_action="lose" is the default
    env.reset()
    env.step(12)
    env.step(12)  # White plays on Black's stone
    final = aec_final(env)
    assert final["white"][:3] == (-1.0, True, False) and final["black"][:3] == (1.0, True, False)
    assert final["white"][3]["illegal_action"] is True and final["white"][3]["illegal_reason"] == "occupied"
    assert final["white"][3]["winner"] == final["black"][3]["winner"] == BLACK
    assert "illegal_action" not in final["black"][3]
    with pytest.raises(RuntimeError, match="reset"):
        env.step(0)


# ---------------------------------------------------------------------------------------------------------------
# Illegal and malformed actions, bad arguments


def test_gym_illegal_move_raises_naming_the_reason_and_leaves_the_env_usable() -> None:
    env = GoEnv(board_size=5, opponent=pass_policy, illegal_action="raise")
    obs, info = env.reset(seed=0)
    obs, *_ = env.step(12)
    with pytest.raises(IllegalMoveError, match="occupied") as excinfo:
        env.step(12)
    assert isinstance(excinfo.value, ValueError) and excinfo.value.reason == "occupied"
    assert env.game.history == [12, 25]  # unchanged
    _, reward, terminated, *_ = env.step(13)
    assert reward == 0.0 and not terminated


def test_gym_illegal_move_ends_the_episode_as_a_loss_by_default() -> None:
    env = GoEnv(board_size=5, opponent=pass_policy)  # illegal_action="lose" is the default
    env.reset(seed=0)
    _, _, _, _, info = env.step(12)
    assert info["illegal_action"] is False and "illegal_reason" not in info
    obs, reward, terminated, truncated, info = env.step(12)
    assert (reward, terminated, truncated) == (-1.0, True, False)
    assert info["illegal_action"] is True and info["illegal_reason"] == "occupied" and info["winner"] == WHITE
    assert env.game.history == [12, 25]  # nothing was played
    assert not info["action_mask"].any() and not env.action_masks().any() and not obs[-1].any()
    with pytest.raises(RuntimeError, match="after the episode ended"):
        env.step(13)


BAD_ACTIONS = [
    (float("nan"), "integer action"),
    (1.0, "integer action"),
    (np.float32(2), "integer action"),
    ("3", "integer action"),
    (None, "integer action"),
    (True, "integer action"),
    ([3], "integer action"),
    (np.array(2.0), "integer action"),
    (np.array([1, 2]), "shape"),
    (np.array([], dtype=np.int64), "shape"),
    (-1, "not a move on a 5x5 board"),
    (26, "not a move on a 5x5 board"),
    (10**12, "not a move on a 5x5 board"),
]


@pytest.mark.parametrize("illegal_action", ["raise", "lose"])
@pytest.mark.parametrize(("action", "message"), BAD_ACTIONS, ids=[repr(a) for a, _ in BAD_ACTIONS])
def test_malformed_actions_raise_value_error(action: Any, message: str, illegal_action: str) -> None:
    env = GoEnv(board_size=5, illegal_action=illegal_action)
    env.reset(seed=0)
    with pytest.raises(ValueError, match=message):
        env.step(action)
    assert env.game.history == []  # nothing was played, and the episode goes on
    env.step(np.int64(12))

    aec = envs.go.env(board_size=5, illegal_action=illegal_action)
    aec.reset()
    with pytest.raises(ValueError, match=message):
        aec.step(action)
    assert aec.game.history == [] and aec.agent_selection == "black"


def test_integer_like_actions_are_accepted() -> None:
    env = GoEnv(board_size=5, opponent=pass_policy)
    env.reset(seed=0)
    for action in (np.int64(0), np.array(1), np.array([2], dtype=np.int32), np.uint8(3)):
        env.step(action)
    assert env.game.history == [0, 25, 1, 25, 2, 25, 3, 25]


def test_step_before_reset_and_after_the_end_raise_runtime_error() -> None:
    env = GoEnv(board_size=5, opponent=pass_policy)
    with pytest.raises(RuntimeError, match="reset"):
        env.step(0)
    env.reset(seed=0)
    env.step(25)
    with pytest.raises(RuntimeError, match="reset"):
        env.step(0)
    env.reset(seed=0)  # a new episode works
    env.step(0)

    aec = envs.go.env(board_size=5)
    with pytest.raises(RuntimeError, match="reset"):
        aec.step(0)
    aec.reset()
    aec.step(25)
    aec.step(25)
    with pytest.raises(ValueError, match="step\\(None\\)"):
        aec.step(0)  # a finished agent may only leave
    aec_final(aec)
    with pytest.raises(RuntimeError, match="reset"):
        aec.step(0)


BAD_ARGS = [
    ({"board_size": 4}, "board_size"),
    ({"board_size": 9.0}, "board_size"),
    ({"komi": "x"}, "komi"),
    ({"agent_color": "red"}, "agent_color"),
    ({"opponent": "gnugo:99"}, "GNU Go level"),
    ({"opponent": "gnugo:x"}, "GNU Go level"),
    ({"opponent": "alphago"}, "unknown opponent 'alphago'"),
    ({"illegal_action": "x"}, "illegal_action"),
    ({"history_length": 0}, "history_length"),
    ({"history_length": 9}, "history_length"),
    ({"max_moves": 0}, "max_moves"),
    ({"render_mode": "foo"}, "render_mode"),
]


@pytest.mark.filterwarnings("ignore:.*not in the possible render_modes:UserWarning")  # gym.make says so too
@pytest.mark.parametrize(("kwargs", "message"), BAD_ARGS, ids=[str(k) for k, _ in BAD_ARGS])
def test_bad_constructor_arguments_raise_value_error(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        GoEnv(**kwargs)
    with pytest.raises(ValueError, match=message):
        gym.make(ENV_ID, **kwargs)
    if not {"agent_color", "opponent"} & kwargs.keys():
        with pytest.raises(ValueError, match=message):
            envs.go.env(**kwargs)


# ---------------------------------------------------------------------------------------------------------------
# Action masks and sb3-contrib


def test_action_masks_match_info_all_episode_long() -> None:
    env = gym.make(ENV_ID, board_size=5, agent_color="random")
    for seed in range(3):
        rng = np.random.default_rng(seed)
        obs, info = env.reset(seed=seed)
        while True:
            mask = env.unwrapped.action_masks()
            assert mask.dtype == np.bool_ and mask.shape == (26,)
            assert np.array_equal(mask, info["action_mask"])
            assert np.array_equal(obs[-1].reshape(-1), mask[:-1])
            obs, _, terminated, truncated, info = env.step(random_action(rng, mask))
            if terminated or truncated:
                assert np.array_equal(env.unwrapped.action_masks(), info["action_mask"])
                break


def test_maskable_ppo_trains_briefly() -> None:
    import torch
    from sb3_contrib import MaskablePPO

    torch.set_num_threads(1)
    env = gym.make(ENV_ID, board_size=5)
    model = MaskablePPO("MlpPolicy", env, n_steps=64, batch_size=32, n_epochs=2, seed=0, device="cpu",
                        policy_kwargs={"net_arch": [32]})
    model.learn(total_timesteps=256)
    assert model.num_timesteps >= 256
    obs, info = env.reset(seed=1)
    for _ in range(5):
        action, _ = model.predict(obs, action_masks=info["action_mask"], deterministic=True)
        assert info["action_mask"][int(action)]
        obs, _, terminated, truncated, info = env.step(action)
        if terminated or truncated:
            break
    env.close()


# ---------------------------------------------------------------------------------------------------------------
# Opponents


@needs_gnugo
@pytest.mark.parametrize(("board_size", "agent_color"), [(5, "black"), (5, "white"), (7, "white")])
def test_gnugo_opponent_plays_a_full_legal_game(board_size: int, agent_color: str) -> None:
    env = gym.make(ENV_ID, board_size=board_size, opponent="gnugo:1", agent_color=agent_color)
    rng = np.random.default_rng(board_size)
    obs, info = env.reset(seed=2)
    game = env.unwrapped.game
    if agent_color == "white":
        assert game.move_number == 1  # GNU Go (Black) opened
    for _ in range(game.max_moves):
        obs, reward, terminated, truncated, info = env.step(random_action(rng, info["action_mask"]))
        if terminated or truncated:
            break
    assert terminated or truncated
    assert reward in (-1.0, 0.0, 1.0)
    if terminated and "resigned" not in info:
        assert reward == info["winner"] * info["agent_color"]
    # Every move, GNU Go's included, is legal under our rules, and GNU Go's board agrees with ours.
    replay = GoGame(board_size, game.komi)
    for action in game.history:
        replay.play(action)
    assert np.array_equal(replay.board, game.board)
    assert np.array_equal(env.unwrapped.opponent._engine.board(), game.board)
    env.close()


def test_callable_opponent_gets_a_copy_and_its_moves_are_played() -> None:
    def greedy(game: GoGame) -> int:
        move = int(np.flatnonzero(game.legal_moves()[:-1])[0])
        game.play(move)  # the policy's copy only
        return move

    env = GoEnv(board_size=5, opponent=greedy)
    assert env.opponent.name == "greedy"
    env.reset(seed=0)
    env.step(12)
    env.step(6)
    assert env.game.history == [12, 0, 6, 1]
    assert env.game.board.reshape(-1)[[0, 1]].tolist() == [WHITE, WHITE]


def test_callable_opponent_with_an_illegal_move_raises_runtime_error() -> None:
    def stubborn(game: GoGame) -> int:
        return 0

    env = GoEnv(board_size=5, opponent=stubborn)
    env.reset(seed=0)
    env.step(12)
    with pytest.raises(RuntimeError, match=r"opponent 'stubborn' chose an illegal move 0 \(occupied\)"):
        env.step(6)

    env = GoEnv(board_size=5, opponent=lambda game: 2.5, agent_color="white")
    with pytest.raises(RuntimeError, match="opponent '<lambda>' returned a bad action"):
        env.reset(seed=0)


# ---------------------------------------------------------------------------------------------------------------
# Two board sizes in one process


def test_two_board_sizes_interleaved() -> None:
    def alone(board_size: int) -> list[tuple]:
        return gym_trajectory(gym.make(ENV_ID, board_size=board_size, agent_color="random"), seed=4, agent_seed=4)

    small, big = gym.make(ENV_ID, board_size=5, agent_color="random"), gym.make(ENV_ID, board_size=9,
                                                                                 agent_color="random")
    runs: dict[int, list[tuple]] = {5: [], 9: []}
    rngs = {5: np.random.default_rng(4), 9: np.random.default_rng(4)}
    live = {5: small, 9: big}
    for n, env in live.items():
        obs, info = env.reset(seed=4)
        runs[n].append((obs, 0.0, False, False, info))
    while live:
        for n in list(live):
            info = runs[n][-1][4]
            step = live[n].step(random_action(rngs[n], info["action_mask"]))
            assert step[0].shape == (10, n, n)
            runs[n].append(step)
            if step[2] or step[3]:
                del live[n]
    assert data_equivalence(runs[5], alone(5), exact=True)
    assert data_equivalence(runs[9], alone(9), exact=True)

    aec_small, aec_big = envs.go.env(board_size=5), envs.go.env(board_size=9)
    aec_small.reset()
    aec_big.reset()
    rng = np.random.default_rng(0)
    for _ in range(30):
        for env, n in ((aec_small, 5), (aec_big, 9)):
            obs = env.observe(env.agent_selection)
            assert obs["observation"].shape == (10, n, n)
            env.step(random_point(rng, obs["action_mask"]))
    assert aec_small.game.move_number == aec_big.game.move_number == 30


# ---------------------------------------------------------------------------------------------------------------
# Rendering


def test_rgb_array_rendering_through_the_envs(tmp_path: Path) -> None:
    import pygame

    env = gym.make(ENV_ID, board_size=9, render_mode="rgb_array")
    obs, info = env.reset(seed=0)
    rng = np.random.default_rng(0)
    for _ in range(6):
        obs, *_, info = env.step(random_point(rng, info["action_mask"]))
    frame = env.render()
    assert frame.ndim == 3 and frame.shape[2] == 3 and frame.dtype == np.uint8
    assert len(np.unique(frame.reshape(-1, 3), axis=0)) > 500
    path = tmp_path / "go9.png"
    pygame.image.save(pygame.surfarray.make_surface(frame.swapaxes(0, 1)), str(path))
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert pygame.image.load(str(path)).get_size() == (frame.shape[1], frame.shape[0])
    env.close()

    aec = envs.go.env(board_size=5, render_mode="rgb_array")
    aec.reset()
    aec.step(12)
    frame = aec.render()
    assert frame.ndim == 3 and frame.shape[2] == 3 and frame.dtype == np.uint8
    assert len(np.unique(frame.reshape(-1, 3), axis=0)) > 500
    aec.close()

    with pytest.warns(UserWarning, match="render_mode"):
        assert GoEnv(board_size=5).render() is None


def test_human_rendering_with_the_dummy_driver() -> None:
    env = GoEnv(board_size=5, render_mode="human")
    env.metadata = {**env.metadata, "render_fps": 1000}  # no need to hold 4 fps in a test
    obs, info = env.reset(seed=0)
    assert env._view is not None and env._view._window is not None and env._view._window.is_open
    rng = np.random.default_rng(0)
    for _ in range(3):
        obs, *_, info = env.step(random_point(rng, info["action_mask"]))
    assert env.render() is None
    env.close()
    assert env._view._window is None
    env.close()  # closing twice is fine

    aec = envs.go.env(board_size=5, render_mode="human")
    aec.metadata = {**aec.metadata, "render_fps": 1000}
    aec.reset()
    aec.step(12)
    assert aec.render() is None
    aec.close()
    aec.close()
