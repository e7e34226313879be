"""Tests for the AlphaZero agent: search (MCTS), symmetries, network, replay buffer, trainer, checkpoints, player and
the `scripts/train_go.py` command line (including resuming a run killed with SIGKILL)."""

from __future__ import annotations

import importlib.util
import math
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from deep_arena.agents.alphazero import mcts
from deep_arena.agents.alphazero import trainer as az
from deep_arena.envs.go.sgf import sgf_to_game
from deep_arena.agents.alphazero.mcts import Node, choose_action, expand_roots, run_simulations, search_with_virtual_loss
from deep_arena.agents.alphazero.network import NetConfig, PolicyValueNet
from deep_arena.agents.alphazero.player import AlphaZeroPlayer, load_network
from deep_arena.agents.alphazero.symmetry import (NUM_SYMMETRIES, inverse, transform_action, transform_planes,
                                       transform_policy)
from deep_arena.runtime.trainer import RunResult, Trainer
from deep_arena.runtime import COMMON_DEFAULTS, CheckpointError, RunDir, deep_merge, load_checkpoint, merge_config
from deep_arena.envs.go import features
from deep_arena.envs.go.game import BLACK, WHITE, GoGame

REPO = Path(__file__).resolve().parents[2]
TRAIN_GO = REPO / "scripts" / "train_go.py"

# A trainer small enough for a few seconds of CPU: 5x5, 8 games at once, 8/2 playouts, a 1-block 8-channel network.
TINY = ["positions_per_iteration=32", "min_replay=32", "replay_capacity=1000", "selfplay.parallel_games=8",
        "selfplay.simulations=8", "selfplay.fast_simulations=2", "net.channels=8", "net.blocks=1",
        "eval.games_vs_random=2", "eval.games_vs_gnugo=0", "eval.sims=4", "checkpoint_every=1", "threads=1",
        "train.batch_size=32"]


def rc(n: int, row: int, col: int) -> int:
    return row * n + col


def position(n: int, black: list[int], white: list[int], to_play: int, komi: float) -> GoGame:
    """A game with these stones, set up by playing them in order. The side with fewer stones passes first, so the
    last move is never a pass (a pass at the root would end the game) and ``to_play`` moves next."""
    moves_b = max(len(black), len(white) + (to_play == WHITE))
    moves_w = moves_b if to_play == BLACK else moves_b - 1
    if moves_w < len(white):
        moves_w = len(white)
        moves_b = moves_w if to_play == BLACK else moves_w + 1
    seq_b = [None] * (moves_b - len(black)) + list(black)
    seq_w = [None] * (moves_w - len(white)) + list(white)
    game = GoGame(n, komi)
    for i in range(moves_b):
        for move in [seq_b[i]] + ([seq_w[i]] if i < moves_w else []):
            game.play(game.pass_action if move is None else move)
    assert game.to_play == to_play and game.consecutive_passes == 0 and not game.is_over
    return game


def score_evaluator(games):
    """Not a network: uniform priors over legal moves, value tanh(Tromp-Taylor score / 5) for the player to move."""
    priors = np.zeros((len(games), games[0].pass_action + 1), dtype=np.float32)
    values = np.zeros(len(games), dtype=np.float32)
    for i, game in enumerate(games):
        legal = game._legal_mask_cached()
        priors[i] = legal / legal.sum()
        values[i] = math.tanh(game.score() * game.to_play / 5.0)
    return priors, values


def searched_root(game: GoGame, sims: int, evaluate=score_evaluator, virtual_loss_batch: int = 0) -> Node:
    root = Node(game.copy())
    expand_roots([root], evaluate)
    if virtual_loss_batch:
        search_with_virtual_loss(root, evaluate, sims, batch=virtual_loss_batch)
    else:
        run_simulations([root], evaluate, sims)
    return root


def q(root: Node, action: int) -> float:
    return float(root.value_sum[action] / root.visits[action])


# --------------------------------------------------------------------------------------------- MCTS: tactics


@pytest.mark.parametrize("batch", [0, 8])
@pytest.mark.parametrize("to_play", [BLACK, WHITE])
def test_mcts_finds_capture_in_one(to_play: int, batch: int) -> None:
    # 5x5: the opponent's stone at C3 has three of the mover's stones around it; C2 captures it.
    n, target, capture = 5, 12, 17
    mover = [7, 11, 13]
    other = [target, 24, 0] if to_play == BLACK else [target, 0]
    game = position(n, mover if to_play == BLACK else other, other if to_play == BLACK else mover, to_play, 0.5)
    check = game.copy()
    assert check.play(capture) == 1 and check.board.flat[target] == 0  # the engine agrees it captures
    root = searched_root(game, 200, virtual_loss_batch=batch)
    assert int(np.argmax(root.visits)) == capture
    if batch == 0:  # virtual losses spread a batch's descents over more moves; the capture is still the choice
        assert root.visits[capture] > 100
    # No virtual loss is left behind: every playout is counted once, at the root and below.
    assert root.total_visits == root.visits.sum() == 200
    assert all(c.total_visits == c.visits.sum() for c in root.children.values() if c.expanded)
    assert q(root, capture) > 0  # good for the side that captures (values are for the player choosing)
    assert q(root, capture) == pytest.approx(max(q(root, a) for a in np.flatnonzero(root.visits)))


