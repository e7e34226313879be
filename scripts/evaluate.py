#!/usr/bin/env python
"""Evaluate a trained agent against fixed opponents and report win rates with confidence intervals.

Examples (from the repository root)::

    .venv/bin/python scripts/evaluate.py go --model runs/go/maskable_ppo-.../final_model.zip --board-size 7 \\
        --opponent random --opponent gnugo:1 --games 100
    .venv/bin/python scripts/evaluate.py go --model pretrained --board-size 9 --opponent gnugo:5 --sims 200
    .venv/bin/python scripts/evaluate.py go --model random --opponent random --board-size 5 --games 20

Go players (--model and --opponent): random, gnugo:LEVEL (0..10), pretrained, a MaskablePPO model (.zip) or an
AlphaZero checkpoint (.pt). The model plays Black in even games and White in odd ones; game i uses seed SEED + i.
For each opponent it prints W/D/L, the score rate (draws count half), its 95% Wilson interval and the Elo
difference with the interval's Elo ends. Into --out (default: a fresh runs/go/eval-<timestamp>/; an existing
non-empty folder is refused) go results.json, win_rates.png and every game as SGF under sgf/<opponent>/.

Robot arm: seeded episodes (episode i resets with seed SEED + i) of a policy trained by scripts/train_arm.py, with
the deterministic action; prints the success rate (success at the last step) with its 95% Wilson interval, the mean
return and the mean final distance, and writes results.json and final_distances.png into --out (default: a fresh
runs/arm/eval-<timestamp>/)::

    .venv/bin/python scripts/evaluate.py arm --task reach --model pretrained --episodes 100
    .venv/bin/python scripts/evaluate.py arm --task push --model runs/arm/tqc-.../final_model.zip --episodes 100

Molecule design: seeded episodes of a MolDQN (model.pt) or MaskablePPO (.zip) agent from one start molecule or a
file of them; prints validity, uniqueness and the top molecules, and with --delta MolDQN's constrained-optimisation
figures (best pLogP improvement at similarity >= delta, success rate); writes results.json, top_molecules.csv/.png
and improvements.png::

    .venv/bin/python scripts/evaluate.py molecule --model pretrained --episodes 20
    .venv/bin/python scripts/evaluate.py molecule --model runs/molecule/moldqn-.../model.pt \\
        --start-file benchmarks/data/moses_low_plogp_100.smi --delta 0.4 --episodes 5

Molecular GAN: samples a generator (generator.pt, run directory or pretrained) and prints validity, unique@1k/@10k,
novelty, internal diversity, FCD (fcd_torch) and the PAINS pass rate; writes results.json, properties.png and
samples.png::

    .venv/bin/python scripts/evaluate.py gan --model pretrained --n 10000 [--samples designs.smi]

A chemical language model or LatentGAN (a run directory, its model.pt, or lm-moses / latentgan-moses) gets MOSES's
metrics by default (gan.moses_metrics: valid, unique@1k/@10k, FCD/SNN/Frag/Scaf against Test and TestSF, IntDiv1/2,
Filters, Novelty against MOSES train; --metrics moses for a MolGAN too); writes results.json, moses_metrics.csv,
moses_metrics.md and samples.png::

    .venv/bin/python scripts/evaluate.py gan --model lm-moses --n 30000
    .venv/bin/python scripts/evaluate.py gan --model runs/gan/latentgan-... --n 30000 --scaffold-split fcd

Tabular GAN: utility of synthetic rows (gan.tabular.evaluate) over 5 seeds: per seed a stratified 70/30 split, a fresh
GAN with the model file's settings trained on the 70 % (the model's own weights saw every row and are not scored), TSTR
against TRTR, and minority-class F1 / PR-AUC of a random forest on real + synthetic minority rows against real +
SMOTE (imblearn Pipeline: resampling inside training only); the `ctgan` package is trained on the same splits as a
peer (--no-peer, or skipped with a note when it is not installed). Writes results.json and utility.png::

    .venv/bin/python scripts/evaluate.py tabular --model runs/gan/tabular-.../model.pt --data FILE.csv --target COL
    .venv/bin/python scripts/evaluate.py tabular --model runs/gan/tabular-.../model.pt --data demo --no-peer

Each environment family of the task registry (`go`, `arm`, `molecule`, and any registered since) is a subcommand
whose options are its own (`arena-evaluate arm --help`); the GAN evaluations are `gan` and `tabular`.
"""


from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

import torch

from deep_arena.agents.registry import get_task, run_command, task_names
from deep_arena.gan.data import DataError
from deep_arena.runtime import CheckpointError, merge_config, resolve_device
from deep_arena.runtime.argtypes import device, positive_float, positive_int
from deep_arena.runtime.cli import add_output_args, evaluation_dir, seed_arg

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
os.environ.setdefault("SDL_VIDEODRIVER", "dummy")

GAN_COMMANDS = ("gan", "tabular")


