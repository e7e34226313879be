"""REINVENT (Olivecrona et al. 2017) under an oracle budget, as PMO runs it.

The agent starts as a copy of the prior (a :class:`gan.lm.ChemicalLM`). Each step it samples ``batch_size`` SMILES
(duplicate token sequences within the batch dropped, as PMO does), the oracle scores them (invalid ones 0, repeats
from its cache), and the agent is trained towards the augmented likelihood::

    loss = mean over the batch and the replayed molecules of (log p_prior(x) + σ · reward(x) − log p_agent(x))²
           + likelihood_penalty · mean(−1 / log p_agent(x))

``reward`` is the oracle's score, set to 0 by the diversity filter for a molecule whose Murcko scaffold bucket is
full, and mixed with a GAN critic's realism score when ``critic`` is set (ATNC/ORGAN). The replay memory keeps the
best ``memory`` distinct molecules and replays ``replay`` of them per step, drawn with probability proportional to
their reward. The run ends when the oracle's budget is spent (:class:`BudgetExhausted` mid-batch ends it at once).

Augmented Memory (``augmentation_rounds`` > 0; Guo & Schwaller, JACS Au 2024): after the step's update, each round
writes every molecule of the batch and of the memory as a new random SMILES (a random atom order, so the same
molecule as a different token sequence), recomputes the prior's log-likelihood of those strings, and makes one more
update with the same loss on them (the memory's molecules with reward 0 left out). The oracle is not called again:
the scores are reused, which is where the sample efficiency comes from; a step then costs about 1 + 2 x rounds
forward-backward passes.

Determinism: the sampling generator, torch and the replay RNG are seeded from ``seed``; the same seed, prior and
oracle give the same call log on the same machine.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch
from rdkit import Chem, rdBase
from rdkit.Chem.Scaffolds import MurckoScaffold

from deep_arena.agents.reinvent.config import ReinventSettings
from deep_arena.envs.molecule.pmo_oracle import BudgetExhausted, CallLog, Oracle
from deep_arena.gan.lm import ChemicalLM

__all__ = ["DiversityFilter", "Memory", "Reinvent", "load_prior", "PRETRAINED_PRIOR"]

PRETRAINED_PRIOR = Path(__file__).resolve().parents[2] / "gan" / "pretrained" / "lm-moses.pt"


def load_prior(name: str | ChemicalLM, device: str = "cpu") -> ChemicalLM:
    """A ChemicalLM: itself, ``"pretrained"`` (gan/pretrained/lm-moses.pt) or a saved model's path."""
    if isinstance(name, ChemicalLM):
        return name
    if name == "pretrained":
        if not PRETRAINED_PRIOR.is_file():
            raise FileNotFoundError(f"no shipped prior at {PRETRAINED_PRIOR}; pass --prior RUN/model.pt (a chemical "
                                    f"language model from `arena-train gan lm`)")
        return ChemicalLM.load(PRETRAINED_PRIOR, device)
    return ChemicalLM.load(name, device)


def _scaffold(mol: Chem.Mol) -> str:
    try:
        return MurckoScaffold.MurckoScaffoldSmiles(mol=mol)
    except Exception:  # RDKit fails on a few exotic molecules: they share one bucket
        return "?"


class DiversityFilter:
    """REINVENT 2.0's identical-Murcko-scaffold filter: distinct molecules scoring at least ``min_score`` fill their
    scaffold's bucket; once a bucket holds ``bucket_size``, further molecules of that scaffold earn 0."""

    def __init__(self, bucket_size: int, min_score: float) -> None:
        self.bucket_size, self.min_score = int(bucket_size), float(min_score)
        self.buckets: dict[str, set[str]] = {}

    def __call__(self, smiles: str, mol: Chem.Mol, score: float, scaffold: str | None = None) -> float:
        if score < self.min_score:
            return score
        bucket = self.buckets.setdefault(_scaffold(mol) if scaffold is None else scaffold, set())
        if smiles in bucket:
            return score if len(bucket) <= self.bucket_size else 0.0
        if len(bucket) >= self.bucket_size:
            return 0.0
        bucket.add(smiles)
        return score


@dataclass
class _Entry:
    reward: float
    tokens: torch.Tensor
    prior_logp: float
    scaffold: str = ""


