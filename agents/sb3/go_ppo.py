"""MaskablePPO (sb3-contrib) on `arena/Go-v0` against a fixed opponent.

The agent plays a random colour each episode against the env's opponent (``"random"`` by default), so one policy
learns both colours. A small convolutional feature extractor reads the env's feature planes. Every ``eval_every``
steps the policy plays ``eval_games`` seeded games against a uniformly random player (colours alternating) and
the win rate goes to TensorBoard with a picture of the last evaluation board; checkpoints (the SB3 zip: policy,
optimizer state and step counter) go to ``<run>/checkpoints``.

A self-play opponent pool and AlphaZero arrive with the Go agents issue; this module is the baseline trainer
that ``make demo`` runs.
"""

from __future__ import annotations

import copy
import time
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from torch import nn

import envs  # noqa: F401  (registers arena/* ids)
from agents.hyperparams import load_hyperparams
from agents.runtime import RunDir, deep_merge, resolve_device, seed_everything

ENV_ID = "arena/Go-v0"

DEFAULTS: dict[str, Any] = {
    "board_size": 7,
    "komi": 7.5,
    "opponent": "random",
    "total_steps": 50_000,
    "n_envs": 8,
    "eval_every": 10_000,
    "eval_games": 20,
    "checkpoint_every": 25_000,
    "ppo": {
        "n_steps": 128,
        "batch_size": 256,
        "n_epochs": 4,
        "learning_rate": 3.0e-4,
        "gamma": 0.99,
        "gae_lambda": 0.95,
        "clip_range": 0.2,
        "ent_coef": 0.01,
    },
    "net": {"channels": 32, "conv_layers": 3, "hidden": 128},
}


def default_config() -> dict[str, Any]:
    """DEFAULTS updated with the shipped hyperparameters for arena/Go-v0."""
    return deep_merge(copy.deepcopy(DEFAULTS), load_hyperparams("maskable_ppo", ENV_ID))


class GoPlanesCNN:
    """Factory for the SB3 features extractor (built lazily so importing this module stays light)."""

    @staticmethod
    def make_class():
        from stable_baselines3.common.torch_layers import BaseFeaturesExtractor

        class _GoCNN(BaseFeaturesExtractor):
            """3x3 same-padding convolutions over the planes, then a linear layer."""

            def __init__(self, observation_space: gym.spaces.Box, channels: int = 32, conv_layers: int = 3,
                         hidden: int = 128):
                super().__init__(observation_space, features_dim=hidden)
                planes, n, _ = observation_space.shape
                layers: list[nn.Module] = []
                in_ch = planes
                for _ in range(conv_layers):
                    layers += [nn.Conv2d(in_ch, channels, 3, padding=1), nn.ReLU()]
                    in_ch = channels
                self.body = nn.Sequential(*layers, nn.Flatten(), nn.Linear(channels * n * n, hidden), nn.ReLU())

            def forward(self, obs: torch.Tensor) -> torch.Tensor:
                return self.body(obs)

        return _GoCNN


def make_env(config: dict[str, Any], agent_color: str = "random", opponent: Any = None):
    return gym.make(ENV_ID, board_size=config["board_size"], komi=config["komi"],
                    opponent=config["opponent"] if opponent is None else opponent, agent_color=agent_color)


def play_vs_random(model, config: dict[str, Any], games: int, seed: int, render_last: bool = False):
    """Play ``games`` games against a random player, colours alternating; returns (wins, draws, losses, env)."""
    wins = draws = losses = 0
    env = None
    for i in range(games):
        if env is not None:
            env.close()
        env = gym.make(ENV_ID, board_size=config["board_size"], komi=config["komi"], opponent="random",
                       agent_color="black" if i % 2 == 0 else "white",
                       render_mode="rgb_array" if render_last and i == games - 1 else None)
        obs, info = env.reset(seed=seed + i)
        done = False
        reward = 0.0
        while not done:
            action, _ = model.predict(obs, action_masks=info["action_mask"], deterministic=True)
            obs, reward, term, trunc, info = env.step(int(action))
            done = term or trunc
        wins += reward > 0
        draws += reward == 0
        losses += reward < 0
    return wins, draws, losses, env


