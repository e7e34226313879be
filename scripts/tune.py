#!/usr/bin/env python
"""Hyperparameter search with Optuna: ``arena-tune ENV --algo ALGO --trials N [options]``.

rl-zoo's ``-optimize`` conventions: a TPE sampler (``--startup-trials`` random trials first) and a median pruner on
the intermediate evaluations (a trial stops early when its evaluation is below the median of earlier trials' at the
same step; none before ``--startup-trials`` trials have finished nor before a third of ``--steps``).

    arena-tune arm --task reach --algo tqc --trials 50 --steps 20000
    arena-tune arm --algo sac --trials 100 --workers 4                           # four processes, one study
    arena-tune arm --algo tqc --trials 200 --storage postgresql://user:pw@host/db --study reach-tqc   # per machine

The study lives in ``--storage`` (an Optuna storage URL; default ``sqlite:///<run-root>/tune/<study>.db``), so
any number of processes or machines share it: ``--workers K`` starts K worker processes against it, or start the
command several times yourself (give each a different ``--worker-index``, which seeds its sampler; across machines
use a PostgreSQL or MySQL URL). ``--trials N`` counts the study's trials in all (those of every worker, and those of
earlier commands: running it again with the same study continues it up to N). Each trial trains into a fresh
``<run-root>/tune/<study>/trial-<n>/``. At the end the best trial's value and parameters are printed and written to
``<run-root>/tune/<study>/best.yml``, a config file that ``arena-train ENV --config best.yml`` reads (the command is
printed). ``--set key=value`` fixes a value for every trial and leaves it out of the search (e.g. tiny networks for
a quick look); ``--steps`` is each trial's training budget.
"""

from __future__ import annotations

import argparse
import os
import shlex
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import yaml

from deep_arena.agents.registry import find_task, get_task, task_names
from deep_arena.runtime import RunDir, add_common_args, build_config
from deep_arena.runtime.argtypes import positive_int
from deep_arena.runtime.config import parse_override
from deep_arena.runtime.interrupts import INTERRUPTED_EXIT
from deep_arena.runtime.rundir import _safe_component
from deep_arena.runtime.tuning import SearchSpace, TrialReporter, nest, require_optuna
from deep_arena.runtime.config import deep_merge

PROG = "arena-tune"


def build_parser(family: str, spec) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=f"{PROG} {family}", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--algo", choices=spec.algorithms, required=True)
    spec.add_arguments(parser)
    parser.add_argument("--trials", type=positive_int, required=True,
                        help="trials in the study in all (every worker's, earlier commands' included)")
    parser.add_argument("--storage", default=None, metavar="URL",
                        help="Optuna storage URL shared by the workers (default sqlite:///RUN_ROOT/tune/STUDY.db; "
                             "postgresql://... or mysql://... across machines)")
    parser.add_argument("--study", default=None, metavar="NAME", help="study name (default ENV-TASK-ALGO)")
    parser.add_argument("--steps", type=positive_int, default=None,
                        help="each trial's budget: env steps (molecule: episodes); default: the config's")
    parser.add_argument("--evaluations", type=positive_int, default=None, metavar="N",
                        help="intermediate evaluations per trial (sets the evaluation interval to steps/N; default: "
                             "the config's interval)")
    parser.add_argument("--metric", choices=spec.metrics, default=spec.metrics[0],
                        help=f"the objective, from the final evaluation (default {spec.metrics[0]})")
    parser.add_argument("--startup-trials", type=int, default=10, metavar="N",
                        help="random trials before TPE, and trials before the pruner prunes (default 10)")
    parser.add_argument("--pruner", choices=("median", "none"), default="median", help="default median")
    parser.add_argument("--workers", type=positive_int, default=1, metavar="K",
                        help="start K worker processes against the storage (default 1: this process)")
    parser.add_argument("--worker-index", type=int, default=0, metavar="I",
                        help="this worker's number: its sampler's seed is --seed + I (default 0)")
    parser.add_argument("--as-worker", action="store_true", help=argparse.SUPPRESS)  # started by --workers
    add_common_args(parser)
    return parser


def _usage() -> str:
    lines = [f"usage: {PROG} ENV --algo ALGO --trials N [options]   ({PROG} ENV --help for ENV's options)", "",
             "environments with a search space:"]
    for name in task_names():
        task = get_task(name)
        if task.tune is not None:
            lines.append(f"  {name:<10} {', '.join(task.tune().algorithms)}")
    return "\n".join(lines)


