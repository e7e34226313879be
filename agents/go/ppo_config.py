"""The Go MaskablePPO trainer's settings (``--set key=value`` names below): one source of its defaults and checks.

Defaults are layered: :class:`GoPPOSettings` < the shipped ``agents/hyperparams/maskable_ppo.yml`` entry for
``arena/Go-v0`` (:func:`default_config`) < ``--config`` < flags < ``--set``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from deep_arena.agents.hyperparams import load_hyperparams
from deep_arena.agents.sb3.settings import PPOSettings
from deep_arena.envs.go.game import MAX_SIZE, MIN_SIZE
from deep_arena.runtime.config import deep_merge
from deep_arena.runtime.settings import RunSettings, Settings, nested, setting

__all__ = ["DEFAULTS", "ENV_ID", "GoPPOSettings", "default_config", "validate_config"]

ENV_ID = "arena/Go-v0"


@dataclass
class PoolSettings(Settings):
    """The self-play opponent pool (``opponent: selfplay``; :class:`agents.go.selfplay_pool.OpponentPool`)."""

    snapshot_every: int = setting(20_000, low=1, help="env steps between policy snapshots (one is also taken at the "
                                                       "start)")
    max_size: int = setting(10, low=1, help="snapshots kept (oldest dropped)")
    latest_prob: float = setting(0.5, low=0.0, high=1.0, help="newest snapshot, else a uniformly chosen older one")
    random_prob: float = setting(0.1, low=0.0, high=1.0, help="the random player instead of a snapshot")
    opponent_deterministic: bool = setting(False, help="snapshots play their most likely move instead of sampling")
    eval_vs_latest: bool = setting(True, help="also log eval/win_rate_vs_latest_snapshot")


@dataclass
class GoNetSettings(Settings):
    """The convolutional features extractor (:class:`agents.go.ppo.GoPlanesCNN`)."""

    channels: int = setting(32, low=1)
    conv_layers: int = setting(3, low=1)
    hidden: int = setting(128, low=1, help="features after the linear layer")


@dataclass
class GoPPOSettings(RunSettings):
    board_size: int = setting(7, low=MIN_SIZE, high=MAX_SIZE)
    komi: float = setting(7.5)
    opponent: str = setting("selfplay", help="selfplay (a pool of earlier snapshots), random or gnugo:LEVEL")
    selfplay: PoolSettings = nested(PoolSettings)
    total_steps: int = setting(50_000, low=1, help="env steps")
    threads: int | None = setting(None, low=1, help="torch CPU threads; default all cores")
    minutes: float | None = setting(None, low=0.0, low_open=True,
                                    help="optional wall-clock budget: training stops at whichever of "
                                         "total_steps/minutes comes first")
    n_envs: int = setting(8, low=1)
    eval_every: int = setting(10_000, low=1, help="env steps between evaluations")
    eval_games: int = setting(20, low=1, help="games per evaluation opponent (colours alternate)")
    checkpoint_every: int = setting(25_000, low=1)
    keep_checkpoints: int | None = setting(3, low=1, help="newest checkpoints/model_*.zip kept (with their pool "
                                                          "files); null keeps every one")
    ppo: PPOSettings = nested(PPOSettings)
    net: GoNetSettings = nested(GoNetSettings)

    def check(self) -> None:
        if self.opponent in ("selfplay", "random"):
            return
        kind, _, level = self.opponent.partition(":")
        if kind != "gnugo" or not (level == "" or (level.isdigit() and int(level) <= 10)):
            raise ValueError(f"opponent must be selfplay, random or gnugo:LEVEL (LEVEL from 0 to 10), "
                             f"got {self.opponent!r}")


DEFAULTS: dict[str, Any] = GoPPOSettings.defaults()  # device and seed included


def default_config() -> dict[str, Any]:
    """DEFAULTS updated with the shipped hyperparameters for arena/Go-v0."""
    return deep_merge(DEFAULTS, load_hyperparams("maskable_ppo", ENV_ID))


def validate_config(config: dict[str, Any]) -> GoPPOSettings:
    """The checked settings; ``ValueError`` naming the first bad one (before a run directory exists)."""
    return GoPPOSettings.from_dict(config)
