"""The viewers of scripts/play.py in real X11 windows (an Xvfb of this module's own), and without any display.

Each viewer runs as a subprocess with ``DISPLAY`` set and ``SDL_VIDEODRIVER`` unset (SDL's x11 driver), a short
episode and a timeout; it must exit with 0, write non-blank frames from its window (``--save-frames``), and
show something on the X screen while it runs. Without a display every mode must exit with status 1 and one line
on stderr, no traceback. The defects these guard against (issue "viewers that never crash"):

* molecule: RDKit's wheel bundles its own cairo/libxcb; drawing with it before SDL's first X11 window made
  ``pygame.display.set_mode`` segfault (and, without faulthandler, hang in a futex ignoring SIGTERM);
* arm: SDL's accelerated (GLX) framebuffer next to MuJoCo's EGL context died with ``BadAccess
  (X_GLXMakeCurrent)``;
* no display: arm and molecule fell back to SDL's invisible offscreen driver and reported success.
"""

from __future__ import annotations

import os
import re
import select
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

REPO = Path(__file__).resolve().parents[2]
PLAY = REPO / "scripts" / "play.py"
XVFB = shutil.which("Xvfb")

#: Variables that choose a display, a video driver or a GL backend: each test sets the ones it means.
DISPLAY_VARS = ("DISPLAY", "WAYLAND_DISPLAY", "SDL_VIDEODRIVER", "SDL_FRAMEBUFFER_ACCELERATION", "MUJOCO_GL",
                "PYTHONFAULTHANDLER")


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in DISPLAY_VARS}
    env.update(OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", PYGAME_HIDE_SUPPORT_PROMPT="1")
    env.update(extra)
    return env


@pytest.fixture(scope="module")
def xvfb():
    """An Xvfb server on a display number it picks itself (``-displayfd``: no clash with other servers);
    yields the ``DISPLAY`` string."""
    if XVFB is None:
        pytest.skip("Xvfb is not installed (apt-get install xvfb; .ci/run installs it)")
    read_fd, write_fd = os.pipe()
    proc = subprocess.Popen([XVFB, "-displayfd", str(write_fd), "-screen", "0", "1024x768x24", "-nolisten", "tcp"],
                            pass_fds=(write_fd,), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    os.close(write_fd)
    number = b""
    deadline = time.monotonic() + 30
    try:
        while not number.endswith(b"\n") and time.monotonic() < deadline:
            ready, _, _ = select.select([read_fd], [], [], 0.5)
            if ready:
                chunk = os.read(read_fd, 16)
                if not chunk:  # Xvfb exited
                    break
                number += chunk
    finally:
        os.close(read_fd)
    if not number.strip().isdigit():
        proc.kill()
        _, err = proc.communicate()
        pytest.fail(f"Xvfb did not start: {err.decode(errors='replace')[-500:]}")
    yield f":{int(number)}"
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    proc.stderr.close()


def grab_screen(display: str) -> np.ndarray | None:
    """What the X server shows (Pillow's XCB grab); None where Pillow was built without XCB."""
    from PIL import ImageGrab, features

    if not features.check("xcb"):
        return None
    return np.asarray(ImageGrab.grab(xdisplay=display).convert("RGB"))


def assert_not_blank(img: np.ndarray, what: str) -> None:
    assert img.ndim == 3 and img.shape[2] == 3, (what, img.shape)
    colours = len(np.unique(img.reshape(-1, 3), axis=0))
    assert img.std() > 5 and colours > 8, f"{what} is blank: std {img.std():.1f}, {colours} colours"


def run_viewer(display: str, args: list[str], tmp_path: Path, timeout: float = 150):
    """Run ``play.py ARGS --save-frames DIR`` on ``display``; while it runs, grab the X screen once a few frames
    were written. Returns (returncode, stdout, stderr, frame files, screen before, screen while running)."""
    frames = tmp_path / "frames"
    out_path, err_path = tmp_path / "stdout.txt", tmp_path / "stderr.txt"
    before = grab_screen(display)
    with open(out_path, "w") as out, open(err_path, "w") as err:
        proc = subprocess.Popen([sys.executable, str(PLAY), *args, "--save-frames", str(frames)], cwd=REPO,
                                env=clean_env(DISPLAY=display), stdout=out, stderr=err)
        screen = None
        deadline = time.monotonic() + timeout
        try:
            while proc.poll() is None:
                if time.monotonic() > deadline:
                    pytest.fail(f"play.py {' '.join(args)} did not finish in {timeout:.0f} s: "
                                f"{err_path.read_text()[-2000:]}")
                if screen is None and before is not None and len(list(frames.glob("*.png"))) >= 3:
                    screen = grab_screen(display)
                time.sleep(0.02)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    files = sorted(frames.glob("frame*.png"))
    return proc.returncode, out_path.read_text(), err_path.read_text(), files, before, screen


def check_viewer(result, min_frames: int) -> str:
    code, out, err, files, before, screen = result
    assert code == 0, f"exit {code}\n{err[-3000:]}"
    for bad in ("Traceback", "Fatal Python error", "X Error", "cannot open a window"):
        assert bad not in err, err[-3000:]
    assert f"wrote {len(files)} frames" in out and len(files) >= min_frames, (out, len(files))
    for path in (files[0], files[-1]):
        assert_not_blank(np.asarray(Image.open(path).convert("RGB")), path.name)
    if before is not None:  # the window was on the X screen while the viewer ran
        assert screen is not None, "no screen grab while the viewer ran (it finished too fast?)"
        assert not np.array_equal(screen, before), "the X screen did not change: no window shown"
    return out


# ---------------------------------------------------------------------------------------------------------------
# Real X11 windows


def test_go_watch_in_an_x11_window(xvfb, tmp_path):
    out = check_viewer(run_viewer(xvfb, ["go", "--watch", "--max-moves", "6", "--delay", "0.05", "--seed", "2",
                                         "--auto-quit-after", "1.5"], tmp_path), min_frames=7)
    assert "Black (random agent) vs White (random), 6 moves" in out


def test_molecule_pretrained_in_an_x11_window(xvfb, tmp_path):
    """Used to segfault in MoleculeView.show (pygame.display.set_mode after RDKit's Cairo drawing)."""
    out = check_viewer(run_viewer(xvfb, ["molecule", "--model", "pretrained", "--fps", "25", "--device", "cpu"],
                                  tmp_path), min_frames=2)
    assert re.search(r"^episode 1: \S+  qed \d\.\d{4}  \((\d+) edits\)$", out, re.M), out


def test_arm_pretrained_in_an_x11_window(xvfb, tmp_path):
    """Used to die with X Error BadAccess (X_GLXMakeCurrent); the frames must be MuJoCo's 3-D view."""
    result = run_viewer(xvfb, ["arm", "--task", "reach", "--model", "pretrained", "--episodes", "1", "--size", "160",
                               "--device", "cpu"], tmp_path)
    out = check_viewer(result, min_frames=10)
    assert "drawing a 2-D" not in result[2], result[2][-2000:]  # MuJoCo's EGL renderer worked next to the window
    assert re.search(r"^1/1 successes$|^0/1 successes$", out, re.M), out


LIBRARY_VIEWERS = {
    # RDKit draws (Cairo) before the window opens: the env's render() does it in this order.
    "molecule": """
        from deep_arena.envs.molecule.render import MoleculeView
        view = MoleculeView()
        frame = view.frame("c1ccccc1O", {"step": 1})
        assert view.show(frame)
    """,
    # The env opens its window after MuJoCo's EGL renderer exists, with SDL_FRAMEBUFFER_ACCELERATION unset.
    "arm": """
        import os
        os.environ["MUJOCO_GL"] = "egl"
        import numpy as np
        from deep_arena.envs.arm.env import ArmEnv
        env = ArmEnv(task="reach", render_mode="human", width=96, height=96)
        env.reset(seed=0)
        for _ in range(3):
            env.step(np.zeros(env.action_space.shape, np.float32))
        assert env.unwrapped._renderer.uses_gl
    """,
}


@pytest.mark.parametrize("viewer", sorted(LIBRARY_VIEWERS))
def test_env_viewers_open_x11_windows_in_any_order(xvfb, tmp_path, viewer):
    """The fixes live in the viewers too, not only in play.py: the envs' human windows work under X11."""
    code = textwrap.dedent(LIBRARY_VIEWERS[viewer]) + textwrap.dedent("""
        import pygame
        assert pygame.display.get_driver() == "x11", pygame.display.get_driver()
        pygame.image.save(pygame.display.get_surface(), OUT)
        print("OK")
    """)
    png = tmp_path / "window.png"
    proc = subprocess.run([sys.executable, "-X", "faulthandler", "-c", f"OUT = {str(png)!r}\n{code}"], cwd=REPO,
                          env=clean_env(DISPLAY=xvfb), capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and "OK" in proc.stdout, proc.stderr[-3000:]
    assert "X Error" not in proc.stderr
    assert_not_blank(np.asarray(Image.open(png).convert("RGB")), f"{viewer} window")


# ---------------------------------------------------------------------------------------------------------------
# No display: one line, status 1, nothing played


MODES = {
    "go": ["go", "--watch", "--max-moves", "4", "--delay", "0", "--auto-quit-after", "0.1"],
    "molecule": ["molecule", "--model", "pretrained", "--fps", "100", "--device", "cpu"],
    "arm": ["arm", "--task", "reach", "--model", "pretrained", "--episodes", "1", "--device", "cpu"],
}


def run_play(args: list[str], env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(PLAY), *args], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=timeout)


@pytest.mark.parametrize("mode", sorted(MODES))
def test_no_display_at_all_is_one_line_and_status_1(mode):
    proc = run_play(MODES[mode], clean_env())
    assert proc.returncode == 1, (proc.returncode, proc.stdout, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith(f"arena-play {mode}: error: cannot open a window: no display"), lines[0]
    assert "Traceback" not in proc.stderr and proc.stdout == ""


def _unused_display() -> str:
    for n in range(400, 500):
        if not Path(f"/tmp/.X11-unix/X{n}").exists() and not Path(f"/tmp/.X{n}-lock").exists():
            return f":{n}"
    pytest.skip("no unused display number found")


@pytest.mark.parametrize("mode", ["molecule", "arm"])
def test_unreachable_display_is_refused_not_shown_offscreen(mode):
    """DISPLAY set but no server there: SDL falls back to its invisible offscreen driver, which these modes used
    to accept, printing their results having shown nothing."""
    display = _unused_display()
    proc = run_play(MODES[mode], clean_env(DISPLAY=display))
    assert proc.returncode == 1, (proc.returncode, proc.stdout, proc.stderr)
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith(f"arena-play {mode}: error: cannot open a window: SDL could not connect to display "
                           f"'{display}'"), last
    assert "Traceback" not in proc.stderr
    assert "episode" not in proc.stdout and "successes" not in proc.stdout


# ---------------------------------------------------------------------------------------------------------------
# A native crash prints a traceback (faulthandler) instead of hanging


def test_a_native_crash_prints_a_traceback(tmp_path):
    """play.py enables faulthandler itself: a segfault in the window code (simulated in set_mode) ends the
    process with the Python stack on stderr."""
    wrapper = tmp_path / "crash.py"
    wrapper.write_text(textwrap.dedent(f"""
        import ctypes, runpy, sys
        import pygame
        pygame.display.set_mode = lambda *a, **k: ctypes.string_at(0)  # a segfault inside "SDL"
        sys.argv = ["play.py"] + {MODES["go"]!r}
        runpy.run_path({str(PLAY)!r}, run_name="__main__")
    """))
    proc = subprocess.run([sys.executable, str(wrapper)], cwd=REPO, env=clean_env(SDL_VIDEODRIVER="dummy"),
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0
    assert "Fatal Python error: Segmentation fault" in proc.stderr, proc.stderr[-3000:]
    assert re.search(r'File ".*play\.py", line \d+ in run_go', proc.stderr), proc.stderr[-3000:]