class Memory:
    """The best ``size`` distinct molecules (by reward) with their tokens and prior log-likelihood."""

    def __init__(self, size: int) -> None:
        self.size = int(size)
        self.entries: dict[str, _Entry] = {}

    def __len__(self) -> int:
        return len(self.entries)

    def add(self, smiles: str, reward: float, tokens: torch.Tensor, prior_logp: float, scaffold: str = "") -> None:
        if smiles in self.entries:
            return
        self.entries[smiles] = _Entry(float(reward), tokens, float(prior_logp), scaffold)
        if len(self.entries) > self.size:
            worst = min(self.entries, key=lambda s: (self.entries[s].reward, s))
            del self.entries[worst]

    def purge(self, scaffold: str) -> int:
        """Drop the molecules of ``scaffold``; how many went."""
        gone = [k for k, e in self.entries.items() if e.scaffold == scaffold]
        for k in gone:
            del self.entries[k]
        return len(gone)

    def sample(self, n: int, rng: np.random.Generator) -> list[_Entry]:
        keys = sorted(self.entries)
        rewards = np.array([self.entries[k].reward for k in keys], dtype=np.float64)
        n = min(n, len(keys))
        # proportional to reward (Olivecrona's Experience.sample); uniform while too few have a positive reward
        p = rewards / rewards.sum() if np.count_nonzero(rewards > 0) >= n else None
        idx = rng.choice(len(keys), size=n, replace=False, p=p)
        return [self.entries[keys[i]] for i in idx]


def randomized_tokens(lm: ChemicalLM, smiles: list[str], fallback: list[torch.Tensor],
                      rng: np.random.Generator) -> torch.Tensor:
    """Padded token rows of a random SMILES of each molecule (atoms renumbered by ``rng``, so deterministic); a
    molecule that does not parse, or whose random SMILES has a token the vocabulary lacks, keeps ``fallback``."""
    rows = []
    for smi, old in zip(smiles, fallback):
        mol = Chem.MolFromSmiles(smi) if smi else None
        row = old
        if mol is not None and mol.GetNumAtoms() > 1:
            order = rng.permutation(mol.GetNumAtoms()).tolist()
            text = Chem.MolToSmiles(Chem.RenumberAtoms(mol, order), canonical=False)
            try:
                row = torch.tensor(lm.vocab.encode(text)[1:], dtype=torch.long)
            except ValueError:  # TokenError: e.g. a ring-closure number the training SMILES never used
                row = old
        rows.append(row)
    return _pad(rows)


def _trim(row: torch.Tensor) -> torch.Tensor:
    """A sampled token row up to and including its end token (or all of it)."""
    nz = (row == 0).nonzero()
    return row[: int(nz[0])] if len(nz) else row


def _pad(rows: list[torch.Tensor]) -> torch.Tensor:
    width = max(len(r) for r in rows)
    out = torch.zeros((len(rows), width), dtype=torch.long)
    for i, r in enumerate(rows):
        out[i, : len(r)] = r
    return out


