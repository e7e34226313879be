"""Molecule design's hyperparameter search (``arena-tune molecule --algo moldqn``): MolDQN's search space and one
trial's training.

The space covers what decides a MolDQN run: the learning rate (1e-5 to 1e-3), the discount, the batch size, updates
per env step (``train_every``), the target network's averaging (``polyak``), the exploration schedule (epsilon's
end value and the share of the episodes it decays over) and the Q network's widths. The replay size and
``learning_starts`` follow the run's length and the env settings define the problem: set them with ``--set``, as any
key given with ``--set`` is fixed for every trial and left out of the search.

``--steps`` counts a trial's episodes. Every ``eval_every`` episodes (``--evaluations N``: N per trial; default
five) the greedy policy builds ``eval_episodes`` molecules and their mean score goes to the median pruner; the
objective is the final evaluation's score (``eval_score``, default) or the best molecule found in training
(``top1``).
"""

from __future__ import annotations

from typing import Any

from deep_arena.runtime.tuning import SearchSpace, TuneSpec

__all__ = ["GAMMAS", "HIDDEN", "search_space", "spec"]

GAMMAS = (0.9, 0.95, 0.99, 1.0)
HIDDEN = {"small": [128, 32], "medium": [512, 128, 32], "big": [1024, 512, 128, 32]}
#: objectives that need no further settings (similarity and multi need a target or weights: give them with --set)
TUNE_OBJECTIVES = ("qed", "plogp", "plogp_zinc", "logp", "sa")


def search_space(space: SearchSpace, algo: str) -> None:
    """Draw one trial's MolDQN values (see the module docstring)."""
    if algo != "moldqn":
        raise ValueError(f"no search space for {algo!r}")
    space.log_float("lr", 1e-5, 1e-3)
    space.choice("gamma", GAMMAS)
    space.choice("batch_size", (32, 64, 128, 256))
    space.choice("train_every", (1, 2, 4))
    space.choice("polyak", (0.99, 0.995, 0.999))
    space.choice("epsilon.end", (0.01, 0.02, 0.05, 0.1))
    space.float("epsilon.decay_fraction", 0.2, 0.9)
    space.choice("net.hidden", HIDDEN)


def _base_config(args) -> dict[str, Any]:
    from deep_arena.agents.moldqn.trainer import DEFAULTS  # lazy: RDKit and torch, only when a study runs
    from deep_arena.runtime.config import deep_merge  # lazy: with the line above (a study is running)

    return deep_merge(DEFAULTS, {"objective": args.objective})


def _validate(config: dict[str, Any]) -> None:
    from deep_arena.agents.moldqn.trainer import validate_config  # lazy: RDKit and torch, only when a study runs

    validate_config(config)


def _train(config: dict[str, Any], run_dir, reporter):
    from deep_arena.agents.moldqn.trainer import MolDQNTrainer  # lazy: RDKit and torch, only when a trial trains

    if not config.get("eval_every"):  # the pruner needs intermediate evaluations: five per trial by default
        config = {**config, "eval_every": max(1, int(config["episodes"]) // 5)}
    trainer = MolDQNTrainer(config, run_dir, progress_bar=False)
    trainer.on_evaluation = reporter
    return trainer.run()


def _evaluation_value(evaluation: dict[str, Any], metric: str) -> float:
    return float(evaluation["mean_score"] if metric == "eval_score" else evaluation["best_score"])


def _add_arguments(parser) -> None:
    parser.add_argument("--objective", choices=TUNE_OBJECTIVES, default="qed", help="what the reward scores "
                                                                                   "(default qed)")


def _schema() -> dict[str, Any]:
    from deep_arena.agents.moldqn.trainer import DEFAULTS  # lazy: RDKit and torch, only when a study runs

    return DEFAULTS


def spec() -> TuneSpec:
    """Molecule design's :class:`TuneSpec` (the task registry's ``tune`` hook): MolDQN."""
    return TuneSpec(
        algorithms=("moldqn",),
        metrics=("eval_score", "top1"),
        schema=_schema(),
        base_config=_base_config,
        search_space=search_space,
        train=_train,
        evaluation_value=_evaluation_value,
        validate=_validate,
        add_arguments=_add_arguments,
        study_name=lambda args: f"molecule-{args.objective}-{args.algo}",
        train_command=lambda args, path: ["arena-train", "molecule", "--algo", args.algo, "--objective",
                                          args.objective, "--config", str(path)],
        steps_key="episodes",
    )
