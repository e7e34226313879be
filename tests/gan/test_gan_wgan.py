"""WGAN-GP core: gradient penalty closed form, a toy distribution learnt, NaN detection, state round trip."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from deep_arena.gan.wgan import NonFiniteLossError, WGANConfig, WGANGP, gradient_penalty

torch.set_num_threads(1)


class Linear(nn.Module):
    def __init__(self, w: list[float]):
        super().__init__()
        self.lin = nn.Linear(len(w), 1, bias=True)
        with torch.no_grad():
            self.lin.weight.copy_(torch.tensor([w]))
            self.lin.bias.fill_(0.7)

    def forward(self, x):
        return self.lin(x).squeeze(-1)


def test_gradient_penalty_of_linear_critic_is_closed_form():
    # D(x) = w.x + b has gradient w everywhere: GP = (||w|| - 1)^2 whatever the interpolates.
    critic = Linear([3.0, 4.0])
    real, fake = torch.randn(16, 2), torch.randn(16, 2)
    gp = gradient_penalty(critic, real, fake)
    assert gp.item() == pytest.approx((5.0 - 1.0) ** 2, rel=1e-5)


def test_gradient_penalty_tuple_samples_take_joint_norm():
    class Two(nn.Module):
        def forward(self, a, b):
            return 2.0 * a.sum(dim=1) + 2.0 * b.sum(dim=(1, 2))

    real = (torch.randn(4, 1), torch.randn(4, 1, 1))
    fake = (torch.randn(4, 1), torch.randn(4, 1, 1))
    # gradient (2, 2): norm sqrt(8)
    assert gradient_penalty(Two(), real, fake).item() == pytest.approx((math.sqrt(8) - 1) ** 2, rel=1e-5)


def _mlp(i, o, width=64):
    return nn.Sequential(nn.Linear(i, width), nn.ReLU(), nn.Linear(width, width), nn.ReLU(), nn.Linear(width, o))


def test_toy_gaussian_mixture_is_learnt():
    # 4 Gaussians (std 0.2) on a circle of radius 2. (A 1-D mixture is a poor toy for the two-sided penalty: to
    # turn round between two modes a 1-D critic must pass through slope 0, which the penalty forbids.)
    torch.manual_seed(0)
    centers = torch.tensor([[2 * math.cos(math.pi * k / 2), 2 * math.sin(math.pi * k / 2)] for k in range(4)])

    def real(n):
        return centers[torch.randint(0, 4, (n,))] + 0.2 * torch.randn(n, 2)

    gen, critic = _mlp(2, 2), _mlp(2, 1)
    gan = WGANGP(gen, critic, noise=2, config=WGANConfig(lr_generator=1e-3, lr_critic=1e-3))
    for _ in range(500):
        gan.train_step(real, batch_size=128)
    with torch.no_grad():
        x = gen(torch.randn(4000, 2))
    dist = torch.cdist(x, centers)
    near = dist.min(dim=1).values < 0.6
    assert near.float().mean() > 0.65                      # most samples sit on a mode
    share = torch.bincount(dist.argmin(dim=1)[near], minlength=4).float() / near.sum()
    assert share.min() > 0.15                                # every mode covered, roughly evenly
    assert x.mean(dim=0).abs().max() < 0.3                   # mean close to the data's (0, 0)
    assert gan.step == 500 and gan.critic_steps == 2500


def test_nan_loss_stops_with_a_clear_message():
    class NaNCritic(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(1, 1)

        def forward(self, x):
            return self.lin(x).squeeze(-1) * float("nan")

    gan = WGANGP(_mlp(2, 1), NaNCritic(), noise=2)
    with pytest.raises(NonFiniteLossError, match=r"critic loss became nan at step 0"):
        gan.train_step(lambda n: torch.randn(n, 1), batch_size=8)


def test_bad_config_and_state_round_trip():
    with pytest.raises(ValueError, match="n_critic"):
        WGANConfig(n_critic=0).validate()
    gan = WGANGP(_mlp(2, 1), _mlp(1, 1), noise=2)
    gan.train_step(lambda n: torch.randn(n, 1), batch_size=8)
    other = WGANGP(_mlp(2, 1), _mlp(1, 1), noise=2)
    other.load_state_dict(gan.state_dict())
    assert other.step == 1 and other.critic_steps == 5
    for a, b in zip(gan.generator.parameters(), other.generator.parameters()):
        assert torch.equal(a, b)
