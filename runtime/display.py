"""Windows that are really shown: the display checks and window plumbing shared by ``scripts/play.py``'s viewers.

* :func:`display_problem` -- why no window can be shown here (no ``DISPLAY`` / ``WAYLAND_DISPLAY`` on an X11 or
  Wayland platform), found without starting SDL, so a viewer can stop before it loads a model. ``None`` when a
  window may open, and always when ``SDL_VIDEODRIVER`` names a driver on purpose (``dummy`` for tests).
* :func:`open_window` -- open the pygame window, or raise :class:`NoDisplayError` with a one-line reason, also when
  SDL found no display and fell back to its invisible ``offscreen`` / ``dummy`` driver without being asked to.
  The window uses SDL's software framebuffer (``SDL_FRAMEBUFFER_ACCELERATION=0``): the viewers only blit
  surfaces, and an accelerated (GLX) framebuffer fails with ``BadAccess (X_GLXMakeCurrent)`` next to MuJoCo's
  EGL context.
* :func:`save_window_frame` -- write what the window shows (its surface) to a PNG; :class:`FrameSaver` does it for
  every frame of a viewer's ``--save-frames DIR`` (:func:`add_save_frames`), and with ``--record out.mp4`` appends
  the same frames to a video (``runtime/video.py``; never over an existing file).
* :func:`no_window` -- the viewers' one-line refusal; :func:`enable_faulthandler` -- a crash in native code prints
  the Python stack instead of hanging.

pygame is imported inside the functions only; importing this module needs neither pygame nor a display.
"""

from __future__ import annotations

import argparse
import faulthandler
import os
import sys
from pathlib import Path
from typing import Any

__all__ = ["FrameSaver", "NoDisplayError", "add_save_frames", "display_problem", "enable_faulthandler",
           "no_display_message", "no_window", "open_window", "save_window_frame", "software_framebuffer",
           "window_frame"]

#: SDL drivers that draw into memory only: a window "opened" with them is never seen.
INVISIBLE_DRIVERS = ("offscreen", "dummy")

_RUN_HINT = "Run it on a desktop session (or over X forwarding, or under a virtual display such as xvfb-run)."
_TEST_HINT = "For automated tests only, SDL_VIDEODRIVER=dummy runs without showing anything."


class NoDisplayError(RuntimeError):
    """No window can be shown: no display, or SDL fell back to an invisible driver. The text is one line."""


def _needs_display_variable() -> bool:
    """True on platforms whose windows go through X11 or Wayland (not macOS, Windows or the browser)."""
    return not (sys.platform.startswith(("win", "cygwin", "darwin", "emscripten", "wasi")))


def display_problem() -> str | None:
    """Why no window can be shown, or ``None`` if one may open (the final word is :func:`open_window`'s).

    Cheap: reads environment variables only, so it can run before anything slow (loading a model). It does not
    start SDL, which on a machine without a display also prints its own Wayland complaint on stderr.
    """
    if os.environ.get("SDL_VIDEODRIVER"):
        return None  # a driver was chosen on purpose (dummy in tests, kmsdrm on a console, ...): SDL will say
    if _needs_display_variable() and not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        return "no display (neither DISPLAY nor WAYLAND_DISPLAY is set)"
    return None


def no_display_message(detail: str, hint: str | None = None) -> str:
    """``"cannot open a window: DETAIL. What to do."`` on one line; ``hint`` is added (e.g. a headless option)."""
    driver = os.environ.get("SDL_VIDEODRIVER")
    parts = [f"cannot open a window: {detail}."]
    if driver:
        parts.append(f"SDL_VIDEODRIVER is set to {driver!r}; unset it or pick a driver that works here.")
    else:
        parts.append(_RUN_HINT)
    if hint:
        parts.append(hint)
    if not driver:
        parts.append(_TEST_HINT)
    return " ".join(parts)


def software_framebuffer() -> None:
    """Make SDL windows use its software framebuffer (set before the window exists). pygame viewers blit
    surfaces, so acceleration buys nothing, and SDL's GLX framebuffer collides with MuJoCo's EGL context."""
    os.environ["SDL_FRAMEBUFFER_ACCELERATION"] = "0"


def _pygame() -> Any:
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
    import pygame  # lazy: a display library; --help and headless runs import this module without opening windows

    return pygame


def open_window(size: tuple[int, int], title: str, hint: str | None = None) -> Any:
    """Open (or resize) the pygame window and return its surface.

    Raises :class:`NoDisplayError` (a one-line message, see :func:`no_display_message`) when there is no display
    or SDL fell back to an invisible driver that ``SDL_VIDEODRIVER`` did not ask for; the display is shut down
    again then. Open it before anything draws with RDKit's Cairo (see ``envs/molecule/render.py``) and before a
    MuJoCo renderer exists.
    """
    problem = display_problem()
    if problem is not None:
        raise NoDisplayError(no_display_message(problem, hint))
    software_framebuffer()
    pg = _pygame()
    try:
        pg.display.init()
        window = pg.display.set_mode((int(size[0]), int(size[1])))
    except pg.error as err:
        pg.display.quit()
        raise NoDisplayError(no_display_message(str(err).strip() or "SDL error", hint)) from None
    driver = pg.display.get_driver()
    if not os.environ.get("SDL_VIDEODRIVER") and driver in INVISIBLE_DRIVERS:
        pg.display.quit()
        where = os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
        detail = (f"SDL could not connect to display {where!r} and fell back to the '{driver}' driver" if where
                  else f"SDL found no display and fell back to the '{driver}' driver")
        raise NoDisplayError(no_display_message(detail, hint))
    pg.display.set_caption(title)
    return window


