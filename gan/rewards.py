"""The GAN critic as a reward for the molecule env (ORGAN / ATNC style pairing with RL).

``DiscriminatorReward(model)`` is a callable ``mol -> float`` accepted by ``MoleculeEnv(reward_fn=...)``: the
molecule is encoded to the GAN's graph tensors and scored by the critic; the score is squashed to (0, 1) with
``sigmoid((D − m) / s)``, where ``m`` is the midpoint of the critic's mean score on real and on generated molecules
and ``s`` a quarter of their gap (both measured when the model was saved), so data-set molecules score high and
generated ones low (shipped molgan-qm9: median 0.82 on 300 QM9 molecules, 0.12 on 300 valid generated ones).

Molecules the graph cannot represent (more heavy atoms than the GAN's slots, elements other than C N O F, formal
charges, radicals; also ``None`` and empty molecules) get ``low_score`` (default 0.0) and never raise. A critic with
minibatch standard deviation is given the real-batch value of that feature, as single molecules have no batch.
"""

from __future__ import annotations

import math
from typing import Any

import torch

from deep_arena.gan import load_pretrained
from deep_arena.gan.molgan import MolGAN, encode_mol, graphs_to_tensors

__all__ = ["DiscriminatorReward", "MixedReward", "gan_start_smiles"]


class DiscriminatorReward:
    """Critic score of a molecule in (0, 1); see the module docstring.

    :param model: a :class:`gan.molgan.MolGAN`, a path to its ``generator.pt``, or ``"pretrained"``
        (``gan.load_pretrained("molgan-qm9")``).
    :param low_score: the reward of a molecule the GAN cannot encode.
    """

    def __init__(self, model: MolGAN | str | Any, low_score: float = 0.0) -> None:
        if isinstance(model, str) and model == "pretrained":
                model = load_pretrained("molgan-qm9")
        elif not isinstance(model, MolGAN):
            model = MolGAN.load(model)
        self.model = model.eval()
        self.low_score = float(low_score)
        stats = model.critic_stats
        self.center = (stats["real_mean"] + stats["fake_mean"]) / 2
        gap = abs(stats["real_mean"] - stats["fake_mean"])
        self.scale = max(gap / 4, 0.1 * stats.get("real_std", 1.0), 1e-3)
        self.sign = 1.0 if stats["real_mean"] >= stats["fake_mean"] else -1.0
        self.max_atoms = model.config["max_atoms"]
        self.__name__ = "gan_discriminator"

    def raw(self, mol) -> float | None:
        """The critic's raw score, or ``None`` when the molecule cannot be encoded."""
        try:
            graph = encode_mol(mol, self.max_atoms)
        except Exception:
            return None
        if graph is None:
            return None
        adj, nodes = graphs_to_tensors(graph[0][None], graph[1][None])
        critic = self.model.critic
        old = critic.fixed_batch_std
        critic.fixed_batch_std = float(self.model.critic_stats.get("real_batch_std", 0.0))
        try:
            with torch.no_grad():
                return float(critic(adj.to(self.model.device), nodes.to(self.model.device))[0])
        finally:
            critic.fixed_batch_std = old

    def __call__(self, mol) -> float:
        d = self.raw(mol)
        if d is None or not math.isfinite(d):
            return self.low_score
        return 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, self.sign * (d - self.center) / self.scale))))


class MixedReward:
    """ORGAN / ATNC pairing: ``λ · D(mol) + (1 − λ) · f(mol)`` with ``D`` a `DiscriminatorReward` and ``f`` the
    env objective (a callable ``mol -> float``). Usable as the molecule env's ``reward_fn``."""

    def __init__(self, objective: Any, discriminator: DiscriminatorReward, lam: float) -> None:
        if not (isinstance(lam, (int, float)) and 0.0 <= lam <= 1.0):
            raise ValueError(f"the GAN weight lambda must be in [0, 1], got {lam!r}")
        self.objective = objective
        self.discriminator = discriminator
        self.lam = float(lam)
        self.__name__ = f"{self.lam:g}*gan+{1 - self.lam:g}*{getattr(objective, '__name__', 'objective')}"

    def __call__(self, mol) -> float:
        return self.lam * float(self.discriminator(mol)) + (1.0 - self.lam) * float(self.objective(mol))


def gan_start_smiles(model: MolGAN | str | Any, n: int, seed: int = 0, accept: Any = None) -> list[str]:
    """Up to ``n`` distinct valid molecules sampled from a generator (``"pretrained"``, a path or a `MolGAN`), kept
    only where ``accept(smiles)`` does not raise (e.g. the molecule env's start-molecule check)."""
    if isinstance(model, str) and model == "pretrained":
        model = load_pretrained("molgan-qm9")
    elif not isinstance(model, MolGAN):
        model = MolGAN.load(model)
    out: list[str] = []
    seen: set[str] = set()
    for smiles in model.sample(max(4 * n, 64), seed=seed):
        if smiles is None or smiles in seen:
            continue
        seen.add(smiles)
        if accept is not None:
            try:
                accept(smiles)
            except ValueError:
                continue
        out.append(smiles)
        if len(out) >= n:
            break
    if not out:
        raise ValueError("the generator produced no valid start molecule the env accepts")
    return out
