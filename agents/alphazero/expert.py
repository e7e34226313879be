"""Supervised start from GNU Go's games: AlphaGo's first stage, before self-play.

AlphaGo learnt first from expert moves and then from self-play; AlphaGo Zero showed that self-play alone goes
further, given the compute. On a 2-core machine it is not given: 85 minutes of self-play (2.6k games) left the 7×7
network losing every game to GNU Go (README). So the trainer can start from GNU Go instead of from nothing:

* :func:`expert_games` has GNU Go play itself. GNU Go is deterministic, so each game opens with 0 to
  ``max_opening_moves`` random legal moves (seeded) and the engine plays the rest; games are reproducible, each
  seeded by its index, and played by ``expert.workers`` processes (``--workers``; default min(cores, games)).
* :func:`expert_samples` turns a game into training samples shaped like self-play's: the feature planes of every
  position after the random opening, GNU Go's move there as a one-hot policy target, and the game's result for the
  player to move as the value target.

:class:`agents.alphazero.trainer.AlphaZeroTrainer` adds the samples to its replay buffer and takes
``expert.train_steps`` minibatch steps on them (same loss and symmetry augmentation as self-play) before its first
self-play iteration (config ``expert``; off by default). Self-play samples then push them out of the buffer.
"""

from __future__ import annotations

import math
import multiprocessing
import os
from dataclasses import dataclass
from typing import Iterator

import numpy as np

from deep_arena.agents.go.match import play_game
from deep_arena.envs.go import features
from deep_arena.envs.go.game import GoGame
from deep_arena.envs.go.opponents import make_opponent
from deep_arena.runtime import progress


@dataclass
class ExpertConfig:
    """``games``: GNU Go self-play games (0: off). ``gnugo_level``: its level (0-10; 1 plays a 7x7 game in about
    0.4 s here, 10 in 4 s). ``max_opening_moves``: each game opens with 0..this many random moves. ``train_steps``:
    minibatch steps on the expert samples before self-play."""

    games: int = 0
    gnugo_level: int = 1
    max_opening_moves: int = 4
    train_steps: int = 1000
    workers: int | None = None  # processes playing the games; None: min(cores, games)

    def validate(self) -> None:
        for key in ("games", "max_opening_moves", "train_steps"):
            value = getattr(self, key)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"expert.{key} must be a non-negative integer, got {value!r}")
        if isinstance(self.gnugo_level, bool) or not isinstance(self.gnugo_level, int) \
                or not 0 <= self.gnugo_level <= 10:
            raise ValueError(f"expert.gnugo_level must be an integer from 0 to 10, got {self.gnugo_level!r}")
        if self.workers is not None and (isinstance(self.workers, bool) or not isinstance(self.workers, int)
                                         or self.workers < 1):
            raise ValueError(f"expert.workers must be a positive integer or None, got {self.workers!r}")


def _play_games(task: tuple[str, int, float, int, list[tuple[int, int]]]) -> list[tuple[list[int], int, int]]:
    """Games ``[(index, opening), ...]`` between two GNU Go engines of level spec (one pool task, or all games)."""
    spec, board_size, komi, seed, games = task
    black = make_opponent(spec, board_size, komi)
    try:
        white = make_opponent(spec, board_size, komi)
    except BaseException:
        black.close()
        raise
    out = []
    try:
        for index, opening in games:
            record = play_game(black, white, board_size, komi, seed=int(seed) * 1_000_003 + index,
                               opening_moves=opening)
            out.append((list(record.moves), int(record.winner), opening))
    finally:
        black.close()
        white.close()
    return out


def default_workers(games: int) -> int:
    """min(cores, games), at least 1."""
    return max(1, min(os.cpu_count() or 1, games))


def expert_games(config: ExpertConfig, board_size: int, komi: float, seed: int,
                 progress_bar: bool = False, workers: int | None = None) -> Iterator[tuple[list[int], int, int]]:
    """Yield ``(moves, winner, opening_length)`` for ``config.games`` games of GNU Go against itself, in game order.

    Game ``i`` is seeded by its index (its opening length is the i-th draw of a generator seeded by ``seed``; its
    opening moves and both engines' seeds come from ``seed`` and ``i``), so the games are the same whatever
    ``workers`` (default ``config.workers``, else min(cores, games)): with more than one, a pool of processes
    (started by a fork server where the OS has one, else spawned; each task with its own pair of GNU Go engines)
    plays chunks of consecutive games.

    Raises FileNotFoundError (from :func:`envs.go.opponents.make_opponent`) when GNU Go is not installed.
    """

    spec = f"gnugo:{config.gnugo_level}"
    rng = np.random.default_rng([int(seed), 77])
    games = [(i, int(rng.integers(0, config.max_opening_moves + 1))) for i in range(config.games)]
    if not games:
        return
    workers = int(workers or config.workers or default_workers(len(games)))
    workers = min(workers, len(games))
    with progress(total=len(games), desc=f"GNU Go {config.gnugo_level} games", unit="game",
                  disable=not progress_bar) as bar:
        if workers == 1:
            tasks = [(spec, board_size, komi, seed, [g]) for g in games]
            for task in tasks:  # one at a time, so that a missing GNU Go fails before any game
                for result in _play_games(task):
                    yield result
                    bar.update(1)
            return
        size = max(1, math.ceil(len(games) / (4 * workers)))  # a few chunks per worker: even finish
        tasks = [(spec, board_size, komi, seed, games[i:i + size]) for i in range(0, len(games), size)]
        make_opponent(spec, board_size, komi).close()  # GNU Go missing: FileNotFoundError here, not in a worker
        # not fork: a forked copy of a process with threads (torch's, Ray's, a test runner's) can inherit a lock
        # held by a thread that does not exist in the child and hang for ever (seen here after the Ray tests);
        # forkserver workers start from a clean single-threaded server, spawn where there is none
        method = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
        with multiprocessing.get_context(method).Pool(workers) as pool:
            for chunk in pool.imap(_play_games, tasks):
                for result in chunk:
                    yield result
                    bar.update(1)


def expert_samples(moves: list[int], winner: int, opening: int, board_size: int, komi: float,
                   history_length: int) -> Iterator[tuple[np.ndarray, np.ndarray, float]]:
    """``(planes uint8, one-hot policy, value)`` for every position of the game from move ``opening`` on.

    The value is the result for the player to move (+1 won, -1 lost, 0 draw), as in self-play.
    """
    game = GoGame(board_size, komi)
    actions = board_size * board_size + 1
    for index, action in enumerate(moves):
        if index >= opening:
            policy = np.zeros(actions, dtype=np.float32)
            policy[action] = 1.0
            yield (features.encode(game, history_length).astype(np.uint8), policy,
                   float(winner * game.to_play))
        game.play(action)
