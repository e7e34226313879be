"""Go Text Protocol (GTP version 2): an engine over :class:`~envs.go.game.GoGame`, and a client for other engines.

* :class:`GTPEngine` answers GTP commands for a ``GoGame`` and a move policy, so our agents can play in GoGui,
  Sabaki, gogui-twogtp, KGS/CGOS bridges, or against GNU Go. ``scripts/gtp.py`` runs one on stdin/stdout.
* :class:`GTPClient` drives any external GTP engine as a subprocess; :class:`GnuGo` is a client for GNU Go with
  helpers that speak our action numbers (``row * N + col``, row 0 at the top, ``N * N`` = pass) and colours
  (``1`` Black, ``-1`` White).

Rules are those of ``GoGame`` (area / Tromp-Taylor scoring, suicide illegal, positional superko); GNU Go is started
with ``--chinese-rules --positional-superko`` so that both sides agree on which moves are legal.

This module imports neither Gymnasium nor pygame.
"""

from __future__ import annotations

import os
import queue
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Callable
from typing import IO, TextIO, TypeVar

import numpy as np

from deep_arena.envs.go.coords import GTP_COLUMNS, action_to_gtp, gtp_to_action
from deep_arena.envs.go.game import BLACK, EMPTY, MAX_SIZE, MIN_SIZE, WHITE, GoGame, IllegalMoveError
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

PROTOCOL_VERSION = 2
DEFAULT_VERSION = "0.1.0"

#: A move policy: given the game (with ``game.to_play`` the side to move, never a finished game), return an action.
Policy = Callable[[GoGame], int]

#: What :meth:`GnuGo.genmove` returns when GNU Go resigns (no action number means "resign").
RESIGN = None

_COLOURS = {"b": BLACK, "black": BLACK, "w": WHITE, "white": WHITE}


# ---------------------------------------------------------------------------------------------------------------
# Small helpers shared by the engine and the clients.


def parse_colour(text: str) -> int:
    """GTP colour (``b``, ``w``, ``black``, ``white``; any case) -> 1 or -1. Raises ``ValueError`` otherwise."""
    try:
        return _COLOURS[text.lower()]
    except KeyError:
        raise ValueError(f"invalid colour {text!r}") from None


def colour_name(colour: int) -> str:
    """1 -> ``"black"``, -1 -> ``"white"`` (the GTP spelling). Raises ``ValueError`` for anything else."""
    if colour == BLACK:
        return "black"
    if colour == WHITE:
        return "white"
    raise ValueError(f"colour must be {BLACK} (black) or {WHITE} (white), got {colour!r}")


def _number_text(value: float) -> str:
    """``3.5`` -> ``"3.5"``, ``25.0`` -> ``"25"``: the shortest exact decimal."""
    return f"{value:.10g}"


def format_score(score: float) -> str:
    """A score from Black's point of view (``black - white - komi``) -> GTP ``final_score`` text.

    ``3.5`` -> ``"B+3.5"``, ``-0.5`` -> ``"W+0.5"``, ``0`` -> ``"0"``.
    """
    if score > 0:
        return f"B+{_number_text(score)}"
    if score < 0:
        return f"W+{_number_text(-score)}"
    return "0"


def parse_score(text: str) -> float:
    """GTP ``final_score`` text -> score from Black's point of view (the inverse of :func:`format_score`).

    Accepts ``"B+3.5"``, ``"W+0.5"``, ``"0"``, and ``"B+R"`` / ``"W+Resign"`` (-> +/- infinity).
    Raises ``ValueError`` for anything else.
    """
    t = text.strip().upper()
    if t in ("0", "DRAW", "JIGO"):
        return 0.0
    if len(t) >= 3 and t[0] in "BW" and t[1] == "+":
        sign = 1.0 if t[0] == "B" else -1.0
        rest = t[2:]
        if rest in ("R", "RESIGN"):
            return sign * float("inf")
        try:
            value = float(rest)
        except ValueError:
            pass
        else:
            if np.isfinite(value) and value >= 0:
                return sign * value
    raise ValueError(f"invalid score {text!r}")


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
            text = _preprocess(line)
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
        f"by White {game.captures[WHITE]}; komi {_number_text(game.komi)}"
    )
    return "\n".join(lines)


