#!/usr/bin/env python
"""`make demo`: a short training run on every environment that exists so far, then where to look."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from deep_arena.agents.registry import DemoJob, get_task, task_names

ROOT = Path(__file__).resolve().parent.parent

TRAIN = [sys.executable, str(ROOT / "scripts" / "train.py")]

# The GANs are not environment families; their demo jobs are listed here.
GAN_JOBS = [
    DemoJob("Molecular graph GAN (MolGAN-style WGAN-GP) on the committed 2,000-molecule QM9 sample (30 seconds)",
            ("gan", "molecules", "--dataset", "tests/data/qm9_sample.smi", "--epochs", "40", "--minutes", "0.5",
             "--set", "threads=1")),
    DemoJob("Tabular GAN on the imbalanced breast-cancer table (100 epochs, about a minute)",
            ("gan", "tabular", "--data", "demo", "--epochs", "100", "--set", "threads=1")),
]


def demo_jobs() -> list[DemoJob]:
    """Every registered family's demo jobs, then the GANs'."""
    return [job for name in task_names() for job in get_task(name).demo_jobs] + GAN_JOBS


def main() -> int:
    for job in demo_jobs():
        print(f"\n=== {job.title}\n$ arena-train {' '.join(job.argv)}", flush=True)
        start = time.time()
        result = subprocess.run([*TRAIN, *job.argv], cwd=ROOT)
        if result.returncode != 0:
            print(f"demo job failed with exit code {result.returncode}", file=sys.stderr)
            return result.returncode
        print(f"done in {time.time() - start:.0f} s")
    print("\nWhere to look:")
    print("  tensorboard --logdir runs            # curves, evaluation boards")
    print("  python scripts/play.py go --human    # play Go against the random player in a pygame window")
    print("  python scripts/play.py go --human --model pretrained --board-size 7 --komi 9.5 --show-search")
    print("  python scripts/evaluate.py go --model pretrained --board-size 7 --komi 9.5 --opponent gnugo:1 --games 20")
    print("  python scripts/gtp.py --board-size 9 # a GTP engine for GoGui/Sabaki or GNU Go matches")
    print("  python scripts/evaluate.py arm --task reach --model pretrained --episodes 100   # success rate, 95% CI")
    print("  python scripts/play.py arm --task reach --model pretrained   # watch the shipped reach policy")
    print("  python scripts/play.py molecule --model runs/molecule/<moldqn run>/model.pt   # watch it build molecules")
    print("  python scripts/evaluate.py molecule --model runs/molecule/<moldqn run>/model.pt --episodes 20")
    print("  python scripts/evaluate.py tabular --model runs/gan/<tabular run>/model.pt --data demo --no-peer "
          "--seeds 2   # TSTR, minority F1 vs SMOTE")
    return 0


if __name__ == "__main__":
    sys.exit(main())