def build_gan_parser() -> argparse.ArgumentParser:
    """The GAN evaluations (not environment families, so not in the task registry)."""
    parser = argparse.ArgumentParser(prog="arena-evaluate", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="env", required=True, metavar="ENV")
    add_gan_parser(sub)
    add_tabular_parser(sub)
    return parser


# ---------------------------------------------------------------------------------------------------------------
# gan


def add_gan_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    g = sub.add_parser("gan", help="sample a molecular GAN: validity, unique@1k/@10k, novelty, IntDiv, FCD, filters",
                       description="Sample a MolGAN generator (generator.pt, a run directory or pretrained) and "
                                   "report MOSES-style metrics; writes results.json, properties.png, samples.png.")
    g.add_argument("--model", required=True, metavar="PATH|RUN_DIR|pretrained")
    g.add_argument("--n", type=positive_int, default=10000, help="samples (default 10000)")
    g.add_argument("--train-data", default="qm9", help="novelty against: qm9 | moses | FILE (default qm9)")
    g.add_argument("--reference", default=None,
                   help="FCD reference set (default: a seeded random subset of --train-data; moses-test for MOSES)")
    g.add_argument("--fcd-n", type=positive_int, default=10000, help="reference molecules for FCD (default 10000)")
    g.add_argument("--no-fcd", action="store_true", help="skip FCD (ChemNet on CPU takes minutes)")
    g.add_argument("--decode", choices=["sample", "argmax", "valence"], default=None,
                   help="graph decoding (default: the model's; see gan.molgan.MolGAN.sample_graphs)")
    g.add_argument("--temperature", type=positive_float, default=None,
                   help="divide the generator's logits by this before decoding (default: the model's, 1.0 unless set)")
    g.add_argument("--metrics", choices=["basic", "moses"], default=None,
                   help="basic (gan.metrics) or moses (gan.moses_metrics); default: moses for a language model or "
                        "LatentGAN, basic for a MolGAN")
    g.add_argument("--scaffold-split", choices=["all", "fcd", "none"], default="all",
                   help="MOSES metrics against the scaffold test set: all (FCD, SNN, Frag, Scaf), fcd only, none")
    g.add_argument("--seed", type=seed_arg, default=0)
    g.add_argument("--device", type=device, default="cpu")
    g.add_argument("--out", default=None, help="output folder (default: a fresh runs/gan/eval-<timestamp>/); a name "
                                                "ending in .smi/.txt is taken as --samples instead")
    g.add_argument("--samples", type=Path, default=None, metavar="FILE.smi", help="also write the samples here")
    g.add_argument("--run-root", default="runs")
    g.set_defaults(func=run_gan)
    return g


