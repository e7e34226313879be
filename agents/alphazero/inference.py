"""How self-play and evaluation call the network: precision, memory layout, ``torch.compile`` (config ``inference.*``).

* ``precision``: the autocast dtype of a network call. ``auto`` is bfloat16 on CUDA when ``mixed_precision`` is on
  (float16 on a GPU without bfloat16) and float32 elsewhere; ``bfloat16`` also works on the CPU (autocast on the
  CPU: slower than float32 on most CPUs without AMX, there for tests and such CPUs); ``float32`` turns autocast off.
* ``channels_last``: the network's weights and its inputs in NHWC layout, what cuDNN's tensor-core convolutions
  prefer. The trainer converts its own network, so training runs in that layout too.
* ``compile``: ``torch.compile`` of the network for the search's calls (batch sizes vary, so it compiles with dynamic
  shapes); the first calls pay for the compilation (tens of seconds on the CPU).

CPU threads are the top-level ``threads`` setting (the trainer) and ``selfplay.actor_threads`` (each Ray actor).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

PRECISIONS = ("auto", "float32", "bfloat16", "float16")


@dataclass(frozen=True)
class InferenceOptions:
    precision: str = "auto"
    channels_last: bool = False
    compile: bool = False

    @classmethod
    def from_config(cls, config: dict) -> "InferenceOptions":
        """From a trainer config (its ``inference`` group; defaults where an older run's config has none)."""
        return cls(**config.get("inference", {}))


def autocast_dtype(precision: str, device: torch.device, mixed_precision: bool = True) -> torch.dtype | None:
    """The autocast dtype for ``precision`` on ``device`` (None: no autocast, float32)."""
    if precision not in PRECISIONS:
        raise ValueError(f"inference.precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
    if precision == "auto":
        if device.type != "cuda" or not mixed_precision:
            return None
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return {"float32": None, "bfloat16": torch.bfloat16, "float16": torch.float16}[precision]
