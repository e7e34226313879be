#!/usr/bin/env python
"""AlphaZero speed: the search alone (compiled vs the Python reference vs OpenSpiel's C++ MCTS), then self-play with
batched leaf evaluation against one network call per simulation.

    python benchmarks/alphazero_speed.py [--part all|search|selfplay] [--threads 1] [--device cpu]
        search:   [--search-board-size 9] [--trees 32] [--search-sims 128] [--seconds 5] [--model PATH | --no-model]
                  [--no-openspiel]
        selfplay: [--board-size 7] [--parallel 32] [--positions 256] [--sims 64]

**Search alone** (``--part search``): the same ``--trees`` positions (9x9, from seeded random play) are searched with
``--search-sims`` simulations each, fresh trees every repetition, one leaf per tree per step (the trainer's
setting), PUCT c=1.5, FPU reduction 0.2, by

* the Python reference, `agents.alphazero.mcts` (`Node` objects, `run_simulations`), and
* the compiled search, `agents.alphazero.search.BatchedSearch` (numba arrays; it builds every leaf's feature planes
  even when the evaluator ignores them),

first with the trivial uniform evaluator (uniform priors over legal moves, value 0: the search's own cost), then
with the shipped network ``agents/pretrained/go-9x9.pt`` (skip with ``--no-model``). Prints simulations/s and the
ratio (target: >= 20x the reference with the uniform evaluator on one core). Both build the same trees
(tests/agents/test_alphazero_search.py), so the work is the same.

OpenSpiel's C++ MCTS (``pyspiel.MCTSBot``, PUCT c=1.5, uniform prior, one leaf at a time) is the search-only peer
when ``open_spiel`` is installed (``pip install -e '.[bench]'``; skipped with a note otherwise). Its Python bindings
offer no C++ evaluator without random rollouts (``RandomRolloutEvaluator`` with 0 rollouts divides by zero, and
``pyspiel.Evaluator`` cannot be subclassed from Python), so it runs with 1 and with 2 rollouts per leaf, and its
search-only time per simulation is derived as 2 t(1) - t(2) (labelled "derived"; noisy on a busy machine). A random
rollout to the end of a 9x9 game costs about 100x a tree step, so each position's OpenSpiel game is cut
``--openspiel-horizon`` (8) moves past it (``max_game_length``): rollouts stay short, and the tree, two or three
moves deep at these budgets, is not changed by it. OpenSpiel values unvisited children at 0, so beside it the script
also times the compiled search with FPU reduction 0 (the same rule with the uniform evaluator's values of 0): its
trees are broad like OpenSpiel's, where FPU reduction 0.2 makes value-0 searches dive down long lines.

**Self-play** (``--part selfplay``, the measurement this script had first): the trainer's own self-play with the
same randomly initialised network (4 residual blocks x 48 channels) and search settings; the only difference is
how many games are advanced together:

* batched: ``--parallel`` games; each simulation step collects one leaf per game and evaluates them all in one
  network call (the trainer's default is 32), on the Python engine and on the compiled engine;
* one call per simulation: 1 game on the Python engine, so every simulation's leaf is a network call of batch 1.

Every move gets a full search (``full_search_prob=1``) so that every move searched is a training position; the rate
is moves searched per second in the timed window. Prints positions/s, simulations/s and network calls (target for
batched over one call per simulation: >= 5x).

Everything runs in one process with ``--threads`` torch threads (default 1); pass ``--cpu K`` to pin the process to
core K. Timings depend on the machine and its load: run it on an otherwise idle machine.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch

from deep_arena.agents.alphazero.mcts import NetworkEvaluator, Node, expand_roots, run_simulations
from deep_arena.agents.alphazero.network import NetConfig, PolicyValueNet
from deep_arena.agents.alphazero.search import BatchedSearch, NetworkLeafEvaluator, uniform_evaluator
from deep_arena.agents.alphazero.selfplay import SelfPlay, SelfPlayConfig
from deep_arena.agents.alphazero.selfplay_compiled import CompiledSelfPlay
from deep_arena.envs.go import features
from deep_arena.envs.go.game import GoGame

HISTORY = 4
KOMI = 7.5
SHIPPED = Path(__file__).resolve().parents[1] / "agents" / "pretrained" / "go-9x9.pt"


# ------------------------------------------------------------------------------------------------ search alone


def positions(n: int, count: int, seed: int) -> list[GoGame]:
    """``count`` positions after 0 .. N*N/2 random non-pass moves."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(count):
        game = GoGame(n, KOMI)
        for _ in range(int(rng.integers(0, n * n // 2 + 1))):
            legal = np.flatnonzero(game.legal_moves()[:-1])
            if len(legal) == 0:
                break
            game.play(int(rng.choice(legal)))
        out.append(game)
    return out


def reference_uniform(games):
    legal = np.stack([g._legal_mask_cached() for g in games]).astype(np.float32)
    return legal / legal.sum(axis=1, keepdims=True), np.zeros(len(games), dtype=np.float32)


def timed(run, work: int, seconds: float) -> float:
    """``work`` units per call of ``run``: one warm-up call (numba compilation, caches), then calls until
    ``seconds`` have passed; returns units per second."""
    run()
    done = 0
    start = time.perf_counter()
    while True:
        run()
        done += work
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return done / elapsed


def search_reference(games: list[GoGame], evaluate, sims: int, seconds: float) -> float:
    def run():
        roots = [Node(g.copy()) for g in games]
        expand_roots(roots, evaluate)
        run_simulations(roots, evaluate, sims)

    return timed(run, len(games) * sims, seconds)


def search_compiled(games: list[GoGame], evaluate, sims: int, seconds: float, fpu_reduction: float = 0.2) -> float:
    search = BatchedSearch(len(games), games[0].board_size, KOMI, HISTORY, fpu_reduction=fpu_reduction)

    def run():
        for t, g in enumerate(games):
            search.set_root(t, g)
        search.expand_roots(evaluate)
        search.search(evaluate, sims)

    return timed(run, len(games) * sims, seconds)


def search_openspiel(games: list[GoGame], sims: int, seconds: float, rollouts: int, horizon: int, seed: int) -> float:
    """Simulations/s of OpenSpiel's C++ MCTS (PUCT, uniform prior) with ``rollouts`` random rollouts per leaf, each
    position's game cut ``horizon`` moves past it (OpenSpiel's ``max_game_length``) so that rollouts stay short."""
    import pyspiel

    n = games[0].board_size
    bots = []
    for g in games:  # OpenSpiel numbers points from a1 at the bottom left; ours from the top left
        game = pyspiel.load_game("go", {"board_size": n, "komi": KOMI, "max_game_length": g.move_number + horizon})
        state = game.new_initial_state()
        for a in g.history:
            r, c = divmod(a, n)
            state.apply_action(a if a == n * n else (n - 1 - r) * n + c)
        evaluator = pyspiel.RandomRolloutEvaluator(rollouts, seed)
        bots.append((pyspiel.MCTSBot(game, evaluator, 1.5, sims, 4000, False, seed, False,
                                     pyspiel.ChildSelectionPolicy.PUCT), state))

    def run():
        for bot, state in bots:
            bot.step(state)

    return timed(run, len(bots) * sims, seconds)


def run_search_part(args) -> dict:
    n = args.search_board_size
    games = positions(n, args.trees, args.seed)
    out: dict = {"board_size": n, "trees": args.trees, "simulations": args.search_sims, "rows": []}
    print(f"Search alone, {n}x{n}: {args.trees} positions x {args.search_sims} simulations, fresh trees, one leaf "
          f"per tree per step, PUCT c=1.5; {_where(args)}")
    print(f"{'evaluator':<30}{'python reference':>18}{'compiled':>14}{'ratio':>9}")
    rows = [("uniform (trivial)", reference_uniform, uniform_evaluator)]
    model = None if args.no_model else Path(args.model)
    if model is not None and model.is_file():
        from deep_arena.agents.alphazero.player import load_network

        net, meta = load_network(model, args.device)
        if int(meta["board_size"]) == n and int(meta["history_length"]) == HISTORY:
            device = torch.device(args.device)
            rows.append((f"{model.name} ({net.config.blocks}x{net.config.channels})",
                         NetworkEvaluator(net, HISTORY, device), NetworkLeafEvaluator(net, device)))
        else:
            print(f"  ({model} is for {meta['board_size']}x{meta['board_size']}, history {meta['history_length']}: "
                  f"network row skipped)")
    elif model is not None:
        print(f"  ({model} not found: network row skipped)")
    for name, ref_eval, comp_eval in rows:
        ref = search_reference(games, ref_eval, args.search_sims, args.seconds)
        comp = search_compiled(games, comp_eval, args.search_sims, args.seconds)
        target = "  (target >= 20x)" if name.startswith("uniform") else ""
        print(f"{name:<30}{ref:>18,.0f}{comp:>14,.0f}{comp / ref:>8.1f}x{target}")
        out["rows"].append({"evaluator": name, "reference_sims_per_s": ref, "compiled_sims_per_s": comp,
                            "ratio": comp / ref})
    if args.no_openspiel:
        return out
    try:
        import pyspiel  # noqa: F401
    except ImportError:
        print("OpenSpiel: not installed (pip install -e '.[bench]'), C++ MCTS peer skipped")
        return out
    h = args.openspiel_horizon
    one = search_openspiel(games, args.search_sims, args.seconds, 1, h, args.seed)
    two = search_openspiel(games, args.search_sims, args.seconds, 2, h, args.seed)
    per_sim = 2.0 / one - 1.0 / two
    derived = 1.0 / per_sim if per_sim > 0 else None
    # OpenSpiel values unvisited children at 0: with the uniform evaluator (values 0) that is FPU reduction 0, and
    # its broad trees are cheaper to walk than the deep lines FPU reduction 0.2 makes with values 0.
    broad = search_compiled(games, uniform_evaluator, args.search_sims, args.seconds, fpu_reduction=0.0)
    print(f"OpenSpiel C++ MCTS (PUCT c=1.5, uniform prior, one leaf at a time), same positions and simulations, "
          f"games cut {h} moves past each position: {one:,.0f} sims/s with 1 random rollout per leaf, {two:,.0f} "
          f"with 2")
    if derived is None:
        print("  search alone (derived 2 t(1) - t(2)): n/a (the machine was too noisy; rerun on an idle one)")
    else:
        print(f"  search alone (derived 2 t(1) - t(2)): {derived:,.0f} sims/s")
    print(f"compiled search, uniform evaluator, FPU reduction 0 (unvisited children valued 0 as in OpenSpiel): "
          f"{broad:,.0f} sims/s" + ("" if derived is None else f"; / OpenSpiel search alone: {broad / derived:.2f}x"))
    out["openspiel"] = {"horizon": h, "sims_per_s_1_rollout": one, "sims_per_s_2_rollouts": two,
                        "derived_search_only_sims_per_s": derived, "compiled_fpu0_sims_per_s": broad}
    return out


# ------------------------------------------------------------------------------------------------ self-play


def measure(net: PolicyValueNet, board_size: int, parallel: int, positions: int, sims: int, seed: int,
            device: torch.device, engine: str = "python") -> dict:
    cfg = SelfPlayConfig(simulations=sims, fast_simulations=sims, full_search_prob=1.0, parallel_games=parallel,
                         engine=engine)
    engine_class = SelfPlay if engine == "python" else CompiledSelfPlay
    selfplay = engine_class(NetworkEvaluator(net, HISTORY, device), board_size, KOMI, HISTORY, cfg,
                            np.random.default_rng(seed))
    selfplay.generate(1)  # warm-up: numba compilation, first games
    began = time.perf_counter()
    _, stats = selfplay.generate(positions)
    seconds = time.perf_counter() - began
    return {"engine": engine, "parallel_games": parallel, "positions": stats.moves, "seconds": seconds,
            "positions_per_s": stats.moves / seconds,
            "simulations_per_s": stats.simulations / seconds, "network_calls": stats.network_calls,
            "mean_batch": stats.mean_batch}


def run_selfplay_part(args) -> dict:
    device = torch.device(args.device)
    torch.manual_seed(args.seed)
    net = PolicyValueNet(NetConfig(in_planes=features.num_planes(HISTORY), channels=48, blocks=4)).to(device).eval()
    named = [(f"batched ({args.parallel} games)", measure(net, args.board_size, args.parallel, args.positions,
                                                           args.sims, args.seed, device)),
             ("one call per simulation", measure(net, args.board_size, 1, args.positions, args.sims, args.seed,
                                                 device)),
             ("batched, compiled engine", measure(net, args.board_size, args.parallel, args.positions, args.sims,
                                                   args.seed, device, engine="compiled"))]
    print(f"AlphaZero self-play, {args.board_size}x{args.board_size}, {args.sims} simulations per move, "
          f"4x48 network, {_where(args)}")
    print(f"{'side':<28}{'positions/s':>12}{'simulations/s':>15}{'net calls':>11}{'mean batch':>12}{'positions':>11}"
          f"{'seconds':>9}")
    for name, row in named:
        print(f"{name:<28}{row['positions_per_s']:>12.1f}{row['simulations_per_s']:>15.0f}{row['network_calls']:>11}"
              f"{row['mean_batch']:>12.1f}{row['positions']:>11}{row['seconds']:>9.1f}")
    batched, single, compiled = (row for _, row in named)
    ratio = batched["positions_per_s"] / single["positions_per_s"]
    print(f"speed-up of batched leaf evaluation: {ratio:.1f}x (target >= 5x)")
    print(f"compiled engine over the python engine, batched: "
          f"{compiled['positions_per_s'] / batched['positions_per_s']:.1f}x positions/s")
    return {"rows": [dict(row, side=name) for name, row in named], "batched_over_single": ratio}


def _where(args) -> str:
    if args.device.startswith("cuda"):
        return torch.cuda.get_device_name(torch.device(args.device))
    return f"CPU, {args.threads} torch thread(s)" + (f", pinned to core {args.cpu}" if args.cpu is not None else "")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--part", choices=("all", "search", "selfplay"), default="all")
    parser.add_argument("--board-size", type=int, default=7, help="self-play board size")
    parser.add_argument("--parallel", type=int, default=32, help="games advanced together (batched side)")
    parser.add_argument("--positions", type=int, default=256, help="positions to generate per side (at least)")
    parser.add_argument("--sims", type=int, default=64, help="self-play simulations per move")
    parser.add_argument("--search-board-size", type=int, default=9)
    parser.add_argument("--trees", type=int, default=32, help="positions searched together (search alone)")
    parser.add_argument("--search-sims", type=int, default=128, help="simulations per position (search alone)")
    parser.add_argument("--seconds", type=float, default=5.0, help="timed seconds per search-alone measurement")
    parser.add_argument("--model", default=str(SHIPPED), help="network for the search-alone network row")
    parser.add_argument("--no-model", action="store_true", help="skip the search-alone network row")
    parser.add_argument("--no-openspiel", action="store_true", help="skip OpenSpiel even if installed")
    parser.add_argument("--openspiel-horizon", type=int, default=8,
                        help="OpenSpiel's games end this many moves past each position (short rollouts)")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1)")
    parser.add_argument("--cpu", type=int, default=None, help="pin the process to this core")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="cpu", help="cpu (default) or cuda")
    parser.add_argument("--json", default=None, help="also write the results to this JSON file")
    args = parser.parse_args(argv)
    if args.cpu is not None:
        os.sched_setaffinity(0, {args.cpu})
    torch.set_num_threads(args.threads)
    results: dict = {"threads": args.threads, "device": args.device}
    if args.part in ("all", "search"):
        results["search"] = run_search_part(args)
    if args.part == "all":
        print()
    if args.part in ("all", "selfplay"):
        results["selfplay"] = run_selfplay_part(args)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
