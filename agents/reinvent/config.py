"""REINVENT's settings (``--set key=value`` names of ``scripts/optimize_molecule.py --method reinvent``).

Loss and learning rate follow PMO's REINVENT (``wenhao-gao/mol_opt``, ``main/reinvent/``: learning rate 5e-4, batch
64; its loss adds ``5e3 · mean(−1 / agent log-likelihood)``). σ 60 is that folder's ``hparams_default.yaml`` before
PMO's tuning; the tuned file PMO's published row used says σ 500, experience replay 24, and PMO's REINVENT has no
diversity filter (``--set sigma=500 --set diversity_filter.enabled=false``; docs/molecule.md has what σ 500 did with
our MOSES prior). The top-k memory replay (Olivecrona et al. 2017, 24 per step from the best 100) and the diversity
filter (REINVENT 2.0's identical-Murcko-scaffold buckets of 25 above score 0.4) are on by default here;
``augmentation_rounds`` turns on Augmented Memory (Guo & Schwaller 2024).
"""

from __future__ import annotations

from dataclasses import dataclass

from deep_arena.runtime.settings import Settings, nested, setting

__all__ = ["DiversityFilterSettings", "ReinventSettings"]


@dataclass
class DiversityFilterSettings(Settings):
    """A molecule whose Murcko scaffold already holds ``bucket_size`` distinct molecules scoring at least
    ``min_score`` earns reward 0 (its oracle score is logged unchanged)."""

    enabled: bool = setting(True)
    bucket_size: int = setting(25, low=1)
    min_score: float = setting(0.4, low=0.0, help="only molecules scoring at least this fill a bucket")
    purge_memory: bool = setting(False, help="Augmented Memory's selective memory purge: when a full bucket zeroes "
                                             "a molecule, drop the memory's molecules of that scaffold too")


@dataclass
class ReinventSettings(Settings):
    prior: str = setting("pretrained", help="the chemical language model: 'pretrained' (gan/pretrained/lm-moses.pt) "
                                           "or a model.pt path")
    batch_size: int = setting(64, low=1, help="SMILES sampled per step (PMO: 64)")
    sigma: float = setting(60.0, low=0.0, help="augmented likelihood = prior log p + sigma * reward (PMO "
                                                                 "untuned: 60, tuned: 500)")
    lr: float = setting(5e-4, low=0.0, low_open=True, help="Adam learning rate of the agent (PMO: 5e-4)")
    likelihood_penalty: float = setting(5e3, low=0.0, help="weight of mean(-1 / agent log p) in the loss (PMO: 5e3)")
    replay: int = setting(24, low=0, help="memory molecules replayed per step (0: off)")
    memory: int = setting(100, low=1, help="best distinct molecules kept for replay")
    temperature: float = setting(1.0, low=0.0, low_open=True, help="sampling temperature")
    augmentation_rounds: int = setting(0, low=0, help="Augmented Memory (Guo & Schwaller 2024): extra updates per "
                                                      "step on SMILES-randomised copies of the batch and of the "
                                                      "whole memory (0: off; theirs: 2, with sigma 500, replay 10)")
    diversity_filter: DiversityFilterSettings = nested(DiversityFilterSettings)
    critic: str | None = setting(None, help="ATNC/ORGAN: a MolGAN generator.pt or 'pretrained' whose critic's "
                                            "realism score is mixed into the reward")
    critic_weight: float = setting(0.3, low=0.0, high=1.0, help="reward = w * critic + (1 - w) * score")
    max_steps: int | None = setting(None, low=1, help="stop after this many steps even if budget is left")
