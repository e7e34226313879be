#!/usr/bin/env python
"""AlphaZero search + network at 9x9 on a GPU against the same machine's CPU cores: simulations/s (a few minutes).

    python benchmarks/alphazero_gpu.py                       # on a GPU machine: writes benchmarks/results/alphazero_gpu_<gpu>.json
    python benchmarks/alphazero_gpu.py --device cpu --quick  # smoke run of the script itself on any machine

What runs: the compiled batched search (`agents.alphazero.search.BatchedSearch`, PUCT, the trainer's constants) from
``trees`` seeded 9x9 positions (0 to 40 random moves), ``--sims`` simulations per tree, fresh trees each repetition,
every step's leaves evaluated in one network call, repeated for ``--seconds``; simulations/s = trees x sims x
repetitions / time, after one warm-up repetition (numba cache, CUDA context, cuDNN autotuning, torch.compile).
Two networks: the shipped ``agents/pretrained/go-9x9.pt`` and a randomly initialised 10 blocks x 128 channels one.

Rows, per network:

* ``cpu``: one process per CPU core (``--cpu-procs``, default all), each with one torch thread, ``--cpu-trees``
  (32, the trainer's parallel_games) trees, float32: the machine's CPU cores, all busy, summed;
* ``gpu_p1``: one process, ``--gpu-trees`` (1024) trees, network on the GPU in bfloat16 autocast and channels-last
  (``--precision``, ``--no-channels-last``; ``--compile`` adds torch.compile), ``--leaves`` leaves per tree per call
  (virtual loss above 1) -> batches of trees x leaves positions;
* ``gpu_pK``: ``--gpu-procs`` (default 4) such processes sharing the GPU, summed (the search itself is one CPU
  thread per process; several processes keep the GPU fed while each one's search runs).

The processes of a row start their timed window together (a barrier after their warm-up). Ratios printed: each GPU
row over the CPU row of the same network. Targets (issue 17): >= 50,000 simulations/s at 9x9 with a network of at
least 6x64 and >= 10x the same machine's CPU cores.

``--device cpu --quick``: tiny settings (4 trees, 4 simulations, 2 s, 2 processes) with the "gpu" rows on the CPU, to
check the script runs; its figures mean nothing (the JSON goes to ``--json`` or alphazero_gpu_cpu_quick.json).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import platform
import re
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from deep_arena.agents.alphazero.inference import InferenceOptions
from deep_arena.agents.alphazero.network import NetConfig, PolicyValueNet, count_parameters
from deep_arena.agents.alphazero.player import load_network
from deep_arena.agents.alphazero.search import BatchedSearch, NetworkLeafEvaluator
from deep_arena.envs.go import features
from deep_arena.envs.go.game import GoGame

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "agents" / "pretrained" / "go-9x9.pt"
N, KOMI, HISTORY = 9, 7.5, 4


def positions(count: int, seed: int) -> list[GoGame]:
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(count):
        game = GoGame(N, KOMI)
        for _ in range(int(rng.integers(0, 41))):
            legal = np.flatnonzero(game.legal_moves()[:-1])
            if len(legal) == 0:
                break
            game.play(int(rng.choice(legal)))
        out.append(game)
    return out


def build_net(name: str) -> PolicyValueNet:
    if name == "shipped":
        net, meta = load_network(SHIPPED, "cpu")
        if int(meta["history_length"]) != HISTORY:
            raise SystemExit(f"{SHIPPED}: history_length {meta['history_length']}, this script uses {HISTORY}")
        return net
    blocks, channels = (int(x) for x in name.split("x"))
    torch.manual_seed(0)
    return PolicyValueNet(NetConfig(in_planes=features.num_planes(HISTORY), blocks=blocks, channels=channels))


def worker(spec: dict[str, Any], index: int, barrier, queue) -> None:
    """One process of a row: warm up, wait for the others, search for spec['seconds'], report simulations/s."""
    try:
        torch.set_num_threads(int(spec["threads"]))
        device = torch.device(spec["device"])
        net = build_net(spec["net"]).to(device).eval()
        options = InferenceOptions(precision=spec["precision"], channels_last=spec["channels_last"],
                                   compile=spec["compile"])
        evaluate = NetworkLeafEvaluator(net, device, True, options)
        games = positions(int(spec["trees"]), seed=1000 + index)
        search = BatchedSearch(len(games), N, KOMI, HISTORY, leaves_per_tree=int(spec["leaves"]))

        def run() -> None:
            for t, g in enumerate(games):
                search.set_root(t, g)
            search.expand_roots(evaluate)
            search.search(evaluate, int(spec["sims"]))
            if device.type == "cuda":
                torch.cuda.synchronize(device)

        run()  # warm-up: numba, CUDA context, cuDNN, torch.compile
        barrier.wait(timeout=1800)
        calls0, positions0 = evaluate.calls, evaluate.positions
        reps, start = 0, time.perf_counter()
        while True:
            run()
            reps += 1
            elapsed = time.perf_counter() - start
            if elapsed >= float(spec["seconds"]):
                break
        queue.put((index, {"sims_per_second": len(games) * int(spec["sims"]) * reps / elapsed,
                           "mean_batch": (evaluate.positions - positions0) / max(1, evaluate.calls - calls0),
                           "repetitions": reps, "seconds": elapsed}))
    except BaseException as err:  # reported by the parent, which goes on with the other rows
        barrier.abort()
        queue.put((index, {"error": f"{type(err).__name__}: {err}"}))


def run_row(spec: dict[str, Any], procs: int) -> dict[str, Any]:
    ctx = mp.get_context("spawn")  # CUDA in every process: no fork
    barrier, queue = ctx.Barrier(procs), ctx.Queue()
    workers = [ctx.Process(target=worker, args=(spec, i, barrier, queue)) for i in range(procs)]
    began = time.perf_counter()
    for w in workers:
        w.start()
    results = [queue.get(timeout=3600) for _ in workers]
    for w in workers:
        w.join()
    errors = [r["error"] for _, r in results if "error" in r]
    row = {**spec, "procs": procs, "wall_s": round(time.perf_counter() - began, 1)}
    if errors:
        row["error"] = errors[0]
        return row
    row["sims_per_second"] = sum(r["sims_per_second"] for _, r in results)
    row["mean_batch"] = float(np.mean([r["mean_batch"] for _, r in results]))
    row["per_process"] = [r for _, r in sorted(results, key=lambda x: x[0])]
    return row


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cuda", help="the accelerator rows' device (default cuda)")
    parser.add_argument("--quick", action="store_true", help="tiny settings: checks that the script runs")
    parser.add_argument("--nets", default="shipped,10x128", help="comma list: shipped and/or BLOCKSxCHANNELS")
    parser.add_argument("--sims", type=int, default=32, help="simulations per tree per search (default 32)")
    parser.add_argument("--seconds", type=float, default=15.0, help="timed window of each row (default 15)")
    parser.add_argument("--cpu-procs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--cpu-trees", type=int, default=32)
    parser.add_argument("--gpu-trees", type=int, default=1024)
    parser.add_argument("--gpu-procs", type=int, default=4, help="processes sharing the GPU in the gpu_pK row")
    parser.add_argument("--leaves", type=int, default=1, help="leaves per tree per network call (GPU rows)")
    parser.add_argument("--precision", default=None, help="GPU rows: bfloat16 (default on cuda) | float16 | float32")
    parser.add_argument("--no-channels-last", action="store_true")
    parser.add_argument("--compile", action="store_true", help="GPU rows: torch.compile the network")
    parser.add_argument("--json", default=None, help="output file (default benchmarks/results/alphazero_gpu_<gpu>.json)")
    args = parser.parse_args()
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise SystemExit("no CUDA device here: run on a GPU machine, or check the script with --device cpu --quick")
    if args.quick:
        args.sims, args.seconds, args.cpu_procs, args.cpu_trees, args.gpu_trees, args.gpu_procs = 4, 2.0, 2, 4, 8, 2
    precision = args.precision or ("bfloat16" if device.type == "cuda" else "float32")
    gpu_name = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
    out: dict[str, Any] = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "command": " ".join(sys.argv),
                           "machine": platform.platform(), "cpu_cores": os.cpu_count(), "accelerator": gpu_name,
                           "torch": torch.__version__, "board_size": N, "rows": []}
    common = {"sims": args.sims, "seconds": args.seconds, "compile": False}
    for name in args.nets.split(","):
        params = count_parameters(build_net(name))
        rows = [("cpu", {"device": "cpu", "threads": 1, "trees": args.cpu_trees, "leaves": 1, "precision": "float32",
                         "channels_last": False}, args.cpu_procs)]
        accel = {"device": args.device, "threads": 1, "trees": args.gpu_trees, "leaves": args.leaves,
                 "precision": precision, "channels_last": not args.no_channels_last, "compile": args.compile}
        rows.append(("gpu_p1", accel, 1))
        if args.gpu_procs > 1:
            rows.append((f"gpu_p{args.gpu_procs}", accel, args.gpu_procs))
        for label, spec, procs in rows:
            row = run_row({**common, **spec, "net": name}, procs)
            row.update(label=label, net_parameters=params)
            out["rows"].append(row)
            rate = f"{row['sims_per_second']:12,.0f} sims/s  batch {row['mean_batch']:7.1f}" if "error" not in row \
                else f"failed: {row['error']}"
            print(f"{name:>8} {label:>8} ({procs} proc): {rate}", flush=True)
    print()
    for name in args.nets.split(","):
        rows = {r["label"]: r for r in out["rows"] if r["net"] == name and "error" not in r}
        cpu = rows.get("cpu")
        for label, row in rows.items():
            if label != "cpu" and cpu:
                ratio = row["sims_per_second"] / cpu["sims_per_second"]
                out.setdefault("ratios", {})[f"{name}/{label}_over_cpu"] = ratio
                print(f"{name}: {label} {row['sims_per_second']:,.0f} / cpu {cpu['sims_per_second']:,.0f} sims/s"
                      f" = {ratio:.2f}x")
    slug = re.sub(r"[^a-z0-9]+", "_", gpu_name.lower()).strip("_") + ("_quick" if args.quick else "")
    path = Path(args.json) if args.json else ROOT / "benchmarks" / "results" / f"alphazero_gpu_{slug}.json"
    path.write_text(json.dumps(out, indent=2) + "\n")
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
