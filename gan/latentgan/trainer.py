"""LatentGAN training in two phases on one step counter, with TensorBoard, checkpoints and resume.

1. **Heteroencoder** (``ae_epochs`` passes): each batch's input SMILES are randomised (RDKit
   ``MolToRandomSmilesVect``, seeded by the run seed and the step, so a resumed run sees the same ones; a randomised
   SMILES that holds a token the vocabulary lacks or is too long is replaced by the canonical one), the target is the
   canonical SMILES; cross-entropy per token, teacher-forced, Gaussian noise ``noise_std`` on the latent. Logged:
   ``ae/loss_per_token``, ``ae/token_accuracy``; every ``sample_every`` steps and at the phase's end
   ``ae/reconstruction`` (held-out molecules whose greedy decoding from a randomised SMILES is exactly the canonical
   one) and ``ae/reconstruction_canonical``. Resumed with fewer ``ae_epochs`` than it has done (``--resume RUN
   --ae-epochs 0.001``), a run ends this phase where it is and goes on with the WGAN-GP.
2. **WGAN-GP** (``gan_epochs`` passes over the encoded training molecules; :class:`gan.wgan.WGANGP`): the first
   ``gan.molecules`` training molecules are encoded once (canonical SMILES in, no noise; recomputed on resume). Logged:
   ``gan/*`` (critic and generator losses, ``gan/wasserstein``, gradient penalty); every ``sample_every`` steps and at
   the end ``samples/validity``, ``samples/uniqueness``, ``samples/novelty`` of ``sample_n`` decoded samples and a
   molecule grid.

Under ``torchrun`` (:mod:`gan.distributed`) the heteroencoder is wrapped in DistributedDataParallel; the WGAN-GP's
gradients are averaged over the ranks by all-reduce hooks on the parameters (DDP's wrapper does not support the
gradient penalty's double backward). Only rank 0 writes.
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F
from rdkit import Chem, RDLogger
from torch.nn.parallel import DistributedDataParallel

from deep_arena.envs.molecule.render import molecule_grid
from deep_arena.gan import distributed, moses_metrics
from deep_arena.gan.data import load_dataset
from deep_arena.gan.latentgan.config import LatentGANSettings
from deep_arena.gan.latentgan.model import LatentGAN
from deep_arena.gan.lm.vocab import SmilesVocabulary, TokenError, tokenize
from deep_arena.gan.metrics import canonical_smiles
from deep_arena.gan.wgan import WGANGP
from deep_arena.runtime import (CheckpointError, RunDir, load_checkpoint, make_writer, prepare_training, progress)
from deep_arena.runtime.interrupts import GracefulStop
from deep_arena.runtime.trainer import RunResult

__all__ = ["DEFAULTS", "LatentGANTrainer", "validate_config", "randomized_smiles"]

DEFAULTS: dict[str, Any] = LatentGANSettings.defaults()
HELD_OUT = 1000
RING_DIGITS = [str(d) for d in range(1, 10)]   # randomised SMILES may use more ring-closure digits than canonical


def validate_config(config: Mapping[str, Any]) -> LatentGANSettings:
    return LatentGANSettings.from_dict(config)


def randomized_smiles(smiles: list[str], seeds: np.ndarray) -> list[str]:
    """One random SMILES of each molecule (``Chem.MolToRandomSmilesVect`` with the given seeds); the input for
    unparsable ones."""
    out = []
    RDLogger.DisableLog("rdApp.*")
    try:
        for s, seed in zip(smiles, seeds):
            mol = Chem.MolFromSmiles(s)
            out.append(Chem.MolToRandomSmilesVect(mol, 1, randomSeed=int(seed))[0] if mol is not None else s)
    finally:
        RDLogger.EnableLog("rdApp.*")
    return out


class LatentGANTrainer:
    """Train a :class:`LatentGAN`; writes TensorBoard logs, checkpoints and ``model.pt``."""

    def __init__(self, config: dict[str, Any], run_dir: RunDir | None, progress_bar: bool = True,
                 smiles: list[str] | None = None, vocab_tokens: list[str] | None = None) -> None:
        self.config = config = validate_config(config).to_dict()
        self.run_dir, self.progress_bar = run_dir, progress_bar
        self.device = prepare_training(config)
        self.dist = distributed.info()
        if self.dist.enabled and self.device.type == "cuda":
            self.device = torch.device("cuda", self.dist.local_rank)
        mcfg, gcfg = config["model"], config["gan"]
        if smiles is None:
            smiles = load_dataset(config["dataset"], config["limit"])
            if config["dataset"] not in ("moses", "moses-test"):   # MOSES ships canonical SMILES
                smiles = [c for c in (canonical_smiles(s) for s in smiles) if c is not None]
        else:
            smiles = [c for c in (canonical_smiles(s) for s in smiles) if c is not None]
        smiles = [s for s in smiles if len(tokenize(s)) < mcfg["max_length"]]
        if len(smiles) < 2:
            raise ValueError(f"LatentGAN needs at least 2 valid SMILES of under {mcfg['max_length']} tokens, "
                             f"got {len(smiles)}")
        order = np.random.default_rng(int(config["seed"])).permutation(len(smiles))
        n_out = min(HELD_OUT, len(smiles) // 100)
        self.held_out = [smiles[i] for i in order[:n_out]]
        self.smiles = [smiles[i] for i in np.sort(order[n_out:])] if n_out else smiles
        vocab = (SmilesVocabulary(vocab_tokens) if vocab_tokens
                 else SmilesVocabulary(sorted(set(SmilesVocabulary.from_smiles(self.smiles).tokens[3:])
                                              | set(RING_DIGITS))))
        try:
            for s in self.smiles:
                vocab.encode(s)
        except TokenError as exc:
            raise ValueError(f"the data holds a token the saved vocabulary lacks: {exc}") from None
        self.held_out = [s for s in self.held_out if s in vocab]
        self.train_set = set(self.smiles)
        self.model = LatentGAN(vocab, {**{k: mcfg[k] for k in ("embedding_dim", "hidden_size", "layers",
                                                                "latent_size", "max_length")},
                                       "noise_size": gcfg["noise_size"], "gan_hidden": list(gcfg["hidden"])},
                               self.device)
        self.ae_optimizer = torch.optim.Adam(self.model.autoencoder.parameters(), lr=config["lr"])
        self.wgan = WGANGP(self.model.generator, self.model.critic, noise=gcfg["noise_size"],
                           config={"gp_weight": gcfg["gp_weight"], "n_critic": gcfg["n_critic"],
                                   "lr_generator": gcfg["lr"], "lr_critic": gcfg["lr"], "betas": (0.5, 0.9)},
                           device=self.device)
        n_batches = math.ceil(len(self.smiles) / config["batch_size"])
        if n_batches < self.dist.world:
            raise ValueError(f"{n_batches} batches per epoch cannot feed {self.dist.world} processes")
        self.ae_steps_per_epoch = n_batches // self.dist.world
        n_gan = len(self.smiles) if gcfg["molecules"] is None else min(gcfg["molecules"], len(self.smiles))
        self.gan_smiles = self.smiles[:n_gan]
        self.gan_steps_per_epoch = max(1, n_gan // (gcfg["batch_size"] * gcfg["n_critic"] * self.dist.world))
        self.ae_total = max(1, round(config["ae_epochs"] * self.ae_steps_per_epoch))
        self.gan_total = max(1, round(config["gan_epochs"] * self.gan_steps_per_epoch))
        self.train_ae = (DistributedDataParallel(self.model.autoencoder, device_ids=[self.device.index]
                                                 if self.device.type == "cuda" else None)
                         if self.dist.enabled else self.model.autoencoder)
        if self.dist.enabled:   # average the WGAN-GP gradients over the ranks as they are accumulated
            for net in (self.model.generator, self.model.critic):
                for p in net.parameters():
                    p.register_post_accumulate_grad_hook(self._all_reduce_grad)
        self.latents: torch.Tensor | None = None
        self.counters = {"step": 0, "ae_step": 0, "gan_step": 0, "seconds": 0.0}
        self.last: dict[str, float] = {}
        self.writer = None
        self.digests: list[str] = []

    def _all_reduce_grad(self, param: torch.Tensor) -> None:
        dist.all_reduce(param.grad)
        param.grad.div_(self.dist.world)

    # --- data -------------------------------------------------------------------------------------------------------

    def ae_batch(self, step: int) -> tuple[list[str], list[str]]:
        """(input SMILES, canonical targets) of heteroencoder step ``step`` for this rank."""
        cfg = self.config
        epoch, i = divmod(step, self.ae_steps_per_epoch)
        order = np.random.default_rng([int(cfg["seed"]), epoch]).permutation(len(self.smiles))
        k = i * self.dist.world + self.dist.rank
        targets = [self.smiles[j] for j in order[k * cfg["batch_size"]:(k + 1) * cfg["batch_size"]]]
        if not cfg["randomize"]:
            return targets, targets
        seeds = np.random.default_rng([int(cfg["seed"]), step, self.dist.rank, 7]).integers(0, 2**31 - 1,
                                                                                            len(targets))
        inputs = []
        for rand, canon in zip(randomized_smiles(targets, seeds), targets):
            ok = rand in self.model.vocab and len(tokenize(rand)) < cfg["model"]["max_length"]
            inputs.append(rand if ok else canon)
        return inputs, targets

    def real_latents(self, batch_size: int) -> torch.Tensor:
        idx = torch.randint(0, len(self.latents), (batch_size,), generator=self._gan_rng)
        return self.latents[idx]

    def prepare_gan(self) -> None:
        """Encode the GAN phase's molecules (canonical SMILES, no noise)."""
        self.latents = self.model.encode(self.gan_smiles).detach()
        self._gan_rng = torch.Generator()
        self._gan_rng.manual_seed(int(self.config["seed"]) * 1000 + self.dist.rank * 7919 + self.counters["gan_step"])

    # --- steps ------------------------------------------------------------------------------------------------------

    def ae_step(self, step: int) -> dict[str, float]:
        cfg = self.config
        inputs, targets = self.ae_batch(step)
        x, lengths = self.model.encode_tokens(inputs)
        y, _ = self.model.encode_tokens(targets)
        self.model.autoencoder.train()
        logits, _ = self.train_ae(x, lengths, y, cfg["noise_std"])
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1), ignore_index=SmilesVocabulary.pad)
        if not torch.isfinite(loss):
            raise FloatingPointError(f"heteroencoder loss is {float(loss)} at step {step}")
        for group in self.ae_optimizer.param_groups:
            group["lr"] = cfg["lr"] * cfg["lr_decay"] ** (step / self.ae_steps_per_epoch)
        self.ae_optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if cfg["grad_clip"]:
            torch.nn.utils.clip_grad_norm_(self.model.autoencoder.parameters(), cfg["grad_clip"])
        self.ae_optimizer.step()
        mask = y != SmilesVocabulary.pad
        acc = float(((logits.argmax(-1) == y) & mask).sum() / mask.sum())
        return {"loss_per_token": float(loss.detach()), "token_accuracy": acc}

    def gan_step(self) -> dict[str, float]:
        if self.latents is None:
            self.prepare_gan()
        self.model.generator.train()
        self.model.critic.train()
        return self.wgan.train_step(self.real_latents, batch_size=self.config["gan"]["batch_size"])

    # --- checks -----------------------------------------------------------------------------------------------------

    def reconstruction(self) -> dict[str, float]:
        """Exact greedy reconstructions of held-out molecules (randomised and canonical input)."""
        mols = self.held_out[:self.config["sample_n"]]
        if not mols:
            return {}
        seeds = np.random.default_rng([int(self.config["seed"]), 99]).integers(0, 2**31 - 1, len(mols))
        rand = [r if r in self.model.vocab else c for r, c in zip(randomized_smiles(mols, seeds), mols)]
        out = {}
        for name, inputs in (("reconstruction", rand), ("reconstruction_canonical", mols)):
            decoded = self.model.decode(self.model.encode(inputs))
            out[name] = float(np.mean([d == m for d, m in zip(decoded, mols)]))
        return out

    def sample_check(self) -> dict[str, float]:
        samples = self.model.sample(self.config["sample_n"], seed=12345)
        canon = [canonical_smiles(s) for s in samples]
        valid = [c for c in canon if c is not None]
        unique = set(valid)
        out = {"validity": len(valid) / len(samples), "uniqueness": len(unique) / max(1, len(valid)),
               "novelty": len(unique - self.train_set) / max(1, len(unique))}
        if self.config["sample_fcd"]:
            fcd = moses_metrics.fcd_to_moses(valid, device=str(self.device))
            if fcd is not None:
                out["fcd_test"] = fcd
        if valid:
            try:
                self.writer.add_image("samples/molecules", molecule_grid(list(dict.fromkeys(valid))[:16],
                                                                         mols_per_row=4, sub_img_size=(200, 160)),
                                      self.counters["step"], dataformats="HWC")
            except Exception as exc:  # a picture must never stop training
                print(f"warning: sample images skipped: {exc}")
        return out

    def check(self) -> None:
        step = self.counters["step"]
        if self.counters["gan_step"] == 0:
            values, prefix = self.reconstruction(), "ae/"
        else:
            values, prefix = self.sample_check(), "samples/"
        for k, v in values.items():
            self.writer.add_scalar(prefix + k, v, step)
        self.last.update(values)

    # --- loop -------------------------------------------------------------------------------------------------------

    def run(self) -> RunResult:
        """Heteroencoder steps, then WGAN-GP steps, until both phases' epochs (or ``minutes``) are spent; Ctrl-C /
        SIGTERM stops after the step in progress with a checkpoint and ``model.pt`` (``stopped_by="interrupt"``)."""
        if self.run_dir is None:
            raise ValueError("LatentGANTrainer.run needs a run directory")
        cfg, c = self.config, self.counters
        total = max(self.ae_total, c["ae_step"]) + self.gan_total
        main = self.dist.main
        self.writer = make_writer(self.run_dir.path, purge_step=c["step"] or None) if main else distributed.NullWriter()
        budget = cfg["minutes"] * 60.0 if cfg["minutes"] else math.inf
        began, seconds_before = time.perf_counter(), c["seconds"]
        window: dict[str, list[float]] = {}
        with progress(total=total, initial=c["step"], desc="LatentGAN", unit="step",
                      disable=not (self.progress_bar and main)) as bar, GracefulStop() as stop:
            stopped = False
            while c["ae_step"] < self.ae_total or c["gan_step"] < self.gan_total:
                stopped = distributed.agree(stop.requested)
                if stopped or distributed.agree(seconds_before + time.perf_counter() - began >= budget):
                    break
                phase_end = False
                if c["ae_step"] < self.ae_total:
                    prefix, values = "ae/", self.ae_step(c["ae_step"])
                    c["ae_step"] += 1
                    phase_end = c["ae_step"] == self.ae_total
                else:
                    prefix, values = "gan/", self.gan_step()
                    c["gan_step"] += 1
                for k, v in values.items():
                    window.setdefault(prefix + k, []).append(v)
                c["step"] = step = c["step"] + 1
                c["seconds"] = seconds_before + time.perf_counter() - began
                bar.update(1)
                if step % cfg["log_every"] == 0 or phase_end:
                    for k, v in window.items():
                        self.writer.add_scalar(k, float(np.mean(v)), step)
                    bar.set_postfix({k.split("/")[1][:12]: f"{np.mean(v):.3f}" for k, v in list(window.items())[:2]})
                    window = {}
                if main and (step % cfg["sample_every"] == 0 or phase_end):
                    self.check()
                if step % cfg["checkpoint_every"] == 0 or phase_end:
                    self.save()
        for k, v in window.items():   # the steps since the last logged point
            self.writer.add_scalar(k, float(np.mean(v)), c["step"])
        self.check_in_sync()
        if stopped and c["gan_step"] < self.gan_total:
            self.save()
            self.writer.close()
            return self.result("interrupt")
        if main and c["step"] % cfg["sample_every"] and c["gan_step"]:
            self.check()
        self.save()
        self.writer.close()
        return self.result("budget" if c["gan_step"] >= self.gan_total else "minutes")

    def check_in_sync(self) -> None:
        state = {**{f"ae.{k}": v for k, v in self.model.autoencoder.state_dict().items()},
                 **{f"g.{k}": v for k, v in self.model.generator.state_dict().items()}}
        self.digests = distributed.gather_strings(distributed.weights_digest(state))
        if len(set(self.digests)) > 1:
            raise RuntimeError(f"data-parallel ranks ended with different weights: {self.digests}")

    def result(self, stopped_by: str) -> RunResult:
        """metrics: the last checks (``reconstruction``, ``validity``, ``uniqueness``, ``novelty``), ``seconds``;
        counters: ``steps``, ``ae_steps``, ``gan_steps``."""
        c = self.counters
        path = self.run_dir.path / "model.pt" if self.run_dir is not None else None
        return RunResult(run_dir=self.run_dir.path if self.run_dir is not None else None, model_path=path,
                         metrics={**{k: float(v) for k, v in self.last.items()}, "seconds": float(c["seconds"])},
                         counters={"steps": int(c["step"]), "ae_steps": int(c["ae_step"]),
                                   "gan_steps": int(c["gan_step"]), "ae_total": self.ae_total,
                                   "gan_total": self.gan_total},
                         stopped_by=stopped_by, details={"ranks": self.dist.world, "digests": list(self.digests)})

    # --- state ------------------------------------------------------------------------------------------------------

    def state_dict(self) -> dict[str, Any]:
        return {"kind": "latentgan-checkpoint", "config": self.config, "model": self.model.state(with_critic=True),
                "ae_optimizer": self.ae_optimizer.state_dict(), "opt_g": self.wgan.opt_g.state_dict(),
                "opt_d": self.wgan.opt_d.state_dict(), "wgan_step": self.wgan.step,
                "critic_steps": self.wgan.critic_steps, "counters": dict(self.counters),
                "torch_rng": torch.get_rng_state()}

    def save(self) -> Path | None:
        """A checkpoint and ``model.pt`` (rank 0 only under torchrun)."""
        if not self.dist.main:
            return None
        path = self.run_dir.save_checkpoint(self.counters["step"], self.state_dict(), self.config["keep_checkpoints"])
        self.model.save(self.run_dir.path / "model.pt")
        return path

    @staticmethod
    def saved_vocabulary(path: Path) -> list[str]:
        state = load_checkpoint(path, map_location="cpu", kind="latentgan-checkpoint", what="a LatentGAN checkpoint")
        return list(state["model"]["tokens"])

    def load(self, path: Path) -> None:
        state = load_checkpoint(path, map_location="cpu", kind="latentgan-checkpoint", what="a LatentGAN checkpoint")
        try:
            if list(state["model"]["tokens"]) != self.model.vocab.tokens:
                raise ValueError("its vocabulary differs from this trainer's (build it with saved_vocabulary())")
            self.model.autoencoder.load_state_dict(state["model"]["autoencoder"])
            self.model.generator.load_state_dict(state["model"]["generator"])
            self.model.critic.load_state_dict(state["model"]["critic"])
            self.ae_optimizer.load_state_dict(state["ae_optimizer"])
            self.wgan.opt_g.load_state_dict(state["opt_g"])
            self.wgan.opt_d.load_state_dict(state["opt_d"])
            self.wgan.step, self.wgan.critic_steps = int(state["wgan_step"]), int(state["critic_steps"])
            self.counters.update({k: type(self.counters[k])(v) for k, v in state["counters"].items()
                                  if k in self.counters})
            torch.set_rng_state(state["torch_rng"])
        except (KeyError, RuntimeError, ValueError, TypeError) as exc:
            raise CheckpointError(path, f"does not match this config: {exc}") from None
