"""Pygame rendering of a Go board (goban): off-screen RGB frames and an interactive window.

pygame is imported lazily (inside functions) so that importing the Go environment never needs pygame,
a display, or pays pygame's import time; only rendering does.

* :class:`GobanRenderer` draws a game onto any pygame ``Surface`` (wood board, grid, star points,
  coordinates on all four edges, shaded stones, last-move marker, an info panel) and produces
  ``(H, W, 3)`` ``uint8`` frames headlessly with :meth:`GobanRenderer.render_rgb`.
* :class:`HumanWindow` shows frames in a window at a fixed fps and turns mouse clicks / keys into actions.

Board geometry matches :mod:`envs.go.coords`: action ``row * N + col`` with row 0 at the top, columns
labelled ``A..T`` without ``I``, rows numbered ``1..N`` from the bottom.
"""

from __future__ import annotations

import math
import os
import warnings
from typing import TYPE_CHECKING, Any

import numpy as np

from deep_arena.envs.go.coords import GTP_COLUMNS, action_to_gtp

if TYPE_CHECKING:  # only for annotations; keeps pygame and the engine out of import time
    import pygame

    from deep_arena.envs.go.game import GoGame

__all__ = ["GobanRenderer", "HumanWindow", "star_points", "format_score"]

BLACK, WHITE = 1, -1  # same values as envs.go.game; duplicated so this module imports without the engine

# Palette (RGB).
WOOD = (220, 179, 92)
LINE = (40, 28, 14)
LABEL = (70, 48, 22)
PANEL_BG = (38, 42, 50)
PANEL_TEXT = (232, 232, 232)
PANEL_DIM = (160, 166, 178)
PANEL_ACCENT = (240, 200, 110)
MESSAGE = (255, 120, 100)

BOARD_TARGET_PX = 560  # board square size the default cell size aims for, whatever N is
LABEL_BAND_PX = 26  # strip along each edge for the coordinates
PANEL_PX = 220
MIN_HEIGHT_PX = 440  # the panel needs this much even when a caller asks for tiny cells

_SPRITES: dict[tuple[int, int, int], "pygame.Surface"] = {}  # (colour, radius, alpha) -> stone sprite


def _pygame() -> Any:
    """Import pygame on first use (quietly) and make sure the font module is ready."""
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
    import pygame  # lazy: a display library; the Go envs import this module headless (module docstring)

    if not pygame.font.get_init():
        pygame.font.init()
    return pygame


