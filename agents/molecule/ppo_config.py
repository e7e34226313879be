"""The molecule MaskablePPO trainer's settings (``--set key=value`` names below): one source of its defaults and
checks. The MDP defaults to MolDQN's (C/N/O, at most 38 atoms, 40 steps, every-step reward, no stop action), so
the two agents are compared on the same problem. ``env.valences`` is an open mapping; the env checks the SMILES,
the start file and the elements themselves (``agents.molecule.ppo.make_env``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from deep_arena.agents.molecule.env_settings import MoleculeEnvSettings
from deep_arena.agents.sb3.settings import PPOSettings
from deep_arena.envs.molecule.rewards import OBJECTIVES, PARAMETRIC_OBJECTIVES
from deep_arena.runtime.settings import RunSettings, nested, setting

__all__ = ["DEFAULTS", "MoleculePPOSettings", "validate_config"]


@dataclass
class PPOEnvSettings(MoleculeEnvSettings):
    """MolDQN's env settings plus what MaskablePPO adds: the observation type and the stop action."""

    fp_bits: int = setting(1024, low=8, help="Morgan fingerprint length")
    obs_type: str = setting("fingerprint", choices=("fingerprint", "graph"),
                            help="Morgan fingerprint + steps left, or the padded graph (MultiInputPolicy)")
    allow_stop: bool = setting(False, help="false: the stop action is masked out (unless nothing else is legal)")


@dataclass
class MoleculePPOParams(PPOSettings):
    n_steps: int = setting(256, low=1, help="env steps per env and rollout (x n_envs per update)")


@dataclass
class MoleculePPOSettings(RunSettings):
    objective: str = setting("qed", choices=(*OBJECTIVES, *PARAMETRIC_OBJECTIVES), help="what the reward scores")
    delta: float = setting(0.4, low=0.0, high=1.0, help="sim_plogp: similarity threshold")
    target: str | None = setting(None, help="similarity: target SMILES")
    weights: dict | None = setting(None, help="multi: {objective name: weight}")
    start_smiles: str | list[str] = setting("C", help="one SMILES, or a list")
    start_file: str | None = setting(None, help="a file with one SMILES per line (overrides start_smiles)")
    total_steps: int = setting(200_000, low=1, help="env steps")
    minutes: float | None = setting(None, low=0.0, low_open=True, help="wall-clock budget on top of total_steps")
    env: PPOEnvSettings = nested(PPOEnvSettings)
    ppo: MoleculePPOParams = nested(MoleculePPOParams)
    net_arch: list[int] = setting([256, 256], help="hidden layers of the policy and of the value network "
                                                   "(separate)")
    n_envs: int = setting(8, low=1)
    eval_every: int = setting(20_000, low=1, help="env steps")
    eval_episodes: int = setting(4, low=1, help="deterministic episodes, one per start molecule (at most the number "
                                                "of starts)")
    checkpoint_every: int = setting(50_000, low=1, help="env steps")
    keep_checkpoints: int | None = setting(3, low=1, help="newest checkpoints/model_*.zip kept; null keeps every one")
    top_k: int = setting(10, low=1, help="best distinct molecules kept (top_molecules.csv)")
    gan_reward: str | None = setting(None, help="a GAN generator file or 'pretrained': reward = λ·D + (1 − λ)·"
                                                "objective (train_molecule.py)")
    gan_lambda: float = setting(0.3, low=0.0, high=1.0, help="λ, the GAN critic's weight")
    threads: int | None = setting(None, low=1, help="torch CPU threads; default all cores")

    def check(self) -> None:
        if not self.net_arch or any(h < 1 for h in self.net_arch):
            raise ValueError(f"net_arch must be a non-empty list of positive integers, got {self.net_arch!r}")
        if isinstance(self.start_smiles, list) and not self.start_smiles:
            raise ValueError("start_smiles must be a SMILES or a non-empty list of them, got []")


DEFAULTS: dict[str, Any] = MoleculePPOSettings.defaults()  # device and seed included


def validate_config(config: dict[str, Any]) -> MoleculePPOSettings:
    """The checked settings; ``ValueError`` naming the first bad one (before a run directory exists). The env's own
    settings (SMILES, start file, elements, the objective's arguments) are checked by ``ppo.make_env``."""
    return MoleculePPOSettings.from_dict(config)
