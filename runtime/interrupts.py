"""Ctrl-C (SIGINT) and SIGTERM during training: stop at the next safe point, save, say how to resume, exit 130.

A trainer wraps its loop in :class:`GracefulStop` and checks ``stop.requested`` where a checkpoint is consistent
(between iterations, episodes or SB3 steps)::

    with GracefulStop() as stop:
        while budget_left() and not stop.requested:
            one_iteration()
    save_checkpoint()
    return RunResult(..., stopped_by="interrupt" if stop.requested else "budget")

The first signal only sets the flag (and says so on stderr); a second one raises ``KeyboardInterrupt`` at once for a
user who does not want to wait. Outside the main thread (where Python cannot install handlers) the block does nothing
and ``requested`` stays False. The command then calls :func:`report_interrupted`, which prints the exact resume
command and returns the conventional exit status 130.
"""

from __future__ import annotations

import shlex
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from types import FrameType
from typing import Any

__all__ = ["INTERRUPTED_EXIT", "GracefulStop", "report_interrupted"]

INTERRUPTED_EXIT = 130  # 128 + SIGINT, what shells report for a Ctrl-C'd command
_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class GracefulStop:
    """A context in which SIGINT/SIGTERM request a stop instead of killing the process (see the module docstring)."""

    def __init__(self, message: str = "stopping at the next checkpoint-safe point (press Ctrl-C again to quit now)"):
        self.message = message
        self.requested = False
        self.signal_name: str | None = None
        self._previous: dict[int, Any] = {}

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        self.signal_name = signal.Signals(signum).name
        print(f"\n{self.signal_name}: {self.message}", file=sys.stderr, flush=True)

    def __enter__(self) -> GracefulStop:
        if threading.current_thread() is threading.main_thread():
            for sig in _SIGNALS:
                self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        self._previous.clear()


def report_interrupted(run_dir: str | Path, command: Sequence[str] | None, saved: Sequence[str | Path] = (),
                       note: str | None = None) -> int:
    """Print where the interrupted run was saved and the command that continues it (for a trainer that cannot
    resume, ``command`` None and ``note`` saying so); return :data:`INTERRUPTED_EXIT`."""
    print(f"interrupted: {run_dir} saved" + (f" ({', '.join(str(p) for p in saved if p)})" if saved else ""),
          file=sys.stderr)
    if command is not None:
        print(f"continue with: {shlex.join(str(c) for c in command)}", file=sys.stderr, flush=True)
    else:
        print(note or "this kind of run cannot be resumed", file=sys.stderr, flush=True)
    return INTERRUPTED_EXIT
