#!/usr/bin/env python
"""Optimise molecules under an oracle budget with PMO's accounting (arena-optimize): see
agents/molecule/optimize_cli.py, or run with --help.

    python scripts/optimize_molecule.py --task qed --budget 10000 --method reinvent --seed 0 --out runs/pmo/qed-0
"""

from __future__ import annotations

import sys

from deep_arena.agents.molecule.optimize_cli import main

if __name__ == "__main__":
    sys.exit(main())
