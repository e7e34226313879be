#!/usr/bin/env python
"""`make demo`: a short training run on every environment that exists so far, then where to look."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

from deep_arena.agents.registry import DemoJob, get_task, task_names

ROOT = Path(__file__).resolve().parent.parent

TRAIN = [sys.executable, str(ROOT / "scripts" / "train.py")]

# The GANs are not environment families; their demo jobs are listed here.
GAN_JOBS = [
    # 25 epochs of 12 generator steps, a point every 20: 15 points whatever the machine's load (a 30-second budget
    # made 6 points at 50 steps each, and 79 steps in all on a busy machine)
    DemoJob("Molecular graph GAN (MolGAN-style WGAN-GP) on the committed 2,000-molecule QM9 sample (25 epochs, about "
            "30 seconds)",
            ("gan", "molecules", "--dataset", "tests/data/qm9_sample.smi", "--epochs", "25", "--set", "threads=1",
             "--set", "log_every=20"),
            ("arena-evaluate gan --model {run} --n 1000 --no-fcd --train-data tests/data/qm9_sample.smi",)),
    DemoJob("Tabular GAN on the imbalanced breast-cancer table (100 epochs, about a minute)",
            ("gan", "tabular", "--data", "demo", "--epochs", "100", "--set", "threads=1"),
            ("arena-evaluate tabular --model {run}/model.pt --data demo --no-peer --seeds 2",)),
]
ALWAYS = ("tensorboard --logdir runs",
          "arena-play go --human --model pretrained --board-size 7 --komi 9.5 --show-search",
          "arena-gtp --board-size 9")


def demo_jobs() -> list[DemoJob]:
    """Every registered family's demo jobs, then the GANs'."""
    return [job for name in task_names() for job in get_task(name).demo_jobs] + GAN_JOBS


def run_dirs(root: Path) -> set[Path]:
    """Every run directory under ``root`` (runs/<env>/<name>/)."""
    return {p for p in root.glob("*/*") if p.is_dir()} if root.is_dir() else set()


def command_prefix() -> str:
    """How to call the entry points from a fresh shell: the venv's bin folder when the demo runs from one."""
    bin_dir = Path(sys.executable).parent
    if (bin_dir / "arena-train").exists():
        try:
            return f"{os.path.relpath(bin_dir, Path.cwd())}/"
        except ValueError:  # another drive (Windows)
            return f"{bin_dir}/"
    return ""


def closing_hints(done: list[tuple[DemoJob, Path | None]], prefix: str = "") -> list[str]:
    """The commands to try after the demo, with the real run directories in place of ``{run}``."""
    lines = [prefix + cmd if not cmd.startswith("tensorboard") else f"{prefix}{cmd}" for cmd in ALWAYS]
    for job, run in done:
        if run is None:
            continue
        lines += [prefix + hint.format(run=os.path.relpath(run, Path.cwd())) for hint in job.hints]
    return lines


def main(argv: list[str] | None = None) -> int:
    argparse.ArgumentParser(prog="arena-demo", description=__doc__).parse_args(argv)  # --help, and no stray options
    runs_root = ROOT / "runs"
    jobs = demo_jobs()
    done: list[tuple[DemoJob, Path | None]] = []
    demo_start = time.time()
    for i, job in enumerate(jobs, 1):
        print(f"\n=== [{i}/{len(jobs)}] {job.title}\n$ arena-train {' '.join(job.argv)}", flush=True)
        start, before = time.time(), run_dirs(runs_root)
        result = subprocess.run([*TRAIN, *job.argv], cwd=ROOT)
        if result.returncode != 0:
            print(f"demo job failed with exit code {result.returncode}", file=sys.stderr)
            return result.returncode
        new = sorted(run_dirs(runs_root) - before, key=lambda p: p.stat().st_mtime)
        done.append((job, new[-1] if new else None))
        print(f"done in {time.time() - start:.0f} s" + (f": {new[-1]}" if new else ""))
    prefix = command_prefix()
    print(f"\nAll {len(jobs)} jobs done in {(time.time() - demo_start) / 60:.1f} min. Where to look"
          + (f" (or first `source {prefix}activate` and drop the {prefix} prefix):" if prefix else ":"))
    for line in closing_hints(done, prefix):
        print(f"  {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
