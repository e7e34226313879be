"""MolDQN's settings: the one source of its defaults and of their checks (``--set key=value`` names below).

A ``config.yml`` saved by an older run lacks the settings added since (``env.reward_mode``, ``target_values``,
``epsilon.mid``, ``restart``, ``gan_reward``...): they take their defaults, which are the behaviour those runs had.
"""

from __future__ import annotations

from dataclasses import dataclass

from deep_arena.agents.molecule.env_settings import MoleculeEnvSettings
from deep_arena.envs.molecule.rewards import OBJECTIVES, PARAMETRIC_OBJECTIVES
from deep_arena.runtime.settings import RunSettings, Settings, nested, setting

#: every objective name the molecule env knows (``envs.molecule.rewards``); the CLI offers a subset
OBJECTIVE_NAMES = (*OBJECTIVES, *PARAMETRIC_OBJECTIVES)


@dataclass
class NetSettings(Settings):
    # MolDQN used hidden [1024, 512, 128, 32]; [512, 128, 32] halves the CPU time per update and keeps a saved model
    # (fp32) under 5 MB.
    hidden: list[int] = setting([512, 128, 32], help="hidden layer widths of the Q network")
    heads: int = setting(1, low=1, help="bootstrapped Q heads (1: plain double DQN)")

    def check(self) -> None:
        if not self.hidden or any(h < 1 for h in self.hidden):
            raise ValueError(f"net.hidden must be a non-empty list of positive integers, got {self.hidden!r}")


@dataclass
class EpsilonSettings(Settings):
    """Linear from start to end over decay_fraction of the episodes; with ``mid`` set, start -> mid over
    decay_fraction, then mid -> end over the rest (MolDQN: 1.0 -> 0.1 at half -> 0.01 at the end)."""

    start: float = setting(1.0, low=0.0, high=1.0)
    mid: float | None = setting(None, low=0.0, high=1.0, help="between end and start; none: one linear decay")
    end: float = setting(0.01, low=0.0, high=1.0)
    decay_fraction: float = setting(0.5, low=0.0, high=1.0, low_open=True,
                                    help="share of the episodes from start to end (or to mid)")

    def check(self) -> None:
        if self.end > self.start:
            raise ValueError(f"epsilon.end must not exceed epsilon.start, got end {self.end} and start {self.start}")
        if self.mid is not None and not self.end <= self.mid <= self.start:
            raise ValueError(f"epsilon.mid must lie between end and start ({self.end} to {self.start}), "
                             f"got {self.mid}")


@dataclass
class RestartSettings(Settings):
    """Elite restarts (agents.moldqn.trainer's docstring): an episode may replay part of one of the best episodes."""

    prob: float = setting(0.0, low=0.0, high=1.0, help="probability an episode starts with an elite's edits (0: off)")
    elites: int = setting(10, low=1, help="best distinct episodes kept")


@dataclass
class MolDQNSettings(RunSettings):
    objective: str = setting("qed", choices=OBJECTIVE_NAMES, help="what the reward scores")
    delta: float = setting(0.4, low=0.0, high=1.0, help="sim_plogp: similarity threshold")
    target: str | None = setting(None, help="similarity (and multi's similarity term): target SMILES")
    weights: dict | None = setting(None, help="multi: {objective name: weight}")
    start_smiles: str | list[str] = setting("C", help="one SMILES, or a list")
    start_file: str | None = setting(None, help="a file with one SMILES per line (overrides start_smiles)")
    episodes: int = setting(2000, low=1)
    minutes: float | None = setting(None, low=0.0, low_open=True, help="wall-clock budget on top of episodes")
    env: MoleculeEnvSettings = nested(MoleculeEnvSettings)
    net: NetSettings = nested(NetSettings)
    gamma: float = setting(1.0, low=0.0, high=1.0,
                           help="Q-learning discount (the reward is already discounted by steps left)")
    target_values: str = setting("collection", choices=("collection", "update"),
                                 help="when s'* is valued: collection (stored) or update (fresh; needs gamma < 1)")
    lr: float = setting(1.0e-4, low=0.0, low_open=True)
    batch_size: int = setting(128, low=1)
    replay_capacity: int = setting(20_000, low=1, help="transitions (max_steps per episode)")
    learning_starts: int = setting(500, low=0, help="transitions before the first update")
    train_every: int = setting(2, low=1,
                               help="env steps per update (MolDQN: 1; 4 was used for the QED run in the README)")
    polyak: float = setting(0.995, low=0.0, high=1.0,
                            help="target network: θ' ← polyak θ' + (1 − polyak) θ after each update")
    grad_clip: float = setting(10.0, low=0.0, low_open=True)
    epsilon: EpsilonSettings = nested(EpsilonSettings)
    bootstrap_mask_prob: float = setting(0.5, low=0.0, high=1.0,
                                         help="with heads > 1: probability each head trains on a transition")
    allow_stop: bool = setting(False, help="MolDQN has no stop: episodes run max_steps edits")
    top_k: int = setting(10, low=1, help="best distinct molecules kept (top_molecules.csv)")
    restart: RestartSettings = nested(RestartSettings)
    gan_reward: str | None = setting(None, help="a GAN generator file or 'pretrained': "
                                                "reward = λ·D + (1 − λ)·objective (train_molecule.py)")
    gan_lambda: float = setting(0.3, low=0.0, high=1.0, help="λ, the GAN critic's weight")
    log_every: int = setting(10, low=1, help="episodes")
    eval_every: int | None = setting(None, low=1, help="episodes between greedy evaluations (eval/mean_score; the "
                                                       "pruner's figure in arena-tune); none: no evaluations")
    eval_episodes: int = setting(1, low=1, help="greedy episodes per evaluation (from one start molecule they are "
                                                "all the same: more only help with a start_file)")
    checkpoint_every: int = setting(100, low=1, help="episodes")
    keep_checkpoints: int | None = setting(3, low=1, help="newest checkpoints kept (each ~20 MB with its replay "
                                                          "buffer); null keeps every one")
    threads: int | None = setting(None, low=1, help="torch CPU threads; default all cores")

    def check(self) -> None:
        if isinstance(self.start_smiles, list) and not self.start_smiles:
            raise ValueError("start_smiles must be a SMILES or a non-empty list of them, got []")
        if self.objective == "similarity" and self.target is None:
            raise ValueError("target must be a SMILES for objective 'similarity'")
        if self.objective == "multi" and not self.weights:
            raise ValueError("weights must map objective names to weights for objective 'multi'")
