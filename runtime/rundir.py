"""
Run directories: one fresh folder per training run, never reused.

Layout::

    runs/<env>/<algo>-<YYYYmmdd-HHMMSS>[-N]/
        config.yml        resolved config
        command.txt       the command line that started the run
        checkpoints/      checkpoint_<step>.pt files
        events.out.tfevents.*   TensorBoard logs
"""

from __future__ import annotations

import os
import re
import shlex
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from deep_arena.runtime.checkpoint import (CHECKPOINT_DIR_NAME, checkpoint_name, latest_checkpoint, prune_checkpoints,
                                           save_checkpoint)
from deep_arena.runtime.config import save_config

__all__ = ["TIMESTAMP_FORMAT", "create_run_dir", "RunDir"]

TIMESTAMP_FORMAT = "%Y%m%d-%H%M%S"
_UNSAFE_CHARS = re.compile(r"[^A-Za-z0-9._-]+")
_MAX_ATTEMPTS = 10_000


def _safe_component(value: str, what: str) -> str:
    """Make ``value`` usable as one path component (e.g. ``"ns/Go-v0"`` -> ``"ns_Go-v0"``)."""
    if not isinstance(value, str):
        raise ValueError(f"{what} must be a string, got {value!r}")
    cleaned = _UNSAFE_CHARS.sub("_", value.strip()).strip("_")
    if not cleaned or set(cleaned) == {"."}:
        raise ValueError(f"{what} {value!r} cannot be used as a directory name")
    return cleaned


def create_run_dir(
    env_name: str,
    algo: str,
    root: str | os.PathLike[str] = "runs",
    timestamp: datetime | str | None = None,
) -> Path:
    """
    Create a new, empty run directory ``<root>/<env_name>/<algo>-<YYYYmmdd-HHMMSS>``.

    An existing directory is never reused: if the name is taken (two runs
    started in the same second), ``-1``, ``-2``, ... is appended. Each attempt
    uses ``mkdir(exist_ok=False)``, so concurrent runs cannot claim the same folder.

    Characters other than letters, digits, ``.``, ``_`` and ``-`` in
    ``env_name`` and ``algo`` become ``_`` (Gymnasium ids may contain ``/``).

    :param env_name: environment id, e.g. ``"Go9x9-v0"``.
    :param algo: algorithm name, e.g. ``"ppo"``.
    :param root: the folder holding all runs.
    :param timestamp: the start time (default: now), or an already formatted string.
    :return: the path of the created directory.
    """
    env_part = _safe_component(env_name, "Environment name")
    algo_part = _safe_component(algo, "Algorithm name")
    if timestamp is None:
        timestamp = datetime.now()
    if isinstance(timestamp, datetime):
        stamp = timestamp.strftime(TIMESTAMP_FORMAT)
    else:
        stamp = _safe_component(timestamp, "Timestamp")

    parent = Path(root) / env_part
    parent.mkdir(parents=True, exist_ok=True)
    base = f"{algo_part}-{stamp}"
    for attempt in range(_MAX_ATTEMPTS):
        candidate = parent / (base if attempt == 0 else f"{base}-{attempt}")
        try:
            candidate.mkdir(exist_ok=False)
        except FileExistsError:
            continue
        return candidate
    raise RuntimeError(
        f"Could not create a fresh run directory for {str(parent / base)!r} after {_MAX_ATTEMPTS} attempts"
    )


@dataclass(frozen=True)
class RunDir:
    """Paths and small helpers for one run directory (see the module docstring for the layout)."""

    path: Path

    @classmethod
    def create(
        cls,
        env_name: str,
        algo: str,
        root: str | os.PathLike[str] = "runs",
        timestamp: datetime | str | None = None,
    ) -> RunDir:
        """Create a fresh run directory (see :func:`create_run_dir`) and its ``checkpoints/`` folder."""
        run_dir = cls(create_run_dir(env_name, algo, root=root, timestamp=timestamp))
        run_dir.checkpoints_dir.mkdir(exist_ok=True)
        return run_dir

    @classmethod
    def open(cls, path: str | os.PathLike[str]) -> RunDir:
        """Wrap an existing run directory, e.g. to resume from it."""
        path = Path(path)
        if not path.is_dir():
            raise ValueError(f"Run directory {str(path)!r} does not exist")
        return cls(path)

    @property
    def checkpoints_dir(self) -> Path:
        """Folder holding the run's checkpoints."""
        return self.path / CHECKPOINT_DIR_NAME

    @property
    def config_path(self) -> Path:
        """Where the resolved config is written."""
        return self.path / "config.yml"

    @property
    def command_path(self) -> Path:
        """Where the command line is written."""
        return self.path / "command.txt"

    def checkpoint_path(self, step: int) -> Path:
        """Path of the checkpoint for ``step`` (not created)."""
        return self.checkpoints_dir / checkpoint_name(step)

    def save_checkpoint(self, step: int, state: Mapping[str, Any], keep_last: int | None) -> Path:
        """Write ``state`` as the checkpoint of ``step``, then prune the run's checkpoints to the ``keep_last`` newest
        (``None`` keeps all); the one just written is always kept."""
        path = save_checkpoint(self.checkpoint_path(step), state)
        prune_checkpoints(self.checkpoints_dir, keep_last, keep=[path])
        return path

    def latest_checkpoint(self) -> Path | None:
        """The checkpoint with the highest step, or ``None``."""
        return latest_checkpoint(self.path)

    def write_config(self, config: Mapping[str, Any]) -> Path:
        """Save the resolved config as ``config.yml``."""
        return save_config(config, self.config_path)

    def write_command(self, argv: Sequence[str] | None = None) -> Path:
        """
        Record the command line in ``command.txt`` (shell-quoted, re-runnable).

        :param argv: the arguments to record; defaults to ``sys.argv``.
        """
        args = list(sys.argv if argv is None else argv)
        self.command_path.write_text(shlex.join(args) + "\n", encoding="utf-8")
        return self.command_path

    def __fspath__(self) -> str:
        return os.fspath(self.path)

    def __str__(self) -> str:
        return str(self.path)
