#!/usr/bin/env python
"""AlphaZero training throughput, this checkout against an earlier commit, side by side in one run.

    python benchmarks/alphazero_train_rate.py [--baseline 623aacc] [--board-size 9] [--minutes 2] [--cpu 1]

Each side runs its own ``train_go.py --algo alphazero`` with the trainer's defaults at ``--board-size`` (9) for
``--minutes`` of training on one core (``--set threads=1``, pinned with ``taskset`` when ``--cpu`` is given), one
after the other; the baseline runs from a temporary ``git worktree`` of ``--baseline`` (its scripts put their own
checkout first on ``sys.path``, so both use this venv's packages). The rates are read back from each run's TensorBoard
events (``selfplay/simulations_per_second``, ``selfplay/positions_per_second``, the tags every version logs), averaged
over the iterations after the first (which includes compilation), and printed with their ratio.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

ROOT = Path(__file__).resolve().parents[1]
TAGS = ("selfplay/simulations_per_second", "selfplay/positions_per_second")


def rates(run: Path) -> dict[str, float]:
    acc = EventAccumulator(str(run))
    acc.Reload()
    out = {}
    for tag in TAGS:
        values = [e.value for e in acc.Scalars(tag)]
        values = values[1:] or values  # the first iteration pays for numba/torch warm-up
        out[tag] = sum(values) / len(values)
    out["iterations"] = len(acc.Scalars(TAGS[0]))
    return out


def train(script: Path, cwd: Path, run_root: Path, args: argparse.Namespace) -> Path:
    cmd = [sys.executable, str(script), "--algo", "alphazero", "--board-size", str(args.board_size), "--minutes",
           str(args.minutes), "--no-progress", "--device", "cpu", "--run-root", str(run_root),
           "--set", "threads=1", "--set", f"eval_every={10**6}", "--set", "eval.games_vs_random=0",
           "--set", "eval.games_vs_gnugo=0"]
    if args.cpu is not None and shutil.which("taskset"):
        cmd = ["taskset", "-c", str(args.cpu), *cmd]
    print("$", " ".join(cmd), flush=True)
    subprocess.run(cmd, cwd=cwd, check=True, stdout=subprocess.DEVNULL)
    (run,) = (run_root / "go").iterdir()
    return run


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--baseline", default="623aacc", help="the earlier commit (default: before the compiled search)")
    parser.add_argument("--board-size", type=int, default=9)
    parser.add_argument("--minutes", type=float, default=2.0)
    parser.add_argument("--cpu", type=int, default=None, help="pin both runs to this core")
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        base = tmp / "baseline"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(base), args.baseline], check=True,
                       stdout=subprocess.DEVNULL)
        try:
            results["baseline"] = rates(train(base / "scripts" / "train_go.py", base, tmp / "runs-base", args))
            results["this"] = rates(train(ROOT / "scripts" / "train_go.py", ROOT, tmp / "runs-this", args))
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(base)], check=False)
    print(f"\n{args.board_size}x{args.board_size}, trainer defaults, one core, {args.minutes:g} min each "
          f"(baseline {args.baseline}):")
    print(f"{'':>28} {'baseline':>12} {'this':>12} {'ratio':>8}")
    for tag in TAGS:
        b, t = results["baseline"][tag], results["this"][tag]
        print(f"{tag:>28} {b:12.1f} {t:12.1f} {t / b:7.2f}x")
    print(f"{'iterations':>28} {results['baseline']['iterations']:12d} {results['this']['iterations']:12d}")
    if args.json:
        Path(args.json).write_text(json.dumps({"args": vars(args), **results}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