def _storage(url: str):
    """The storage object for ``url``: SQLite waits for its lock (several processes write one file)."""
    optuna = require_optuna()
    if url.startswith("sqlite:///"):
        path = Path(url[len("sqlite:///"):])
        path.parent.mkdir(parents=True, exist_ok=True)
        return optuna.storages.RDBStorage(url, engine_kwargs={"connect_args": {"timeout": 120}})
    return url


def _open_study(args, storage, name: str, direction: str):
    optuna = require_optuna()
    sampler = optuna.samplers.TPESampler(n_startup_trials=args.startup_trials, seed=args.seed + args.worker_index,
                                         multivariate=True)
    if args.pruner == "median":
        pruner = optuna.pruners.MedianPruner(n_startup_trials=args.startup_trials,
                                             n_warmup_steps=args.warmup_steps)
    else:
        pruner = optuna.pruners.NopPruner()
    for attempt in range(5):  # two workers creating the same study at once: one wins, the other loads it
        try:
            return optuna.create_study(storage=storage, study_name=name, direction=direction, sampler=sampler,
                                       pruner=pruner, load_if_exists=True)
        except optuna.exceptions.DuplicatedStudyError:
            time.sleep(0.5 + attempt)
    return optuna.load_study(storage=storage, study_name=name, sampler=sampler, pruner=pruner)


def _counted(study) -> int:
    from optuna.trial import TrialState  # lazy: optuna is an optional extra (pip install -e ".[scale]")

    return len(study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL,
                                                        TrialState.RUNNING)))


def _trial_dir(root: Path, number: int) -> RunDir:
    """``<root>/trial-<n>``, fresh (``-1``, ``-2``... if a deleted study's trial left one behind)."""
    root.mkdir(parents=True, exist_ok=True)
    for k in range(1000):
        path = root / (f"trial-{number}" if k == 0 else f"trial-{number}-{k}")
        try:
            path.mkdir()
        except FileExistsError:
            continue
        run_dir = RunDir(path)
        run_dir.checkpoints_dir.mkdir(exist_ok=True)
        return run_dir
    raise RuntimeError(f"no free trial folder for trial {number} in {root}")


def work(args, spec, config: dict, fixed: list[str], storage, study_name: str, study_dir: Path, argv) -> None:
    """Run trials of the shared study until it has ``args.trials``."""
    optuna = require_optuna()
    study = _open_study(args, storage, study_name, spec.direction)
    missing = args.trials - _counted(study)
    if missing <= 0:
        print(f"worker {args.worker_index}: study {study_name!r} already has {args.trials} trials", flush=True)
        return
    worker = f"{socket.gethostname()}:{os.getpid()}"

    def objective(trial) -> float:
        space = SearchSpace(trial, fixed)
        spec.search_space(space, args.algo)
        trial.set_user_attr("config", space.values)
        trial.set_user_attr("worker", worker)
        trial.set_user_attr("worker_index", args.worker_index)

        trial_config = deep_merge(config, nest(space.values))
        spec.validate(trial_config)  # ValueError: the trial fails (caught), the study goes on
        run_dir = _trial_dir(study_dir, trial.number)
        trial.set_user_attr("run_dir", str(run_dir.path))
        run_dir.write_config(trial_config)
        run_dir.write_command([PROG, *argv])
        reporter = TrialReporter(trial, lambda evaluation: spec.evaluation_value(evaluation, args.metric))
        started = time.time()
        result = spec.train(trial_config, run_dir, reporter)
        if result.stopped_by == "interrupt":
            raise KeyboardInterrupt
        seconds = time.time() - started
        if reporter.pruned:
            step, value = reporter.reports[-1]
            print(f"trial {trial.number} (worker {args.worker_index}): pruned at step {step} ({args.metric} "
                  f"{value:.4g}) after {seconds:.0f} s  {run_dir.path}", flush=True)
            raise optuna.TrialPruned(f"{args.metric} {value:.4g} at step {step}")
        value = float(result.metrics[args.metric])
        trial.set_user_attr("metrics", {k: float(v) for k, v in result.metrics.items()})
        print(f"trial {trial.number} (worker {args.worker_index}): {args.metric} {value:.4g} in {seconds:.0f} s  "
              f"{run_dir.path}", flush=True)
        return value

    from optuna.study import MaxTrialsCallback  # lazy: optuna is an optional extra (pip install -e ".[scale]")
    from optuna.trial import TrialState  # lazy: optuna is an optional extra (pip install -e ".[scale]")

    # RUNNING counted too: a worker does not start a trial that the others' running ones already make up
    enough = MaxTrialsCallback(args.trials, states=(TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL,
                                                   TrialState.RUNNING))
    study.optimize(objective, n_trials=missing, callbacks=[enough], catch=(ValueError,), gc_after_trial=True)


