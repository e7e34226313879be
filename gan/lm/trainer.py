"""Teacher-forced training of :class:`gan.lm.model.ChemicalLM` on a SMILES data set (MOSES train by default), with
TensorBoard, checkpoints and resume.

Loss: the mean negative log-likelihood per token of each SMILES (start token to end token). Every ``sample_every``
steps the trainer samples ``sample_n`` SMILES and logs validity, uniqueness and novelty (against the training SMILES
as given), the held-out negative log-likelihood per molecule (the first 2,000 of MOSES test for ``moses``, else 1 %
of the data kept out of training, at most 2,000) and a molecule grid. ``model.pt`` is the newest model,
``best_model.pt`` the one with the lowest held-out likelihood loss so far.

:class:`LMTrainer` follows the trainer protocol of :mod:`runtime.trainer`: built from a config (missing keys take
their defaults) and a run directory, ``load(checkpoint)`` to resume, ``run()`` returns a :class:`RunResult`.
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import torch
import torch.nn.functional as F

from torch.nn.parallel import DistributedDataParallel

from deep_arena.envs.molecule.render import molecule_grid
from deep_arena.gan import distributed, moses_metrics
from deep_arena.gan.data import load_dataset
from deep_arena.gan.lm.config import LMSettings
from deep_arena.gan.lm.model import ChemicalLM
from deep_arena.gan.lm.vocab import SmilesVocabulary, TokenError
from deep_arena.gan.metrics import canonical_smiles
from deep_arena.runtime import (CheckpointError, RunDir, load_checkpoint, make_writer, prepare_training, progress)
from deep_arena.runtime.interrupts import GracefulStop
from deep_arena.runtime.trainer import RunResult

__all__ = ["DEFAULTS", "LMTrainer", "encode_corpus", "validate_config"]

DEFAULTS: dict[str, Any] = LMSettings.defaults()
HELD_OUT = 2000
CHUNK_BATCHES = 64   # batches per length-sorted chunk: similar lengths share a batch, little padding


def validate_config(config: Mapping[str, Any]) -> LMSettings:
    """The checked settings; ValueError naming the first bad setting (missing keys take their defaults)."""
    return LMSettings.from_dict(config)


def encode_corpus(smiles: list[str], vocab: SmilesVocabulary, max_length: int) -> tuple[np.ndarray, np.ndarray]:
    """``(tokens[n, width] uint8, lengths[n])`` of the SMILES that fit (tokens after the start token, end token
    included, at most ``max_length``); the vocabulary must know every token."""
    rows = []
    for s in smiles:
        ids = vocab.encode(s)[1:]
        if len(ids) <= max_length:
            rows.append(ids)
    if not rows:
        raise ValueError(f"none of the {len(smiles)} SMILES has at most {max_length - 1} tokens")
    width = max(len(r) for r in rows)
    tokens = np.zeros((len(rows), width), dtype=np.uint8 if len(vocab) < 256 else np.int16)
    lengths = np.empty(len(rows), dtype=np.int32)
    for i, r in enumerate(rows):
        tokens[i, :len(r)] = r
        lengths[i] = len(r)
    return tokens, lengths


class LMTrainer:
    """Train a :class:`ChemicalLM`; writes TensorBoard logs, checkpoints, ``model.pt`` and ``best_model.pt``."""

    def __init__(self, config: dict[str, Any], run_dir: RunDir | None, progress_bar: bool = True,
                 smiles: list[str] | None = None, vocab_tokens: list[str] | None = None) -> None:
        """``smiles``: the training SMILES in place of ``config["dataset"]``; ``vocab_tokens``: a saved
        vocabulary (a resumed run keeps its own, whatever the data)."""
        self.config = config = validate_config(config).to_dict()
        self.run_dir = run_dir
        self.progress_bar = progress_bar
        self.device = prepare_training(config)
        self.dist = distributed.info()
        if self.dist.enabled and self.device.type == "cuda":
            self.device = torch.device("cuda", self.dist.local_rank)
        from_dataset = smiles is None
        if smiles is None:
            smiles = load_dataset(config["dataset"], config["limit"])
        held_out: list[str] = []
        if from_dataset and config["dataset"] == "moses":
            try:
                held_out = load_dataset("moses-test", HELD_OUT)
            except ValueError:
                held_out = []
        if not held_out and len(smiles) >= 100:
            order = np.random.default_rng(int(config["seed"])).permutation(len(smiles))
            n_out = min(HELD_OUT, len(smiles) // 100)
            held_out = [smiles[i] for i in order[:n_out]]
            keep = np.sort(order[n_out:])
            smiles = [smiles[i] for i in keep]
        vocab = SmilesVocabulary(vocab_tokens) if vocab_tokens else SmilesVocabulary.from_smiles(smiles)
        mcfg = dict(config["model"])
        self.model = ChemicalLM(vocab, {k: mcfg[k] for k in ("embedding_dim", "hidden_size", "layers", "dropout")},
                                self.device, max_length=mcfg["max_length"])
        try:
            self.tokens, self.lengths = encode_corpus(smiles, vocab, mcfg["max_length"])
        except TokenError as exc:
            raise ValueError(f"the data holds a token the saved vocabulary lacks: {exc}") from None
        self.train_set = set(smiles)
        self.held_out = [s for s in held_out if s in vocab]
        self.optimizer = torch.optim.Adam(self.model.net.parameters(), lr=config["lr"])
        # under torchrun each optimizer step takes one batch per rank (gan.distributed); one process: every batch
        n_batches = math.ceil(len(self.tokens) / config["batch_size"])
        if n_batches < self.dist.world:
            raise ValueError(f"{n_batches} batches per epoch cannot feed {self.dist.world} processes; use a smaller "
                             "batch_size or more data")
        self.steps_per_epoch = n_batches // self.dist.world
        self.train_net = (DistributedDataParallel(self.model.net, device_ids=[self.device.index]
                                                  if self.device.type == "cuda" else None)
                          if self.dist.enabled else self.model.net)
        self.counters = {"step": 0, "epoch": 0.0, "seconds": 0.0, "tokens": 0, "best_nll": math.inf,
                         "best_step": 0}
        self.last_samples: dict[str, float] = {}
        self.writer = None
        self.digests: list[str] = []
        self._epoch_batches: tuple[int, list[np.ndarray]] | None = None

    # --- data -------------------------------------------------------------------------------------------------------

    def epoch_batches(self, epoch: int) -> list[np.ndarray]:
        """The index batches of one epoch, the same for the same seed and epoch (so a resumed run picks up
        mid-epoch): a seeded shuffle cut into chunks, each chunk sorted by length and cut into batches, the
        batches shuffled."""
        if self._epoch_batches is not None and self._epoch_batches[0] == epoch:
            return self._epoch_batches[1]
        rng = np.random.default_rng([int(self.config["seed"]), epoch])
        order = rng.permutation(len(self.tokens))
        bs = self.config["batch_size"]
        batches = []
        for start in range(0, len(order), bs * CHUNK_BATCHES):
            chunk = order[start:start + bs * CHUNK_BATCHES]
            chunk = chunk[np.argsort(self.lengths[chunk], kind="stable")]
            batches.extend(chunk[i:i + bs] for i in range(0, len(chunk), bs))
        perm = rng.permutation(len(batches))
        self._epoch_batches = (epoch, [batches[i] for i in perm])
        return self._epoch_batches[1]

    def batch(self, step: int) -> torch.Tensor:
        idx = self.epoch_batches(step // self.steps_per_epoch)[(step % self.steps_per_epoch) * self.dist.world
                                                                + self.dist.rank]
        width = int(self.lengths[idx].max())
        return torch.from_numpy(self.tokens[idx, :width].astype(np.int64)).to(self.device)

    # --- loop -------------------------------------------------------------------------------------------------------

    def lr_at(self, epoch: float) -> float:
        return float(self.config["lr"] * self.config["lr_decay"] ** epoch)

    def train_step(self, tokens: torch.Tensor) -> tuple[float, int]:
        """One Adam step on a batch; mean NLL per token and the number of tokens."""
        net = self.model.net
        net.train()
        start = torch.full((tokens.shape[0], 1), SmilesVocabulary.bos, dtype=torch.long, device=self.device)
        logits, _ = self.train_net(torch.cat([start, tokens[:, :-1]], dim=1))
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), tokens.reshape(-1),
                               ignore_index=SmilesVocabulary.pad)
        if not torch.isfinite(loss):
            raise FloatingPointError(f"language-model loss is {float(loss)} at step {self.counters['step']}")
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if self.config["grad_clip"]:
            torch.nn.utils.clip_grad_norm_(net.parameters(), self.config["grad_clip"])
        self.optimizer.step()
        return float(loss.detach()), int((tokens != SmilesVocabulary.pad).sum())

    def run(self) -> RunResult:
        """Train until ``epochs`` (in all, continuing a loaded checkpoint) or ``minutes`` (the run's training time,
        across resumes) run out. Ctrl-C / SIGTERM stops after the step in progress: a checkpoint and ``model.pt``
        (``stopped_by="interrupt"``)."""
        if self.run_dir is None:
            raise ValueError("LMTrainer.run needs a run directory")
        cfg = self.config
        total = round(cfg["epochs"] * self.steps_per_epoch)
        start = self.counters["step"]
        main = self.dist.main
        self.writer = make_writer(self.run_dir.path, purge_step=start or None) if main else distributed.NullWriter()
        budget = cfg["minutes"] * 60.0 if cfg["minutes"] else math.inf
        began, seconds_before = time.perf_counter(), self.counters["seconds"]
        losses: list[float] = []
        window_tokens, window_began = 0, time.perf_counter()
        with progress(total=total, initial=start, desc="chemical LM", unit="step",
                      disable=not (self.progress_bar and main)) as bar, GracefulStop() as stop:
            stopped = False
            while self.counters["step"] < total:
                # every rank stops at the same step: a signal to any one of them, or the time budget, stops all
                stopped = distributed.agree(stop.requested)
                if stopped or distributed.agree(seconds_before + time.perf_counter() - began >= budget):
                    break
                step = self.counters["step"]
                lr = self.lr_at(step / self.steps_per_epoch)
                for group in self.optimizer.param_groups:
                    group["lr"] = lr
                loss, n_tokens = self.train_step(self.batch(step))
                losses.append(loss)
                window_tokens += n_tokens
                self.counters["tokens"] += n_tokens
                self.counters["step"] = step = step + 1
                self.counters["epoch"] = step / self.steps_per_epoch
                self.counters["seconds"] = seconds_before + time.perf_counter() - began
                bar.update(1)
                if step % cfg["log_every"] == 0:
                    now = time.perf_counter()
                    self.writer.add_scalar("train/loss_per_token", float(np.mean(losses)), step)
                    self.writer.add_scalar("train/lr", lr, step)
                    self.writer.add_scalar("train/tokens_per_second", window_tokens / max(now - window_began, 1e-9),
                                           step)
                    self.writer.add_scalar("train/epoch", self.counters["epoch"], step)
                    bar.set_postfix(loss=f"{np.mean(losses):.3f}", epoch=f"{self.counters['epoch']:.2f}")
                    losses, window_tokens, window_began = [], 0, now
                if step % cfg["sample_every"] == 0 and main:
                    self.evaluate_samples()
                if step % cfg["checkpoint_every"] == 0:
                    self.save()
        self.check_in_sync()
        if stopped and self.counters["step"] < total:
            self.save()
            self.writer.close()
            return self.result(stopped_by="interrupt")
        if self.counters["step"] % cfg["sample_every"] and main:
            self.evaluate_samples()
        self.save()
        self.writer.close()
        return self.result(stopped_by="budget" if self.counters["step"] >= total else "minutes")

    def held_out_nll(self) -> float | None:
        """Mean negative log-likelihood per molecule of the held-out SMILES (None without them)."""
        if not self.held_out:
            return None
        return float(-np.mean(self.model.log_likelihood(self.held_out)))

    def evaluate_samples(self) -> dict[str, float]:
        """Sample; log validity, uniqueness, novelty, held-out NLL and a molecule grid; keep the best model."""
        cfg, step = self.config, self.counters["step"]
        samples = self.model.sample(cfg["sample_n"], seed=12345)
        canon = [canonical_smiles(s) for s in samples]
        valid = [c for c in canon if c is not None]
        unique = set(valid)
        out = {"validity": len(valid) / len(samples), "uniqueness": len(unique) / max(1, len(valid)),
               "novelty": len(unique - self.train_set) / max(1, len(unique))}
        nll = self.held_out_nll()
        if nll is not None:
            out["held_out_nll"] = nll
        if cfg["sample_fcd"]:
            fcd = moses_metrics.fcd_to_moses(valid, device=str(self.device))
            if fcd is not None:
                out["fcd_test"] = fcd
        for k, v in out.items():
            self.writer.add_scalar(f"samples/{k}" if k != "held_out_nll" else "valid/nll_per_molecule", v, step)
        self.last_samples = out
        score = nll if nll is not None else -out["validity"]
        if score < self.counters["best_nll"]:
            self.counters["best_nll"], self.counters["best_step"] = score, step
            self.model.save(self.run_dir.path / "best_model.pt")
        if valid:
            try:
                self.writer.add_image("samples/molecules", molecule_grid(list(dict.fromkeys(valid))[:16],
                                                                         mols_per_row=4, sub_img_size=(200, 160)),
                                      step, dataformats="HWC")
            except Exception as exc:  # a picture must never stop training
                print(f"warning: sample images skipped: {exc}")
        return out

    def result(self, stopped_by: str = "budget") -> RunResult:
        """metrics: the last samples' ``validity``, ``uniqueness``, ``novelty``, ``held_out_nll`` (when a
        held-out set exists), ``epochs``, ``seconds``; counters: ``steps``, ``tokens``, ``best_step``,
        ``steps_per_epoch``."""
        c = self.counters
        path = self.run_dir.path / "model.pt" if self.run_dir is not None else None
        metrics = {**{k: float(v) for k, v in self.last_samples.items()}, "epochs": float(c["epoch"]),
                   "seconds": float(c["seconds"])}
        return RunResult(run_dir=self.run_dir.path if self.run_dir is not None else None, model_path=path,
                         metrics=metrics, counters={"steps": int(c["step"]), "tokens": int(c["tokens"]),
                                                    "best_step": int(c["best_step"]),
                                                    "steps_per_epoch": int(self.steps_per_epoch)},
                         stopped_by=stopped_by, details={"best_model": self.run_dir.path / "best_model.pt"
                                                         if self.run_dir is not None else None,
                                                         "ranks": self.dist.world, "digests": list(self.digests)})

    # --- state ------------------------------------------------------------------------------------------------------

    def state_dict(self) -> dict[str, Any]:
        return {"kind": "chemical-lm-checkpoint", "config": self.config, "model": self.model.state(),
                "optimizer": self.optimizer.state_dict(), "counters": dict(self.counters),
                "torch_rng": torch.get_rng_state()}

    def check_in_sync(self) -> None:
        """Under torchrun: every rank's weights digest (``self.digests``); a RuntimeError when they differ."""
        self.digests = distributed.gather_strings(distributed.weights_digest(self.model.net.state_dict()))
        if len(set(self.digests)) > 1:
            raise RuntimeError(f"data-parallel ranks ended with different weights: {self.digests}")

    def save(self) -> Path | None:
        """A checkpoint and ``model.pt`` (rank 0 only under torchrun; the others return None)."""
        if not self.dist.main:
            return None
        path = self.run_dir.save_checkpoint(self.counters["step"], self.state_dict(), self.config["keep_checkpoints"])
        self.model.save(self.run_dir.path / "model.pt")
        return path

    @staticmethod
    def saved_vocabulary(path: Path) -> list[str]:
        """The vocabulary tokens a checkpoint was trained with (build the resumed trainer with them)."""
        state = load_checkpoint(path, map_location="cpu", kind="chemical-lm-checkpoint", what="a chemical LM checkpoint")
        return list(state["model"]["tokens"])

    def load(self, path: Path) -> None:
        state = load_checkpoint(path, map_location="cpu", kind="chemical-lm-checkpoint", what="a chemical LM checkpoint")
        try:
            if list(state["model"]["tokens"]) != self.model.vocab.tokens:
                raise ValueError("its vocabulary differs from this trainer's (build it with saved_vocabulary())")
            self.model.net.load_state_dict(state["model"]["state_dict"])
            self.optimizer.load_state_dict(state["optimizer"])
            self.counters.update({k: type(self.counters[k])(v) for k, v in state["counters"].items()
                                  if k in self.counters})
            torch.set_rng_state(state["torch_rng"])
        except (KeyError, RuntimeError, ValueError, TypeError) as exc:
            raise CheckpointError(path, f"does not match this config: {exc}") from None
