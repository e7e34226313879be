#!/usr/bin/env python
"""AlphaZero self-play on Ray actors against one process: positions/s of ``--actors N`` and of ``--actors 0``.

    python benchmarks/alphazero_actors.py [--actors 2] [--board-size 7] [--minutes 2] [--json OUT.json]

Two ``train_go.py --algo alphazero`` runs with the trainer's defaults at ``--board-size`` (7, its default), one after the other,
``--minutes`` of training each, evaluation off; the only difference is ``--actors``:

* one process (``--actors 0``): the trainer plays its own games, then trains, in turns (torch threads: all cores,
  or ``--baseline-threads``);
* ``--actors N``: N Ray actor processes (one torch thread each) play all the time and the learner trains on what
  arrives.

Read back from each run's TensorBoard events, over the iterations after the first (the first pays for Ray's start,
numba's cache and torch's warm-up):

* ``end-to-end positions/s``: training positions added per second of the run's wall clock (``progress/positions``
  over ``progress/elapsed_minutes``): what the learner receives, self-play and training time both counted. This is
  the figure compared (target for ``--actors 2`` on a 2-core machine: >= 1.6x one process);
* ``selfplay/positions_per_second``: the logged tag (one process: positions per second of its self-play phases;
  actors: positions arrived per second of the learner's clock), shown for reference.

On a GPU machine: ``--device cuda --board-size 9 --actors 8`` runs the learner on the GPU, and with the default
``--inference-server auto`` the actors play through one inference server on the GPU
(`agents.alphazero.inference_server`); ``selfplay/server_mean_batch`` is then shown too. ``--inference-server never``
gives each actor its own CPU network, for the comparison.

Timings depend on what else the machine runs: run it on an otherwise idle machine (or pause other jobs).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

ROOT = Path(__file__).resolve().parents[1]


def rates(run: Path) -> dict[str, float]:
    acc = EventAccumulator(str(run))
    acc.Reload()
    positions = [e.value for e in acc.Scalars("progress/positions")]
    minutes = [e.value for e in acc.Scalars("progress/elapsed_minutes")]
    tagged = [e.value for e in acc.Scalars("selfplay/positions_per_second")][1:]
    sims = [e.value for e in acc.Scalars("selfplay/simulations_per_second")][1:]
    batch = [e.value for e in acc.Scalars("selfplay/mean_inference_batch")]
    server = ([e.value for e in acc.Scalars("selfplay/server_mean_batch")]
              if "selfplay/server_mean_batch" in acc.Tags()["scalars"] else [])
    if len(positions) < 3:
        raise SystemExit(f"{run}: only {len(positions)} iterations; give more --minutes")
    return {"end_to_end_positions_per_second": (positions[-1] - positions[0]) / (60 * (minutes[-1] - minutes[0])),
            "selfplay/positions_per_second": sum(tagged) / len(tagged),
            "selfplay/simulations_per_second": sum(sims) / len(sims),
            "selfplay/mean_inference_batch": sum(batch) / len(batch),
            "selfplay/server_mean_batch": sum(server) / len(server) if server else float("nan"),
            "iterations": len(positions), "positions": positions[-1], "minutes": minutes[-1]}


def train(actors: int, run_root: Path, args: argparse.Namespace, threads: int | None = None) -> Path:
    cmd = [sys.executable, str(ROOT / "scripts" / "train_go.py"), "--algo", "alphazero", "--board-size",
           str(args.board_size), "--minutes", str(args.minutes), "--no-progress", "--device", args.device,
           "--run-root", str(run_root), "--actors", str(actors), "--seed", str(args.seed),
           "--set", f"eval_every={10**6}", "--set", "eval.games_vs_random=0", "--set", "eval.games_vs_gnugo=0"]
    if threads is not None:
        cmd += ["--set", f"threads={threads}"]
    if actors:
        cmd += ["--set", f"selfplay.inference_server={args.inference_server}"]
    print("$", " ".join(cmd), flush=True)
    subprocess.run(cmd, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    (run,) = (run_root / "go").iterdir()
    return run


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--actors", type=int, default=2)
    parser.add_argument("--board-size", type=int, default=7, help="default 7 (the trainer's default)")
    parser.add_argument("--minutes", type=float, default=2.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--baseline-threads", type=int, default=None,
                        help="torch threads of the one-process run (default: the trainer's, all cores)")
    parser.add_argument("--device", default="cpu", help="the learner's device (cpu, cuda, auto)")
    parser.add_argument("--inference-server", default="auto", choices=("auto", "always", "never"),
                        help="actors run: one inference server for all (auto: with CUDA)")
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    results = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "machine": platform.platform(),
               "cores": os.cpu_count(), "load_average_before": os.getloadavg(), "command": " ".join(sys.argv),
               "args": vars(args)}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        results["one_process"] = rates(train(0, tmp / "runs-one", args, args.baseline_threads))
        results[f"actors_{args.actors}"] = rates(train(args.actors, tmp / "runs-actors", args))
    one, many = results["one_process"], results[f"actors_{args.actors}"]
    key = "end_to_end_positions_per_second"
    results["ratio_end_to_end"] = many[key] / one[key]
    results["ratio_selfplay_tag"] = many["selfplay/positions_per_second"] / one["selfplay/positions_per_second"]
    print(f"\n{args.board_size}x{args.board_size}, trainer defaults, {args.minutes:g} min each, {os.cpu_count()} cores:")
    print(f"{'':>34} {'one process':>12} {f'--actors {args.actors}':>12} {'ratio':>8}")
    for name in (key, "selfplay/positions_per_second", "selfplay/simulations_per_second",
                 "selfplay/mean_inference_batch", "selfplay/server_mean_batch"):
        print(f"{name:>34} {one[name]:12.1f} {many[name]:12.1f} {many[name] / one[name]:7.2f}x")
    print(f"{'iterations':>34} {one['iterations']:12d} {many['iterations']:12d}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
