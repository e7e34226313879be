"""Generative models: the WGAN-GP core (:mod:`gan.wgan`), a MolGAN-style molecular graph GAN (:mod:`gan.molgan`,
trained by :mod:`gan.trainer`), molecule metrics (:mod:`gan.metrics`), data sets (:mod:`gan.data`) and the
critic as a molecule-env reward (:class:`gan.rewards.DiscriminatorReward`).

``gan.load_pretrained("molgan-qm9")`` (or ``"molgan-qm9-qed"``, fine-tuned towards QED) returns a
:class:`gan.molgan.MolGAN` with ``sample(n, seed=None)``.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["PRETRAINED", "load_pretrained", "pretrained_path"]

PRETRAINED_DIR = Path(__file__).resolve().parent / "pretrained"
# molgan-qm9: the plain WGAN-GP generator; molgan-qm9-qed: the same fine-tuned with the RL term on QED (README)
PRETRAINED = {"molgan-qm9": "molgan-qm9.pt", "molgan-qm9-qed": "molgan-qm9-qed.pt"}


def pretrained_path(name: str) -> Path:
    if name not in PRETRAINED:
        raise ValueError(f"unknown pretrained GAN {name!r}; available: {', '.join(PRETRAINED)}")
    path = PRETRAINED_DIR / PRETRAINED[name]
    if not path.is_file():
        raise FileNotFoundError(f"pretrained GAN {name!r} is not shipped in this checkout ({path} missing); "
                                "train one with scripts/train_gan.py molecules")
    return path


def load_pretrained(name: str = "molgan-qm9", device: str = "cpu"):
    """A shipped generator: ``load_pretrained("molgan-qm9").sample(1000, seed=0) -> list[str | None]``."""
    from deep_arena.gan.molgan import MolGAN  # lazy: torch and RDKit; every deep_arena.gan.* import runs this file

    return MolGAN.load(pretrained_path(name), device=device)
