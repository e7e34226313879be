"""Self-play on the compiled batched search (`agents.alphazero.search`): ``selfplay.engine=compiled``.

The same games as `selfplay.SelfPlay` (the Python engine): ``parallel_games`` games advanced together, playout cap
randomisation (full searches with Dirichlet noise recorded as training targets, fast ones not), temperature-1
sampling for the first ``temperature_moves`` moves, no early pass, tree reuse. With PUCT and the same seed and a
deterministic evaluator it draws the same random numbers in the same order and plays the same games (tested).

With ``root="gumbel"`` (Gumbel AlphaZero) every search, full or fast, starts from a fresh root with Gumbel noise;
the move is the one sequential halving keeps (the Gumbel noise is the exploration: no temperature, no Dirichlet
noise) and a full search's training target is the improved policy softmax(logits + sigma(completed Q)). Before
``pass_min_move`` the pass is left out of the considered actions (and of the target) while other moves are legal.
"""

from __future__ import annotations

import time
from types import SimpleNamespace

import numpy as np

from deep_arena.agents.alphazero.mcts import NetworkEvaluator, choose_action
from deep_arena.agents.alphazero.search import BatchedSearch, NetworkLeafEvaluator
from deep_arena.agents.alphazero.selfplay import Sample, SelfPlayConfig, SelfPlayStats
from deep_arena.envs.go import features
from deep_arena.envs.go.game import GoGame


class CompiledSelfPlay:
    """`selfplay.SelfPlay`'s interface (``generate(min_samples) -> (samples, stats)``) on `BatchedSearch`.

    ``evaluate`` is an `mcts.NetworkEvaluator` (its network is then evaluated on the search's leaf planes) or a
    `search.LeafEvaluator`."""

    def __init__(self, evaluate, board_size: int, komi: float, history_length: int, config: SelfPlayConfig,
                 rng: np.random.Generator):
        if config.engine != "compiled":
            raise ValueError(f"CompiledSelfPlay is selfplay.engine=compiled, got {config.engine!r}")
        self.evaluate = NetworkLeafEvaluator.like(evaluate) if isinstance(evaluate, NetworkEvaluator) else evaluate
        self.board_size = board_size
        self.komi = komi
        self.history_length = history_length
        self.config = config
        self.rng = rng
        n = board_size
        self.alpha = config.dirichlet_alpha or 10.0 / (n * n)
        self.temperature_moves = n if config.temperature_moves is None else config.temperature_moves
        self.pass_min_move = n * n // 2 if config.pass_min_move is None else config.pass_min_move
        self.gumbel = config.root == "gumbel"
        self.search = BatchedSearch(config.parallel_games, n, komi, history_length, root=config.root,
                                    leaves_per_tree=config.leaves_per_game, c_puct=config.c_puct,
                                    fpu_reduction=config.fpu_reduction, c_visit=config.gumbel_c_visit,
                                    c_scale=config.gumbel_c_scale)
        self.games: list[GoGame] = []
        self.samples: list[list[Sample]] = []
        for t in range(config.parallel_games):
            self.games.append(GoGame(n, komi))
            self.samples.append([])
            self.search.set_root(t, self.games[t])

    def _new_game(self, t: int) -> None:
        self.games[t] = GoGame(self.board_size, self.komi)
        self.samples[t] = []
        self.search.set_root(t, self.games[t])

    def generate(self, min_samples: int) -> tuple[list[tuple[Sample, float]], SelfPlayStats]:
        """Play moves in all games until at least ``min_samples`` positions of finished games are available.
        Returns (sample, outcome for the sample's player to move) pairs and statistics."""
        stats = SelfPlayStats()
        out: list[tuple[Sample, float]] = []
        start = time.perf_counter()
        cfg = self.config
        search = self.search
        calls, evaluated = search.calls, search.evaluated
        games = len(self.games)
        while len(out) < min_samples:
            search.expand_roots(self.evaluate)
            full = self.rng.random(games) < cfg.full_search_prob
            sims = np.zeros(games, dtype=np.int64)
            legal = [search.node_stats(t)["legal"] for t in range(games)]
            early = [self.games[t].move_number < self.pass_min_move and legal[t][:-1].any() for t in range(games)]
            for t in range(games):
                target = cfg.simulations if full[t] else cfg.fast_simulations
                if self.gumbel:
                    exclude = np.zeros(search.actions, dtype=bool)
                    exclude[-1] = early[t]
                    if not self.games[t].is_over:
                        search.prepare_gumbel(t, target, cfg.gumbel_considered, self.rng, exclude)
                    sims[t] = target
                elif full[t]:
                    search.add_dirichlet_noise(t, self.rng, self.alpha, cfg.noise_fraction)
                    sims[t] = target
                else:  # searches count the playouts already under a reused root
                    sims[t] = max(0, target - search.root_total_visits(t))
            stats.simulations += search.search(self.evaluate, sims)
            for t in range(games):
                game = self.games[t]
                if self.gumbel:
                    policy = search.improved_policy(t)
                    if early[t]:
                        policy[-1] = 0.0
                        policy /= policy.sum()
                    action = search.gumbel_action(t)
                else:
                    visits = search.root_visits(t)
                    if early[t]:
                        visits[-1] = 0  # no early pass (see selfplay's module docstring)
                    total = visits.sum()
                    policy = visits / total if total > 0 else legal[t].astype(np.float32) / max(1, legal[t].sum())
                    temperature = 1.0 if game.move_number < self.temperature_moves else 0.0
                    action = choose_action(SimpleNamespace(visits=visits, legal=legal[t]), temperature, self.rng)
                    if early[t] and action == game.pass_action:
                        choices = np.flatnonzero(legal[t][:-1])
                        action = int(choices[self.rng.integers(len(choices))])
                if full[t]:
                    self.samples[t].append(Sample(planes=features.encode(game, self.history_length).astype(np.uint8),
                                                  policy=policy.astype(np.float32), to_play=game.to_play))
                game.play(action)
                stats.moves += 1
                search.advance(t, action, keep=not self.gumbel)
                if game.is_over:
                    winner = game.winner
                    out.extend((s, float(winner * s.to_play)) for s in self.samples[t])
                    stats.games += 1
                    stats.positions += len(self.samples[t])
                    stats.game_lengths.append(game.move_number)
                    stats.black_wins += winner == 1
                    stats.finished.append(game)
                    self._new_game(t)
        stats.seconds = time.perf_counter() - start
        stats.network_calls = search.calls - calls
        stats.evaluated = search.evaluated - evaluated
        return out, stats