def _atari_position() -> tuple[GoGame, int, int]:
    """7x7, Black to move. Black owns the left four columns (two one-point eyes and a hole at D4), White the right
    three (two eyes). Black's stone at E4 sticks into White's wall and has one liberty, D4: extending there connects
    it home; anything else lets White capture it at D4, which also breaks into Black's area."""
    n = 7
    eyes = {rc(n, 1, 1), rc(n, 5, 1), rc(n, 1, 5), rc(n, 5, 5)}
    hole, stone = rc(n, 3, 3), rc(n, 3, 4)
    black, white = [], []
    for p in range(n * n):
        if p in eyes or p == hole:
            continue
        (black if p % n <= 3 or p == stone else white).append(p)
    return position(n, black, white, BLACK, 7.5), hole, stone


def test_atari_position_is_what_it_claims() -> None:
    game, hole, stone = _atari_position()
    assert set(np.flatnonzero(game.legal_moves())) == {rc(7, 1, 1), rc(7, 5, 1), hole, game.pass_action}
    # If Black does not save it, White captures the stone at the hole.
    lost = game.copy()
    lost.play(lost.pass_action)
    assert lost.play(hole) == 1 and lost.board.flat[stone] == 0
    assert lost.score() < 0
    # After extending, no White move captures anything, and Black is ahead.
    saved = game.copy()
    assert saved.play(hole) == 0
    assert saved.score() > 0
    for action in np.flatnonzero(saved.legal_moves()):
        assert saved.copy().play(int(action)) == 0


def test_mcts_saves_stone_in_atari() -> None:
    game, hole, _ = _atari_position()
    root = searched_root(game, 200)
    assert int(np.argmax(root.visits)) == hole
    assert root.visits[hole] > 100
    assert q(root, hole) > 0
    for action in np.flatnonzero(root.visits):
        if action != hole:
            assert q(root, int(action)) < q(root, hole)


# --------------------------------------------------------------------------------------------- MCTS: values


def _after(n: int, moves: list[int | None], komi: float) -> GoGame:
    game = GoGame(n, komi)
    for move in moves:
        game.play(game.pass_action if move is None else move)
    return game


@pytest.mark.parametrize("komi, to_play, expected", [(0.5, WHITE, -1.0), (30.5, WHITE, 1.0)])
def test_terminal_value_is_winner_times_player_to_move(komi: float, to_play: int, expected: float) -> None:
    game = _after(5, [12, None, None], komi)  # Black C3, two passes: Black wins with komi 0.5, loses with 30.5
    assert game.is_over and game.to_play == to_play
    node = Node(game)
    assert node.terminal_value == game.winner * game.to_play == expected


@pytest.mark.parametrize("komi, expected", [(0.5, 1.0), (30.5, -1.0)])
def test_backup_of_terminal_pass_has_root_players_sign(komi: float, expected: float) -> None:
    # Black to move after White passed: Black's pass ends the game, won by Black at komi 0.5 and lost at 30.5.
    game = _after(5, [12, None], komi)
    p = game.pass_action

    def pass_prior(games):  # half the prior on pass so that the search tries it; every leaf valued 0
        priors, _ = score_evaluator(games)
        priors[:, p] += 1.0
        return priors / priors.sum(axis=1, keepdims=True), np.zeros(len(games), dtype=np.float32)

    root = searched_root(game, 60, pass_prior)
    child = root.children[p]
    assert child.terminal_value == -expected  # for White, to move at the end
    assert root.visits[p] > 0
    assert root.value_sum[p] == pytest.approx(expected * root.visits[p])


def test_backup_alternates_signs_along_the_path() -> None:
    game = GoGame(5, 7.5)
    nodes = [Node(game.copy())]
    path = []
    for action in (0, 1, 2):
        node = nodes[-1]
        node.expand(np.full(26, 1 / 26, dtype=np.float32), node.game._legal_mask_cached().copy())
        path.append((node, action))
        nodes.append(node.child(action))
    mcts._backup(path, 0.5)  # 0.5 for the player to move at the leaf (White, three plies after Black's root)
    assert [float(node.value_sum[a]) for node, a in path] == [-0.5, 0.5, -0.5]
    assert [node.total_visits for node, _ in path] == [1, 1, 1]
    # A one-playout search from a fresh root: the root edge holds minus the leaf's value.
    constant = lambda games: (np.stack([g.legal_moves() / g.legal_moves().sum() for g in games]).astype(np.float32),
                              np.full(len(games), 0.3, dtype=np.float32))
    root = searched_root(game, 1, constant)
    (action,) = np.flatnonzero(root.visits)
    assert root.value_sum[action] == pytest.approx(-0.3)


