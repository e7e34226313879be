"""Training of the tabular GAN: :class:`TabularTrainer` (training-by-sampling on the WGAN-GP core, resumable from
its checkpoints), :func:`train_model` (fit and train in one call), the checkpoint file (:func:`read_checkpoint`) and
the data fingerprint a resumed run checks (:func:`table_fingerprint`)."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from deep_arena.gan.tabular.config import validate_config
from deep_arena.gan.tabular.data import Table, TabularDataError, category_sort_key, check_classes
from deep_arena.gan.tabular.model import TabularGAN
from deep_arena.gan.tabular.networks import activate
from deep_arena.gan.tabular.transformer import TabularTransformer
from deep_arena.gan.wgan import WGANGP
from deep_arena.runtime import CheckpointError, load_checkpoint, progress, save_checkpoint

__all__ = ["CHECKPOINT_KIND", "TabularTrainer", "train_model", "class_probabilities", "read_checkpoint",
           "table_fingerprint"]

CHECKPOINT_KIND = "tabular-gan-checkpoint"
CHECKPOINT_VERSION = 2       # 1 (before resuming existed) held no counters, RNG states or data fingerprint


def class_probabilities(counts: Sequence[int], rule: str = "log") -> np.ndarray:
    """Training-by-sampling class probabilities: ∝ log(1 + count) (CTGAN's), uniform, or the frequencies."""
    c = np.asarray(counts, dtype=np.float64)
    p = {"log": np.log1p(c), "uniform": np.ones_like(c), "frequency": c}[rule]
    return p / p.sum()


def table_fingerprint(table: Table) -> str:
    """SHA-256 of a table's columns, kinds and values: a resumed run refuses data that changed since it started."""
    h = hashlib.sha256()
    for col in table.columns:
        h.update(f"{col}\x1e{table.kinds[col]}\x1e".encode())
        values = table.data[col]
        if table.kinds[col] == "continuous":
            h.update(np.ascontiguousarray(values, dtype="<f8").tobytes())
        else:
            h.update("\x1f".join(map(str, values)).encode())
        h.update(b"\x1d")
    return h.hexdigest()


def read_checkpoint(path: str | Path) -> dict[str, Any]:
    """A training checkpoint written by :meth:`TabularTrainer.save_checkpoint` (``weights_only``).

    :raises CheckpointError: one line naming the file: missing, corrupt, not a tabular GAN checkpoint, or written
        before checkpoints could be resumed.
    """
    state = load_checkpoint(path, map_location="cpu")
    if state.get("kind") != CHECKPOINT_KIND:
        raise CheckpointError(path, f"is not a tabular GAN training checkpoint (kind {state.get('kind')!r})")
    missing = [k for k in ("config", "wgan", "transformer", "counters", "rng", "torch_rng", "data") if k not in state]
    if missing:
        raise CheckpointError(path, f"cannot be resumed: it lacks {', '.join(missing)} (written before tabular GAN "
                                    "runs were resumable?)")
    return state


class TabularTrainer:
    """Training-by-sampling WGAN-GP loop for :class:`TabularGAN` on the shared :class:`gan.wgan.WGANGP` core.

    Resumable: :meth:`state_dict` holds the WGAN-GP state (both nets, both Adam optimizers, the AMP scaler, step
    counters), the fitted transformer, the counters, the unlogged metric window, the NumPy and torch (and CUDA)
    generator states and a fingerprint of the table; :meth:`from_checkpoint` rebuilds the trainer from it (the
    transformer is taken from the checkpoint, not refitted). On the same device and torch build, ``epochs`` 2 then a
    resume to 4 gives bit-identical weights to a straight 4-epoch run with the same seed (tests/gan/test_gan_tabular.py).
    """

    def __init__(self, table: Table, config: Mapping[str, Any], device: str | torch.device = "cpu",
                 seed: int = 0, transformer: TabularTransformer | None = None) -> None:
        config = validate_config(config).to_dict()   # missing keys (an older run's config) take their defaults
        check_classes(table, config["min_class_rows"])
        torch.manual_seed(seed)
        self.seed = seed
        self.rng = np.random.default_rng(seed)
        self.table = table
        started = time.perf_counter()
        m = config["model"]
        if transformer is None:
            transformer = TabularTransformer.fit(table, m["max_modes"], m["mode_weight_threshold"], seed)
        elif (transformer.columns, transformer.kinds, transformer.target) != (table.columns, table.kinds, table.target):
            raise TabularDataError("the table's columns differ from the ones the transformer was fitted on")
        self.transformer = transformer
        self.model = TabularGAN(self.transformer, config, device=device)
        self.device = self.model.device
        self.matrix = torch.as_tensor(self.transformer.encode(table, self.rng))
        labels = self.transformer.class_index(table.labels)
        self.by_class = [np.flatnonzero(labels == k) for k in range(self.model.n_classes)]
        self.class_p = torch.as_tensor(class_probabilities(self.transformer.class_counts, config["class_sampling"]))
        self.latent = m["latent_dim"]
        self.wgan = WGANGP(self.model.generator, self.model.critic, noise=self._noise, config=config["wgan"],
                           device=self.device, generate=self._generate)
        for opt in (self.wgan.opt_g, self.wgan.opt_d):
            for group in opt.param_groups:
                group["weight_decay"] = float(config["weight_decay"])
        self.config = config
        self.steps_per_epoch = max(1, table.n_rows // config["batch_size"])
        self.window: dict[str, list[float]] = {}     # metrics since the last logged point
        self.setup_seconds = time.perf_counter() - started
        self._began: float | None = None

    def _noise(self, n: int) -> torch.Tensor:
        idx = torch.multinomial(self.class_p, n, replacement=True)
        return torch.cat([torch.randn(n, self.latent), F.one_hot(idx, self.model.n_classes).float()], dim=1)

    def _generate(self, generator: nn.Module, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        raw = generator(z)
        return activate(raw, self.transformer.spans, float(self.config["model"]["tau"])), z[:, self.latent:]

    def sample_real(self, n: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Training-by-sampling: classes by ``class_p``, then rows of each class uniformly (with replacement)."""
        classes = torch.multinomial(self.class_p, n, replacement=True).numpy()
        rows = np.empty(n, dtype=np.int64)
        for k in np.unique(classes):
            where = np.flatnonzero(classes == k)
            rows[where] = self.rng.choice(self.by_class[k], size=len(where))
        cond = F.one_hot(torch.as_tensor(classes), self.model.n_classes).float()
        return self.matrix[rows].to(self.device), cond.to(self.device)

    @property
    def seconds(self) -> float:
        """Training seconds so far (setup included), across resumes."""
        running = time.perf_counter() - self._began if self._began is not None else 0.0
        return self.model.seconds + self.setup_seconds + running

    def train(self, progress_bar: bool = False, writer: Any = None, epochs: int | None = None,
              checkpoint: Any = None, stop: Any = None) -> dict[str, Any]:
        """Train until ``epochs`` (default ``config["epochs"]``) epochs in all, continuing from the current step.

        :param checkpoint: ``checkpoint(trainer)``, called every ``config["checkpoint_every"]`` epochs and after the
            last step (a logged run saves :meth:`state_dict` there).
        :param stop: an object whose ``requested`` turns true to stop at the end of the epoch in progress (a
            :class:`runtime.interrupts.GracefulStop`); ``checkpoint`` is then called there and the record says
            ``"interrupted": True``.
        """
        cfg = self.config
        total = (epochs or cfg["epochs"]) * self.steps_per_epoch
        every = int(cfg["checkpoint_every"]) * self.steps_per_epoch
        start = self.wgan.step
        self._began = time.perf_counter()
        self.model.generator.train()
        self.model.critic.train()
        interrupted = False
        with progress(total=total, initial=min(start, total), desc="tabular-gan", unit="step",
                      disable=not progress_bar) as bar:
            while self.wgan.step < total:
                if stop is not None and stop.requested and self.wgan.step % self.steps_per_epoch == 0:
                    interrupted = True
                    if checkpoint is not None and not (every and self.wgan.step % every == 0):
                        checkpoint(self)   # (a checkpoint at this step was written when it was reached)
                    break
                metrics = self.wgan.train_step(self.sample_real, cfg["batch_size"])
                step = self.wgan.step
                for k, v in metrics.items():
                    self.window.setdefault(k, []).append(v)
                bar.update(1)
                if step % cfg["log_every"] == 0 or step == total:
                    means = {k: float(np.mean(v)) for k, v in self.window.items()}
                    if writer is not None:
                        self.wgan.log(writer, means, step)
                        writer.add_scalar("gan/epoch", step / self.steps_per_epoch, step)
                    bar.set_postfix(W=f"{means['wasserstein']:.3f}")
                    if step % cfg["log_every"] == 0:
                        self.window = {}   # a final partial window is kept: a resumed run's next point continues it
                if checkpoint is not None and ((every and step % every == 0) or step == total):
                    checkpoint(self)
        self.model.generator.eval()
        self.model.seconds = self.seconds
        self.setup_seconds, self._began = 0.0, None
        self.model.steps = self.wgan.step
        return {"steps": self.wgan.step, "seconds": self.model.seconds, "epochs": self.wgan.step / self.steps_per_epoch,
                "interrupted": interrupted}

    # --- checkpoints ------------------------------------------------------------------------------------------

    def state_dict(self) -> dict[str, Any]:
        """Everything a resumed run needs (plain data and tensors only: ``weights_only`` loadable)."""
        step = self.wgan.step
        return {"kind": CHECKPOINT_KIND, "version": CHECKPOINT_VERSION, "config": dict(self.config),
                "wgan": self.wgan.state_dict(), "transformer": self.transformer.to_dict(),
                "counters": {"step": step, "epoch": step / self.steps_per_epoch, "seconds": self.seconds},
                "window": {k: [float(x) for x in v] for k, v in self.window.items()},
                "rng": self.rng.bit_generator.state, "torch_rng": torch.get_rng_state(),
                "cuda_rng": torch.cuda.get_rng_state(self.device) if self.device.type == "cuda" else None,
                "data": {"rows": self.table.n_rows, "sha256": table_fingerprint(self.table)}}

    def save_checkpoint(self, path: str | Path) -> Path:
        return save_checkpoint(path, self.state_dict())

    def load_state_dict(self, state: Mapping[str, Any], path: str | Path = "checkpoint") -> None:
        """Restore a :meth:`state_dict` (see :func:`read_checkpoint`); :class:`CheckpointError` when it does not fit."""
        data = state["data"]
        if data.get("sha256") != table_fingerprint(self.table):
            raise CheckpointError(path, f"was trained on other data ({data.get('rows')} rows) than "
                                        f"{self.config.get('data')!r} holds now ({self.table.n_rows} rows)")
        try:
            self.wgan.load_state_dict(state["wgan"])
            self.rng.bit_generator.state = state["rng"]
            torch.set_rng_state(state["torch_rng"])
            if self.device.type == "cuda" and state.get("cuda_rng") is not None:
                torch.cuda.set_rng_state(state["cuda_rng"], self.device)
            self.window = {str(k): [float(x) for x in v] for k, v in state.get("window", {}).items()}
            self.model.seconds = float(state["counters"]["seconds"])
        except (KeyError, RuntimeError, ValueError, TypeError) as exc:
            raise CheckpointError(path, f"does not match this config: {str(exc).splitlines()[0]}") from None
        self.model.steps = self.wgan.step
        self.setup_seconds = 0.0

    @classmethod
    def from_checkpoint(cls, state: Mapping[str, Any], table: Table, config: Mapping[str, Any],
                        device: str | torch.device = "cpu", path: str | Path = "checkpoint") -> TabularTrainer:
        """A trainer that continues the checkpoint ``state`` (from :func:`read_checkpoint`) on ``table``.

        The seed of the checkpoint's config re-encodes the table exactly as the run did; the fitted transformer
        comes from the checkpoint. :raises CheckpointError: when the checkpoint does not fit the table or config.
        """
        try:
            transformer = TabularTransformer(state["transformer"])
            seed = int(state["config"]["seed"])
        except (KeyError, TypeError, ValueError) as exc:
            raise CheckpointError(path, f"holds a broken transformer or config: {exc}") from None
        if transformer.classes != sorted(table.class_counts(), key=category_sort_key):
            raise CheckpointError(path, f"was trained on classes {transformer.classes}, the data has "
                                        f"{sorted(table.class_counts(), key=category_sort_key)}")
        try:
            trainer = cls(table, config, device=device, seed=seed, transformer=transformer)
        except TabularDataError as exc:
            raise CheckpointError(path, f"does not fit the data: {exc}") from None
        trainer.load_state_dict(state, path)
        return trainer


def train_model(table: Table, config: Mapping[str, Any], device: str | torch.device = "cpu", seed: int = 0,
                progress_bar: bool = False, writer: Any = None) -> TabularGAN:
    """Fit the transformer and train the GAN on ``table`` (seeded; see :class:`TabularTrainer`); the trained model."""
    trainer = TabularTrainer(table, config, device=device, seed=seed)
    trainer.train(progress_bar=progress_bar, writer=writer)
    return trainer.model
