#!/usr/bin/env python
"""Train an agent: ``arena-train ENV [options]`` (or ``python scripts/train.py ENV ...``).

ENV is an environment family of the task registry (``go``, ``arm``, ``molecule``, and any registered since) or
``gan`` (the molecular and tabular GANs). The options are ENV's own: ``arena-train go --help``.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from deep_arena.agents.registry import run_command
from deep_arena.runtime.interrupts import INTERRUPTED_EXIT
from deep_arena.scripts import train_gan


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        if argv and argv[0] == "gan":  # the GANs are not an environment family
            return train_gan.main(argv[1:])
        code = run_command("train", argv, "arena-train")
    except KeyboardInterrupt:  # a second Ctrl-C: the trainer did not get to save (the first one saves and resumes)
        print("\ninterrupted before a checkpoint could be written; the run's last checkpoint is intact",
              file=sys.stderr)
        return INTERRUPTED_EXIT
    if not argv or argv[0] in ("-h", "--help"):
        print(f"  {'gan':<10} the molecular graph GAN and the conditional tabular GAN (arena-train gan --help)")
    return code


if __name__ == "__main__":
    sys.exit(main())
