"""``scripts/evaluate.py gan``: sample a molecular generator and report its metrics.

Two reports: the basic one (:func:`evaluate_generator`, :mod:`gan.metrics`; MolGAN's default) and MOSES's
(:func:`evaluate_moses`, :mod:`gan.moses_metrics`; the default for the language model and the LatentGAN), which
writes ``results.json``, ``moses_metrics.csv``, ``moses_metrics.md`` (one table row) and ``samples.png``.

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
from deep_arena.gan import PRETRAINED, load_pretrained, metrics, moses_metrics
from deep_arena.gan.data import load_dataset
from deep_arena.gan.latentgan.model import MODEL_KIND as LATENTGAN_KIND, LatentGAN
from deep_arena.gan.lm.model import MODEL_KIND as LM_KIND, ChemicalLM
from deep_arena.gan.molgan import MolGAN
from deep_arena.runtime import load_checkpoint

__all__ = ["load_generator", "generator_kind", "evaluate_generator", "evaluate_moses", "moses_table"]


def load_generator(model: str, device: str = "cpu"):
    """``"pretrained"`` (molgan-qm9), a name of :data:`gan.PRETRAINED` (``lm-moses``, ``latentgan-moses``, ...), a
    model file (MolGAN ``generator.pt`` or checkpoint, a language model's or LatentGAN's ``model.pt``) or a run
    directory (its ``generator.pt``, else its ``model.pt``)."""
    if model == "pretrained":
        return load_pretrained("molgan-qm9", device=device)
    if model in PRETRAINED:
        return load_pretrained(model, device=device)
    path = Path(model)
    if path.is_dir():
        path = path / "generator.pt" if (path / "generator.pt").is_file() else path / "model.pt"
    if not path.is_file():
        raise FileNotFoundError(f"model file {path} does not exist (pretrained names: pretrained, "
                                f"{', '.join(PRETRAINED)})")
    kind = load_checkpoint(path, map_location="cpu").get("kind")   # weights_only; CheckpointError if unreadable
    if kind == LM_KIND:
        return ChemicalLM.load(path, device=device)
    if kind == LATENTGAN_KIND:
        return LatentGAN.load(path, device=device)
    return MolGAN.load(path, device=device)


def generator_kind(gen) -> str:
    """``lm``, ``latentgan`` or ``molgan``."""
    return "lm" if isinstance(gen, ChemicalLM) else "latentgan" if isinstance(gen, LatentGAN) else "molgan"


def moses_table(result: dict[str, Any], label: str) -> tuple[str, str]:
    """The metrics as (CSV text, markdown table), columns in MOSES's order."""
    keys = [k for k in moses_metrics.METRIC_ORDER if k in result]

    def fmt(v: Any) -> str:
        return "" if v is None else f"{v:.4f}" if isinstance(v, float) else str(v)

    csv_text = "model," + ",".join(keys) + "\n" + label + "," + ",".join(fmt(result[k]) for k in keys) + "\n"
    md = ("| model | " + " | ".join(keys) + " |\n|---|" + "---|" * len(keys) + "\n| " + label + " | "
          + " | ".join(fmt(result[k]) for k in keys) + " |\n")
    return csv_text, md


def evaluate_moses(gen, n: int, out: Path, seed: int = 0, with_fcd: bool = True, scaffold_split: str = "all",
                   device: str = "cpu", label: str = "model", samples_path: Path | None = None,
                   log=print) -> dict[str, Any]:
    """Sample ``n`` SMILES (MOSES uses 30,000) and compute MOSES's metrics against its test sets (novelty against
    its training set); writes the CSV / markdown table and a grid of distinct valid samples into ``out``."""
    t0 = time.perf_counter()
    smiles = gen.sample(n, seed=seed)
    t_sample = time.perf_counter() - t0
    log(f"sampled {n} molecules in {t_sample:.1f} s")
    t0, c0 = time.perf_counter(), time.process_time()
    result = moses_metrics.moses_metrics(smiles, with_fcd=with_fcd, scaffold_split=scaffold_split, device=device,
                                         log=log)
    result.update({"sample_seconds": t_sample, "metric_seconds": time.perf_counter() - t0,
                   "metric_cpu_seconds": time.process_time() - c0, "kind": generator_kind(gen)})
    csv_text, md = moses_table(result, label)
    (out / "moses_metrics.csv").write_text(csv_text, encoding="utf-8")
    (out / "moses_metrics.md").write_text(md, encoding="utf-8")
    valid = [c for c in (moses_metrics.canonical(s) for s in smiles[:2000]) if c is not None]
    if valid:
        Image.fromarray(molecule_grid(list(dict.fromkeys(valid))[:24], mols_per_row=6,
                                      sub_img_size=(200, 160))).save(out / "samples.png")
    if samples_path is not None:
        samples_path.write_text("".join(f"{s if s else 'INVALID'}\n" for s in smiles), encoding="utf-8")
    return result


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
