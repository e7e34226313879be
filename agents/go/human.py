"""Play Go against an opponent in a pygame window, or watch an agent play one.

:class:`HumanGoSession` holds the game logic and knows nothing about windows until :meth:`HumanGoSession.run`:
it owns a :class:`~envs.go.game.GoGame`, the human's colour and an opponent from
:func:`~envs.go.opponents.make_opponent`, kept in sync through ``reset`` / ``observe`` / ``act`` exactly as
:class:`~envs.go.gym_env.GoEnv` does. Every user command is a plain method (:meth:`~HumanGoSession.play`,
:meth:`~HumanGoSession.pass_turn`, :meth:`~HumanGoSession.resign`, :meth:`~HumanGoSession.undo`,
:meth:`~HumanGoSession.save`, :meth:`~HumanGoSession.quit`), so tests drive it without a display;
:meth:`~HumanGoSession.handle_event` maps pygame events onto them, and :meth:`~HumanGoSession.run` is the
window loop, which sleeps in ``pygame.event.wait`` between events instead of spinning.

Controls: click an intersection to play, ``P`` pass, ``R`` resign, ``U`` undo (your last move and the
opponent's reply), ``S`` save an SGF record, ``Esc`` or closing the window quits.

With ``agent=policy`` the session is a *watch* session: ``policy(game) -> action`` plays the human's colour,
one move every ``agent_delay`` seconds, and the window only takes ``S`` and ``Esc``.

pygame is imported only by the methods that need it (:meth:`~HumanGoSession.handle_event`, :meth:`~HumanGoSession.run`).
"""

from __future__ import annotations

import datetime as _dt
import os
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np

from deep_arena.envs.go.coords import action_to_gtp
from deep_arena.envs.go.game import BLACK, WHITE, GoGame
from deep_arena.envs.go.gtp_client import GTPError
from deep_arena.envs.go.opponents import RESIGN, GnuGoOpponent, Opponent, make_opponent, random_move
from deep_arena.envs.go.render import GobanRenderer, HumanWindow, _pygame
from deep_arena.envs.go.sgf import game_to_sgf, result_string

__all__ = ["HumanGoSession", "NoDisplayError", "SessionWindow", "DEFAULT_SAVE_DIR", "REASON_TEXT", "unique_path"]

DEFAULT_SAVE_DIR = Path("runs") / "go"

#: How each reason from ``GoGame.legality`` is shown to the player.
REASON_TEXT = {
    "occupied": "occupied",
    "suicide": "suicide",
    "superko": "ko (superko)",
    "game over": "game over",
    "off board": "off board",
}

HUMAN_KEYS = "Keys: P pass, R resign, U undo, S save SGF, Esc quit"
OVER_KEYS = "Keys: U undo, S save SGF, Esc quit"
WATCH_KEYS = "Keys: S save SGF, Esc quit"

_COLOUR_NAMES = {BLACK: "Black", WHITE: "White"}


class NoDisplayError(RuntimeError):
    """No window can be shown (no display, or SDL fell back to an off-screen driver)."""


def _colour(value: int | str) -> int:
    if value in (BLACK, "black", "b", "B"):
        return BLACK
    if value in (WHITE, "white", "w", "W"):
        return WHITE
    raise ValueError(f"colour must be 'black' or 'white', got {value!r}")


def unique_path(path: str | os.PathLike[str]) -> Path:
    """``path`` if no file is there, else the first free ``stem-1.ext``, ``stem-2.ext``, ... beside it."""
    path = Path(path)
    if not path.exists():
        return path
    for i in range(1, 100_000):
        candidate = path.with_name(f"{path.stem}-{i}{path.suffix}")
        if not candidate.exists():
            return candidate
    raise FileExistsError(f"no free file name next to {path}")


def default_sgf_path(save_dir: str | os.PathLike[str] = DEFAULT_SAVE_DIR) -> Path:
    """``runs/go/human-YYYYmmdd-HHMMSS.sgf`` (before :func:`unique_path`)."""
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    return Path(save_dir) / f"human-{stamp}.sgf"


