"""PUCT Monte Carlo tree search (AlphaGo Zero), batched across many trees.

Each `Node` holds, for all of its actions at once, NumPy arrays of priors ``P``, visit counts ``N`` and value sums
``W`` (from the point of view of the player to move at that node), so selection is one vectorised expression.
Children are created on first visit and hold their own `GoGame`.

`run_simulations` advances several independent trees together: each round descends once in every tree, sends all
the new leaves to the network in one batch, then expands and backs up. Self-play runs dozens of games at once this
way, so the network always sees large batches, on the CPU as on a GPU.
"""

from __future__ import annotations

import math
from typing import Callable, Sequence

import numpy as np
import torch

from deep_arena.envs.go import features
from deep_arena.envs.go.game import GoGame

# evaluate(games) -> (priors (B, A) over legal moves, values (B,) for the player to move)
Evaluator = Callable[[Sequence[GoGame]], tuple[np.ndarray, np.ndarray]]


class Node:
    __slots__ = ("game", "prior", "visits", "value_sum", "children", "legal", "expanded", "terminal_value",
                 "total_visits")

    def __init__(self, game: GoGame):
        self.game = game
        self.children: dict[int, Node] = {}
        self.expanded = False
        self.total_visits = 0
        self.terminal_value: float | None = None
        if game.is_over:
            # Outcome for the player to move at this node (Tromp-Taylor result; truncated games are scored too).
            self.terminal_value = float(game.winner * game.to_play)

    def expand(self, priors: np.ndarray, legal: np.ndarray) -> None:
        self.legal = legal
        self.prior = priors.astype(np.float32)
        self.visits = np.zeros(len(priors), dtype=np.float32)
        self.value_sum = np.zeros(len(priors), dtype=np.float32)
        self.expanded = True

    def q_values(self, fpu: float) -> np.ndarray:
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(self.visits > 0, self.value_sum / np.maximum(self.visits, 1), fpu)

    def select(self, c_puct: float, fpu_reduction: float) -> int:
        # First-play urgency: unvisited moves start a little below the node's current value estimate.
        parent_q = (self.value_sum.sum() / self.total_visits) if self.total_visits else 0.0
        q = self.q_values(parent_q - fpu_reduction)
        u = c_puct * self.prior * math.sqrt(self.total_visits + 1) / (1.0 + self.visits)
        score = np.where(self.legal, q + u, -np.inf)
        return int(np.argmax(score))

    def child(self, action: int) -> "Node":
        node = self.children.get(action)
        if node is None:
            game = self.game.copy()
            game.play(action)
            node = Node(game)
            self.children[action] = node
        return node

    def add_dirichlet_noise(self, rng: np.random.Generator, alpha: float, fraction: float) -> None:
        idx = np.flatnonzero(self.legal)
        if len(idx) == 0:
            return
        noise = rng.dirichlet([alpha] * len(idx)).astype(np.float32)
        self.prior[idx] = (1 - fraction) * self.prior[idx] + fraction * noise

    def visit_distribution(self) -> np.ndarray:
        total = self.visits.sum()
        if total <= 0:
            return self.legal.astype(np.float32) / max(1, self.legal.sum())
        return self.visits / total


class NetworkEvaluator:
    """Batched network evaluation of positions; illegal moves are masked out of the priors."""

    def __init__(self, model: torch.nn.Module, history_length: int, device: torch.device,
                 mixed_precision: bool = True):
        self.model = model
        self.history_length = history_length
        self.device = device
        self.autocast = mixed_precision and device.type == "cuda"
        self.positions = 0

    @torch.no_grad()
    def __call__(self, games: Sequence[GoGame]) -> tuple[np.ndarray, np.ndarray]:
        planes = np.stack([features.encode(g, self.history_length) for g in games])
        legal = np.stack([g._legal_mask_cached() for g in games])
        x = torch.from_numpy(planes).to(self.device)
        if self.model.training:  # the trainer switches back to train() for its updates
            self.model.eval()
        with torch.autocast(self.device.type, enabled=self.autocast):
            logits, values = self.model(x)
        logits = logits.float().cpu().numpy()
        logits[~legal] = -np.inf
        logits -= logits.max(axis=1, keepdims=True)
        priors = np.exp(logits)
        priors /= priors.sum(axis=1, keepdims=True)
        self.positions += len(games)
        return priors, values.float().cpu().numpy()


