"""Deep Arena agents: algorithms (`alphazero`, `moldqn`), each environment family's glue (`go`, `arm`, `molecule`:
trainers' commands, players, evaluation, the family's registry entry in `task.py`), the task registry (`registry`),
shared statistics (`stats`) and the shipped models (`pretrained`, `load_pretrained`)."""

from __future__ import annotations

from typing import Any

from deep_arena.agents.registry import task_for_pretrained


def load_pretrained(name: str, device: str = "auto", **kwargs: Any):
    """A shipped model by name (see `deep_arena.agents.pretrained`): e.g. ``load_pretrained("molecule-qed")``, or
    ``load_pretrained("arm-reach").predict(obs, deterministic=True)`` for the robot arm. ``ValueError`` naming the
    available models for an unknown name."""
    task = task_for_pretrained(name)
    return task.load_pretrained(name, device=device, **kwargs)
