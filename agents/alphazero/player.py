"""A trained AlphaZero network as a Go player (an `envs.go.opponents.Opponent`): search, then the most visited move."""

from __future__ import annotations

import warnings
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import torch

from deep_arena.agents.alphazero.mcts import NetworkEvaluator, Node, choose_action, expand_roots, search_with_virtual_loss
from deep_arena.agents.alphazero.network import NetConfig, PolicyValueNet
from deep_arena.agents.alphazero.search import BatchedSearch, NetworkLeafEvaluator
from deep_arena.runtime import CheckpointError, load_checkpoint, resolve_device
from deep_arena.envs.go.game import GoGame
from deep_arena.envs.go.opponents import Opponent


def load_network(path: str | Path, device: torch.device | str = "cpu") -> tuple[PolicyValueNet, dict[str, Any]]:
    """Load a network from a training checkpoint or an exported model file (weights_only). Returns (net, meta)
    where meta has at least ``board_size``, ``komi`` and ``history_length``. Errors name the file and problem."""
    path = Path(path)
    state = load_checkpoint(path, map_location="cpu")
    for key in ("model", "net_config", "meta"):
        if key not in state:
            raise CheckpointError(path, f"not an AlphaZero model file (no {key!r} entry)")
    try:
        config = NetConfig(**state["net_config"])
    except TypeError as err:
        raise CheckpointError(path, f"bad network config {state['net_config']!r}: {err}") from None
    net = PolicyValueNet(config)
    try:
        net.load_state_dict(state["model"])
    except RuntimeError as err:
        first = str(err).strip().splitlines()
        raise CheckpointError(path, f"network weights do not match its config {config}: "
                                    f"{first[1].strip() if len(first) > 1 else first[0]}") from None
    net.to(resolve_device(device) if isinstance(device, str) else device)
    net.eval()
    return net, dict(state["meta"])


