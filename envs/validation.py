"""Argument checks every Deep Arena env's ``reset`` shares: the seed and the options dict.

Gymnasium's own seeding raises ``gymnasium.error.Error`` (neither a ValueError nor a TypeError) and only for some
bad seeds (``True`` passes as 1), and an env that ignores ``options`` would silently accept a misspelt key. These
helpers refuse both with a ``TypeError`` (wrong type) or ``ValueError`` (wrong value) whose message names the
argument and what was given.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np


def check_seed(seed: Any) -> int | None:
    """``seed`` as a Python int (None stays None): a non-negative integer (a NumPy integer is accepted).

    TypeError for anything that is not an integer (floats, strings and booleans included), ValueError for a negative
    one."""
    if seed is None:
        return None
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed must be a non-negative integer or None, got {seed!r} ({type(seed).__name__})")
    if seed < 0:
        raise ValueError(f"seed must be a non-negative integer or None, got {seed!r}")
    return int(seed)


def check_options(options: Any, known: Iterable[str] | None, env_name: str) -> dict[str, Any]:
    """``options`` as a new dict (None gives ``{}``): TypeError if it is not a mapping, ValueError naming any key
    that is not in ``known`` (``known=None``: any key is let through). The values are the env's to check."""
    if options is None:
        return {}
    if not isinstance(options, Mapping):
        raise TypeError(f"{env_name}.reset options must be a dict or None, got {options!r} "
                        f"({type(options).__name__})")
    if known is None:
        return dict(options)
    known = sorted(known)
    unknown = sorted(repr(k) for k in options if k not in known)
    if unknown:
        what = f"known: {known}" if known else f"{env_name} takes no reset options"
        raise ValueError(f"unknown reset option(s) {', '.join(unknown)}; {what}")
    return dict(options)


__all__ = ["check_seed", "check_options"]