def train(config: dict[str, Any], run_dir: RunDir, progress_bar: bool = True):
    """Train MaskablePPO with ``config`` (see DEFAULTS), logging and saving into ``run_dir``."""
    from sb3_contrib import MaskablePPO
    from sb3_contrib.common.wrappers import ActionMasker  # noqa: F401  (the env has action_masks() already)
    from stable_baselines3.common.callbacks import BaseCallback
    from stable_baselines3.common.logger import Image, configure
    from stable_baselines3.common.vec_env import DummyVecEnv

    seed_everything(config["seed"])
    device = resolve_device(config["device"])
    venv = DummyVecEnv([lambda: make_env(config) for _ in range(config["n_envs"])])
    venv.seed(config["seed"])
    policy_kwargs = {
        "features_extractor_class": GoPlanesCNN.make_class(),
        "features_extractor_kwargs": dict(config["net"]),
        "net_arch": [],
    }
    model = MaskablePPO("MlpPolicy", venv, seed=config["seed"], device=device, policy_kwargs=policy_kwargs,
                        verbose=0, **config["ppo"])
    model.set_logger(configure(str(run_dir.path), ["tensorboard"]))

    class EvalAndCheckpoint(BaseCallback):
        def __init__(self):
            super().__init__()
            self.next_eval = config["eval_every"]
            self.next_ckpt = config["checkpoint_every"]
            self.started = time.time()
            self.last_win_rate = None

        def _on_step(self) -> bool:
            if self.num_timesteps >= self.next_eval:
                self.next_eval += config["eval_every"]
                self.evaluate()
            if self.num_timesteps >= self.next_ckpt:
                self.next_ckpt += config["checkpoint_every"]
                model.save(run_dir.checkpoints_dir / f"model_{self.num_timesteps:09d}.zip")
            return True

        def evaluate(self) -> None:
            wins, draws, losses, env = play_vs_random(model, config, config["eval_games"], seed=10_000,
                                                      render_last=True)
            self.last_win_rate = (wins + 0.5 * draws) / config["eval_games"]
            self.logger.record("eval/win_rate_vs_random", self.last_win_rate)
            self.logger.record("eval/board", Image(env.render(), "HWC"), exclude=("stdout", "log", "json", "csv"))
            self.logger.record("time/steps_per_second", self.num_timesteps / (time.time() - self.started))
            self.logger.dump(self.num_timesteps)
            env.close()

    callback = EvalAndCheckpoint()
    model.learn(total_timesteps=config["total_steps"], callback=callback, progress_bar=progress_bar)
    callback.evaluate()
    model.save(run_dir.path / "final_model.zip")
    _save_sample_game(model, config, run_dir.path)
    venv.close()
    return model, callback.last_win_rate


def _save_sample_game(model, config: dict[str, Any], out: Path) -> None:
    """An SGF and a PNG of one game of the trained policy (Black) against the random player."""
    from envs.go.sgf import save_sgf

    env = gym.make(ENV_ID, board_size=config["board_size"], komi=config["komi"], opponent="random",
                   agent_color="black", render_mode="rgb_array")
    obs, info = env.reset(seed=config["seed"])
    done = False
    while not done:
        action, _ = model.predict(obs, action_masks=info["action_mask"], deterministic=True)
        obs, _, term, trunc, info = env.step(int(action))
        done = term or trunc
    game = env.unwrapped.game
    save_sgf(game, out / "sample_game.sgf", black="MaskablePPO", white="random")
    frame = env.render()
    try:
        from PIL import Image as PILImage

        PILImage.fromarray(np.ascontiguousarray(frame)).save(out / "sample_game.png")
    except ImportError:  # Pillow comes with tensorboard/matplotlib in practice; the SGF is the record anyway
        pass
    env.close()
