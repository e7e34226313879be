"""WGAN-GP core (Gulrajani et al., 2017), the one implementation every GAN of this package reuses.

Generic over any generator / critic pair of ``nn.Module``\\ s:

* the generator maps a noise batch ``z`` to a sample batch: one tensor, or a tuple of tensors (e.g. a molecular
  graph's adjacency and node tensors);
* the critic takes the same thing (a tuple is unpacked: ``critic(*sample)``) and returns one score per sample;
* real data comes from a batch sampler ``sample_real(batch_size) -> tensor | tuple`` (already on the device).

Losses (minimised): critic ``E[D(fake)] - E[D(real)] + gp_weight * GP``, generator ``-E[D(fake)]``, where GP is
``E[(||∇_x̂ D(x̂)||₂ - 1)²]`` at random interpolates ``x̂ = α·real + (1-α)·fake`` (one α per sample, shared by every
tensor of a tuple sample; the norm is taken over all of them). ``W = E[D(real)] - E[D(fake)]`` is the Wasserstein
estimate. Defaults from the paper: ``gp_weight`` 10, ``n_critic`` 5, Adam(lr 1e-4, betas (0.5, 0.9)).

Any loss or penalty that becomes NaN or ±inf raises :class:`NonFiniteLossError` naming the loss and the step.
Mixed precision (autocast + GradScaler) is used on CUDA only; the gradient penalty is always computed in fp32.

Typical use::

    gan = WGANGP(generator, critic, noise=lambda n: torch.randn(n, 32))
    for step in range(steps):
        metrics = gan.train_step(sample_real, batch_size=64)   # n_critic critic updates, one generator update
        gan.log(writer, metrics)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

import torch
from torch import nn

__all__ = ["WGANConfig", "WGANGP", "NonFiniteLossError", "gradient_penalty", "as_tuple"]

Sample = torch.Tensor | tuple[torch.Tensor, ...]


class NonFiniteLossError(FloatingPointError):
    """A loss became NaN or infinite; the message names the loss and the training step."""

    def __init__(self, name: str, value: float, step: int, hint: str = "") -> None:
        self.name, self.value, self.step = name, value, step
        msg = f"WGAN-GP: {name} became {value} at step {step}; training stopped"
        super().__init__(msg + (f" ({hint})" if hint else ""))


@dataclass
class WGANConfig:
    """Hyperparameters of :class:`WGANGP` (paper defaults)."""

    gp_weight: float = 10.0
    n_critic: int = 5
    lr_generator: float = 1e-4
    lr_critic: float = 1e-4
    betas: tuple[float, float] = (0.5, 0.9)
    amp: bool = True          # mixed precision, used only when the device is CUDA
    grad_clip: float | None = None   # optional max grad norm (both nets); None = off (the paper has none)

    def validate(self) -> None:
        if not (self.gp_weight >= 0 and math.isfinite(self.gp_weight)):
            raise ValueError(f"gp_weight must be a finite number >= 0, got {self.gp_weight!r}")
        if isinstance(self.n_critic, bool) or not isinstance(self.n_critic, int) or self.n_critic < 1:
            raise ValueError(f"n_critic must be a positive integer, got {self.n_critic!r}")
        for key in ("lr_generator", "lr_critic"):
            value = getattr(self, key)
            if not (isinstance(value, (int, float)) and value > 0 and math.isfinite(value)):
                raise ValueError(f"{key} must be a positive number, got {value!r}")
        if len(self.betas) != 2 or not all(0 <= b < 1 for b in self.betas):
            raise ValueError(f"betas must be two numbers in [0, 1), got {self.betas!r}")


def as_tuple(sample: Sample) -> tuple[torch.Tensor, ...]:
    """A sample as a tuple of tensors (a single tensor becomes a 1-tuple)."""
    return tuple(sample) if isinstance(sample, (tuple, list)) else (sample,)


def _batch_size(sample: Sample) -> int:
    return int(as_tuple(sample)[0].shape[0])


def gradient_penalty(critic: nn.Module | Callable[..., torch.Tensor], real: Sample, fake: Sample,
                     alpha: torch.Tensor | None = None) -> torch.Tensor:
    """``E[(||∇_x̂ D(x̂)||₂ - 1)²]`` at interpolates ``x̂ = α·real + (1-α)·fake``.

    :param critic: called as ``critic(*x̂)``; must return one score per sample.
    :param real: real batch (tensor or tuple of tensors, floating point).
    :param fake: generated batch of the same structure (detached here).
    :param alpha: interpolation weights of shape ``(batch,)``; uniform in [0, 1) when omitted.
    :return: the scalar penalty (fp32), differentiable w.r.t. the critic's parameters.
    """
    real_t, fake_t = as_tuple(real), as_tuple(fake)
    if len(real_t) != len(fake_t):
        raise ValueError(f"real and fake samples have {len(real_t)} and {len(fake_t)} tensors")
    batch = real_t[0].shape[0]
    if alpha is None:
        alpha = torch.rand(batch, device=real_t[0].device)
    inputs = []
    for r, f in zip(real_t, fake_t):
        a = alpha.to(dtype=torch.float32).view(batch, *([1] * (r.dim() - 1)))
        inputs.append((a * r.float() + (1 - a) * f.detach().float()).requires_grad_(True))
    scores = critic(*inputs).float().reshape(batch, -1).sum(dim=1)
    grads = torch.autograd.grad(scores.sum(), inputs, create_graph=True)
    sq = sum(g.reshape(batch, -1).pow(2).sum(dim=1) for g in grads)
    norm = torch.sqrt(sq + 1e-12)
    return ((norm - 1.0) ** 2).mean()


class WGANGP:
    """Trains a generator/critic pair with WGAN-GP; see the module docstring.

    :param generator: ``nn.Module``; ``generator(z)`` returns a sample batch (tensor or tuple).
    :param critic: ``nn.Module``; ``critic(*sample)`` returns scores of shape ``(batch,)`` or ``(batch, 1)``.
    :param noise: ``noise(n) -> z`` on any device (moved to ``device``), or an int latent size for ``randn(n, k)``.
    :param config: :class:`WGANConfig` or a mapping of its fields.
    :param device: where the models live (they are moved there).
    :param generate: optional ``generate(generator, z) -> sample`` used instead of ``generator(z)`` for training
        samples (e.g. Gumbel-softmax graphs).
    """

    def __init__(self, generator: nn.Module, critic: nn.Module, noise: Callable[[int], torch.Tensor] | int,
                 config: WGANConfig | Mapping[str, Any] | None = None, device: str | torch.device = "cpu",
                 generate: Callable[[nn.Module, torch.Tensor], Sample] | None = None) -> None:
        if config is None:
            config = WGANConfig()
        elif isinstance(config, Mapping):
            config = WGANConfig(**{k: (tuple(v) if k == "betas" else v) for k, v in config.items()})
        config.validate()
        self.config = config
        self.device = torch.device(device)
        self.generator = generator.to(self.device)
        self.critic = critic.to(self.device)
        if isinstance(noise, int):
            latent = noise
            self.noise = lambda n: torch.randn(n, latent)
        else:
            self.noise = noise
        self.generate = generate or (lambda gen, z: gen(z))
        self.opt_g = torch.optim.Adam(self.generator.parameters(), lr=config.lr_generator, betas=config.betas)
        self.opt_d = torch.optim.Adam(self.critic.parameters(), lr=config.lr_critic, betas=config.betas)
        self.use_amp = bool(config.amp) and self.device.type == "cuda"
        self.scaler = torch.amp.GradScaler("cuda", enabled=self.use_amp)
        self.step = 0              # generator updates (one train_step = n_critic critic updates + 1 generator update)
        self.critic_steps = 0

    # --- helpers ------------------------------------------------------------------------------------------------

    def _autocast(self):
        return torch.autocast(device_type=self.device.type, enabled=self.use_amp)

    def _check(self, name: str, value: torch.Tensor) -> float:
        v = float(value.detach())
        if not math.isfinite(v):
            raise NonFiniteLossError(name, v, self.step,
                                     "lower the learning rates, raise gp_weight, or check the data for NaNs")
        return v

    def _scores(self, sample: Sample) -> torch.Tensor:
        out = self.critic(*as_tuple(sample))
        return out.reshape(out.shape[0], -1).mean(dim=1).float()

    def sample_noise(self, n: int) -> torch.Tensor:
        return self.noise(n).to(self.device)

    def _apply(self, loss: torch.Tensor, opt: torch.optim.Optimizer, params) -> None:
        opt.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()
        if self.config.grad_clip:
            self.scaler.unscale_(opt)
            torch.nn.utils.clip_grad_norm_(params, self.config.grad_clip)
        self.scaler.step(opt)
        self.scaler.update()

    # --- updates ------------------------------------------------------------------------------------------------

    def critic_step(self, real: Sample) -> dict[str, float]:
        """One critic update on ``real`` against a fresh generated batch of the same size."""
        batch = _batch_size(real)
        with torch.no_grad(), self._autocast():
            fake = self.generate(self.generator, self.sample_noise(batch))
        fake = tuple(t.detach().float() for t in as_tuple(fake))
        with self._autocast():
            d_real = self._scores(real).mean()
            d_fake = self._scores(fake).mean()
        gp = gradient_penalty(self.critic, real, fake)
        loss = d_fake - d_real + self.config.gp_weight * gp
        values = {"critic_loss": self._check("critic loss", loss), "gradient_penalty": self._check("gradient penalty", gp),
                  "wasserstein": self._check("Wasserstein estimate", d_real - d_fake)}
        self._apply(loss, self.opt_d, self.critic.parameters())
        self.critic_steps += 1
        return values

    def generator_step(self, batch_size: int,
                       extra_loss: Callable[[Sample], tuple[torch.Tensor, dict[str, float]]] | None = None,
                       wgan_weight: float = 1.0, extra_weight: float = 0.0) -> dict[str, float]:
        """One generator update: loss = ``wgan_weight * (-E[D(G(z))]) + extra_weight * extra_loss(G(z))``.

        ``extra_loss(fake) -> (loss, metrics)`` is any differentiable term (e.g. an RL reward network's negative
        prediction); it is skipped when ``extra_loss`` is None or ``extra_weight`` is 0.
        """
        for p in self.critic.parameters():
            p.requires_grad_(False)
        try:
            with self._autocast():
                fake = self.generate(self.generator, self.sample_noise(batch_size))
                adv = -self._scores(fake).mean()
            values = {"generator_loss": self._check("generator loss", adv)}
            loss = wgan_weight * adv
            if extra_loss is not None and extra_weight != 0.0:
                extra, metrics = extra_loss(fake)
                values["extra_loss"] = self._check("extra generator loss", extra)
                values.update(metrics)
                loss = loss + extra_weight * extra
            values["generator_total_loss"] = self._check("total generator loss", loss)
            self._apply(loss, self.opt_g, self.generator.parameters())
        finally:
            for p in self.critic.parameters():
                p.requires_grad_(True)
        self.step += 1
        return values

    def train_step(self, sample_real: Callable[[int], Sample], batch_size: int, **generator_kwargs: Any
                   ) -> dict[str, float]:
        """``n_critic`` critic updates (each on a fresh real batch) then one generator update.

        :return: the mean critic metrics and the generator metrics of this step.
        """
        critic_values: dict[str, list[float]] = {}
        for _ in range(self.config.n_critic):
            for key, value in self.critic_step(sample_real(batch_size)).items():
                critic_values.setdefault(key, []).append(value)
        out = {key: sum(v) / len(v) for key, v in critic_values.items()}
        out.update(self.generator_step(batch_size, **generator_kwargs))
        return out

    # --- logging and state --------------------------------------------------------------------------------------

    def log(self, writer: Any, metrics: Mapping[str, float], step: int | None = None, prefix: str = "gan/") -> None:
        """TensorBoard scalars (critic loss, generator loss, Wasserstein estimate, gradient penalty, extras)."""
        step = self.step if step is None else step
        for key, value in metrics.items():
            writer.add_scalar(prefix + key, float(value), step)

    def state_dict(self) -> dict[str, Any]:
        return {"generator": self.generator.state_dict(), "critic": self.critic.state_dict(),
                "opt_g": self.opt_g.state_dict(), "opt_d": self.opt_d.state_dict(),
                "scaler": self.scaler.state_dict(), "step": self.step, "critic_steps": self.critic_steps,
                "config": {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(self.config).items()}}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self.generator.load_state_dict(state["generator"])
        self.critic.load_state_dict(state["critic"])
        self.opt_g.load_state_dict(state["opt_g"])
        self.opt_d.load_state_dict(state["opt_d"])
        if state.get("scaler"):
            self.scaler.load_state_dict(state["scaler"])
        self.step = int(state["step"])
        self.critic_steps = int(state["critic_steps"])
