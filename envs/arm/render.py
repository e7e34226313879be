"""Frames of the arm: MuJoCo's own 3-D render with a text overlay, or a pygame-drawn top and side view.

:class:`ArmRenderer` makes a ``mujoco.Renderer`` on first use. Headless, that needs ``MUJOCO_GL=egl`` (Mesa's
software EGL works) or ``MUJOCO_GL=osmesa``, set before ``mujoco`` is first imported. If no OpenGL context can be
made, it warns once, saying what to install, and draws a 2-D top view (x–y) and side view (x–z) with pygame
instead, so rendering never fails deep inside GL. pygame is imported only here, only when a frame is drawn.

The ``"human"`` window uses SDL's software framebuffer (``SDL_FRAMEBUFFER_ACCELERATION=0``, set before the window
is made): it only shows blitted frames, and under X11 SDL's accelerated (GLX) framebuffer next to MuJoCo's EGL
context kills the process with ``X Error ... BadAccess (X_GLXMakeCurrent)``.
"""

from __future__ import annotations

import os
import warnings
from typing import Any

import numpy as np

from deep_arena.envs.arm.sim import CUBE_HALF, TABLE_Z, ArmSim, mujoco

GL_HELP = ("for MuJoCo's 3-D view without a display install EGL (apt-get install libegl1 libgl1-mesa-dri) and set "
           "MUJOCO_GL=egl, or OSMesa (apt-get install libosmesa6) with MUJOCO_GL=osmesa; with a display, "
           "MUJOCO_GL=glfw. Set it before mujoco is imported.")
_warned = False

# 2-D view palette (RGB) and the world box each panel shows (m)
BG = (34, 38, 46)
TABLE = (158, 120, 84)
ARM = (225, 225, 230)
JOINT = (90, 96, 110)
CUBE = (215, 65, 50)
GOAL = (60, 210, 90)
TEXT = (240, 240, 240)
X_RANGE = (-0.15, 0.9)
Y_RANGE = (-0.55, 0.55)
Z_RANGE = (0.3, 1.25)


def _pygame() -> Any:
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
    import pygame  # lazy: a display library, only when a frame is drawn (the env imports this module headless)

    if not pygame.font.get_init():
        pygame.font.init()
    return pygame


