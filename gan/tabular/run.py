"""A logged tabular GAN training run: :class:`TabularGANTrainer`, the trainer protocol of :mod:`runtime.trainer`
around the training loop :class:`TabularTrainer` (TensorBoard scalars and checkpoints, then the model file,
synthetic rows, the marginal figure and the per-class mean gap in the run directory), and :func:`train_run`, the
same in one call."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from deep_arena.gan.tabular.config import validate_config
from deep_arena.gan.tabular.data import Table, class_marginals, load_table
from deep_arena.gan.tabular.figure import marginal_figure
from deep_arena.gan.tabular.trainer import TabularTrainer, read_checkpoint
from deep_arena.runtime import CheckpointError, RunDir, make_writer, prepare_training
from deep_arena.runtime.interrupts import GracefulStop
from deep_arena.runtime.trainer import RunResult

__all__ = ["TabularGANTrainer", "train_run"]


class TabularGANTrainer:
    """A logged training run of the tabular GAN (the trainer protocol: ``load(checkpoint)`` to resume, ``run()``).

    ``run()`` writes TensorBoard scalars (``gan/*``: critic and generator losses, Wasserstein estimate, gradient
    penalty) and a real-vs-synthetic per-class marginal figure, ``model.pt`` (the file ``scripts/evaluate.py tabular
    --model`` reads), checkpoints every ``checkpoint_every`` epochs and at the end (``checkpoints/checkpoint_<step>.pt``,
    see :meth:`TabularTrainer.state_dict`), ``synthetic.csv`` (as many rows per class as the data) and
    ``marginals.png`` into ``run_dir``, and returns a :class:`RunResult` (:meth:`result`).

    :param config: checked by :func:`validate_config`; missing keys take their defaults (an older run's config).
    :param run_dir: may be ``None`` while the data is checked; set it before :meth:`run`.
    :param table: the data; default: :func:`load_table` of the config (a ``demo`` table is written into run_dir).

    The training loop (:attr:`loop`, a :class:`TabularTrainer`) is built by :meth:`load` from the checkpoint (its
    transformer and seed, not refitted) or, for a fresh run, by the first :meth:`run`; both seed and pick the device
    with ``prepare_training`` first, so a resumed run continues the interrupted one bit for bit.
    """

    def __init__(self, config: Mapping[str, Any], run_dir: RunDir | None, progress_bar: bool = True,
                 table: Table | None = None) -> None:
        self.config = validate_config(config).to_dict()
        self.run_dir = run_dir
        self.progress_bar = progress_bar
        self.table = table if table is not None else load_table(self.config,
                                                                run_dir.path if run_dir is not None else None)
        self.loop: TabularTrainer | None = None

    def load(self, checkpoint: Path) -> None:
        """Continue the checkpoint (see :func:`read_checkpoint`) up to ``epochs`` in all (``--resume``'s budget rule
        sets them: :func:`runtime.cli.resume_budget`); :class:`CheckpointError` when it does not fit the config or
        the data."""
        state = read_checkpoint(checkpoint)
        device = prepare_training(self.config)
        self.loop = TabularTrainer.from_checkpoint(state, self.table, self.config, device=device, path=checkpoint)

    @staticmethod
    def epochs_done(checkpoint: Path, batch_size: int) -> float:
        """The epochs a checkpoint has trained (its steps over the steps per epoch of its table at ``batch_size``);
        :class:`CheckpointError` for a broken file."""
        state = read_checkpoint(checkpoint)
        try:
            done, rows = int(state["counters"]["step"]), int(state["data"]["rows"])
        except (KeyError, TypeError, ValueError) as exc:
            raise CheckpointError(checkpoint, f"holds broken counters: {exc}") from None
        return done / max(1, rows // batch_size)

    def run(self) -> RunResult:
        if self.run_dir is None:
            raise ValueError("TabularGANTrainer.run needs a run directory")
        if self.loop is None:
            device = prepare_training(self.config)
            self.loop = TabularTrainer(self.table, self.config, device=device, seed=int(self.config["seed"]))
        loop, table, run_dir, seed = self.loop, self.table, self.run_dir, int(self.config["seed"])
        # TensorBoard events at or after the loop's step that an interrupted run left are purged: the curves continue
        writer = make_writer(run_dir.path, purge_step=loop.wgan.step or None)
        try:
            with GracefulStop() as stop:  # Ctrl-C / SIGTERM: finish the epoch, save, report (runtime.interrupts)
                record = loop.train(progress_bar=self.progress_bar, writer=writer, stop=stop,
                                    checkpoint=lambda t: t.save_checkpoint(run_dir.checkpoint_path(t.wgan.step)))
            model_path = loop.model.save(run_dir.path / "model.pt")
            if record["interrupted"]:  # no samples or figure: the user asked to stop
                record.update({"model": model_path, "mean_gap_std": float("nan"),
                               "steps_per_epoch": loop.steps_per_epoch})
                return self.result(record, stopped_by="interrupt")
            synthetic = loop.model.sample(table.class_counts(), seed=seed)
            synthetic.write_csv(run_dir.path / "synthetic.csv")
            fig = marginal_figure(table, synthetic)
            fig.savefig(run_dir.path / "marginals.png", dpi=90)
            writer.add_figure("samples/marginals", fig, loop.wgan.step)
            real_m, syn_m = class_marginals(table), class_marginals(synthetic)
            gaps = [abs(real_m[c][col]["mean"] - syn_m[c][col]["mean"]) / (float(table.data[col].std()) or 1.0)
                    for c in real_m for col in table.feature_columns if table.kinds[col] == "continuous"]
            record["mean_gap_std"] = float(np.mean(gaps)) if gaps else 0.0
            writer.add_scalar("samples/class_mean_gap_std", record["mean_gap_std"], loop.wgan.step)
        finally:
            writer.close()
        record.update({"model": model_path, "rows": table.n_rows, "classes": table.class_counts(),
                       "steps_per_epoch": loop.steps_per_epoch, "synthetic": run_dir.path / "synthetic.csv",
                       "marginals": run_dir.path / "marginals.png"})
        return self.result(record)

    def result(self, record: Mapping[str, Any], stopped_by: str = "budget") -> RunResult:
        """metrics: ``mean_gap_std`` (real vs synthetic per-class means of the continuous columns, in standard
        deviations), ``epochs`` and ``seconds``; counters: ``steps`` and ``steps_per_epoch``; details: ``record``
        (steps, seconds, epochs, mean_gap_std, model, rows, classes, steps_per_epoch, synthetic, marginals)."""
        return RunResult(run_dir=self.run_dir.path if self.run_dir is not None else None, model_path=record["model"],
                         metrics={"mean_gap_std": float(record["mean_gap_std"]), "epochs": float(record["epochs"]),
                                  "seconds": float(record["seconds"])},
                         counters={"steps": int(record["steps"]), "steps_per_epoch": int(record["steps_per_epoch"])},
                         stopped_by=stopped_by, details=dict(record))


def train_run(config: Mapping[str, Any], run_dir: RunDir, table: Table, progress_bar: bool = True,
              trainer: TabularTrainer | None = None) -> RunResult:
    """:class:`TabularGANTrainer` ``(config, run_dir, progress_bar, table=table).run()`` in one call.

    :param trainer: a training loop to continue (from :meth:`TabularTrainer.from_checkpoint`, after
        ``prepare_training``) instead of a fresh one.
    """
    run = TabularGANTrainer(config, run_dir, progress_bar=progress_bar, table=table)
    run.loop = trainer
    return run.run()
