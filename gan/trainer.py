"""MolGAN training on QM9 / MOSES / a SMILES file with the WGAN-GP core, an optional RL reward network, TensorBoard
logs, checkpoints and resume.

Generator loss (MolGAN's scheme), with ``λ = lambda_rl``::

    L_G = λ · L_WGAN + (1 − λ) · L_RL        L_WGAN = −E[D(G(z))],  L_RL = −E[R(G(z))]

so ``lambda_rl = 1`` (the default) is a plain WGAN-GP and ``--lambda-rl 0.5`` weighs both terms equally; λ
multiplies the adversarial term and 1 − λ the reward term. ``R`` is a reward network (R-GCN with a sigmoid) trained
by mean squared error to predict the objective of real and generated molecules, computed with RDKit (invalid
generated graphs score 0): ``qed`` raw, ``logp`` and ``sa`` with MolGAN's normalisations (``logp_norm``, ``sa_norm``).

One "epoch" is one pass of critic batches over the encoded data set: ``len(data) // (batch_size · n_critic)``
generator steps.

The settings are :class:`gan.config.MolGANSettings` (:data:`DEFAULTS` and :func:`validate_config` derive from them).
:class:`MolGANTrainer` follows the trainer protocol of :mod:`runtime.trainer`: built from a config (missing keys take
their defaults, so an old run's ``config.yml`` resumes) and a run directory, ``load(checkpoint)`` to resume, ``run()``
returns a :class:`RunResult`.
"""

from __future__ import annotations

import math
import time
from collections import Counter, deque
from pathlib import Path
from typing import Any, Callable, Mapping

import numpy as np
import torch
import torch.nn.functional as F
from rdkit import Chem

from deep_arena.envs.molecule import rewards
from deep_arena.envs.molecule.render import molecule_grid
from deep_arena.gan.config import CUSTOM_OBJECTIVE, OBJECTIVES, MolGANSettings
from deep_arena.gan.data import load_dataset
from deep_arena.gan.metrics import property_histograms
from deep_arena.gan.molgan import (MolGAN, RGCNCritic, canonical, decode_graph, encode_smiles, graphs_to_tensors,
                                   gumbel_hard)
from deep_arena.gan.wgan import WGANGP, NonFiniteLossError
from deep_arena.runtime import (CheckpointError, RunDir, load_checkpoint, make_writer, prepare_training, progress)
from deep_arena.runtime.interrupts import GracefulStop
from deep_arena.runtime.trainer import RunResult

__all__ = ["DEFAULTS", "OBJECTIVES", "MolGANTrainer", "encode_dataset", "objective_fn", "validate_config"]

DEFAULTS: dict[str, Any] = MolGANSettings.defaults()  # device and seed included; --set names: gan/config.py


def validate_config(config: Mapping[str, Any], custom_objective: bool = False) -> MolGANSettings:
    """The checked settings; ValueError naming the first bad setting (missing keys take their defaults).

    ``objective: custom`` names a user callable that a config cannot hold, so it is accepted only with
    ``custom_objective`` (the trainer passes it when it was given ``objective=fn``)."""
    settings = MolGANSettings.from_dict(config)
    if settings.objective == CUSTOM_OBJECTIVE and not custom_objective:
        raise ValueError(f"objective {CUSTOM_OBJECTIVE!r} is a user callable: pass it as "
                         "MolGANTrainer(..., objective=fn)")
    return settings


def objective_fn(name: str | Callable[[Any], float]):
    """``mol -> float in [0, 1]`` for the reward network (``None`` molecule -> 0): a name of ``OBJECTIVES`` or any
    user callable ``mol -> float`` (clipped to [0, 1]; an exception or a non-finite value scores 0)."""
    fn = name if callable(name) else {"qed": rewards.qed, "logp": rewards.logp_norm, "sa": rewards.sa_norm}[name]

    def score(mol) -> float:
        if mol is None:
            return 0.0
        try:
            value = float(fn(mol))
        except Exception:
            return 0.0
        return float(np.clip(value, 0.0, 1.0)) if math.isfinite(value) else 0.0
    return score


