#!/usr/bin/env python
"""Train a Go agent on arena/Go-v0 and log to runs/go/<algo>-<time>/.

    python scripts/train_go.py --board-size 7 --algo maskable_ppo --steps 50000 [--device auto] [--seed 0]
                               [--config FILE.yml] [--set ppo.learning_rate=1e-4 ...]

Watch with `tensorboard --logdir runs`. AlphaZero (--algo alphazero) arrives with the Go agents issue.
"""

from __future__ import annotations

import argparse
import sys

from agents.runtime import RunDir, add_common_args, build_config


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--algo", choices=["maskable_ppo"], default="maskable_ppo")
    parser.add_argument("--board-size", type=int, default=None, help="5 to 19 (default 7)")
    parser.add_argument("--komi", type=float, default=None)
    parser.add_argument("--steps", type=int, default=None, help="environment steps (agent moves)")
    parser.add_argument("--opponent", default=None, help="random (default) or gnugo:LEVEL")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    add_common_args(parser)
    args = parser.parse_args(argv)

    from agents.sb3 import go_ppo

    config = build_config(args, go_ppo.default_config(),
                          cli_keys={"board_size": "board_size", "komi": "komi", "total_steps": "steps",
                                    "opponent": "opponent"})
    if not 5 <= config["board_size"] <= 19:
        parser.error(f"--board-size must be from 5 to 19, got {config['board_size']}")
    run_dir = RunDir.create("go", args.algo, root=args.run_root)
    run_dir.write_config(config)
    run_dir.write_command()
    print(f"run directory: {run_dir.path}")
    _, win_rate = go_ppo.train(config, run_dir, progress_bar=not args.no_progress)
    print(f"final win rate vs random ({config['eval_games']} games): {win_rate:.2f}")
    print(f"model: {run_dir.path / 'final_model.zip'}   sample game: {run_dir.path / 'sample_game.sgf'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
