"""LatentGAN: a SMILES heteroencoder and a WGAN-GP in its latent space (:mod:`gan.latentgan.model`), its settings
(:mod:`gan.latentgan.config`) and trainer (:mod:`gan.latentgan.trainer`)."""

from deep_arena.gan.latentgan.model import HeteroEncoder, LatentCritic, LatentGAN, LatentGenerator

__all__ = ["HeteroEncoder", "LatentCritic", "LatentGAN", "LatentGenerator"]