def encode_dataset(smiles: list[str], max_atoms: int) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Index arrays of the molecules that fit (≤ max_atoms, C N O F, neutral) and their SMILES."""
    atoms, bonds, kept = [], [], []
    for s in smiles:
        g = encode_smiles(s, max_atoms)
        if g is not None:
            atoms.append(g[0].astype(np.int8))
            bonds.append(g[1].astype(np.int8))
            kept.append(s)
    if not kept:
        raise ValueError(f"none of the {len(smiles)} SMILES fits the graph (≤ {max_atoms} heavy atoms of C, N, O, F, "
                         "no charges)")
    return np.stack(atoms), np.stack(bonds), kept


class MolGANTrainer:
    """Train a :class:`gan.molgan.MolGAN`; writes TensorBoard logs, checkpoints and ``generator.pt`` into run_dir."""

    def __init__(self, config: dict[str, Any], run_dir: RunDir | None, progress_bar: bool = True,
                 smiles: list[str] | None = None, objective: Callable[[Any], float] | None = None) -> None:
        """``objective``: a user callable ``mol -> float`` (values in [0, 1]) for the RL term's reward network, in
        place of ``config["objective"]`` (recorded there as ``"custom"``; pass it again when resuming)."""
        if objective is not None:
            if not callable(objective):
                raise ValueError(f"objective must be a callable mol -> float, got {objective!r}")
            config = {**config, "objective": CUSTOM_OBJECTIVE}
        # a run saved before a setting existed resumes with that setting's default
        self.config = config = validate_config(config, custom_objective=objective is not None).to_dict()
        self.run_dir = run_dir
        self.progress_bar = progress_bar
        self.device = prepare_training(config)
        self.rng = np.random.default_rng(int(config["seed"]))
        if smiles is None:
            smiles = load_dataset(config["dataset"], config["limit"])
        self.atoms, self.bonds, self.smiles = encode_dataset(smiles, config["model"]["max_atoms"])
        self.model = MolGAN(config["model"]).to(self.device)
        self.wgan = WGANGP(self.model.generator, self.model.critic, noise=config["model"]["latent_dim"],
                           config=config["wgan"], device=self.device,
                           generate=lambda gen, z: gumbel_hard(*gen(z), tau=config["tau"]))
        self.use_rl = config["lambda_rl"] < 1.0
        self.reward_net = RGCNCritic(sigmoid=True).to(self.device)
        self.reward_opt = torch.optim.Adam(self.reward_net.parameters(), lr=config["reward_lr"])
        self.score = objective_fn(objective if objective is not None else config["objective"])
        self.real_scores: dict[int, float] = {}
        self.recent: deque[str] = deque()          # canonical SMILES of the last rl_memory generated molecules
        self.recent_counts: Counter[str] = Counter()
        # best_score: the highest fraction of unique valid molecules among sampled graphs so far (best_generator.pt)
        self.counters = {"step": 0, "epoch": 0.0, "seconds": 0.0, "best_score": -1.0, "best_step": 0}
        self.last_samples: dict[str, float] = {}   # the last evaluate_samples() figures
        self.writer = None
        self.steps_per_epoch = max(1, len(self.smiles) // (config["batch_size"] * config["wgan"]["n_critic"]))

    # --- data -------------------------------------------------------------------------------------------------------

    def sample_real(self, n: int) -> tuple[torch.Tensor, torch.Tensor]:
        idx = self.rng.integers(len(self.smiles), size=n)
        self._last_idx = idx
        adj, nodes = graphs_to_tensors(self.atoms[idx], self.bonds[idx])
        return adj.to(self.device), nodes.to(self.device)

    def _real_score(self, i: int) -> float:
        if i not in self.real_scores:
            self.real_scores[i] = self.score(Chem.MolFromSmiles(self.smiles[i]))
        return self.real_scores[i]

    # --- RL term ----------------------------------------------------------------------------------------------------

    def _rl_loss(self, fake):
        adj, nodes = fake
        return -self.reward_net(adj, nodes).mean(), {}

    def _train_reward(self) -> float:
        bs = self.config["batch_size"]
        real = self.sample_real(bs)
        real_y = torch.tensor([self._real_score(int(i)) for i in self._last_idx], device=self.device)
        with torch.no_grad():
            adj, nodes = gumbel_hard(*self.model.generator(self.wgan.sample_noise(bs)), tau=self.config["tau"])
        mols = [decode_graph(a, b) for a, b in zip(nodes.argmax(-1).cpu().numpy(), adj.argmax(-1).cpu().numpy())]
        fake_y = torch.tensor(self._repeat_discounted([self.score(m) for m in mols], mols), device=self.device)
        pred = torch.cat([self.reward_net(*real), self.reward_net(adj, nodes)])
        loss = F.mse_loss(pred, torch.cat([real_y, fake_y]))
        if not torch.isfinite(loss):
            raise NonFiniteLossError("reward network loss", float(loss), self.counters["step"])
        self.reward_opt.zero_grad(set_to_none=True)
        loss.backward()
        self.reward_opt.step()
        return float(loss.detach())

    def _repeat_discounted(self, scores: list[float], mols: list[Any]) -> list[float]:
        """Each score divided by its molecule's count among the last ``rl_memory`` generated ones (ORGAN)."""
        memory = self.config["rl_memory"]
        if not memory:
            return scores
        out = []
        for score, mol in zip(scores, mols):
            smiles = canonical(mol)
            if smiles is None:
                out.append(score)
                continue
            self.recent.append(smiles)
            self.recent_counts[smiles] += 1
            if len(self.recent) > memory:
                old = self.recent.popleft()
                self.recent_counts[old] -= 1
                if not self.recent_counts[old]:
                    del self.recent_counts[old]
            out.append(score / self.recent_counts[smiles])
        return out

    # --- loop -------------------------------------------------------------------------------------------------------

    def run(self) -> RunResult:
        """Train until ``epochs`` (in all, continuing a loaded checkpoint) or ``minutes`` (the run's training time,
        across resumes) run out; the last samples' figures, the best sample score and the counters as a
        :class:`RunResult` (see :meth:`result`). Ctrl-C / SIGTERM stops after the step in progress: a checkpoint and
        ``generator.pt``, no final samples (``stopped_by="interrupt"``)."""
        if self.run_dir is None:
            raise ValueError("MolGANTrainer.run needs a run directory")
        cfg = self.config
        total = round(cfg["epochs"] * self.steps_per_epoch)
        start = self.counters["step"]
        self.writer = make_writer(self.run_dir.path, purge_step=start or None)
        budget = cfg["minutes"] * 60.0 if cfg["minutes"] else math.inf
        began, seconds_before = time.perf_counter(), self.counters["seconds"]
        window: dict[str, list[float]] = {}
        lam = float(cfg["lambda_rl"])
        with progress(total=total, initial=start, desc="molgan", unit="step", disable=not self.progress_bar) as bar, \
                GracefulStop() as stop:
            while (self.counters["step"] < total and seconds_before + time.perf_counter() - began < budget
                   and not stop.requested):
                kwargs = {}
                if self.use_rl:
                    window.setdefault("reward_net_loss", []).append(self._train_reward())
                    kwargs = {"extra_loss": self._rl_loss, "wgan_weight": lam, "extra_weight": 1.0 - lam}
                metrics = self.wgan.train_step(self.sample_real, cfg["batch_size"], **kwargs)
                for k, v in metrics.items():
                    window.setdefault(k, []).append(v)
                self.counters["step"] += 1
                self.counters["epoch"] = self.counters["step"] / self.steps_per_epoch
                self.counters["seconds"] = seconds_before + time.perf_counter() - began
                bar.update(1)
                step = self.counters["step"]
                if step % cfg["log_every"] == 0:
                    self.wgan.log(self.writer, {k: float(np.mean(v)) for k, v in window.items()}, step)
                    bar.set_postfix(W=f"{np.mean(window['wasserstein']):.3f}")
                    window = {}
                if step % cfg["sample_every"] == 0:
                    self.evaluate_samples()
                if step % cfg["checkpoint_every"] == 0:
                    self.save()
        if stop.requested and self.counters["step"] < total:  # no final samples: the user asked to stop
            self.save()
            self.writer.close()
            return self.result(stopped_by="interrupt")
        self.evaluate_samples()
        self.save()
        self.writer.close()
        return self.result(stopped_by="budget" if self.counters["step"] >= total else "minutes")

    def result(self, stopped_by: str = "budget") -> RunResult:
        """The run's :class:`RunResult`. metrics: the last samples' ``validity``, ``uniqueness``, ``unique_valid``
        (and ``objective_mean`` when a sample was valid), ``best_unique_valid`` (best_generator.pt's score),
        ``epochs`` (fractional) and ``seconds``; counters: ``steps``, ``best_step`` (where best_generator.pt comes
        from) and ``steps_per_epoch``; details: the record ``run()`` returned before (step, epoch, seconds,
        generator, last_samples, best_step, best_score)."""
        c = self.counters
        samples = dict(self.last_samples)
        path = self.run_dir.path / "generator.pt" if self.run_dir is not None else None
        metrics = {**{k: float(v) for k, v in samples.items()}, "best_unique_valid": float(c["best_score"]),
                   "epochs": float(c["epoch"]), "seconds": float(c["seconds"])}
        details = {"step": c["step"], "epoch": c["epoch"], "seconds": c["seconds"], "generator": path,
                   "last_samples": samples, "best_step": c["best_step"], "best_score": c["best_score"]}
        return RunResult(run_dir=self.run_dir.path if self.run_dir is not None else None, model_path=path,
                         metrics=metrics, counters={"steps": int(c["step"]), "best_step": int(c["best_step"]),
                                                    "steps_per_epoch": int(self.steps_per_epoch)},
                         stopped_by=stopped_by, details=details)

    def evaluate_samples(self) -> dict[str, float]:
        """Sample, log validity / uniqueness / mean objective, an image grid and property histograms."""
        cfg, step = self.config, self.counters["step"]
        smiles = self.model.sample(cfg["sample_n"], seed=12345)
        valid = [s for s in smiles if s is not None]
        out = {"validity": len(valid) / len(smiles), "uniqueness": len(set(valid)) / max(1, len(valid))}
        if valid:
            out["objective_mean"] = float(np.mean([self.score(Chem.MolFromSmiles(s)) for s in valid[:300]]))
        out["unique_valid"] = len(set(valid)) / len(smiles)
        for k, v in out.items():
            self.writer.add_scalar(f"samples/{k}", v, step)
        self.last_samples = out
        if out["unique_valid"] > self.counters["best_score"] and self.run_dir is not None:
            # runs peak early and then degrade (README): keep the best generator seen so far
            self.counters["best_score"], self.counters["best_step"] = out["unique_valid"], step
            self.model.critic_stats = self.critic_stats()
            self.model.save(self.run_dir.path / "best_generator.pt")
        if valid:
            try:
                distinct = list(dict.fromkeys(valid))[:16]
                self.writer.add_image("samples/molecules", molecule_grid(distinct, mols_per_row=4,
                                                                         sub_img_size=(200, 160)),
                                      step, dataformats="HWC")
                fig = property_histograms(valid[:300], self.smiles[:300], labels=("generated", "data"))
                self.writer.add_figure("samples/properties", fig, step)
            except Exception as exc:  # a picture must never stop training
                print(f"warning: sample images skipped: {exc}")
        return out

    # --- state ------------------------------------------------------------------------------------------------------

    def critic_stats(self) -> dict[str, float]:
        critic = self.model.critic
        with torch.no_grad():
            real = critic(*self.sample_real(512))
            batch_std = float(getattr(critic, "last_batch_std", 0.0))
            fake = critic(*gumbel_hard(*self.model.generator(self.wgan.sample_noise(512))))
        return {"real_mean": float(real.mean()), "real_std": float(real.std().clamp(min=1e-6)),
                "fake_mean": float(fake.mean()), "real_batch_std": batch_std}

    def state_dict(self) -> dict[str, Any]:
        return {"kind": "molgan-checkpoint", "config": self.config, "wgan": self.wgan.state_dict(),
                "reward_net": self.reward_net.state_dict(), "reward_opt": self.reward_opt.state_dict(),
                "counters": dict(self.counters), "rng": self.rng.bit_generator.state,
                "torch_rng": torch.get_rng_state(), "recent": list(self.recent)}

    def save(self) -> Path:
        path = self.run_dir.save_checkpoint(self.counters["step"], self.state_dict(), self.config["keep_checkpoints"])
        self.model.critic_stats = self.critic_stats()
        self.model.save(self.run_dir.path / "generator.pt")
        return path

    def load(self, path: Path) -> None:
        state = load_checkpoint(path, map_location="cpu")
        if state.get("kind") != "molgan-checkpoint":
            raise CheckpointError(path, f"is not a MolGAN training checkpoint (kind {state.get('kind')!r})")
        try:
            self.wgan.load_state_dict(state["wgan"])
            self.reward_net.load_state_dict(state["reward_net"])
            self.reward_opt.load_state_dict(state["reward_opt"])
            self.counters.update({k: type(self.counters[k])(v) for k, v in state["counters"].items()
                                  if k in self.counters})
            self.rng.bit_generator.state = state["rng"]
            torch.set_rng_state(state["torch_rng"])
            self.recent = deque(str(x) for x in state.get("recent", []))
            self.recent_counts = Counter(self.recent)
        except (KeyError, RuntimeError, ValueError, TypeError) as exc:
            raise CheckpointError(path, f"does not match this config: {exc}") from None
