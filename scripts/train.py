#!/usr/bin/env python
"""Train an agent on one environment family: ``arena-train ENV [options]`` (or ``python scripts/train.py ENV ...``).

``ENV`` is one of ``go``, ``arm``, ``molecule``, ``gan``; the options are that family's (``arena-train go --help``).
"""

from __future__ import annotations

import sys

from deep_arena.scripts import train_arm, train_gan, train_go, train_molecule

TRAINERS = {"go": train_go.main, "arm": train_arm.main, "molecule": train_molecule.main, "gan": train_gan.main}


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__.strip())
        return 0 if argv else 2
    env, rest = argv[0], argv[1:]
    if env not in TRAINERS:
        print(f"arena-train: unknown environment {env!r}; choose one of {', '.join(TRAINERS)}", file=sys.stderr)
        return 2
    return TRAINERS[env](rest)


if __name__ == "__main__":
    sys.exit(main())
