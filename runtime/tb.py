"""
TensorBoard logging helpers.

Named ``tb`` rather than ``logging`` so that it never shadows the standard library module.
"""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from deep_arena.runtime.config import flatten_config
from deep_arena.runtime.config import load_config

if TYPE_CHECKING:
    from torch.utils.tensorboard import SummaryWriter

__all__ = ["make_writer", "config_to_markdown", "hparam_values", "log_hparams", "log_hparams_text", "log_result_hparams"]


def make_writer(
    run_dir: str | os.PathLike[str],
    purge_step: int | None = None,
    **kwargs: Any,
) -> SummaryWriter:
    """
    Create a TensorBoard ``SummaryWriter`` that logs into ``run_dir``.

    :param run_dir: the run directory (event files are written directly into it,
        so ``tensorboard --logdir runs`` lists runs as ``<env>/<algo>-<time>``).
    :param purge_step: when resuming from a checkpoint taken at this step, pass
        the step here: events at or after it left over from the interrupted run
        are hidden, so curves continue cleanly instead of doubling back.
    :param kwargs: passed on to ``SummaryWriter`` (e.g. ``flush_secs``).
    :return: the writer; close it (or use it as a context manager) when done.
    """
    from torch.utils.tensorboard import SummaryWriter  # lazy: tensorboard is slow to import (--help imports us)

    os.makedirs(run_dir, exist_ok=True)
    return SummaryWriter(log_dir=os.fspath(run_dir), purge_step=purge_step, **kwargs)


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def config_to_markdown(config: Mapping[str, Any]) -> str:
    """Render a (nested) config as a two-column markdown table with dotted keys."""
    lines = ["| key | value |", "| --- | --- |"]
    for key, value in flatten_config(config).items():
        lines.append(f"| {_escape(str(key))} | {_escape(repr(value))} |")
    return "\n".join(lines)


def log_hparams_text(writer: SummaryWriter, config: Mapping[str, Any], tag: str = "config", step: int = 0) -> None:
    """
    Log the resolved config as a markdown table in TensorBoard's "Text" tab.

    :param writer: the writer from :func:`make_writer`.
    :param config: the resolved config.
    :param tag: the text tag.
    :param step: the global step to log at.
    """
    writer.add_text(tag, config_to_markdown(config), global_step=step)


def hparam_values(config: Mapping[str, Any]) -> dict[str, float | int | str]:
    """The flattened config (dotted keys) as HParams values: numbers and strings stay, booleans become 0/1,
    everything else (lists, dicts, ``None``) its ``repr``."""
    values: dict[str, float | int | str] = {}
    for key, value in flatten_config(config).items():
        if isinstance(value, bool):
            values[str(key)] = int(value)
        elif isinstance(value, (int, float, str)):
            values[str(key)] = value
        else:
            values[str(key)] = repr(value)
    return values


#: The tag prefix of the final metrics that :func:`log_hparams` writes as scalars (the HParams tab reads them).
HPARAM_METRIC_PREFIX = "hparams/"


def log_hparams(
    run_dir: str | os.PathLike[str],
    config: Mapping[str, Any] | None,
    metrics: Mapping[str, Any],
    step: int = 0,
) -> Path | None:
    """
    Record a finished run for TensorBoard's HParams tab: its settings (the flattened config) and final metrics,
    so that runs compare side by side (``tensorboard --logdir runs``, tab HPARAMS).

    Unlike ``SummaryWriter.add_hparams`` (which makes a sub-run folder of its own), the summary goes into an event
    file in ``run_dir`` itself, so the run's folder is the HParams session. Each metric ``m`` is also written as
    the scalar ``hparams/m`` at ``step`` (the HParams tab takes a metric's value from the run's scalars).

    :param run_dir: the run directory.
    :param config: the resolved config; ``None`` reads ``run_dir/config.yml``.
    :param metrics: the final figures (``RunResult.metrics``); non-numeric ones are left out.
    :param step: the step of the metric scalars (e.g. the run's env steps).
    :return: the run directory, or ``None`` when nothing was written (no config at all).
    """
    from torch.utils.tensorboard.summary import hparams  # lazy: tensorboard is slow to import

    run_dir = Path(run_dir)
    if config is None:

        path = run_dir / "config.yml"
        if not path.is_file():
            return None
        config = load_config(path)
    numbers = {}
    for key, value in (metrics or {}).items():
        try:
            number = float(value)
        except (TypeError, ValueError):
            continue
        if math.isfinite(number):
            numbers[HPARAM_METRIC_PREFIX + str(key)] = number
    experiment, start, end = hparams(hparam_values(config), numbers)
    with make_writer(run_dir) as writer:
        file_writer = writer._get_file_writer()
        for summary in (experiment, start, end):
            file_writer.add_summary(summary, int(step))
        for tag, number in numbers.items():
            writer.add_scalar(tag, number, int(step))
    return run_dir


def log_result_hparams(result: Any, config: Mapping[str, Any] | None = None) -> Path | None:
    """:func:`log_hparams` for a finished ``RunResult`` (its run directory, metrics, and its largest counter as
    the step); ``config`` ``None`` reads the run's ``config.yml``. Never fails the run: a problem is a warning."""
    run_dir = getattr(result, "run_dir", None)
    if run_dir is None:
        return None
    counters = [int(v) for v in (getattr(result, "counters", None) or {}).values() if isinstance(v, (int, float))]
    try:
        return log_hparams(run_dir, config, getattr(result, "metrics", None) or {}, step=max(counters, default=0))
    except Exception as err:  # noqa: BLE001 - the run is done and saved; the HParams tab is not worth failing it

        warnings.warn(f"could not write the TensorBoard hparams summary ({type(err).__name__}: {err})", stacklevel=2)
        return None