# --------------------------------------------------------------------------------------------- MCTS: moves, noise


def _root_with_visits(visits: dict[int, int]) -> Node:
    root = Node(GoGame(5, 7.5))
    legal = root.game.legal_moves()
    root.expand(legal / legal.sum(), legal)
    for action, count in visits.items():
        root.visits[action] = count
    return root


def test_choose_action_temperature_zero_is_argmax() -> None:
    root = _root_with_visits({3: 10, 7: 30, 12: 60})
    for seed in range(20):
        assert choose_action(root, 0.0, np.random.default_rng(seed)) == 12
    tied = _root_with_visits({3: 50, 7: 50, 12: 10})
    picks = {choose_action(tied, 0.0, np.random.default_rng(seed)) for seed in range(40)}
    assert picks == {3, 7}  # ties broken at random, never towards a less visited move


@pytest.mark.parametrize("temperature, expected", [(1.0, [0.1, 0.3, 0.6]),
                                                    (0.5, [100 / 4600, 900 / 4600, 3600 / 4600])])
def test_choose_action_samples_visits_to_the_power_one_over_temperature(temperature, expected) -> None:
    root = _root_with_visits({3: 10, 7: 30, 12: 60})
    rng = np.random.default_rng(0)
    draws = np.array([choose_action(root, temperature, rng) for _ in range(10_000)])
    assert set(np.unique(draws)) <= {3, 7, 12}
    freq = [np.mean(draws == a) for a in (3, 7, 12)]
    assert freq == pytest.approx(expected, abs=0.02)


def test_choose_action_without_visits_is_a_legal_move() -> None:
    game = _after(5, [12, 6, 7], 7.5)
    root = Node(game.copy())
    legal = game.legal_moves()
    root.expand(legal / legal.sum(), legal)
    for seed in range(20):
        assert legal[choose_action(root, 0.0, np.random.default_rng(seed))]


@pytest.mark.parametrize("alpha", [0.03, 0.3, 2.0])
def test_dirichlet_noise_keeps_priors_a_distribution_over_legal_moves(alpha: float) -> None:
    game = _after(5, [12, 6, 7, 13, 0], 7.5)  # occupied points are illegal
    legal = game.legal_moves()
    assert not legal.all()
    rng = np.random.default_rng(1)
    base = np.where(legal, rng.random(26), 0).astype(np.float32)
    base /= base.sum()
    root = Node(game.copy())
    root.expand(base.copy(), legal)
    root.add_dirichlet_noise(rng, alpha, 0.25)
    assert root.prior.sum() == pytest.approx(1.0, abs=1e-5)
    assert np.all(root.prior[~legal] == 0)
    assert np.all(root.prior[legal] > 0)
    assert np.all(root.prior[legal] >= 0.75 * base[legal] - 1e-7)  # (1 - fraction) of the prior is kept
    assert not np.allclose(root.prior, base)


# --------------------------------------------------------------------------------------------- symmetries


@pytest.mark.parametrize("n", [5, 7])
@pytest.mark.parametrize("k", range(NUM_SYMMETRIES))
def test_symmetry_inverse_and_action_mapping(n: int, k: int) -> None:
    rng = np.random.default_rng(k)
    planes = rng.random((3, 10, n, n)).astype(np.float32)
    assert np.array_equal(transform_planes(transform_planes(planes, k), inverse(k)), planes)
    for action in range(n * n):
        stone = np.zeros((n, n), dtype=np.float32)
        stone.flat[action] = 1
        moved = transform_planes(stone, k)
        assert moved.sum() == 1 and int(np.argmax(moved)) == transform_action(action, k, n)
    assert transform_action(n * n, k, n) == n * n
    policy = rng.random((4, n * n + 1)).astype(np.float32)
    out = transform_policy(policy, k, n)
    assert np.array_equal(out[:, -1], policy[:, -1])
    assert np.array_equal(out[:, :-1].reshape(4, n, n), transform_planes(policy[:, :-1].reshape(4, n, n), k))
    assert np.allclose(out.sum(axis=1), policy.sum(axis=1))


@pytest.mark.parametrize("n", [5, 7])
def test_eight_symmetries_of_an_asymmetric_board_are_distinct(n: int) -> None:
    board = np.arange(n * n, dtype=np.float32).reshape(n, n)
    images = {transform_planes(board, k).tobytes() for k in range(NUM_SYMMETRIES)}
    assert len(images) == NUM_SYMMETRIES
    assert transform_planes(board, 0).tobytes() == board.tobytes()