def report(args, spec, storage, study_name: str, study_dir: Path) -> int:
    """Print the best trial and write ``best.yml``; 1 if no trial completed."""
    optuna = require_optuna()
    from optuna.trial import TrialState  # lazy: optuna is an optional extra (pip install -e ".[scale]")

    study = optuna.load_study(storage=storage, study_name=study_name)
    trials = study.get_trials(deepcopy=False)
    counts = {state.name.lower(): sum(t.state == state for t in trials)
              for state in (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL)}
    workers = sorted({t.user_attrs.get("worker", "?") for t in trials})
    print(f"study {study_name!r}: {len(trials)} trials ({', '.join(f'{n} {k}' for k, n in counts.items())}) "
          f"by {len(workers)} worker process(es)")
    if not counts["complete"]:
        print("no trial completed: no best.yml", file=sys.stderr)
        return 1
    best = study.best_trial
    values = best.user_attrs.get("config", best.params)
    print(f"best: trial {best.number}, {args.metric} {best.value:.4g}  ({best.user_attrs.get('run_dir', '')})")
    for key, value in values.items():
        print(f"  {key} = {value}")
    path = study_dir / "best.yml"
    header = (f"# arena-tune: best of study {study_name!r} (trial {best.number}, {args.metric} {best.value:.6g}, "
              f"{len(trials)} trials)\n# the searched values only; use with: "
              f"{shlex.join(spec.train_command(args, path))}\n")
    if args.overrides:
        header += f"# fixed during the search with --set: {' '.join(args.overrides)}\n"
    study_dir.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(header + yaml.safe_dump(nest(values), sort_keys=False, default_flow_style=None), encoding="utf-8")
    os.replace(tmp, path)
    print(f"hyperparameters: {path}")
    print(f"train with them: {shlex.join(spec.train_command(args, path))}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(_usage(), file=sys.stdout if argv else sys.stderr)
        return 0 if argv else 2
    task = find_task(argv[0], PROG)
    if task is None:
        return 2
    if task.tune is None:
        print(f"{PROG}: error: environment family {task.name!r} has no search space", file=sys.stderr)
        return 2
    os.environ.setdefault("MUJOCO_GL", "egl")  # headless evaluation frames, before mujoco is imported
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
    spec = task.tune()
    parser = build_parser(task.name, spec)
    args = parser.parse_args(argv[1:])
    try:
        require_optuna()
        config = build_config(args, spec.base_config(args), cli_keys={spec.steps_key: "steps"},
                              schema=spec.schema)
        if args.evaluations:
            config[spec.eval_key] = max(1, config[spec.steps_key] // args.evaluations)
        spec.validate(config)
    except (ValueError, ImportError) as err:
        parser.error(str(err))
    args.warmup_steps = config[spec.steps_key] // 3
    fixed = [".".join(parse_override(text)[0]) for text in args.overrides]
    study_name = args.study or spec.study_name(args)
    study_dir = Path(args.run_root) / "tune" / _safe_component(study_name, "study name")
    url = args.storage or f"sqlite:///{study_dir}.db"
    storage = _storage(url)
    import optuna  # lazy: optuna is an optional extra (pip install -e ".[scale]")

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    if not args.as_worker:
        _open_study(args, storage, study_name, spec.direction)  # made once, before any worker races to make it
        print(f"study {study_name!r} in {url}: {args.trials} trials of {config[spec.steps_key]} steps, "
              f"{args.workers} worker(s); trials in {study_dir}", flush=True)
    try:
        if args.workers > 1 and not args.as_worker:
            rest = argv[1:] + ["--as-worker", "--storage", url]
            procs = [subprocess.Popen([sys.executable, "-m", "deep_arena.scripts.tune", task.name, *rest,
                                       "--worker-index", str(args.worker_index + i)])
                     for i in range(args.workers)]
            try:
                codes = [p.wait() for p in procs]
            except KeyboardInterrupt:  # the workers got the Ctrl-C too: they stop their trials; wait for them
                for p in procs:
                    p.wait()
                raise
            if any(codes):
                print(f"{PROG}: worker exit statuses {codes}", file=sys.stderr)
        else:
            work(args, spec, config, fixed, storage, study_name, study_dir, argv)
    except KeyboardInterrupt:
        print("\ninterrupted: the study keeps its finished trials; run the same command to continue it",
              file=sys.stderr)
        return INTERRUPTED_EXIT
    if args.as_worker:
        return 0
    return report(args, spec, storage, study_name, study_dir)


if __name__ == "__main__":
    sys.exit(main())
