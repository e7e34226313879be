"""Go board rendering (envs/go/render.py), headless."""

from __future__ import annotations

import os

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")  # before pygame is imported anywhere: no real display here
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

import subprocess
import sys
from pathlib import Path

import numpy as np
import pygame
import pytest

from deep_arena.envs.go.coords import gtp_to_action
from deep_arena.envs.go.game import GoGame
from deep_arena.envs.go.render import GobanRenderer, HumanWindow, format_score, star_points

REPO = Path(__file__).resolve().parents[2]


def small_game() -> tuple[GoGame, int, int]:
    """9x9 game with a black stone on E5 and a white one on C3 (the last move)."""
    game = GoGame(board_size=9)
    black, white = gtp_to_action("E5", 9), gtp_to_action("C3", 9)
    game.play(black)
    game.play(white)
    return game, black, white


def test_importing_render_does_not_import_pygame() -> None:
    code = "import sys, envs.go.render; print('pygame' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_rgb_frame_shape_dtype_and_content() -> None:
    game, black, white = small_game()
    renderer = GobanRenderer(9)
    frame = renderer.render_rgb(game)
    assert frame.shape == (renderer.height, renderer.width, 3)
    assert frame.dtype == np.uint8
    assert 640 <= renderer.width <= 800
    # Wood grain, shaded stones, text: a real picture, not a few flat colours.
    assert len(np.unique(frame.reshape(-1, 3), axis=0)) > 500

    bx, by = renderer.action_to_pixel(black)
    wx, wy = renderer.action_to_pixel(white)
    assert frame[by, bx].mean() < 80, "black stone should be dark"
    assert frame[wy, wx].min() > 190, "white stone should be light"
    # Off the lines near an empty point we see wood: warm colour (red > green > blue), neither dark nor white.
    ex, ey = renderer.action_to_pixel(gtp_to_action("G7", 9))
    q = renderer.cell // 4
    r, g, b = (int(v) for v in frame[ey + q, ex + q])
    assert r > g > b and 100 < r < 250


def test_frame_is_deterministic_and_reflects_changes() -> None:
    game, _, _ = small_game()
    renderer = GobanRenderer(9)
    first = renderer.render_rgb(game)
    np.testing.assert_array_equal(first, GobanRenderer(9).render_rgb(game))
    game.play(gtp_to_action("G7", 9))
    assert not np.array_equal(first, renderer.render_rgb(game))


def test_message_hover_and_game_over_are_drawn() -> None:
    game, _, _ = small_game()
    renderer = GobanRenderer(9)
    plain = renderer.render_rgb(game)
    panel = (slice(None), slice(renderer.board_px, None))
    with_message = renderer.render_rgb(game, message="Illegal move: superko")
    assert not np.array_equal(plain[panel], with_message[panel])

    hover = gtp_to_action("G7", 9)
    hx, hy = renderer.action_to_pixel(hover)
    with_hover = renderer.render_rgb(game, hover=hover)
    assert not np.array_equal(plain[hy - 3 : hy + 4, hx - 3 : hx + 4], with_hover[hy - 3 : hy + 4, hx - 3 : hx + 4])
    # No ghost stone on an occupied point.
    occupied = renderer.render_rgb(game, hover=gtp_to_action("E5", 9))
    np.testing.assert_array_equal(plain, occupied)

    game.play(game.pass_action)
    game.play(game.pass_action)
    assert game.is_over
    over = renderer.render_rgb(game, message="Game over", show_score=False)
    assert over.shape == plain.shape


def test_png_export(tmp_path) -> None:
    game, _, _ = small_game()
    frame = GobanRenderer(9).render_rgb(game)
    path = tmp_path / "board.png"
    pygame.image.save(pygame.surfarray.make_surface(frame.transpose(1, 0, 2)), str(path))
    assert path.stat().st_size > 1000
    loaded = pygame.image.load(str(path))
    assert loaded.get_size() == (frame.shape[1], frame.shape[0])


