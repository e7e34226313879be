"""The skeleton every SB3 trainer follows (the trainer protocol of :mod:`runtime.trainer`).

A family's trainer subclasses :class:`SB3Trainer` and fills in what is env-specific::

    class MyTrainer(SB3Trainer):
        settings_class = MySettings        # typed config; checked (and missing keys defaulted) on construction
        algorithm = "maskable_ppo"         # or override algo_name()

        def make_venv(self): ...           # the vectorised training env
        def model_kwargs(self, venv): ...  # the algorithm's constructor arguments (policy_kwargs, hyperparameters)
        def callbacks(self): ...           # evaluation, checkpoints... (agents.sb3.callbacks), in calling order
        def finish(self): ...              # final evaluation and outputs -> self.result(...)

The config must have ``total_steps`` (env steps, counted across a resume), ``minutes`` (optional wall-clock budget
on top, the run's training time across resumes) and the run settings ``seed``, ``device`` and ``threads``. ``run()``
builds the model (unless :meth:`load` restored one), logs to TensorBoard in the run directory (a resumed run purges
what the interrupted one logged after its checkpoint), learns until the budget is spent, calls :meth:`finish` and
closes the envs. Ctrl-C or SIGTERM while it learns (:class:`runtime.interrupts.GracefulStop`) stops at the next
step: :meth:`interrupted` saves a checkpoint and the final model, with no final evaluation, and the result says
``stopped_by="interrupt"``. :meth:`load` is refused unless a subclass supports resuming.

Hyperparameter search (:mod:`runtime.tuning`): set ``on_evaluation`` (constructor argument or attribute) to a
``(step, evaluation) -> bool`` function; after every evaluation of an :class:`EvaluationCallback` the family's
``callbacks()`` return it is called with the env step and that evaluation's result, and False stops learning there
(the run then finishes as usual, without another evaluation, and says ``stopped_by="pruned"``). None: no change.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.callbacks import BaseCallback, CallbackList

from deep_arena.agents.sb3.callbacks import EvaluationCallback, StopCallback, TimeBudgetCallback
from deep_arena.agents.sb3.checkpoints import Checkpointer
from deep_arena.agents.sb3.models import algo_class, attach_tensorboard, load_for_training, trained_seconds
from deep_arena.runtime.config import deep_merge
from deep_arena.runtime.device import prepare_training
from deep_arena.runtime.interrupts import GracefulStop
from deep_arena.runtime.rundir import RunDir
from deep_arena.runtime.settings import Settings
from deep_arena.runtime.trainer import RunResult

__all__ = ["FINAL_MODEL", "EvaluationReportCallback", "SB3Trainer"]

FINAL_MODEL = "final_model.zip"  # what `evaluate` and `play` load (no replay buffer)


class EvaluationReportCallback(BaseCallback):
    """After each new result of ``evaluations`` (:class:`EvaluationCallback` objects listed before this one), calls
    ``report(step, result)``; a False answer stops training (:attr:`stopped` then says so)."""

    def __init__(self, evaluations: list[EvaluationCallback], report: Any) -> None:
        super().__init__()
        self.evaluations = evaluations
        self.report = report
        self.seen: dict[int, int | None] = {}
        self.stopped = False

    def _on_training_start(self) -> None:
        self.seen = {id(e): e.last_step for e in self.evaluations}

    def _on_step(self) -> bool:
        for evaluation in self.evaluations:
            if evaluation.last_step is not None and evaluation.last_step != self.seen.get(id(evaluation)):
                self.seen[id(evaluation)] = evaluation.last_step
                if not self.report(int(evaluation.last_step), evaluation.last):
                    self.stopped = True
                    return False
        return True


class SB3Trainer:
    """Build with ``(config, run_dir, progress_bar=...)``; ``load(checkpoint)`` where supported; ``run()``."""

    settings_class: ClassVar[type[Settings]]
    algorithm: ClassVar[str] = ""
    policy: ClassVar[str] = "MlpPolicy"

    def __init__(self, config: dict[str, Any], run_dir: RunDir | None, progress_bar: bool = True,
                 on_evaluation: Any = None) -> None:
        config = deep_merge(self.settings_class.defaults(), config)  # settings added since a run's config was saved
        self.settings = self.settings_class.from_dict(config)
        self.config = config
        self.run_dir = run_dir
        self.progress_bar = progress_bar
        self.device = prepare_training(config)
        self.model: BaseAlgorithm | None = None
        self.venv: Any = None
        self.resumed_from: Path | None = None
        self.checkpointer: Checkpointer | None = None  # set by a family's prepare() or callbacks()
        self.stopped_by = "budget"
        self.on_evaluation = on_evaluation  # (step, evaluation) -> bool: hyperparameter search's pruning hook
        self._ready = False

    # -- what a family fills in ------------------------------------------------------------------------------------

    def algo_name(self) -> str:
        return self.algorithm

    def policy_name(self) -> str:
        return self.policy

    def make_venv(self) -> Any:
        raise NotImplementedError

    def model_kwargs(self, venv: Any) -> dict[str, Any]:
        return {}

    def custom_objects(self, venv: Any) -> dict[str, Any]:
        """Objects that replace the saved ones when a checkpoint loads (e.g. a fresh exploration noise)."""
        return {}

    def prepare(self) -> None:
        """After the model exists (built or loaded) and logs to TensorBoard, before learning."""

    def callbacks(self) -> list[BaseCallback]:
        return []

    def finish(self) -> RunResult:
        raise NotImplementedError

    def interrupted(self) -> RunResult:
        """After Ctrl-C / SIGTERM: a checkpoint (``self.checkpointer``'s, with its buffer and extra state) and the
        final model, no final evaluation. Families add what they keep beside them."""
        checkpointer = self.checkpointer or Checkpointer(self.run_dir.checkpoints_dir)
        checkpointer.save(self.model)
        self.model.save(self.run_dir.path / FINAL_MODEL)
        return self.result({})

    def close(self) -> None:
        """The training env and the TensorBoard logger (their files flushed); subclasses close what they add."""
        if self.venv is not None:
            self.venv.close()
        if self._ready:
            self.model.logger.close()

    # -- shared -------------------------------------------------------------------------------------------------------

    def build(self) -> BaseAlgorithm:
        """A fresh model on a fresh training env."""
        self.venv = self.make_venv()
        cls = algo_class(self.algo_name())
        return cls(self.policy_name(), self.venv, seed=self.config["seed"], device=self.device, verbose=0,
                   **self.model_kwargs(self.venv))

    def load(self, checkpoint: Path) -> None:
        """Continue from ``checkpoint``: refused here; trainers that can resume override it (see
        :meth:`load_model`)."""
        raise ValueError(f"resuming {self.algo_name()} runs is not supported yet; its checkpoints "
                         f"(checkpoints/model_*.zip) load with {algo_class(self.algo_name()).__name__}.load")

    def load_model(self, checkpoint: Path) -> BaseAlgorithm:
        """The model of ``checkpoint`` on a fresh training env, ready to continue (:meth:`load`'s first half)."""
        self.venv = self.make_venv()
        self.model = load_for_training(algo_class(self.algo_name()), checkpoint, self.venv, self.device,
                                       self.config["seed"], custom_objects=self.custom_objects(self.venv))
        self.resumed_from = Path(checkpoint)
        return self.model

    def setup(self) -> SB3Trainer:
        """Build the model (unless one was loaded), attach the TensorBoard logger, :meth:`prepare`; once."""
        if not self._ready:
            if self.model is None:
                self.model = self.build()
            # a resumed run hides what the interrupted one logged after the checkpoint's step
            purge = self.model.num_timesteps + 1 if self.resumed_from is not None else None
            attach_tensorboard(self.model, self.run_dir.path, purge_step=purge)
            self.prepare()
            self._ready = True
        return self

    def run(self) -> RunResult:
        """Learn up to ``total_steps`` (or ``minutes``), then :meth:`finish` (after Ctrl-C / SIGTERM:
        :meth:`interrupted`); the envs are closed in any case."""
        try:
            self.setup()
            budget = TimeBudgetCallback(self.config["minutes"], seconds_before=trained_seconds(self.model))
            remaining = self.config["total_steps"] - self.model.num_timesteps
            with GracefulStop() as stop:  # the first signal stops at the next step; a second one quits at once
                callbacks = self.callbacks()
                reporter = None
                if self.on_evaluation is not None:
                    reporter = EvaluationReportCallback([c for c in callbacks if isinstance(c, EvaluationCallback)],
                                                        self.on_evaluation)
                    callbacks.append(reporter)
                callback = CallbackList([budget, StopCallback(stop), *callbacks])
                if remaining > 0:
                    self.model.learn(total_timesteps=remaining, callback=callback, progress_bar=self.progress_bar,
                                     reset_num_timesteps=False)
            if stop.requested:
                self.stopped_by = "interrupt"
                return self.interrupted()
            self.stopped_by = ("pruned" if reporter is not None and reporter.stopped else
                               "minutes" if budget.spent else "budget")
            return self.finish()
        finally:
            self.close()

    def result(self, metrics: dict[str, float], details: dict[str, Any] | None = None,
               counters: dict[str, int] | None = None) -> RunResult:
        """The run's :class:`RunResult`: ``final_model.zip``, the env steps done and what the trainer reports."""
        return RunResult(run_dir=self.run_dir.path, model_path=self.run_dir.path / FINAL_MODEL, metrics=metrics,
                         counters={"env_steps": int(self.model.num_timesteps), **(counters or {})},
                         stopped_by=self.stopped_by, details=details or {})
