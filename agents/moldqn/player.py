"""A trained MolDQN network as a policy: greedy over the next states of a `MoleculeEnv`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from deep_arena.agents.moldqn.network import QNetwork, candidate_features
from deep_arena.envs.molecule.env import MoleculeEnv
from deep_arena.runtime import CheckpointError, load_checkpoint, resolve_device


class MolDQNPolicy:
    """Picks, in a `MoleculeEnv`, the action whose resulting molecule has the highest Q (mean over heads).

    ``env_kwargs`` are the env settings the network was trained with (atom types, fingerprint, max steps...):
    build the env with `make_env()` so that fingerprints match.
    """

    def __init__(self, q: QNetwork, env_kwargs: dict[str, Any], objective: str, device: str = "auto",
                 name: str = "moldqn", allow_stop: bool = False):
        self.device = resolve_device(device)
        self.q = q.to(self.device).eval()
        self.env_kwargs = env_kwargs
        self.objective = objective
        self.name = name
        self.allow_stop = allow_stop  # trained without the stop action: episodes run all max_steps edits

    @classmethod
    def load(cls, path: str | Path, device: str = "auto", name: str | None = None) -> "MolDQNPolicy":
        path = Path(path)
        state = load_checkpoint(path, map_location="cpu")
        if state.get("kind") == "moldqn":  # a training checkpoint: take its network
            state = {"model": state["model"], "env": state["config"]["env"], "net": state["config"]["net"],
                     "objective": state["config"]["objective"],
                     "allow_stop": state["config"].get("allow_stop", False)}
        elif state.get("kind") != "moldqn-model":
            raise CheckpointError(path, "is not a MolDQN model (expected model.pt from train_molecule.py)")
        try:
            env = state["env"]
            q = QNetwork(int(env["fp_bits"]) + 1, [int(h) for h in state["net"]["hidden"]], int(state["net"]["heads"]))
            q.load_state_dict(state["model"])
        except (KeyError, RuntimeError, TypeError, ValueError) as exc:
            raise CheckpointError(path, f"has an unexpected layout: {exc}") from None
        return cls(q, dict(env), str(state.get("objective", "qed")), device=device, name=name or path.stem,
                   allow_stop=bool(state.get("allow_stop", False)))

    def make_env(self, objective: str | None = None, **overrides: Any):
        """A `MoleculeEnv` with the training settings (objective and any setting can be overridden)."""
        e = {**self.env_kwargs, **overrides}
        return MoleculeEnv(
            objective=objective or (self.objective if self.objective != "custom" else "qed"),
            atom_types=tuple(e["atom_types"]), valences=e.get("valences") or {}, ring_sizes=tuple(e["ring_sizes"]),
            max_atoms=e["max_atoms"], max_steps=e["max_steps"], fp_radius=e["fp_radius"], fp_bits=e["fp_bits"],
            discount=e.get("discount", 1.0), start_smiles=e.get("start_smiles", "C"),
            reward_mode=e.get("reward_mode", "every_step"),
            render_mode=e.get("render_mode"))

    def q_values(self, env) -> tuple[dict[str, Any], np.ndarray]:
        """The candidates of ``env``'s current state and their Q values."""
        env = env.unwrapped
        cand = env.next_states()
        if not self.allow_stop and len(cand["actions"]) > 1:
            cand = {k: v[:-1] for k, v in cand.items()}  # the stop entry is last
        x = candidate_features(cand["fingerprints"], cand["stop"], env.steps_left, env.max_steps)
        with torch.no_grad():
            q = self.q(torch.from_numpy(x).to(self.device)).mean(dim=1).cpu().numpy()
        return cand, q

    def act(self, env) -> int:
        cand, q = self.q_values(env)
        return int(cand["actions"][int(np.argmax(q))])

    def generate(self, env, start_smiles: str | None = None, seed: int = 0) -> list[str]:
        """Run one greedy episode; the SMILES after each step (start first)."""
        options = {"smiles": start_smiles} if start_smiles else None
        _, info = env.reset(seed=seed, options=options)
        path = [info["smiles"]]
        done = False
        while not done:
            _, _, term, trunc, info = env.step(self.act(env))
            path.append(info["smiles"])
            done = term or trunc
        return path
