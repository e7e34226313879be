"""Shared fixtures: headless drivers (set before any test imports pygame or MuJoCo), GNU Go, the repository root and
tiny training settings. Test files are laid out by package: envs, agents (per family and algorithm), gan, runtime,
scripts."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# `make test` exports these too; setting them here makes a bare `pytest` run headless as well. A test that needs a
# real display (tests/scripts/test_viewers_x11.py) starts its own Xvfb and passes DISPLAY to a subprocess.
os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("MUJOCO_GL", "egl")
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The checkout's root folder (scripts/, tests/data/, agents/pretrained/ are below it)."""
    return REPO


@pytest.fixture(scope="session")
def gnugo() -> str:
    """The GNU Go binary; the test is skipped with the install command when it is missing."""
    from deep_arena.envs.go.gnugo import gnugo_path

    path = gnugo_path()
    if path is None:
        pytest.skip("GNU Go is not installed (apt-get install -y gnugo)")
    return path


@pytest.fixture
def tiny_alphazero_sets() -> list[str]:
    """--set overrides for an AlphaZero run of a few seconds on 5x5 (one core, a 1-block 8-channel network)."""
    return [s for item in ("positions_per_iteration=32", "min_replay=32", "replay_capacity=1000",
                           "selfplay.parallel_games=8", "selfplay.simulations=8", "selfplay.fast_simulations=2",
                           "net.channels=8", "net.blocks=1", "eval.games_vs_random=2", "eval.games_vs_gnugo=0",
                           "eval.sims=4", "checkpoint_every=1", "threads=1", "train.batch_size=32")
            for s in ("--set", item)]


@pytest.fixture
def interrupt_when():
    """``interrupt_when(cmd, ready, sig)``: start the training command ``cmd``, wait until ``ready()`` is true (a
    checkpoint exists, say), send ``sig`` and return ``(returncode, stdout, stderr)``; the test fails when the
    command exits first or ``ready`` never holds within ``timeout`` seconds."""
    import signal
    import subprocess
    import time

    def run(cmd: list[str], ready, sig: int = signal.SIGINT, timeout: float = 240, env: dict | None = None):
        proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        try:
            deadline = time.time() + timeout
            while time.time() < deadline:
                assert proc.poll() is None, f"training exited early:\n{proc.communicate()}"
                if ready():
                    break
                time.sleep(0.2)
            else:
                pytest.fail(f"not ready within {timeout:.0f} s: {' '.join(cmd)}")
            proc.send_signal(sig)
            out, err = proc.communicate(timeout=120)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
        return proc.returncode, out, err

    return run
