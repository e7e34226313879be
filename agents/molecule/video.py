"""``arena-train molecule --video``: the trained policy builds one molecule at the end of training, one edit per
frame (the env's ``rgb_array`` frames), saved as ``RUN_DIR/videos/final_<episodes>.mp4`` and as TensorBoard's
``eval/video`` clip (:func:`deep_arena.runtime.video.save_run_video`). MolDQN (``model.pt``) and MaskablePPO
(``final_model.zip``) alike: the policy is loaded back from the file the run saved, as ``arena-play`` loads it."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np

from deep_arena.agents.molecule.players import load_molecule_agent
from deep_arena.runtime.video import save_run_video

__all__ = ["episode_frames", "record_final_episode"]


def episode_frames(model_path: str | os.PathLike[str], seed: int = 0, device: str = "cpu") -> list[np.ndarray]:
    """The frames of one episode of the saved policy ``model_path`` (the start molecule, then one per edit)."""
    policy, act = load_molecule_agent(str(model_path), device=device)
    env = policy.make_env(render_mode="rgb_array")
    try:
        obs, _ = env.reset(seed=seed)
        frames = [env.render()]
        done = False
        while not done:
            obs, _, terminated, truncated, _ = env.step(act(env, obs))
            done = terminated or truncated
            frames.append(env.render())
    finally:
        env.close()
    return frames


def record_final_episode(model_path: str | os.PathLike[str], run_dir: str | os.PathLike[str], step: int,
                         seed: int = 0) -> Path | None:
    """One episode of the run's final model as ``videos/final_<step>.mp4`` and TensorBoard's ``eval/video`` at
    ``step``; prints where it went. A failure is a warning: a video is never worth a failed run."""
    try:
        frames = episode_frames(model_path, seed=seed)
        path = save_run_video(run_dir, frames, step, fps=2.0)
    except Exception as err:  # noqa: BLE001 - drawing fails in many ways (RDKit, pygame, ffmpeg)
        warnings.warn(f"could not record the molecule video ({type(err).__name__}: {err})", stacklevel=2)
        return None
    print(f"video: {path} ({len(frames)} frames; TensorBoard eval/video)")
    return path