def star_points(board_size: int) -> list[tuple[int, int]]:
    """Hoshi as ``(row, col)``: 19x19 nine points, 13x13 and 9x9 five, 7x7 four 3-3 points, 5x5 the centre.

    Other sizes follow the same pattern: corner points on the 3rd line (4th from 13x13 up), a centre point on
    odd boards, side points on odd boards of 15 and more. Boards of 6 and less have only a centre (if odd),
    since corner points would crowd the middle.
    """
    n = board_size
    if n <= 6:
        return [(n // 2, n // 2)] if n % 2 == 1 and n >= 5 else []
    near = 3 if n >= 13 else 2
    far = n - 1 - near
    points = [(near, near), (near, far), (far, near), (far, far)]
    mid = n // 2
    if n % 2 == 1 and n != 7:  # on 7x7 the centre would touch the 3-3 points
        points.append((mid, mid))
    if n % 2 == 1 and n >= 15:
        points += [(near, mid), (mid, near), (mid, far), (far, mid)]
    return sorted(points)


def format_score(score: float) -> str:
    """``B+3.5`` / ``W+0.5`` / ``Draw`` for a score from black's point of view (komi included)."""
    if score == 0:
        return "Draw"
    text = f"{abs(score):g}"
    return f"B+{text}" if score > 0 else f"W+{text}"


def _stone_sprite(colour: int, radius: int, alpha: int = 255) -> "pygame.Surface":
    """A shaded, anti-aliased stone with a soft drop shadow, built once per (colour, radius, alpha).

    Drawn with numpy rather than pygame circles so the shading is a smooth radial gradient lit from the
    upper left (the classic "3D" look) and the rim is anti-aliased by pixel coverage.
    """
    key = (colour, radius, alpha)
    sprite = _SPRITES.get(key)
    if sprite is not None:
        return sprite
    pg = _pygame()
    shadow_off = max(1, radius // 9)
    size = 2 * radius + shadow_off + 3
    centre = radius + 1.5  # sprite pixel r+1 lands on the intersection pixel, whose centre is +0.5
    ys, xs = np.mgrid[0:size, 0:size].astype(np.float64) + 0.5
    dist = np.hypot(xs - centre, ys - centre)
    coverage = np.clip(radius - dist + 0.5, 0.0, 1.0)

    # Distance from the highlight spot, normalised so the far rim is t = 1.
    hx = hy = centre - 0.38 * radius
    t = np.clip(np.hypot(xs - hx, ys - hy) / (1.38 * radius), 0.0, 1.0)
    if colour == BLACK:
        light, dark = np.array([118.0, 118.0, 124.0]), np.array([14.0, 14.0, 17.0])
        mix = t[..., None] ** 0.55
        rgb = light + (dark - light) * mix
    else:
        light, dark = np.array([255.0, 255.0, 255.0]), np.array([188.0, 186.0, 178.0])
        mix = t[..., None] ** 1.7
        rgb = light + (dark - light) * mix
        # A slightly darker rim separates white stones from the pale wood.
        rim = np.clip((dist - (radius - 2.0)) / 2.0, 0.0, 1.0)
        rgb *= (1.0 - 0.22 * rim)[..., None]

    shadow_dist = np.hypot(xs - centre - shadow_off, ys - centre - shadow_off)
    shadow = 0.45 * np.clip((radius + 1.0 - shadow_dist) / 2.0, 0.0, 1.0)
    out_alpha = coverage + shadow * (1.0 - coverage)  # stone "over" a black shadow
    safe = np.where(out_alpha > 0, out_alpha, 1.0)
    out_rgb = rgb * (coverage / safe)[..., None]

    sprite = pg.Surface((size, size), pg.SRCALPHA)
    pixels = pg.surfarray.pixels3d(sprite)
    pixels[...] = np.clip(out_rgb, 0, 255).astype(np.uint8).transpose(1, 0, 2)
    del pixels  # release the surface lock
    alphas = pg.surfarray.pixels_alpha(sprite)
    alphas[...] = np.clip(out_alpha * alpha, 0, 255).astype(np.uint8).T
    del alphas
    _SPRITES[key] = sprite
    return sprite


class GobanRenderer:
    """Draws a :class:`~envs.go.game.GoGame` as a wooden goban with an information panel on the right.

    ``cell_px`` is the distance between lines; by default it is chosen so the board is about
    ``BOARD_TARGET_PX`` pixels whatever the size, giving a window of roughly 770x560 for 5x5 to 19x19.
    """

    def __init__(self, board_size: int, cell_px: int | None = None) -> None:
        if not 2 <= board_size <= len(GTP_COLUMNS):
            raise ValueError(f"board_size must be 2..{len(GTP_COLUMNS)}, got {board_size}")
        self.board_size = board_size
        if cell_px is None:
            cell_px = (BOARD_TARGET_PX - 2 * LABEL_BAND_PX) // board_size
        if cell_px < 8:
            raise ValueError(f"cell_px must be at least 8, got {cell_px}")
        self.cell = int(cell_px)
        # Half a cell of wood beyond the outer lines (room for edge stones), then the label band.
        self.origin = LABEL_BAND_PX + self.cell // 2  # pixel of line 0, both axes
        self.board_px = LABEL_BAND_PX * 2 + self.cell * board_size
        self.width = self.board_px + PANEL_PX
        self.height = max(self.board_px, MIN_HEIGHT_PX)
        self.stone_radius = max(3, int(self.cell * 0.47))
        self._background: pygame.Surface | None = None
        self._fonts: dict[tuple[int, bool], Any] = {}

    # ---------------------------------------------------------------- geometry

    @property
    def size(self) -> tuple[int, int]:
        """``(width, height)`` in pixels of the frames this renderer draws."""
        return self.width, self.height

    def action_to_pixel(self, action: int) -> tuple[int, int]:
        """Centre ``(x, y)`` of the intersection for a board action (not pass)."""
        n = self.board_size
        if not 0 <= action < n * n:
            raise ValueError(f"action {action} has no intersection on a {n}x{n} board")
        row, col = divmod(int(action), n)
        return self.origin + col * self.cell, self.origin + row * self.cell

    def pixel_to_action(self, x: float, y: float) -> int | None:
        """The intersection nearest to pixel ``(x, y)``, or ``None`` if it is not within half a cell of one."""
        n = self.board_size
        col = math.floor((x - self.origin) / self.cell + 0.5)
        row = math.floor((y - self.origin) / self.cell + 0.5)
        if 0 <= row < n and 0 <= col < n:
            return row * n + col
        return None

    # ---------------------------------------------------------------- drawing

    def _font(self, size: int, bold: bool = False) -> Any:
        key = (size, bold)
        if key not in self._fonts:
            font = _pygame().font.Font(None, size)  # pygame's bundled font: no system fonts needed headless
            font.set_bold(bold)
            self._fonts[key] = font
        return self._fonts[key]

    def _wood(self) -> "pygame.Surface":
        """Board background with a subtle vertical wood grain; deterministic, built once per renderer."""
        if self._background is not None:
            return self._background
        pg = _pygame()
        side = self.board_px
        rng = np.random.default_rng(1234)
        ys, xs = np.mgrid[0:side, 0:side].astype(np.float64)
        # Wavy grain lines plus slow colour bands and a little per-column noise, like planed kaya.
        warp = 7.0 * np.sin(ys / 53.0 + xs / 410.0) + 3.0 * np.sin(ys / 17.0 + 1.7)
        grain = np.sin((xs + warp) * (2 * np.pi / 11.0)) ** 2
        bands = np.sin(xs * (2 * np.pi / 173.0) + 0.6)
        column_noise = np.convolve(rng.normal(size=side + 8), np.ones(9) / 9.0, mode="valid")[:side]
        shade = 1.0 - 0.045 * grain + 0.035 * bands + 0.05 * column_noise[None, :]
        shade += rng.normal(scale=0.008, size=(side, side))
        rgb = np.clip(np.array(WOOD, dtype=np.float64) * shade[..., None], 0, 255).astype(np.uint8)
        self._background = pg.surfarray.make_surface(rgb.transpose(1, 0, 2))
        return self._background

    def draw(
        self,
        surface: "pygame.Surface",
        game: "GoGame",
        message: str | None = None,
        hover: int | None = None,
        show_score: bool = True,
    ) -> None:
        """Draw ``game`` onto ``surface`` at its top-left corner (the surface must be at least :attr:`size`).

        ``message`` is shown in the panel (e.g. ``"Illegal move: superko"``); ``hover`` (an action) draws a
        translucent stone of the player to move where the mouse is, if that move is legal.
        """
        if game.board_size != self.board_size:
            raise ValueError(f"renderer is for {self.board_size}x{self.board_size}, game is {game.board_size}")
        pg = _pygame()
        surface.fill(PANEL_BG)
        surface.blit(self._wood(), (0, 0))
        self._draw_grid(pg, surface)
        self._draw_labels(surface)
        self._draw_stones(pg, surface, game, hover)
        self._draw_panel(pg, surface, game, message, show_score)

    def _draw_grid(self, pg: Any, surface: "pygame.Surface") -> None:
        n, cell, o = self.board_size, self.cell, self.origin
        end = o + (n - 1) * cell
        width = 1 if cell < 40 else 2
        for i in range(n):
            p = o + i * cell
            pg.draw.line(surface, LINE, (o, p), (end, p), width)
            pg.draw.line(surface, LINE, (p, o), (p, end), width)
        # The outer line is drawn heavier, as on real boards.
        pg.draw.rect(surface, LINE, pg.Rect(o - 1, o - 1, end - o + 3, end - o + 3), width + 1)
        hoshi_r = max(2, round(cell * 0.1))
        for row, col in star_points(n):
            centre = (o + col * cell, o + row * cell)
            pg.draw.circle(surface, LINE, centre, hoshi_r)
            pg.draw.aacircle(surface, LINE, centre, hoshi_r)

    def _draw_labels(self, surface: "pygame.Surface") -> None:
        n, font = self.board_size, self._font(18, bold=True)
        near = LABEL_BAND_PX // 2  # centre of the band on the top / left
        far = self.board_px - LABEL_BAND_PX // 2  # ... and on the bottom / right
        for i in range(n):
            p = self.origin + i * self.cell
            letter = font.render(GTP_COLUMNS[i], True, LABEL)
            number = font.render(str(n - i), True, LABEL)  # row 0 (top) is rank N
            for centre in ((p, near), (p, far)):
                surface.blit(letter, letter.get_rect(center=centre))
            for centre in ((near, p), (far, p)):
                surface.blit(number, number.get_rect(center=centre))

    def _draw_stones(self, pg: Any, surface: "pygame.Surface", game: "GoGame", hover: int | None) -> None:
        n, r = self.board_size, self.stone_radius
        board = np.asarray(game.board)
        sprites = {BLACK: _stone_sprite(BLACK, r), WHITE: _stone_sprite(WHITE, r)}
        for row, col in zip(*np.nonzero(board)):
            x, y = self.origin + int(col) * self.cell, self.origin + int(row) * self.cell
            surface.blit(sprites[int(np.sign(board[row, col]))], (x - r - 1, y - r - 1))

        last = game.last_move
        if last is not None and 0 <= last < n * n and board.flat[last] != 0:
            x, y = self.action_to_pixel(last)
            # Contrasting ring: white on black stones, black on white stones.
            ring = (235, 235, 235) if board.flat[last] == BLACK else (25, 25, 25)
            pg.draw.circle(surface, ring, (x, y), max(3, int(r * 0.45)), max(2, r // 8))

        if (
            hover is not None
            and 0 <= hover < n * n
            and board.flat[hover] == 0
            and not game.is_over
            and game.legality(hover) is None
        ):
            x, y = self.action_to_pixel(hover)
            surface.blit(_stone_sprite(int(game.to_play), r, alpha=120), (x - r - 1, y - r - 1))

    def _draw_panel(
        self, pg: Any, surface: "pygame.Surface", game: "GoGame", message: str | None, show_score: bool
    ) -> None:
        left = self.board_px + 18
        width = PANEL_PX - 30
        y = 20
        title, body, small = self._font(30, bold=True), self._font(22), self._font(19)
        pg.draw.line(surface, (20, 22, 26), (self.board_px, 0), (self.board_px, self.height), 3)

        def text(line: str, font: Any, colour: tuple[int, int, int] = PANEL_TEXT, x: int = left) -> None:
            nonlocal y
            image = font.render(line, True, colour)
            surface.blit(image, (x, y))
            y += image.get_height() + 6

        def icon(colour: int) -> None:
            # A small stone in front of the next text line.
            sprite = _stone_sprite(colour, 8)
            surface.blit(sprite, (left, y))

        n = self.board_size
        text(f"Go {n}x{n}", title, PANEL_ACCENT)
        y += 6
        if game.is_over:
            text("Game over", body, PANEL_ACCENT)
        else:
            icon(int(game.to_play))
            text(f"{'Black' if game.to_play == BLACK else 'White'} to play", body, x=left + 24)
        moves = len(game.history)
        text(f"Moves played: {moves}", small, PANEL_DIM)
        last = game.last_move
        if last is not None:
            who = "B" if moves % 2 == 1 else "W"  # black moved first and colours alternate
            text(f"Last move: {who} {action_to_gtp(int(last), n)}", small, PANEL_DIM)
        y += 8

        text("Captures", body, PANEL_ACCENT)
        captures = game.captures
        for colour, name in ((BLACK, "Black"), (WHITE, "White")):
            icon(colour)
            text(f"{name}: {int(captures.get(colour, 0))}", small, x=left + 24)
        y += 8

        text(f"Komi: {game.komi:g}", small, PANEL_DIM)
        if show_score:
            score = float(game.score())
            text("Score (Tromp-Taylor)", body, PANEL_ACCENT)
            black_pts, white_pts = game.area()
            text(f"Area  B {black_pts}  W {white_pts}", small)
            text(format_score(score), body)
        y += 8

        if game.is_over:
            result = format_score(float(game.score()))
            reason = "move limit" if getattr(game, "is_truncated", False) else "two passes"
            text(f"Result: {result}", body, PANEL_ACCENT)
            text(f"({reason})", small, PANEL_DIM)
        if message:
            for line in _wrap(message, small, width):
                text(line, small, MESSAGE)

    def render_rgb(self, game: "GoGame", **kw: Any) -> np.ndarray:
        """Draw ``game`` off-screen (no display needed) and return an ``(H, W, 3)`` ``uint8`` array.

        Keyword arguments are passed to :meth:`draw` (``message``, ``hover``, ``show_score``).
        """
        pg = _pygame()
        surface = pg.Surface(self.size)
        self.draw(surface, game, **kw)
        # surfarray is indexed [x][y]; image arrays are [row][col].
        return np.ascontiguousarray(pg.surfarray.array3d(surface).transpose(1, 0, 2), dtype=np.uint8)


def _wrap(message: str, font: Any, width: int) -> list[str]:
    """Greedy word wrap of ``message`` to ``width`` pixels (very long words are left whole)."""
    lines: list[str] = []
    for paragraph in message.splitlines() or [""]:
        current = ""
        for word in paragraph.split():
            candidate = f"{current} {word}".strip()
            if current and font.size(candidate)[0] > width:
                lines.append(current)
                current = word
            else:
                current = candidate
        lines.append(current)
    return lines


class HumanWindow:
    """A pygame window that shows a game and collects a human's moves.

    ``show(game)`` draws a frame, pumps events and waits to keep ``fps``; clicks on the board queue actions,
    ``P`` queues a pass, closing the window or ``Esc`` sets :attr:`quit_requested`. Use as a context manager
    or call :meth:`close`.
    """

    def __init__(self, renderer: GobanRenderer, fps: int = 30, title: str = "Deep Arena - Go") -> None:
        self.renderer = renderer
        self.fps = fps
        self.title = title
        self.hover: int | None = None
        self.quit_requested = False
        self._screen: Any = None
        self._clock: Any = None
        self._actions: list[int] = []

    @property
    def is_open(self) -> bool:
        return self._screen is not None

    def open(self) -> None:
        """Create the window (called by :meth:`show` on first use)."""
        if self._screen is not None:
            return
        pg = _pygame()
        pg.display.init()
        self._screen = pg.display.set_mode(self.renderer.size)
        pg.display.set_caption(self.title)
        self._clock = pg.time.Clock()
        self.quit_requested = False

    def poll(self) -> None:
        """Handle pending window events (mouse, keys, close button)."""
        if self._screen is None:
            return
        pg = _pygame()
        n = self.renderer.board_size
        for event in pg.event.get():
            if event.type == pg.QUIT:
                self.quit_requested = True
            elif event.type == pg.KEYDOWN:
                if event.key == pg.K_ESCAPE:
                    self.quit_requested = True
                elif event.key == pg.K_p:
                    self._actions.append(n * n)
            elif event.type == pg.MOUSEMOTION:
                self.hover = self.renderer.pixel_to_action(*event.pos)
            elif event.type == pg.MOUSEBUTTONDOWN and event.button == 1:
                action = self.renderer.pixel_to_action(*event.pos)
                if action is not None:
                    self._actions.append(action)

    def pop_action(self) -> int | None:
        """The oldest queued human action (board click or pass), or ``None``."""
        return self._actions.pop(0) if self._actions else None

    def show(self, game: "GoGame", message: str | None = None, show_score: bool = True) -> None:
        """Draw one frame of ``game``, process events and sleep to hold ``fps``."""
        self.open()
        self.poll()
        if self._screen is None:  # poll() never closes, but keep the type checker and readers sure
            return
        pg = _pygame()
        self.renderer.draw(self._screen, game, message=message, hover=self.hover, show_score=show_score)
        pg.display.flip()
        self._clock.tick(self.fps)

    def wait_for_action(self, game: "GoGame", message: str | None = None) -> int | None:
        """Keep showing ``game`` until the human picks an action; ``None`` if they close the window."""
        while not self.quit_requested:
            self.show(game, message=message)
            action = self.pop_action()
            if action is not None:
                return action
        return None

    def close(self) -> None:
        """Close the window. Only the display is shut down, so off-screen rendering keeps working."""
        if self._screen is None:
            return
        pg = _pygame()
        self._screen = None
        self._clock = None
        self._actions.clear()
        pg.display.quit()

    def __enter__(self) -> "HumanWindow":
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def render_env(env: Any) -> np.ndarray | None:
    """``render()`` of the Go envs: frames from an `GoView` kept on ``env._view``; a warning without render_mode."""
    if env.render_mode is None:
        warnings.warn("render() called without a render_mode; pass render_mode='rgb_array' or 'human'",
                      UserWarning, stacklevel=3)
        return None
    if env._view is None:
        env._view = GoView(env.board_size, env.render_mode, env.metadata["render_fps"])
    return env._view.render(env.game, env._message)


class GoView:
    """Rendering for the Go envs: ``"rgb_array"`` returns frames drawn off-screen, ``"human"`` shows them in a
    window opened on first use. pygame is imported only when something is drawn."""

    def __init__(self, board_size: int, render_mode: str, fps: int) -> None:
        self.board_size = board_size
        self.render_mode = render_mode
        self.fps = fps
        self._renderer: GobanRenderer | None = None
        self._window: HumanWindow | None = None

    def render(self, game: GoGame, message: str | None = None) -> np.ndarray | None:
        if self._renderer is None:
            self._renderer = GobanRenderer(self.board_size)
        if self.render_mode == "rgb_array":
            return self._renderer.render_rgb(game, message=message)
        if self._window is None:
            self._window = HumanWindow(self._renderer, title=f"Deep Arena Go {self.board_size}x{self.board_size}",
                                       fps=self.fps)
        self._window.show(game, message=message)
        return None

    def close(self) -> None:
        if self._window is not None:
            self._window.close()
            self._window = None
