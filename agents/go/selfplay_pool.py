"""A self-play opponent pool for the MaskablePPO Go trainer: frozen earlier copies of the policy.

:class:`OpponentPool` keeps up to ``max_size`` snapshots of a MaskablePPO policy. A snapshot is a CPU copy of the
policy's ``state_dict`` (what gets saved) loaded into a CPU policy module in eval mode (what plays), rebuilt from
the policy's constructor parameters so the optimizer state is not copied (tens of milliseconds for the Go nets);
when the pool is full the oldest snapshot is dropped. One pool is shared by all the envs of a ``DummyVecEnv``
(same process).

:class:`PoolOpponent` is an :class:`envs.go.opponents.Opponent` for ``arena/Go-v0``. On every ``reset`` it draws
the player for the episode from the seed it is given:

* with probability ``random_prob`` the uniformly random player;
* otherwise the newest snapshot with probability ``latest_prob``, else one of the older snapshots, uniformly
  (with a single snapshot, that one);
* the random player while the pool is empty.

It then plays the snapshot's masked action for the position seen from its own colour (the observation the env would
give an agent of that colour: ``features.encode(game, H, game.to_play, legal=game.legal_moves())``), sampled from
the policy's distribution (default, so play varies) or its most likely legal move (``deterministic=True``).
Inference runs on the CPU under ``torch.no_grad``.

The pool saves to and loads from a plain ``{"state_dicts": [...], "ids": [...], ...}`` file, loaded with
``torch.load(weights_only=True)``.
"""

from __future__ import annotations

import copy
import os
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from deep_arena.envs.go import features
from deep_arena.envs.go.game import GoGame
from deep_arena.envs.go.opponents import Opponent, random_move
from deep_arena.runtime.checkpoint import save_checkpoint
from stable_baselines3.common.preprocessing import preprocess_obs

__all__ = ["OpponentPool", "PoolOpponent", "Snapshot"]


@dataclass
class Snapshot:
    """One frozen policy: ``id`` counts snapshots taken by the pool (0, 1, ...); ``step`` is the caller's label."""

    id: int
    step: int
    state_dict: dict[str, torch.Tensor]
    module: nn.Module