class ArmRenderer:
    """Draws ``sim`` as ``(height, width, 3)`` uint8 frames and shows them in a pygame window for ``"human"``.

    ``use_gl``: None tries MuJoCo's renderer and falls back to the 2-D views if it fails; False always draws the
    2-D views; True raises if MuJoCo's renderer cannot be made.
    """

    def __init__(self, sim: ArmSim, width: int = 480, height: int = 480, use_gl: bool | None = None):
        self.sim, self.width, self.height = sim, int(width), int(height)
        self._gl = None
        self._camera = None
        self._window = None
        self._clock = None
        self._font = None
        self.gl_error: str | None = None
        if use_gl is not False:
            try:
                self._gl = self._make_gl_renderer()
            except Exception as err:  # noqa: BLE001 (GL setup fails in many ways: ImportError, FatalError, ...)
                if use_gl:
                    raise RuntimeError(f"MuJoCo could not create an OpenGL context ({err}); {GL_HELP}") from err
                self.gl_error = f"{type(err).__name__}: {err}"
                global _warned
                if not _warned:
                    _warned = True
                    warnings.warn(f"MuJoCo could not create an OpenGL context ({self.gl_error}); drawing a 2-D "
                                  f"top and side view instead. {GL_HELP}", RuntimeWarning, stacklevel=3)

    @property
    def uses_gl(self) -> bool:
        return self._gl is not None

    def _make_gl_renderer(self):
        model = self.sim.model
        model.vis.global_.offwidth = max(model.vis.global_.offwidth, self.width)
        model.vis.global_.offheight = max(model.vis.global_.offheight, self.height)
        renderer = mujoco.Renderer(model, height=self.height, width=self.width)
        cam = mujoco.MjvCamera()
        cam.type = mujoco.mjtCamera.mjCAMERA_FREE
        cam.lookat[:] = (0.35, 0.0, TABLE_Z + 0.2)
        cam.distance = 1.7
        cam.azimuth = 145.0
        cam.elevation = -28.0
        self._camera = cam
        return renderer

    def render(self, mode: str, lines: list[str] = ()) -> np.ndarray | None:
        """A frame with ``lines`` written in its top-left corner; for ``"human"`` it is shown and None returned."""
        pg = _pygame()
        if self._gl is not None:
            self._gl.update_scene(self.sim.data, camera=self._camera)
            frame = self._gl.render()
            surface = pg.surfarray.make_surface(np.ascontiguousarray(frame.swapaxes(0, 1)))
        else:
            surface = self._draw_2d(pg)
        self._overlay(pg, surface, lines)
        if mode == "human":
            self._show(pg, surface)
            return None
        return np.ascontiguousarray(pg.surfarray.array3d(surface).swapaxes(0, 1))

    # -- pieces ----------------------------------------------------------------------------------------------------

    def _overlay(self, pg, surface, lines) -> None:
        if not lines:
            return
        if self._font is None:
            self._font = pg.font.Font(None, max(16, self.height // 24))
        rendered = [self._font.render(line, True, TEXT) for line in lines]
        box_w = max(r.get_width() for r in rendered) + 12
        box_h = sum(r.get_height() for r in rendered) + 8
        shade = pg.Surface((box_w, box_h), pg.SRCALPHA)
        shade.fill((0, 0, 0, 140))
        surface.blit(shade, (4, 4))
        y = 8
        for r in rendered:
            surface.blit(r, (10, y))
            y += r.get_height()

    def _show(self, pg, surface) -> None:
        if self._window is None:
            # Software framebuffer: a GLX one collides with MuJoCo's EGL context (BadAccess, X_GLXMakeCurrent).
            os.environ["SDL_FRAMEBUFFER_ACCELERATION"] = "0"
            pg.display.init()
            self._window = pg.display.set_mode((self.width, self.height))
            pg.display.set_caption("Deep Arena: robot arm")
            self._clock = pg.time.Clock()
        for event in pg.event.get():
            if event.type == pg.QUIT:  # closing the window stops showing frames; the env goes on
                pg.display.quit()
                self._window = None
                return
        self._window.blit(surface, (0, 0))
        pg.display.flip()
        self._clock.tick(25)

    def _draw_2d(self, pg):
        """Top view (x up the panel, y to the left) on the left half, side view (x to the right, z up) on the
        right half."""
        w, h = self.width, self.height
        surface = pg.Surface((w, h))
        surface.fill(BG)
        half = w // 2
        sim = self.sim
        bodies = sim.body_positions()
        cube = sim.cube_pos.copy()
        goal = sim.goal_pos.copy()
        margin = 0.08 * h

        def top(p):  # (x, y) -> panel pixels
            u = (Y_RANGE[1] - p[1]) / (Y_RANGE[1] - Y_RANGE[0])
            v = (X_RANGE[1] - p[0]) / (X_RANGE[1] - X_RANGE[0])
            return int(u * (half - 10) + 5), int(margin + v * (h - 2 * margin))

        def side(p):  # (x, z) -> panel pixels
            u = (p[0] - X_RANGE[0]) / (X_RANGE[1] - X_RANGE[0])
            v = (Z_RANGE[1] - p[2]) / (Z_RANGE[1] - Z_RANGE[0])
            return int(half + 5 + u * (half - 10)), int(margin + v * (h - 2 * margin))

        def scale_top(d):
            return max(2, int(d / (X_RANGE[1] - X_RANGE[0]) * (h - 2 * margin)))

        # table
        a, b = top((0.85, 0.55, 0)), top((-0.15, -0.55, 0))
        pg.draw.rect(surface, TABLE, pg.Rect(min(a[0], b[0]), min(a[1], b[1]), abs(b[0] - a[0]), abs(b[1] - a[1])), 1)
        a, b = side((-0.15, 0, TABLE_Z)), side((0.85, 0, TABLE_Z))
        pg.draw.line(surface, TABLE, a, b, 3)
        pg.draw.line(surface, (70, 74, 84), (half, 0), (half, h), 1)
        for project, size in ((top, 1), (side, 1)):
            pg.draw.circle(surface, GOAL, project(goal), scale_top(0.025 * size), 2)
            cx, cy = project(cube)
            r = scale_top(CUBE_HALF)
            pg.draw.rect(surface, CUBE, pg.Rect(cx - r, cy - r, 2 * r, 2 * r))
            pts = [project(p) for p in bodies]
            pg.draw.lines(surface, ARM, False, pts, 4)
            for p in pts[:-1]:
                pg.draw.circle(surface, JOINT, p, 4)
        # fingers in both views: the pads sit either side of the grip point along y
        ee, gap = bodies[-1], max(sim.finger_width, 0.0)
        for sign in (-1.0, 1.0):
            pad = ee + np.array([0.0, sign * (gap / 2 + 0.007), 0.0])
            pg.draw.circle(surface, ARM, top(pad), 3)
        font = self._font or pg.font.Font(None, max(16, self.height // 24))
        surface.blit(font.render("top", True, TEXT), (8, h - 22))
        surface.blit(font.render("side", True, TEXT), (half + 8, h - 22))
        return surface

    def close(self) -> None:
        if self._gl is not None:
            self._gl.close()
            self._gl = None
        if self._window is not None:
            pg = _pygame()
            pg.display.quit()
            self._window = None