class AlphaZeroPlayer(Opponent):
    """PUCT search with ``sims`` playouts per move from a trained network; no noise, most-visited move.

    With ``careful_pass`` (default) the move is filtered by area-scoring etiquette: no pass unless it ends a game
    that the board already wins (the opponent just passed) or nothing else is legal but filling an own eye, and
    never an own-eye fill.

    ``last_visits`` (N*N+1 visit counts) and ``last_value`` (the root's value for the player to move, -1..1) describe
    the last search, for display.

    ``engine``: "compiled" (default: `search.BatchedSearch`, one tree, ``batch`` leaves per network call with virtual
    loss) or "python" (`mcts.search_with_virtual_loss` on `Node` objects): the same search, node for node.
    """

    def __init__(self, net: PolicyValueNet, meta: dict[str, Any], sims: int = 100, c_puct: float = 1.5,
                 device: torch.device | None = None, name: str = "alphazero", batch: int = 8,
                 careful_pass: bool = True, engine: str = "compiled"):
        if engine not in ("python", "compiled"):
            raise ValueError(f"engine must be 'python' or 'compiled', got {engine!r}")
        self.net = net
        self.meta = meta
        self.sims = int(sims)
        self.batch = int(batch)  # leaves per network call (virtual loss)
        # Under Tromp-Taylor scoring every stone left on the board counts, so passing while the opponent keeps
        # playing (a random player never passes) hands it the board; and filling an own eye is never useful.
        self.careful_pass = careful_pass
        self.c_puct = c_puct
        self.device = device or next(net.parameters()).device
        self.evaluate = NetworkEvaluator(net, int(meta["history_length"]), self.device)
        self.engine = engine
        self.leaf_evaluate = NetworkLeafEvaluator.like(self.evaluate)
        self._search: BatchedSearch | None = None  # compiled engine: one tree, made for the first game's rules
        self._tree_valid = False
        self.name = name
        self.root: Node | None = None
        self.last_visits: np.ndarray | None = None
        self.last_value: float | None = None

    @classmethod
    def from_checkpoint(cls, path: str | Path, board_size: int | None = None, komi: float | None = None,
                        sims: int | None = None, device: str = "auto", allow_other_size: bool = False,
                        **kwargs) -> "AlphaZeroPlayer":
        dev = resolve_device(device)
        net, meta = load_network(path, dev)
        trained = int(meta["board_size"])
        if board_size is not None and board_size != trained and not allow_other_size:
            raise ValueError(f"{path}: this model was trained on {trained}x{trained}, not {board_size}x{board_size} "
                             f"(use --init-from to fine-tune it on another size)")
        if komi is not None and float(komi) != float(meta.get("komi", komi)):
            warnings.warn(f"{path}: this model was trained with komi {meta['komi']:g}; playing with komi {komi:g} "
                          f"misjudges who is ahead", stacklevel=2)
        return cls(net, meta, sims=sims or int(meta.get("eval_sims", 100)), device=dev,
                   name=kwargs.pop("name", f"alphazero:{Path(path).stem}"), **kwargs)

    def reset(self, game: GoGame, seed: int | None) -> None:
        self.root = None
        self._tree_valid = False

    def observe(self, colour: int, action: int) -> None:
        # Tree reuse: follow the move if the search already explored it.
        if self.root is not None:
            self.root = self.root.children.get(action)
        if self._tree_valid:
            try:
                self._search.advance(0, action)
            except ValueError:
                self._tree_valid = False

    def act(self, game: GoGame, rng: np.random.Generator) -> int:
        if self.engine == "compiled":
            return self._act_compiled(game, rng)
        root = self.root
        if root is None or root.game.hash != game.hash or root.game.to_play != game.to_play \
                or root.game.move_number != game.move_number:
            root = Node(game.copy())
        expand_roots([root], self.evaluate)
        search_with_virtual_loss(root, self.evaluate, max(1, self.sims - root.total_visits), self.batch, self.c_puct)
        self.last_visits = root.visits.copy()
        total = root.visits.sum()
        self.last_value = float(root.value_sum.sum() / total) if total else 0.0
        action = choose_action(root, 0.0, rng)
        if self.careful_pass:
            action = self._careful(game, root, action)
        self.root = root
        return action

    def _act_compiled(self, game: GoGame, rng: np.random.Generator) -> int:
        search = self._search
        if search is None or search.board_size != game.board_size or search.komi != game.komi \
                or search.max_moves != game.max_moves:
            search = self._search = BatchedSearch(1, game.board_size, game.komi, int(self.meta["history_length"]),
                                                  max_moves=game.max_moves, leaves_per_tree=self.batch,
                                                  virtual_loss=True, c_puct=self.c_puct)
            self._tree_valid = False
        if not (self._tree_valid and search.root_matches(0, game)):
            search.set_root(0, game)
        self._tree_valid = True
        search.expand_roots(self.leaf_evaluate)
        search.search(self.leaf_evaluate, max(1, self.sims - search.root_total_visits(0)))
        stats = search.node_stats(0)
        root = SimpleNamespace(visits=stats["visits"], prior=stats["prior"], legal=stats["legal"])
        self.last_visits = root.visits.copy()
        self.last_value = search.root_value(0)
        action = choose_action(root, 0.0, rng)
        if self.careful_pass:
            action = self._careful(game, root, action)
        return action

    def _careful(self, game: GoGame, root: Node, action: int) -> int:
        """Area-scoring etiquette (see ``careful_pass``): pass only to end a game the board already wins, or when
        every other legal move would fill one of our own eyes; never fill an own eye."""
        n = game.board_size
        board = game.board.reshape(-1)
        colour = game.to_play
        nbrs = game._const[:4]  # neighbour table (-1 padded) of the engine

        def fills_own_eye(p: int) -> bool:
            around = [int(q) for q in nbrs[:, p] if q >= 0]
            return all(board[q] == colour for q in around)

        candidates = [int(a) for a in np.flatnonzero(root.legal[:-1]) if not fills_own_eye(int(a))]
        ends_in_win = game.history and game.history[-1] == game.pass_action and game.winner == colour
        if action == game.pass_action:
            if ends_in_win or not candidates:
                return action
        elif action in candidates:
            return action
        if ends_in_win:
            return game.pass_action
        if not candidates:
            return game.pass_action
        # The most visited allowed move; unvisited ones by prior.
        return max(candidates, key=lambda a: (root.visits[a], root.prior[a]))
