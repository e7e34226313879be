"""Go Text Protocol (GTP version 2) engine: :class:`GTPEngine` answers GTP commands for a
:class:`~envs.go.game.GoGame` and a move policy, so our agents can play in GoGui, Sabaki, gogui-twogtp, KGS/CGOS
bridges, or against GNU Go. ``scripts/gtp.py`` runs one on stdin/stdout.

The other GTP pieces live beside it: the wire format (colours, scores, preprocessing) in `envs.go.gtp_protocol`,
:class:`GTPClient` for driving external engines in `envs.go.gtp_client`, and :class:`GnuGo` in `envs.go.gnugo`.
Their names are still importable from here for older code.

Rules are those of ``GoGame`` (area / Tromp-Taylor scoring, suicide illegal, positional superko).

This module imports neither Gymnasium nor pygame.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TextIO

import numpy as np

from deep_arena.envs.go.coords import GTP_COLUMNS, action_to_gtp, gtp_to_action
from deep_arena.envs.go.game import BLACK, MAX_SIZE, MIN_SIZE, WHITE, GoGame, IllegalMoveError

# The gnugo and gtp_client names (and colour_name, parse_score) are not used here: they are re-exported because they
# lived in this module before it was split, so older `from deep_arena.envs.go.gtp import GnuGo` lines keep working.
from deep_arena.envs.go.gnugo import RESIGN, GnuGo, gnugo_path
from deep_arena.envs.go.gtp_client import GTPClient, GTPError, GTPProcessError
from deep_arena.envs.go.gtp_protocol import (
    PROTOCOL_VERSION,
    colour_name,
    format_score,
    number_text,
    parse_colour,
    parse_score,
    preprocess,
)
from deep_arena.envs.go.opponents import random_move

__all__ = [
    "RESIGN",
    "GTPClient",
    "GTPEngine",
    "GTPError",
    "GTPProcessError",
    "GnuGo",
    "Policy",
    "colour_name",
    "format_score",
    "gnugo_path",
    "parse_colour",
    "parse_score",
    "random_policy",
    "render_board",
]

DEFAULT_VERSION = "0.1.0"

#: A move policy: given the game (with ``game.to_play`` the side to move, never a finished game), return an action.
Policy = Callable[[GoGame], int]


def random_policy(seed: int | None = None) -> Policy:
    """The default ``genmove`` policy: a uniformly random legal move other than pass, or pass if there is none.

    It never resigns. A thin wrapper over :func:`envs.go.opponents.random_move` with its own
    ``numpy.random.Generator`` seeded with ``seed``, so a seeded engine replays the same game against the same
    opponent, and plays the same moves as the other random players given the same seed.
    """
    rng = np.random.default_rng(seed)

    def choose(game: GoGame) -> int:
        return random_move(game, rng)

    return choose


# ---------------------------------------------------------------------------------------------------------------
# The engine.


class _Failure(Exception):
    """A command failed: the engine answers ``? <message>``."""


class GTPEngine:
    """A GTP version 2 engine for a :class:`GoGame`.

    Args:
        board_size: initial board size (5..19; ``boardsize`` changes it later).
        komi: initial komi (``komi`` changes it later, also in the middle of a game).
        genmove: the move policy, ``genmove(game) -> action``; it sees the game with the side to move being the
            colour asked for, and must return a legal action. Default: :func:`random_policy` seeded with ``seed``.
        name: answer to ``name``.
        version: answer to ``version``.
        seed: seed for the default random policy (ignored when ``genmove`` is given).
        max_moves: move cap handed to ``GoGame`` (passes included). Default ``10 * N * N``, far beyond any real
            game: under GTP the controller, not the engine, decides when a game ends.

    Use :meth:`handle` for one command line (returns the full response text, ``"= ...\\n\\n"`` or
    ``"? ...\\n\\n"``, or ``None`` for a line that is empty after preprocessing), or :meth:`run` to serve a stream
    until ``quit`` or end of input. No exception escapes :meth:`handle`.

    Commands: ``protocol_version name version known_command list_commands quit boardsize clear_board komi play
    genmove undo showboard final_score``.

    Behaviour worth knowing:

    * **Playing out of turn.** ``GoGame`` has strict alternation, but GTP lets ``play`` and ``genmove`` name either
      colour (e.g. for handicap stones). If the colour named is not the side to move, the engine first plays a
      *pass* for the side to move, then the move (GNU Go does the same). One ``undo`` takes back both, so ``undo``
      always reverses exactly one ``play`` / ``genmove`` command. If the move itself is illegal the inserted pass
      is taken back too, so a failed command never changes the game.
    * **End of game.** Two consecutive passes end a ``GoGame``; after that ``play`` and ``genmove`` fail with
      ``illegal move: game over`` / ``game over`` until ``undo`` or ``clear_board``. In particular a move for the
      side that did *not* just pass, out of turn after a pass, fails (the inserted pass would end the game).
    * **Scoring.** ``final_score`` is the Tromp-Taylor score of the current board (all stones on the board count
      as alive), as ``B+3.5``, ``W+0.5`` or ``0``.
    * **Errors.** Standard messages: ``unknown command``, ``syntax error: ...``, ``illegal move: <reason>`` (reason
      from ``GoGame``: occupied, suicide, superko, game over), ``unacceptable size``, ``cannot undo``.
    """

    def __init__(
        self,
        board_size: int = 9,
        komi: float = 7.5,
        genmove: Policy | None = None,
        name: str = "DeepArena",
        version: str = DEFAULT_VERSION,
        *,
        seed: int | None = None,
        max_moves: int | None = None,
    ):
        self.name = name
        self.version = version
        self.policy: Policy = genmove if genmove is not None else random_policy(seed)
        self._max_moves = max_moves
        self.quit_requested = False
        # Game moves made by each successful play/genmove command (1, or 2 with an inserted pass), for undo.
        self._undo_counts: list[int] = []
        self.game = self._new_game(board_size, float(komi))
        self._commands: dict[str, Callable[[list[str]], str]] = {
            "protocol_version": self._cmd_protocol_version,
            "name": self._cmd_name,
            "version": self._cmd_version,
            "known_command": self._cmd_known_command,
            "list_commands": self._cmd_list_commands,
            "quit": self._cmd_quit,
            "boardsize": self._cmd_boardsize,
            "clear_board": self._cmd_clear_board,
            "komi": self._cmd_komi,
            "play": self._cmd_play,
            "genmove": self._cmd_genmove,
            "undo": self._cmd_undo,
            "showboard": self._cmd_showboard,
            "final_score": self._cmd_final_score,
        }

    # -- public API ----------------------------------------------------------------------------------------------

    @property
    def commands(self) -> list[str]:
        """Names of the supported commands, in the order ``list_commands`` gives them."""
        return list(self._commands)

    def handle(self, line: str) -> str | None:
        """Answer one command line; returns the complete response, or ``None`` if the line holds no command.

        The line is preprocessed as the GTP specification asks: control characters other than tab and newline are
        removed, everything from ``#`` on is a comment, tabs become spaces, and an empty line is ignored. An
        optional leading integer is the command id and is echoed in the response (``=12 ...``).
        """
        try:
            text = preprocess(line)
            if not text:
                return None
            words = text.split()
            cmd_id = ""
            if words[0].isdigit() and words[0].isascii():
                cmd_id = words.pop(0)
                if not words:
                    return f"?{cmd_id} syntax error: missing command\n\n"
            command, args = words[0], words[1:]
            handler = self._commands.get(command)
            if handler is None:
                return f"?{cmd_id} unknown command\n\n"
            try:
                body = handler(args)
            except _Failure as failure:
                return f"?{cmd_id} {_one_paragraph(str(failure))}\n\n"
            return f"={cmd_id} {_one_paragraph(body)}\n\n"
        except Exception as exc:  # a bug, not a user error: answer, never crash the controller's connection
            return f"? internal error: {_one_paragraph(f'{type(exc).__name__}: {exc}')}\n\n"

    def run(self, instream: TextIO, outstream: TextIO) -> None:
        """Serve commands read line by line from ``instream`` until ``quit`` or end of input, flushing each answer."""
        while not self.quit_requested:
            line = instream.readline()
            if not line:
                break
            response = self.handle(line)
            if response is not None:
                outstream.write(response)
                outstream.flush()

    # -- game bookkeeping ----------------------------------------------------------------------------------------

    def _new_game(self, board_size: int, komi: float) -> GoGame:
        max_moves = self._max_moves if self._max_moves is not None else 10 * board_size * board_size
        self._undo_counts = []
        return GoGame(board_size=board_size, komi=komi, max_moves=max_moves)

    def _play_as(self, colour: int, choose: Callable[[], int]) -> int:
        """Make a move for ``colour``: insert a pass first if ``colour`` is not to move, then play ``choose()``.

        On any failure the game is restored and the exception propagates. Returns the action played.
        """
        game = self.game
        inserted = 0
        if colour != game.to_play:
            game.play(game.pass_action)  # IllegalMoveError("game over") if the game has ended: nothing changed
            inserted = 1
        try:
            action = choose()
            game.play(action)
        except BaseException:
            if inserted:
                game.undo()
            raise
        self._undo_counts.append(1 + inserted)
        return action

    # -- commands ------------------------------------------------------------------------------------------------

    def _cmd_protocol_version(self, args: list[str]) -> str:
        _expect_args(args, 0)
        return str(PROTOCOL_VERSION)

    def _cmd_name(self, args: list[str]) -> str:
        _expect_args(args, 0)
        return self.name

    def _cmd_version(self, args: list[str]) -> str:
        _expect_args(args, 0)
        return self.version

    def _cmd_known_command(self, args: list[str]) -> str:
        _expect_args(args, 1, "known_command COMMAND")
        return "true" if args[0] in self._commands else "false"

    def _cmd_list_commands(self, args: list[str]) -> str:
        _expect_args(args, 0)
        return "\n".join(self._commands)

    def _cmd_quit(self, args: list[str]) -> str:
        self.quit_requested = True  # quit whatever follows it: the controller is going away
        return ""

    def _cmd_boardsize(self, args: list[str]) -> str:
        _expect_args(args, 1, "boardsize SIZE")
        size = _parse_int(args[0])
        if not MIN_SIZE <= size <= MAX_SIZE:
            raise _Failure("unacceptable size")
        self.game = self._new_game(size, self.game.komi)
        return ""

    def _cmd_clear_board(self, args: list[str]) -> str:
        _expect_args(args, 0)
        self.game = self._new_game(self.game.board_size, self.game.komi)
        return ""

    def _cmd_komi(self, args: list[str]) -> str:
        _expect_args(args, 1, "komi FLOAT")
        try:
            komi = float(args[0])
        except ValueError:
            raise _Failure(f"syntax error: komi must be a number, got {args[0]!r}") from None
        if not np.isfinite(komi):
            raise _Failure(f"syntax error: komi must be finite, got {args[0]!r}")
        self.game.komi = komi  # only scoring reads komi, so it may change in mid-game
        return ""

    def _cmd_play(self, args: list[str]) -> str:
        _expect_args(args, 2, "play COLOUR VERTEX")
        colour = _parse_colour(args[0])
        n = self.game.board_size
        try:
            action = gtp_to_action(args[1], n)
        except ValueError as exc:
            raise _Failure(f"syntax error: {exc}") from None
        try:
            self._play_as(colour, lambda: action)
        except IllegalMoveError as exc:
            raise _Failure(f"illegal move: {exc.reason}") from None
        return ""

    def _cmd_genmove(self, args: list[str]) -> str:
        _expect_args(args, 1, "genmove COLOUR")
        colour = _parse_colour(args[0])
        game = self.game
        if game.is_over:
            raise _Failure("game over")

        def choose() -> int:
            action = self.policy(game)
            if isinstance(action, (bool, np.bool_)) or not isinstance(action, (int, np.integer)):
                raise _Failure(f"genmove failed: the policy returned {action!r}, not an action number")
            reason = game.legality(int(action))
            if reason is not None:
                raise _Failure(f"genmove failed: the policy chose an illegal move {action} ({reason})")
            return int(action)

        try:
            action = self._play_as(colour, choose)
        except IllegalMoveError as exc:  # only the inserted pass can get here: the game ended meanwhile
            raise _Failure(str(exc.reason)) from None
        except _Failure:
            raise
        except Exception as exc:
            raise _Failure(f"genmove failed: {type(exc).__name__}: {exc}") from None
        return action_to_gtp(action, game.board_size)

    def _cmd_undo(self, args: list[str]) -> str:
        _expect_args(args, 0)
        if not self._undo_counts:
            raise _Failure("cannot undo")
        for _ in range(self._undo_counts.pop()):
            self.game.undo()
        return ""

    def _cmd_showboard(self, args: list[str]) -> str:
        _expect_args(args, 0)
        return "\n" + render_board(self.game)

    def _cmd_final_score(self, args: list[str]) -> str:
        _expect_args(args, 0)
        return format_score(self.game.score())


def render_board(game: GoGame) -> str:
    """ASCII diagram of ``game`` with GTP coordinates on all sides (X black, O white, the last move in brackets),
    followed by lines giving the side to move, captures, komi and the move number. No line is empty."""
    n = game.board_size
    columns = GTP_COLUMNS[:n]
    header = "    " + " ".join(columns)
    last = game.last_move if game.last_move is not None and game.last_move != game.pass_action else -1
    lines = [header]
    board = game.board
    for row in range(n):
        cells = []
        for col in range(n):
            stone = int(board[row, col])
            mark = "X" if stone == BLACK else ("O" if stone == WHITE else ".")
            cells.append(mark)
        text = " " + " ".join(cells) + " "
        if last >= 0 and last // n == row:
            i = 2 * (last % n)  # the cell's character is at text[i + 1]
            text = text[:i] + "(" + text[i + 1] + ")" + text[i + 3:]
        label = n - row
        lines.append(f"{label:2d} {text}{label}")
    lines.append(header)
    to_move = "Black (X)" if game.to_play == BLACK else "White (O)"
    status = "game over" if game.is_over else f"{to_move} to play"
    lines.append(
        f"{status}; move {len(game.history)}; captured by Black {game.captures[BLACK]}, "
        f"by White {game.captures[WHITE]}; komi {number_text(game.komi)}"
    )
    return "\n".join(lines)


# -- parsing helpers ----------------------------------------------------------------------------------------------


def _one_paragraph(text: str) -> str:
    """Make sure a response body holds no empty line (an empty line ends a GTP response)."""
    lines = text.split("\n")
    if len(lines) == 1:
        return text
    return "\n".join([lines[0]] + [ln if ln.strip() else " " for ln in lines[1:]])


def _expect_args(args: list[str], count: int, usage: str | None = None) -> None:
    if len(args) != count:
        what = f"expected {count} argument{'s' if count != 1 else ''}, got {len(args)}"
        raise _Failure(f"syntax error: {what}" + (f" (usage: {usage})" if usage else ""))


def _parse_int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise _Failure(f"syntax error: expected an integer, got {text!r}") from None


def _parse_colour(text: str) -> int:
    try:
        return parse_colour(text)
    except ValueError as exc:
        raise _Failure(f"syntax error: {exc}") from None
