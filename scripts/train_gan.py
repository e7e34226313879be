#!/usr/bin/env python
"""Train a GAN and log to runs/gan/<kind>-<time>/ (watch with `tensorboard --logdir runs`).

    python scripts/train_gan.py molecules --dataset qm9 --epochs 2 [--device auto] [--seed 0]
    python scripts/train_gan.py molecules --dataset qm9 --minutes 10 --lambda-rl 0.5 --objective qed
    python scripts/train_gan.py molecules --dataset path/to/file.smi --epochs 50
    python scripts/train_gan.py molecules --resume runs/gan/molgan-20261125-120000 [--epochs 4 (more)]
    python scripts/train_gan.py tabular --data FILE.csv --target COLUMN --epochs 300 [--categorical COL]
    python scripts/train_gan.py tabular --data demo --epochs 100     # imbalanced breast-cancer demo table
    python scripts/train_gan.py tabular --resume runs/gan/tabular-20261125-120000 [--epochs 100 (more)]
    python scripts/train_gan.py lm --dataset moses --epochs 2 [--set model.hidden_size=512]
    python scripts/train_gan.py lm --resume runs/gan/lm-20261206-180000 [--epochs 1 (more)]
    python scripts/train_gan.py latentgan --dataset moses --ae-epochs 1 --gan-epochs 30
    python scripts/train_gan.py latentgan --resume runs/gan/latentgan-20261206-180000 [--gan-epochs 40 (in all)]
    torchrun --nproc_per_node 2 -m deep_arena.scripts.train gan lm --dataset moses --epochs 2 --device cpu

molecules: MolGAN-style graph WGAN-GP (gan.molgan / gan.trainer). --dataset is qm9 (pip package qm9pack), moses
(pip install --no-deps molsets==0.3.1), moses-test, or a SMILES file; only molecules with <= 9 heavy atoms of
C, N, O, F and no charges are used (--set model.max_atoms=N to change the size). The generator loss is
lambda_rl * L_WGAN + (1 - lambda_rl) * L_RL: --lambda-rl 1 (default) is a plain WGAN-GP, 0.5 weighs both equally.
--set rl_memory=N divides a generated molecule's RL reward by its count among the last N generated ones (ORGAN).
The run directory gets checkpoints/, generator.pt (small, weights_only; `scripts/evaluate.py gan --model` reads it),
best_generator.pt (the generator whose samples held the largest fraction of unique valid molecules; runs degrade),
TensorBoard scalars (gan/*, samples/*), an image grid of sampled molecules and QED/logP/SA histograms.

tabular: conditional WGAN-GP for a CSV (gan.tabular: mode-specific normalisation, one-hot categories, training-by-
sampling on the target class). The run directory runs/gan/tabular-<time>/ gets model.pt (read by
`scripts/evaluate.py tabular --model`), checkpoints/ (every checkpoint_every epochs, default 50, and at the end),
synthetic.csv (as many rows per class as the data), marginals.png (real vs synthetic per class) and TensorBoard
scalars. Bad CSVs stop with a message naming the column, value and line.

Settings (--set KEY=VALUE, --config FILE): gan/config.py (molecules) and gan/tabular/config.py (tabular) list every
key with its bounds; unknown keys are errors.

lm: a chemical language model (gan.lm: a GRU over SMILES tokens, CharRNN / REINVENT's prior), teacher-forced on
MOSES train by default (--dataset qm9, moses-test or a SMILES file). The run directory gets model.pt (read by
gan.lm.ChemicalLM.load; sample() and log_likelihood()), best_model.pt (lowest held-out likelihood loss), checkpoints/
and TensorBoard scalars: loss per token, tokens/s, sampled validity / uniqueness / novelty, held-out NLL, a molecule
grid.

latentgan: a SMILES heteroencoder (randomised SMILES in, canonical out) trained for --ae-epochs, then a WGAN-GP on
its latent vectors for --gan-epochs (gan.latentgan). model.pt (gan.latentgan.LatentGAN.load; sample()), checkpoints/,
TensorBoard: ae/* (loss, token accuracy, held-out reconstruction), gan/* (Wasserstein estimate, losses), samples/*
(validity, uniqueness, novelty, FCD to MOSES test, molecule grid). On --resume, --ae-epochs / --gan-epochs / --minutes
are the run's new totals; fewer --ae-epochs than done ends the heteroencoder phase there.

lm and latentgan also train under torchrun --nproc_per_node N (DistributedDataParallel: gloo on the CPU, NCCL on GPUs;
each rank takes its share of each epoch's batches; only rank 0 writes; see gan/distributed.py).

--resume RUN_DIR continues a run (any kind) from its newest checkpoint with its saved config: counters, optimizer
and RNG states, and TensorBoard steps continue (events the interrupted run logged after that checkpoint are hidden).
Only --epochs (and --minutes for molecules), --device and --set may be given with it, and for tabular the data file
must still hold the same table. With no budget flag the run finishes its saved plan; --epochs N (--minutes M) trains
that much more than the checkpoint has done (the saved time limit is dropped unless --minutes is given). --minutes
counts the run's training time across resumes. On the same device, a tabular run of 2 epochs resumed with --epochs 2
ends with the same weights as a straight 4-epoch run.

Ctrl-C (or SIGTERM) stops at the next safe point (a generator step for molecules, an epoch's end for tabular): a
checkpoint and the model are saved (no final samples), the command that continues the run is printed, and the exit
status is 130. Molecule runs keep their newest keep_checkpoints checkpoints (default 3).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from deep_arena.gan import distributed
from deep_arena.gan.data import DataError
from deep_arena.runtime import CheckpointError, RunDir, add_common_args, build_config, resolve_device
from deep_arena.runtime.argtypes import finite_float, minutes, positive_int
from deep_arena.runtime.checkpoint import folder_size_text
from deep_arena.runtime.cli import RESUME_RULE, resume_budget, resume_run, was_given
from deep_arena.runtime.interrupts import report_interrupted
from deep_arena.runtime.tb import log_result_hparams
from deep_arena.runtime.trainer import RunResult


def unit_float(text: str) -> float:
    value = finite_float(text)
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"must be in [0, 1], got {text!r}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="kind", required=True, metavar="KIND")
    mol = sub.add_parser("molecules", help="MolGAN-style molecular graph GAN",
                         description="Train a molecular graph WGAN-GP (optionally with an RL reward term).")
    mol.add_argument("--dataset", default=None, help="qm9 (default), moses, moses-test or a SMILES file")
    mol.add_argument("--limit", type=positive_int, default=None, help="use only the first N SMILES")
    mol.add_argument("--epochs", type=positive_int, default=None,
                     help=f"passes over the data (default 1); {RESUME_RULE}")
    mol.add_argument("--minutes", type=minutes, default=None,
                     help=f"wall-clock budget (the run's training time); {RESUME_RULE}")
    mol.add_argument("--batch-size", type=positive_int, default=None, help="default 32")
    mol.add_argument("--lambda-rl", type=unit_float, default=None,
                     help="weight of the WGAN term; the RL term gets 1 - lambda (default 1: no RL)")
    mol.add_argument("--objective", choices=["qed", "logp", "sa"], default=None, help="RL reward property")
    mol.add_argument("--resume", type=Path, default=None, help="continue a run directory")
    mol.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    add_common_args(mol)
    tab = sub.add_parser("tabular", help="conditional tabular GAN (CTGAN-style) for a CSV",
                         description="Train a conditional WGAN-GP on a CSV file (see gan/tabular/).")
    tab.add_argument("--data", default=None, help="FILE.csv, or demo (imbalanced breast-cancer table)")
    tab.add_argument("--target", default=None, help="the class column (default for demo: diagnosis)")
    tab.add_argument("--categorical", action="append", default=None, metavar="COLUMN",
                     help="treat this column as categorical (repeatable)")
    tab.add_argument("--epochs", type=positive_int, default=None,
                     help=f"passes of max(1, rows // batch) steps (default 300); {RESUME_RULE}")
    tab.add_argument("--batch-size", type=positive_int, default=None, help="default 128 (rows drawn with replacement)")
    tab.add_argument("--resume", type=Path, default=None, help="continue a run directory (--epochs: that many more)")
    tab.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    add_common_args(tab)
    lm = sub.add_parser("lm", help="chemical language model (SMILES GRU) on MOSES or a SMILES file",
                        description="Train a SMILES language model (gan/lm/).")
    lm.add_argument("--dataset", default=None, help="moses (default), moses-test, qm9 or a SMILES file")
    lm.add_argument("--limit", type=positive_int, default=None, help="use only the first N SMILES")
    lm.add_argument("--epochs", type=positive_int, default=None, help=f"passes over the data (default 1); {RESUME_RULE}")
    lm.add_argument("--minutes", type=minutes, default=None,
                    help=f"wall-clock budget (the run's training time); {RESUME_RULE}")
    lm.add_argument("--batch-size", type=positive_int, default=None, help="default 256")
    lm.add_argument("--resume", type=Path, default=None, help="continue a run directory")
    lm.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    add_common_args(lm)
    lg = sub.add_parser("latentgan", help="LatentGAN: SMILES heteroencoder + WGAN-GP on its latent vectors",
                        description="Train a LatentGAN (gan/latentgan/): the heteroencoder, then the WGAN-GP.")
    lg.add_argument("--dataset", default=None, help="moses (default), moses-test, qm9 or a SMILES file")
    lg.add_argument("--limit", type=positive_int, default=None, help="use only the first N SMILES")
    lg.add_argument("--ae-epochs", type=finite_float, default=None,
                    help="heteroencoder passes over the data (default 1)")
    lg.add_argument("--gan-epochs", type=finite_float, default=None,
                    help="WGAN-GP passes over the encoded molecules (default 10)")
    lg.add_argument("--minutes", type=minutes, default=None,
                    help=f"wall-clock budget (the run's training time); {RESUME_RULE}")
    lg.add_argument("--batch-size", type=positive_int, default=None, help="heteroencoder batch (default 128)")
    lg.add_argument("--resume", type=Path, default=None, help="continue a run directory")
    lg.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    add_common_args(lg)
    return parser


CLI_KEYS = {"dataset": "dataset", "limit": "limit", "epochs": "epochs", "minutes": "minutes",
            "batch_size": "batch_size", "lambda_rl": "lambda_rl", "objective": "objective"}


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.kind == "tabular":
        return _tabular(args, parser, argv)
    if args.kind == "lm":
        return _lm(args, parser, argv)
    if args.kind == "latentgan":
        return _latentgan(args, parser, argv)
    # each kind imports its own stack only when chosen (torch and RDKit here, torch and scikit-learn for tabular)
    from deep_arena.gan.trainer import DEFAULTS, MolGANTrainer, validate_config  # lazy: RDKit (keeps --help fast)

    if args.resume is not None:
        fixed = {"--dataset": args.dataset, "--limit": args.limit, "--batch-size": args.batch_size,
                 "--lambda-rl": args.lambda_rl, "--objective": args.objective, "--config": args.config}
        # the budget: resume_budget below (--epochs and --minutes mean "that much more")
        run_dir, ckpt, config = resume_run(args, parser, fixed, {}, "--epochs, --minutes", defaults=DEFAULTS)
        try:
            trainer = MolGANTrainer(config, run_dir, progress_bar=not args.no_progress)
            trainer.load(ckpt)
            line = resume_budget(trainer.config, run_dir, ckpt, key="epochs", flag="--epochs", unit="epoch",
                                 done=float(trainer.counters["epoch"]), given=args.epochs,
                                 seconds_done=float(trainer.counters["seconds"]), given_minutes=args.minutes)
            validate_config(trainer.config)
        except (ValueError, CheckpointError) as err:
            parser.error(str(err))
        config.update({key: trainer.config[key] for key in ("epochs", "minutes")})
        run_dir.write_config(config)
        run_dir.write_command(["scripts/train_gan.py"] + list(sys.argv[1:] if argv is None else argv))
        print(f"{line} (step {trainer.counters['step']})", flush=True)
        return _report(trainer.run())

    try:
        config = build_config(args, DEFAULTS, cli_keys=CLI_KEYS)
        validate_config(config)
        resolve_device(config["device"])
        trainer = MolGANTrainer(config, None, progress_bar=not args.no_progress)   # data errors before the run dir
    except (ValueError, DataError) as err:
        parser.error(str(err))
    run_dir = RunDir.create("gan", "molgan", root=args.run_root)
    run_dir.write_config(config)
    run_dir.write_command(["scripts/train_gan.py"] + list(sys.argv[1:] if argv is None else argv))
    trainer.run_dir = run_dir
    print(f"run directory: {run_dir.path}  ({len(trainer.smiles)} molecules, {trainer.steps_per_epoch} steps/epoch)")
    return _report(trainer.run())


def _tabular(args: argparse.Namespace, parser: argparse.ArgumentParser, argv: list[str] | None) -> int:
    # lazy, as in main(): the tabular stack (torch, scikit-learn) only for this kind
    from deep_arena.gan.tabular import DEFAULTS, load_table, validate_config  # lazy: scikit-learn
    from deep_arena.gan.tabular.run import TabularGANTrainer  # lazy: as gan.tabular above

    if args.resume is not None:
        return _tabular_resume(args, parser, argv)
    try:
        config = build_config(args, DEFAULTS, cli_keys={"data": "data", "target": "target", "epochs": "epochs",
                                                        "batch_size": "batch_size", "categorical": "categorical"})
        validate_config(config)
        resolve_device(config["device"])
        with tempfile.TemporaryDirectory() as tmp:
            table = load_table(config, tmp)    # data errors before the run dir exists
    except ValueError as err:
        parser.error(str(err))
    run_dir = RunDir.create("gan", "tabular", root=args.run_root)
    if config["data"] == "demo":
        load_table(config, run_dir.path)       # keep the demo CSV beside the model
        config["data"] = str(run_dir.path / "breast_cancer_imbalanced.csv")
        config["target"] = table.target
    run_dir.write_config(config)
    run_dir.write_command(["scripts/train_gan.py"] + list(sys.argv[1:] if argv is None else argv))
    kinds = [table.kinds[c] for c in table.feature_columns]
    print(f"run directory: {run_dir.path}  ({table.n_rows} rows, classes {table.class_counts()}, "
          f"{kinds.count('continuous')} continuous + {kinds.count('categorical')} categorical feature columns)")
    trainer = TabularGANTrainer(config, run_dir, progress_bar=not args.no_progress, table=table)
    return _tabular_report(trainer.run())


def _tabular_resume(args: argparse.Namespace, parser: argparse.ArgumentParser, argv: list[str] | None) -> int:
    from deep_arena.gan.tabular import DEFAULTS  # lazy: scikit-learn, as in _tabular()
    from deep_arena.gan.tabular.run import TabularGANTrainer  # lazy: as gan.tabular above

    fixed = {"--data": args.data, "--target": args.target, "--categorical": args.categorical,
             "--batch-size": args.batch_size, "--config": args.config,
             "--seed": args.seed if was_given(args, "seed") else None}
    # the budget: resume_budget below (--epochs means "that many more")
    run_dir, ckpt, config = resume_run(
        args, parser, fixed, {}, "--epochs", defaults=DEFAULTS,
        no_checkpoint=lambda _: "not a tabular GAN run directory (no checkpoints/checkpoint_<step>.pt in it)")
    try:
        done = TabularGANTrainer.epochs_done(ckpt, config["batch_size"])
        line = resume_budget(config, run_dir, ckpt, key="epochs", flag="--epochs", unit="epoch", done=done,
                             given=args.epochs)
        # the saved config names the CSV (a demo run's copy in the run dir); it must still hold the same table
        trainer = TabularGANTrainer(config, run_dir, progress_bar=not args.no_progress)
        trainer.load(ckpt)
    except (ValueError, CheckpointError) as err:
        parser.error(str(err))
    run_dir.write_config(config)
    run_dir.write_command(["scripts/train_gan.py"] + list(sys.argv[1:] if argv is None else argv))
    print(f"{line} (step {trainer.loop.wgan.step})", flush=True)
    return _tabular_report(trainer.run())


def _lm(args: argparse.Namespace, parser: argparse.ArgumentParser, argv: list[str] | None) -> int:
    from deep_arena.gan.lm.trainer import DEFAULTS, LMTrainer, validate_config  # lazy: torch and RDKit

    command = ["scripts/train_gan.py"] + list(sys.argv[1:] if argv is None else argv)
    group, _ = distributed.setup(args.device)   # under torchrun: join the process group (gan.distributed)
    try:
        return _lm_run(args, parser, command, group, DEFAULTS, LMTrainer, validate_config)
    finally:
        distributed.shutdown()


def _lm_run(args, parser, command, group, DEFAULTS, LMTrainer, validate_config) -> int:
    if args.resume is not None:
        fixed = {"--dataset": args.dataset, "--limit": args.limit, "--batch-size": args.batch_size,
                 "--config": args.config}
        run_dir, ckpt, config = resume_run(args, parser, fixed, {}, "--epochs, --minutes", defaults=DEFAULTS)
        try:
            trainer = LMTrainer(config, run_dir, progress_bar=not args.no_progress,
                                vocab_tokens=LMTrainer.saved_vocabulary(ckpt))
            trainer.load(ckpt)
            line = resume_budget(trainer.config, run_dir, ckpt, key="epochs", flag="--epochs", unit="epoch",
                                 done=float(trainer.counters["epoch"]), given=args.epochs,
                                 seconds_done=float(trainer.counters["seconds"]), given_minutes=args.minutes)
            validate_config(trainer.config)
        except (ValueError, CheckpointError, DataError) as err:
            parser.error(str(err))
        config.update({key: trainer.config[key] for key in ("epochs", "minutes")})
        if group.main:
            run_dir.write_config(config)
            run_dir.write_command(command)
            print(f"{line} (step {trainer.counters['step']})", flush=True)
        return _lm_report(trainer.run())
    try:
        config = build_config(args, DEFAULTS, cli_keys={k: k for k in ("dataset", "limit", "epochs", "minutes",
                                                                       "batch_size")})
        validate_config(config)
        resolve_device(config["device"])
        trainer = LMTrainer(config, None, progress_bar=not args.no_progress)   # data errors before the run dir
    except (ValueError, DataError) as err:
        parser.error(str(err))
    trainer.run_dir = _new_run_dir("lm", args, config, command, group)
    if group.main:
        print(f"run directory: {trainer.run_dir.path}  ({len(trainer.tokens)} SMILES, {len(trainer.model.vocab)} "
              f"tokens, {trainer.steps_per_epoch} steps/epoch" + (f", {group.world} processes" if group.enabled
                                                                 else "") + ")", flush=True)
    return _lm_report(trainer.run())


def _latentgan(args: argparse.Namespace, parser: argparse.ArgumentParser, argv: list[str] | None) -> int:
    from deep_arena.gan.latentgan.trainer import DEFAULTS, LatentGANTrainer  # lazy: torch and RDKit

    command = ["scripts/train_gan.py"] + list(sys.argv[1:] if argv is None else argv)
    group, _ = distributed.setup(args.device)   # under torchrun: join the process group (gan.distributed)
    try:
        if args.resume is not None:
            fixed = {"--dataset": args.dataset, "--limit": args.limit, "--batch-size": args.batch_size,
                     "--config": args.config}
            changes = {"ae_epochs": args.ae_epochs, "gan_epochs": args.gan_epochs, "minutes": args.minutes}
            # --ae-epochs / --gan-epochs / --minutes on resume: the new totals of the run (not "that much more")
            run_dir, ckpt, config = resume_run(args, parser, fixed, changes, "--ae-epochs, --gan-epochs, --minutes",
                                               defaults=DEFAULTS)
            try:
                trainer = LatentGANTrainer(config, run_dir, progress_bar=not args.no_progress,
                                           vocab_tokens=LatentGANTrainer.saved_vocabulary(ckpt))
                trainer.load(ckpt)
            except (ValueError, CheckpointError, DataError) as err:
                parser.error(str(err))
            if group.main:
                run_dir.write_config(config)
                run_dir.write_command(command)
                print(f"resuming {run_dir.path} at step {trainer.counters['step']} of "
                      f"{trainer.ae_total + trainer.gan_total} ({trainer.ae_total} heteroencoder, "
                      f"{trainer.gan_total} WGAN-GP)", flush=True)
            return _latentgan_report(trainer.run())
        try:
            config = build_config(args, DEFAULTS, cli_keys={"dataset": "dataset", "limit": "limit",
                                                            "ae_epochs": "ae_epochs", "gan_epochs": "gan_epochs",
                                                            "minutes": "minutes", "batch_size": "batch_size"})
            resolve_device(config["device"])
            trainer = LatentGANTrainer(config, None, progress_bar=not args.no_progress)  # data errors first
        except (ValueError, DataError) as err:
            parser.error(str(err))
        trainer.run_dir = _new_run_dir("latentgan", args, config, command, group)
        if group.main:
            print(f"run directory: {trainer.run_dir.path}  ({len(trainer.smiles)} SMILES, "
                  f"{len(trainer.model.vocab)} tokens; {trainer.ae_total} heteroencoder steps, then "
                  f"{trainer.gan_total} WGAN-GP steps on {len(trainer.gan_smiles)} encoded molecules"
                  + (f"; {group.world} processes" if group.enabled else "") + ")", flush=True)
        return _latentgan_report(trainer.run())
    finally:
        distributed.shutdown()


def _latentgan_report(result: RunResult) -> int:
    if not distributed.info().main:
        return 0
    if (line := _ddp_line(result)) is not None:
        print(line, flush=True)
    if result.stopped_by == "interrupt":
        return _interrupted(result, "latentgan")
    log_result_hparams(result)
    m, c = result.metrics, result.counters
    parts = [f"{k} {m[k]:.3f}" for k in ("reconstruction", "reconstruction_canonical", "validity", "uniqueness",
                                          "novelty") if k in m]
    print(f"steps {c['steps']} ({c['ae_steps']} heteroencoder of {c['ae_total']}, {c['gan_steps']} WGAN-GP of "
          f"{c['gan_total']}) in {m['seconds']:.0f} s; " + ", ".join(parts))
    print(f"model: {result.model_path}")
    print(f"run directory: {result.run_dir} ({folder_size_text(result.run_dir)})")
    return 0


def _new_run_dir(kind: str, args: argparse.Namespace, config: dict, command: list[str], group) -> RunDir:
    """Rank 0 creates runs/gan/<kind>-<time>/ and writes the config and command; under torchrun the other ranks
    open the same folder (they write nothing into it)."""
    path = None
    if group.main:
        run_dir = RunDir.create("gan", kind, root=args.run_root)
        run_dir.write_config(config)
        run_dir.write_command(command)
        path = str(run_dir.path)
    path = distributed.share(path)
    return run_dir if group.main else RunDir.open(path)


def _ddp_line(result: RunResult) -> str | None:
    digests = result.details.get("digests") or []
    if result.details.get("ranks", 1) > 1:
        return (f"data-parallel: {result.details['ranks']} processes, weights in sync "
                f"(sha1 {digests[0] if digests else '?'})")
    return None


def _lm_report(result: RunResult) -> int:
    if not distributed.info().main:
        return 0
    if (line := _ddp_line(result)) is not None:
        print(line, flush=True)
    if result.stopped_by == "interrupt":
        return _interrupted(result, "lm")
    log_result_hparams(result)
    m, c = result.metrics, result.counters
    print(f"steps {c['steps']} (epoch {m['epochs']:.2f}, {c['tokens']:,} tokens) in {m['seconds']:.0f} s; samples: "
          f"validity {m.get('validity', 0):.3f}, uniqueness {m.get('uniqueness', 0):.3f}, "
          f"novelty {m.get('novelty', 0):.3f}" + (f", held-out NLL {m['held_out_nll']:.2f}"
                                                  if "held_out_nll" in m else ""))
    print(f"model: {result.model_path}   best (step {c['best_step']}): {result.details['best_model']}")
    print(f"run directory: {result.run_dir} ({folder_size_text(result.run_dir)})")
    return 0


def _interrupted(result: RunResult, kind: str) -> int:
    run_dir = RunDir.open(result.run_dir)
    print(f"run directory: {run_dir.path} ({folder_size_text(run_dir.path)})")
    return report_interrupted(run_dir.path, ["arena-train", "gan", kind, "--resume", str(run_dir.path)],
                              saved=[run_dir.latest_checkpoint(), result.model_path])


def _tabular_report(result: RunResult) -> int:
    if result.stopped_by == "interrupt":
        return _interrupted(result, "tabular")
    log_result_hparams(result)  # TensorBoard's HParams tab: settings (config.yml) and final metrics
    m, c, d = result.metrics, result.counters, result.details
    print(f"steps {c['steps']} ({m['epochs']:.0f} epochs of {c['steps_per_epoch']}) in {m['seconds']:.0f} s; "
          f"per-class mean gap {m['mean_gap_std']:.3f} std")
    print(f"model: {result.model_path}   samples: {d['synthetic']}   plot: {d['marginals']}")
    print(f"run directory: {result.run_dir} ({folder_size_text(result.run_dir)})")
    return 0


def _report(result: RunResult) -> int:
    if result.stopped_by == "interrupt":
        return _interrupted(result, "molecules")
    log_result_hparams(result)  # TensorBoard's HParams tab: settings (config.yml) and final metrics
    m, c = result.metrics, result.counters
    print(f"steps {c['steps']} (epoch {m['epochs']:.2f}) in {m['seconds']:.0f} s; "
          f"samples: validity {m.get('validity', 0):.3f}, uniqueness {m.get('uniqueness', 0):.3f}")
    print(f"generator: {result.model_path}   best sampled (unique valid {m['best_unique_valid']:.3f} at step "
          f"{c['best_step']}): {result.run_dir / 'best_generator.pt'}")
    print(f"run directory: {result.run_dir} ({folder_size_text(result.run_dir)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
