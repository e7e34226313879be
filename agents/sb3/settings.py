"""Typed hyperparameters of SB3's PPO / sb3-contrib's MaskablePPO that the Go and molecule trainers share (their
``ppo`` section: the constructor's keyword arguments, each checked before a model is built)."""

from __future__ import annotations

from dataclasses import dataclass

from deep_arena.runtime.settings import Settings, setting


@dataclass
class PPOSettings(Settings):
    """``MaskablePPO(..., **ppo)``: a closed set of keys (``--set ppo.<key>=...``)."""

    n_steps: int = setting(128, low=1, help="env steps per env and rollout (x n_envs per update)")
    batch_size: int = setting(256, low=2, help="minibatch size (SB3 needs at least 2 for advantage normalisation)")
    n_epochs: int = setting(4, low=1, help="passes over each rollout")
    learning_rate: float = setting(3.0e-4, low=0.0, low_open=True)
    gamma: float = setting(0.99, low=0.0, high=1.0, help="discount")
    gae_lambda: float = setting(0.95, low=0.0, high=1.0)
    clip_range: float = setting(0.2, low=0.0, low_open=True)
    ent_coef: float = setting(0.01, low=0.0, help="entropy bonus weight")
