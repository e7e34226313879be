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
                "level 1; about 4 minutes in all on 2 cores)",
                ("go", "--algo", "alphazero", "--board-size", "5", "--minutes", "2", "--set", "eval_every=1000",
                 "--set", "eval.games_vs_random=10", "--set", "eval.games_vs_gnugo=4"),
                ("arena-evaluate go --model {run}/model.pt --board-size 5 --opponent random --opponent gnugo:1 "
                 "--games 20 --opening-moves 2",
                 "arena-play go --human --model {run}/model.pt --board-size 5 --show-search")),
        DemoJob("Go 5x5, MaskablePPO against a self-play pool (about a minute)",
                ("go", "--algo", "maskable_ppo", "--board-size", "5", "--steps", "12000", "--set", "eval_every=4000",
                 "--set", "eval_games=20", "--set", "selfplay.snapshot_every=2000"),
                ("arena-evaluate go --model {run}/final_model.zip --board-size 5 --opponent random --games 20",)),
    ),
)
