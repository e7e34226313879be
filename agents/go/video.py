"""``arena-train go --video``: one game of the trained model against a random player at the end of training, one
board per move (the Go env's ``rgb_array`` drawing, :class:`~deep_arena.envs.go.render.GoView`), saved as
``RUN_DIR/videos/final_<step>.mp4`` and as TensorBoard's ``eval/video`` clip
(:func:`deep_arena.runtime.video.save_run_video`). AlphaZero (``model.pt``) and MaskablePPO (``final_model.zip``)
alike: the player is loaded back from the file the run saved, as ``arena-play`` and ``arena-evaluate`` load it."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np

from deep_arena.agents.go.match import play_game
from deep_arena.agents.go.players import load_player
from deep_arena.envs.go.game import GoGame
from deep_arena.envs.go.opponents import RandomOpponent
from deep_arena.envs.go.render import GoView
from deep_arena.runtime.video import save_run_video

__all__ = ["game_frames", "record_final_game"]

#: board frames per second in the video (the Go env's render_fps is 4)
FPS = 2.0


def game_frames(model_path: str | os.PathLike[str], board_size: int, komi: float, seed: int = 0,
                device: str = "cpu") -> tuple[list[np.ndarray], str]:
    """The boards of one game of the saved model (Black) against a random player (White), the empty board first,
    and the game's result (SGF ``RE``)."""
    player = load_player(str(model_path), board_size, komi, device=device, seed=seed, models_only=True)
    record = play_game(player, RandomOpponent(), board_size, komi, seed=seed, black_name=Path(model_path).name,
                       white_name="random")
    view = GoView(board_size, "rgb_array", fps=4)
    game = GoGame(board_size, komi)
    frames = [view.render(game)]
    for action in record.moves:
        game.play(action)
        frames.append(view.render(game))
    frames.append(view.render(game, f"{record.black} (Black) vs {record.white}: {record.result}"))
    return frames, record.result


def record_final_game(model_path: str | os.PathLike[str], run_dir: str | os.PathLike[str], step: int,
                      board_size: int, komi: float, seed: int = 0) -> Path | None:
    """One game of the run's final model as ``videos/final_<step>.mp4`` and TensorBoard's ``eval/video`` at
    ``step``; prints where it went. A failure is a warning: a video is never worth a failed run."""
    try:
        frames, result = game_frames(model_path, board_size, komi, seed=seed)
        path = save_run_video(run_dir, frames, step, fps=FPS)
    except Exception as err:  # noqa: BLE001 - a video is never worth a failed run (pygame, ffmpeg, the model)
        warnings.warn(f"could not record the Go video ({type(err).__name__}: {err})", stacklevel=2)
        return None
    print(f"video: {path} ({len(frames)} frames, {result}; TensorBoard eval/video)")
    return path
