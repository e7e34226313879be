#!/usr/bin/env python
"""Goal GAN curriculum against uniform goal sampling on the wide goal space, at equal env steps, over seeds.

    python benchmarks/goalgan_coverage.py --task reach --steps 8000 --seeds 0 1 2 --jobs 2

Each (method, seed) pair is one `scripts/train_arm.py --goal-space wide [--curriculum goalgan]` run with the task's
shipped hyperparameters (TQC + HER for reach), one torch thread; `--jobs` runs go side by side. Every
`--eval-every` steps the run measures coverage: the fraction of a fixed grid of test goals (`--per-axis` cell
centres per axis of the wide box) that the deterministic policy reaches. The script prints coverage per step
(mean ± std over seeds) and the final values, and writes results.json and coverage.png into the output folder.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
METHODS = {"uniform": "none", "goalgan": "goalgan"}


def run_one(task: str, method: str, seed: int, args, out: Path) -> dict:
    root = out / f"{method}-seed{seed}"
    cmd = [sys.executable, str(ROOT / "scripts/train_arm.py"), "--task", task, "--goal-space", "wide",
           "--curriculum", METHODS[method], "--steps", str(args.steps), "--seed", str(seed),
           "--coverage", str(args.per_axis), "--run-root", str(root), "--no-progress",
           "--set", "threads=1", "--set", f"eval_every={args.eval_every}", "--set", "eval_frames=false",
           "--set", f"checkpoint_every={args.steps}"]
    for item in args.set or []:
        cmd += ["--set", item]
    start = time.time()
    log = out / f"{method}-seed{seed}.log"
    with open(log, "w") as handle:
        code = subprocess.run(cmd, cwd=ROOT, stdout=handle, stderr=subprocess.STDOUT,
                              env={**os.environ, "MUJOCO_GL": os.environ.get("MUJOCO_GL", "egl")}).returncode
    seconds = time.time() - start
    if code != 0:
        raise RuntimeError(f"{method} seed {seed} failed (exit {code}); see {log}")
    [npz] = list(root.glob("arm/*/coverage.npz"))
    with np.load(npz) as data:
        return {"method": method, "seed": seed, "seconds": seconds, "timesteps": data["timesteps"].tolist(),
                "coverage": data["coverage"].tolist(), "goals": int(len(data["goals"])), "run": str(npz.parent)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--task", choices=("reach", "push"), default="reach")
    parser.add_argument("--steps", type=int, default=8000)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--eval-every", type=int, default=2000)
    parser.add_argument("--per-axis", type=int, default=4)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--out", type=Path, default=None, help="default runs/bench/goalgan-<task>-<time>")
    parser.add_argument("--set", action="append", help="extra --set KEY=VALUE for every run (e.g. her=false)")
    args = parser.parse_args(argv)
    out = args.out or ROOT / "runs" / "bench" / f"goalgan-{args.task}-{time.strftime('%Y%m%d-%H%M%S')}"
    if out.exists() and any(out.iterdir()):
        parser.error(f"{out} exists and is not empty; nothing is overwritten")
    out.mkdir(parents=True, exist_ok=True)
    jobs = [(m, s) for s in args.seeds for m in METHODS]
    print(f"{len(jobs)} runs of {args.steps} steps ({args.task}, wide goals), {args.jobs} at a time -> {out}",
          flush=True)
    with ThreadPoolExecutor(args.jobs) as pool:
        results = list(pool.map(lambda job: run_one(args.task, job[0], job[1], args, out), jobs))
    table = {}
    for method in METHODS:
        rows = [r for r in results if r["method"] == method]
        steps = rows[0]["timesteps"]
        cov = np.array([r["coverage"] for r in rows])
        table[method] = {"timesteps": steps, "mean": cov.mean(0).tolist(), "std": cov.std(0).tolist(),
                         "final": [r["coverage"][-1] for r in rows],
                         "seconds": [round(r["seconds"]) for r in rows]}
    print(f"\ncoverage of {results[0]['goals']} test goals ({args.task}, wide goal space), mean ± std over seeds "
          f"{args.seeds}")
    print("steps    " + "   ".join(f"{m:>15}" for m in METHODS))
    for i, step in enumerate(table["uniform"]["timesteps"]):
        print(f"{step:>6}   " + "   ".join(f"{table[m]['mean'][i]:.3f} ± {table[m]['std'][i]:.3f}".rjust(15)
                                         for m in METHODS))
    for m in METHODS:
        print(f"{m}: final per seed {table[m]['final']}, wall seconds per run {table[m]['seconds']}")
    (out / "results.json").write_text(json.dumps({"args": {k: (str(v) if isinstance(v, Path) else v)
                                                           for k, v in vars(args).items()},
                                                  "table": table, "runs": results}, indent=2) + "\n")
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(5, 3.5), dpi=100)
        for m in METHODS:
            t, mu, sd = (np.array(table[m][k]) for k in ("timesteps", "mean", "std"))
            ax.plot(t, mu, marker="o", label=m)
            ax.fill_between(t, mu - sd, mu + sd, alpha=0.2)
        ax.set_xlabel("env steps")
        ax.set_ylabel("coverage")
        ax.set_ylim(0, 1)
        ax.set_title(f"{args.task}, wide goals, {len(args.seeds)} seeds")
        ax.legend()
        fig.tight_layout()
        fig.savefig(out / "coverage.png")
        plt.close(fig)
    except ImportError:
        pass
    print(f"results: {out / 'results.json'}   plot: {out / 'coverage.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
