"""Deep Arena agents: AlphaZero (`alphazero`), MolDQN (`moldqn`), SB3/sb3-contrib baselines (`sb3`), evaluation,
pretrained models (`load_pretrained`) and the shared training plumbing (`runtime`)."""

from typing import Any


def load_pretrained(name: str, device: str = "auto", **kwargs: Any):
    """A shipped model by name (see `agents.pretrained`): e.g. ``load_pretrained("molecule-qed")``, or
    ``load_pretrained("arm-reach").predict(obs, deterministic=True)`` for the robot arm."""
    from deep_arena.agents.pretrained import load_pretrained as _load

    return _load(name, device=device, **kwargs)