def _random_game_moves(n: int, seed: int, length: int) -> list[int]:
    rng = np.random.default_rng(seed)
    game = GoGame(n, 7.5)
    moves = []
    while len(moves) < length and not game.is_over:
        legal = np.flatnonzero(game.legal_moves())
        points = legal[legal != game.pass_action]
        action = int(rng.choice(points)) if len(points) and rng.random() > 0.05 else game.pass_action
        game.play(action)
        moves.append(action)
    return moves


@pytest.mark.parametrize("n", [5, 7])
def test_features_of_a_transformed_game_are_the_transformed_features(n: int) -> None:
    moves = _random_game_moves(n, seed=n, length=2 * n * n)
    assert len(moves) > n * n // 2
    for k in range(NUM_SYMMETRIES):
        original, mirrored = GoGame(n, 7.5), GoGame(n, 7.5)
        for step, action in enumerate(moves):
            original.play(action)
            mirrored.play(transform_action(action, k, n))  # a transformed legal move is legal
            if step % 3 == 0 or step == len(moves) - 1:
                expected = transform_planes(features.encode(original, 4), k)
                assert np.array_equal(features.encode(mirrored, 4), expected), (k, step)
        assert mirrored.is_over == original.is_over
        assert mirrored.score() == original.score()


# --------------------------------------------------------------------------------------------- network


def test_network_is_fully_convolutional() -> None:
    torch.manual_seed(0)
    net = PolicyValueNet(NetConfig(in_planes=features.num_planes(4), channels=8, blocks=1)).eval()
    for n in (5, 7, 9):
        x = torch.from_numpy(np.random.default_rng(n).integers(0, 2, (3, 10, n, n)).astype(np.float32))
        with torch.no_grad():
            logits, value = net(x)
            _, big = net(x * 1000)
        assert logits.shape == (3, n * n + 1) and value.shape == (3,)
        assert torch.isfinite(logits).all()
        assert (value.abs() <= 1).all() and (big.abs() <= 1).all()
    game = _after(7, [24, 25], 7.5)
    with torch.no_grad():
        logits, value = net(torch.from_numpy(features.encode(game, 4))[None])
    assert logits.shape == (1, 50) and -1 <= float(value) <= 1


# --------------------------------------------------------------------------------------------- replay buffer


def test_replay_buffer_ring_and_state_round_trip() -> None:
    buf = az.ReplayBuffer(5, (2, 3, 3), 10)
    for i in range(3):
        buf.add(np.full((2, 3, 3), i, dtype=np.uint8), np.eye(10, dtype=np.float32)[i], float(i))
    partial = az.ReplayBuffer(5, (2, 3, 3), 10)
    partial.load_state_dict(buf.state_dict())
    assert (partial.size, partial.next) == (3, 3)
    assert np.array_equal(partial.value[:3], [0, 1, 2])
    for i in range(3, 7):
        buf.add(np.full((2, 3, 3), i, dtype=np.uint8), np.eye(10, dtype=np.float32)[i], float(i))
    assert (buf.size, buf.next) == (5, 2)
    assert np.array_equal(buf.value, [5, 6, 2, 3, 4])
    assert np.array_equal(buf.planes[:, 0, 0, 0], [5, 6, 2, 3, 4])
    assert np.array_equal(buf.policy.argmax(axis=1), [5, 6, 2, 3, 4])
    planes, policy, value = buf.sample(64, np.random.default_rng(0))
    assert set(value) <= {2.0, 3.0, 4.0, 5.0, 6.0}
    assert np.array_equal(planes[:, 1, 2, 2], value) and np.array_equal(policy.argmax(axis=1), value)
    restored = az.ReplayBuffer(5, (2, 3, 3), 10)
    restored.load_state_dict(buf.state_dict())
    assert (restored.size, restored.next) == (5, 2)
    for name in ("planes", "policy", "value"):
        assert np.array_equal(getattr(restored, name), getattr(buf, name))
    with pytest.raises(ValueError, match="capacity"):
        az.ReplayBuffer(6, (2, 3, 3), 10).load_state_dict(buf.state_dict())


def test_augment_keeps_policy_sums_and_moves_planes_with_policy() -> None:
    n, batch = 5, 256
    rng = np.random.default_rng(0)
    points = rng.integers(0, n * n, size=batch)
    planes = np.zeros((batch, 10, n, n), dtype=np.uint8)
    planes.reshape(batch, 10, -1)[np.arange(batch), 0, points] = 1
    policy = rng.random((batch, n * n + 1)).astype(np.float32) * 0.1
    policy[np.arange(batch), points] += 1  # policy peaks where plane 0 has its stone
    policy /= policy.sum(axis=1, keepdims=True)
    out_planes, out_policy = az.augment(planes, policy, n, np.random.default_rng(1))
    assert out_planes.dtype == np.uint8 and out_planes.shape == planes.shape
    assert np.allclose(out_policy.sum(axis=1), 1.0, atol=1e-5)
    assert np.array_equal(out_policy[:, -1], policy[:, -1])
    assert np.array_equal(out_planes.reshape(batch, 10, -1)[:, 0].argmax(axis=1), out_policy[:, :-1].argmax(axis=1))
    moved = np.mean(out_planes.reshape(batch, 10, -1)[:, 0].argmax(axis=1) != points)
    assert moved > 0.3  # symmetries were applied, not the identity only
    for i in range(batch):  # each sample is one of its own 8 images
        assert any(np.array_equal(out_planes[i], transform_planes(planes[i], k)) for k in range(NUM_SYMMETRIES))