# -- parsing helpers ----------------------------------------------------------------------------------------------


def _preprocess(line: str) -> str:
    """GTP preprocessing: drop control characters (keeping tab and newline), cut the comment, tabs -> spaces,
    strip. ``handle`` reads one command, so an embedded newline is treated as a space (never a second command)."""
    kept = "".join(ch for ch in line if ch in "\t\n" or not (ord(ch) < 32 or ord(ch) == 127))
    kept = kept.split("#", 1)[0]
    return kept.replace("\t", " ").replace("\n", " ").strip()


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


# ---------------------------------------------------------------------------------------------------------------
# Clients for external engines.


class GTPError(RuntimeError):
    """An engine answered ``? message``. ``command`` is what was sent, ``message`` the engine's text."""

    def __init__(self, message: str, command: str = ""):
        super().__init__(f"{command!r} failed: {message}" if command else message)
        self.message = message
        self.command = command


class GTPProcessError(GTPError):
    """The engine process is gone (it exited, closed its output, or did not answer in time).

    ``returncode`` is its exit status if known; ``stderr`` the tail of what it wrote there.
    """

    def __init__(self, message: str, command: str = "", returncode: int | None = None, stderr: str = ""):
        super().__init__(message, command)
        self.returncode = returncode
        self.stderr = stderr


_EOF = object()
_Client = TypeVar("_Client", bound="GTPClient")


