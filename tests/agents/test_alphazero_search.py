"""The compiled batched search (agents.alphazero.search) against the Python reference (agents.alphazero.mcts).

What the equivalence tests prove: for the same positions, the same deterministic evaluator and the same seeds, the
compiled search builds *the same tree* as the reference: every expanded node has the same visit counts, value sums,
priors and total visits, the same children exist, and the evaluator is asked about the same positions (identical
feature planes, legal-move planes included) in the same batches and order. That covers PUCT selection and first-play
urgency, expansion, backup signs, terminal results (double pass, move cap), superko inside the tree, virtual loss,
Dirichlet noise and tree reuse. Both run in float32 with the same operations in the same order, so equality is exact,
with one proviso: the reference sums a node's value sums with NumPy's pairwise summation, the compiled search in
float64 in edge order. The evaluator's values are therefore multiples of 1/16 (sums of those are exact in any order);
with arbitrary values the two searches differ only by that rounding of the parent's mean value (first-play urgency),
which can flip a near-tie now and then.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from deep_arena.agents.alphazero import mcts
from deep_arena.agents.alphazero.search import BatchedSearch, Leaves, halving_schedule, uniform_evaluator
from deep_arena.envs.go import features
from deep_arena.envs.go.game import BLACK, GoGame, _area, _tables

HISTORY = 4


def position_value(board: np.ndarray, to_play: int, legal: np.ndarray, komi: float) -> tuple[np.ndarray, float]:
    """A fixed prior and value of a position: priors vary with the action and the number of stones (so that PUCT
    does not just take actions in order), value tanh(score / 5) for the player to move rounded to 1/16."""
    nn = board.shape[0]
    const, _ = _tables(int(round(math.sqrt(nn))))
    black, white = _area(board.astype(np.int64), const)
    value = round(math.tanh((black - white - komi) * to_play / 5.0) * 16) / 16
    weights = (np.arange(nn + 1) * 7 + int(np.abs(board).sum()) * 13) % 11 + 1.0
    weights = np.where(legal, weights, 0.0).astype(np.float32)
    return weights / weights.sum(), value


class ReferenceEvaluator:
    """`position_value` on `GoGame`s (the reference's interface), logging the feature planes it was asked about."""

    def __init__(self):
        self.batches: list[np.ndarray] = []

    def __call__(self, games):
        self.batches.append(np.stack([features.encode(g, HISTORY) for g in games]))
        out = [position_value(g._state[0], g.to_play, g._legal_mask_cached(), g.komi) for g in games]
        return np.stack([p for p, _ in out]), np.array([v for _, v in out], dtype=np.float32)


class CompiledEvaluator:
    """`position_value` on the compiled search's `Leaves`, logging their planes."""

    def __init__(self, komi: float):
        self.komi = komi
        self.batches: list[np.ndarray] = []

    def __call__(self, leaves: Leaves):
        self.batches.append(leaves.planes.copy())
        out = [position_value(leaves.boards[i], int(leaves.to_play[i]), leaves.legal[i], self.komi)
               for i in range(len(leaves))]
        return np.stack([p for p, _ in out]), np.array([v for _, v in out], dtype=np.float32)


def assert_same_tree(ref: mcts.Node, search: BatchedSearch, t: int, node: int = 0, path: tuple = ()) -> int:
    """The whole tree under ``ref`` equals the compiled tree under ``node``; returns the nodes compared."""
    stats = search.node_stats(t, node)
    if ref.terminal_value is not None:
        assert stats["terminal"] and stats["value"] == ref.terminal_value, path
        return 1
    assert stats["expanded"] == ref.expanded, path
    if not ref.expanded:
        return 1
    for name in ("visits", "value_sum", "prior", "legal"):
        assert np.array_equal(getattr(ref, name), stats[name]), (path, name, getattr(ref, name), stats[name])
    assert ref.total_visits == stats["total_visits"], path
    children = search.children(t, node)
    assert set(children) == set(ref.children), path
    return 1 + sum(assert_same_tree(child, search, t, children[a], path + (a,)) for a, child in ref.children.items())


def assert_same_batches(ref: ReferenceEvaluator, comp: CompiledEvaluator) -> None:
    assert len(ref.batches) == len(comp.batches)
    for a, b in zip(ref.batches, comp.batches):
        assert np.array_equal(a, b)


def random_game(n: int, moves: int, seed: int, komi: float = 7.5, max_moves: int | None = None) -> GoGame:
    """A game after up to ``moves`` random non-pass moves (captures and ko fights happen on small boards)."""
    rng = np.random.default_rng(seed)
    game = GoGame(n, komi, max_moves)
    for _ in range(moves):
        legal = np.flatnonzero(game.legal_moves()[:-1])
        if game.is_over or len(legal) == 0 or game.move_number + 1 >= game.max_moves:
            break
        game.play(int(rng.choice(legal)))
    return game


def ko_position() -> tuple[GoGame, int, int]:
    """5x5, Black to move: Black at D3 captures White's C3 stone in a ko, and White may not retake at C3 at once
    (positional superko). Returns (game, Black's capture, White's forbidden retake)."""
    n = 5
    at = lambda r, c: r * n + c  # noqa: E731
    black = [at(1, 2), at(2, 1), at(3, 2)]
    white = [at(1, 3), at(2, 2), at(2, 4), at(3, 3)]
    game = GoGame(n, 0.5)
    for b, w in zip(black, white):
        game.play(b)
        game.play(w)
    game.play(at(0, 0))  # Black's fourth stone, away from the fight; White's last one:
    game.play(white[3])
    capture, retake = at(2, 3), at(2, 2)
    check = game.copy()
    assert check.play(capture) == 1 and check.legality(retake) == "superko"
    return game, capture, retake


def roots_and_searches(games: list[GoGame], sims: list[int], leaves_per_tree: int = 1, **kwargs):
    """Both searches over ``games``: the reference's `run_simulations` and the compiled `search`."""
    ref_eval, comp_eval = ReferenceEvaluator(), CompiledEvaluator(games[0].komi)
    roots = [mcts.Node(g.copy()) for g in games]
    mcts.expand_roots(roots, ref_eval)
    mcts.run_simulations(roots, ref_eval, sims)
    search = BatchedSearch(len(games), games[0].board_size, games[0].komi, HISTORY, max_moves=games[0].max_moves,
                           leaves_per_tree=leaves_per_tree, **kwargs)
    for t, g in enumerate(games):
        search.set_root(t, g)
    search.expand_roots(comp_eval)
    search.search(comp_eval, np.array(sims))
    return roots, search, ref_eval, comp_eval


# --------------------------------------------------------------------------------------------- equivalence


@pytest.mark.parametrize("n", [5, 7, 9])
def test_many_trees_one_leaf_each_build_the_reference_trees(n: int) -> None:
    games = [random_game(n, moves, seed) for seed, moves in enumerate([0, 3, 12, 25, 40, 80])]
    sims = [60, 150, 40, 200, 90, 120]
    roots, search, ref_eval, comp_eval = roots_and_searches(games, sims)
    assert_same_batches(ref_eval, comp_eval)
    compared = [assert_same_tree(root, search, t) for t, root in enumerate(roots)]
    assert sum(compared) > sum(sims) // 2
    for t, game in enumerate(games):  # the search left the roots' superko tables as it found them
        assert np.array_equal(search.root_table[t], game._seen)
        assert np.array_equal(search.root_counts[t], game._seen_counts)


@pytest.mark.parametrize("batch", [1, 4, 8])
def test_one_tree_with_virtual_loss_builds_the_reference_tree(batch: int) -> None:
    for seed, game in enumerate([random_game(7, 10, 3), random_game(5, 30, 4), ko_position()[0]]):
        ref_eval, comp_eval = ReferenceEvaluator(), CompiledEvaluator(game.komi)
        root = mcts.Node(game.copy())
        mcts.expand_roots([root], ref_eval)
        mcts.search_with_virtual_loss(root, ref_eval, 250, batch)
        search = BatchedSearch(1, game.board_size, game.komi, HISTORY, leaves_per_tree=batch, virtual_loss=True)
        search.set_root(0, game)
        search.expand_roots(comp_eval)
        search.search(comp_eval, 250)
        assert_same_batches(ref_eval, comp_eval)
        assert assert_same_tree(root, search, 0) > 50
        assert search.root_total_visits(0) == root.total_visits == 250  # no virtual loss left behind


def test_terminal_positions_and_the_move_cap_inside_the_tree() -> None:
    # After a pass, passing again ends the game (scored), and with max_moves the cap ends lines as truncated.
    passed = random_game(5, 14, 7)
    passed.play(passed.pass_action)
    capped = random_game(5, 10, 8, max_moves=14)
    for game in (passed, capped):
        roots, search, ref_eval, comp_eval = roots_and_searches([game], [300])
        assert_same_batches(ref_eval, comp_eval)
        assert_same_tree(roots[0], search, 0)
        terminal = [c for c in roots[0].children.values() if c.terminal_value is not None]
        if game is passed:
            assert terminal  # the double pass was searched
    over = GoGame(5, 7.5)
    over.play(over.pass_action)
    over.play(over.pass_action)
    search = BatchedSearch(1, 5)
    search.set_root(0, over)
    assert search.expand_roots(uniform_evaluator) == 0 and search.search(uniform_evaluator, 10) == 0


def test_superko_inside_the_tree() -> None:
    game, capture, retake = ko_position()
    roots, search, ref_eval, comp_eval = roots_and_searches([game], [300])
    assert_same_batches(ref_eval, comp_eval)
    assert_same_tree(roots[0], search, 0)
    after = search.node_stats(0, search.node(0, (capture,)))
    assert after["expanded"] and not after["legal"][retake]
    expected = game.copy()
    expected.play(capture)
    assert np.array_equal(after["legal"], expected.legal_moves())


def test_tree_reuse_and_dirichlet_noise_follow_the_reference_over_a_game() -> None:
    """Self-play style: noise at the root (same seed), search, play the most visited move, keep the subtree."""
    n, games = 5, 3
    ref_eval, comp_eval = ReferenceEvaluator(), CompiledEvaluator(7.5)
    real = [random_game(n, 2 * i, 20 + i) for i in range(games)]
    roots = [mcts.Node(g.copy()) for g in real]
    search = BatchedSearch(games, n, 7.5, HISTORY, nodes=8)  # small pools: they must grow
    for t, g in enumerate(real):
        search.set_root(t, g)
    rng_ref, rng_comp = np.random.default_rng(5), np.random.default_rng(5)
    for move in range(12):
        mcts.expand_roots(roots, ref_eval)
        search.expand_roots(comp_eval)
        for t in range(games):
            roots[t].add_dirichlet_noise(rng_ref, 0.3, 0.25)
            search.add_dirichlet_noise(t, rng_comp, 0.3, 0.25)
        sims = [max(0, 40 - r.total_visits) for r in roots]
        assert sims == [max(0, 40 - search.root_total_visits(t)) for t in range(games)]
        mcts.run_simulations(roots, ref_eval, sims)
        search.search(comp_eval, np.array(sims))
        for t in range(games):
            assert_same_tree(roots[t], search, t)
            if real[t].is_over:
                continue
            action = int(np.argmax(roots[t].visits))
            real[t].play(action)
            roots[t] = roots[t].child(action)
            search.advance(t, action)
            assert search.root_matches(t, real[t])
            assert_same_tree(roots[t], search, t)  # the kept subtree, compacted
            assert np.array_equal(search.root_state[t], real[t]._state)
            assert np.array_equal(search.root_table[t], real[t]._seen)
        assert_same_batches(ref_eval, comp_eval)


def test_advance_refuses_illegal_moves_and_drops_the_tree_without_keep() -> None:
    game, capture, retake = ko_position()
    search = BatchedSearch(1, 5, 0.5)
    search.set_root(0, game)
    search.expand_roots(uniform_evaluator)
    search.search(uniform_evaluator, 50)
    with pytest.raises(ValueError, match="illegal"):
        search.advance(0, 1 * 5 + 2)  # occupied
    search.advance(0, capture, keep=False)
    assert search.tree_size(0) == (1, 0) and search.root_total_visits(0) == 0
    with pytest.raises(ValueError, match="illegal"):
        search.advance(0, retake)  # superko
    with pytest.raises(ValueError, match="komi"):
        search.set_root(0, GoGame(5, 7.5))


# --------------------------------------------------------------------------------------------- Gumbel


def test_sequential_halving_schedule() -> None:
    assert halving_schedule(4, 16).tolist() == [0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    assert halving_schedule(1, 5).tolist() == [0, 1, 2, 3, 4]
    for m, n in [(16, 32), (16, 200), (8, 8), (4, 3), (2, 10), (16, 7)]:
        schedule = halving_schedule(m, n)
        assert len(schedule) == n and np.all(np.diff(schedule) >= 0)
        # entry v tops up an action that has v visits: never more than m of them at any count
        assert np.bincount(schedule).max() <= m


@pytest.mark.parametrize("leaves_per_tree", [1, 4])
@pytest.mark.parametrize("m, n, expected", [(4, 16, [6, 6, 2, 2]), (8, 24, [7, 7, 3, 3, 1, 1, 1, 1]),
                                            (16, 8, [1] * 8)])
def test_sequential_halving_visits_sum_to_the_budget(m: int, n: int, expected: list[int],
                                                     leaves_per_tree: int) -> None:
    game = random_game(7, 6, 1)
    search = BatchedSearch(2, 7, root="gumbel", leaves_per_tree=leaves_per_tree)
    for t in range(2):
        search.set_root(t, game)
    search.expand_roots(uniform_evaluator)
    for t in range(2):
        assert search.prepare_gumbel(t, n, m, np.random.default_rng(t)) == m
    search.search(uniform_evaluator, n)
    for t in range(2):
        visits = search.root_visits(t)
        assert visits.sum() == n == search.root_total_visits(t)
        considered = set(np.flatnonzero(np.isfinite(search.gumbel[t])))
        assert set(np.flatnonzero(visits)) <= considered and len(considered) == m
        if leaves_per_tree == 1:  # virtual loss may reorder within a phase, not the totals
            assert sorted(visits[visits > 0].astype(int).tolist(), reverse=True) == expected


def test_gumbel_improved_policy_and_action_match_the_formula() -> None:
    """Four considered moves, one playout each: Q of each is minus its child's value; the improved policy must be
    softmax(log prior + sigma(completed Q)) with v_mix for the unvisited moves and sigma as in the paper/mctx."""
    game = GoGame(5, 0.5)
    komi, c_visit, c_scale = 0.5, 50.0, 0.1
    root_value = 0.25

    def evaluate(leaves: Leaves):
        priors, values = [], []
        for i in range(len(leaves)):
            legal = leaves.legal[i]
            weights = np.where(legal, 1.0 + np.arange(26) % 3, 0.0)
            priors.append(weights / weights.sum())
            stones = np.flatnonzero(leaves.boards[i])
            values.append(root_value if len(stones) == 0 else ((stones[0] % 5) - 2) / 4.0)
        return np.array(priors, dtype=np.float32), np.array(values, dtype=np.float32)

    search = BatchedSearch(1, 5, komi, root="gumbel", c_visit=c_visit, c_scale=c_scale)
    search.set_root(0, game)
    search.expand_roots(evaluate)
    rng = np.random.default_rng(3)
    assert search.prepare_gumbel(0, 4, 4, rng) == 4
    search.search(evaluate, 4)
    stats = search.node_stats(0)
    visits, prior, legal = stats["visits"], stats["prior"].astype(np.float64), stats["legal"]
    assert visits.sum() == 4 and set(np.unique(visits)) == {0.0, 1.0}
    visited = visits > 0
    q = np.zeros(26)
    for a in np.flatnonzero(visited):  # each visit evaluated the child after a; its value is for the opponent
        q[a] = -(((a % 5) - 2) / 4.0)
        assert stats["value_sum"][a] == pytest.approx(q[a])
    # v_mix = (v + sum N / sum_{visited} p * sum_{visited} p q) / (1 + sum N)
    v_mix = (root_value + 4 / prior[visited].sum() * (prior[visited] * q[visited]).sum()) / (1 + 4)
    completed = np.where(visited, q, v_mix)[legal]
    rescaled = (completed - completed.min()) / max(completed.max() - completed.min(), 1e-8)
    sigma = (c_visit + 1) * c_scale * rescaled
    logits = np.log(prior[legal]) + sigma
    expected = np.zeros(26)
    expected[legal] = np.exp(logits - logits.max()) / np.exp(logits - logits.max()).sum()
    assert search.improved_policy(0) == pytest.approx(expected, abs=1e-6)
    # The move: the best g + logits + sigma(q) among the most visited (all four, one visit each).
    g = search.gumbel[0]
    full_sigma = np.zeros(26)
    full_sigma[legal] = sigma
    score = np.where(visited, g + np.log(np.maximum(prior, 1e-30)) + full_sigma, -np.inf)
    assert search.gumbel_action(0) == int(np.argmax(score))
    # Without noise the considered moves are the top four by prior.
    search.set_root(0, game)
    search.expand_roots(evaluate)
    search.prepare_gumbel(0, 4, 4, None)
    top = np.argsort(-np.where(legal, prior, -1), kind="stable")[:4]
    assert set(np.flatnonzero(np.isfinite(search.gumbel[0]))) == set(top)


def test_gumbel_search_excludes_pass_when_asked_and_finds_a_capture() -> None:
    game, capture, _ = ko_position()
    exclude = np.zeros(26, dtype=bool)
    exclude[25] = True
    search = BatchedSearch(1, 5, 0.5, root="gumbel")

    def score_evaluator(leaves: Leaves):
        out = [position_value(leaves.boards[i], int(leaves.to_play[i]), leaves.legal[i], 0.5)
               for i in range(len(leaves))]
        return np.stack([p for p, _ in out]), np.array([v for _, v in out], dtype=np.float32)

    search.set_root(0, game)
    search.expand_roots(score_evaluator)
    search.prepare_gumbel(0, 64, 16, None, exclude=exclude)
    assert not np.isfinite(search.gumbel[0, 25])
    search.search(score_evaluator, 64)
    assert search.root_visits(0)[25] == 0
    assert search.gumbel_action(0) == capture
    policy = search.improved_policy(0)
    assert policy.sum() == pytest.approx(1.0, abs=1e-5) and int(np.argmax(policy)) == capture
    assert game.to_play == BLACK


# --------------------------------------------------------------------------------------------- self-play, player


def test_compiled_selfplay_plays_the_reference_games() -> None:
    """PUCT self-play on both engines, same seed and deterministic evaluator: the same training samples (planes,
    targets, outcomes) and statistics, playout cap randomisation, noise, temperature and tree reuse included."""
    from deep_arena.agents.alphazero.selfplay import SelfPlay, SelfPlayConfig
    from deep_arena.agents.alphazero.selfplay_compiled import CompiledSelfPlay

    settings = dict(simulations=24, fast_simulations=6, full_search_prob=0.5, parallel_games=4,
                    temperature_moves=4, pass_min_move=6)
    ref = SelfPlay(ReferenceEvaluator(), 5, 7.5, HISTORY, SelfPlayConfig(**settings), np.random.default_rng(11))
    comp = CompiledSelfPlay(CompiledEvaluator(7.5), 5, 7.5, HISTORY, SelfPlayConfig(engine="compiled", **settings),
                            np.random.default_rng(11))
    for _ in range(2):
        ref_out, ref_stats = ref.generate(40)
        comp_out, comp_stats = comp.generate(40)
        assert len(ref_out) == len(comp_out) >= 40
        for (a, za), (b, zb) in zip(ref_out, comp_out):
            assert np.array_equal(a.planes, b.planes) and np.array_equal(a.policy, b.policy)
            assert a.to_play == b.to_play and za == zb
        for name in ("games", "moves", "positions", "simulations", "game_lengths", "black_wins", "network_calls",
                     "evaluated"):
            assert getattr(ref_stats, name) == getattr(comp_stats, name), name
    assert comp_stats.mean_batch > 1


def test_gumbel_selfplay_targets_are_improved_policies() -> None:
    from deep_arena.agents.alphazero.selfplay import SelfPlayConfig
    from deep_arena.agents.alphazero.selfplay_compiled import CompiledSelfPlay

    config = SelfPlayConfig(engine="compiled", root="gumbel", simulations=8, fast_simulations=4, full_search_prob=0.5,
                            parallel_games=6, gumbel_considered=4, pass_min_move=10)
    selfplay = CompiledSelfPlay(CompiledEvaluator(7.5), 5, 7.5, HISTORY, config, np.random.default_rng(0))
    out, stats = selfplay.generate(30)
    assert len(out) >= 30 and stats.games >= 1 and stats.simulations > 0
    for sample, z in out:
        assert sample.policy.sum() == pytest.approx(1.0, abs=1e-5) and z in (-1.0, 0.0, 1.0)
        legal = sample.planes[-1].reshape(-1).astype(bool)
        assert np.all(sample.policy[:-1][~legal] == 0)
    with pytest.raises(ValueError, match="compiled"):
        from deep_arena.agents.alphazero.selfplay import SelfPlay
        SelfPlay(CompiledEvaluator(7.5), 5, 7.5, HISTORY, config, np.random.default_rng(0))


def test_compiled_player_searches_like_the_python_player() -> None:
    """AlphaZeroPlayer with engine=compiled against engine=python over a game with tree reuse (observe), the
    deterministic evaluator standing in for the network: the same visits, values and moves."""
    from deep_arena.agents.alphazero.network import NetConfig, PolicyValueNet
    from deep_arena.agents.alphazero.player import AlphaZeroPlayer
    from deep_arena.envs.go.opponents import RandomOpponent

    net = PolicyValueNet(NetConfig(in_planes=features.num_planes(HISTORY), channels=4, blocks=1)).eval()
    meta = {"history_length": HISTORY, "board_size": 5, "komi": 7.5}
    players = [AlphaZeroPlayer(net, meta, sims=30, batch=4, engine=engine) for engine in ("python", "compiled")]
    players[0].evaluate = ReferenceEvaluator()
    players[1].leaf_evaluate = CompiledEvaluator(7.5)
    opponent = RandomOpponent()
    game = GoGame(5, 7.5)
    for p in players:
        p.reset(game, 0)
    opponent.reset(game, 0)
    rngs = [np.random.default_rng(2), np.random.default_rng(2)]
    rng = np.random.default_rng(3)
    while not game.is_over and game.move_number < 30:
        colour = game.to_play
        if colour == BLACK:
            actions = [p.act(game, r) for p, r in zip(players, rngs)]
            assert actions[0] == actions[1]
            assert np.array_equal(players[0].last_visits, players[1].last_visits)
            assert players[0].last_value == pytest.approx(players[1].last_value, abs=1e-6)
            action = actions[0]
        else:
            action = opponent.act(game, rng)
        game.play(action)
        for p in players:
            p.observe(colour, action)
    assert players[1]._search.root_matches(0, game) or game.is_over


def test_compiled_player_with_a_network_plays_legal_moves() -> None:
    from deep_arena.agents.alphazero.network import NetConfig, PolicyValueNet
    from deep_arena.agents.alphazero.player import AlphaZeroPlayer
    from deep_arena.agents.go.match import play_game
    from deep_arena.envs.go.opponents import RandomOpponent

    net = PolicyValueNet(NetConfig(in_planes=features.num_planes(HISTORY), channels=4, blocks=1)).eval()
    player = AlphaZeroPlayer(net, {"history_length": HISTORY, "board_size": 5, "komi": 7.5}, sims=12,
                             engine="compiled")
    record = play_game(player, RandomOpponent(), 5, 7.5, seed=4)  # raises on an illegal move
    assert record.moves and record.winner in (-1, 0, 1)
    assert player.last_visits.sum() >= 12


@pytest.mark.parametrize("root", ["puct", "gumbel"])
def test_trainer_runs_on_the_compiled_engine(tmp_path, root: str) -> None:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    from deep_arena.agents.alphazero import trainer as az
    from deep_arena.runtime import COMMON_DEFAULTS, RunDir, deep_merge, merge_config

    tiny = ["positions_per_iteration=32", "min_replay=32", "replay_capacity=1000", "selfplay.parallel_games=8",
            "selfplay.simulations=8", "selfplay.fast_simulations=2", "net.channels=8", "net.blocks=1",
            "eval.games_vs_random=2", "eval.games_vs_gnugo=0", "eval.sims=4", "checkpoint_every=1", "threads=1",
            "train.batch_size=32", "selfplay.engine=compiled", f"selfplay.root={root}", "selfplay.leaves_per_game=2"]
    config = merge_config(deep_merge(COMMON_DEFAULTS, az.DEFAULTS),
                          overrides=["board_size=5", "iterations=2", "device=cpu", *tiny])
    trainer = az.AlphaZeroTrainer(config, RunDir.create("go", "alphazero", root=tmp_path), progress_bar=False)
    result = trainer.run()
    assert result.counters["iteration"] == 2 and result.counters["positions"] >= 64
    assert result.details["random"]["games"] == 2
    acc = EventAccumulator(str(trainer.run_dir.path))
    acc.Reload()
    for tag in ("selfplay/simulations_per_second", "selfplay/positions_per_second", "selfplay/mean_batch"):
        assert [e.step for e in acc.Scalars(tag)] == [1, 2], tag
    assert acc.Scalars("selfplay/mean_batch")[-1].value > 1


def test_gumbel_needs_the_compiled_engine() -> None:
    from deep_arena.agents.alphazero.config import AlphaZeroSettings

    config = AlphaZeroSettings.defaults()
    config.update(iterations=1)
    config["selfplay"].update(root="gumbel", engine="python")
    with pytest.raises(ValueError, match="engine=compiled"):
        AlphaZeroSettings.from_dict(config)
    config["selfplay"]["engine"] = "compiled"
    AlphaZeroSettings.from_dict(config)
