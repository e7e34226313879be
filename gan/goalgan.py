"""Goal GAN (Florensa et al., 2018): a curriculum of goals of intermediate difficulty for a goal-conditioned agent.

A least-squares GAN over goals learns to propose goals the agent currently reaches *sometimes*: a goal is a
*goal of intermediate difficulty* (GOID) when the agent's success rate on it lies in ``[r_min, r_max]``
(default 0.1–0.9). The discriminator ``D`` is trained with labelled goals, the generator ``G`` to fool it:

=====================  ==============================================================================
discriminator loss     ``E_g[ y_g (D(g) − b)² + (1 − y_g)(D(g) − a)² ] + E_z[ (D(G(z)) − a)² ]``
generator loss         ``E_z[ (D(G(z)) − c)² ]``
constants              ``a = −1`` (not a GOID / generated), ``b = 1`` (GOID), ``c = 0`` (the paper's choice)
networks               ``G``: noise (4-D) → [256, 256] ReLU → goal; ``D``: goal → [128, 128] ReLU → score
=====================  ==============================================================================

This is an LSGAN, not a Wasserstein GAN, so it does not use :mod:`gan.wgan`; it shares that module's
:class:`~gan.wgan.NonFiniteLossError` (a NaN loss stops training with a message naming the loss).

Curriculum loop (:class:`GoalGANCurriculum`), driven by the training episodes themselves:

1. **Start**: ``G`` is pretrained to propose goals around the goals the agent achieves at reset (the start
   positions, read from ``reset()`` observations, plus Gaussian noise ``start_noise``), which are easy.
2. **Propose**: each iteration queues ``goals_per_iteration`` goals: a fraction ``replay_fraction`` drawn from
   earlier goals (against forgetting) and the rest ``G(z)`` plus Gaussian noise (``goal_noise``, in units of half
   the box's width per axis), clipped to the goal box. The noise is what moves the curriculum outward while every
   goal is easy: with no intermediate goal in sight the LSGAN has nothing to pull the generator toward, so after
   each iteration whose goals were all too easy (no GOID, success rate above ``r_max``) the noise grows by
   ``noise_growth`` (up to ``max_goal_noise``); otherwise it is ``goal_noise``. (Our addition: the paper's agents
   started from random-exploration goals and improved slowly; an off-policy agent with hindsight relabelling
   outgrows a fixed noise level quickly.) While every goal is too hard, the replayed earlier goals (the first
   ones lie at the start) keep easier goals in the mix.
   Each training episode (``next_goal()`` at reset) takes the next queued goal.
3. **Label from training episodes** (no extra rollouts): every finished episode reports ``(goal, success)``
   through ``record()``. One episode per goal gives a 0/1 outcome, not a rate, so a goal's success rate is
   estimated as the mean outcome of its ``label_neighbours`` nearest goals (itself included) among the last
   ``label_window`` attempted goals. This k-nearest-neighbour smoothing is our adaptation: the paper ran several
   rollouts per goal.
4. **Train**: when the queue is empty, every goal of the window is labelled (GOID or not) and the GAN takes
   ``gan_steps`` updates on them; then the next iteration's goals are proposed.

Goals live in a box ``[low, high]`` (the env's goal space); the GAN works in coordinates scaled to ``[-1, 1]``
per axis, and axes of zero width (e.g. the table height for push) are held fixed. All randomness comes from the
``seed``: the same seed and the same episode outcomes give the same goals. :meth:`GoalGANCurriculum.state_dict`
holds everything needed to resume (networks, optimizers, goal buffers, queue, random state).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from typing import Any

import numpy as np
import torch
from torch import nn

from deep_arena.gan.wgan import NonFiniteLossError

__all__ = ["GoalGANConfig", "GoalGAN", "GoalGANCurriculum", "label_goals", "start_positions"]

# LSGAN targets of Florensa et al.: a for negatives and generated goals, b for GOIDs, c for the generator.
LSGAN_A, LSGAN_B, LSGAN_C = -1.0, 1.0, 0.0


@dataclass
class GoalGANConfig:
    """Settings of :class:`GoalGANCurriculum` (paper values where the paper gives them)."""

    noise_dim: int = 4
    generator_hidden: Sequence[int] = field(default_factory=lambda: [256, 256])
    discriminator_hidden: Sequence[int] = field(default_factory=lambda: [128, 128])
    lr: float = 1e-3
    betas: Sequence[float] = field(default_factory=lambda: [0.5, 0.999])
    batch_size: int = 64
    gan_steps: int = 100            # GAN updates per curriculum iteration
    pretrain_steps: int = 300       # updates on the start goals before the first iteration
    goals_per_iteration: int = 10   # training episodes per iteration (one goal each)
    replay_fraction: float = 1 / 3  # share of each iteration's goals re-drawn from earlier goals
    goal_noise: float = 0.1         # std of the noise added to generated goals, in scaled units (1 = half the box)
    noise_growth: float = 1.5       # goal_noise is multiplied by this after an iteration without intermediate goals
    max_goal_noise: float = 1.0     # ... up to this; it drops back to goal_noise once intermediate goals appear
    start_noise: float = 0.1        # std of the noise around start positions for the first goals, scaled units
    start_goals: int = 200
    r_min: float = 0.1
    r_max: float = 0.9
    label_neighbours: int = 5
    label_window: int = 200         # recent attempts used for labelling (and trained on)
    replay_size: int = 2000         # earlier goals kept for replay

    def validate(self) -> None:
        ints = ("noise_dim", "batch_size", "gan_steps", "goals_per_iteration", "start_goals", "label_neighbours",
                "label_window", "replay_size")
        for key in ints:
            v = getattr(self, key)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"goalgan.{key} must be a positive integer, got {v!r}")
        v = self.pretrain_steps
        if isinstance(v, bool) or not isinstance(v, int) or v < 0:
            raise ValueError(f"goalgan.pretrain_steps must be an integer >= 0, got {v!r}")
        for key in ("generator_hidden", "discriminator_hidden"):
            v = getattr(self, key)
            if not isinstance(v, (list, tuple)) or not v or not all(isinstance(h, int) and h > 0 for h in v):
                raise ValueError(f"goalgan.{key} must be a non-empty list of positive integers, got {v!r}")
        if not (isinstance(self.lr, (int, float)) and self.lr > 0 and math.isfinite(self.lr)):
            raise ValueError(f"goalgan.lr must be a positive number, got {self.lr!r}")
        if len(self.betas) != 2 or not all(0 <= b < 1 for b in self.betas):
            raise ValueError(f"goalgan.betas must be two numbers in [0, 1), got {self.betas!r}")
        if not 0 <= self.replay_fraction < 1:
            raise ValueError(f"goalgan.replay_fraction must be in [0, 1), got {self.replay_fraction!r}")
        if not (isinstance(self.noise_growth, (int, float)) and self.noise_growth >= 1):
            raise ValueError(f"goalgan.noise_growth must be a number >= 1, got {self.noise_growth!r}")
        for key in ("goal_noise", "start_noise", "max_goal_noise"):
            v = getattr(self, key)
            if not (isinstance(v, (int, float)) and v >= 0 and math.isfinite(v)):
                raise ValueError(f"goalgan.{key} must be a number >= 0, got {v!r}")
        if not 0 <= self.r_min < self.r_max <= 1:
            raise ValueError(f"goalgan needs 0 <= r_min < r_max <= 1, got r_min={self.r_min!r}, r_max={self.r_max!r}")

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any] | None) -> GoalGANConfig:
        values = dict(values or {})
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown goalgan setting(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
        config = cls(**values)
        config.validate()
        return config


def _mlp(sizes: Sequence[int], out_act: nn.Module | None = None) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i in range(len(sizes) - 1):
        layers.append(nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    if out_act is not None:
        layers.append(out_act)
    return nn.Sequential(*layers)


class GoalGAN:
    """The LSGAN of Goal GAN over goals in scaled coordinates ``[-1, 1]^d`` (see the module docstring).

    :param goal_dim: number of (free) goal coordinates.
    :param config: network sizes, learning rate, batch size.
    :param seed: seeds the networks' initial weights and the GAN's own noise.
    """

    def __init__(self, goal_dim: int, config: GoalGANConfig, seed: int = 0) -> None:
        self.goal_dim, self.config = goal_dim, config
        self.torch_rng = torch.Generator().manual_seed(int(seed))
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(int(seed))
            self.generator = _mlp([config.noise_dim, *config.generator_hidden, goal_dim], nn.Tanh())
            self.discriminator = _mlp([goal_dim, *config.discriminator_hidden, 1])
        betas = tuple(config.betas)
        self.opt_g = torch.optim.Adam(self.generator.parameters(), lr=config.lr, betas=betas)
        self.opt_d = torch.optim.Adam(self.discriminator.parameters(), lr=config.lr, betas=betas)
        self.steps = 0

    def noise(self, n: int) -> torch.Tensor:
        return torch.randn(n, self.config.noise_dim, generator=self.torch_rng)

    @torch.no_grad()
    def sample(self, n: int) -> np.ndarray:
        """``n`` generated goals in scaled coordinates, shape ``(n, goal_dim)``."""
        return self.generator(self.noise(n)).numpy().astype(np.float64)

    def _check(self, name: str, loss: torch.Tensor) -> float:
        value = float(loss.detach())
        if not math.isfinite(value):
            raise NonFiniteLossError(name, value, self.steps, "check the goals for NaNs or lower goalgan.lr")
        return value

    def train(self, goals: np.ndarray, labels: np.ndarray, steps: int) -> dict[str, float]:
        """``steps`` LSGAN updates on labelled goals (scaled coordinates; ``labels`` 1 = GOID, 0 = not).

        Each update draws a batch of labelled goals and a batch of generated goals, takes one discriminator step
        and one generator step. Returns the mean losses.
        """
        goals_t = torch.as_tensor(goals, dtype=torch.float32)
        labels_t = torch.as_tensor(labels, dtype=torch.float32)
        n = len(goals_t)
        if n == 0 or steps == 0:
            return {}
        batch = min(self.config.batch_size, n)
        sums = {"discriminator_loss": 0.0, "generator_loss": 0.0}
        for _ in range(steps):
            idx = torch.randint(n, (batch,), generator=self.torch_rng)
            real, y = goals_t[idx], labels_t[idx]
            fake = self.generator(self.noise(batch))
            d_real = self.discriminator(real).squeeze(1)
            d_fake = self.discriminator(fake.detach()).squeeze(1)
            d_loss = (y * (d_real - LSGAN_B) ** 2 + (1 - y) * (d_real - LSGAN_A) ** 2).mean() \
                + ((d_fake - LSGAN_A) ** 2).mean()
            sums["discriminator_loss"] += self._check("Goal GAN discriminator loss", d_loss)
            self.opt_d.zero_grad(set_to_none=True)
            d_loss.backward()
            self.opt_d.step()
            for p in self.discriminator.parameters():
                p.requires_grad_(False)
            g_loss = ((self.discriminator(fake).squeeze(1) - LSGAN_C) ** 2).mean()
            for p in self.discriminator.parameters():
                p.requires_grad_(True)
            sums["generator_loss"] += self._check("Goal GAN generator loss", g_loss)
            self.opt_g.zero_grad(set_to_none=True)
            g_loss.backward()
            self.opt_g.step()
            self.steps += 1
        return {k: v / steps for k, v in sums.items()}

    def state_dict(self) -> dict[str, Any]:
        return {"generator": self.generator.state_dict(), "discriminator": self.discriminator.state_dict(),
                "opt_g": self.opt_g.state_dict(), "opt_d": self.opt_d.state_dict(), "steps": self.steps,
                "torch_rng": self.torch_rng.get_state()}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self.generator.load_state_dict(state["generator"])
        self.discriminator.load_state_dict(state["discriminator"])
        self.opt_g.load_state_dict(state["opt_g"])
        self.opt_d.load_state_dict(state["opt_d"])
        self.steps = int(state["steps"])
        self.torch_rng.set_state(state["torch_rng"])


def label_goals(goals: np.ndarray, successes: np.ndarray, neighbours: int, r_min: float, r_max: float
                ) -> tuple[np.ndarray, np.ndarray]:
    """Success-rate estimates and GOID labels for attempted goals, one outcome each.

    A goal's rate is the mean success of its ``neighbours`` nearest goals in ``goals`` (itself included; fewer when
    there are fewer goals); it is a GOID when ``r_min <= rate <= r_max``.

    :return: ``(rates, labels)``, ``labels`` as float 0/1.
    """
    goals = np.asarray(goals, dtype=np.float64).reshape(len(goals), -1)
    successes = np.asarray(successes, dtype=np.float64)
    if len(goals) != len(successes):
        raise ValueError(f"{len(goals)} goals but {len(successes)} outcomes")
    if len(goals) == 0:
        return np.zeros(0), np.zeros(0)
    k = min(int(neighbours), len(goals))
    d2 = ((goals[:, None, :] - goals[None, :, :]) ** 2).sum(-1)
    nearest = np.argsort(d2, axis=1, kind="stable")[:, :k]
    rates = successes[nearest].mean(axis=1)
    labels = ((rates >= r_min) & (rates <= r_max)).astype(np.float64)
    return rates, labels


def start_positions(env, n: int = 10, seed: int = 0) -> np.ndarray:
    """Achieved goals at reset of a goal-conditioned env (``reset(seed=seed + i)``, ``i < n``): where the agent
    starts, i.e. goals it reaches without trying. Shape ``(n, goal_dim)``."""
    rows = []
    for i in range(n):
        obs, _ = env.reset(seed=seed + i)
        rows.append(np.asarray(obs["achieved_goal"], dtype=np.float64))
    return np.stack(rows)


class GoalGANCurriculum:
    """Goal GAN as a goal source for training episodes: ``next_goal()`` at each reset, ``record(goal, success)`` at
    each episode's end (see the module docstring for the loop).

    :param low, high: the goal box (the env's ``goal_low`` / ``goal_high``).
    :param start_positions: achieved goals at reset (one or more rows); the first goals are drawn around them.
    :param config: :class:`GoalGANConfig` or a mapping of its fields.
    :param seed: seeds everything random here.
    """

    def __init__(self, low: np.ndarray, high: np.ndarray, start_positions: np.ndarray,
                 config: GoalGANConfig | Mapping[str, Any] | None = None, seed: int = 0) -> None:
        self.config = config if isinstance(config, GoalGANConfig) else GoalGANConfig.from_mapping(config)
        self.config.validate()
        self.low, self.high = np.asarray(low, dtype=np.float64), np.asarray(high, dtype=np.float64)
        if self.low.shape != self.high.shape or self.low.ndim != 1 or np.any(self.high < self.low):
            raise ValueError(f"goal box needs low <= high, two vectors of one length; got {low!r}, {high!r}")
        self.free = self.high > self.low
        self.half_width = (self.high - self.low) / 2.0   # scaled unit per axis (0 on flat axes: no noise there)
        if not self.free.any():
            raise ValueError("the goal box has zero width along every axis: there is nothing to learn")
        start = np.asarray(start_positions, dtype=np.float64).reshape(-1, len(self.low))
        if not np.isfinite(start).all():
            raise ValueError("start positions must be finite")
        self.rng = np.random.default_rng(seed)
        self.gan = GoalGAN(int(self.free.sum()), self.config, seed=seed)
        self.queue: list[np.ndarray] = []
        self.window: deque[tuple[np.ndarray, float]] = deque(maxlen=self.config.label_window)
        self.replay: deque[np.ndarray] = deque(maxlen=self.config.replay_size)
        self.iterations = 0
        self.episodes = 0
        self.noise = self.config.goal_noise
        self.last: dict[str, float] = {}
        self.last_proposed = np.zeros((0, len(self.low)))
        self.last_labels = (np.zeros((0, len(self.low))), np.zeros(0))
        # 1. the first goals: around the start positions, which the agent reaches without trying
        picks = start[self.rng.integers(len(start), size=self.config.start_goals)]
        first = self.clip(picks + self.rng.normal(0.0, self.config.start_noise, picks.shape) * self.half_width)
        if self.config.pretrain_steps:
            self.last = self.gan.train(self.scale(first), np.ones(len(first)), self.config.pretrain_steps)
        self.replay.extend(first)
        self._propose()

    @classmethod
    def for_env(cls, env, config: GoalGANConfig | Mapping[str, Any] | None = None, seed: int = 0,
                n_starts: int = 10) -> GoalGANCurriculum:
        """A curriculum over ``env``'s goal box (``goal_low`` / ``goal_high`` of the unwrapped env), starting around
        its reset positions (:func:`start_positions`)."""
        base = env.unwrapped
        return cls(base.goal_low, base.goal_high, start_positions(env, n_starts, seed), config, seed)

    # --- coordinates ---------------------------------------------------------------------------------------------

    def clip(self, goals: np.ndarray) -> np.ndarray:
        return np.clip(goals, self.low, self.high)

    def scale(self, goals: np.ndarray) -> np.ndarray:
        """Box coordinates → ``[-1, 1]`` on the free axes."""
        goals = np.asarray(goals, dtype=np.float64).reshape(-1, len(self.low))
        lo, hi = self.low[self.free], self.high[self.free]
        return 2.0 * (goals[:, self.free] - lo) / (hi - lo) - 1.0

    def unscale(self, scaled: np.ndarray) -> np.ndarray:
        lo, hi = self.low[self.free], self.high[self.free]
        goals = np.tile(self.low, (len(scaled), 1))
        goals[:, self.free] = lo + (np.asarray(scaled) + 1.0) / 2.0 * (hi - lo)
        return self.clip(goals)

    # --- the loop -------------------------------------------------------------------------------------------------

    def sample(self, n: int) -> np.ndarray:
        """``n`` goals from the generator (with ``goal_noise``), clipped to the box."""
        goals = self.unscale(self.gan.sample(n))
        noise = self.rng.normal(0.0, self.noise, goals.shape) * self.half_width
        return self.clip(goals + noise)

    def _propose(self) -> None:
        n = self.config.goals_per_iteration
        n_old = int(round(self.config.replay_fraction * n)) if self.replay else 0
        goals = [*self.sample(n - n_old)]
        if n_old:
            picks = self.rng.integers(len(self.replay), size=n_old)
            goals.extend(self.replay[i] for i in picks)
        order = self.rng.permutation(len(goals))
        self.queue = [np.asarray(goals[i]) for i in order]
        self.last_proposed = np.asarray(goals)

    def next_goal(self) -> np.ndarray:
        """The goal of the next training episode."""
        if not self.queue:
            self._update()
        return self.queue.pop(0).copy()

    def record(self, goal: np.ndarray, success: bool) -> None:
        """The outcome of a finished training episode that was given ``goal``."""
        goal = np.asarray(goal, dtype=np.float64).reshape(-1)
        if goal.shape != self.low.shape or not np.isfinite(goal).all():
            raise ValueError(f"record() needs a finite goal of shape {self.low.shape}, got {goal!r}")
        self.window.append((goal, float(bool(success))))
        self.episodes += 1

    def _update(self) -> None:
        """Label the recent attempts, train the GAN on them, propose the next iteration's goals."""
        if self.window:
            goals = np.stack([g for g, _ in self.window])
            outcomes = np.array([s for _, s in self.window])
            scaled = self.scale(goals)
            _, labels = label_goals(scaled, outcomes, self.config.label_neighbours, self.config.r_min,
                                    self.config.r_max)
            losses = self.gan.train(scaled, labels, self.config.gan_steps)
            recent = min(len(goals), self.config.goals_per_iteration)
            self.last = {**losses, "intermediate_fraction": float(labels[-recent:].mean()),
                         "success_rate": float(outcomes[-recent:].mean()),
                         "window_intermediate_fraction": float(labels.mean())}
            self.last_labels = (goals, labels)
            self.replay.extend(goals[-recent:])
            if not labels[-recent:].any() and outcomes[-recent:].mean() > self.config.r_max:
                # every goal too easy: look further out
                self.noise = min(self.noise * self.config.noise_growth, self.config.max_goal_noise)
            else:
                self.noise = self.config.goal_noise
            self.last["goal_noise"] = self.noise
        self.iterations += 1
        self._propose()

    # --- reporting ------------------------------------------------------------------------------------------------

    def log_values(self) -> dict[str, float]:
        """Scalars for TensorBoard (``curriculum/<name>``)."""
        return {"iterations": float(self.iterations), "episodes": float(self.episodes),
                "gan_steps": float(self.gan.steps), **self.last}

    def image(self) -> np.ndarray | None:
        """An RGB scatter of the goal box seen from above (x, y) and from the side (x, z): recent goals labelled
        GOID (green) or not (grey), and goals just proposed by the generator (orange)."""
        try:
            import matplotlib  # lazy: slow, and selecting Agg at import would change the caller's backend

            matplotlib.use("Agg")
            import matplotlib.pyplot as plt  # lazy: as matplotlib above
        except ImportError:
            return None
        goals, labels = self.last_labels
        fig, axes = plt.subplots(1, 2, figsize=(7, 3.2), dpi=80)
        for ax, (i, j, name) in zip(axes, ((0, 1, "top: x-y"), (0, 2, "side: x-z"))):
            if len(goals):
                ax.scatter(goals[labels == 0, i], goals[labels == 0, j], s=8, c="0.6", label="not GOID")
                ax.scatter(goals[labels == 1, i], goals[labels == 1, j], s=10, c="tab:green", label="GOID")
            prop = self.last_proposed
            if len(prop):
                ax.scatter(prop[:, i], prop[:, j], s=14, c="tab:orange", marker="x", label="proposed")
            pad_i = max(1e-3, 0.05 * (self.high[i] - self.low[i]))
            pad_j = max(1e-3, 0.05 * (self.high[j] - self.low[j]))
            ax.set_xlim(self.low[i] - pad_i, self.high[i] + pad_i)
            ax.set_ylim(self.low[j] - pad_j, self.high[j] + pad_j)
            ax.set_title(f"{name} (iteration {self.iterations})", fontsize=9)
            ax.tick_params(labelsize=7)
        axes[0].legend(fontsize=6, loc="upper right")
        fig.tight_layout()
        fig.canvas.draw()
        image = np.asarray(fig.canvas.buffer_rgba())[..., :3].copy()
        plt.close(fig)
        return image

    # --- state ----------------------------------------------------------------------------------------------------

    def state_dict(self) -> dict[str, Any]:
        """Everything needed to continue exactly (tensors and plain data only, for ``weights_only`` loading)."""
        def stack(rows) -> torch.Tensor:
            return torch.as_tensor(np.asarray(list(rows), dtype=np.float64).reshape(-1, len(self.low)))

        return {"config": {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(self.config).items()},
                "low": torch.as_tensor(self.low), "high": torch.as_tensor(self.high),
                "gan": self.gan.state_dict(), "queue": stack(self.queue),
                "window_goals": stack(g for g, _ in self.window),
                "window_outcomes": torch.as_tensor([s for _, s in self.window], dtype=torch.float64),
                "replay": stack(self.replay), "iterations": self.iterations, "episodes": self.episodes,
                "noise": self.noise, "rng": self.rng.bit_generator.state["state"], "last_proposed": stack(self.last_proposed)}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        if not (np.allclose(state["low"].numpy(), self.low) and np.allclose(state["high"].numpy(), self.high)):
            raise ValueError("the saved curriculum was made for another goal box")
        self.gan.load_state_dict(state["gan"])
        self.queue = [row for row in state["queue"].numpy()]
        outcomes = state["window_outcomes"].numpy()
        self.window = deque(((g, float(s)) for g, s in zip(state["window_goals"].numpy(), outcomes)),
                            maxlen=self.config.label_window)
        self.replay = deque(state["replay"].numpy(), maxlen=self.config.replay_size)
        self.iterations, self.episodes = int(state["iterations"]), int(state["episodes"])
        self.noise = float(state["noise"])
        bit_state = self.rng.bit_generator.state
        bit_state["state"] = {k: int(v) for k, v in state["rng"].items()}
        self.rng.bit_generator.state = bit_state
        self.last_proposed = state["last_proposed"].numpy()
