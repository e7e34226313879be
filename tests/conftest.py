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
