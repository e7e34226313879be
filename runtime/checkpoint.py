"""
Checkpoint files: atomic saving and safe (``weights_only``) loading.

A checkpoint is a dict of model/optimizer ``state_dict()``s, counters and
other plain data. It is loaded with ``torch.load(..., weights_only=True)``,
which never executes code from the file, so only tensors, plain Python
containers and scalars may be stored. NumPy arrays and scalars are converted
on save (arrays become tensors, scalars become Python numbers).
"""

from __future__ import annotations

import os
import re
import tempfile
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch

__all__ = [
    "CheckpointError",
    "CHECKPOINT_DIR_NAME",
    "checkpoint_name",
    "save_checkpoint",
    "load_checkpoint",
    "latest_checkpoint",
    "prune_checkpoints",
    "folder_size_text",
    "read_model_file",
]

#: Sub-folder of a run directory that holds its checkpoints.
CHECKPOINT_DIR_NAME = "checkpoints"

_CHECKPOINT_PATTERN = re.compile(r"^checkpoint_(\d+)\.pt$")
_SCALARS = (bool, int, float, complex, str, bytes, type(None), torch.dtype, torch.device, torch.Size)


class CheckpointError(RuntimeError):
    """A checkpoint file is missing, truncated, corrupt or holds data that cannot be loaded safely."""

    def __init__(self, path: str | os.PathLike[str], problem: str) -> None:
        self.path = Path(path)
        self.problem = problem
        super().__init__(f"Cannot load checkpoint {str(self.path)!r}: {problem}")


def checkpoint_name(step: int) -> str:
    """File name of the checkpoint taken at ``step``, e.g. ``checkpoint_000012000.pt``."""
    if isinstance(step, bool) or not isinstance(step, (int, np.integer)) or step < 0:
        raise ValueError(f"Checkpoint step must be a non-negative integer, got {step!r}")
    return f"checkpoint_{int(step):09d}.pt"


def _to_safe(value: Any, where: str) -> Any:
    """Convert ``value`` to types that ``weights_only`` loading accepts (the same object if nothing changes)."""
    if isinstance(value, torch.Tensor) or isinstance(value, _SCALARS):
        return value
    if isinstance(value, np.ndarray):
        if value.dtype == object:
            raise TypeError(f"Cannot store NumPy object array at {where} in a checkpoint")
        return torch.from_numpy(np.ascontiguousarray(value).copy())
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, Mapping):
        items = {key: _to_safe(item, f"{where}[{key!r}]") for key, item in value.items()}
        if all(items[key] is value[key] for key in items) and type(value) in (dict, OrderedDict):
            return value  # unchanged: keep the original (and e.g. a state_dict's _metadata)
        converted: dict[Any, Any] = OrderedDict(items) if isinstance(value, OrderedDict) else dict(items)
        metadata = getattr(value, "_metadata", None)
        if metadata is not None:
            converted._metadata = metadata  # type: ignore[attr-defined]  # used by load_state_dict
        return converted
    if isinstance(value, (list, tuple, set, frozenset)):
        items_list = [_to_safe(item, f"{where}[{index}]") for index, item in enumerate(value)]
        if type(value) in (list, tuple, set) and all(new is old for new, old in zip(items_list, value)):
            return value
        if isinstance(value, tuple):  # includes named tuples, stored as plain tuples
            return tuple(items_list)
        if isinstance(value, (set, frozenset)):
            return set(items_list)
        return items_list
    raise TypeError(
        f"Cannot store {type(value).__module__}.{type(value).__qualname__} at {where} in a checkpoint: "
        "only tensors, NumPy arrays, numbers, strings and dicts/lists/tuples of them are supported "
        "(store a state_dict() rather than the object itself)"
    )