# --------------------------------------------------------------------------------------------- trainer


def tiny_config(*extra: str, board_size: int = 5) -> dict:
    return merge_config(deep_merge(COMMON_DEFAULTS, az.DEFAULTS),
                        overrides=[f"board_size={board_size}", "iterations=2", "device=cpu", *TINY, *extra])


def make_trainer(root: Path, *extra: str, board_size: int = 5) -> az.AlphaZeroTrainer:
    return az.AlphaZeroTrainer(tiny_config(*extra, board_size=board_size), RunDir.create("go", "alphazero", root=root),
                               progress_bar=False)


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> SimpleNamespace:
    root = tmp_path_factory.mktemp("az")
    trainer = make_trainer(root)
    result = trainer.run()
    return SimpleNamespace(trainer=trainer, run_dir=trainer.run_dir, result=result, root=root)


def test_trainer_writes_checkpoints_model_and_logs(trained) -> None:
    tr, run = trained.trainer, trained.run_dir
    c = tr.counters
    assert c["iteration"] == 2
    assert c["games"] >= 8 and c["positions"] >= 64 and c["train_steps"] >= 2 and c["simulations"] > 0
    assert (run.path / "model.pt").is_file()
    assert list(run.path.glob("events.out.tfevents.*"))
    # A sample evaluation game as SGF (it replays) and a picture of its final board.
    assert len(sgf_to_game((run.path / "sample_game.sgf").read_text()).history) > 0
    assert (run.path / "sample_game.png").stat().st_size > 10_000
    ck1, ck2 = run.checkpoint_path(1), run.checkpoint_path(2)
    assert ck1.is_file() and ck2.is_file() and run.latest_checkpoint() == ck2
    first, second = load_checkpoint(ck1)["counters"], load_checkpoint(ck2)["counters"]
    assert (first["iteration"], second["iteration"]) == (1, 2)
    assert second["positions"] > first["positions"] > 0 and second["games"] >= first["games"] > 0
    assert second["train_steps"] > first["train_steps"] > 0
    result = trained.result
    assert isinstance(trained.trainer, Trainer)  # the one trainer protocol
    assert isinstance(result, RunResult) and result.counters["iteration"] == 2
    assert result.details["iteration"] == 2 and result.details["random"]["games"] == 2
    assert result.metrics["win_rate_vs_random"] == result.details["random"]["win_rate"]
    assert result.model_path == trained.run_dir.path / "model.pt" and result.stopped_by == "budget"
    meta = load_checkpoint(run.path / "model.pt")["meta"]
    assert meta["board_size"] == 5 and meta["counters"]["iteration"] == 2


def test_trainer_checkpoint_round_trip(trained, tmp_path) -> None:
    tr = trained.trainer
    expected = tr.state_dict()
    path = tr.save()
    other = make_trainer(tmp_path)
    assert other.counters["iteration"] == 0
    other.load(path)
    for key, value in expected["model"].items():
        assert torch.equal(other.net.state_dict()[key], value), key
    opt_old, opt_new = expected["optimizer"], other.optimizer.state_dict()
    assert opt_new["param_groups"] == opt_old["param_groups"]
    assert opt_new["state"].keys() == opt_old["state"].keys() and opt_old["state"]
    for idx, state in opt_old["state"].items():
        for name, value in state.items():
            assert torch.equal(torch.as_tensor(opt_new["state"][idx][name]), torch.as_tensor(value)), (idx, name)
    assert (other.replay.size, other.replay.next) == (tr.replay.size, tr.replay.next) and tr.replay.size >= 64
    for name in ("planes", "policy", "value"):
        assert np.array_equal(getattr(other.replay, name), getattr(tr.replay, name))
    assert other.counters == expected["counters"]
    assert other.rng.bit_generator.state == expected["rng"]["numpy"]
    assert torch.equal(torch.get_rng_state(), expected["rng"]["torch"])


def test_checkpoint_for_another_board_size_is_refused(trained, tmp_path) -> None:
    other = make_trainer(tmp_path, board_size=7)
    with pytest.raises(CheckpointError, match=r"5x5.*7x7") as err:
        other.load(trained.run_dir.checkpoint_path(2))
    assert "checkpoint_000000002.pt" in str(err.value)


