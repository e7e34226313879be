#!/usr/bin/env python
"""`python scripts/train_arm.py ...` is `arena-train arm ...` (kept so that older commands keep working)."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from deep_arena.scripts import train


def main(argv: Sequence[str] | None = None) -> int:
    return train.main(["arm", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    sys.exit(main())
