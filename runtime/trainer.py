"""The one trainer protocol every learner follows (AlphaZero, MolDQN, the SB3 runners, the GANs).

A trainer is built from a checked config and a run directory, ``run()`` trains until its budget is spent and returns
one :class:`RunResult`, and ``load(checkpoint)`` restores a saved state so that the next ``run()`` continues
(``--resume``)::

    trainer = SomeTrainer(config, run_dir, progress_bar=True)
    trainer.load(latest_checkpoint)          # only when resuming
    result = trainer.run()
    print(result.summary())

The scripts print ``result.summary()`` and nothing trainer-specific; ``result.details`` keeps whatever else a trainer
reports (per-opponent match records, top molecules...) for callers that want it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

__all__ = ["RunResult", "Trainer"]


@dataclass
class RunResult:
    """What a finished (or interrupted) run reports."""

    run_dir: Path | None
    model_path: Path | None  # the file `evaluate` / `play` load (model.pt, final_model.zip, generator.pt...)
    metrics: dict[str, float] = field(default_factory=dict)  # final figures, flat: {"eval/win_rate_random": 0.9}
    counters: dict[str, int] = field(default_factory=dict)  # work done: {"iteration": 12, "env_steps": 3072}
    stopped_by: str = "budget"  # "budget" (steps/iterations/epochs), "minutes", "interrupt", "target", "pruned"
    details: dict[str, Any] = field(default_factory=dict)  # trainer-specific record

    def summary(self) -> str:
        """Two or three lines for the console: counters, metrics, where the model is."""
        counters = ", ".join(f"{k} {v:,}" for k, v in self.counters.items())
        metrics = ", ".join(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}" for k, v in self.metrics.items())
        lines = [f"stopped by {self.stopped_by}" + (f" after {counters}" if counters else "")]
        if metrics:
            lines.append(metrics)
        if self.model_path is not None:
            lines.append(f"model: {self.model_path}")
        return "\n".join(lines)


@runtime_checkable
class Trainer(Protocol):
    """Build with ``(config, run_dir, progress_bar=...)``; ``load`` a checkpoint to resume; ``run`` to train."""

    config: dict[str, Any]

    def load(self, checkpoint: Path) -> None: ...

    def run(self) -> RunResult: ...
