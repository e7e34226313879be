"""Settings of LatentGAN training (``arena-train gan latentgan``; ``--set key=value`` names)."""

from __future__ import annotations

from dataclasses import dataclass

from deep_arena.runtime.settings import RunSettings, Settings, nested, setting

__all__ = ["HeteroEncoderSettings", "LatentWGANSettings", "LatentGANSettings"]


@dataclass
class HeteroEncoderSettings(Settings):
    """:class:`gan.latentgan.model.HeteroEncoder` (LatentGAN: 512 latent numbers; smaller here for CPUs)."""

    embedding_dim: int = setting(64, low=1)
    hidden_size: int = setting(256, low=1)
    layers: int = setting(2, low=1)
    latent_size: int = setting(128, low=1)
    max_length: int = setting(100, low=2, help="the most tokens of a training or decoded SMILES")


@dataclass
class LatentWGANSettings(Settings):
    """The WGAN-GP on latent vectors (:mod:`gan.wgan`)."""

    noise_size: int = setting(64, low=1)
    hidden: list = setting([256, 256], help="generator and critic MLP widths")
    batch_size: int = setting(128, low=1)
    n_critic: int = setting(5, low=1)
    gp_weight: float = setting(10.0, low=0.0)
    lr: float = setting(2e-4, low=0.0, low_open=True, help="Adam, both networks, betas (0.5, 0.9)")
    molecules: int | None = setting(200_000, low=2, help="training molecules encoded for the GAN phase (the "
                                                         "first N of the training set; null: all)")


@dataclass
class LatentGANSettings(RunSettings):
    """Everything ``arena-train gan latentgan`` reads. Two phases on one step counter: ``ae_epochs`` passes of
    heteroencoder training over the data, then ``gan_epochs`` passes of WGAN-GP generator steps over the encoded
    molecules (one generator step consumes ``n_critic`` real batches)."""

    dataset: str = setting("moses", help="moses, moses-test, qm9 or a SMILES file")
    limit: int | None = setting(None, low=1, help="use only the first N SMILES of the data set")
    ae_epochs: float = setting(1, low=0.0, low_open=True, help="heteroencoder passes over the data")
    gan_epochs: float = setting(10, low=0.0, low_open=True, help="WGAN-GP passes over the encoded molecules")
    minutes: float | None = setting(None, low=0.0, low_open=True, help="wall-clock budget on top of the epochs "
                                                                       "(the run's training time, across resumes)")
    batch_size: int = setting(128, low=1, help="heteroencoder batch")
    randomize: bool = setting(True, help="randomised input SMILES (heteroencoder); false: canonical in and out")
    noise_std: float = setting(0.1, low=0.0, help="Gaussian noise on the latent while training the heteroencoder")
    model: HeteroEncoderSettings = nested(HeteroEncoderSettings)
    gan: LatentWGANSettings = nested(LatentWGANSettings)
    lr: float = setting(1e-3, low=0.0, low_open=True, help="heteroencoder Adam learning rate at the start")
    lr_decay: float = setting(0.5, low=0.0, high=1.0, low_open=True, help="heteroencoder learning rate factor "
                                                                          "per epoch")
    grad_clip: float = setting(1.0, low=0.0, help="heteroencoder gradient norm clip (0: off)")
    log_every: int = setting(100, low=1, help="steps between logged points")
    sample_every: int = setting(2000, low=1, help="steps between checks (reconstruction; decoded samples)")
    sample_n: int = setting(500, low=1, help="molecules per check")
    sample_fcd: bool = setting(True, help="also log the FCD of each check's valid samples to MOSES test "
                                          "(samples/fcd_test; skipped without fcd_torch and molsets)")
    checkpoint_every: int = setting(2000, low=1)
    keep_checkpoints: int | None = setting(3, low=1, help="newest checkpoints kept; null keeps every one")
    threads: int | None = setting(None, low=1, help="torch CPU threads; default all cores")
