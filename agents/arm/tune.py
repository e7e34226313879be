"""The robot arm's hyperparameter search (``arena-tune arm``): search spaces per algorithm and one trial's training.

The ranges follow rl-zoo's ``hyperparams_opt.py`` (SAC, TQC, TD3, PPO), narrowed where rl-zoo's are wider than an
arm run can use (learning rate 1e-5 to 1e-2 rather than up to 1). The replay buffer size and ``learning_starts``
are not searched (they follow the run's length: set them with ``--set``), nor is HER (the shipped yml turns it on
for the off-policy algorithms; ``--set her=false`` turns it off for the whole study). Any key given with ``--set``
is left out of the search and fixed for every trial.

A trial trains an :class:`~deep_arena.agents.arm.sb3_trainer.ArmTrainer` for ``--steps`` env steps; each evaluation
(every ``eval_every`` steps: ``eval_episodes`` seeded episodes) reports its mean return (or success rate, with
``--metric success_rate``) to the pruner.
"""

from __future__ import annotations

from typing import Any

from deep_arena.agents.arm.config import ALGOS, DEFAULTS, TASKS, default_config
from deep_arena.runtime.tuning import SearchSpace, TuneSpec
from deep_arena.agents.arm.commands import build_curriculum

__all__ = ["NET_ARCH", "search_space", "spec"]

GAMMAS = (0.9, 0.95, 0.98, 0.99, 0.995, 0.999)
NET_ARCH = {"small": [64, 64], "medium": [256, 256], "big": [400, 300]}
PPO_NET_ARCH = {name: {"pi": arch, "vf": arch} for name, arch in NET_ARCH.items() if name != "big"}


def search_space(space: SearchSpace, algo: str) -> None:
    """Draw one trial's values for ``algo`` (rl-zoo's ranges, see the module docstring)."""
    space.choice("model.gamma", GAMMAS)
    space.log_float("model.learning_rate", 1e-5, 1e-2)
    if algo == "ppo":
        n_steps = space.choice("model.n_steps", (64, 128, 256, 512, 1024, 2048))
        batch = space.choice("model.batch_size", (32, 64, 128, 256, 512))
        if n_steps is not None and batch is not None and batch > n_steps:
            space.set("model.batch_size", n_steps)  # SB3 wants batch_size <= n_steps * n_envs
        space.log_float("model.ent_coef", 1e-8, 0.1)
        space.choice("model.clip_range", (0.1, 0.2, 0.3, 0.4))
        space.choice("model.n_epochs", (1, 5, 10, 20))
        space.choice("model.gae_lambda", (0.8, 0.9, 0.92, 0.95, 0.98, 0.99, 1.0))
        space.choice("model.max_grad_norm", (0.3, 0.5, 0.7, 1.0, 2.0, 5.0))
        space.float("model.vf_coef", 0.0, 1.0)
        space.choice("model.policy_kwargs.net_arch", PPO_NET_ARCH)
        return
    space.choice("model.batch_size", (64, 128, 256, 512, 1024))
    train_freq = space.choice("model.train_freq", (1, 4, 8, 16, 32))
    if train_freq is not None:
        space.set("model.gradient_steps", train_freq)  # rl-zoo: one update per env step on average
    space.choice("model.tau", (0.005, 0.01, 0.02, 0.05, 0.08))
    space.choice("model.policy_kwargs.net_arch", NET_ARCH)
    if algo == "td3":
        space.float("action_noise_sigma", 0.0, 1.0)
    elif algo in ("sac", "tqc"):
        space.float("model.policy_kwargs.log_std_init", -4.0, 1.0)
    if algo in ("tqc", "sbx_tqc"):
        space.int("model.top_quantiles_to_drop_per_net", 0, 5)


def _base_config(args) -> dict[str, Any]:
    return default_config(args.task, args.algo)


def _validate(config: dict[str, Any]) -> None:
    from deep_arena.agents.arm import sb3_trainer as arm  # lazy: SB3 and MuJoCo only when a study runs

    arm.validate_config(config)


def _train(config: dict[str, Any], run_dir, reporter):
    from deep_arena.agents.arm import sb3_trainer as arm  # lazy: SB3 and MuJoCo, only when a trial trains

    trainer = arm.ArmTrainer(config, run_dir, progress_bar=False, curriculum=build_curriculum(config))
    trainer.on_evaluation = reporter
    return trainer.run()


def _evaluation_value(evaluation: dict[str, Any], metric: str) -> float:
    key = {"success_rate": "successes", "mean_return": "returns"}[metric]
    return float(evaluation[key].mean())


def _add_arguments(parser) -> None:
    parser.add_argument("--task", choices=tuple(TASKS), default="reach", help="default reach")


def spec() -> TuneSpec:
    """The arm's :class:`TuneSpec` (the task registry's ``tune`` hook)."""
    return TuneSpec(
        algorithms=ALGOS,
        metrics=("mean_return", "success_rate"),
        schema=DEFAULTS,
        base_config=_base_config,
        search_space=search_space,
        train=_train,
        evaluation_value=_evaluation_value,
        validate=_validate,
        add_arguments=_add_arguments,
        study_name=lambda args: f"arm-{args.task}-{args.algo}",
        train_command=lambda args, path: ["arena-train", "arm", "--task", args.task, "--algo", args.algo,
                                          "--config", str(path)],
    )
