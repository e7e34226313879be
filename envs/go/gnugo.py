"""GNU Go as an opponent engine: :func:`gnugo_path` finds the executable, :class:`GnuGo` drives it over GTP in our
action numbers (``row * N + col``, row 0 at the top, ``N * N`` = pass) and colours (``1`` Black, ``-1`` White).

GNU Go is started with ``--chinese-rules --positional-superko`` so that it and ``GoGame`` (area / Tromp-Taylor
scoring, suicide illegal, positional superko) agree on which moves are legal.
"""

from __future__ import annotations

import os
import shutil

import numpy as np

from deep_arena.envs.go.coords import action_to_gtp, gtp_to_action
from deep_arena.envs.go.game import BLACK, EMPTY, WHITE
from deep_arena.envs.go.gtp_client import GTPClient
from deep_arena.envs.go.gtp_protocol import colour_name, number_text, parse_score

__all__ = ["RESIGN", "GnuGo", "gnugo_path"]

#: What :meth:`GnuGo.genmove` returns when GNU Go resigns (no action number means "resign").
RESIGN = None


def gnugo_path() -> str | None:
    """Path of the GNU Go executable: ``gnugo`` on ``PATH``, else ``/usr/games/gnugo`` (Debian's place), else None."""
    found = shutil.which("gnugo")
    if found:
        return found
    debian = "/usr/games/gnugo"
    if os.path.isfile(debian) and os.access(debian, os.X_OK):
        return debian
    return None


class GnuGo(GTPClient):
    """GNU Go as a GTP subprocess, speaking our action numbers and colours (1 Black, -1 White).

    Started as ``gnugo --mode gtp --chinese-rules --positional-superko --level LEVEL [--capture-all-dead]``, then
    set up with ``boardsize``, ``clear_board``, ``komi`` and ``set_random_seed``.

    Args:
        board_size, komi: the game.
        level: GNU Go's strength, 0 (fast, weak) to 10 (its default).
        seed: random seed, so its play is reproducible.
        capture_all_dead: play on until all dead stones are captured (so that Tromp-Taylor scoring of the final
            board, as ``GoGame.score()`` does, gives the right result).
        path: the executable; default :func:`gnugo_path`. ``FileNotFoundError`` if there is none.
        timeout: seconds to wait for each answer (see :class:`GTPClient`).
    """

    def __init__(
        self,
        board_size: int = 9,
        komi: float = 7.5,
        level: int = 10,
        seed: int = 0,
        capture_all_dead: bool = True,
        path: str | None = None,
        timeout: float | None = None,
    ):
        exe = path if path is not None else gnugo_path()
        if exe is None or not (os.path.isfile(exe) and os.access(exe, os.X_OK)):
            where = f"at {path!r}" if path is not None else "on PATH or at /usr/games/gnugo"
            raise FileNotFoundError(
                f"GNU Go was not found {where}; install it with `sudo apt-get install gnugo` "
                "(Debian/Ubuntu) or your system's package manager"
            )
        argv = [exe, "--mode", "gtp", "--chinese-rules", "--positional-superko", "--level", str(int(level))]
        if capture_all_dead:
            argv.append("--capture-all-dead")
        super().__init__(argv, timeout=timeout)
        self.board_size = int(board_size)
        self.komi = float(komi)
        self.level = int(level)
        self.seed = int(seed)
        try:
            self.send(f"boardsize {self.board_size}")
            self.send("clear_board")
            self.send(f"komi {number_text(self.komi)}")
            self.send(f"set_random_seed {self.seed}")
        except BaseException:
            self.close()
            raise

    @property
    def pass_action(self) -> int:
        return self.board_size * self.board_size

    def _vertex(self, action: int) -> str:
        return action_to_gtp(int(action), self.board_size)

    def _action(self, vertex: str) -> int:
        return gtp_to_action(vertex, self.board_size)

    def _actions(self, body: str) -> list[int]:
        return sorted(self._action(v) for v in body.split())

    def play(self, colour: int, action: int) -> None:
        """Tell GNU Go that ``colour`` played ``action`` (``GTPError`` if it finds the move illegal)."""
        self.send(f"play {colour_name(colour)} {self._vertex(action)}")

    def genmove(self, colour: int) -> int | None:
        """Ask GNU Go for a move for ``colour`` and play it. Returns the action (``N * N`` for a pass), or
        :data:`RESIGN` (``None``) if GNU Go resigns."""
        answer = self.send(f"genmove {colour_name(colour)}").strip()
        if answer.lower() == "resign":
            return RESIGN
        return self._action(answer)

    def all_legal(self, colour: int) -> list[int]:
        """Points where ``colour`` may play now, as sorted actions (GNU Go does not list pass)."""
        return self._actions(self.send(f"all_legal {colour_name(colour)}"))

    def list_stones(self, colour: int) -> list[int]:
        """Points holding a stone of ``colour``, as sorted actions."""
        return self._actions(self.send(f"list_stones {colour_name(colour)}"))

    def board(self) -> np.ndarray:
        """GNU Go's board as an int8 (N, N) array laid out like ``GoGame.board`` (1 black, -1 white, 0 empty)."""
        n = self.board_size
        board = np.full(n * n, EMPTY, dtype=np.int8)
        board[self.list_stones(BLACK)] = BLACK
        board[self.list_stones(WHITE)] = WHITE
        return board.reshape(n, n)

    def clear(self) -> None:
        """Empty the board (same size and komi)."""
        self.send("clear_board")

    def undo(self) -> None:
        """Take back the last move (``GTPError`` "cannot undo" if there is none)."""
        self.send("undo")

    def final_score(self) -> float:
        """GNU Go's score of the current position from Black's point of view (positive: Black leads).

        This is GNU Go's own estimate (Chinese rules, with its judgement of dead stones), not Tromp-Taylor.
        """
        return parse_score(self.send("final_score"))
