#!/usr/bin/env python
"""AlphaZero self-play speed: batched leaf evaluation against one network call per simulation, same net, one run.

    python benchmarks/alphazero_speed.py [--board-size 7] [--parallel 32] [--positions 256] [--threads 1]

Both sides run the trainer's own self-play (`agents.alphazero.selfplay.SelfPlay`, PUCT search with tree reuse) with
the same randomly initialised network (the shipped size: 4 residual blocks x 48 channels) and the same search
settings. The only difference is how many games are advanced together:

* batched: ``--parallel`` games; each simulation step collects one leaf per game and evaluates them all in one
  network call (the trainer's default is 32);
* one call per simulation: 1 game, so every simulation's leaf is a network call of batch 1 (what a plain MCTS does).

Every move gets a full search (``full_search_prob=1``) so that every move searched is a training position; the rate
is moves searched per second in the timed window (finished games' sample counts would include positions searched
during the warm-up). Prints positions/s, simulations/s and network calls for both and their ratio (target >= 5x). Timings depend on the machine and its load;
run it on an otherwise idle machine.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch


from deep_arena.agents.alphazero.mcts import NetworkEvaluator  # noqa: E402
from deep_arena.agents.alphazero.network import NetConfig, PolicyValueNet  # noqa: E402
from deep_arena.agents.alphazero.selfplay import SelfPlay, SelfPlayConfig  # noqa: E402
from deep_arena.envs.go import features  # noqa: E402

HISTORY = 4


class CountingEvaluator:
    """The trainer's NetworkEvaluator, counting network calls and evaluated positions."""

    def __init__(self, inner: NetworkEvaluator):
        self.inner, self.calls, self.evaluated = inner, 0, 0

    def __call__(self, games):
        self.calls += 1
        self.evaluated += len(games)
        return self.inner(games)


def measure(net: PolicyValueNet, board_size: int, parallel: int, positions: int, sims: int, seed: int,
            device: torch.device) -> dict:
    evaluator = CountingEvaluator(NetworkEvaluator(net, HISTORY, device))
    cfg = SelfPlayConfig(simulations=sims, fast_simulations=sims, full_search_prob=1.0, parallel_games=parallel)
    selfplay = SelfPlay(evaluator, board_size, 7.5, HISTORY, cfg, np.random.default_rng(seed))
    selfplay.generate(1)  # warm-up: numba compilation, first games
    evaluator.calls = evaluator.evaluated = 0
    began = time.perf_counter()
    _, stats = selfplay.generate(positions)
    seconds = time.perf_counter() - began
    return {"parallel_games": parallel, "positions": stats.moves, "seconds": seconds,
            "positions_per_s": stats.moves / seconds,
            "simulations_per_s": stats.simulations / seconds, "network_calls": evaluator.calls,
            "mean_batch": evaluator.evaluated / max(1, evaluator.calls)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--board-size", type=int, default=7)
    parser.add_argument("--parallel", type=int, default=32, help="games advanced together (batched side)")
    parser.add_argument("--positions", type=int, default=256, help="positions to generate per side (at least)")
    parser.add_argument("--sims", type=int, default=64, help="simulations per move")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="cpu", help="cpu (default) or cuda")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    device = torch.device(args.device)
    net = PolicyValueNet(NetConfig(in_planes=features.num_planes(HISTORY), channels=48, blocks=4)).to(device).eval()
    rows = [measure(net, args.board_size, args.parallel, args.positions, args.sims, args.seed, device),
            measure(net, args.board_size, 1, args.positions, args.sims, args.seed, device)]
    where = torch.cuda.get_device_name(device) if device.type == "cuda" else f"CPU, {args.threads} torch thread(s)"
    print(f"AlphaZero self-play, {args.board_size}x{args.board_size}, {args.sims} simulations per move, "
          f"4x48 network, {where}")
    print(f"{'side':<28}{'positions/s':>12}{'simulations/s':>15}{'net calls':>11}{'mean batch':>12}{'positions':>11}{'seconds':>9}")
    for name, row in zip((f"batched ({args.parallel} games)", "one call per simulation"), rows):
        print(f"{name:<28}{row['positions_per_s']:>12.1f}{row['simulations_per_s']:>15.0f}{row['network_calls']:>11}"
              f"{row['mean_batch']:>12.1f}{row['positions']:>11}{row['seconds']:>9.1f}")
    ratio = rows[0]["positions_per_s"] / rows[1]["positions_per_s"]
    print(f"speed-up of batched leaf evaluation: {ratio:.1f}x (target >= 5x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
