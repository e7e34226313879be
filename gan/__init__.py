"""Generative models: the WGAN-GP core (:mod:`gan.wgan`), a MolGAN-style molecular graph GAN (:mod:`gan.molgan`,
trained by :mod:`gan.trainer`), molecule metrics (:mod:`gan.metrics`), data sets (:mod:`gan.data`) and the
critic as a molecule-env reward (:class:`gan.rewards.DiscriminatorReward`).

``gan.load_pretrained(name)`` returns a shipped generator with ``sample(n, seed=None)``: ``"molgan-qm9"`` (or
``"molgan-qm9-qed"``, fine-tuned towards QED) a :class:`gan.molgan.MolGAN` (list of SMILES or None);
``"lm-moses"`` a :class:`gan.lm.ChemicalLM` and ``"latentgan-moses"`` a :class:`gan.latentgan.LatentGAN`, both
trained on MOSES (lists of SMILES strings, invalid ones included). MOSES's metrics: :mod:`gan.moses_metrics`.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["PRETRAINED", "load_pretrained", "pretrained_path"]

PRETRAINED_DIR = Path(__file__).resolve().parent / "pretrained"
# molgan-qm9: the plain WGAN-GP generator; molgan-qm9-qed: the same fine-tuned with the RL term on QED (README);
# lm-moses / latentgan-moses: gan.lm and gan.latentgan on MOSES train (docs/gan.md: how they were trained)
PRETRAINED = {"molgan-qm9": "molgan-qm9.pt", "molgan-qm9-qed": "molgan-qm9-qed.pt", "lm-moses": "lm-moses.pt",
              "latentgan-moses": "latentgan-moses.pt"}
_TRAIN_HINT = {"lm": "arena-train gan lm --dataset moses, then copy the run's model.pt",
               "latentgan": "arena-train gan latentgan --dataset moses, then copy the run's model.pt",
               "molgan": "scripts/train_gan.py molecules"}


def _kind(name: str) -> str:
    return name.split("-", 1)[0]


def pretrained_path(name: str) -> Path:
    if name not in PRETRAINED:
        raise ValueError(f"unknown pretrained GAN {name!r}; available: {', '.join(PRETRAINED)}")
    path = PRETRAINED_DIR / PRETRAINED[name]
    if not path.is_file():
        raise FileNotFoundError(f"pretrained generator {name!r} is not shipped in this checkout ({path} missing); "
                                f"train one with {_TRAIN_HINT[_kind(name)]} to {path}")
    return path


def load_pretrained(name: str = "molgan-qm9", device: str = "cpu"):
    """A shipped generator: ``load_pretrained("lm-moses").sample(1000, seed=0) -> list[str]``."""
    path = pretrained_path(name)
    kind = _kind(name)
    if kind == "lm":
        from deep_arena.gan.lm.model import ChemicalLM  # lazy: torch; every deep_arena.gan.* import runs this file

        return ChemicalLM.load(path, device=device)
    if kind == "latentgan":
        from deep_arena.gan.latentgan.model import LatentGAN  # lazy: as ChemicalLM above

        return LatentGAN.load(path, device=device)
    from deep_arena.gan.molgan import MolGAN  # lazy: torch and RDKit, as ChemicalLM above

    return MolGAN.load(path, device=device)
