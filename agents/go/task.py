"""Go's entry in the task registry (:mod:`deep_arena.agents.registry`)."""

from __future__ import annotations

from deep_arena.agents.go import commands, play, players
from deep_arena.agents.registry import DemoJob, Task

TASK = Task(
    name="go",
    summary="Go (5x5 to 19x19): AlphaZero self-play or MaskablePPO; evaluation against random and GNU Go",
    env_ids=("arena/Go-v0",),
    algorithms=("alphazero", "maskable_ppo"),
    train=commands.train,
    evaluate=commands.evaluate,
    play=play.play,
    load_pretrained=players.load_pretrained,
    pretrained=("go-7x7", "go-9x9"),
    demo_jobs=(
        DemoJob("Go 5x5, AlphaZero self-play (2 minutes of training, then an evaluation vs random and GNU Go "
                "level 1; about 3 minutes in all on 2 cores)",
                # 8 games at a time and 32 positions an iteration: short iterations, so that two minutes make
                # 10-30 points on every curve (32 games at a time made 4-5 iterations of 256 positions); one torch
                # thread: two stall on a busy 2-core machine (an iteration of 5 s took minutes); one checkpoint, at
                # the end (each holds the replay buffer: three made the run 8.2 MB)
                ("go", "--algo", "alphazero", "--board-size", "5", "--minutes", "2", "--set", "eval_every=1000",
                 "--set", "eval.games_vs_random=10", "--set", "eval.games_vs_gnugo=4",
                 "--set", "selfplay.parallel_games=8", "--set", "positions_per_iteration=32",
                 "--set", "min_replay=64", "--set", "threads=1", "--set", "checkpoint_every=50"),
                ("arena-evaluate go --model {run}/model.pt --board-size 5 --opponent random --opponent gnugo:1 "
                 "--games 20 --opening-moves 2",
                 "arena-play go --human --model {run}/model.pt --board-size 5 --show-search")),
        DemoJob("Go 5x5, MaskablePPO against a self-play pool (about 3 minutes: 12,000 steps and 11 evaluations of 6 games)",
                ("go", "--algo", "maskable_ppo", "--board-size", "5", "--steps", "12000", "--set", "eval_every=1200",
                 "--set", "eval_games=6", "--set", "selfplay.snapshot_every=2000"),
                ("arena-evaluate go --model {run}/final_model.zip --board-size 5 --opponent random --games 20",)),
    ),
)
