"""Hyperparameter search with Optuna (``arena-tune``): what a family declares and what the trainers call.

A family that can be tuned gives its :class:`~deep_arena.agents.registry.Task` a ``tune`` hook: a function (called
on first use, so the family's heavy imports wait) returning a :class:`TuneSpec`, kept in its own folder (e.g.
``agents/arm/tune.py``). The spec says

* which algorithms can be tuned and which final figure is the objective (``metrics``, the first is the default),
* the family's base config for an algorithm (its defaults and shipped hyperparameters, like ``arena-train``),
* the search space per algorithm: ``search_space(space, algo)`` draws values through a :class:`SearchSpace`
  (``space.log_float("model.learning_rate", 1e-5, 1e-2)``...), keyed by dotted config keys,
* how one trial trains: ``train(config, run_dir, reporter) -> RunResult``.

Pruning: the trainer calls ``reporter(step, evaluation)`` after each intermediate evaluation (for the SB3 runner:
``SB3Trainer.on_evaluation``); a :class:`TrialReporter` reports the evaluation's figure to the Optuna trial and
returns False when the pruner says stop. The trainer then stops learning, finishes as usual, and
``stopped_by == "pruned"``; the tuning command marks the trial pruned. Without a reporter nothing changes.

Optuna is imported only here and only when a study runs (``pip install -e .[scale]``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from deep_arena.runtime.config import _nest, deep_merge
from deep_arena.runtime.config import apply_overrides

__all__ = ["SearchSpace", "TrialReporter", "TuneSpec", "nest", "require_optuna"]


def require_optuna():
    """The ``optuna`` module, or ``ImportError`` saying how to install it."""
    try:
        import optuna  # lazy: an optional extra (pip install -e ".[scale]"), only when a search runs
    except ImportError:  # pragma: no cover - depends on the environment
        raise ImportError("hyperparameter search needs Optuna: pip install 'optuna>=3.6' "
                          "(or pip install -e '.[scale]')") from None
    return optuna


def nest(flat: Mapping[str, Any]) -> dict[str, Any]:
    """``{"model.gamma": 0.98}`` -> ``{"model": {"gamma": 0.98}}`` (the layout ``--config`` files have)."""
    return _nest(flat)


class SearchSpace:
    """Draws a trial's values by dotted config key; keys in ``fixed`` (set with ``--set``) are not searched.

    Each method returns the value drawn (or None for a fixed key) and records it in :attr:`values`, the
    ``{dotted key: value}`` that is laid over the base config. The Optuna parameter is named by the key.
    """

    def __init__(self, trial: Any, fixed: Sequence[str] = ()) -> None:
        self.trial = trial
        self.fixed = frozenset(fixed)
        self.values: dict[str, Any] = {}

    def _skip(self, key: str) -> bool:
        return any(key == f or key.startswith(f + ".") for f in self.fixed)

    def log_float(self, key: str, low: float, high: float) -> float | None:
        if self._skip(key):
            return None
        value = self.values[key] = float(self.trial.suggest_float(key, low, high, log=True))
        return value

    def float(self, key: str, low: float, high: float) -> float | None:
        if self._skip(key):
            return None
        value = self.values[key] = float(self.trial.suggest_float(key, low, high))
        return value

    def int(self, key: str, low: int, high: int, log: bool = False) -> int | None:
        if self._skip(key):
            return None
        value = self.values[key] = int(self.trial.suggest_int(key, low, high, log=log))
        return value

    def choice(self, key: str, choices: Sequence[Any] | Mapping[str, Any]) -> Any:
        """One of ``choices``; with a mapping, Optuna picks a name and the config gets its value (for lists such
        as network widths, which Optuna cannot store as choices)."""
        if self._skip(key):
            return None
        if isinstance(choices, Mapping):
            name = self.trial.suggest_categorical(key, list(choices))
            value = choices[name]
        else:
            value = self.trial.suggest_categorical(key, list(choices))
        self.values[key] = value
        return value

    def set(self, key: str, value: Any) -> None:
        """A value derived from the drawn ones (not searched itself), e.g. ``gradient_steps = train_freq``."""
        if not self._skip(key):
            self.values[key] = value


class TrialReporter:
    """``reporter(step, evaluation) -> bool``: reports ``value(evaluation)`` to the Optuna ``trial`` at ``step``
    (env steps) and returns False once the trial should be pruned (:attr:`pruned` then says so)."""

    def __init__(self, trial: Any, value: Callable[[Any], float]) -> None:
        self.trial = trial
        self.value = value
        self.pruned = False
        self.reports: list[tuple[int, float]] = []

    def __call__(self, step: int, evaluation: Any) -> bool:
        value = float(self.value(evaluation))
        self.reports.append((int(step), value))
        self.trial.report(value, int(step))
        if self.trial.should_prune():
            self.pruned = True
            return False
        return True


@dataclass(frozen=True)
class TuneSpec:
    """What ``arena-tune FAMILY`` needs from a family (see the module docstring).

    :param algorithms: the algorithms with a search space.
    :param metrics: names of final figures (``RunResult.metrics`` keys) that can be the objective; first: default.
    :param base_config: ``(args) -> config``: the family's defaults for ``args.algo`` (and its own flags).
    :param search_space: ``(space, algo) -> None``: draw the trial's values through ``space``.
    :param train: ``(config, run_dir, reporter) -> RunResult``: train one trial, calling ``reporter`` after each
        intermediate evaluation.
    :param evaluation_value: ``(evaluation, metric) -> float``: the objective's figure from one intermediate
        evaluation (what the trainer hands the reporter).
    :param validate: ``(config) -> None``: ``ValueError`` for a bad config (before any run directory exists).
    :param add_arguments: ``(parser) -> None``: the family's own flags (e.g. the arm's ``--task``).
    :param study_name: ``(args) -> str``: the default study name.
    :param train_command: ``(args, best_file) -> argv``: the ``arena-train`` command that uses the best values.
    :param schema: the valid config keys when not ``base_config``'s (see ``runtime.cli.build_config``).
    :param steps_key: the config key ``--steps`` sets; ``eval_key``: the one ``--evaluations`` derives.
    :param direction: ``"maximize"`` or ``"minimize"``.
    """

    algorithms: tuple[str, ...]
    metrics: tuple[str, ...]
    base_config: Callable[[Any], dict[str, Any]]
    search_space: Callable[[SearchSpace, str], None]
    train: Callable[[dict[str, Any], Any, Callable[[int, Any], bool] | None], Any]
    evaluation_value: Callable[[Any, str], float]
    validate: Callable[[dict[str, Any]], None] = lambda config: None
    add_arguments: Callable[[Any], None] = lambda parser: None
    study_name: Callable[[Any], str] = lambda args: f"{args.algo}"
    train_command: Callable[[Any, str], list[str]] = field(default=lambda args, path: [])
    schema: dict[str, Any] | None = None  # the valid config keys when not base_config's (typed settings' defaults)
    steps_key: str = "total_steps"
    eval_key: str = "eval_every"
    direction: str = "maximize"


def trial_config(base: Mapping[str, Any], values: Mapping[str, Any], overrides: Sequence[str] = ()) -> dict[str, Any]:
    """``base`` < the trial's drawn ``values`` (dotted keys) < ``--set`` overrides."""

    return apply_overrides(deep_merge(base, nest(values)), list(overrides))