def save_checkpoint(path: str | os.PathLike[str], state: Mapping[str, Any]) -> Path:
    """
    Save ``state`` to ``path`` atomically, creating parent folders.

    The data is written to a temporary file in the same folder, flushed to disk
    and then moved over ``path`` with :func:`os.replace`, so an interrupted save
    leaves either the old file or the new one, never a truncated one.

    :param path: the destination file, typically ``run_dir / "checkpoints" / checkpoint_name(step)``.
    :param state: e.g. ``{"model": model.state_dict(), "optimizer": opt.state_dict(), "step": 1000}``.
    :return: the path written.
    :raises TypeError: if ``state`` holds objects that could not be loaded back with ``weights_only=True``.
    """
    if not isinstance(state, Mapping):
        raise TypeError(f"Checkpoint state must be a dict, got {type(state).__name__}")
    safe_state = _to_safe(dict(state), "state")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            torch.save(safe_state, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    return path


def load_checkpoint(path: str | os.PathLike[str], map_location: str | torch.device | None = "cpu",
                    kind: str | None = None, what: str | None = None) -> dict[str, Any]:
    """
    Load a checkpoint written by :func:`save_checkpoint` (``weights_only=True``).

    :param path: the checkpoint file.
    :param map_location: where to put the tensors (default CPU; move the model afterwards).
    :param kind: when given, the checkpoint's ``"kind"`` entry must equal it (else a CheckpointError saying that the
        file is not ``what``, e.g. "a chemical LM checkpoint").
    :return: the saved dict (NumPy arrays come back as tensors).
    :raises CheckpointError: if the file is missing, empty, truncated, corrupt,
        not a dict, or holds objects that are unsafe to load. The message names the file.
    """
    path = Path(path)
    if not path.exists():
        raise CheckpointError(path, "file does not exist")
    if not path.is_file():
        raise CheckpointError(path, "not a regular file")
    if path.stat().st_size == 0:
        raise CheckpointError(path, "file is empty (was the save interrupted?)")
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as exc:  # torch raises RuntimeError, KeyError, EOFError, UnpicklingError... for bad files
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if "Weights only load failed" in str(exc):
            problem = (
                "it contains objects that cannot be loaded with weights_only=True "
                "(it was not written by save_checkpoint, or holds custom classes)"
            )
        elif "central directory" in str(exc) or isinstance(exc, EOFError):
            problem = f"file is truncated or corrupt ({detail})"
        else:
            problem = f"file is corrupt or not a torch checkpoint ({type(exc).__name__}: {detail})"
        raise CheckpointError(path, problem) from exc
    if not isinstance(state, dict):
        raise CheckpointError(path, f"expected a dict at the top level, got {type(state).__name__}")
    if kind is not None and state.get("kind") != kind:
        raise CheckpointError(path, f"is not {what or repr(kind)} (kind {state.get('kind')!r})")
    return state


def read_model_file(path: str | os.PathLike[str], what: str) -> Any:
    """What a model file holds, read with ``weights_only=True`` onto the CPU: FileNotFoundError ``no {what} at
    PATH`` when it is missing, ValueError ``PATH is not a readable model file: ...`` when torch cannot read it."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no {what} at {path}")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise ValueError(f"{path} is not a readable model file: {exc}") from None


def latest_checkpoint(run_dir: str | os.PathLike[str]) -> Path | None:
    """
    Find the checkpoint with the highest step in a run.

    Looks for ``checkpoint_<step>.pt`` files in ``run_dir / "checkpoints"``
    (or in ``run_dir`` itself when it has no such sub-folder).

    :param run_dir: a run directory, or its checkpoint folder.
    :return: the newest checkpoint, or ``None`` when there is none.
    """
    run_dir = Path(run_dir)
    folder = run_dir / CHECKPOINT_DIR_NAME if (run_dir / CHECKPOINT_DIR_NAME).is_dir() else run_dir
    if not folder.is_dir():
        return None
    best: tuple[int, Path] | None = None
    for candidate in folder.iterdir():
        match = _CHECKPOINT_PATTERN.match(candidate.name)
        if match and candidate.is_file():
            step = int(match.group(1))
            if best is None or step > best[0]:
                best = (step, candidate)
    return None if best is None else best[1]


def prune_checkpoints(run_dir: str | os.PathLike[str], keep_last: int | None,
                      keep: Iterable[str | os.PathLike[str]] = ()) -> list[Path]:
    """Delete all but the newest ``keep_last`` ``checkpoint_<step>.pt`` files of a run (``None``: keep every one),
    never those in ``keep`` (say the best); return the deleted paths. Runs stay small: a MolDQN checkpoint with its
    replay buffer is about 20 MB, and resuming needs only the newest."""
    if keep_last is None:
        return []
    if isinstance(keep_last, bool) or not isinstance(keep_last, int) or keep_last < 1:
        raise ValueError(f"keep_last must be a positive integer or None, got {keep_last!r}")
    run_dir = Path(run_dir)
    folder = run_dir / CHECKPOINT_DIR_NAME if (run_dir / CHECKPOINT_DIR_NAME).is_dir() else run_dir
    kept = {Path(p).resolve() for p in keep}
    found = sorted((int(m.group(1)), p) for p in folder.iterdir()
                   if (m := _CHECKPOINT_PATTERN.match(p.name)) and p.is_file())
    deleted = []
    for _, path in found[:-keep_last]:
        if path.resolve() not in kept:
            path.unlink()
            deleted.append(path)
    return deleted


def folder_size_text(folder: str | os.PathLike[str]) -> str:
    """``'38.2 MB in 7 files'``: what a run directory holds, printed at the end of a run."""
    files = [p for p in Path(folder).rglob("*") if p.is_file()]
    size = sum(p.stat().st_size for p in files)
    for unit, scale in (("GB", 2**30), ("MB", 2**20), ("KB", 2**10)):
        if size >= scale:
            return f"{size / scale:.1f} {unit} in {len(files)} files"
    return f"{size} bytes in {len(files)} files"
