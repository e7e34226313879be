"""Molecule design's entry in the task registry (:mod:`deep_arena.agents.registry`)."""

from __future__ import annotations

from deep_arena.agents import pretrained
from deep_arena.agents.molecule import commands, play, players, tune
from deep_arena.agents.registry import DemoJob, Task

TASK = Task(
    name="molecule",
    summary="Molecule design on RDKit (QED, penalized logP, similarity, ...): MolDQN or MaskablePPO",
    env_ids=("arena/MoleculeDesign-v0",),
    algorithms=("moldqn", "maskable_ppo"),
    train=commands.train,
    evaluate=commands.evaluate,
    play=play.play,
    load_pretrained=players.load_pretrained,
    pretrained=tuple(pretrained.MOLECULE_MODELS),
    tune=tune.spec,
    demo_jobs=(
        DemoJob("Molecule design, MolDQN maximising QED (60 episodes of 40 edits, about a minute)",
                ("molecule", "--algo", "moldqn", "--objective", "qed", "--episodes", "60",
                 "--set", "learning_starts=400", "--set", "checkpoint_every=30", "--set", "log_every=5",
                 "--set", "keep_checkpoints=1"),
                ("arena-play molecule --model {run}/model.pt",
                 "arena-evaluate molecule --model {run}/model.pt --episodes 20")),
        DemoJob("Molecule design, MaskablePPO maximising QED (4,000 steps, about a minute)",
                # rollouts of 8 x 32 steps (the default 8 x 256 made two points per curve), an evaluation every 400
                ("molecule", "--algo", "maskable_ppo", "--objective", "qed", "--steps", "4000",
                 "--set", "ppo.n_steps=32", "--set", "eval_every=400"),
                ("arena-play molecule --model {run}/final_model.zip",)),
    ),
)
