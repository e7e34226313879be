"""MaskablePPO (sb3-contrib) on `arena/Go-v0` with a self-play opponent pool (or a fixed opponent): Go's glue to
the generic SB3 runner (:mod:`agents.sb3`); settings in :mod:`agents.go.ppo_config`.

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
logged every rollout. Checkpoints (the SB3 zip: policy, optimizer state and step counter; the newest
``keep_checkpoints``) go to ``<run>/checkpoints`` with, for self-play, the pool's snapshots (``pool_<steps>.pt``:
their state_dicts, loadable with ``torch.load(weights_only=True)``; :meth:`OpponentPool.load` restores them), so
that :meth:`GoPPOTrainer.load` continues a run (``arena-train go --resume``; PPO keeps no replay buffer, and the
rollout in progress is collected again). At the end: ``final_model.zip``, ``final_pool.pt`` and one sample game
against the random player (``sample_game.sgf`` / ``.png``). This is the baseline trainer that ``make demo`` runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gymnasium as gym
import torch
from stable_baselines3.common.torch_layers import BaseFeaturesExtractor
from stable_baselines3.common.vec_env import DummyVecEnv
from torch import nn

import deep_arena.envs  # noqa: F401  (registers arena/* ids)
from deep_arena.agents.go.match import board_frame, play_game, play_match
from deep_arena.agents.go.players import PPOPlayer
from deep_arena.agents.go.ppo_config import DEFAULTS, ENV_ID, GoPPOSettings, default_config, validate_config
from deep_arena.agents.go.selfplay_pool import OpponentPool, PoolOpponent
from deep_arena.agents.sb3.callbacks import (CheckpointCallback, EvaluationCallback, HookCallback, PeriodicCallback,
                                             log_image)
from deep_arena.agents.sb3.checkpoints import Checkpointer, checkpoint_steps, state_path
from deep_arena.agents.sb3.trainer import FINAL_MODEL, SB3Trainer
from deep_arena.envs.go.opponents import RandomOpponent
from deep_arena.runtime.trainer import RunResult

__all__ = ["DEFAULTS", "ENV_ID", "GoPPOTrainer", "GoPlanesCNN", "default_config", "evaluation_player", "make_env",
           "make_pool", "policy_kwargs", "validate_config"]


class GoPlanesCNN(BaseFeaturesExtractor):
    """SB3 features extractor: 3x3 same-padding convolutions over the planes, then a linear layer."""

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
    return {"features_extractor_class": GoPlanesCNN, "features_extractor_kwargs": dict(config["net"]), "net_arch": []}


def make_pool(config: dict[str, Any]) -> OpponentPool:
    """An empty :class:`OpponentPool` with the ``config["selfplay"]`` settings."""
    sp = config["selfplay"]
    return OpponentPool(max_size=sp["max_size"], latest_prob=sp["latest_prob"], random_prob=sp["random_prob"],
                        deterministic=bool(sp.get("opponent_deterministic", False)))


def evaluation_player(model) -> PPOPlayer:
    """The model as a deterministic Go player (:class:`agents.go.players.PPOPlayer`) for ``agents.go.match``."""
    return PPOPlayer(model, name="MaskablePPO")


class GoPPOTrainer(SB3Trainer):
    """MaskablePPO on Go (see the module docstring). ``run()`` returns the final win rates in ``metrics``
    (``win_rate_vs_random``, with self-play ``win_rate_vs_latest_snapshot``) and ``details`` (also ``eval_games``
    and the ``sample_game`` SGF path). :meth:`load` resumes from a ``checkpoints/model_<steps>.zip`` (the model, the
    step counter and, for self-play, the pool saved with it)."""

    settings_class = GoPPOSettings
    algorithm = "maskable_ppo"

    def __init__(self, config: dict[str, Any], run_dir, progress_bar: bool = True) -> None:
        super().__init__(config, run_dir, progress_bar)
        self.selfplay = self.config["opponent"] == "selfplay"
        self.pool = make_pool(self.config) if self.selfplay else None
        self.evaluation: EvaluationCallback | None = None
        self.seed_offset = 0  # a resumed run's env seeds: seed + the steps done, not the first run's again

    def load(self, checkpoint: Path) -> None:
        """Continue from ``checkpoint``: the model, its step counter and (self-play) the pool saved beside it
        (``ValueError`` naming the file when that pool is missing or unreadable)."""
        steps = checkpoint_steps(checkpoint)
        self.seed_offset = steps
        model = self.load_model(checkpoint)
        if self.selfplay:
            path = state_path(self.run_dir, "pool", steps)
            try:
                self.pool.load(path, template=model.policy)
            except (OSError, RuntimeError, KeyError, ValueError, TypeError) as err:
                self.venv.close()
                raise ValueError(f"{path}: cannot restore the self-play pool ({type(err).__name__}: "
                                 f"{str(err).splitlines()[0] if str(err) else ''})") from None

    def make_venv(self):
        config, pool = self.config, self.pool

        def env_factory():
            return make_env(config, opponent=PoolOpponent(pool) if pool is not None else None)

        venv = DummyVecEnv([env_factory for _ in range(config["n_envs"])])
        venv.seed(config["seed"] + self.seed_offset)
        return venv

    def model_kwargs(self, venv) -> dict[str, Any]:
        return {"policy_kwargs": policy_kwargs(self.config), **self.config["ppo"]}

    def callbacks(self) -> list:
        config = self.config
        # evaluation before the snapshot, so that "latest" is an older policy; the checkpoint after both
        self.evaluation = EvaluationCallback(config["eval_every"], self.evaluate)
        callbacks: list = [self.evaluation]
        state = None
        if self.selfplay:
            callbacks += [HookCallback(on_training_start=self._first_snapshot, on_rollout_end=self._log_pool_size),
                          PeriodicCallback(config["selfplay"]["snapshot_every"], self._snapshot)]
            state = {"pool": self.pool.save}
        self.checkpointer = Checkpointer(self.run_dir.checkpoints_dir, state=state,
                                         keep_last=config["keep_checkpoints"])
        return [*callbacks, CheckpointCallback(config["checkpoint_every"], self.checkpointer)]

    def _first_snapshot(self, model) -> None:
        if len(self.pool) == 0:
            self._snapshot(model)

    def _snapshot(self, model) -> None:
        self.pool.add(model.policy, step=model.num_timesteps)

    def _log_pool_size(self, model) -> None:
        model.logger.record("selfplay/pool_size", len(self.pool))

    def evaluate(self, model) -> dict[str, float]:
        """Matches against the random player and, with self-play, the newest snapshot (the callback adds the speed
        and dumps)."""
        config, log = self.config, model.logger
        games, size, komi = config["eval_games"], config["board_size"], config["komi"]
        player = evaluation_player(model)
        rates = {}
        if self.selfplay and config["selfplay"].get("eval_vs_latest", True) and len(self.pool) > 0:
            latest = PoolOpponent(self.pool, latest_prob=1.0, random_prob=0.0, deterministic=False, name="latest")
            vs_latest = play_match(player, latest, size, komi, games, seed=20_000, progress=False)
            rates["win_rate_vs_latest_snapshot"] = vs_latest.win_rate
            log.record("eval/win_rate_vs_latest_snapshot", vs_latest.win_rate)
        vs_random = play_match(player, RandomOpponent(), size, komi, games, seed=10_000, progress=False)
        rates["win_rate_vs_random"] = vs_random.win_rate
        log.record("eval/win_rate_vs_random", vs_random.win_rate)
        if self.selfplay:
            self._log_pool_size(model)
        if vs_random.records:  # match records keep the SGF text, not the game object
            frame = board_frame(size, vs_random.records[-1].sgf)
            if frame is not None:
                log_image(log, "eval/board", frame)
        return rates

    def finish(self) -> RunResult:
        model, out = self.model, self.run_dir.path
        model.save(out / FINAL_MODEL)  # saved before the final evaluation, which a crash could stop
        evaluation = self.evaluation
        rates = evaluation.last if evaluation.last is not None and evaluation.last_step == model.num_timesteps \
            else evaluation.evaluate_now(model)  # not twice at one step (TensorBoard)
        if self.selfplay:
            self.pool.save(out / "final_pool.pt")
        sample = _save_sample_game(model, self.config, out)
        return self.result(dict(rates), details={**rates, "eval_games": self.config["eval_games"],
                                                 "sample_game": sample})


def _save_sample_game(model, config: dict[str, Any], out: Path) -> Path:
    """An SGF and a PNG of one game of the trained policy (Black) against the random player; returns the SGF."""
    record = play_game(evaluation_player(model), RandomOpponent(), config["board_size"], config["komi"],
                       seed=config["seed"], black_name="MaskablePPO", white_name="random")
    (out / "sample_game.sgf").write_text(record.sgf, encoding="utf-8")
    board_frame(config["board_size"], record.game, png=out / "sample_game.png")
    return out / "sample_game.sgf"
