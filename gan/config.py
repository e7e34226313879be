"""GAN settings: the WGAN-GP core's (:class:`WGANSettings`, shared with :mod:`gan.tabular.config`) and MolGAN's
(:class:`MolGANSettings`, the one source of :data:`gan.trainer.DEFAULTS` and of their checks; ``--set key=value``
names below).

A group whose defaults differ between trainers is a subclass that redefines those fields (:class:`MolGANWGANSettings`
here, ``TabularWGANSettings`` in the tabular package), not a factory with other values: a saved config that lacks a
key of the group takes the default of the group's class.
"""

from __future__ import annotations

from dataclasses import dataclass

from deep_arena.runtime.settings import RunSettings, Settings, nested, setting

__all__ = ["CUSTOM_OBJECTIVE", "DECODINGS", "MAX_ATOMS", "OBJECTIVES", "MolGANModelSettings", "MolGANSettings",
           "MolGANWGANSettings", "WGANSettings", "check_layers"]

#: Graph size of :mod:`gan.molgan` (heavy-atom slots) unless ``model.max_atoms`` says otherwise.
MAX_ATOMS = 9
#: How :meth:`gan.molgan.MolGAN.sample_graphs` turns logits into a graph (``model.decode``).
DECODINGS = ("sample", "argmax", "valence")
OBJECTIVES = ("qed", "logp", "sa")
#: What ``objective`` holds when the reward is a user callable (``MolGANTrainer(..., objective=fn)``).
CUSTOM_OBJECTIVE = "custom"


def check_layers(name: str, sizes: list[int]) -> None:
    """Layer widths: positive integers (ValueError naming the setting)."""
    if any(s < 1 for s in sizes):
        raise ValueError(f"{name} must be a list of positive integers, got {sizes!r}")


@dataclass
class WGANSettings(Settings):
    """:class:`gan.wgan.WGANConfig`'s fields with the paper's defaults (Gulrajani et al.); ``grad_clip`` is not a
    setting of these trainers (off)."""

    gp_weight: float = setting(10.0, low=0.0, help="weight of the gradient penalty")
    n_critic: int = setting(5, low=1, help="critic updates per generator update")
    lr_generator: float = setting(1e-4, low=0.0, low_open=True)
    lr_critic: float = setting(1e-4, low=0.0, low_open=True)
    betas: list[float] = setting([0.5, 0.9], help="Adam's two betas, each in [0, 1)")
    amp: bool = setting(True, help="mixed precision, used only on CUDA")

    def check(self) -> None:
        if len(self.betas) != 2 or not all(0.0 <= b < 1.0 for b in self.betas):
            raise ValueError(f"wgan.betas must be two numbers in [0, 1), got {self.betas!r}")


@dataclass
class MolGANWGANSettings(WGANSettings):
    # Gulrajani et al.'s lr is 1e-4; MolGAN used 1e-3. On QM9 (CPU, minutes) 1e-3 reached the best validity (~43%
    # sampled) at ~500 steps and then degraded; 2e-4 peaked lower (~27% at 1,000) and degraded too. Keep checkpoints
    # and pick one with scripts/evaluate.py gan.
    lr_generator: float = setting(1e-3, low=0.0, low_open=True)
    lr_critic: float = setting(1e-3, low=0.0, low_open=True)


@dataclass
class MolGANModelSettings(Settings):
    """:class:`gan.molgan.MolGAN`'s architecture; ``decode`` and ``temperature`` matter for sampling only."""

    latent_dim: int = setting(32, low=1)
    generator_hidden: list[int] = setting([128, 256, 512], help="generator MLP widths")
    max_atoms: int = setting(MAX_ATOMS, low=1, help="graph size: molecules with more heavy atoms are skipped")
    # measured on QM9 it did not raise uniqueness and the run degraded sooner (README), so it is off
    minibatch_std: bool = setting(False, help="minibatch standard deviation feature in the critic")
    critic_gcn: list[int] = setting([64, 32], help="R-GCN layer widths of the critic")
    decode: str = setting("sample", choices=DECODINGS, help="how sampled logits become a graph")
    temperature: float = setting(1.0, low=0.0, low_open=True, help="divides the logits before decoding")

    def check(self) -> None:
        check_layers("model.generator_hidden", self.generator_hidden)
        check_layers("model.critic_gcn", self.critic_gcn)


@dataclass
class MolGANSettings(RunSettings):
    """Everything ``train_gan.py molecules`` reads (see :mod:`gan.trainer` for the loss and the epoch)."""

    dataset: str = setting("qm9", help="qm9, moses, moses-test or a SMILES file")
    limit: int | None = setting(None, low=1, help="use only the first N SMILES of the data set")
    epochs: float = setting(1, low=0.0, low_open=True, help="passes of critic batches over the data (a resumed "
                                                             "run's total may be fractional)")
    minutes: float | None = setting(None, low=0.0, low_open=True, help="wall-clock budget on top of epochs (the "
                                                                       "run's training time, across resumes)")
    batch_size: int = setting(32, low=2)
    model: MolGANModelSettings = nested(MolGANModelSettings)
    wgan: MolGANWGANSettings = nested(MolGANWGANSettings)
    tau: float = setting(1.0, low=0.0, low_open=True, help="Gumbel-softmax temperature")
    lambda_rl: float = setting(1.0, low=0.0, high=1.0,
                               help="L_G = lambda_rl * L_WGAN + (1 - lambda_rl) * L_RL; 1 = no RL term")
    objective: str = setting("qed", choices=OBJECTIVES + (CUSTOM_OBJECTIVE,),
                             help="reward of the RL term (MolGAN normalisations); custom: a user callable")
    reward_lr: float = setting(1e-4, low=0.0, low_open=True, help="reward network learning rate")
    # ORGAN's answer to the RL term's mode collapse: a generated molecule's reward is divided by how often it occurs
    # among the last rl_memory generated molecules (0 = off, MolGAN's plain reward).
    rl_memory: int = setting(0, low=0, help="repeat discount memory of the RL reward (0: off)")
    log_every: int = setting(50, low=1, help="generator steps between logged points")
    sample_every: int = setting(500, low=1,
                                help="generator steps between sample checks (validity, uniqueness, image grid)")
    sample_n: int = setting(1000, low=1, help="molecules sampled per check")
    checkpoint_every: int = setting(1000, low=1, help="generator steps between checkpoints")
    keep_checkpoints: int | None = setting(3, low=1, help="newest checkpoints kept; null keeps every one")
    threads: int | None = setting(None, low=1, help="torch CPU threads; default all cores")
