"""Settings of the tabular GAN: :data:`DEFAULTS` (data, model, WGAN-GP and training-by-sampling settings; the
reasons for the defaults that differ from CTGAN's are in the package docstring) and :func:`validate_config`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from deep_arena.gan.wgan import WGANConfig

__all__ = ["DEFAULTS", "validate_config"]

DEFAULTS: dict[str, Any] = {
    "data": None,
    "target": None,
    "categorical": [],            # columns forced categorical
    "max_numeric_categories": 10,  # numeric columns with at most this many distinct values are categorical
    "min_class_rows": 5,
    "epochs": 300,
    "batch_size": 128,            # CTGAN's 500 learnt the class conditionals slower per second (package docstring)
    "model": {"latent_dim": 128, "generator_hidden": [256, 256], "critic_hidden": [256, 256], "dropout": 0.5,
              "pac": 1, "tau": 0.2, "max_modes": 10, "mode_weight_threshold": 0.005},
    "wgan": {"gp_weight": 10.0, "n_critic": 1, "lr_generator": 1e-3, "lr_critic": 1e-3, "betas": [0.5, 0.9],
             "amp": False},
    "weight_decay": 1e-6,         # generator and critic (CTGAN's)
    "class_sampling": "log",      # log | uniform | frequency: class probabilities for training-by-sampling
    "log_every": 10,              # generator steps
    "checkpoint_every": 50,       # epochs between checkpoints of a logged run (0: only the final one)
    "threads": None,
}


def validate_config(config: Mapping[str, Any]) -> None:
    """ValueError naming the first bad setting."""
    for key in ("epochs", "batch_size", "log_every", "min_class_rows", "max_numeric_categories"):
        v = config[key]
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise ValueError(f"{key} must be a positive integer, got {v!r}")
    if config["batch_size"] < 2:
        raise ValueError("batch_size must be at least 2")
    if config["class_sampling"] not in ("log", "uniform", "frequency"):
        raise ValueError(f"class_sampling must be log, uniform or frequency, got {config['class_sampling']!r}")
    m = config["model"]
    if not (isinstance(m["latent_dim"], int) and m["latent_dim"] >= 1):
        raise ValueError(f"model.latent_dim must be a positive integer, got {m['latent_dim']!r}")
    if not (0 <= float(m["dropout"]) < 1):
        raise ValueError(f"model.dropout must be in [0, 1), got {m['dropout']!r}")
    if isinstance(m.get("pac", 1), bool) or not isinstance(m.get("pac", 1), int) or m.get("pac", 1) < 1:
        raise ValueError(f"model.pac must be a positive integer, got {m.get('pac')!r}")
    if not (float(m["tau"]) > 0):
        raise ValueError(f"model.tau must be positive, got {m['tau']!r}")
    w = dict(config["wgan"])
    WGANConfig(**{**w, "betas": tuple(w["betas"])}).validate()
    every = config.get("checkpoint_every", 0)
    if isinstance(every, bool) or not isinstance(every, int) or every < 0:
        raise ValueError(f"checkpoint_every must be a non-negative integer (epochs; 0: only at the end), got {every!r}")
    if config.get("threads") is not None and (not isinstance(config["threads"], int) or config["threads"] < 1):
        raise ValueError(f"threads must be a positive integer, got {config['threads']!r}")