class GTPClient:
    """Drive an external GTP engine (a subprocess speaking GTP on stdin/stdout).

    Args:
        argv: the command line, e.g. ``["gnugo", "--mode", "gtp"]``.
        timeout: seconds to wait for each response (``None``: wait forever). A timeout raises
            :class:`GTPProcessError` and kills the engine, since its answers would no longer line up.
        cwd, env: passed to ``subprocess.Popen``.

    :meth:`send` returns the body of a ``=`` response, raises :class:`GTPError` for a ``?`` response and
    :class:`GTPProcessError` if the engine has died. The engine's stderr goes to a temporary file whose tail is
    quoted in that error. Use as a context manager, or call :meth:`close`.
    """

    def __init__(
        self,
        argv: list[str],
        timeout: float | None = None,
        cwd: str | os.PathLike[str] | None = None,
        env: dict[str, str] | None = None,
    ):
        if not argv:
            raise ValueError("argv must name a program")
        self.argv = [str(a) for a in argv]
        self.timeout = timeout
        self._stderr: IO[bytes] = tempfile.TemporaryFile()
        try:
            self._proc = subprocess.Popen(
                self.argv,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=self._stderr,
                cwd=cwd,
                env=env,
                text=True,
                encoding="utf-8",
                errors="replace",
                bufsize=1,
            )
        except BaseException:
            self._stderr.close()
            raise
        self._lines: queue.Queue[object] = queue.Queue()
        self._reader = threading.Thread(target=self._read_stdout, name=f"gtp-reader-{self._proc.pid}", daemon=True)
        self._reader.start()
        self._closed = False

    def _read_stdout(self) -> None:
        """Background thread: forward the engine's stdout line by line, then an end-of-file marker."""
        stdout = self._proc.stdout
        assert stdout is not None
        try:
            for line in iter(stdout.readline, ""):
                self._lines.put(line)
        except (OSError, ValueError):
            pass
        finally:
            self._lines.put(_EOF)

    @property
    def alive(self) -> bool:
        """Whether the engine process is still running."""
        return not self._closed and self._proc.poll() is None

    def stderr_tail(self, limit: int = 2000) -> str:
        """The last ``limit`` characters the engine wrote to stderr."""
        try:
            self._stderr.flush()
            size = self._stderr.seek(0, os.SEEK_END)
            self._stderr.seek(max(0, size - limit))
            return self._stderr.read().decode("utf-8", "replace")
        except (OSError, ValueError):
            return ""

    def _died(self, command: str, what: str) -> GTPProcessError:
        try:
            code = self._proc.wait(timeout=1.0)
        except subprocess.TimeoutExpired:
            code = None
        tail = self.stderr_tail().strip()
        status = f"exit status {code}" if code is not None else "still running"
        message = f"GTP engine {self.argv[0]!r} {what} ({status})"
        if tail:
            message += f"; its stderr ends with:\n{tail}"
        return GTPProcessError(message, command, code, tail)

    def send(self, command: str) -> str:
        """Send one command; return the response body (without ``=``, id, or the final blank line).

        Multi-line bodies keep their inner newlines. Raises :class:`GTPError` on a ``?`` response,
        :class:`GTPProcessError` if the engine is gone or too slow, and ``ValueError`` for a command with a
        newline or one that is empty or only a comment (engines do not answer those, so waiting would hang).
        """
        if "\n" in command or "\r" in command:
            raise ValueError(f"a GTP command is one line, got {command!r}")
        if not _preprocess(command):
            raise ValueError(f"{command!r} holds no command, so no engine would answer it")
        if self._closed:
            raise GTPProcessError(f"GTP engine {self.argv[0]!r} was closed", command)
        stdin = self._proc.stdin
        assert stdin is not None
        try:
            stdin.write(command + "\n")
            stdin.flush()
        except (BrokenPipeError, OSError, ValueError):
            raise self._died(command, "is not accepting commands") from None
        lines: list[str] = []
        while True:
            try:
                item = self._lines.get(timeout=self.timeout)
            except queue.Empty:
                self._kill()
                raise GTPProcessError(
                    f"GTP engine {self.argv[0]!r} gave no answer within {self.timeout} s; it was stopped", command
                ) from None
            if item is _EOF:
                self._lines.put(_EOF)  # later calls see the end too
                raise self._died(command, "closed its output before answering")
            line = str(item).rstrip("\r\n")
            if not lines and not line.strip():
                continue  # blank lines before a response are not part of it
            if lines and not line.strip():
                break
            lines.append(line)
        head = lines[0]
        if head[:1] not in ("=", "?"):
            raise GTPError(f"malformed response {chr(10).join(lines)!r}", command)
        first = head[1:].lstrip("0123456789").strip()
        parts = [first] + lines[1:]
        if not first and len(parts) > 1:
            parts = parts[1:]  # a multi-line answer such as showboard starts on the line after "="
        body = "\n".join(parts).rstrip()
        if head[0] == "?":
            raise GTPError(body, command)
        return body

    def _kill(self) -> None:
        if self._proc.poll() is None:
            self._proc.kill()
            try:
                self._proc.wait(timeout=5.0)
            except subprocess.TimeoutExpired:
                pass

    def close(self) -> None:
        """Ask the engine to ``quit`` and wait briefly, killing it if needed. Safe to call more than once."""
        if self._closed:
            return
        try:
            if self._proc.poll() is None:
                old_timeout = self.timeout
                self.timeout = 5.0
                try:
                    self.send("quit")
                except GTPError:
                    pass
                finally:
                    self.timeout = old_timeout
                try:
                    self._proc.wait(timeout=5.0)
                except subprocess.TimeoutExpired:
                    self._kill()
        finally:
            self._closed = True
            for stream in (self._proc.stdin, self._proc.stdout):
                try:
                    if stream is not None:
                        stream.close()
                except OSError:
                    pass
            self._stderr.close()

    def __enter__(self: _Client) -> _Client:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __del__(self) -> None:
        if getattr(self, "_closed", True) is False and getattr(self, "_proc", None) is not None:
            try:
                self._kill()
            except Exception:
                pass


# ---------------------------------------------------------------------------------------------------------------
# GNU Go.


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
            self.send(f"komi {_number_text(self.komi)}")
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
