"""MaskablePPO (sb3-contrib) on `arena/Go-v0` with a self-play opponent pool (or a fixed opponent).

The agent plays a random colour each episode, so one policy learns both colours; the env gives the agent its own
reward (+1 when it wins, whichever colour it plays). ``opponent`` picks what it plays against:

* ``"selfplay"`` (default): frozen earlier copies of the policy from an
  :class:`agents.go.selfplay_pool.OpponentPool`. A snapshot is taken when training starts and then every
  ``selfplay.snapshot_every`` env steps (the newest ``selfplay.max_size`` are kept); each episode the opponent is
  the newest snapshot with probability ``selfplay.latest_prob``, else an older one, and the uniformly random player
  with probability ``selfplay.random_prob`` (also while the pool is still empty, at the very start). Snapshots
  sample their moves unless ``selfplay.opponent_deterministic``.
* ``"random"`` or ``"gnugo:LEVEL"``: a fixed opponent.

A small convolutional feature extractor reads the env's feature planes. Every ``eval_every`` steps the policy plays
``eval_games`` seeded games against a uniformly random player (colours alternating) and, with self-play, as many
against the newest snapshot, with :func:`agents.go.match.play_match` (games stopped at the move cap are scored
on the board; draws count half); the win rates go to TensorBoard (``eval/win_rate_vs_random``,
``eval/win_rate_vs_latest_snapshot``) with a picture of the last evaluation board, and ``selfplay/pool_size`` is
logged every rollout. Checkpoints (the SB3 zip: policy, optimizer state and step counter) go to
``<run>/checkpoints`` with, for self-play, the pool's snapshots (``pool_<steps>.pt``: their state_dicts, loadable
with ``torch.load(weights_only=True)``; :meth:`OpponentPool.load` restores them). This is the baseline trainer
that ``make demo`` runs.
"""

from __future__ import annotations

import copy
import time
from pathlib import Path
from typing import Any

import gymnasium as gym
import torch
from torch import nn

import deep_arena.envs  # noqa: F401  (registers arena/* ids)
from deep_arena.agents.hyperparams import load_hyperparams
from deep_arena.runtime import RunDir, deep_merge, prepare_training

ENV_ID = "arena/Go-v0"

