"""Go speed: random legal games, observation and action mask built every step, against peers in the same run.

Measures, at 9x9 and 19x19:
  * arena two-player env (`envs.go.env`, PettingZoo AEC) vs `pettingzoo.classic.go_v5` with the same AEC loop;
  * OpenSpiel `go` (legal_actions + observation_tensor + apply_action) for reference;
  * our single-agent Gymnasium env (`arena/Go-v0` vs a random opponent; each env step is two moves, counted as
    two) and the bare engine (legal mask + play), for information.
Each figure is the median of --repeats timed runs of --seconds each, one process, one core.

    python benchmarks/go_speed.py [--sizes 9 19] [--seconds 3] [--repeats 3] [--json OUT.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time

import numpy as np

# Let `python benchmarks/go_speed.py` work from a checkout even without the editable install.


def _pick(mask: np.ndarray, rng: np.random.Generator) -> int:
    legal = np.flatnonzero(mask)
    return int(legal[rng.integers(len(legal))])


def run_aec(make_env, seconds: float, seed: int) -> float:
    """Steps per second of an AEC env played with uniformly random legal actions."""
    env = make_env()
    rng = np.random.default_rng(seed)
    env.reset(seed=seed)
    steps = 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        env.reset()
        for agent in env.agent_iter():
            obs, _, term, trunc, _ = env.last()
            action = None if term or trunc else _pick(obs["action_mask"], rng)
            env.step(action)
            steps += 1
    return steps / (time.perf_counter() - start)


def run_openspiel(size: int, seconds: float, seed: int) -> float:
    import pyspiel

    game = pyspiel.load_game("go", {"board_size": size, "komi": 7.5})
    rng = np.random.default_rng(seed)
    steps = 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        state = game.new_initial_state()
        while not state.is_terminal():
            state.observation_tensor()
            legal = state.legal_actions()
            state.apply_action(legal[rng.integers(len(legal))])
            steps += 1
    return steps / (time.perf_counter() - start)


def run_gym(size: int, seconds: float, seed: int) -> float:
    import gymnasium as gym

    import deep_arena.envs  # noqa: F401  (registers arena/*)

    env = gym.make("arena/Go-v0", board_size=size, opponent="random")
    rng = np.random.default_rng(seed)
    game = env.unwrapped
    moves = 0
    start = time.perf_counter()
    _, info = env.reset(seed=seed)
    while time.perf_counter() - start < seconds:
        before = game.game.move_number
        _, _, term, trunc, info = env.step(_pick(info["action_mask"], rng))
        moves += game.game.move_number - before  # 2, or 1 when the agent's move ended the game
        if term or trunc:
            _, info = env.reset()
    return moves / (time.perf_counter() - start)


def run_engine(size: int, seconds: float, seed: int) -> float:
    from deep_arena.envs.go import GoGame

    rng = np.random.default_rng(seed)
    steps = 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        game = GoGame(size)
        while not game.is_over:
            game.play(_pick(game.legal_moves(), rng))
            steps += 1
    return steps / (time.perf_counter() - start)


def median_of(fn, repeats: int) -> float:
    return statistics.median(fn(seed) for seed in range(repeats))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[9, 19])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args()

    import deep_arena.envs.go as go
    from pettingzoo.classic import go_v5

    # Warm up numba (compiled on first use, then cached on disk) so compile time is not counted.
    run_aec(lambda: go.env(board_size=9), 0.2, 0)

    results = []
    for size in args.sizes:
        row = {"size": size}
        row["arena_aec"] = median_of(lambda s: run_aec(lambda: go.env(board_size=size), args.seconds, s),
                                     args.repeats)
        row["pettingzoo_go_v5"] = median_of(lambda s: run_aec(lambda: go_v5.env(board_size=size), args.seconds, s),
                                            args.repeats)
        try:
            row["openspiel_obs"] = median_of(lambda s: run_openspiel(size, args.seconds, s), args.repeats)
        except ImportError:
            row["openspiel_obs"] = None
        row["arena_gym"] = median_of(lambda s: run_gym(size, args.seconds, s), args.repeats)
        row["arena_engine"] = median_of(lambda s: run_engine(size, args.seconds, s), args.repeats)
        results.append(row)

    print(f"# Go speed, random legal games, obs + mask every step; {platform.processor() or platform.machine()}, "
          f"python {sys.version.split()[0]}, {os.cpu_count()} cores visible, one used; median of {args.repeats} "
          f"x {args.seconds:g} s")
    print("| board | arena AEC env | PettingZoo go_v5 | ratio | OpenSpiel + obs tensor | ratio | arena Gym env "
          "(moves/s) | arena engine (no obs) |")
    print("|---|---|---|---|---|---|---|---|")
    for r in results:
        os_txt = "n/a" if r["openspiel_obs"] is None else f"{r['openspiel_obs']:,.0f}"
        os_ratio = "n/a" if r["openspiel_obs"] is None else f"{r['arena_aec'] / r['openspiel_obs']:.2f}x"
        print(f"| {r['size']}x{r['size']} | {r['arena_aec']:,.0f} | {r['pettingzoo_go_v5']:,.0f} | "
              f"**{r['arena_aec'] / r['pettingzoo_go_v5']:.1f}x** | {os_txt} | {os_ratio} | {r['arena_gym']:,.0f} | "
              f"{r['arena_engine']:,.0f} |")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(results, fh, indent=2)


if __name__ == "__main__":
    main()
