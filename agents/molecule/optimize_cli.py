"""``scripts/optimize_molecule.py`` / ``arena-optimize``: one optimiser on one PMO task (or a user's oracle) under an
oracle budget, with PMO's accounting.

    python scripts/optimize_molecule.py --task qed --budget 10000 --method reinvent --seed 0 --out runs/pmo/qed-0
    python scripts/optimize_molecule.py --task zaleplon_mpo --method moldqn --budget 10000 --out runs/pmo/zal-dqn
    python scripts/optimize_molecule.py --task median1 --method reinvent --prior runs/gan/lm-X/model.pt --set sigma=120
    python scripts/optimize_molecule.py --score-fn mypackage.mymodule:score --budget 500 --out runs/mine

--task is one of the 20 PMO tasks (envs/molecule/pmo.py); --score-fn MODULE:FUNCTION names a user's
``score(smiles) -> float`` instead. The output folder must not exist (it is never overwritten); it gets
oracle_calls.csv (call, smiles, score: every call in order), summary.json (AUC top-1/10/100, top-10 mean, diversity
and SA of the top 100, wall time, settings; also printed), best_molecules.png, top10_vs_calls.png and TensorBoard
events (pmo/top10_mean against oracle calls, live: `tensorboard --logdir DIR`).
--set KEY=VALUE sets a method setting (reinvent: agents/reinvent/config.py; moldqn: agents/moldqn/config.py;
ppo: agents/molecule/ppo_config.py); unknown keys are errors.
"""

from __future__ import annotations

import argparse
import importlib
import json
import platform
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Callable

from deep_arena.agents.molecule.optimize import METHODS, USES_PRIOR, optimize
from deep_arena.envs.molecule.pmo import TASK_NAMES
from deep_arena.envs.molecule.pmo_oracle import PATIENCE_MIN_CALLS, CallLog, top_k_curve
from deep_arena.runtime.argtypes import int_in_range, positive_int
from deep_arena.runtime.cli import seed_arg
from deep_arena.runtime.config import parse_override