def test_checkpoint_with_another_network_shape_is_refused(trained, tmp_path) -> None:
    other = make_trainer(tmp_path, "net.channels=16")
    with pytest.raises(CheckpointError, match="does not match") as err:
        other.load(trained.run_dir.checkpoint_path(2))
    assert "checkpoint_000000002.pt" in str(err.value)
    with pytest.raises(CheckpointError, match="shape differs"):
        other.init_from(trained.run_dir.path / "model.pt")


def test_corrupt_checkpoints_are_refused_with_the_file_name(trained, tmp_path) -> None:
    good = trained.run_dir.checkpoint_path(2).read_bytes()
    garbage = tmp_path / "checkpoint_000000007.pt"
    garbage.write_bytes(b"this is not a checkpoint \x00\x01\x02" * 50)
    truncated = tmp_path / "checkpoint_000000008.pt"
    truncated.write_bytes(good[: len(good) // 2])
    other = make_trainer(tmp_path)
    for path in (garbage, truncated):
        with pytest.raises(CheckpointError) as err:
            other.load(path)
        assert str(path) in str(err.value)
        with pytest.raises(CheckpointError) as err:
            load_network(path)
        assert str(path) in str(err.value)
    assert other.counters["iteration"] == 0


def test_player_from_checkpoint_plays_legal_moves(trained) -> None:
    from deep_arena.agents.go.match import play_game
    from deep_arena.envs.go.opponents import RandomOpponent

    model = trained.run_dir.path / "model.pt"
    player = AlphaZeroPlayer.from_checkpoint(model, board_size=5, sims=8, device="cpu")
    game = GoGame(5, 7.5)
    player.reset(game, 0)
    rng = np.random.default_rng(0)
    for _ in range(6):
        action = player.act(game, rng)
        assert game.is_legal(action)
        assert player.last_visits.shape == (26,) and player.last_visits.sum() >= 8
        assert np.all(player.last_visits[~game.legal_moves()] == 0)
        assert -1.0 <= player.last_value <= 1.0
        colour = game.to_play
        game.play(action)
        player.observe(colour, action)
    record = play_game(player, RandomOpponent(), 5, 7.5, seed=3)  # raises on an illegal move
    assert record.moves and record.winner in (-1, 0, 1)
    with pytest.raises(ValueError, match="5x5.*7x7"):
        AlphaZeroPlayer.from_checkpoint(model, board_size=7, device="cpu")


# --------------------------------------------------------------------------------------------- train_go.py


def _load_train_go():
    spec = importlib.util.spec_from_file_location("train_go_script", TRAIN_GO)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _tiny_sets(*extra: str) -> list[str]:
    return [arg for s in [*TINY, *extra] for arg in ("--set", s)]


def _scalar_steps(run: Path, tag: str) -> list[int]:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(run))
    acc.Reload()
    return [event.step for event in acc.Scalars(tag)]


def test_resume_after_sigkill_continues_iterations_and_logs(tmp_path: Path) -> None:
    cmd = [sys.executable, str(TRAIN_GO), "--algo", "alphazero", "--board-size", "5", "--minutes", "5",
           "--no-progress", "--device", "cpu", "--run-root", str(tmp_path), *_tiny_sets()]
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    run = None
    try:
        deadline = time.time() + 180
        while time.time() < deadline:
            assert proc.poll() is None, f"training exited early:\n{proc.communicate()[0]}"
            runs = list((tmp_path / "go").glob("alphazero-*"))
            latest = RunDir(runs[0]).latest_checkpoint() if runs else None
            if latest is not None and load_checkpoint(latest)["counters"]["iteration"] >= 2:
                run = runs[0]
                break
            time.sleep(0.2)
        else:
            pytest.fail("no checkpoint with iteration >= 2 within 180 s")
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
        proc.communicate()
    assert proc.returncode == -signal.SIGKILL
    k = load_checkpoint(RunDir(run).latest_checkpoint())["counters"]["iteration"]
    assert k >= 2

    done = subprocess.run([sys.executable, str(TRAIN_GO), "--resume", str(run), "--steps", "2",  # 2 more
                           "--no-progress"], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    match = re.search(r"resuming .* at iteration (\d+) \([\d.]+ min\): training to iteration (\d+) "
                      r"\(--steps 2 more\)", done.stdout)
    assert match and int(match.group(1)) == k and int(match.group(2)) == k + 2, done.stdout
    assert "vs random" in done.stdout
    latest = RunDir(run).latest_checkpoint()
    assert load_checkpoint(latest)["counters"]["iteration"] == k + 2
    assert load_checkpoint(run / "model.pt")["meta"]["counters"]["iteration"] == k + 2
    # TensorBoard: the resumed run continues the curves (k+1, k+2) instead of starting again at 1, and nothing
    # logged up to the checkpoint is lost or doubled.
    steps = _scalar_steps(run, "train/replay_size")
    assert steps == list(range(1, k + 3)), steps


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_interrupt_saves_reports_the_resume_command_and_exits_130(tmp_path: Path, sig, interrupt_when) -> None:
    """Ctrl-C (or SIGTERM) during training: the iteration finishes, a checkpoint and model.pt are written, the exact
    --resume command is printed, no traceback, exit status 130; the printed command then continues the run."""
    cmd = [sys.executable, str(TRAIN_GO), "--algo", "alphazero", "--board-size", "5", "--minutes", "5",
           "--no-progress", "--device", "cpu", "--run-root", str(tmp_path), *_tiny_sets()]

    def ready() -> bool:
        runs = list((tmp_path / "go").glob("alphazero-*"))
        return bool(runs) and RunDir(runs[0]).latest_checkpoint() is not None

    code, out, err = interrupt_when(cmd, ready, sig, timeout=180)
    assert code == 130, out + err
    assert "Traceback" not in err and f"{signal.Signals(sig).name}: stopping" in err
    (run,) = (tmp_path / "go").glob("alphazero-*")
    resume = f"continue with: arena-train go --resume {run}"
    assert resume in err, err
    k = load_checkpoint(RunDir(run).latest_checkpoint())["counters"]["iteration"]
    assert load_checkpoint(run / "model.pt")["meta"]["counters"]["iteration"] == k >= 1
    done = subprocess.run([sys.executable, str(TRAIN_GO), "--resume", str(run), "--steps", "1", "--no-progress"],
                          cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and f"at iteration {k} (" in done.stdout, done.stdout + done.stderr
    assert f"training to iteration {k + 1} (--steps 1 more)" in done.stdout


def test_train_go_alphazero_one_iteration(tmp_path: Path, capsys) -> None:
    train_go = _load_train_go()
    code = train_go.main(["--algo", "alphazero", "--board-size", "5", "--steps", "1", "--no-progress",
                          "--device", "cpu", "--run-root", str(tmp_path), *_tiny_sets()])
    assert code == 0
    out = capsys.readouterr().out
    (run,) = (tmp_path / "go").glob("alphazero-*")
    assert f"run directory: {run}" in out and "vs random" in out
    assert (run / "model.pt").is_file() and (run / "config.yml").is_file() and (run / "command.txt").is_file()
    assert RunDir(run).latest_checkpoint() == RunDir(run).checkpoint_path(1)
    assert _scalar_steps(run, "train/replay_size") == [1]


def test_train_go_maskable_ppo_tiny(tmp_path: Path, capsys) -> None:
    train_go = _load_train_go()
    code = train_go.main(["--algo", "maskable_ppo", "--board-size", "5", "--steps", "256", "--no-progress",
                          "--device", "cpu", "--run-root", str(tmp_path), "--set", "n_envs=2",
                          "--set", "ppo.n_steps=64", "--set", "ppo.batch_size=64", "--set", "eval_every=10000",
                          "--set", "eval_games=2"])
    assert code == 0
    out = capsys.readouterr().out
    (run,) = (tmp_path / "go").glob("maskable_ppo-*")
    assert "final win rate vs random (2 games)" in out
    assert (run / "final_model.zip").is_file()


@pytest.mark.parametrize("args, message", [
    (["--board-size", "30", "--steps", "1"], "must be from 5 to 19, got 30"),
    (["--algo", "maskable_ppo", "--board-size", "30", "--steps", "1"], "must be from 5 to 19, got 30"),
    (["--komi", "nan", "--steps", "1"], "--komi: must be a finite number"),
    (["--steps", "1", "--device", "cuda"] if not torch.cuda.is_available() else ["--steps", "0"], "cuda"
     if not torch.cuda.is_available() else "--steps"),
    (["--steps", "1", "--init-from", "missing-model.pt"], "missing-model.pt"),
    (["--steps", "1", "--set", "selfplay.full_search_prob=0"], "full_search_prob"),
    (["--steps", "1", "--set", "eval_every=0"], "eval_every must be a positive integer"),
    (["--steps", "1", "--set", "minutes.x=1"], "minutes.x"),
    (["--algo", "foo"], "invalid choice: 'foo'"),
    (["--steps", "1", "--set", "net.nonexistent=1"], "Unknown config key(s) in --set overrides: net.nonexistent"),
    (["--algo", "maskable_ppo", "--set", "net.nonexistent=1"], "Unknown config key(s) in --set overrides"),
])
def test_train_go_bad_arguments_exit_with_a_message(tmp_path: Path, capsys, args, message) -> None:
    train_go = _load_train_go()
    with pytest.raises(SystemExit) as exit_info:
        train_go.main([*args, "--run-root", str(tmp_path), "--no-progress"])
    assert exit_info.value.code not in (0, None)
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not (tmp_path / "go").exists() or not any((tmp_path / "go").iterdir())  # no run directory left behind


def test_train_go_resume_without_checkpoint_errors(tmp_path: Path, capsys) -> None:
    train_go = _load_train_go()
    empty = RunDir.create("go", "alphazero", root=tmp_path)
    with pytest.raises(SystemExit) as exit_info:
        train_go.main(["--resume", str(empty.path)])
    assert exit_info.value.code not in (0, None)
    assert "no checkpoint to resume from" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        train_go.main(["--resume", str(tmp_path / "missing")])
    assert exit_info.value.code not in (0, None)
    assert "does not exist" in capsys.readouterr().err


def test_train_go_resume_refuses_flags_it_cannot_honour_and_ppo_runs(tmp_path: Path, capsys) -> None:
    train_go = _load_train_go()
    with pytest.raises(SystemExit):
        train_go.main(["--resume", str(tmp_path), "--board-size", "9"])
    assert "--board-size cannot change it" in capsys.readouterr().err
    ppo_run = tmp_path / "maskable_ppo-20260101-000000"  # a MaskablePPO run resumes as one (tests/agents/test_ppo_selfplay)
    (ppo_run / "checkpoints").mkdir(parents=True)
    (ppo_run / "checkpoints" / "model_000001000.zip").write_bytes(b"zip")
    with pytest.raises(SystemExit):
        train_go.main(["--resume", str(ppo_run), "--init-from", "x.pt"])
    assert "--init-from cannot change it" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        train_go.main(["--resume", str(ppo_run)])
    assert "config.yml' does not exist" in capsys.readouterr().err


def _careful_player() -> "AlphaZeroPlayer":
    from deep_arena.agents.alphazero.network import NetConfig, PolicyValueNet
    from deep_arena.agents.alphazero.player import AlphaZeroPlayer

    net = PolicyValueNet(NetConfig(in_planes=10, channels=4, blocks=1)).eval()
    return AlphaZeroPlayer(net, {"history_length": 4, "board_size": 5, "komi": 0.5}, sims=4)


def _root_preferring(game: GoGame, action: int) -> Node:
    root = Node(game.copy())
    legal = game.legal_moves()
    root.expand(legal / legal.sum(), legal)
    root.visits[action] = 10
    return root


def test_careful_pass_passes_only_to_end_a_won_game_and_never_fills_own_eyes() -> None:
    player = _careful_player()
    # Black owns columns A-B with eyes at A5 and A1; White has C-E. Komi 0.5: Black 10 points, White 15.
    game = position(5, [1, 5, 6, 10, 11, 15, 16, 21], [2, 7, 12, 17, 22], BLACK, 0.5)  # eyes at A5 and A1
    eye = 0  # A5 (row 0, col 0): all its neighbours are Black
    assert game.legality(eye) is None
    # Filling the own eye is replaced by another move, and so is a pass while the opponent has not passed.
    assert player._careful(game, _root_preferring(game, eye), eye) not in (eye, game.pass_action)
    assert player._careful(game, _root_preferring(game, game.pass_action), game.pass_action) != game.pass_action
    # After White passes, Black passes only if that ends a game the board wins.
    winning = position(5, [1, 6, 11, 16, 21, 2, 7, 12, 17, 22], [3, 8, 13, 18, 23], WHITE, 0.5)
    winning.play(winning.pass_action)  # White passes; Black to move with area 15 vs 10
    assert winning.to_play == BLACK and winning.winner == BLACK
    assert player._careful(winning, _root_preferring(winning, winning.pass_action), winning.pass_action) \
        == winning.pass_action
    losing = position(5, [1, 6, 11, 16, 21], [2, 7, 12, 17, 22, 3, 8, 13, 18, 23], WHITE, 0.5)
    losing.play(losing.pass_action)
    assert losing.to_play == BLACK and losing.winner == WHITE
    assert player._careful(losing, _root_preferring(losing, losing.pass_action), losing.pass_action) \
        != losing.pass_action


def test_resume_of_a_run_saved_before_a_setting_existed(tmp_path: Path, capsys) -> None:
    """A run whose config.yml predates a setting (here `expert`, added later) resumes with that setting's default,
    and `--set` may change it (it used to be refused as an unknown key, and the trainer then failed on it)."""
    import yaml

    train_go = _load_train_go()
    assert train_go.main(["--algo", "alphazero", "--board-size", "5", "--steps", "1", "--no-progress",
                          "--device", "cpu", "--run-root", str(tmp_path), *_tiny_sets()]) == 0
    (run,) = (tmp_path / "go").glob("alphazero-*")
    saved = yaml.safe_load((run / "config.yml").read_text())
    del saved["expert"]
    (run / "config.yml").write_text(yaml.safe_dump(saved))
    capsys.readouterr()
    assert train_go.main(["--resume", str(run), "--steps", "1", "--no-progress",  # one more
                          "--set", "expert.gnugo_level=3"]) == 0
    assert "resuming" in capsys.readouterr().out
    assert yaml.safe_load((run / "config.yml").read_text())["expert"]["gnugo_level"] == 3
    assert load_checkpoint(RunDir(run).latest_checkpoint())["counters"]["iteration"] == 2
