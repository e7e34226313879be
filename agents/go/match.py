"""Head-to-head evaluation of Go players: single games, matches, statistics and a bar chart.

* :func:`play_game` plays one game between two :class:`~envs.go.opponents.Opponent` players under the rules of
  :class:`~envs.go.game.GoGame` (area scoring, positional superko, two passes end it).
* :func:`play_match` plays ``games`` games with colours alternating (the player takes Black in even games) and
  seeds ``seed + i``, optionally saving every game as SGF, and returns a :class:`MatchResult`.
* :mod:`deep_arena.agents.stats` turns a score into a 95% interval and an Elo difference.
* :func:`plot_match_results` draws a PNG bar chart of score rates with their intervals (matplotlib when it is
  installed, pygame otherwise; either is imported only when a chart is drawn).

A game that reaches the move cap (``2 * N * N`` moves by default) is adjudicated by the Tromp-Taylor score of the
board at that point (``GameRecord.truncated`` says so); a resignation loses. Draws (possible only with an integer
komi) count as half a win in score rates.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import numpy as np
from PIL import Image

from deep_arena.agents.stats import elo_diff, elo_text, wilson_interval
from deep_arena.envs.go.coords import action_to_gtp
from deep_arena.envs.go.game import BLACK, WHITE, GoGame
from deep_arena.envs.go.opponents import RESIGN, Opponent, random_move
from deep_arena.envs.go.render import GobanRenderer
from deep_arena.envs.go.sgf import game_to_sgf, result_string, sgf_to_game
from deep_arena.runtime.progress import progress as progress_bar

__all__ = [
    "ColourRecord",
    "GameRecord",
    "MatchResult",
    "play_game",
    "play_match",
    "plot_match_results",
    "safe_name",
]

_COLOUR_NAME = {BLACK: "Black", WHITE: "White"}


# ---------------------------------------------------------------------------------------------------------------
# Pictures


def board_frame(board_size: int, game: GoGame | str, png: str | os.PathLike[str] | None = None) -> np.ndarray | None:
    """The final board of ``game`` (a game or its SGF text) as an RGB frame, also saved to ``png`` when given; ``None``
    with a warning when it cannot be drawn (pygame or Pillow missing on a server): a picture never stops training."""
    try:
        frame = GobanRenderer(board_size).render_rgb(sgf_to_game(game) if isinstance(game, str) else game)
        if png is not None:
            Image.fromarray(np.ascontiguousarray(frame)).save(png)
        return frame
    except Exception as exc:  # noqa: BLE001 (drawing fails in many ways; the SGF is the record)
        print(f"warning: board picture skipped: {type(exc).__name__}: {exc}")
        return None


# ---------------------------------------------------------------------------------------------------------------
# One game


@dataclass
class GameRecord:
    """One finished game. ``winner``: 1 Black, -1 White, 0 draw. ``score``: Tromp-Taylor score of the final board
    (Black - White - komi). ``resigned_by``: the colour that resigned, or ``None``. ``truncated``: stopped at the
    move cap and adjudicated on the board. ``result``: the SGF ``RE`` value (``B+3.5``, ``W+R``, ``0``)."""

    black: str
    white: str
    board_size: int
    komi: float
    seed: int
    moves: list[int]
    winner: int
    score: float
    resigned_by: int | None
    truncated: bool
    result: str
    sgf: str
    game: GoGame | None = field(default=None, repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "black": self.black, "white": self.white, "seed": self.seed, "moves": len(self.moves),
            "winner": self.winner, "score": self.score, "result": self.result, "truncated": self.truncated,
            "resigned_by": None if self.resigned_by is None else _COLOUR_NAME[self.resigned_by].lower(),
        }


def _name(player: Opponent, given: str | None) -> str:
    return given if given is not None else str(getattr(player, "name", type(player).__name__))


def play_game(black: Opponent, white: Opponent, board_size: int, komi: float, seed: int,
              max_moves: int | None = None, black_name: str | None = None,
              white_name: str | None = None, opening_moves: int = 0,
              opening_seed: int | None = None) -> GameRecord:
    """Play one game; both players are ``reset(game, seed)`` first and ``observe`` every move (theirs too).

    ``opening_moves`` random legal moves (drawn from ``opening_seed``, default ``seed``) open the game before the
    players take over, so that deterministic players do not replay one game over and over (`play_match` gives
    each pair of games with swapped colours the same opening).

    Each colour gets its own random generator seeded from ``seed``, so a game is reproducible. A player that
    returns something other than a legal action or ``RESIGN`` raises ``RuntimeError`` naming it; so does one that
    changes the game it is shown.
    """
    game = GoGame(board_size, komi, max_moves)
    players = {BLACK: black, WHITE: white}
    names = {BLACK: _name(black, black_name), WHITE: _name(white, white_name)}
    distinct = [black] if black is white else [black, white]  # one object playing both sides hears each move once
    for player in distinct:
        player.reset(game, seed)
    rngs = {BLACK: np.random.default_rng([int(seed), 1]), WHITE: np.random.default_rng([int(seed), 2])}
    resigned_by: int | None = None
    opening_rng = np.random.default_rng([int(seed if opening_seed is None else opening_seed), 3])
    for _ in range(opening_moves):
        colour = game.to_play
        action = random_move(game, opening_rng)
        game.play(action)
        for player in distinct:
            player.observe(colour, action)
    while not game.is_over:
        colour = game.to_play
        who = f"{_COLOUR_NAME[colour]} player {names[colour]!r}"
        before = (len(game.history), game.hash)
        action = players[colour].act(game, rngs[colour])
        if (len(game.history), game.hash) != before:
            raise RuntimeError(f"{who} changed the game while choosing a move (act() must not play on it)")
        if isinstance(action, bool) or not isinstance(action, (int, np.integer)):
            raise RuntimeError(f"{who} returned {action!r}, which is not an action (an int, or RESIGN)")
        action = int(action)
        if action == RESIGN:
            resigned_by = colour
            break
        reason = game.legality(action)
        if reason is not None:
            where = action_to_gtp(action, board_size) if 0 <= action <= game.pass_action else "off the board"
            raise RuntimeError(f"{who} chose an illegal move {action} ({where}) at move {game.move_number + 1}: "
                               f"{reason}")
        game.play(action)
        for player in distinct:
            player.observe(colour, action)

    score = game.score()
    if resigned_by is not None:
        winner = -resigned_by
        result = f"{'B' if winner == BLACK else 'W'}+R"
        comment = f"{_COLOUR_NAME[resigned_by]} resigned."
    else:
        winner = game.winner
        result = result_string(score)
        comment = "Stopped at the move limit and scored on the board." if game.is_truncated else None
    seed_note = f"Seed {seed}."
    sgf = game_to_sgf(game, black=names[BLACK], white=names[WHITE], result=result,
                      comment=f"{comment} {seed_note}" if comment else seed_note)
    return GameRecord(black=names[BLACK], white=names[WHITE], board_size=game.board_size, komi=game.komi,
                      seed=int(seed), moves=list(game.history), winner=winner, score=score,
                      resigned_by=resigned_by, truncated=bool(game.is_truncated and resigned_by is None),
                      result=result, sgf=sgf, game=game)


# ---------------------------------------------------------------------------------------------------------------
# Matches


@dataclass
class ColourRecord:
    """Wins, draws and losses of the evaluated player with one colour."""

    wins: int = 0
    draws: int = 0
    losses: int = 0

    @property
    def games(self) -> int:
        return self.wins + self.draws + self.losses

    @property
    def score_rate(self) -> float:
        return (self.wins + 0.5 * self.draws) / self.games if self.games else float("nan")

    def add(self, outcome: int) -> None:
        if outcome > 0:
            self.wins += 1
        elif outcome < 0:
            self.losses += 1
        else:
            self.draws += 1

    def to_dict(self) -> dict[str, Any]:
        rate = self.score_rate
        return {"games": self.games, "wins": self.wins, "draws": self.draws, "losses": self.losses,
                "win_rate": None if math.isnan(rate) else rate}


@dataclass
class MatchResult:
    """Outcome of :func:`play_match`, from the evaluated player's point of view."""

    player: str
    opponent: str
    board_size: int
    komi: float
    seed: int
    by_colour: dict[str, ColourRecord] = field(
        default_factory=lambda: {"black": ColourRecord(), "white": ColourRecord()})
    records: list[GameRecord] = field(default_factory=list, repr=False)
    z: float = 1.96

    @property
    def wins(self) -> int:
        return sum(c.wins for c in self.by_colour.values())

    @property
    def draws(self) -> int:
        return sum(c.draws for c in self.by_colour.values())

    @property
    def losses(self) -> int:
        return sum(c.losses for c in self.by_colour.values())

    @property
    def games(self) -> int:
        return self.wins + self.draws + self.losses

    @property
    def score(self) -> float:
        """Wins plus half the draws."""
        return self.wins + 0.5 * self.draws

    @property
    def win_rate(self) -> float:
        """Score rate: (wins + draws / 2) / games (NaN before any game)."""
        return self.score / self.games if self.games else float("nan")

    @property
    def interval(self) -> tuple[float, float]:
        """Wilson interval of the score rate (95% with the default ``z``)."""
        return wilson_interval(self.score, self.games, self.z)

    @property
    def elo(self) -> float:
        """Elo difference (player minus opponent); at a score rate of 0 or 1 only a bound (see :attr:`elo_bound`)."""
        return elo_diff(self.win_rate, self.games)

    @property
    def elo_bound(self) -> str | None:
        """``"lower"`` when :attr:`elo` is only a lower bound (every game won), ``"upper"`` when every game was
        lost, else ``None``."""
        if self.games and self.win_rate >= 1.0:
            return "lower"
        if self.games and self.win_rate <= 0.0:
            return "upper"
        return None

    @property
    def elo_interval(self) -> tuple[float, float]:
        """Elo differences at the ends of the Wilson interval; an end at rate 0 or 1 is -inf / +inf."""
        lo, hi = self.interval
        return (-math.inf if lo <= 0.0 else elo_diff(lo)), (math.inf if hi >= 1.0 else elo_diff(hi))

    @property
    def resignations(self) -> int:
        return sum(r.resigned_by is not None for r in self.records)

    @property
    def truncated(self) -> int:
        return sum(r.truncated for r in self.records)

    def summary(self) -> str:
        """One line: W/D/L, score rate, 95% interval, Elo with interval."""
        if not self.games:
            return f"{self.player} vs {self.opponent}: no games"
        lo, hi = self.interval
        elo_lo, elo_hi = self.elo_interval
        return (f"{self.player} vs {self.opponent}: W/D/L {self.wins}/{self.draws}/{self.losses}  "
                f"win rate {self.win_rate:.3f}  95% CI [{lo:.3f}, {hi:.3f}]  "
                f"Elo {elo_text(self.win_rate, self.games)} [{_signed(elo_lo)}, {_signed(elo_hi)}]  "
                f"(as Black {_wdl(self.by_colour['black'])}, as White {_wdl(self.by_colour['white'])})")

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly summary (infinite interval ends become ``None``)."""
        lo, hi = self.interval if self.games else (None, None)
        elo_lo, elo_hi = self.elo_interval if self.games else (-math.inf, math.inf)
        rate = self.win_rate
        return {
            "player": self.player, "opponent": self.opponent, "board_size": self.board_size, "komi": self.komi,
            "seed": self.seed, "games": self.games, "wins": self.wins, "draws": self.draws, "losses": self.losses,
            "win_rate": None if math.isnan(rate) else rate, "wilson_95": [lo, hi],
            "elo": self.elo if self.games else None, "elo_bound": self.elo_bound,
            "elo_text": elo_text(rate, self.games) if self.games else None,
            "elo_95": [None if math.isinf(elo_lo) else elo_lo, None if math.isinf(elo_hi) else elo_hi],
            "by_colour": {k: v.to_dict() for k, v in self.by_colour.items()},
            "resignations": self.resignations, "truncated_games": self.truncated,
            "game_records": [r.to_dict() for r in self.records],
        }


def _signed(x: float) -> str:
    if math.isinf(x):
        return "+inf" if x > 0 else "-inf"
    return f"{x:+.1f}"


def _wdl(c: ColourRecord) -> str:
    return f"{c.wins}/{c.draws}/{c.losses}"


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_name(text: str) -> str:
    """``text`` usable as a file name component (``gnugo:5`` -> ``gnugo-5``)."""
    return _UNSAFE.sub("-", text).strip("-.") or "player"


def play_match(player: Opponent, opponent: Opponent, board_size: int, komi: float, games: int, seed: int,
               sgf_dir: str | os.PathLike[str] | None = None, progress: bool = True,
               max_moves: int | None = None, player_name: str | None = None,
               opponent_name: str | None = None, opening_moves: int = 0) -> MatchResult:
    """Play ``games`` games of ``player`` against ``opponent``: ``player`` is Black in even games (0, 2, ...) and
    White in odd ones, and game ``i`` uses seed ``seed + i``.

    With ``sgf_dir`` every game is saved there as ``game-<i>.sgf`` (``PB``/``PW`` the players' names, ``RE`` the
    result); an existing file is never overwritten. Players are not closed here: the caller owns them.
    """
    if isinstance(games, bool) or not isinstance(games, (int, np.integer)) or games < 0:
        raise ValueError(f"games must be a non-negative integer, got {games!r}")
    p_name, o_name = _name(player, player_name), _name(opponent, opponent_name)
    if p_name == o_name:  # make the SGF names tell the sides apart
        p_name, o_name = f"{p_name} (player)", f"{o_name} (opponent)"
    out = None
    if sgf_dir is not None:
        out = Path(sgf_dir)
        out.mkdir(parents=True, exist_ok=True)
    result = MatchResult(player=p_name, opponent=o_name, board_size=int(board_size), komi=float(komi),
                         seed=int(seed))
    with progress_bar(total=int(games), desc=f"vs {o_name}", disable=not progress, unit="game", leave=False) as bar:
        for i in range(int(games)):
            player_colour = BLACK if i % 2 == 0 else WHITE
            if player_colour == BLACK:
                record = play_game(player, opponent, board_size, komi, seed + i, max_moves, p_name, o_name,
                                   opening_moves, opening_seed=seed + i - i % 2)
            else:
                record = play_game(opponent, player, board_size, komi, seed + i, max_moves, o_name, p_name,
                                   opening_moves, opening_seed=seed + i - i % 2)
            result.by_colour["black" if player_colour == BLACK else "white"].add(record.winner * player_colour)
            record.game = None  # keep matches light: the SGF text has the whole game
            result.records.append(record)
            if out is not None:
                path = out / f"game-{i:04d}.sgf"
                with open(path, "x", encoding="utf-8", newline="\n") as fh:  # "x": never overwrite
                    fh.write(record.sgf)
            bar.update(1)
            bar.set_postfix_str(f"W/D/L {result.wins}/{result.draws}/{result.losses}")
    return result


# ---------------------------------------------------------------------------------------------------------------
# Chart


def plot_match_results(results: Mapping[str, MatchResult], path: str | os.PathLike[str],
                       title: str | None = None) -> Path:
    """Save a PNG bar chart: one bar per opponent (the key) with the score rate, its Wilson interval as an error
    bar, W/D/L and the Elo difference as labels. Uses matplotlib if installed, else pygame."""
    if not results:
        raise ValueError("no match results to plot")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if title is None:
        first = next(iter(results.values()))
        title = f"{first.player} - {first.board_size}x{first.board_size}, komi {first.komi:g}"
    bars = []
    for label, r in results.items():
        rate = 0.0 if not r.games else r.win_rate
        lo, hi = r.interval if r.games else (0.0, 1.0)
        note = (f"{r.wins}/{r.draws}/{r.losses}  Elo {elo_text(r.win_rate, r.games)}" if r.games else "no games")
        bars.append((str(label), rate, lo, hi, note))
    try:
        import matplotlib  # noqa: F401  # lazy: only whether it is installed (pygame draws the chart if not)
    except ImportError:
        _plot_pygame(bars, path, title)
    else:
        _plot_matplotlib(bars, path, title)
    return path


def _plot_matplotlib(bars: list[tuple[str, float, float, float, str]], path: Path, title: str) -> None:
    import matplotlib  # lazy: slow, and selecting Agg at this module's import would change the caller's backend

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt  # lazy: as matplotlib above

    labels = [b[0] for b in bars]
    rates = np.array([b[1] for b in bars])
    err = np.array([[b[1] - b[2] for b in bars], [b[3] - b[1] for b in bars]])
    fig, ax = plt.subplots(figsize=(max(4.0, 1.6 * len(bars) + 2), 4.5))
    x = np.arange(len(bars))
    ax.bar(x, rates, color="#4C72B0", yerr=err, capsize=6, ecolor="black")
    ax.axhline(0.5, color="grey", linestyle="--", linewidth=1)
    for i, b in enumerate(bars):
        ax.text(i, min(b[3] + 0.03, 1.02), f"{b[1]:.2f}", ha="center", va="bottom", fontsize=9)
        ax.text(i, -0.12, b[4], ha="center", va="top", fontsize=8, transform=ax.get_xaxis_transform())
    ax.set_xticks(x, labels)
    ax.set_ylim(0, 1.1)
    ax.set_ylabel("score rate (wins + draws/2), 95% Wilson interval")
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _plot_pygame(bars: list[tuple[str, float, float, float, str]], path: Path, title: str) -> None:
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    import pygame  # lazy: a display library (SDL's dummy driver is chosen above for it), only for this chart

    if not pygame.font.get_init():
        pygame.font.init()
    font = pygame.font.Font(None, 20)
    small = pygame.font.Font(None, 17)
    big = pygame.font.Font(None, 26)
    slot = 170
    left, right, top, bottom = 80, 30, 60, 90
    width = max(left + right + slot * len(bars), big.size(title)[0] + 40)
    height = 460
    plot_h = height - top - bottom
    surface = pygame.Surface((width, height))
    surface.fill((255, 255, 255))
    black, grey, bar_colour = (0, 0, 0), (150, 150, 150), (76, 114, 176)

    def y_of(rate: float) -> int:
        return int(round(top + (1.0 - rate) * plot_h))

    def text(s: str, f: Any, centre: tuple[int, int], anchor: str = "center") -> None:
        image = f.render(s, True, black)
        rect = image.get_rect(**{anchor: centre})
        surface.blit(image, rect)

    text(title, big, (width // 2, top // 2 - 4))
    for i in range(11):  # y axis with gridlines every 0.1
        rate = i / 10
        y = y_of(rate)
        pygame.draw.line(surface, (225, 225, 225), (left, y), (width - right, y))
        pygame.draw.line(surface, black, (left - 5, y), (left, y))
        text(f"{rate:.1f}", small, (left - 8, y), "midright")
    half = y_of(0.5)
    for x in range(left, width - right, 12):  # dashed 0.5 line
        pygame.draw.line(surface, grey, (x, half), (min(x + 6, width - right), half), 2)
    pygame.draw.line(surface, black, (left, top), (left, top + plot_h), 2)
    pygame.draw.line(surface, black, (left, top + plot_h), (width - right, top + plot_h), 2)
    label = pygame.transform.rotate(small.render("score rate, 95% Wilson interval", True, black), 90)
    surface.blit(label, label.get_rect(center=(18, top + plot_h // 2)))
    for i, (name, rate, lo, hi, note) in enumerate(bars):
        cx = left + (width - left - right) * (2 * i + 1) // (2 * len(bars))
        bar_w = slot // 2
        y = y_of(rate)
        pygame.draw.rect(surface, bar_colour, pygame.Rect(cx - bar_w // 2, y, bar_w, top + plot_h - y))
        y_lo, y_hi = y_of(lo), y_of(hi)  # error bar with caps
        pygame.draw.line(surface, black, (cx, y_hi), (cx, y_lo), 2)
        pygame.draw.line(surface, black, (cx - 10, y_hi), (cx + 10, y_hi), 2)
        pygame.draw.line(surface, black, (cx - 10, y_lo), (cx + 10, y_lo), 2)
        text(f"{rate:.2f}", font, (cx + 14, min(y, y_hi) - 4), "bottomleft")
        shown = name if font.size(name)[0] <= slot - 8 else "..." + name[-(slot // 9):]
        text(shown, font, (cx, top + plot_h + 16))
        text(note, small, (cx, top + plot_h + 38))
    pygame.image.save(surface, str(path))
