"""Networks of the tabular GAN: the residual :class:`Generator`, the PacGAN :class:`Critic` and :func:`activate`,
which turns the generator's raw output into rows (tanh for each α, Gumbel-softmax or Gumbel-max for each one-hot)."""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["Generator", "Critic", "activate"]


class _ResidualBlock(nn.Module):
    """``relu(batch_norm(linear(x))) ‖ x``: the block widens its input by ``out_dim`` (CTGAN's residual layer)."""

    def __init__(self, in_dim: int, out_dim: int) -> None:
        super().__init__()
        self.fc, self.bn = nn.Linear(in_dim, out_dim), nn.BatchNorm1d(out_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([F.relu(self.bn(self.fc(x))), x], dim=1)


class Generator(nn.Module):
    """``z ‖ cond -> raw output`` (α pre-activations and logits); residual blocks with batch norm."""

    def __init__(self, in_dim: int, hidden: Sequence[int], out_dim: int) -> None:
        super().__init__()
        blocks, dim = [], in_dim
        for h in hidden:
            blocks.append(_ResidualBlock(dim, h))
            dim += h
        self.body = nn.Sequential(*blocks)
        self.out = nn.Linear(dim, out_dim)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.out(self.body(z))


class Critic(nn.Module):
    """``critic(row, cond) -> score`` per sample: MLP with leaky ReLU (0.2) and dropout over packs of ``pac``
    consecutive samples (PacGAN); each sample gets its pack's score, so the WGAN-GP core still sees one score per
    sample (a batch whose size is not a multiple of ``pac`` is padded by repeating its last rows)."""

    def __init__(self, row_dim: int, cond_dim: int, hidden: Sequence[int], dropout: float, pac: int = 1) -> None:
        super().__init__()
        self.pac = int(pac)
        layers: list[nn.Module] = []
        dim = (row_dim + cond_dim) * self.pac
        for h in hidden:
            layers += [nn.Linear(dim, h), nn.LeakyReLU(0.2), nn.Dropout(dropout)]
            dim = h
        layers.append(nn.Linear(dim, 1))
        self.net = nn.Sequential(*layers)

    def forward(self, row: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        x = torch.cat([row, cond], dim=1)
        n = x.shape[0]
        pad = (-n) % self.pac
        if pad:
            x = torch.cat([x, x[-pad:]], dim=0)
        scores = self.net(x.reshape(-1, x.shape[1] * self.pac)).squeeze(1)
        return scores.repeat_interleave(self.pac)[:n]


def activate(raw: torch.Tensor, spans: Sequence[tuple[str, str, int, int]], tau: float, hard: bool = False,
             generator: torch.Generator | None = None) -> torch.Tensor:
    """tanh on each α, Gumbel-softmax (temperature ``tau``) on each one-hot span in training; ``hard``: one-hots
    drawn from each span's softmax (Gumbel-max with noise from ``generator``), as the critic saw them in training."""
    parts = []
    for _, kind, start, width in spans:
        if kind == "continuous":
            parts.append(torch.tanh(raw[:, start:start + 1]))
            logits = raw[:, start + 1:start + width]
        else:
            logits = raw[:, start:start + width]
        if hard:
            u = torch.rand(logits.shape, generator=generator).to(logits.device).clamp(1e-10, 1 - 1e-10)
            drawn = (logits - torch.log(-torch.log(u))).argmax(dim=1)
            parts.append(F.one_hot(drawn, logits.shape[1]).to(raw.dtype))
        else:
            parts.append(F.gumbel_softmax(logits, tau=tau, hard=False))
    return torch.cat(parts, dim=1)

