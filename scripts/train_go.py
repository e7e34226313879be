#!/usr/bin/env python
"""Train a Go agent and log to runs/go/<algo>-<time>/ (watch with `tensorboard --logdir runs`).

    python scripts/train_go.py --board-size 7 --algo alphazero --minutes 30 [--device auto] [--seed 0]
    python scripts/train_go.py --board-size 7 --algo maskable_ppo --steps 200000
    python scripts/train_go.py --resume runs/go/alphazero-20261125-120000 [--minutes 60]
    python scripts/train_go.py --board-size 9 --algo alphazero --minutes 60 --init-from runs/go/.../model.pt

--steps counts environment steps for maskable_ppo and self-play/training iterations for alphazero.
Any config value can be set with --config FILE.yml or --set key=value (e.g. --set net.blocks=6).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from agents.runtime import RunDir, add_common_args, build_config, load_config, merge_config


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--algo", choices=["alphazero", "maskable_ppo"], default=None)
    parser.add_argument("--board-size", type=int, default=None, help="5 to 19 (default 7)")
    parser.add_argument("--komi", type=float, default=None)
    parser.add_argument("--minutes", type=float, default=None, help="wall-clock budget (for maskable_ppo: a limit on top of --steps)")
    parser.add_argument("--steps", type=int, default=None,
                        help="env steps (maskable_ppo) or iterations (alphazero)")
    parser.add_argument("--opponent", default=None, help="maskable_ppo: selfplay (default: a pool of earlier policy snapshots), random or gnugo:LEVEL")
    parser.add_argument("--resume", type=Path, default=None, help="continue a run directory from its last checkpoint")
    parser.add_argument("--init-from", type=Path, default=None, help="alphazero: start from this model's weights")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    add_common_args(parser)
    args = parser.parse_args(argv)

    if args.resume is not None:
        return resume(args, parser)
    algo = args.algo or "alphazero"
    if algo == "maskable_ppo":
        from agents.sb3 import go_ppo

        if args.init_from is not None:
            parser.error("--init-from applies to --algo alphazero")
        try:
            config = build_config(args, go_ppo.default_config(),
                                  cli_keys={"board_size": "board_size", "komi": "komi", "total_steps": "steps",
                                            "opponent": "opponent", "minutes": "minutes"})
        except ValueError as err:  # unknown --set key, bad --config file...
            parser.error(str(err))
        if not 5 <= config["board_size"] <= 19:
            parser.error(f"--board-size must be from 5 to 19, got {config['board_size']}")
        run_dir = _new_run(args, algo, config)
        _, win_rate = go_ppo.train(config, run_dir, progress_bar=not args.no_progress)
        print(f"final win rate vs random ({config['eval_games']} games): {win_rate:.2f}")
        print(f"model: {run_dir.path / 'final_model.zip'}   sample game: {run_dir.path / 'sample_game.sgf'}")
        return 0

    from agents.alphazero import trainer as az

    if args.opponent is not None:
        parser.error("--opponent applies to --algo maskable_ppo (AlphaZero learns by self-play)")
    try:
        config = build_config(args, az.DEFAULTS, cli_keys={"board_size": "board_size", "komi": "komi",
                                                           "minutes": "minutes", "iterations": "steps"})
    except ValueError as err:  # unknown --set key, bad --config file...
        parser.error(str(err))
    if config["minutes"] is None and config["iterations"] is None:
        config["minutes"] = 30.0
    try:
        az.validate_config(config)
    except ValueError as err:
        parser.error(str(err))
    run_dir = _new_run(args, algo, config)
    trainer = az.AlphaZeroTrainer(config, run_dir, progress_bar=not args.no_progress)
    if args.init_from is not None:
        trainer.init_from(args.init_from)
    return _finish(trainer, run_dir)


def _new_run(args, algo: str, config: dict) -> RunDir:
    run_dir = RunDir.create("go", algo, root=args.run_root)
    run_dir.write_config(config)
    run_dir.write_command()
    print(f"run directory: {run_dir.path}")
    return run_dir


def resume(args, parser) -> int:
    from agents.alphazero import trainer as az

    try:
        run_dir = RunDir.open(args.resume)
    except ValueError as err:
        parser.error(str(err))
    ckpt = run_dir.latest_checkpoint()
    if ckpt is None:
        parser.error(f"{args.resume}: no checkpoint to resume from")
    try:
        saved = load_config(run_dir.config_path)
        changes = {k: v for k, v in {"minutes": args.minutes, "iterations": args.steps}.items() if v is not None}
        config = merge_config(saved, None, changes, getattr(args, "overrides", None) or [])
    except ValueError as err:
        parser.error(str(err))
    if args.device is not None:
        config["device"] = args.device
    run_dir.write_config(config)
    trainer = az.AlphaZeroTrainer(config, run_dir, progress_bar=not args.no_progress)
    trainer.load(ckpt)
    print(f"resuming {run_dir.path} from {ckpt.name} (iteration {trainer.counters['iteration']})")
    return _finish(trainer, run_dir)


def _finish(trainer, run_dir: RunDir) -> int:
    result = trainer.run()
    for name, r in result.items():
        if name != "iteration":
            lo, hi = r["interval"]
            print(f"vs {name}: win rate {r['win_rate']:.2f} (95% CI {lo:.2f}-{hi:.2f}, {r['games']} games), "
                  f"Elo {r['elo']:+.0f}")
    print(f"model: {run_dir.path / 'model.pt'}   checkpoints: {run_dir.checkpoints_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
