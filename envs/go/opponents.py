"""Opponents for the single-agent Go env: ``"random"``, ``"gnugo:LEVEL"`` or a callable policy.

An opponent sees every move of the game (so an external engine such as GNU Go stays in sync) and answers
``act(game)`` with an action, or ``RESIGN``.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from deep_arena.envs.go.game import GoGame
from deep_arena.envs.go.gnugo import GnuGo

RESIGN = -1


class Opponent:
    """Base class: stateless opponents only implement ``act``."""

    name = "opponent"

    def reset(self, game: GoGame, seed: int | None) -> None:
        """A new game starts (``game`` is empty)."""

    def observe(self, colour: int, action: int) -> None:
        """``colour`` played ``action`` (called for both players' moves, including the opponent's own)."""

    def act(self, game: GoGame, rng: np.random.Generator) -> int:
        raise NotImplementedError

    def close(self) -> None:
        pass


class RandomOpponent(Opponent):
    """Uniform over legal moves other than pass; passes only when nothing else is legal."""

    name = "random"

    def act(self, game: GoGame, rng: np.random.Generator) -> int:
        return random_move(game, rng)


def random_move(game: GoGame, rng: np.random.Generator) -> int:
    """The one uniform-random Go move policy: uniform over legal moves other than pass, drawn with ``rng``;
    pass only when nothing else is legal. ``RandomOpponent``, ``envs.go.gtp.random_policy`` and
    ``agents.go.human.random_agent`` all call it, so the same seed gives the same moves everywhere."""
    moves = np.flatnonzero(game._legal_mask_cached()[:-1])
    if len(moves) == 0:
        return game.pass_action
    return int(moves[rng.integers(len(moves))])


class CallableOpponent(Opponent):
    """Wraps ``policy(game) -> action``. The policy gets a copy of the game, so it cannot change the real one."""

    def __init__(self, policy: Callable[[GoGame], int]):
        self.policy = policy
        self.name = getattr(policy, "__name__", type(policy).__name__)

    def act(self, game: GoGame, rng: np.random.Generator) -> int:
        return self.policy(game.copy())


class GnuGoOpponent(Opponent):
    """GNU Go over GTP, started as soon as the opponent is created; kept in sync by replaying every move into it."""

    def __init__(self, level: int, board_size: int, komi: float):
        self.level = level
        self.name = f"gnugo:{level}"
        self._engine = GnuGo(board_size=board_size, komi=komi, level=level, seed=0)

    def reset(self, game: GoGame, seed: int | None) -> None:
        self._engine.clear()
        self._engine.send(f"set_random_seed {0 if seed is None else int(seed) % (2**31)}")
        self._generated: tuple[int, int] | None = None

    def observe(self, colour: int, action: int) -> None:
        # genmove already placed GNU Go's own move on its board; everything else is replayed into it.
        if self._generated == (colour, action):
            self._generated = None
            return
        self._engine.play(colour, action)

    def act(self, game: GoGame, rng: np.random.Generator) -> int:
        action = self._engine.genmove(game.to_play)
        if action is None:
            return RESIGN
        self._generated = (game.to_play, action)
        return action

    def close(self) -> None:
        self._engine.close()


def make_opponent(spec: object, board_size: int, komi: float) -> Opponent:
    """Build an opponent from ``"random"``, ``"gnugo:LEVEL"`` (LEVEL 0..10), an ``Opponent`` or a callable."""
    if isinstance(spec, Opponent):
        return spec
    if callable(spec):
        return CallableOpponent(spec)
    if spec == "random":
        return RandomOpponent()
    if isinstance(spec, str) and spec.startswith("gnugo"):
        _, _, level_text = spec.partition(":")
        level_text = level_text or "10"
        if not level_text.isdigit() or not 0 <= int(level_text) <= 10:
            raise ValueError(f"opponent {spec!r}: GNU Go level must be an integer from 0 to 10, e.g. 'gnugo:5'")
        return GnuGoOpponent(int(level_text), board_size, komi)
    raise ValueError(f"unknown opponent {spec!r}: use 'random', 'gnugo:LEVEL' or a callable policy(game) -> action")
