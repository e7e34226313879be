"""Trained molecule-design agents behind one loader, for play.py and evaluate.py."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from deep_arena.agents import pretrained

PRETRAINED_QED = "molecule-qed"


def load_pretrained(name: str, device: str = "auto", **kwargs: Any):
    """The shipped MolDQN model ``name`` (``"molecule-qed"``) as a `MolDQNPolicy` (``make_env()``, ``act(env)``,
    ``generate(env)``)."""
    from deep_arena.agents.moldqn.player import MolDQNPolicy  # lazy: RDKit and torch, only when a model loads (--help)

    return MolDQNPolicy.load(pretrained.pretrained_path(name), device=device, name=f"pretrained:{name}", **kwargs)


def load_molecule_agent(spec: str, device: str = "auto"):
    """``(policy, act)`` for ``--model``: ``policy.make_env(objective=, render_mode=, start_smiles=)`` builds a
    matching env and ``act(env, obs) -> action``. ValueError / CheckpointError with a one-line reason."""
    if spec == "pretrained":
        if PRETRAINED_QED not in pretrained.available():
            raise ValueError("no pretrained molecule model shipped yet (agents.pretrained has no "
                             f"{PRETRAINED_QED!r}); pass --model PATH to a trained model.pt or .zip")
        policy = load_pretrained(PRETRAINED_QED, device=device)
    else:
        path = Path(spec)
        if path.is_dir():  # a run directory: its MolDQN model, else its final MaskablePPO model
            found = [path / name for name in ("model.pt", "final_model.zip") if (path / name).is_file()]
            if not found:
                raise ValueError(f"{spec!r} is a directory without model.pt or final_model.zip")
            path = found[0]
        if path.suffix == ".pt":
            from deep_arena.agents.moldqn.player import MolDQNPolicy  # lazy: as in load_pretrained

            policy = MolDQNPolicy.load(path, device=device)
        elif path.suffix == ".zip":
            from deep_arena.agents.molecule.ppo import MoleculePPOPolicy  # lazy: SB3 and RDKit, .zip models only

            policy = MoleculePPOPolicy.load(path, device=device)
        elif not path.exists():
            raise ValueError(f"model file {spec!r} does not exist")
        else:
            raise ValueError(f"cannot tell what kind of model {spec!r} is: model files end in .pt (MolDQN) or "
                             ".zip (MaskablePPO)")
    if hasattr(policy, "model") and hasattr(policy, "allow_stop"):  # MaskablePPO: acts on the observation
        return policy, policy.act
    return policy, lambda env, obs: policy.act(env)
