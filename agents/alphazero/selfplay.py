"""Self-play: many games advanced together, so every network call evaluates a batch of leaves.

Search details (AlphaGo Zero, with KataGo's playout-cap randomisation):
* each move, with probability ``full_search_prob`` a full search of ``simulations`` playouts with Dirichlet noise at
  the root, whose visit distribution becomes a training target; otherwise a fast search of ``fast_simulations``
  without noise, not recorded. More games per hour for the value head, good policy targets where they are kept;
* the move is sampled from visits with temperature 1 for the first ``temperature_moves`` moves, then the most visited;
* the subtree under the chosen move is kept for the next search (tree reuse);
* before move ``pass_min_move`` the root may not pass while other moves are legal, so that early games of an
  untrained network do not end after two passes on an empty board.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from deep_arena.envs.go import features
from deep_arena.envs.go.game import GoGame
from deep_arena.agents.alphazero.mcts import Node, choose_action, expand_roots, run_simulations


@dataclass
class SelfPlayConfig:
    simulations: int = 64
    fast_simulations: int = 16
    full_search_prob: float = 0.25
    parallel_games: int = 32
    c_puct: float = 1.5
    fpu_reduction: float = 0.2
    dirichlet_alpha: float | None = None  # default 10 / N^2 (~0.03 at 19x19 as in AlphaGo Zero)
    noise_fraction: float = 0.25
    temperature_moves: int | None = None  # default N (board size)
    pass_min_move: int | None = None  # default N^2 / 2
    engine: str = "python"  # this class; "compiled": selfplay_compiled.CompiledSelfPlay (the trainer picks the
    # class by config.py's selfplay.engine, whose default is compiled)
    root: str = "puct"  # "gumbel": compiled engine only
    leaves_per_game: int = 1  # compiled engine: leaves per game per network call (virtual loss above 1)
    gumbel_considered: int = 16
    gumbel_c_visit: float = 50.0
    gumbel_c_scale: float = 0.1
    actors: int = 0  # > 0: agents.alphazero.actors.ActorPool plays, in Ray actor processes (the trainer picks it)
    actor_threads: int = 1
    ray_address: str | None = None
    inference_server: str = "auto"  # actors: one server batching for all (agents.alphazero.inference_server)


@dataclass
class Sample:
    planes: np.ndarray  # uint8 (C, N, N)
    policy: np.ndarray  # float32 (N*N + 1,)
    to_play: int


@dataclass
class _Slot:
    game: GoGame
    root: Node
    samples: list[Sample] = field(default_factory=list)


@dataclass
class SelfPlayStats:
    games: int = 0
    moves: int = 0
    positions: int = 0
    simulations: int = 0
    game_lengths: list[int] = field(default_factory=list)
    black_wins: int = 0
    seconds: float = 0.0
    finished: list[GoGame] = field(default_factory=list)
    network_calls: int = 0  # evaluator calls and positions evaluated: mean inference batch = evaluated / calls
    evaluated: int = 0

    @property
    def mean_batch(self) -> float:
        return self.evaluated / max(1, self.network_calls)


class SelfPlay:
    """Keeps ``parallel_games`` games going; `generate` plays until enough training samples are made."""

    def __init__(self, evaluate, board_size: int, komi: float, history_length: int, config: SelfPlayConfig,
                 rng: np.random.Generator):
        self.evaluate = evaluate
        self.board_size = board_size
        self.komi = komi
        self.history_length = history_length
        self.config = config
        self.rng = rng
        if config.engine != "python" or config.root != "puct":
            raise ValueError(f"SelfPlay is the python engine's PUCT search; engine={config.engine!r}, "
                             f"root={config.root!r} is selfplay_compiled.CompiledSelfPlay")
        n = board_size
        self.alpha = config.dirichlet_alpha or 10.0 / (n * n)
        self.temperature_moves = n if config.temperature_moves is None else config.temperature_moves
        self.pass_min_move = n * n // 2 if config.pass_min_move is None else config.pass_min_move
        self.slots = [self._new_slot() for _ in range(config.parallel_games)]

    def _new_slot(self) -> _Slot:
        game = GoGame(self.board_size, self.komi)
        return _Slot(game=game, root=Node(game.copy()))

    def generate(self, min_samples: int) -> tuple[list[tuple[Sample, float]], SelfPlayStats]:
        """Play moves in all slots until at least ``min_samples`` positions of finished games are available.
        Returns (sample, outcome for the sample's player to move) pairs and statistics."""
        stats = SelfPlayStats()
        out: list[tuple[Sample, float]] = []
        start = time.perf_counter()
        cfg = self.config

        def evaluate(games):
            stats.network_calls += 1
            stats.evaluated += len(games)
            return self.evaluate(games)

        while len(out) < min_samples:
            roots = [s.root for s in self.slots]
            expand_roots(roots, evaluate)
            full = self.rng.random(len(self.slots)) < cfg.full_search_prob
            sims = []
            for slot, is_full in zip(self.slots, full):
                if is_full:
                    slot.root.add_dirichlet_noise(self.rng, self.alpha, cfg.noise_fraction)
                # Searches count the playouts already under a reused root.
                target = cfg.simulations if is_full else cfg.fast_simulations
                sims.append(max(0, target - slot.root.total_visits) if not is_full else target)
            stats.simulations += run_simulations(roots, evaluate, sims, cfg.c_puct, cfg.fpu_reduction)
            for i, (slot, is_full) in enumerate(zip(self.slots, full)):
                root = slot.root
                if slot.game.move_number < self.pass_min_move and root.legal[:-1].any():
                    root.visits[-1] = 0  # no early pass (see module docstring)
                if is_full:
                    slot.samples.append(Sample(
                        planes=features.encode(slot.game, self.history_length).astype(np.uint8),
                        policy=root.visit_distribution().astype(np.float32),
                        to_play=slot.game.to_play))
                temperature = 1.0 if slot.game.move_number < self.temperature_moves else 0.0
                action = choose_action(root, temperature, self.rng)
                if slot.game.move_number < self.pass_min_move and action == slot.game.pass_action \
                        and root.legal[:-1].any():
                    legal = np.flatnonzero(root.legal[:-1])
                    action = int(legal[self.rng.integers(len(legal))])
                slot.game.play(action)
                stats.moves += 1
                slot.root = root.child(action)
                if slot.game.is_over:
                    winner = slot.game.winner
                    out.extend((s, float(winner * s.to_play)) for s in slot.samples)
                    stats.games += 1
                    stats.positions += len(slot.samples)
                    stats.game_lengths.append(slot.game.move_number)
                    stats.black_wins += winner == 1
                    stats.finished.append(slot.game)
                    self.slots[i] = self._new_slot()
        stats.seconds = time.perf_counter() - start
        return out, stats