DEFAULTS: dict[str, Any] = {
    "board_size": 7,
    "komi": 7.5,
    "opponent": "selfplay",
    "selfplay": {
        "snapshot_every": 20_000,
        "max_size": 10,
        "latest_prob": 0.5,
        "random_prob": 0.1,
        "opponent_deterministic": False,
        "eval_vs_latest": True,
    },
    "total_steps": 50_000,
    "threads": None,  # torch CPU threads; default all cores
    "minutes": None,  # optional wall-clock budget: training stops at whichever of total_steps/minutes comes first
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
    """An ``arena/Go-v0`` env for ``config``; ``opponent`` (an Opponent object or spec) replaces ``config["opponent"]``,
    which must then not be ``"selfplay"`` (a self-play opponent needs the trainer's pool)."""
    if opponent is None:
        opponent = config["opponent"]
        if opponent == "selfplay":
            raise ValueError("opponent 'selfplay' needs a PoolOpponent: pass opponent=PoolOpponent(pool)")
    return gym.make(ENV_ID, board_size=config["board_size"], komi=config["komi"], opponent=opponent,
                    agent_color=agent_color)


def policy_kwargs(config: dict[str, Any]) -> dict[str, Any]:
    """MaskablePPO ``policy_kwargs``: the Go CNN features extractor sized by ``config["net"]``, linear heads."""
    return {
        "features_extractor_class": GoPlanesCNN.make_class(),
        "features_extractor_kwargs": dict(config["net"]),
        "net_arch": [],
    }


def make_pool(config: dict[str, Any]):
    """An empty :class:`OpponentPool` with the ``config["selfplay"]`` settings."""
    from deep_arena.agents.go.selfplay_pool import OpponentPool

    sp = config["selfplay"]
    every = sp["snapshot_every"]
    if isinstance(every, bool) or not isinstance(every, int) or every < 1:
        raise ValueError(f"selfplay.snapshot_every must be a positive integer, got {every!r}")
    return OpponentPool(max_size=sp["max_size"], latest_prob=sp["latest_prob"], random_prob=sp["random_prob"],
                        deterministic=bool(sp.get("opponent_deterministic", False)))


def evaluation_player(model):
    """The model as a deterministic Go player (:class:`agents.go.players.PPOPlayer`) for ``agents.go.match``."""
    from deep_arena.agents.go.players import PPOPlayer

    return PPOPlayer(model, name="MaskablePPO")


def train(config: dict[str, Any], run_dir: RunDir, progress_bar: bool = True):
    """Train MaskablePPO with ``config`` (see DEFAULTS), logging and saving into ``run_dir``."""
    from sb3_contrib import MaskablePPO
    from stable_baselines3.common.callbacks import BaseCallback
    from stable_baselines3.common.logger import Image, configure
    from stable_baselines3.common.vec_env import DummyVecEnv

    from deep_arena.agents.go.match import board_frame, play_match
    from deep_arena.agents.go.selfplay_pool import PoolOpponent
    from deep_arena.envs.go.opponents import RandomOpponent

    device = prepare_training(config)
    selfplay = config["opponent"] == "selfplay"
    pool = make_pool(config) if selfplay else None

    def env_factory():
        return make_env(config, opponent=PoolOpponent(pool) if selfplay else None)

    venv = DummyVecEnv([env_factory for _ in range(config["n_envs"])])
    venv.seed(config["seed"])
    model = MaskablePPO("MlpPolicy", venv, seed=config["seed"], device=device, policy_kwargs=policy_kwargs(config),
                        verbose=0, **config["ppo"])
    model.set_logger(configure(str(run_dir.path), ["tensorboard"]))

    class EvalAndCheckpoint(BaseCallback):
        def __init__(self):
            super().__init__()
            self.next_eval = config["eval_every"]
            self.next_ckpt = config["checkpoint_every"]
            self.next_snapshot = config["selfplay"]["snapshot_every"] if selfplay else None
            self.started = time.time()
            self.last_win_rate = None

        def _on_training_start(self) -> None:
            if selfplay and len(pool) == 0:
                pool.add(model.policy, step=self.num_timesteps)

        def _on_step(self) -> bool:
            if self.num_timesteps >= self.next_eval:  # before the snapshot, so "latest" is an older policy
                self.next_eval += config["eval_every"]
                self.evaluate()
            if selfplay and self.num_timesteps >= self.next_snapshot:
                self.next_snapshot += config["selfplay"]["snapshot_every"]
                pool.add(model.policy, step=self.num_timesteps)
            if self.num_timesteps >= self.next_ckpt:
                self.next_ckpt += config["checkpoint_every"]
                model.save(run_dir.checkpoints_dir / f"model_{self.num_timesteps:09d}.zip")
                if selfplay:
                    pool.save(run_dir.checkpoints_dir / f"pool_{self.num_timesteps:09d}.pt")
            if config["minutes"] is not None and time.time() - self.started > 60.0 * config["minutes"]:
                return False  # wall-clock budget spent (used to compare algorithms at equal training time)
            return True

        def _on_rollout_end(self) -> None:
            if selfplay:
                self.logger.record("selfplay/pool_size", len(pool))

        def evaluate(self) -> None:
            games = config["eval_games"]
            size, komi = config["board_size"], config["komi"]
            player = evaluation_player(model)
            if selfplay and config["selfplay"].get("eval_vs_latest", True) and len(pool) > 0:
                latest = PoolOpponent(pool, latest_prob=1.0, random_prob=0.0, deterministic=False, name="latest")
                vs_latest = play_match(player, latest, size, komi, games, seed=20_000, progress=False)
                self.logger.record("eval/win_rate_vs_latest_snapshot", vs_latest.win_rate)
            vs_random = play_match(player, RandomOpponent(), size, komi, games, seed=10_000, progress=False)
            self.last_win_rate = vs_random.win_rate
            self.logger.record("eval/win_rate_vs_random", self.last_win_rate)
            if selfplay:
                self.logger.record("selfplay/pool_size", len(pool))
            if vs_random.records:  # match records keep the SGF text, not the game object
                frame = board_frame(size, vs_random.records[-1].sgf)
                if frame is not None:
                    self.logger.record("eval/board", Image(frame, "HWC"), exclude=("stdout", "log", "json", "csv"))
            self.logger.record("time/steps_per_second", self.num_timesteps / (time.time() - self.started))
            self.logger.dump(self.num_timesteps)

    callback = EvalAndCheckpoint()
    model.learn(total_timesteps=config["total_steps"], callback=callback, progress_bar=progress_bar)
    model.save(run_dir.path / "final_model.zip")   # saved before the final evaluation, which a crash could stop
    callback.evaluate()
    if selfplay:
        pool.save(run_dir.path / "final_pool.pt")
    _save_sample_game(model, config, run_dir.path)
    venv.close()
    return model, callback.last_win_rate


def _save_sample_game(model, config: dict[str, Any], out: Path) -> None:
    """An SGF and a PNG of one game of the trained policy (Black) against the random player."""
    from deep_arena.agents.go.match import board_frame, play_game
    from deep_arena.envs.go.opponents import RandomOpponent

    record = play_game(evaluation_player(model), RandomOpponent(), config["board_size"], config["komi"],
                       seed=config["seed"], black_name="MaskablePPO", white_name="random")
    (out / "sample_game.sgf").write_text(record.sgf, encoding="utf-8")
    board_frame(config["board_size"], record.game, png=out / "sample_game.png")