__all__ = ["main", "write_outputs", "parser"]


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="arena-optimize", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--task", help=f"a PMO task: {', '.join(TASK_NAMES)}")
    what.add_argument("--score-fn", metavar="MODULE:FUNCTION", help="your own score(smiles) -> float")
    p.add_argument("--method", default="reinvent", help=f"{' | '.join(METHODS)} (default reinvent)")
    p.add_argument("--budget", type=positive_int, default=10_000, help="oracle calls (default 10000, PMO's)")
    p.add_argument("--seed", type=seed_arg, default=0)
    p.add_argument("--out", type=Path, required=True, help="output folder (must not exist)")
    p.add_argument("--prior", default="pretrained", help="reinvent, augmem: the chemical language model ('pretrained': "
                                                         "gan/pretrained/lm-moses.pt, or a model.pt path)")
    p.add_argument("--minutes", type=float, default=None, help="a wall-clock limit besides the budget (the run "
                                                               "stops early; its AUC is extended as PMO does)")
    p.add_argument("--patience", type=positive_int, default=None,
                   help="end the run once this many requests in a row have not changed the top 100 (PMO's early "
                        "stop; suits moldqn and ppo, which otherwise revisit known molecules for ever)")
    p.add_argument("--patience-min-calls", type=int_in_range(0, 10**9), default=PATIENCE_MIN_CALLS,
                   help=f"oracle calls before --patience can end a run (default {PATIENCE_MIN_CALLS}, PMO's)")
    p.add_argument("--threads", type=positive_int, default=1, help="torch CPU threads (default 1)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="a method setting, e.g. --set sigma=120 --set diversity_filter.enabled=false")
    p.add_argument("--no-tensorboard", action="store_true", help="write no TensorBoard events")
    return p


def _nested(overrides: Sequence[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for text in overrides:
        path, value = parse_override(text)
        node = out
        for key in path[:-1]:
            node = node.setdefault(key, {})
        node[path[-1]] = value
    return out


def _user_score_fn(spec: str) -> Callable[[str], float]:
    module, _, name = spec.partition(":")
    if not module or not name:
        raise ValueError(f"--score-fn takes MODULE:FUNCTION, got {spec!r}")
    try:
        fn = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as exc:
        raise ValueError(f"cannot load --score-fn {spec!r}: {exc}") from None
    if not callable(fn):
        raise ValueError(f"--score-fn {spec!r} is not callable")
    return fn


def write_outputs(out: Path, log: CallLog, title: str, summary: dict[str, Any]) -> None:
    """oracle_calls.csv, summary.json, best_molecules.png, top10_vs_calls.png."""
    import matplotlib  # lazy: slow, and selecting the Agg backend at import would change the caller's

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # lazy: see above
    from PIL import Image  # lazy: only for the picture

    from deep_arena.envs.molecule.render import molecule_grid  # lazy: RDKit drawing only for the picture

    log.write_csv(out / "oracle_calls.csv")
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    best = log.best(12)
    if best:
        grid = molecule_grid([s for _, s in best], legends=[f"{v:.3f}" for v, _ in best])
        Image.fromarray(grid).save(out / "best_molecules.png")
    fig, ax = plt.subplots(figsize=(6, 4))
    for k, style in ((1, ":"), (10, "-"), (100, "--")):
        calls, values = top_k_curve(log.scores, k)
        ax.plot(calls, values, style, label=f"top-{k} mean")
    ax.set_xlim(0, log.budget)
    ax.set_xlabel("oracle calls")
    ax.set_ylabel("score")
    ax.set_title(f"{title}: AUC top-10 {summary['auc_top10']:.3f}")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / "top10_vs_calls.png", dpi=100)
    plt.close(fig)


def main(argv: Sequence[str] | None = None) -> int:
    p = parser()
    args = p.parse_args(argv)
    if args.method not in METHODS:
        p.error(f"unknown method {args.method!r}; known: {', '.join(METHODS)}")
    if args.task is not None and args.task not in TASK_NAMES:
        p.error(f"unknown task {args.task!r}; known: {', '.join(TASK_NAMES)}")
    if args.out.exists():
        p.error(f"{args.out} exists; give a new --out folder (results are never overwritten)")
    try:
        settings = _nested(args.overrides)
        score_fn = args.task if args.task is not None else _user_score_fn(args.score_fn)
    except ValueError as exc:
        p.error(str(exc))
    args.out.mkdir(parents=True)
    writer = None
    if not args.no_tensorboard:
        from deep_arena.runtime import make_writer  # lazy: TensorBoard only when it is written

        writer = make_writer(args.out, flush_secs=10)   # the top-10 curve shows within seconds
    name = args.task or args.score_fn
    print(f"{args.method} on {name}: budget {args.budget} oracle calls, seed {args.seed} -> {args.out}", flush=True)
    started = time.perf_counter()
    try:
        log = optimize(score_fn, args.budget, args.method, args.seed, settings=settings, prior=args.prior,
                       writer=writer, threads=args.threads, progress=lambda line: print(line, flush=True),
                       minutes=args.minutes, patience=args.patience, patience_min_calls=args.patience_min_calls)
    except (ValueError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        if writer is not None:
            writer.flush()
    seconds = time.perf_counter() - started
    summary: dict[str, Any] = {"task": name, "method": args.method, "seed": args.seed, **log.summary(),
                               "seconds": round(seconds, 1), "cpu_seconds": round(log.cpu_seconds, 1),
                               "settings": settings,
                               "prior": str(args.prior) if args.method in USES_PRIOR else None,
                               "machine": f"{platform.machine()} {platform.processor() or ''}".strip(),
                               "command": " ".join(sys.argv)}
    if writer is not None:
        writer.add_scalar("pmo/auc_top10", summary["auc_top10"], log.budget)
        writer.close()
    write_outputs(args.out, log, f"{args.method} on {name}", summary)
    for key in ("calls", "stop_reason", "auc_top1", "auc_top10", "auc_top100", "top1", "top10_mean", "diversity_top100",
                "sa_top100", "seconds", "cpu_seconds"):
        value = summary[key]
        print(f"{key:>17}: {value:.4f}" if isinstance(value, float) else f"{key:>17}: {value}")
    for rank, (score, smiles) in enumerate(log.best(3), 1):
        print(f"top-{rank}: {score:.4f}  {smiles}")
    print(f"call log: {args.out / 'oracle_calls.csv'}   summary: {args.out / 'summary.json'}")
    return 0
