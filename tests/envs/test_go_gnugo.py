"""Cross-check the rules engine against GNU Go (an engine we did not write) on random games: 300 in the default
suite, 1,002 in ``make test-slow`` (the figure docs/go.md quotes).

At every position of every game, our legal moves must equal GNU Go's ``all_legal`` (GNU Go started with
``--chinese-rules --positional-superko``) and our stones must equal its ``list_stones``. Games are played with
random legal moves and rare passes so that they run long and reach captures, kos and superko repetitions.
The games are split over two GNU Go processes, run in threads (GNU Go does the work in its own process).
"""

from __future__ import annotations

import threading

import numpy as np
import pytest

from deep_arena.envs.go import BLACK, GoGame
from deep_arena.envs.go.gnugo import GnuGo, gnugo_path

pytestmark = pytest.mark.skipif(gnugo_path() is None, reason="GNU Go not installed (apt-get install gnugo)")

SIZES = (5, 7, 9)


def _play_games(seeds: list[int], out: dict) -> None:
    stats = {"positions": 0, "mismatches": [], "superko_blocked": 0, "captures": 0, "games": 0}
    engine = GnuGo(board_size=5, komi=7.5, level=0, capture_all_dead=False)
    try:
        for seed in seeds:
            size = SIZES[seed % len(SIZES)]
            rng = np.random.default_rng(seed)
            engine.send(f"boardsize {size}")
            engine.send("clear_board")
            engine.board_size = size
            game = GoGame(size)
            while not game.is_over:
                colour = game.to_play
                ours = game.legal_moves()
                theirs = np.zeros_like(ours)
                theirs[engine.all_legal(colour)] = True
                theirs[-1] = True  # GNU Go does not list pass
                stones_ok = (sorted(engine.list_stones(BLACK)) == np.flatnonzero(game.board.reshape(-1) == 1).tolist()
                             and sorted(engine.list_stones(-BLACK))
                             == np.flatnonzero(game.board.reshape(-1) == -1).tolist())
                if not np.array_equal(ours, theirs) or not stones_ok:
                    stats["mismatches"].append((size, seed, list(game.history)))
                    break
                stats["positions"] += 1
                stats["superko_blocked"] += sum(game.legality(a) == "superko" for a in range(size * size))
                legal = np.flatnonzero(ours[:-1])
                action = int(legal[rng.integers(len(legal))]) if len(legal) and rng.random() > 0.03 \
                    else game.pass_action
                stats["captures"] += game.play(action) > 0
                engine.play(colour, action)
            stats["games"] += 1
    finally:
        engine.close()
    out.update(stats)


@pytest.mark.parametrize("games,positions,superko_blocked,captures",
                         [(300, 15_000, 30, 300), pytest.param(1002, 50_000, 100, 1_000, marks=pytest.mark.slow)])
def test_legal_moves_and_boards_match_gnugo_over_random_games(games, positions, superko_blocked, captures):
    results = [{}, {}]
    seeds = list(range(games))  # sizes in turn: a third of the games on each
    threads = [threading.Thread(target=_play_games, args=(seeds[i::2], results[i])) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    total = {k: sum(r[k] for r in results) if k != "mismatches" else sum((r[k] for r in results), [])
             for k in results[0]}
    assert total["games"] == games
    assert total["mismatches"] == [], f"first mismatch (size, seed, moves): {total['mismatches'][0]}"
    # The games must actually exercise the hard rules, or agreement proves little (seeded: stable counts).
    assert total["positions"] > positions
    assert total["superko_blocked"] > superko_blocked
    assert total["captures"] > captures
    print(f"\n{total['games']} games, {total['positions']} positions, {total['captures']} capturing moves, "
          f"{total['superko_blocked']} superko-blocked moves: zero mismatches with GNU Go")
