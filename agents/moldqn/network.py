"""MolDQN's value network: an MLP over a candidate next state's features (Morgan bits + steps left) giving Q.

With ``heads > 1`` the last layer has one output per bootstrapped head (Osband et al.'s bootstrapped DQN, as in
MolDQN): each episode acts greedily with one head, each transition trains a random subset of heads.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import torch
from torch import nn


def candidate_features(fingerprints: np.ndarray, stop: np.ndarray, steps_left: int, max_steps: int) -> np.ndarray:
    """Network inputs for the candidates of one step: each candidate's fingerprint and the fraction of steps left
    after taking it, which is 0 for the stop candidate (a terminal state: the same molecule as now, but nothing
    follows), so that stopping and moving on are told apart."""
    x = np.empty((fingerprints.shape[0], fingerprints.shape[1] + 1), dtype=np.float32)
    x[:, :-1] = fingerprints
    x[:, -1] = (steps_left - 1) / max_steps
    x[stop, -1] = 0.0
    return x


class QNetwork(nn.Module):
    """``Q(s') = MLP([fingerprint(s'), steps_left / max_steps])`` with ReLU hidden layers.

    Args:
        in_features: fingerprint bits + 1.
        hidden: hidden layer widths (MolDQN: 1024, 512, 128, 32).
        heads: number of bootstrapped heads (1 = plain double DQN).
    """

    def __init__(self, in_features: int, hidden: Sequence[int] = (1024, 512, 128, 32), heads: int = 1):
        super().__init__()
        if in_features < 2 or heads < 1 or any(int(h) < 1 for h in hidden):
            raise ValueError(f"bad QNetwork shape: in_features={in_features}, hidden={list(hidden)}, heads={heads}")
        layers: list[nn.Module] = []
        width = in_features
        for h in hidden:
            layers += [nn.Linear(width, int(h)), nn.ReLU()]
            width = int(h)
        layers.append(nn.Linear(width, heads))
        self.body = nn.Sequential(*layers)
        self.in_features = in_features
        self.hidden = [int(h) for h in hidden]
        self.heads = heads

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(batch, in_features) -> (batch, heads)."""
        return self.body(x)
