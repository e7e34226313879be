"""Seeding of every random number generator a training run touches."""

from __future__ import annotations

import random

import numpy as np
import torch

__all__ = ["seed_everything", "make_rng"]

_MAX_SEED = 2**32 - 1  # numpy's legacy global RNG only accepts 32-bit seeds


def _check_seed(seed: int) -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise ValueError(f"Seed must be an integer, got {seed!r} ({type(seed).__name__})")
    seed = int(seed)
    if not 0 <= seed <= _MAX_SEED:
        raise ValueError(f"Seed must be in [0, {_MAX_SEED}], got {seed}")
    return seed


def seed_everything(seed: int, *, deterministic: bool = False) -> None:
    """
    Seed Python's ``random``, NumPy's global RNG and torch (CPU and all CUDA devices).

    Environments are seeded separately, through ``env.reset(seed=...)``.

    :param seed: a non-negative 32-bit integer.
    :param deterministic: also ask torch for deterministic kernels
        (``cudnn.deterministic``, no cuDNN benchmarking, and
        ``torch.use_deterministic_algorithms(True, warn_only=True)``). Slower on GPU.
    :raises ValueError: if ``seed`` is not an integer in ``[0, 2**32 - 1]``.
    """
    seed = _check_seed(seed)
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.cuda.manual_seed_all(seed)  # lazy: a no-op without CUDA
    if deterministic:
        torch.backends.cudnn.deterministic = True
        torch.backends.cudnn.benchmark = False
        torch.use_deterministic_algorithms(True, warn_only=True)


def make_rng(seed: int | None = None) -> np.random.Generator:
    """
    Create an independent NumPy generator, preferred over the global ``np.random`` state.

    :param seed: a non-negative integer, or ``None`` for fresh OS entropy.
    :return: a new :class:`numpy.random.Generator`.
    """
    if seed is None:
        return np.random.default_rng()
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"Seed must be a non-negative integer or None, got {seed!r}")
    return np.random.default_rng(int(seed))