class Reinvent:
    """REINVENT on one oracle (module docstring). ``run()`` returns the oracle's call log."""

    def __init__(self, prior: ChemicalLM | str, oracle: Oracle, settings: ReinventSettings | dict[str, Any] | None = None,
                 seed: int = 0, on_step: Callable[[int, dict[str, float]], None] | None = None,
                 critic: Callable[[Chem.Mol], float] | None = None) -> None:
        if settings is None:
            settings = ReinventSettings()
        elif isinstance(settings, dict):
            settings = ReinventSettings.from_dict(settings)
        self.settings = settings
        self.prior = load_prior(prior)
        self.oracle = oracle
        self.seed = int(seed)
        self.on_step = on_step
        self.critic = critic
        if critic is None and settings.critic:
            from deep_arena.gan.rewards import DiscriminatorReward  # lazy: MolGAN only with --critic

            self.critic = DiscriminatorReward(settings.critic)
        self.steps = 0
        self.seconds = 0.0

    def run(self) -> CallLog:
        s = self.settings
        torch.manual_seed(self.seed)
        generator = torch.Generator(device=self.prior.device).manual_seed(self.seed)
        rng = np.random.default_rng(self.seed)
        prior = self.prior
        prior.net.eval()
        for p in prior.net.parameters():
            p.requires_grad_(False)
        agent = prior.clone()
        agent.net.train()
        for p in agent.net.parameters():
            p.requires_grad_(True)
        optimizer = torch.optim.Adam(agent.net.parameters(), lr=s.lr)
        memory = Memory(s.memory)
        dfilter = DiversityFilter(s.diversity_filter.bucket_size, s.diversity_filter.min_score) \
            if s.diversity_filter.enabled else None
        started = time.perf_counter()
        with rdBase.BlockLogs():   # invalid samples would each print a parse error
            while not self.oracle.finished and (s.max_steps is None or self.steps < s.max_steps):
                if not self._step(agent, optimizer, generator, rng, memory, dfilter):
                    break
        self.seconds += time.perf_counter() - started
        self.agent = agent
        return self.oracle.log

    def _step(self, agent: ChemicalLM, optimizer, generator, rng, memory: Memory, dfilter) -> bool:
        s = self.settings
        with torch.no_grad():
            tokens, _ = agent.sample_tokens(s.batch_size, generator, s.temperature)
        tokens = tokens.cpu()
        # drop duplicate sequences within the batch (PMO's REINVENT does), keeping the first of each
        _, first = np.unique(tokens.numpy(), axis=0, return_index=True)
        tokens = tokens[torch.from_numpy(np.sort(first))]
        smiles = agent.decode(tokens)
        scores: list[float] = []
        exhausted = False
        for smi in smiles:
            try:
                scores.append(self.oracle(smi))
            except BudgetExhausted:
                exhausted = True
                break
        if exhausted:
            return False
        rewards = np.zeros(len(smiles))
        canon: list[str | None] = []
        scaffolds: list[str] = []
        purge = dfilter is not None and s.diversity_filter.purge_memory
        for i, (smi, score) in enumerate(zip(smiles, scores)):
            mol = Chem.MolFromSmiles(smi) if smi else None
            if mol is None:
                canon.append(None)
                scaffolds.append("")
                continue
            key = Chem.MolToSmiles(mol)
            canon.append(key)
            # the memory needs every molecule's scaffold only to purge; otherwise the filter finds the scaffolds
            # it needs (those scoring at least its minimum) itself
            scaffolds.append(_scaffold(mol) if purge else "")
            r = score
            if self.critic is not None:
                w = s.critic_weight
                r = w * float(self.critic(mol)) + (1.0 - w) * r
            if dfilter is not None:
                before = r
                r = dfilter(key, mol, r, scaffolds[-1] or None)
                if purge and before > 0 and r == 0:
                    memory.purge(scaffolds[-1])
            rewards[i] = r
        with torch.no_grad():
            prior_logp = self.prior.log_likelihood_tokens(tokens.to(self.prior.device)).cpu()
        agent_logp = agent.log_likelihood_tokens(tokens.to(agent.device)).cpu()
        augmented = prior_logp + s.sigma * torch.as_tensor(rewards, dtype=torch.float32)
        losses = (augmented - agent_logp) ** 2
        all_logp = agent_logp
        if s.replay and len(memory) > s.replay:
            replayed = memory.sample(s.replay, rng)
            exp_tokens = _pad([e.tokens for e in replayed])
            exp_logp = agent.log_likelihood_tokens(exp_tokens.to(agent.device)).cpu()
            exp_aug = torch.tensor([e.prior_logp + s.sigma * e.reward for e in replayed], dtype=torch.float32)
            losses = torch.cat([losses, (exp_aug - exp_logp) ** 2])
            all_logp = torch.cat([agent_logp, exp_logp])
        for i, key in enumerate(canon):
            if key is not None:
                memory.add(key, rewards[i], _trim(tokens[i]), float(prior_logp[i]), scaffolds[i])
        loss = losses.mean()
        if s.likelihood_penalty:
            loss = loss + s.likelihood_penalty * (-(1.0 / all_logp).mean())
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        for _ in range(s.augmentation_rounds):
            self._augmented_update(agent, optimizer, rng, memory, smiles, tokens, rewards)
        self.steps += 1
        if self.on_step is not None:
            valid = [k for k in canon if k is not None]
            self.on_step(self.steps, {"loss": float(loss.detach()), "validity": len(valid) / max(len(canon), 1),
                                      "mean_score": float(np.mean(scores)) if scores else 0.0,
                                      "mean_reward": float(rewards.mean()) if len(rewards) else 0.0,
                                      "agent_nll": float(-agent_logp.detach().mean()), "prior_nll": float(-prior_logp.mean())})
        return True

    def _augmented_update(self, agent: ChemicalLM, optimizer, rng, memory: Memory, smiles: list[str],
                          tokens: torch.Tensor, rewards: np.ndarray) -> None:
        """One Augmented Memory round (module docstring): the batch and the rewarded memory, as new random SMILES."""
        s = self.settings
        kept = [(k, e) for k, e in sorted(memory.entries.items()) if e.reward > 0]
        names = list(smiles) + [k for k, _ in kept]
        old = [_trim(t) for t in tokens] + [e.tokens for _, e in kept]
        reward = torch.as_tensor(np.concatenate([rewards, [e.reward for _, e in kept]]), dtype=torch.float32)
        rows = randomized_tokens(agent, names, old, rng)
        with torch.no_grad():
            prior_logp = self.prior.log_likelihood_tokens(rows.to(self.prior.device)).cpu()
        agent_logp = agent.log_likelihood_tokens(rows.to(agent.device)).cpu()
        loss = ((prior_logp + s.sigma * reward - agent_logp) ** 2).mean()
        if s.likelihood_penalty:
            loss = loss + s.likelihood_penalty * (-(1.0 / agent_logp).mean())
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
