#!/usr/bin/env python
"""PMO (Gao et al. 2022): one method on the 20 RDKit tasks x seeds, each under an oracle budget, and a table of
AUC top-10 beside the published REINVENT, Graph GA and Genetic GFN rows (mean of 3 seeds in the paper).

    python benchmarks/pmo.py --method reinvent --seeds 0 1 2 --out runs/pmo/reinvent [--tasks qed median1 ...]
    python benchmarks/pmo.py --method reinvent --out runs/pmo/reinvent --table-only --write benchmarks/results/pmo_reinvent.md
    python benchmarks/pmo.py --out runs/pmo/reinvent --table-only --beside ppo=runs/pmo/ppo moldqn=runs/pmo/moldqn
    python benchmarks/pmo.py --out runs/pmo/reinvent --table-only --verify 500

``--beside NAME=DIR``: more methods' result folders, one column each in a second table (AUC top-10 means over their
seeds, with the number of seeds and of tasks they ran). ``--verify N``: re-read every run's ``oracle_calls.csv``,
check that every logged SMILES is a valid molecule, is RDKit-canonical and is logged once, and re-score N calls of it
(evenly spaced, the best one always) with the task's definition: the largest difference is printed (it should be 0);
a folder that keeps only its summary.json is counted and skipped. ``--per-seed``: each seed's AUC top-10 per task and
its sum over the tasks every seed ran; ``--per-run``: every run's numbers.

The summaries of the runs behind the published tables are kept in ``benchmarks/results/pmo_runs/<method>/`` (the run
folders with their call logs stay under ``runs/``), so ``--out benchmarks/results/pmo_runs/augmem --table-only`` rebuilds
them from the repository alone.

Resumable: each (task, seed) run writes OUT/<task>-seed<seed>/ (scripts/optimize_molecule.py's outputs) and is
skipped when its summary.json exists; a folder without one (a killed run) is run again from scratch. The table
(markdown, printed and written to --write) holds mean ± sd over the seeds done per task, the number of seeds, and the
sums over the tasks done for us and for each published method on the same tasks.
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import sys
import time
from pathlib import Path

import numpy as np

from deep_arena.agents.molecule.optimize import METHODS, USES_PRIOR, optimize
from deep_arena.agents.molecule.optimize_cli import write_outputs
from deep_arena.envs.molecule.pmo import TASK_NAMES
from deep_arena.envs.molecule.pmo_oracle import PATIENCE_MIN_CALLS
from deep_arena.runtime.argtypes import int_in_range

# AUC top-10, mean of 3 seeds, from the PMO paper's table (as quoted in issue 20)
PUBLISHED: dict[str, tuple[float, float, float]] = {
    "albuterol_similarity": (0.882, 0.838, 0.949), "amlodipine_mpo": (0.635, 0.661, 0.761),
    "celecoxib_rediscovery": (0.710, 0.630, 0.802), "deco_hop": (0.666, 0.619, 0.733),
    "fexofenadine_mpo": (0.784, 0.760, 0.856), "isomers_c7h8n2o2": (0.852, 0.862, 0.969),
    "isomers_c9h10n2o2pf2cl": (0.642, 0.719, 0.897), "median1": (0.356, 0.294, 0.379),
    "median2": (0.276, 0.273, 0.294), "mestranol_similarity": (0.618, 0.579, 0.708),
    "osimertinib_mpo": (0.837, 0.831, 0.860), "perindopril_mpo": (0.537, 0.538, 0.595),
    "qed": (0.941, 0.940, 0.942), "ranolazine_mpo": (0.760, 0.728, 0.819), "scaffold_hop": (0.560, 0.517, 0.615),
    "sitagliptin_mpo": (0.021, 0.433, 0.634), "thiothixene_rediscovery": (0.534, 0.479, 0.583),
    "troglitazone_rediscovery": (0.441, 0.390, 0.511), "valsartan_smarts": (0.178, 0.000, 0.135),
    "zaleplon_mpo": (0.358, 0.346, 0.552),
}
PUBLISHED_NAMES = ("REINVENT", "Graph GA", "Genetic GFN")


def run_one(method: str, task: str, seed: int, budget: int, out: Path, prior: str, settings: dict,
            minutes: float | None = None, patience: int | None = None,
            patience_min_calls: int = PATIENCE_MIN_CALLS) -> dict:
    folder = out / f"{task}-seed{seed}"
    done = folder / "summary.json"
    if done.is_file():
        return json.loads(done.read_text())
    if folder.exists():
        shutil.rmtree(folder)          # a run killed before its summary: start it again
    folder.mkdir(parents=True)
    started = time.perf_counter()
    log = optimize(task, budget, method, seed, settings=settings, prior=prior, minutes=minutes, patience=patience,
                   patience_min_calls=patience_min_calls)
    summary = {"task": task, "method": method, "seed": seed, **log.summary(),
               "seconds": round(time.perf_counter() - started, 1), "cpu_seconds": round(log.cpu_seconds, 1),
               "settings": settings, "patience": patience,
               "patience_min_calls": patience_min_calls if patience is not None else None,
               "prior": prior if method in USES_PRIOR else None, "machine": platform.machine()}
    write_outputs(folder, log, f"{method} on {task}", summary)
    return summary


def collect(out: Path) -> dict[str, list[dict]]:
    results: dict[str, list[dict]] = {}
    for path in sorted(out.glob("*-seed*/summary.json")):
        s = json.loads(path.read_text())
        results.setdefault(s["task"], []).append(s)
    return results


def table(results: dict[str, list[dict]], method: str) -> str:
    lines = [f"| task | ours: {method} (AUC top-10, mean ± sd) | seeds | minutes per run (wall / CPU) | "
             + " | ".join(PUBLISHED_NAMES) + " |", "|---|---|---|---|---|---|---|"]
    ours_sum, pub_sums, n_tasks = 0.0, np.zeros(3), 0
    for task in TASK_NAMES:
        pub = PUBLISHED[task]
        runs = results.get(task, [])
        if runs:
            auc = np.array([r["auc_top10"] for r in runs])
            minutes = np.mean([r["seconds"] for r in runs]) / 60
            cpu = np.mean([r.get("cpu_seconds", np.nan) for r in runs]) / 60
            sd = f" ± {auc.std(ddof=1):.3f}" if len(auc) > 1 else ""
            short = [r for r in runs if r["calls"] < r["budget"]]
            why = sorted({str(r.get("stop_reason") or "time") for r in short})
            note = f" (stopped at {min(r['calls'] for r in short):,} calls: {', '.join(why)})" if short else ""
            ours, seeds, mins = f"{auc.mean():.3f}{sd}{note}", str(len(runs)), f"{minutes:.1f} / {cpu:.1f}"
            ours_sum += auc.mean()
            pub_sums += np.array(pub)
            n_tasks += 1
        else:
            ours, seeds, mins = "–", "0", "–"
        lines.append(f"| {task} | {ours} | {seeds} | {mins} | " + " | ".join(f"{v:.3f}" for v in pub) + " |")
    all_pub = np.array(list(PUBLISHED.values())).sum(axis=0)
    lines.append(f"| **sum over the {n_tasks} tasks run** | **{ours_sum:.3f}** | | | "
                 + " | ".join(f"**{v:.3f}**" for v in pub_sums) + " |")
    lines.append("| sum over all 20 (published) | | | | " + " | ".join(f"{v:.3f}" for v in all_pub) + " |")
    return "\n".join(lines)


def per_run_table(results: dict[str, list[dict]]) -> str:
    """Every run's PMO numbers ("invalid": share of requests that were not valid SMILES; they cost no call)."""
    lines = ["| task | seed | calls | AUC top-1 | AUC top-10 | AUC top-100 | top-10 mean | diversity | SA | invalid | "
             "wall min | CPU min |", "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for task in TASK_NAMES:
        for r in sorted(results.get(task, []), key=lambda r: r["seed"]):
            invalid = r.get("invalid_share", r.get("invalid_requests", 0) / max(r.get("requests", 0), 1))
            lines.append(f"| {task} | {r['seed']} | {r['calls']:,} | {r['auc_top1']:.3f} | {r['auc_top10']:.3f} | "
                         f"{r['auc_top100']:.3f} | {r['top10_mean']:.3f} | {r['diversity_top100']:.3f} | "
                         f"{r.get('sa_top100', float('nan')):.2f} | {invalid:.2f} | {r['seconds'] / 60:.1f} | "
                         f"{r.get('cpu_seconds', float('nan')) / 60:.1f} |")
    return "\n".join(lines)


def per_seed_table(results: dict[str, list[dict]]) -> str:
    """AUC top-10 of every seed per task, the task's mean, and each seed's sum over the tasks that every seed ran
    (so seeds are compared on the same tasks); then the mean and sd of those sums."""
    seeds = sorted({r["seed"] for runs in results.values() for r in runs})
    if not seeds:
        return "(no runs)"
    by_task = {t: {r["seed"]: r for r in results.get(t, [])} for t in TASK_NAMES}
    common = [t for t in TASK_NAMES if by_task[t] and all(s in by_task[t] for s in seeds)]
    lines = ["| task | " + " | ".join(f"seed {s}" for s in seeds) + " | mean | CPU min per seed |",
             "|---|" + "---|" * (len(seeds) + 2)]
    for t in TASK_NAMES:
        runs = by_task[t]
        if not runs:
            continue
        cells = [f"{runs[s]['auc_top10']:.3f}" if s in runs else "–" for s in seeds]
        cpu = [f"{runs[s].get('cpu_seconds', float('nan')) / 60:.1f}" if s in runs else "–" for s in seeds]
        mean = np.mean([r["auc_top10"] for r in runs.values()])
        lines.append(f"| {t} | " + " | ".join(cells) + f" | {mean:.3f} | " + ", ".join(cpu) + " |")
    sums = np.array([sum(by_task[t][s]["auc_top10"] for t in common) for s in seeds])
    spread = f" ± {sums.std(ddof=1):.3f}" if len(sums) > 1 else ""
    lines.append(f"| **sum over the {len(common)} tasks every seed ran** | "
                 + " | ".join(f"**{v:.3f}**" for v in sums) + f" | **{sums.mean():.3f}**{spread} | |")
    return "\n".join(lines)


def side_by_side(columns: dict[str, dict[str, list[dict]]]) -> str:
    """One row per task: each method's AUC top-10 (mean over its seeds, seeds in brackets), then the published."""
    names = list(columns)
    lines = ["| task | " + " | ".join(f"ours: {n}" for n in names) + " | " + " | ".join(PUBLISHED_NAMES) + " |",
             "|---|" + "---|" * (len(names) + len(PUBLISHED_NAMES))]
    sums, counts = dict.fromkeys(names, 0.0), dict.fromkeys(names, 0)
    for task in TASK_NAMES:
        cells = []
        for n in names:
            runs = columns[n].get(task, [])
            if runs:
                mean = float(np.mean([r["auc_top10"] for r in runs]))
                sums[n] += mean
                counts[n] += 1
                cells.append(f"{mean:.3f} ({len(runs)})")
            else:
                cells.append("–")
        lines.append(f"| {task} | " + " | ".join(cells) + " | " + " | ".join(f"{v:.3f}" for v in PUBLISHED[task])
                     + " |")
    all_pub = np.array(list(PUBLISHED.values())).sum(axis=0)
    lines.append("| **sum (tasks run)** | " + " | ".join(f"**{sums[n]:.3f}** ({counts[n]} tasks)" for n in names)
                 + " | " + " | ".join(f"**{v:.3f}** (20)" for v in all_pub) + " |")
    return "\n".join(lines)


def verify(out: Path, every: int) -> float:
    """Checks the call logs of ``out`` (module docstring); returns the largest |logged - definition| score."""
    from deep_arena.envs.molecule.pmo import get_task  # lazy: only for --verify
    from deep_arena.envs.molecule.pmo_oracle import CallLog, canonical  # lazy: see above

    worst, checked, logged, without_log = 0.0, 0, 0, 0
    for path in sorted(out.glob("*-seed*/summary.json")):
        s = json.loads(path.read_text())
        if not (path.parent / "oracle_calls.csv").is_file():
            without_log += 1      # a summary kept without its call log (benchmarks/results/pmo_runs): nothing to check
            continue
        log = CallLog.read_csv(path.parent / "oracle_calls.csv", s["budget"])
        if len(log) != s["calls"]:
            raise SystemExit(f"{path.parent}: {len(log)} rows in oracle_calls.csv, summary says {s['calls']}")
        if len(set(log.smiles)) != len(log):
            raise SystemExit(f"{path.parent}: a molecule is logged twice (each costs one call only once)")
        for smiles in log.smiles:
            if canonical(smiles) != smiles:   # the oracle's own definition: parses, and is RDKit's canonical form
                raise SystemExit(f"{path.parent}: {smiles!r} is not a valid canonical SMILES")
        logged += len(log)
        task = get_task(s["task"])
        picks = set(np.linspace(0, len(log) - 1, min(every, len(log))).astype(int).tolist())
        picks.add(int(np.argmax(log.scores)))
        for i in sorted(picks):
            worst = max(worst, abs(task.score_smiles(log.smiles[i]) - log.scores[i]))
            checked += 1
    print(f"verified {out}: {logged:,} logged molecules all valid, canonical and distinct; {checked:,} re-scored, "
          f"largest difference from the task definition {worst:.3g}"
          + (f"; {without_log} run(s) without a call log not checked" if without_log else ""))
    return worst


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--method", default="reinvent", choices=METHODS)
    p.add_argument("--tasks", nargs="+", default=list(TASK_NAMES), metavar="TASK")
    p.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    p.add_argument("--budget", type=int, default=10_000)
    p.add_argument("--out", type=Path, required=True, help="folder of per-(task, seed) results (resumable)")
    p.add_argument("--prior", default="pretrained", help="reinvent's prior (default gan/pretrained/lm-moses.pt)")
    p.add_argument("--minutes", type=float, default=None, help="wall-clock limit per run (it then stops early)")
    p.add_argument("--patience", type=int, default=None,
                   help="stop a run once this many requests in a row have not changed its top 100 (PMO's early stop)")
    p.add_argument("--patience-min-calls", type=int_in_range(0, 10**9), default=PATIENCE_MIN_CALLS,
                   help=f"calls before --patience can end a run (default {PATIENCE_MIN_CALLS}, as PMO)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    p.add_argument("--table-only", action="store_true", help="only print the table of the results in --out")
    p.add_argument("--write", type=Path, default=None, help="also write the table (markdown) here")
    p.add_argument("--beside", nargs="+", default=[], metavar="NAME=DIR",
                   help="other methods' result folders for a side-by-side table")
    p.add_argument("--per-run", action="store_true", help="add a table of every run's numbers")
    p.add_argument("--per-seed", action="store_true", help="add a table of every seed's AUC top-10 and sum")
    p.add_argument("--verify", type=int, default=0, metavar="N",
                   help="check every call log and re-score N calls per run with the task definition")
    args = p.parse_args(argv)
    unknown = [t for t in args.tasks if t not in TASK_NAMES]
    if unknown:
        p.error(f"unknown task(s) {', '.join(unknown)}; known: {', '.join(TASK_NAMES)}")
    from deep_arena.agents.molecule.optimize_cli import _nested  # lazy: the CLI's --set parser, only here

    settings = _nested(args.overrides)
    beside: dict[str, Path] = {}
    for spec in args.beside:
        name, sep, folder = spec.partition("=")
        if not sep or not Path(folder).is_dir():
            p.error(f"--beside wants NAME=DIR with an existing folder, got {spec!r}")
        beside[name] = Path(folder)
    if not args.table_only:
        for seed in args.seeds:
            for task in args.tasks:
                s = run_one(args.method, task, seed, args.budget, args.out, args.prior, settings, args.minutes,
                            args.patience, args.patience_min_calls)
                print(f"{task} seed {seed}: AUC top-10 {s['auc_top10']:.3f}, top-10 mean {s['top10_mean']:.3f}, "
                      f"{s['seconds'] / 60:.1f} min", flush=True)
    results = collect(args.out)
    text = table(results, args.method)
    if beside:
        columns = {args.method: results, **{name: collect(folder) for name, folder in beside.items()}}
        text += "\n\n" + side_by_side(columns)
    if args.per_seed:
        text += "\n\n" + per_seed_table(results)
    if args.per_run:
        text += "\n\n" + per_run_table(results)
    print(text)
    if args.verify:
        for folder in [args.out, *beside.values()]:
            if verify(folder, args.verify) > 1e-9:
                print("error: logged scores differ from the task definition", file=sys.stderr)
                return 1
    if args.write is not None:
        args.write.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