@pytest.mark.parametrize("size", range(5, 20))
def test_every_size_renders_at_a_sensible_window_size(size: int) -> None:
    rng = np.random.default_rng(size)
    game = GoGame(board_size=size)
    for _ in range(size * 2):
        legal = np.flatnonzero(game.legal_moves()[:-1])
        game.play(int(rng.choice(legal)))
    renderer = GobanRenderer(size)
    frame = renderer.render_rgb(game)
    assert frame.shape == (renderer.height, renderer.width, 3)
    assert 640 <= renderer.width <= 800 and 400 <= renderer.height <= 640
    # Every stone is drawn in its own colour at its intersection.
    for action in np.flatnonzero(game.board.ravel()):
        x, y = renderer.action_to_pixel(int(action))
        if game.board.flat[action] == 1:
            assert frame[y, x].mean() < 80
        else:
            assert frame[y, x].min() > 190


@pytest.mark.parametrize("size", [5, 9, 19])
def test_pixel_to_action_round_trips_every_intersection(size: int) -> None:
    renderer = GobanRenderer(size)
    half = renderer.cell / 2 - 1
    for action in range(size * size):
        x, y = renderer.action_to_pixel(action)
        assert renderer.pixel_to_action(x, y) == action
        # Anywhere in the cell around the intersection picks the same point.
        for dx, dy in ((half, half), (-half, -half), (half, -half), (-half, half)):
            assert renderer.pixel_to_action(x + dx, y + dy) == action
    assert renderer.pixel_to_action(2, 2) is None  # coordinate band in the corner
    assert renderer.pixel_to_action(renderer.board_px + 50, renderer.height // 2) is None  # info panel
    assert renderer.pixel_to_action(-10, -10) is None


def test_custom_cell_size() -> None:
    renderer = GobanRenderer(9, cell_px=40)
    assert renderer.cell == 40
    x, y = renderer.action_to_pixel(80)
    assert renderer.pixel_to_action(x, y) == 80
    assert renderer.render_rgb(GoGame(9)).shape == (renderer.height, renderer.width, 3)
    with pytest.raises(ValueError):
        GobanRenderer(9, cell_px=2)
    with pytest.raises(ValueError):
        renderer.action_to_pixel(81)  # pass has no intersection


def test_star_points() -> None:
    assert star_points(19) == sorted((r, c) for r in (3, 9, 15) for c in (3, 9, 15))
    assert star_points(13) == [(3, 3), (3, 9), (6, 6), (9, 3), (9, 9)]
    assert star_points(9) == [(2, 2), (2, 6), (4, 4), (6, 2), (6, 6)]
    assert star_points(7) == [(2, 2), (2, 4), (4, 2), (4, 4)]
    assert star_points(5) == [(2, 2)]
    for n in range(5, 20):
        assert all(0 <= r < n and 0 <= c < n for r, c in star_points(n))


def test_format_score() -> None:
    assert format_score(3.5) == "B+3.5"
    assert format_score(-0.5) == "W+0.5"
    assert format_score(0.0) == "Draw"


def test_human_window_opens_shows_takes_input_and_closes() -> None:
    game, _, _ = small_game()
    renderer = GobanRenderer(9)
    window = HumanWindow(renderer, fps=120, title="test")
    window.show(game)
    assert window.is_open
    assert pygame.display.get_surface().get_size() == renderer.size

    target = gtp_to_action("G7", 9)
    pos = renderer.action_to_pixel(target)
    pygame.event.post(pygame.event.Event(pygame.MOUSEMOTION, pos=pos, rel=(0, 0), buttons=(0, 0, 0)))
    pygame.event.post(pygame.event.Event(pygame.MOUSEBUTTONDOWN, pos=pos, button=1))
    pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=pygame.K_p, mod=0, unicode="p", scancode=0))
    window.show(game, message="Your move")
    assert window.hover == target
    assert window.pop_action() == target
    assert window.pop_action() == game.pass_action
    assert window.pop_action() is None

    pygame.event.post(pygame.event.Event(pygame.QUIT))
    assert window.wait_for_action(game) is None
    assert window.quit_requested

    window.close()
    assert not window.is_open
    window.close()  # idempotent
    # Off-screen rendering still works after the window is gone.
    assert renderer.render_rgb(game).shape == (renderer.height, renderer.width, 3)

    with HumanWindow(renderer, fps=120) as again:
        again.show(game)
        assert again.is_open
    assert not again.is_open
