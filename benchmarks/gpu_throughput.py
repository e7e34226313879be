#!/usr/bin/env python
"""Training throughput of every torch training path, each run for a short wall-clock budget, on one device.

    python benchmarks/gpu_throughput.py --device cuda --seconds 40 --cpu-too go_alphazero,gan_molgan_b256
    python benchmarks/gpu_throughput.py --device cpu --seconds 15 --only gan_tabular   # smoke run
    python benchmarks/gpu_throughput.py --only go_alphazero_9x9 --seconds 240 --cpu-too go_alphazero_9x9

Each path runs as the user runs it: the training script in a subprocess (``--device D``, a minutes budget, a
throw-away run root), with the evaluation, sample and checkpoint intervals pushed out of the window so that the
figures measure training. Throughput is read back from the run's TensorBoard events:

| path | script | figures |
| --- | --- | --- |
| go_alphazero | train_go.py --algo alphazero, 7x7, 32 parallel games | self-play positions/s, MCTS simulations/s, SGD steps/s |
| go_alphazero_pg128 | same, 128 parallel games (bigger leaf batches) | same |
| go_alphazero_9x9 | same as go_alphazero on 9x9 | same |
| go_maskable_ppo | train_go.py --algo maskable_ppo, 7x7, self-play pool | env steps/s (SB3 time/fps) |
| arm_push_tqc | train_arm.py --task push --algo tqc + HER, rl-zoo net [512]x3, batch 2048 | env steps/s (1 update each) |
| molecule_moldqn | train_molecule.py --objective qed --algo moldqn | env steps/s, episodes/s |
| gan_molgan_b32 / _b256 | train_gan.py molecules on tests/data/qm9_sample.smi, batch 32 / 256 | generator steps/s, molecules/s |
| gan_tabular | train_gan.py tabular --data demo (569 rows, batch 500) | generator steps/s |

Rates are taken between the first and last logged point, so start-up (imports, data loading, CUDA context) is
left out; ``wall_s`` is the whole subprocess. A path that fails is reported with the end of its output and the
others still run. ``--out FILE.json`` keeps the figures; the README's "GPU throughput" table is made from them.
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
from typing import Any, Callable

ROOT = Path(__file__).resolve().parents[1]
FAR = "1000000000"   # an interval no short run reaches


def _go_az(parallel: int | None, board_size: int = 7) -> list[str]:
    args = ["scripts/train_go.py", "--algo", "alphazero", "--board-size", str(board_size),
            "--set", "eval.games_vs_random=0", "--set", "eval.games_vs_gnugo=0",
            "--set", f"eval_every={FAR}", "--set", f"checkpoint_every={FAR}"]
    if parallel:
        args += ["--set", f"selfplay.parallel_games={parallel}"]
    return args


PATHS: dict[str, list[str]] = {
    "go_alphazero": _go_az(None),
    "go_alphazero_pg128": _go_az(128),
    "go_alphazero_9x9": _go_az(None, board_size=9),   # the GPU check: run with --seconds 240 --cpu-too
    "go_maskable_ppo": ["scripts/train_go.py", "--algo", "maskable_ppo", "--board-size", "7", "--steps", FAR,
                        "--set", f"eval_every={FAR}", "--set", f"checkpoint_every={FAR}"],
    "arm_push_tqc": ["scripts/train_arm.py", "--task", "push", "--algo", "tqc", "--her", "--steps", FAR,
                     "--set", "model.batch_size=2048", "--set", "model.learning_starts=1000", "--set", "model.policy_kwargs.net_arch=[512,512,512]",
                     "--set", f"eval_every={FAR}", "--set", f"checkpoint_every={FAR}",
                     "--set", "save_replay_buffer=false", "--set", "eval_frames=false"],
    "molecule_moldqn": ["scripts/train_molecule.py", "--objective", "qed", "--algo", "moldqn", "--episodes", FAR,
                        "--set", "checkpoint_every=1000000", "--set", "log_every=1"],
    "gan_molgan_b32": ["scripts/train_gan.py", "molecules", "--dataset", "tests/data/qm9_sample.smi",
                       "--epochs", "100000", "--batch-size", "32", "--set", "log_every=5",
                       "--set", f"sample_every={FAR}", "--set", f"checkpoint_every={FAR}"],
    "gan_molgan_b256": ["scripts/train_gan.py", "molecules", "--dataset", "tests/data/qm9_sample.smi",
                        "--epochs", "100000", "--batch-size", "256", "--set", "log_every=5",
                        "--set", f"sample_every={FAR}", "--set", f"checkpoint_every={FAR}"],
    # tabular has no minutes budget: a fixed number of epochs (1 generator step each on the demo table)
    "gan_tabular": ["scripts/train_gan.py", "tabular", "--data", "demo", "--set", "log_every=10",
                    "--set", "checkpoint_every=0"],
}
BATCH = {"gan_molgan_b32": 32, "gan_molgan_b256": 256}
LEARNING_STARTS = {"arm_push_tqc": 1000}


def read_scalars(run_root: Path) -> dict[str, list[tuple[float, int, float]]]:
    """Every scalar of every event file under ``run_root``: tag -> [(wall_time, step, value)] in file order."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    out: dict[str, list[tuple[float, int, float]]] = {}
    for path in sorted(run_root.rglob("events.out.tfevents.*")):
        acc = EventAccumulator(str(path), size_guidance={"scalars": 0})
        acc.Reload()
        for tag in acc.Tags().get("scalars", []):
            out.setdefault(tag, []).extend((e.wall_time, e.step, e.value) for e in acc.Scalars(tag))
    return out