def run_simulations(roots: Sequence[Node], evaluate: Evaluator, simulations: int | Sequence[int], c_puct: float = 1.5,
                    fpu_reduction: float = 0.2) -> int:
    """Run ``simulations`` (per root, or one number for all) playouts on each root, batching leaf evaluations
    across roots. Roots must be expanded. Returns the number of leaf evaluations done."""
    if isinstance(simulations, int):
        simulations = [simulations] * len(roots)
    remaining = list(simulations)
    evaluations = 0
    while True:
        pending: list[tuple[list[tuple[Node, int]], Node]] = []
        for i, root in enumerate(roots):
            if remaining[i] <= 0:
                continue
            remaining[i] -= 1
            path, node = _descend(root, c_puct, fpu_reduction)
            if node.terminal_value is not None:
                _backup(path, node.terminal_value)
            else:
                pending.append((path, node))
        if not pending:
            if max(remaining, default=0) <= 0:
                return evaluations
            continue
        priors, values = evaluate([leaf.game for _, leaf in pending])
        evaluations += len(pending)
        for (path, leaf), p, v in zip(pending, priors, values):
            if not leaf.expanded:  # two trees never share nodes, so a leaf is expanded once
                leaf.expand(p, leaf.game._legal_mask_cached().copy())
            _backup(path, float(v))


def search_with_virtual_loss(root: Node, evaluate: Evaluator, simulations: int, batch: int = 8,
                             c_puct: float = 1.5, fpu_reduction: float = 0.2) -> int:
    """``simulations`` playouts on one (expanded) tree, ``batch`` leaves per network call. Each descent in a round
    marks its path with a virtual loss so that the next one explores elsewhere; the marks are removed before the
    real backup. Used when one game is played (evaluation, play, GTP), where batching across games is impossible."""
    done = 0
    evaluations = 0
    while done < simulations:
        pending: list[tuple[list[tuple[Node, int]], Node]] = []
        leaves: set[int] = set()
        for _ in range(min(batch, simulations - done)):
            path, node = _descend(root, c_puct, fpu_reduction)
            if node.terminal_value is not None:
                _backup(path, node.terminal_value)
                done += 1
                continue
            if id(node) in leaves:  # the virtual losses could not steer away: evaluate what we have
                break
            leaves.add(id(node))
            _virtual_loss(path, +1)
            pending.append((path, node))
        if not pending:
            continue
        priors, values = evaluate([leaf.game for _, leaf in pending])
        evaluations += len(pending)
        for (path, leaf), p, v in zip(pending, priors, values):
            _virtual_loss(path, -1)
            if not leaf.expanded:
                leaf.expand(p, leaf.game._legal_mask_cached().copy())
            _backup(path, float(v))
        done += len(pending)
    return evaluations


def _descend(root: Node, c_puct: float, fpu_reduction: float) -> tuple[list[tuple[Node, int]], Node]:
    """Follow PUCT choices from ``root`` to a node that is not expanded yet, or is terminal."""
    path: list[tuple[Node, int]] = []
    node = root
    while node.expanded and node.terminal_value is None:
        action = node.select(c_puct, fpu_reduction)
        path.append((node, action))
        node = node.child(action)
    return path, node


def _virtual_loss(path: list[tuple[Node, int]], sign: int) -> None:
    """Add (sign=+1) or remove (-1) one visit counted as a loss for the player choosing each edge of ``path``."""
    for node, action in path:
        node.visits[action] += sign
        node.value_sum[action] -= sign
        node.total_visits += sign


def _backup(path: list[tuple[Node, int]], leaf_value: float) -> None:
    """``leaf_value`` is for the player to move at the leaf; each edge stores it for the player choosing there."""
    value = leaf_value
    for node, action in reversed(path):
        value = -value
        node.visits[action] += 1
        node.value_sum[action] += value
        node.total_visits += 1


def expand_roots(roots: Sequence[Node], evaluate: Evaluator) -> None:
    todo = [r for r in roots if not r.expanded and r.terminal_value is None]
    if todo:
        priors, _ = evaluate([r.game for r in todo])
        for r, p in zip(todo, priors):
            r.expand(p, r.game._legal_mask_cached().copy())


def choose_action(root: Node, temperature: float, rng: np.random.Generator) -> int:
    """Sample from visit counts ** (1/temperature); temperature 0 picks the most visited (ties at random)."""
    visits = root.visits
    if visits.sum() <= 0:
        legal = np.flatnonzero(root.legal)
        return int(legal[rng.integers(len(legal))])
    if temperature <= 1e-3:
        best = np.flatnonzero(visits == visits.max())
        return int(best[rng.integers(len(best))])
    weights = visits ** (1.0 / temperature)
    return int(rng.choice(len(visits), p=weights / weights.sum()))
