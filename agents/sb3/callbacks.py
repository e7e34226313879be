"""The SB3 runner's callbacks, one concern each, at module level (a trainer composes them; SB3's ``CallbackList``
calls them in list order at every step, so list them in the order their work must happen: the time budget (it
records the run's training seconds that a checkpoint saves), episode statistics, evaluation, snapshots, checkpoint).

Schedules count env steps and fire at the first step at or past each multiple of ``every`` (with ``n_envs`` copies
a step adds ``n_envs``), so a resumed run keeps the schedule of the run it continues. Pictures go to TensorBoard
only (:func:`log_image`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.logger import Image

__all__ = ["SECONDS_ATTR", "CheckpointCallback", "EpisodeEndCallback", "EvaluationCallback", "HookCallback",
           "PeriodicCallback", "StopCallback", "TimeBudgetCallback", "frame_strip", "log_image", "next_multiple"]

#: The model attribute that holds a run's training seconds (saved in the zip's ``data``; a resume counts from it).
SECONDS_ATTR = "arena_seconds"

#: The logger outputs a picture must skip (only TensorBoard shows it).
TEXT_OUTPUTS = ("stdout", "log", "json", "csv")


def next_multiple(step: int, every: int) -> int:
    """The first multiple of ``every`` after ``step``."""
    return (step // every + 1) * every


def log_image(logger: Any, tag: str, image: np.ndarray) -> None:
    """Record an HWC uint8 picture under ``tag`` for the next ``logger.dump`` (TensorBoard only)."""
    logger.record(tag, Image(image, "HWC"), exclude=TEXT_OUTPUTS)


def frame_strip(frames: list[np.ndarray], gap: int = 2) -> np.ndarray:
    """Frames side by side (HWC uint8) with ``gap`` white pixels between them."""
    h = max(f.shape[0] for f in frames)
    parts = []
    for k, f in enumerate(frames):
        if f.shape[0] < h:
            f = np.pad(f, ((0, h - f.shape[0]), (0, 0), (0, 0)))
        parts.append(f)
        if k < len(frames) - 1 and gap:
            parts.append(np.full((h, gap, 3), 255, np.uint8))
    return np.concatenate(parts, axis=1)


class PeriodicCallback(BaseCallback):
    """Calls ``action(model)`` every ``every`` env steps."""

    def __init__(self, every: int, action: Callable[[Any], Any]) -> None:
        super().__init__()
        self.every = int(every)
        self.action = action
        self.next_step: int | None = None

    def _on_training_start(self) -> None:
        self.next_step = next_multiple(self.num_timesteps, self.every)

    def _on_step(self) -> bool:
        if self.num_timesteps >= self.next_step:
            self.next_step = next_multiple(self.num_timesteps, self.every)
            self.action(self.model)
        return True


class EvaluationCallback(PeriodicCallback):
    """Every ``every`` steps, ``evaluate(model)`` (the caller's: it plays games or episodes and records its
    figures on ``model.logger``); then, with ``speed_tag``, the env steps per second since training started, and with
    ``dump`` the logger's dump at the current step. :meth:`evaluate_now` runs one outside the schedule (the final
    evaluation); ``last`` / ``last_step`` hold the newest result and its step."""

    def __init__(self, every: int, evaluate: Callable[[Any], Any], speed_tag: str | None = "time/steps_per_second",
                 dump: bool = True) -> None:
        super().__init__(every, self.evaluate_now)
        self.evaluate = evaluate
        self.speed_tag = speed_tag
        self.dump = dump
        self.started = time.time()
        self.start_steps: int | None = None
        self.last: Any = None
        self.last_step: int | None = None

    def _on_training_start(self) -> None:
        super()._on_training_start()
        self.start_steps = self.num_timesteps

    def evaluate_now(self, model: Any) -> Any:
        result = self.evaluate(model)
        step = int(model.num_timesteps)
        if self.start_steps is None:  # no learning happened in this process (the budget was already spent)
            self.start_steps = step
        elapsed = time.time() - self.started
        if self.speed_tag and elapsed > 0:
            model.logger.record(self.speed_tag, (step - self.start_steps) / elapsed)
        if self.dump:
            model.logger.dump(step)
        self.last, self.last_step = result, step
        return result


class CheckpointCallback(PeriodicCallback):
    """Every ``every`` steps, ``checkpointer.save(model)`` (:class:`agents.sb3.checkpoints.Checkpointer`), then
    ``then(model)`` if given (outputs a trainer refreshes with each checkpoint)."""

    def __init__(self, every: int, checkpointer: Any, then: Callable[[Any], Any] | None = None) -> None:
        super().__init__(every, self.save)
        self.checkpointer = checkpointer
        self.then = then

    def save(self, model: Any) -> None:
        self.checkpointer.save(model)
        if self.then is not None:
            self.then(model)


class TimeBudgetCallback(BaseCallback):
    """Stops training once the run has trained ``minutes`` (None: never): ``seconds_before`` (what a resumed run
    had already trained) plus the time since this callback was made; ``spent`` says whether it did. Every step it
    also records the run's training seconds on the model (``model.arena_seconds``, saved in its zip: what the next
    resume counts from), so list it first, before the checkpoint."""

    def __init__(self, minutes: float | None, seconds_before: float = 0.0) -> None:
        super().__init__()
        self.minutes = minutes
        self.seconds_before = float(seconds_before)
        self.started = time.time()
        self.spent = False

    def seconds(self) -> float:
        """The run's training seconds so far (across resumes)."""
        return self.seconds_before + time.time() - self.started

    def _on_step(self) -> bool:
        seconds = self.seconds()
        setattr(self.model, SECONDS_ATTR, seconds)
        if self.minutes is not None and seconds > 60.0 * self.minutes:
            self.spent = True
            return False
        return True


class StopCallback(BaseCallback):
    """Stops training at the next step once ``stop.requested`` (a :class:`runtime.interrupts.GracefulStop`: Ctrl-C
    or SIGTERM); the trainer then saves and reports."""

    def __init__(self, stop: Any) -> None:
        super().__init__()
        self.stop = stop

    def _on_step(self) -> bool:
        return not self.stop.requested


class EpisodeEndCallback(BaseCallback):
    """Calls ``on_episode_end(info)`` with the final ``info`` of every episode that ends (any env of the vector)."""

    def __init__(self, on_episode_end: Callable[[dict[str, Any]], Any]) -> None:
        super().__init__()
        self.on_episode_end = on_episode_end

    def _on_step(self) -> bool:
        for done, info in zip(self.locals["dones"], self.locals["infos"]):
            if done:
                self.on_episode_end(info)
        return True


class HookCallback(BaseCallback):
    """``on_training_start(model)`` and ``on_rollout_end(model)``, each optional."""

    def __init__(self, on_training_start: Callable[[Any], Any] | None = None,
                 on_rollout_end: Callable[[Any], Any] | None = None) -> None:
        super().__init__()
        self.training_start = on_training_start
        self.rollout_end = on_rollout_end

    def _on_training_start(self) -> None:
        if self.training_start is not None:
            self.training_start(self.model)

    def _on_rollout_end(self) -> None:
        if self.rollout_end is not None:
            self.rollout_end(self.model)

    def _on_step(self) -> bool:
        return True
