"""``arena-play ENV --record out.mp4`` (SDL's dummy driver: no display): the video plays back, its first frame is
a picture (not one colour), and an existing file is never overwritten."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from deep_arena.runtime.video import read_video

REPO = Path(__file__).resolve().parents[2]
PLAY = REPO / "scripts" / "play.py"


def _play(*args: str, timeout: float = 240) -> subprocess.CompletedProcess:
    env = dict(os.environ, SDL_VIDEODRIVER="dummy", MUJOCO_GL=os.environ.get("MUJOCO_GL", "egl"),
               PYGAME_HIDE_SUPPORT_PROMPT="1", OMP_NUM_THREADS="1")
    return subprocess.run([sys.executable, str(PLAY), *args], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=timeout)


def _check_video(path: Path, min_frames: int = 2) -> list[np.ndarray]:
    frames = read_video(path)
    assert len(frames) >= min_frames
    first = frames[0].reshape(-1, 3)
    assert (first.max(axis=0) - first.min(axis=0)).max() > 30, "the first frame is one colour"
    return frames


RECORDINGS = {
    "go": ["go", "--watch", "--max-moves", "6", "--delay", "0", "--seed", "2", "--auto-quit-after", "0.3"],
    "arm": ["arm", "--task", "reach", "--model", "pretrained", "--episodes", "1", "--size", "96", "--device", "cpu"],
    "molecule": ["molecule", "--model", "pretrained", "--fps", "50", "--device", "cpu", "--episodes", "1"],
}


@pytest.mark.parametrize("mode", sorted(RECORDINGS))
def test_record_writes_a_video_that_plays(mode, tmp_path):
    out = tmp_path / f"{mode}.mp4"
    result = _play(*RECORDINGS[mode], "--record", str(out))
    assert result.returncode == 0, result.stderr[-3000:]
    frames = _check_video(out, min_frames=7 if mode == "go" else 2)
    assert f"recorded {len(frames)} frames" in result.stdout
    if mode == "go":  # the board changes as the moves are played
        assert np.abs(frames[-1].astype(int) - frames[0].astype(int)).max() > 30


def test_molecule_headless_frames_are_recorded_too(tmp_path):
    out = tmp_path / "mol.mp4"
    result = _play("molecule", "--model", "pretrained", "--device", "cpu", "--episodes", "1",
                   "--headless-frames", str(tmp_path / "png"), "--record", str(out))
    assert result.returncode == 0, result.stderr[-3000:]
    frames = _check_video(out)
    assert len(frames) == len(list((tmp_path / "png").glob("*.png")))


def test_record_never_overwrites(tmp_path):
    out = tmp_path / "taken.mp4"
    out.write_bytes(b"keep")
    result = _play(*RECORDINGS["go"], "--record", str(out))
    assert result.returncode == 2
    assert "never overwrites" in result.stderr.splitlines()[-1]
    assert out.read_bytes() == b"keep"
    result = _play(*RECORDINGS["go"], "--record", str(tmp_path / "clip.gif"))
    assert result.returncode == 2 and "mp4" in result.stderr.splitlines()[-1]