def _check_prob(name: str, value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= float(value) <= 1.0:
        raise ValueError(f"{name} must be a probability from 0 to 1, got {value!r}")
    return float(value)


def _cpu_state_dict(policy: nn.Module) -> dict[str, torch.Tensor]:
    return {key: value.detach().to("cpu", copy=True) for key, value in policy.state_dict().items()}


def _new_cpu_module(policy: nn.Module) -> nn.Module:
    """A fresh CPU module of the same architecture as ``policy`` (weights to be loaded by the caller).

    SB3 policies are rebuilt from their constructor parameters, so the optimizer and its state are not copied;
    other modules are deep-copied.
    """
    params = getattr(policy, "_get_constructor_parameters", None)
    if params is not None:
        module = type(policy)(**params())
    else:
        module = copy.deepcopy(policy)
    module = module.to("cpu")
    module.eval()
    module.requires_grad_(False)
    return module


class OpponentPool:
    """Frozen snapshots of a policy (newest last), plus the selection probabilities for :class:`PoolOpponent`.

    Args:
        max_size: the most snapshots kept; adding one more drops the oldest.
        latest_prob: probability of the newest snapshot when a snapshot (not the random player) is drawn.
        random_prob: probability that an episode is played by the uniformly random player.
        deterministic: default for the opponents: the most likely legal move instead of a sample.
        template: a policy to take the architecture from (needed by :meth:`load` when nothing was added yet).
    """

    def __init__(self, max_size: int = 10, latest_prob: float = 0.5, random_prob: float = 0.1,
                 deterministic: bool = False, template: nn.Module | None = None):
        if isinstance(max_size, bool) or not isinstance(max_size, (int, np.integer)) or max_size < 1:
            raise ValueError(f"max_size must be a positive integer, got {max_size!r}")
        self.max_size = int(max_size)
        self.latest_prob = _check_prob("latest_prob", latest_prob)
        self.random_prob = _check_prob("random_prob", random_prob)
        self.deterministic = bool(deterministic)
        self.snapshots: deque[Snapshot] = deque()
        self._next_id = 0
        self._template = template
        self.history_length: int | None = None
        if template is not None:
            self._read_shape(template)

    def __len__(self) -> int:
        return len(self.snapshots)

    @property
    def latest(self) -> Snapshot | None:
        return self.snapshots[-1] if self.snapshots else None

    def _read_shape(self, policy: nn.Module) -> None:
        shape = tuple(getattr(getattr(policy, "observation_space", None), "shape", None) or ())
        if len(shape) == 3:
            self.history_length = features.check_history_length((int(shape[0]) - 2) // 2)

    def add(self, policy: nn.Module, step: int = 0) -> Snapshot:
        """Snapshot ``policy`` now (a CPU copy of its weights); returns the new snapshot."""
        if self._template is None:
            self._template = policy
            self._read_shape(policy)
        return self._add_state(_cpu_state_dict(policy), step)

    def _add_state(self, state_dict: dict[str, torch.Tensor], step: int) -> Snapshot:
        # A new module each time (tens of ms): an opponent still playing an evicted snapshot keeps its weights.
        module = _new_cpu_module(self._template)
        module.load_state_dict(state_dict)
        while len(self.snapshots) >= self.max_size:
            self.snapshots.popleft()
        snap = Snapshot(id=self._next_id, step=int(step), state_dict=state_dict, module=module)
        self._next_id += 1
        self.snapshots.append(snap)
        return snap

    def choose(self, rng: np.random.Generator, latest_prob: float | None = None,
               random_prob: float | None = None) -> Snapshot | None:
        """Draw the player of one episode: a snapshot, or ``None`` for the random player."""
        latest_prob = self.latest_prob if latest_prob is None else latest_prob
        random_prob = self.random_prob if random_prob is None else random_prob
        if not self.snapshots:
            return None
        if random_prob > 0 and rng.random() < random_prob:
            return None
        if len(self.snapshots) == 1 or rng.random() < latest_prob:
            return self.snapshots[-1]
        return self.snapshots[int(rng.integers(len(self.snapshots) - 1))]

    # -- saving ----------------------------------------------------------------------------------------------------

    def state(self) -> dict[str, Any]:
        """Plain data (tensors, ints, lists) for ``torch.save``; :meth:`load_state` restores it."""
        return {
            "state_dicts": [s.state_dict for s in self.snapshots],
            "ids": [s.id for s in self.snapshots],
            "steps": [s.step for s in self.snapshots],
            "next_id": self._next_id,
        }

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the snapshots' state_dicts to ``path`` (atomically; readable with ``weights_only=True``)."""

        return save_checkpoint(path, self.state())

    def load_state(self, state: dict[str, Any], template: nn.Module | None = None) -> None:
        """Replace the snapshots with those in ``state`` (from :meth:`state`); ``template`` gives the architecture."""
        if template is not None:
            self._template = template
            self._read_shape(template)
        if self._template is None:
            raise ValueError("OpponentPool.load_state needs a template policy for the snapshots' architecture")
        dicts = list(state["state_dicts"])
        ids = list(state.get("ids", range(len(dicts))))
        steps = list(state.get("steps", [0] * len(dicts)))
        self.snapshots.clear()
        for sd, sid, step in list(zip(dicts, ids, steps))[-self.max_size:]:
            snap = self._add_state({k: v.to("cpu") for k, v in sd.items()}, step)
            snap.id = int(sid)
        self._next_id = int(state.get("next_id", (max(ids) + 1) if ids else 0))

    def load(self, path: str | os.PathLike[str], template: nn.Module | None = None) -> None:
        """Restore the snapshots saved by :meth:`save` (``torch.load(weights_only=True)``, tensors on the CPU)."""
        state = torch.load(Path(path), map_location="cpu", weights_only=True)
        self.load_state(state, template)


def _masked_probs(module: nn.Module, obs: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The policy's action probabilities for one observation, zero outside ``mask``."""
    with torch.no_grad():
        obs_t = torch.as_tensor(obs[None], dtype=torch.float32)
        if all(hasattr(module, a) for a in ("pi_features_extractor", "mlp_extractor", "action_net")):
            # An SB3 actor-critic policy: its actor's logits, as get_distribution() computes them but without
            # building a torch distribution (half the time per move).

            x = preprocess_obs(obs_t, module.observation_space, normalize_images=module.normalize_images)
            logits = module.action_net(module.mlp_extractor.forward_actor(module.pi_features_extractor(x)))[0]
        else:  # any module mapping observations to action logits
            logits = module(obs_t)[0]
        logits = logits.double().masked_fill(~torch.as_tensor(mask), float("-inf"))
        probs = torch.softmax(logits, dim=0).numpy()
    return probs


class PoolOpponent(Opponent):
    """An opponent drawn from an :class:`OpponentPool` once per episode (see the module docstring).

    ``latest_prob``, ``random_prob`` and ``deterministic`` default to the pool's settings. ``current`` is the
    snapshot playing this episode (``None``: the random player).
    """

    def __init__(self, pool: OpponentPool, latest_prob: float | None = None, random_prob: float | None = None,
                 deterministic: bool | None = None, name: str = "selfplay"):
        self.pool = pool
        self.latest_prob = None if latest_prob is None else _check_prob("latest_prob", latest_prob)
        self.random_prob = None if random_prob is None else _check_prob("random_prob", random_prob)
        self.deterministic = deterministic
        self.name = name
        self.current: Snapshot | None = None
        self._rng = np.random.default_rng()

    def reset(self, game: GoGame, seed: int | None) -> None:
        self._rng = np.random.default_rng(seed)
        self.current = self.pool.choose(self._rng, self.latest_prob, self.random_prob)

    def act(self, game: GoGame, rng: np.random.Generator) -> int:
        if self.current is None:
            return random_move(game, self._rng)
        h = self.pool.history_length
        if h is None:
            raise RuntimeError("the opponent pool does not know the policy's observation shape")
        mask = game.legal_moves()
        obs = features.encode(game, h, game.to_play, legal=mask)
        probs = _masked_probs(self.current.module, obs, mask)
        deterministic = self.pool.deterministic if self.deterministic is None else self.deterministic
        if deterministic:
            return int(np.argmax(probs))
        probs = np.where(mask, probs, 0.0)
        return int(self._rng.choice(len(probs), p=probs / probs.sum()))