def run_gan(args: argparse.Namespace) -> int:
    from deep_arena.gan.evaluate import (  # lazy: torch + RDKit (keeps --help fast)
        evaluate_generator, evaluate_moses, generator_kind, load_generator)

    if args.out is not None and args.out.endswith((".smi", ".txt")):   # `--out designs.smi`: the samples file
        args.samples, args.out = Path(args.out), None
    try:
        gan = load_generator(args.model, device=str(resolve_device(args.device)))
        if args.decode:
            gan.config["decode"] = args.decode
        if args.temperature is not None:
            gan.config["temperature"] = args.temperature
        out = evaluation_dir(args, "gan")
    except (ValueError, CheckpointError, OSError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    kind = generator_kind(gan)
    if (args.metrics or ("basic" if kind == "molgan" else "moses")) == "moses":
        return _run_moses(args, gan, kind, out, evaluate_moses)
    try:
        result = evaluate_generator(gan, args.n, out, train_data=args.train_data, reference=args.reference,
                                    fcd_n=args.fcd_n, with_fcd=not args.no_fcd, seed=args.seed,
                                    samples_path=args.samples)
    except DataError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2

    def fmt(v):
        return "n/a" if v is None else f"{v:.3f}"

    print(f"validity {fmt(result['validity'])}  unique@1k {fmt(result['unique@1k'])}  unique@10k "
          f"{fmt(result['unique@10k'])}  novelty {fmt(result['novelty'])}  IntDiv {fmt(result['intdiv'])}  "
          f"FCD {fmt(result['fcd'])}  PAINS-pass {fmt(result['pains_pass'])}")
    print(f"means: QED {fmt(result['qed_mean'])}  logP {fmt(result['logp_mean'])}  SA {fmt(result['sa_mean'])}  "
          f"({result['n_valid']} valid, {result['n_unique']} unique of {result['n']})")
    result.update({"model": args.model, "seed": args.seed, "command": sys.argv})
    (out / "results.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"results: {out / 'results.json'}   plots: {out / 'properties.png'}, {out / 'samples.png'}")
    return 0


def _run_moses(args: argparse.Namespace, gan, kind: str, out: Path, evaluate_moses) -> int:
    label = f"{kind} ({Path(args.model).name if args.model not in ('pretrained',) else 'molgan-qm9'}, n={args.n})"
    try:
        result = evaluate_moses(gan, args.n, out, seed=args.seed, with_fcd=not args.no_fcd,
                                scaffold_split=args.scaffold_split, device=str(resolve_device(args.device)),
                                label=label, samples_path=args.samples)
    except DataError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print((out / "moses_metrics.md").read_text(encoding="utf-8"), end="")
    print(f"({result['n_valid']} valid of {result['n']}; metrics took {result['metric_seconds']:.0f} s, "
          f"{result['metric_cpu_seconds']:.0f} s of CPU)")
    result.update({"model": args.model, "seed": args.seed, "command": sys.argv})
    (out / "results.json").write_text(json.dumps(result, indent=2, default=float) + "\n", encoding="utf-8")
    grid = f"   molecules: {out / 'samples.png'}" if (out / "samples.png").is_file() else "   (no valid molecule to draw)"
    print(f"results: {out / 'results.json'}   table: {out / 'moses_metrics.csv'}, {out / 'moses_metrics.md'}" + grid)
    return 0


# ---------------------------------------------------------------------------------------------------------------
# tabular


def add_tabular_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    t = sub.add_parser("tabular", help="tabular GAN utility: TSTR vs TRTR, minority F1 / PR-AUC vs SMOTE, ctgan peer",
                       description="Evaluate the conditional tabular GAN's settings on a CSV over several seeds "
                                   "(see gan/tabular/evaluate.py for the protocol).")
    t.add_argument("--model", required=True, metavar="PATH|RUN_DIR", help="model.pt from train_gan.py tabular")
    t.add_argument("--data", required=True, help="FILE.csv, or demo (the imbalanced breast-cancer table)")
    t.add_argument("--target", default=None, help="the class column (default: the model's)")
    t.add_argument("--seeds", type=positive_int, default=5, help="seeds 0..N-1, one split each (default 5)")
    t.add_argument("--epochs", type=positive_int, default=None, help="our epochs (default: the model's config)")
    t.add_argument("--peer-epochs", type=positive_int, default=None, help="ctgan epochs (default: ours)")
    t.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a setting of the model's config for the retraining, e.g. --set batch_size=128")
    t.add_argument("--no-peer", action="store_true", help="skip the ctgan peer")
    t.add_argument("--threads", type=positive_int, default=1, help="torch CPU threads, both GANs (default 1)")
    t.add_argument("--device", type=device, default="cpu")
    add_output_args(t, "gan")
    t.set_defaults(func=run_tabular)
    return t


def run_tabular(args: argparse.Namespace) -> int:
    from deep_arena.gan.tabular import (  # lazy: scikit-learn and imbalanced-learn (keeps --help fast)
        TabularGAN, evaluate_utility, format_table, load_table, peer_available, utility_chart, validate_config,
        write_results)

    try:
        model = TabularGAN.load(args.model)
        config = merge_config(model.config, None, {"epochs": args.epochs} if args.epochs else {}, args.overrides)
        config["data"], config["target"] = args.data, args.target or model.transformer.target
        validate_config(config)
        with tempfile.TemporaryDirectory() as tmp:
            table = load_table(config, tmp)
        if set(table.columns) != set(model.transformer.columns):
            raise ValueError(f"{args.data}: columns differ from the model's ({', '.join(model.transformer.columns)})")
        dev = str(resolve_device(args.device))
        out = evaluation_dir(args, "gan")
    except (ValueError, OSError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    peer = not args.no_peer
    if peer:
        peer, note = peer_available()
        if not peer:
            print(f"note: {note}")
    torch.set_num_threads(args.threads)
    print(f"evaluating tabular GAN settings of {args.model} on {args.data} ({table.n_rows} rows, "
          f"{table.class_counts()}), {args.seeds} seeds, epochs {config['epochs']}"
          f"{', ctgan peer' if peer else ''} -> {out}", flush=True)
    result = evaluate_utility(table, config, seeds=range(args.seeds), peer=peer, peer_epochs=args.peer_epochs,
                              device=dev, progress_bar=not args.no_progress)
    result.update({"model": args.model, "data": args.data, "target": table.target, "threads": args.threads,
                   "config": config, "command": sys.argv})
    print(format_table(result))
    path = write_results(result, out)
    chart = utility_chart(result, out / "utility.png")
    print(f"results: {path}   chart: {chart}")
    return 0



def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in GAN_COMMANDS:
        args = build_gan_parser().parse_args(argv)
        return args.func(args)
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__.strip() + "\n")
        for name in task_names():
            print(f"  {name:<10} {get_task(name).summary}")
        for name in GAN_COMMANDS:
            print(f"  {name:<10} the {'molecular' if name == 'gan' else 'tabular'} GAN")
        return 0 if argv else 2
    return run_command("evaluate", argv, "arena-evaluate")


if __name__ == "__main__":
    sys.exit(main())