def _window_surface() -> Any:
    """The open window's surface, or ``None`` when no window is open."""
    pg = _pygame()
    return pg.display.get_surface() if pg.display.get_init() else None


def save_window_frame(path: str | os.PathLike[str]) -> Path | None:
    """Write the window's current surface (what was last flipped to the screen) to a PNG; ``None`` (nothing
    written) when no window is open."""
    pg, surface = _pygame(), _window_surface()
    if surface is None:
        return None
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    pg.image.save(surface, str(path))
    return path


def window_frame() -> Any:
    """The window's current surface as an ``H x W x 3`` uint8 array; ``None`` when no window is open."""
    pg, surface = _pygame(), _window_surface()
    if surface is None:
        return None
    return pg.surfarray.array3d(surface).transpose(1, 0, 2).copy()


def add_save_frames(parser: argparse.ArgumentParser, record_fps: float = 25.0) -> None:
    parser.add_argument("--save-frames", type=Path, default=None, metavar="DIR",
                        help="also write every frame the window shows as DIR/frameNNNNN.png")
    parser.add_argument("--record", type=Path, default=None, metavar="OUT.mp4",
                        help="also write what the window shows as an mp4 video (never over an existing file)")
    parser.add_argument("--record-fps", type=float, default=record_fps, metavar="FPS",
                        help=f"frames per second of the --record video (default {record_fps:g})")


def no_window(mode: str, detail_or_error: object, hint: str | None = None, *, detail: bool = False) -> int:
    """Print ``arena-play MODE: error: ...`` (one line) and return the exit status 1."""
    text = no_display_message(str(detail_or_error), hint) if detail else str(detail_or_error)
    print(f"arena-play {mode}: error: {' '.join(text.split())}", file=sys.stderr)
    return 1


class FrameSaver:
    """Writes the window's surface to ``DIR/frame00000.png``, ``frame00001.png``, ... and, with ``record``, appends
    it to that mp4 (:class:`~deep_arena.runtime.video.VideoWriter`, ``fps`` frames a second). Nothing without either.
    :meth:`add` takes a frame drawn without a window (``--headless-frames``); :meth:`report` closes the video and
    says what was written, :meth:`close` closes it quietly (on an error path)."""

    def __init__(self, folder: Path | None, parser: argparse.ArgumentParser, record: Path | None = None,
                 fps: float = 25.0):
        self.folder, self.count = folder, 0
        self.video = None
        if folder is not None:
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as err:
                parser.error(f"--save-frames {folder}: {err}")
        if record is not None:
            from deep_arena.runtime.video import VideoWriter  # lazy: imageio at the first frame

            if record.suffix.lower() != ".mp4":
                parser.error(f"--record {record}: the video is an mp4; name it OUT.mp4")
            if not (fps > 0):
                parser.error(f"--record-fps must be positive, got {fps:g}")
            try:
                self.video = VideoWriter(record, fps)
            except FileExistsError as err:
                parser.error(f"--record {err}")

    @property
    def active(self) -> bool:
        """True when frames are saved or recorded."""
        return self.folder is not None or self.video is not None

    def save(self) -> None:
        if self.folder is not None:
            if save_window_frame(self.folder / f"frame{self.count:05d}.png") is not None:
                self.count += 1
        if self.video is not None:
            frame = window_frame()
            if frame is not None:
                self.video.append(frame)

    def add(self, frame: Any) -> None:
        """Record a frame that was drawn without a window (only the video takes it)."""
        if self.video is not None and frame is not None:
            self.video.append(frame)

    def close(self) -> None:
        if self.video is not None:
            self.video.close()

    def report(self) -> None:
        if self.folder is not None:
            print(f"wrote {self.count} frames to {self.folder}")
        if self.video is not None:
            self.close()
            if self.video.frames:
                print(f"recorded {self.video.frames} frames ({self.video.frames / self.video.fps:.1f} s) "
                      f"to {self.video.path}")
            else:
                print(f"recorded nothing: no frame was shown ({self.video.path} not written)")


def enable_faulthandler() -> None:
    """A crash in native code (SDL, Cairo, OpenGL) prints the Python stack and ends the process, instead of
    leaving it hung in a futex that ignores SIGTERM."""
    if faulthandler.is_enabled():
        return
    try:
        faulthandler.enable()
    except (AttributeError, OSError, ValueError):  # stderr without a file descriptor (captured, pythonw)
        pass
