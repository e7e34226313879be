"""
TensorBoard logging helpers.

Named ``tb`` rather than ``logging`` so that it never shadows the standard library module.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from deep_arena.runtime.config import flatten_config

if TYPE_CHECKING:
    from torch.utils.tensorboard import SummaryWriter

__all__ = ["make_writer", "config_to_markdown", "log_hparams_text"]


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
