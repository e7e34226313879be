"""Per-algorithm hyperparameter YAML files, keyed by env id (rl-zoo style)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

HYPERPARAMS_DIR = Path(__file__).resolve().parent


def load_hyperparams(algo: str, env_id: str) -> dict[str, Any]:
    """The entry for ``env_id`` in ``<algo>.yml`` ({} if the file or entry is missing)."""
    path = HYPERPARAMS_DIR / f"{algo}.yml"
    if not path.is_file():
        return {}
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a mapping of env ids to hyperparameters")
    entry = data.get(env_id, {})
    if not isinstance(entry, dict):
        raise ValueError(f"{path}: the entry for {env_id!r} must be a mapping")
    return entry
