"""Torch device selection from a user-facing string such as ``"auto"`` or ``"cuda:1"``."""

from __future__ import annotations

import re

import torch

from deep_arena.runtime.seeding import seed_everything

__all__ = ["prepare_training", "resolve_device", "validate_device_spec"]

_CUDA_PATTERN = re.compile(r"^cuda(?::(\d+))?$")


def validate_device_spec(spec: str) -> str:
    """
    Check that ``spec`` is a well-formed device string, without checking hardware.

    Accepted forms are ``"auto"``, ``"cpu"``, ``"cuda"`` and ``"cuda:N"``
    (case-insensitive, surrounding whitespace ignored).

    :param spec: the device string, e.g. from ``--device``.
    :return: the normalised (lower-case, stripped) spec.
    :raises ValueError: if ``spec`` is not one of the accepted forms.
    """
    if not isinstance(spec, str):
        raise ValueError(f"Invalid device {spec!r}: expected a string such as 'auto', 'cpu', 'cuda' or 'cuda:0'")
    normalised = spec.strip().lower()
    if normalised in ("auto", "cpu") or _CUDA_PATTERN.match(normalised):
        return normalised
    raise ValueError(f"Invalid device {spec!r}: expected 'auto', 'cpu', 'cuda' or 'cuda:N'")


def resolve_device(spec: str | torch.device = "auto") -> torch.device:
    """
    Turn a device string into a :class:`torch.device`.

    * ``"auto"``: CUDA if it is available, otherwise CPU.
    * ``"cpu"``: the CPU.
    * ``"cuda"`` / ``"cuda:N"``: that GPU; fails if CUDA is unavailable or
      the index is out of range, rather than failing later inside a kernel.

    :param spec: the device string (or an existing :class:`torch.device`, returned as is).
    :return: the resolved device.
    :raises ValueError: if the spec is malformed or names a GPU that is not present.
    """
    if isinstance(spec, torch.device):
        return spec
    normalised = validate_device_spec(spec)
    if normalised == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if normalised == "cpu":
        return torch.device("cpu")

    match = _CUDA_PATTERN.match(normalised)
    assert match is not None  # guaranteed by validate_device_spec
    if not torch.cuda.is_available():
        raise ValueError(
            f"Device {spec!r} was requested but CUDA is not available on this machine; use 'cpu' or 'auto'"
        )
    if match.group(1) is not None:
        index = int(match.group(1))
        count = torch.cuda.device_count()
        if index >= count:
            raise ValueError(f"Device {spec!r} was requested but only {count} CUDA device(s) are visible")
        return torch.device("cuda", index)
    return torch.device("cuda")


def prepare_training(config: dict) -> torch.device:
    """What every trainer does first with its config: seed Python, NumPy and torch with ``config["seed"]``, cap
    torch's CPU threads at ``config["threads"]`` when set, and resolve ``config["device"]``."""
    seed_everything(int(config["seed"]))
    if config.get("threads"):
        torch.set_num_threads(int(config["threads"]))
    return resolve_device(config["device"])