class HumanGoSession:
    """A game of Go between a human (or a watched ``agent``) and an opponent.

    Args:
        board_size, komi, max_moves: the game (see :class:`GoGame`).
        human_color: ``"black"`` or ``"white"`` (or 1 / -1): the colour the human (or the agent) plays.
        opponent: ``"random"``, ``"gnugo:LEVEL"``, an :class:`Opponent` or a callable ``policy(game) -> action``.
        sgf_path: if given, the record is saved there when the game ends (and on quitting a game with unsaved
            moves), and ``S`` saves there too; otherwise ``S`` saves to ``save_dir/human-<timestamp>.sgf``.
            An existing file is never overwritten: a ``-1``, ``-2``, ... suffix is added instead.
        seed: seeds the random opponent / agent and GNU Go.
        agent: a policy ``agent(game) -> action`` that plays ``human_color`` instead of a human (watch mode).
        agent_name: the agent's name in messages and the SGF record.
        agent_delay: seconds between moves in watch mode (in :meth:`run`).

    State: ``game``, ``human`` (1 / -1), ``message`` (the panel text), ``resigned`` (colour that resigned, or
    None), ``error`` (why the game stopped if the opponent failed), ``saved_paths``, ``quit_requested``.
    """

    def __init__(
        self,
        board_size: int = 9,
        komi: float = 7.5,
        human_color: int | str = "black",
        opponent: object = "random",
        *,
        sgf_path: str | os.PathLike[str] | None = None,
        save_dir: str | os.PathLike[str] = DEFAULT_SAVE_DIR,
        seed: int | None = None,
        max_moves: int | None = None,
        agent: Callable[[GoGame], int] | None = None,
        agent_name: str = "random agent",
        agent_delay: float = 0.5,
        search_info: Callable[[], str | None] | None = None,
    ) -> None:
        self.game = GoGame(board_size, komi, max_moves)  # validates size, komi and cap
        self.human = _colour(human_color)
        self.opponent_colour = -self.human
        self.opponent: Opponent = make_opponent(opponent, self.game.board_size, self.game.komi)
        self.sgf_path = Path(sgf_path) if sgf_path is not None else None
        self.save_dir = Path(save_dir)
        self.seed = seed
        self.rng = np.random.default_rng(seed)
        self.agent = agent
        self.agent_name = agent_name
        self.agent_delay = float(agent_delay)
        #: Optional text about the last machine move (e.g. a search's value and visit counts), shown in the panel.
        self.search_info = search_info
        self.renderer = GobanRenderer(self.game.board_size)  # geometry only; pygame is not imported here
        self.message: str | None = None
        self.resigned: int | None = None
        self.error: str | None = None
        self.saved_paths: list[Path] = []
        self.quit_requested = False
        self.hover: int | None = None
        #: Called just before the opponent (or the agent) starts thinking, so a window can show the move just made.
        self.on_thinking: Callable[[], None] | None = None
        self._started = False
        self._dirty = False  # moves made since the last save
        self._opponent_seed = int(self.rng.integers(2**31))

    # -- names and state -------------------------------------------------------------------------------------------

    @property
    def watching(self) -> bool:
        return self.agent is not None

    @property
    def player_name(self) -> str:
        return self.agent_name if self.watching else "Human"

    @property
    def opponent_name(self) -> str:
        return str(self.opponent.name)

    def name_of(self, colour: int) -> str:
        return self.player_name if colour == self.human else self.opponent_name

    def describe(self, colour: int) -> str:
        """``"Black (you)"`` / ``"White (gnugo:5)"``."""
        who = "you" if colour == self.human and not self.watching else self.name_of(colour)
        return f"{_COLOUR_NAMES[colour]} ({who})"

    @property
    def is_over(self) -> bool:
        """The game has ended (two passes, move cap, a resignation) or stopped because the opponent failed."""
        return self.game.is_over or self.resigned is not None or self.error is not None

    @property
    def winner(self) -> int | None:
        """1 / -1 / 0 (draw) once the game has ended, else None (also when it stopped on an opponent error)."""
        if self.resigned is not None:
            return -self.resigned
        if self.game.is_over:
            return self.game.winner
        return None

    @property
    def result(self) -> str:
        """SGF result: ``B+3.5``, ``W+R``, ``0`` (draw) or ``?`` while the game is running."""
        if self.resigned is not None:
            return f"{'W' if self.resigned == BLACK else 'B'}+R"
        if self.game.is_over:
            return result_string(self.game.score())
        return "?"

    @property
    def panel_message(self) -> str:
        """What the window's panel shows: the current message and the controls."""
        keys = WATCH_KEYS if self.watching else (OVER_KEYS if self.is_over else HUMAN_KEYS)
        return f"{self.message}\n{keys}" if self.message else keys

    # -- game flow ---------------------------------------------------------------------------------------------------

    def start(self) -> None:
        """Start the game: reset the opponent and, if it plays Black, let it move. Called once (idempotent)."""
        if self._started:
            return
        self._started = True
        self.opponent.reset(self.game, self._opponent_seed)
        if self.watching:
            self.message = f"{self.describe(BLACK)} vs {self.describe(WHITE)}"
        elif self.game.to_play == self.opponent_colour:
            self._opponent_move()
        else:
            self.message = f"You play Black against {self.opponent_name}: your move"

    def _commit(self, action: int) -> None:
        colour = self.game.to_play
        self.game.play(action)
        self.opponent.observe(colour, action)
        self._dirty = True

    def play(self, action: int) -> bool:
        """The human plays ``action`` (a point, or ``N * N`` to pass); the opponent answers. Returns whether the
        move was played. An illegal move changes nothing and sets :attr:`message` to the reason, e.g.
        ``"Illegal: ko (superko) at C3"``."""
        self.start()
        if self.watching:
            self.message = f"Watching {self.agent_name}: moves come from the agent"
            return False
        if self.is_over:
            self.message = "The game is over: U undoes, S saves, Esc quits"
            return False
        if self.game.to_play != self.human:  # only if the opponent failed to move; kept for safety
            self.message = f"Waiting for {self.opponent_name}"
            return False
        reason = self.game.legality(action)
        if reason is not None:
            where = action_to_gtp(int(action), self.game.board_size) if reason != "off board" else repr(action)
            self.message = f"Illegal: {REASON_TEXT.get(reason, reason)} at {where}"
            return False
        self._commit(int(action))
        self.message = None
        if self.game.is_over:
            self._finish()
        else:
            self._opponent_move()
        return True

    def click(self, x: float, y: float) -> bool:
        """A left click at pixel ``(x, y)`` of the window: plays the intersection there, if any."""
        action = self.renderer.pixel_to_action(x, y)
        if action is None:
            return False
        return self.play(action)

    def pass_turn(self) -> bool:
        """The human passes (two passes in a row end the game)."""
        return self.play(self.game.pass_action)

    def resign(self) -> bool:
        """The human resigns: the game is over and the opponent wins (``U`` takes the resignation back)."""
        self.start()
        if self.watching:
            return False
        if self.is_over:
            self.message = "The game is already over: U undoes, S saves, Esc quits"
            return False
        self.resigned = self.human
        self._dirty = True
        self._finish()
        return True

    def undo(self) -> bool:
        """Take back the human's last move and everything after it (the opponent's reply, or its resignation);
        after the human resigned, take back the resignation. GNU Go takes the moves back too."""
        self.start()
        if self.watching:
            return False
        if self.resigned == self.human:
            self.resigned = None
            self.message = "Resignation taken back: your move"
            return True
        history = self.game.history
        first = 0 if self.human == BLACK else 1  # Black plays the even-numbered moves
        mine = range(first, len(history), 2)
        if len(mine) == 0:
            self.message = "Nothing to undo"
            return False
        count = len(history) - mine[-1]
        for _ in range(count):
            self.game.undo()
        self.resigned = None
        self.error = None
        self._dirty = True
        try:
            self._undo_opponent(count)
        except Exception as err:  # e.g. GNU Go died: the game stays taken back, but cannot go on
            self._fail(f"{self.opponent_name} could not take the moves back: {err}")
            return True
        self.message = f"Took back {count} move{'s' if count != 1 else ''}: your move"
        return True

    def _undo_opponent(self, count: int) -> None:
        """Bring the opponent back in line with the game after ``count`` moves were taken back."""
        if isinstance(self.opponent, GnuGoOpponent):
            try:
                for _ in range(count):
                    self.opponent._engine.undo()
                self.opponent._generated = None
                return
            except GTPError:
                pass  # fall back to replaying the game into it
        # Any other opponent (and GNU Go if undo failed): start over and replay the moves still on the board.
        self.opponent.reset(GoGame(self.game.board_size, self.game.komi, self.game.max_moves), self._opponent_seed)
        for i, action in enumerate(self.game.history):
            self.opponent.observe(BLACK if i % 2 == 0 else WHITE, action)

    def _opponent_move(self) -> None:
        """Ask the opponent for its move and play it (or record its resignation)."""
        if self.on_thinking is not None:
            self.on_thinking()
        try:
            action = self.opponent.act(self.game, self.rng)
        except Exception as err:  # e.g. GNU Go died: stop the game, keep the window (S still saves)
            self._fail(f"{self.opponent_name} failed: {err}")
            return
        self._play_for(self.opponent_colour, action)

    def _play_for(self, colour: int, action: Any) -> None:
        """Play the opponent's or the agent's ``action`` for ``colour``; end the game where that ends it."""
        name = self.name_of(colour)
        if action == RESIGN:
            self.resigned = colour
            self._dirty = True
            self._finish()
            return
        if isinstance(action, bool) or not isinstance(action, (int, np.integer)):
            self._fail(f"{name} returned {action!r}, not a move")
            return
        reason = self.game.legality(int(action))
        if reason is not None:
            self._fail(f"{name} chose an illegal move {action} ({reason})")
            return
        self._commit(int(action))
        if self.game.is_over:
            self._finish()
        elif action == self.game.pass_action:
            if self.watching:
                self.message = f"{name} passes"
            else:
                self.message = f"{name} passes: pass too (P) to end the game, or play on"
        elif not self.watching:
            self.message = f"{name} played {action_to_gtp(int(action), self.game.board_size)}: your move"
        if self.search_info is not None and not self.game.is_over:
            info = self.search_info()
            if info:
                self.message = f"{self.message}\n{info}" if self.message else info

    def _fail(self, text: str) -> None:
        self.error = text
        self.message = f"Game stopped. {text}"

    def step_agent(self) -> bool:
        """Watch mode: play one move for the side to move (the agent or the opponent). False once it is over."""
        self.start()
        if not self.watching or self.is_over:
            return False
        if self.game.to_play == self.human:
            if self.on_thinking is not None:
                self.on_thinking()
            try:
                action = self.agent(self.game.copy())  # type: ignore[misc]
            except Exception as err:
                self._fail(f"{self.agent_name} failed: {err}")
                return False
            self._play_for(self.human, action)
        else:
            self._opponent_move()
        return True

    def _finish(self) -> None:
        """The game has just ended: show the result and, with ``sgf_path``, save the record."""
        game = self.game
        if self.resigned is not None:
            loser = self.resigned
            head = "You resign" if loser == self.human and not self.watching else f"{self.name_of(loser)} resigns"
            self.message = f"{head}: {self.describe(-loser)} wins, {self.result}"
        else:
            black, white = game.area()
            winner = game.winner
            verdict = "draw (jigo)" if winner == 0 else f"{self.describe(winner)} wins, {self.result}"
            why = f"move limit of {game.max_moves}" if game.is_truncated else "two passes"
            self.message = (f"Game over ({why}): {verdict}. "
                            f"Tromp-Taylor area Black {black}, White {white}, komi {game.komi:g}")
        if self.sgf_path is not None:
            saved = self.save(self.sgf_path)
            if saved is not None:
                self.message = f"{self.message}\nSaved {saved.name}"

    # -- records -------------------------------------------------------------------------------------------------

    def sgf_text(self) -> str:
        names = {self.human: self.player_name, self.opponent_colour: self.opponent_name}
        return game_to_sgf(self.game, black=names[BLACK], white=names[WHITE], result=self.result,
                           comment="Played with Deep Arena (scripts/play.py go)")

    def save(self, path: str | os.PathLike[str] | None = None) -> Path | None:
        """Save the game as SGF to ``path`` (default: ``sgf_path``, else ``save_dir/human-<timestamp>.sgf``),
        never overwriting a file: an existing name gets a ``-1``, ``-2``, ... suffix. Returns the path written,
        or None (with :attr:`message` saying why) if writing failed."""
        target = Path(path) if path is not None else (self.sgf_path or default_sgf_path(self.save_dir))
        text = self.sgf_text()
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            for _ in range(100):
                final = unique_path(target)
                try:
                    with open(final, "x", encoding="utf-8", newline="\n") as fh:  # "x": never overwrite
                        fh.write(text)
                    break
                except FileExistsError:  # someone took the name in between: try the next one
                    continue
            else:
                raise FileExistsError(f"no free file name next to {target}")
        except OSError as err:
            self.message = f"Could not save the SGF: {err}"
            return None
        self.saved_paths.append(final)
        self._dirty = False
        if not self.is_over:
            self.message = f"Saved {final.name} in {final.parent}"
        return final

    def quit(self) -> None:
        """Stop the session. With ``sgf_path``, a game with moves not yet saved is saved first."""
        if self.sgf_path is not None and self._dirty and self.game.history:
            self.save(self.sgf_path)
        self.quit_requested = True

    def close(self) -> None:
        """Release the opponent (stops GNU Go)."""
        self.opponent.close()

    # -- pygame ----------------------------------------------------------------------------------------------------

    def handle_event(self, event: Any) -> bool:
        """Apply one pygame event; returns whether the window needs redrawing."""
        pg = _pygame()
        if event.type == pg.QUIT:
            self.quit()
        elif event.type == pg.KEYDOWN:
            key = event.key
            if key == pg.K_ESCAPE:
                self.quit()
            elif key == pg.K_s:
                self.save()
            elif self.watching:
                return False
            elif key == pg.K_p:
                self.pass_turn()
            elif key == pg.K_r:
                self.resign()
            elif key == pg.K_u:
                self.undo()
            else:
                return False
        elif event.type == pg.MOUSEMOTION:
            hover = self.renderer.pixel_to_action(*event.pos)
            if hover == self.hover:
                return False
            self.hover = hover
        elif event.type == pg.MOUSEBUTTONDOWN and event.button == 1:
            if not self.watching:
                self.click(*event.pos)
        elif event.type in (pg.WINDOWEXPOSED, pg.VIDEOEXPOSE, pg.WINDOWSHOWN, pg.WINDOWRESTORED):
            return True
        else:
            return False
        return True

    def draw(self, window: HumanWindow, message: str | None = None) -> None:
        """Show the current position in ``window`` (with ``message`` instead of :attr:`panel_message`)."""
        window.hover = None if self.watching or self.is_over else self.hover
        window.show(self.game, message=self.panel_message if message is None else message)

    def run(self, window: HumanWindow | None = None, *, auto_quit_after: float | None = None,
            events: list[Any] | None = None) -> None:
        """Open a window and play until the user quits.

        The loop blocks in ``pygame.event.wait`` (in watch mode with a timeout until the next move), so an idle
        session uses no CPU. ``auto_quit_after`` (seconds, for tests) quits once that long has passed without an
        event or a move; ``events`` are posted to the event queue once the window is open (for tests).
        Raises :class:`NoDisplayError` if no window can be shown.
        """
        pg = _pygame()
        if window is None:
            window = SessionWindow(self.renderer, title=self._title())
        window.open()
        try:
            self.on_thinking = lambda: self.draw(window, self._thinking_message())
            for event in events or ():
                pg.event.post(event)
            self.draw(window)  # the empty board first, then the opponent may open as Black
            self.start()
            self.draw(window)
            last_activity = time.monotonic()
            next_move = time.monotonic() + self.agent_delay
            while not self.quit_requested:
                now = time.monotonic()
                waits = []
                if self.watching and not self.is_over:
                    waits.append(next_move - now)
                if auto_quit_after is not None:
                    waits.append(last_activity + auto_quit_after - now)
                if waits:
                    timeout_ms = max(1, int(min(waits) * 1000))
                    first = pg.event.wait(timeout_ms)
                else:
                    first = pg.event.wait()
                redraw = False
                for event in [first, *pg.event.get()]:
                    if event.type == pg.NOEVENT:
                        continue
                    if event.type != pg.MOUSEMOTION:
                        last_activity = time.monotonic()
                    redraw = self.handle_event(event) or redraw
                    if self.quit_requested:
                        break
                if self.quit_requested:
                    break
                now = time.monotonic()
                if self.watching and not self.is_over and now >= next_move:
                    self.step_agent()
                    last_activity = next_move = time.monotonic()
                    next_move += self.agent_delay
                    redraw = True
                if auto_quit_after is not None and now - last_activity >= auto_quit_after:
                    self.quit()
                    break
                if redraw:
                    self.draw(window)
        finally:
            self.on_thinking = None
            window.close()

    def _title(self) -> str:
        n = self.game.board_size
        return f"Deep Arena - Go {n}x{n}: {self.describe(BLACK)} vs {self.describe(WHITE)}"

    def _thinking_message(self) -> str:
        name = self.name_of(self.game.to_play)
        return f"{name} is thinking..." if not self.watching else f"{name} to play"


