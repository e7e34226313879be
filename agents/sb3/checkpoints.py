"""SB3 checkpoints in a run's ``checkpoints/`` folder: ``model_<steps>.zip`` (policy, optimizers, step counter),
for off-policy algorithms ``replay_buffer_<steps>.pkl`` (only the newest is kept, and only as large as what it holds:
:func:`trimmed_replay_buffer`), and any extra state a trainer keeps beside them as ``<name>_<steps>.pt`` (a self-play
pool, a goal curriculum). :class:`Checkpointer` keeps the newest ``keep_last`` models (with their extra state)."""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from deep_arena.runtime.rundir import RunDir

__all__ = ["BUFFER_RE", "MODEL_RE", "Checkpointer", "buffer_path", "checkpoint_steps", "checkpoints",
           "grow_replay_buffer", "latest_model_checkpoint", "save_replay_buffer", "state_path",
           "trimmed_replay_buffer"]

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


#: Attribute of a trimmed replay buffer: the names of the arrays cut to what the buffer held.
TRIMMED_ATTR = "_arena_trimmed"


def trimmed_replay_buffer(buffer: Any) -> Any | None:
    """A shallow copy of an SB3 replay buffer whose per-slot arrays (``observations``, ``actions``, HER's
    ``ep_start``, ``infos``... and the arrays of dict observations) hold only the slots written so far (plus one,
    for ``optimize_memory_usage``'s next observation), so that a 1,000-step run does not pickle a million empty
    slots; None when the buffer is full (nothing to cut). :func:`grow_replay_buffer` restores the configured size."""
    size = int(buffer.buffer_size)
    if getattr(buffer, "full", True):
        return None
    n = min(size, int(buffer.pos) + 1)
    trimmed = copy.copy(buffer)  # HER's __getstate__/__setstate__ leave its env out, as pickling it does
    names = []
    for name, value in vars(buffer).items():
        if isinstance(value, np.ndarray) and value.ndim >= 1 and value.shape[0] == size:
            setattr(trimmed, name, value[:n])
            names.append(name)
        elif isinstance(value, dict) and value and all(isinstance(v, np.ndarray) and v.ndim >= 1
                                                       and v.shape[0] == size for v in value.values()):
            setattr(trimmed, name, {k: v[:n] for k, v in value.items()})
            names.append(name)
    setattr(trimmed, TRIMMED_ATTR, names)
    return trimmed


def _grow(array: np.ndarray, size: int) -> np.ndarray:
    grown = np.zeros((size, *array.shape[1:]), dtype=array.dtype)
    if array.dtype == object:  # HER's infos: an empty dict per slot, as the buffer makes them
        for index in np.ndindex(grown.shape):
            grown[index] = {}
    grown[: len(array)] = array
    return grown


def grow_replay_buffer(buffer: Any) -> Any:
    """Give a buffer saved by :func:`save_replay_buffer` its configured size again (a no-op for a full one)."""
    names = vars(buffer).pop(TRIMMED_ATTR, None)
    size = int(buffer.buffer_size)
    for name in names or ():
        value = getattr(buffer, name)
        if isinstance(value, dict):
            setattr(buffer, name, {k: _grow(v, size) for k, v in value.items()})
        else:
            setattr(buffer, name, _grow(value, size))
    return buffer


def save_replay_buffer(model: Any, path: Path) -> None:
    """``model.save_replay_buffer(path)`` with the buffer trimmed to what it holds (:func:`trimmed_replay_buffer`)."""
    buffer = getattr(model, "replay_buffer", None)
    trimmed = trimmed_replay_buffer(buffer) if buffer is not None else None
    if trimmed is None:
        model.save_replay_buffer(path)
        return
    model.replay_buffer = trimmed
    try:
        model.save_replay_buffer(path)
    finally:
        model.replay_buffer = buffer


class Checkpointer:
    """Saves a model's checkpoint at its current step count.

    :param folder: the run's ``checkpoints/`` folder.
    :param replay_buffer: also save the replay buffer (off-policy algorithms), trimmed to what it holds, deleting
        older buffers.
    :param state: extra state, ``{name: write(path)}``: each writes ``<name>_<steps>.pt``.
    :param keep_last: keep the newest ``keep_last`` models (and their extra state) and delete older ones (None:
        keep every one).
    :param keep_steps: checkpoints never deleted (e.g. 0: the arm's expert start).
    """

    def __init__(self, folder: Path, replay_buffer: bool = False,
                 state: Mapping[str, Callable[[Path], Any]] | None = None, keep_last: int | None = None,
                 keep_steps: Iterable[int] = ()) -> None:
        self.folder = Path(folder)
        self.replay_buffer = replay_buffer
        self.state = dict(state or {})
        self.keep_last = keep_last
        self.keep_steps = set(keep_steps)

    def save(self, model: Any) -> Path:
        """Write ``model_<steps>.zip`` (and the buffer and extra state); returns the model's path."""
        steps = int(model.num_timesteps)
        path = self.folder / f"model_{steps:09d}.zip"
        model.save(path)
        if self.replay_buffer:
            save_replay_buffer(model, buffer_path(self.folder, steps))
            for old_steps, old in checkpoints(self.folder, BUFFER_RE):
                if old_steps != steps:
                    old.unlink(missing_ok=True)
        for name, write in self.state.items():
            write(state_path(self.folder, name, steps))
        self.prune()
        return path

    def prune(self) -> list[Path]:
        """Delete the models older than the newest ``keep_last`` (except ``keep_steps``) and their extra state."""
        if self.keep_last is None:
            return []
        deleted = []
        for steps, old in checkpoints(self.folder, MODEL_RE)[:-self.keep_last]:
            if steps in self.keep_steps:
                continue
            for path in (old, *(state_path(self.folder, name, steps) for name in self.state)):
                if path.exists():
                    path.unlink()
                    deleted.append(path)
        return deleted
