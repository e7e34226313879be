"""Residual policy/value network for Go (AlphaGo Zero style), fully convolutional so one network plays any size.

Input: the feature planes of `envs.go.features` (2H + 2 planes), plus a plane of ones added here so that the zero
padding of the convolutions marks the board edge. Body: a 3x3 convolution and ``blocks`` residual blocks of width
``channels`` (BatchNorm, ReLU). Heads:

* policy: a 1x1 convolution to one logit per point, and a pass logit from the globally pooled body;
* value: globally pooled body -> ``value_hidden`` -> tanh, the expected outcome for the player to move.

Global pooling instead of size-specific dense layers means weights transfer between board sizes (``--init-from``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn


@dataclass
class NetConfig:
    in_planes: int = 10
    channels: int = 64
    blocks: int = 6
    value_hidden: int = 64
    dropout: float = 0.0

    def to_dict(self) -> dict:
        return asdict(self)


class ResidualBlock(nn.Module):
    def __init__(self, channels: int):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(channels)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return F.relu(x + y)


class PolicyValueNet(nn.Module):
    """``forward(planes) -> (policy_logits (B, N*N+1), value (B,))`` for planes of shape (B, in_planes, N, N)."""

    def __init__(self, config: NetConfig):
        super().__init__()
        self.config = config
        c = config.channels
        self.stem = nn.Sequential(nn.Conv2d(config.in_planes + 1, c, 3, padding=1, bias=False), nn.BatchNorm2d(c),
                                  nn.ReLU())
        self.body = nn.Sequential(*[ResidualBlock(c) for _ in range(config.blocks)])
        self.policy_conv = nn.Sequential(nn.Conv2d(c, 32, 1, bias=False), nn.BatchNorm2d(32), nn.ReLU(),
                                         nn.Conv2d(32, 1, 1))
        self.pass_head = nn.Linear(2 * c, 1)
        self.value_head = nn.Sequential(nn.Linear(2 * c, config.value_hidden), nn.ReLU(),
                                        nn.Dropout(config.dropout), nn.Linear(config.value_hidden, 1))
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, planes: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        ones = torch.ones_like(planes[:, :1])
        x = self.body(self.stem(torch.cat([planes, ones], dim=1)))
        pooled = torch.cat([x.mean(dim=(2, 3)), x.amax(dim=(2, 3))], dim=1)
        pooled = self.dropout(pooled)
        point_logits = self.policy_conv(x).flatten(1)
        logits = torch.cat([point_logits, self.pass_head(pooled)], dim=1)
        value = torch.tanh(self.value_head(pooled)).squeeze(1)
        return logits, value


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
