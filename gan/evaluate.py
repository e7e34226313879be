"""``scripts/evaluate.py gan``: sample a molecular GAN and report MOSES-style metrics (see :mod:`gan.metrics`).

Writes into the output folder: ``results.json`` (every metric and the command), ``properties.png`` (QED / logP / SA
histograms of the valid samples against the training data), ``samples.png`` (a grid of distinct valid samples) and,
when asked, the samples as SMILES (one per line; ``None`` graphs as an empty line would be ambiguous, so invalid
samples are written as ``INVALID``).
"""

from __future__ import annotations

import json
import random
import time
from pathlib import Path
from typing import Any

from PIL import Image

from deep_arena.envs.molecule.render import molecule_grid
from deep_arena.gan import load_pretrained, metrics
from deep_arena.gan.data import load_dataset
from deep_arena.gan.molgan import MolGAN

__all__ = ["load_generator", "evaluate_generator"]


def load_generator(model: str, device: str = "cpu"):
    """``"pretrained"`` (molgan-qm9), a ``generator.pt`` / checkpoint file, or a run directory."""
    if model == "pretrained":
        return load_pretrained("molgan-qm9", device=device)
    path = Path(model)
    if path.is_dir():
        path = path / "generator.pt"
    return MolGAN.load(path, device=device)


def evaluate_generator(gan, n: int, out: Path, train_data: str = "qm9", reference: str | None = None,
                       fcd_n: int = 10000, with_fcd: bool = True, seed: int = 0,
                       samples_path: Path | None = None, log=print) -> dict[str, Any]:
    t0 = time.perf_counter()
    smiles = gan.sample(n, seed=seed)
    t_sample = time.perf_counter() - t0
    log(f"sampled {n} graphs in {t_sample:.1f} s")
    train = load_dataset(train_data)
    train_canon = {c for c in (metrics.canonical_smiles(s) for s in train) if c is not None}
    ref_smiles = None
    if with_fcd:
        if not metrics.fcd_available():
            log("FCD: fcd_torch is not installed (pip install fcd-torch==1.0.7); reported as null")
        else:
            pool = load_dataset(reference) if reference else train
            rng = random.Random(seed)
            ref_smiles = pool if len(pool) <= fcd_n else rng.sample(pool, fcd_n)
    result = metrics.summary(smiles, training=train_canon, reference=ref_smiles, with_fcd=with_fcd)
    result.update({"sample_seconds": t_sample, "train_data": train_data,
                   "fcd_reference": (reference or train_data) if ref_smiles is not None else None,
                   "fcd_reference_n": len(ref_smiles) if ref_smiles is not None else None,
                   "decode": gan.config.get("decode"), "temperature": gan.config.get("temperature", 1.0)})
    valid = [s for s in smiles if s is not None]
    fig = metrics.property_histograms(valid[:2000], random.Random(seed).sample(train, min(2000, len(train))),
                                      labels=("generated", train_data if len(train_data) < 20 else "data"))
    fig.savefig(out / "properties.png", dpi=100)
    import matplotlib.pyplot as plt  # lazy: slow; metrics.property_histograms chose the Agg backend before it

    plt.close(fig)
    if valid:
        Image.fromarray(molecule_grid(list(dict.fromkeys(valid))[:24], mols_per_row=6,
                                      sub_img_size=(200, 160))).save(out / "samples.png")
    if samples_path is not None:
        samples_path.write_text("".join(f"{s if s is not None else 'INVALID'}\n" for s in smiles), encoding="utf-8")
    return result