def step_rate(points: list[tuple[float, int, float]]) -> float | None:
    """Steps per second between the first and the last logged point."""
    if len(points) < 2 or points[-1][0] <= points[0][0]:
        return None
    return (points[-1][1] - points[0][1]) / (points[-1][0] - points[0][0])


def mean_value(points: list[tuple[float, int, float]], skip: int = 1, positive: bool = False) -> float | None:
    """Mean of the logged values, leaving out the first ``skip`` (warm-up: CUDA context, compilation) where more
    remain, and with ``positive`` the zeros (AlphaZero iterations before the replay buffer is full train nothing)."""
    values = [v for _, _, v in points if v > 0 or not positive]
    values = values[skip:] or values
    return sum(values) / len(values) if values else None


def figures(name: str, s: dict[str, list[tuple[float, int, float]]]) -> dict[str, Any]:
    get: Callable[[str], list] = lambda tag: s.get(tag, [])
    if name.startswith("go_alphazero"):
        return {"positions_per_s": mean_value(get("selfplay/positions_per_second")),
                "simulations_per_s": mean_value(get("selfplay/simulations_per_second")),
                "sgd_steps_per_s": mean_value(get("train/steps_per_second"), skip=0, positive=True),
                "iterations": len(get("selfplay/positions_per_second"))}
    if name in ("go_maskable_ppo", "arm_push_tqc"):
        # SB3 logs at env step num_timesteps; time/fps averages over the whole run, the random-action warm-up of
        # the off-policy path (learning_starts, no updates) included, so the rate is taken after it instead
        points = [p for p in get("time/fps") if p[1] > LEARNING_STARTS.get(name, 0)]
        return {"env_steps_per_s": step_rate(points), "logged_points": len(points)}
    if name == "molecule_moldqn":
        return {"env_steps_per_s": mean_value(get("speed/env_steps_per_s")),
                "episodes_per_s": step_rate(get("speed/env_steps_per_s"))}
    if name.startswith("gan_molgan"):
        rate = step_rate(get("gan/wasserstein"))
        return {"generator_steps_per_s": rate, "molecules_per_s": rate * BATCH[name] if rate else None}
    if name == "gan_tabular":
        return {"generator_steps_per_s": step_rate(get("gan/wasserstein"))}
    return {}


