"""A logged tabular GAN training run (:func:`train_run`): the trainer with TensorBoard scalars and checkpoints, then
the model file, synthetic rows, the marginal figure and the per-class mean gap in the run directory."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from deep_arena.gan.tabular.data import Table, class_marginals
from deep_arena.gan.tabular.figure import marginal_figure
from deep_arena.gan.tabular.trainer import TabularTrainer
from deep_arena.runtime import make_writer, prepare_training

__all__ = ["train_run"]


def train_run(config: Mapping[str, Any], run_dir: Any, table: Table, progress_bar: bool = True,
              trainer: TabularTrainer | None = None) -> dict[str, Any]:
    """A logged training run: TensorBoard scalars (``gan/*``: critic and generator losses, Wasserstein estimate,
    gradient penalty) and a real-vs-synthetic per-class marginal figure, ``model.pt`` (the file
    ``scripts/evaluate.py tabular --model`` reads), checkpoints every ``checkpoint_every`` epochs and at the end
    (``checkpoints/checkpoint_<step>.pt``, see :meth:`TabularTrainer.state_dict`), ``synthetic.csv`` (as many rows
    per class as the data) and ``marginals.png`` in ``run_dir``.

    :param trainer: a trainer to continue (from :meth:`TabularTrainer.from_checkpoint`, after
        ``prepare_training``); TensorBoard events at or after its step left by the interrupted run are purged, so
        the curves continue. Default: a fresh trainer.
    """
    if trainer is None:
        device = prepare_training(dict(config))
        trainer = TabularTrainer(table, config, device=device, seed=int(config["seed"]))
    writer = make_writer(run_dir.path, purge_step=trainer.wgan.step or None)
    try:
        result = trainer.train(progress_bar=progress_bar, writer=writer,
                               checkpoint=lambda t: t.save_checkpoint(run_dir.checkpoint_path(t.wgan.step)))
        model_path = trainer.model.save(run_dir.path / "model.pt")
        synthetic = trainer.model.sample(table.class_counts(), seed=int(config["seed"]))
        synthetic.write_csv(run_dir.path / "synthetic.csv")
        fig = marginal_figure(table, synthetic)
        fig.savefig(run_dir.path / "marginals.png", dpi=90)
        writer.add_figure("samples/marginals", fig, trainer.wgan.step)
        real_m, syn_m = class_marginals(table), class_marginals(synthetic)
        gaps = [abs(real_m[c][col]["mean"] - syn_m[c][col]["mean"]) / (float(table.data[col].std()) or 1.0)
                for c in real_m for col in table.feature_columns if table.kinds[col] == "continuous"]
        result["mean_gap_std"] = float(np.mean(gaps)) if gaps else 0.0
        writer.add_scalar("samples/class_mean_gap_std", result["mean_gap_std"], trainer.wgan.step)
    finally:
        writer.close()
    result.update({"model": model_path, "rows": table.n_rows, "classes": table.class_counts(),
                   "steps_per_epoch": trainer.steps_per_epoch})
    return result