class SessionWindow(HumanWindow):
    """A :class:`HumanWindow` whose events are read by :meth:`HumanGoSession.run` rather than by ``show``, and
    which refuses to open "invisibly": if SDL has no display and falls back to an off-screen or dummy driver
    without ``SDL_VIDEODRIVER`` asking for it, :meth:`open` raises :class:`NoDisplayError`."""

    def poll(self) -> None:  # events belong to the session loop
        return

    def open(self) -> None:
        if self.is_open:
            return
        pg = _pygame()
        try:
            super().open()
        except pg.error as err:
            raise NoDisplayError(_no_display_text(str(err))) from None
        driver = pg.display.get_driver()
        if not os.environ.get("SDL_VIDEODRIVER") and driver in ("offscreen", "dummy"):
            self.close()
            raise NoDisplayError(_no_display_text(f"SDL found no display and fell back to the '{driver}' driver"))


def _no_display_text(detail: str) -> str:
    hint = ("Run it on a desktop session (or over X forwarding, or under a virtual display such as xvfb-run)."
            if not os.environ.get("SDL_VIDEODRIVER") else
            f"SDL_VIDEODRIVER is set to {os.environ['SDL_VIDEODRIVER']!r}; unset it or pick a driver that works here.")
    text = f"cannot open a window: {detail}. {hint}"
    if not os.environ.get("SDL_VIDEODRIVER"):
        text += " For automated tests only, SDL_VIDEODRIVER=dummy runs without showing anything."
    return text


def random_agent(seed: int | None = None) -> Callable[[GoGame], int]:
    """A random legal move other than pass (pass only when nothing else is legal), from its own seeded RNG.

    A thin wrapper over :func:`envs.go.opponents.random_move`, so a seed gives the same moves as elsewhere."""
    rng = np.random.default_rng(seed)

    def policy(game: GoGame) -> int:
        return random_move(game, rng)

    policy.__name__ = "random agent"
    return policy
