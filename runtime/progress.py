"""Progress bars for training loops (a thin wrapper around tqdm)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar

from tqdm import tqdm

__all__ = ["progress"]

T = TypeVar("T")


def progress(
    iterable: Iterable[T] | None = None,
    total: int | float | None = None,
    desc: str | None = None,
    disable: bool = False,
    unit: str = "it",
    **kwargs: Any,
) -> tqdm:
    """
    Wrap ``iterable`` (or a manually updated counter) in a tqdm progress bar.

    Use it as an iterator, or for step-based loops as a context manager::

        with progress(total=total_steps, desc="ppo", unit="step") as bar:
            while step < total_steps:
                ...
                bar.update(n_new_steps)

    :param iterable: what to iterate over; ``None`` for a manual bar.
    :param total: the expected number of items/steps (taken from ``len(iterable)`` when possible).
    :param desc: a label shown in front of the bar.
    :param disable: hide the bar (e.g. in tests or with ``--no-progress``).
    :param unit: the unit name shown in the rate.
    :param kwargs: passed on to ``tqdm``.
    :return: the tqdm bar.
    """
    kwargs.setdefault("dynamic_ncols", True)
    return tqdm(iterable, total=total, desc=desc, disable=disable, unit=unit, **kwargs)
