"""Run a Deep Arena Go engine over GTP (Go Text Protocol v2) on stdin/stdout.

Examples (from the repository root)::

    .venv/bin/python scripts/gtp.py --board-size 9 --seed 0
    gogui-twogtp -black "python scripts/gtp.py" -white "gnugo --mode gtp --level 1" -size 9 -games 10

Without ``--model`` the engine plays uniformly random legal moves (passing only when nothing else is legal). With
``--model PATH|pretrained`` it plays a trained agent: an AlphaZero ``.pt`` (``--sims`` playouts per move) or a
MaskablePPO ``.zip``; ``pretrained`` picks the shipped model for ``--board-size``::

    .venv/bin/python scripts/gtp.py --model pretrained --board-size 7 --sims 200
"""

from __future__ import annotations

import argparse
import io
import math
import os
import sys

import numpy as np

from deep_arena.envs.go.game import MAX_SIZE, MIN_SIZE
from deep_arena.envs.go.gtp import GTPEngine


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Deep Arena Go engine speaking GTP on stdin/stdout.")
    parser.add_argument("--board-size", type=int, default=9,
                        help=f"initial board size, {MIN_SIZE}..{MAX_SIZE} (default 9)")
    parser.add_argument("--komi", type=float, default=7.5, help="initial komi (default 7.5)")
    parser.add_argument("--seed", type=int, default=None, help="seed for the random move policy")
    parser.add_argument("--model", default=None, metavar="PATH|pretrained",
                        help="play a trained agent (.pt AlphaZero, .zip MaskablePPO, or 'pretrained')")
    parser.add_argument("--sims", type=int, default=None, help="AlphaZero playouts per move (default: the model's)")
    parser.add_argument("--device", default="cpu", help="cpu (default), cuda or auto")
    args = parser.parse_args(argv)
    if args.sims is not None and args.sims < 1:
        parser.error(f"--sims must be a positive integer, got {args.sims}")
    if not MIN_SIZE <= args.board_size <= MAX_SIZE:
        parser.error(f"--board-size must be from {MIN_SIZE} to {MAX_SIZE}, got {args.board_size}")
    if not math.isfinite(args.komi):
        parser.error(f"--komi must be a finite number, got {args.komi}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    genmove = None
    name = "DeepArena"
    if args.model is not None:
        from deep_arena.agents.go.players import load_player  # lazy: torch (via deep_arena.runtime), only with --model

        try:
            player = load_player(args.model, args.board_size, args.komi, device=args.device, sims=args.sims,
                                models_only=True)
        except (ValueError, OSError, RuntimeError, ImportError) as err:
            print(f"gtp.py: error: --model {args.model}: {err}", file=sys.stderr)
            return 2
        rng = np.random.default_rng(args.seed)
        player.reset(None, args.seed)
        genmove = lambda game: player.act(game, rng)  # noqa: E731  (the player re-roots its search on any game)
        name = f"DeepArena-{getattr(player, 'name', 'model')}"
    engine = GTPEngine(board_size=args.board_size, komi=args.komi, seed=args.seed, genmove=genmove, name=name)
    # Undecodable input must not kill the engine: it becomes U+FFFD and, at worst, an "unknown command".
    if isinstance(sys.stdin, io.TextIOWrapper):
        sys.stdin.reconfigure(errors="replace")
    try:
        engine.run(sys.stdin, sys.stdout)
    except BrokenPipeError:
        # The controller went away: point stdout at /dev/null so the exit flush does not complain again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
