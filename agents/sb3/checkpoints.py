"""SB3 checkpoints in a run's ``checkpoints/`` folder: ``model_<steps>.zip`` (policy, optimizers, step counter),
for off-policy algorithms ``replay_buffer_<steps>.pkl`` (only the newest is kept: they are large), and any extra
state a trainer keeps beside them as ``<name>_<steps>.pt`` (a self-play pool, a goal curriculum)."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from deep_arena.runtime.rundir import RunDir

__all__ = ["BUFFER_RE", "MODEL_RE", "Checkpointer", "buffer_path", "checkpoint_steps", "checkpoints",
           "latest_model_checkpoint", "state_path"]

MODEL_RE = re.compile(r"^model_(\d+)\.zip$")
BUFFER_RE = re.compile(r"^replay_buffer_(\d+)\.pkl$")


def _folder(where: RunDir | Path) -> Path:
    return where.checkpoints_dir if isinstance(where, RunDir) else Path(where)


def buffer_path(where: RunDir | Path, steps: int) -> Path:
    return _folder(where) / f"replay_buffer_{steps:09d}.pkl"


def state_path(where: RunDir | Path, name: str, steps: int) -> Path:
    """``<checkpoints>/<name>_<steps>.pt``: extra state saved with the model at ``steps``."""
    return _folder(where) / f"{name}_{steps:09d}.pt"


def checkpoint_steps(path: Path) -> int:
    """The step count in a ``model_<steps>.zip`` name; ``ValueError`` for another name."""
    match = MODEL_RE.match(Path(path).name)
    if match is None:
        raise ValueError(f"{path}: not a model_<steps>.zip checkpoint")
    return int(match.group(1))


def checkpoints(where: RunDir | Path, pattern: re.Pattern = MODEL_RE) -> list[tuple[int, Path]]:
    """``(steps, path)`` of the files matching ``pattern`` in the checkpoint folder, oldest first."""
    folder = _folder(where)
    if not folder.is_dir():
        return []
    return sorted((int(m.group(1)), p) for p in folder.iterdir() if (m := pattern.match(p.name)))


def latest_model_checkpoint(where: RunDir | Path) -> Path | None:
    """The checkpoint to resume from: the newest ``model_*.zip`` that has its replay buffer beside it (a run killed
    between the two saves leaves a model without one), else the newest model; None if there is none."""
    found = checkpoints(where, MODEL_RE)
    buffers = {steps for steps, _ in checkpoints(where, BUFFER_RE)}
    with_buffer = [path for steps, path in found if steps in buffers]
    if with_buffer:
        return with_buffer[-1]
    return found[-1][1] if found else None


class Checkpointer:
    """Saves a model's checkpoint at its current step count.

    :param folder: the run's ``checkpoints/`` folder.
    :param replay_buffer: also save the replay buffer (off-policy algorithms), deleting older buffers.
    :param state: extra state, ``{name: write(path)}``: each writes ``<name>_<steps>.pt``.
    """

    def __init__(self, folder: Path, replay_buffer: bool = False,
                 state: Mapping[str, Callable[[Path], Any]] | None = None) -> None:
        self.folder = Path(folder)
        self.replay_buffer = replay_buffer
        self.state = dict(state or {})

    def save(self, model: Any) -> Path:
        """Write ``model_<steps>.zip`` (and the buffer and extra state); returns the model's path."""
        steps = int(model.num_timesteps)
        path = self.folder / f"model_{steps:09d}.zip"
        model.save(path)
        if self.replay_buffer:
            model.save_replay_buffer(buffer_path(self.folder, steps))
            for old_steps, old in checkpoints(self.folder, BUFFER_RE):
                if old_steps != steps:
                    old.unlink(missing_ok=True)
        for name, write in self.state.items():
            write(state_path(self.folder, name, steps))
        return path