def run_path(name: str, device: str, seconds: float, tabular_epochs: int, threads: int | None) -> dict[str, Any]:
    args = list(PATHS[name])
    with tempfile.TemporaryDirectory(prefix=f"gpu-bench-{name}-") as tmp:
        cmd = [sys.executable, *args, "--device", device, "--seed", "0", "--run-root", tmp, "--no-progress"]
        if name == "gan_tabular":
            cmd += ["--epochs", str(tabular_epochs)]
        else:
            cmd += ["--minutes", f"{seconds / 60:.4f}"]
        if threads:
            cmd += ["--set", f"threads={threads}"]
        env = dict(os.environ, SDL_VIDEODRIVER="dummy", PYTHONUNBUFFERED="1")
        began = time.perf_counter()
        try:
            proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=seconds + 240)
            rc, output = proc.returncode, proc.stdout + proc.stderr
        except subprocess.TimeoutExpired as exc:
            rc, output = "timeout", f"{exc.stdout or ''}{exc.stderr or ''}"
            output = output if isinstance(output, str) else ""
        wall = time.perf_counter() - began
        result: dict[str, Any] = {"path": name, "device": device, "rc": rc, "wall_s": round(wall, 1)}
        try:
            result.update(figures(name, read_scalars(Path(tmp))))
        except Exception as exc:  # a broken event file is reported, not raised
            result["read_error"] = repr(exc)
        if rc != 0:
            result["output_tail"] = output[-1500:]
        return result


def environment(device: str) -> dict[str, Any]:
    import torch

    info: dict[str, Any] = {"python": platform.python_version(), "torch": torch.__version__,
                            "cpu_count": os.cpu_count(), "machine": platform.machine()}
    if device.startswith("cuda") and torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name(0)
    return info


def fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.1f}" if value >= 10 else f"{value:.3g}"
    return str(value)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cuda", help="cuda (default), cuda:N or cpu")
    parser.add_argument("--seconds", type=float, default=40.0, help="training budget per path (default 40)")
    parser.add_argument("--only", default=None, help="comma-separated paths (default: all)")
    parser.add_argument("--cpu-too", default="", help="comma-separated paths to run again with --device cpu")
    parser.add_argument("--cpu-seconds", type=float, default=None, help="budget of the CPU reruns (default --seconds)")
    parser.add_argument("--tabular-epochs", type=int, default=1500, help="epochs of the tabular path (default 1500)")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads per run (default: all cores)")
    parser.add_argument("--out", type=Path, default=None, help="write the results as JSON here (after each path)")
    args = parser.parse_args(argv)
    names = args.only.split(",") if args.only else list(PATHS)
    cpu_names = [n for n in args.cpu_too.split(",") if n]
    for n in names + cpu_names:
        if n not in PATHS:
            parser.error(f"unknown path {n!r}; known: {', '.join(PATHS)}")
    if args.device.startswith("cuda"):
        import torch

        if not torch.cuda.is_available():
            parser.error("--device cuda: torch sees no CUDA device here")
    report: dict[str, Any] = {"environment": environment(args.device), "seconds": args.seconds, "results": []}
    print(json.dumps(report["environment"]), flush=True)
    jobs = [(n, args.device, args.seconds) for n in names]
    jobs += [(n, "cpu", args.cpu_seconds or args.seconds) for n in cpu_names]
    for name, device, seconds in jobs:
        result = run_path(name, device, seconds, args.tabular_epochs, args.threads)
        report["results"].append(result)
        shown = {k: fmt(v) for k, v in result.items() if k not in ("path", "device", "output_tail")}
        print(f"{name:<20} {device:<6} " + "  ".join(f"{k}={v}" for k, v in shown.items()), flush=True)
        if "output_tail" in result:
            print("    " + result["output_tail"].replace("\n", "\n    "), flush=True)
        if args.out:
            args.out.write_text(json.dumps(report, indent=2))
    return 0 if all(r["rc"] == 0 for r in report["results"]) else 1


if __name__ == "__main__":
    sys.exit(main())
