"""The robot arm's entry in the task registry (:mod:`deep_arena.agents.registry`)."""

from __future__ import annotations

from typing import Any

from deep_arena.agents import pretrained
from deep_arena.agents.arm import commands, play, tune
from deep_arena.agents.registry import DemoJob, Task


def load_pretrained(name: str, device: str = "auto", **kwargs: Any):
    """The shipped SB3 model ``name`` (``"arm-reach"``, ``"arm-push"``): ``predict(obs, deterministic=True)``."""
    from deep_arena.agents.arm.sb3_trainer import load_model  # lazy: SB3 and MuJoCo, only when a model loads (--help)

    return load_model(pretrained.pretrained_path(name), device=device, **kwargs)


TASK = Task(
    name="arm",
    summary="7-joint MuJoCo arm (reach, push, pick-and-place): SAC, TD3, TQC (+ HER), PPO",
    env_ids=("arena/ArmReach-v0", "arena/ArmPush-v0", "arena/ArmPickAndPlace-v0"),
    algorithms=commands.ALGOS,
    train=commands.train,
    evaluate=commands.evaluate,
    play=play.play,
    load_pretrained=load_pretrained,
    pretrained=tuple(pretrained.ARM_MODELS),
    tune=tune.spec,
    demo_jobs=(
        DemoJob("Robot arm reach, TQC + HER (2,000 steps, about a minute; the shipped model trained for 20,000)",
                # one torch thread, as the push job: with two, this job took over 400 s (196 s of CPU) on the
                # 2-core machine at load 7, with one 69 s (31 s of CPU)
                ("arm", "--task", "reach", "--algo", "tqc", "--her", "--steps", "2000", "--set", "eval_every=200",
                 "--set", "eval_episodes=5", "--set", "checkpoint_every=1000", "--set", "threads=1"),
                ("arena-play arm --task reach --model {run}/final_model.zip",
                 "arena-evaluate arm --task reach --model {run}/final_model.zip --episodes 50")),
        DemoJob("Robot arm push, TQC + HER after an expert start: 100 scripted demonstrations, cloning, 1 DAgger "
                "round, critic warm-up, then 1,000 agent steps (one to two minutes; the README's run used 1,000 "
                "demonstrations and 5 rounds)",
                ("arm", "--task", "push", "--algo", "tqc", "--her", "--steps", "1000", "--set", "expert.episodes=100",
                 "--set", "expert.bc_steps=2000", "--set", "expert.dagger_rounds=1", "--set",
                 "expert.dagger_episodes=50", "--set", "expert.critic_steps=300", "--set", "expert.bc_alpha=1.0",
                 "--set", "eval_every=100", "--set", "eval_episodes=3", "--set", "checkpoint_every=1000",
                 "--set", "threads=1"),
                ("arena-play arm --task push --model {run}/final_model.zip",
                 "arena-evaluate arm --task push --model {run}/final_model.zip --episodes 50")),
        DemoJob("Robot arm reach on the wide goal space with a Goal GAN curriculum (2,000 steps, about a minute)",
                ("arm", "--task", "reach", "--curriculum", "goalgan", "--goal-space", "wide", "--steps", "2000",
                 "--coverage", "3", "--set", "eval_every=200", "--set", "eval_episodes=5",
                 "--set", "checkpoint_every=2000", "--set", "threads=1"),
                ("arena-evaluate arm --task reach --model {run}/final_model.zip --coverage --goal-space wide",)),
    ),
)
