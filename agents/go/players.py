"""Go "players" for evaluation and play: every player is an :class:`envs.go.opponents.Opponent`, so the single-agent
env can also use it as its opponent.

* :class:`PPOPlayer` wraps a MaskablePPO model (an SB3 ``.zip`` from ``agents/go/ppo.py``) and plays its
  deterministic, legality-masked choice.
* :func:`load_player` builds a player from a command-line spec::

      random                 uniformly random legal move (never passes while it has another move)
      gnugo | gnugo:LEVEL    GNU Go over GTP, LEVEL 0..10
      PATH.zip               a MaskablePPO model
      PATH.pt                an AlphaZero checkpoint (agents.alphazero.player)
      pretrained             the shipped AlphaZero checkpoint for the board size (agents.pretrained)

Heavy imports (torch, sb3-contrib, the AlphaZero code) happen only when such a player is asked for.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from deep_arena.agents.pretrained import pretrained_go_path, pretrained_path
from deep_arena.envs.go import features
from deep_arena.envs.go.game import GoGame
from deep_arena.envs.go.opponents import Opponent, RandomOpponent, make_opponent
from deep_arena.runtime.device import resolve_device

__all__ = ["PPOPlayer", "load_player", "SPEC_HELP"]

SPEC_HELP = "'random', 'gnugo:LEVEL' (0..10), 'pretrained', a MaskablePPO model (.zip) or an AlphaZero checkpoint (.pt)"


class PPOPlayer(Opponent):
    """A MaskablePPO policy as a Go player (deterministic: the most likely legal move).

    Args:
        model: a loaded ``sb3_contrib.MaskablePPO``, or the path of its ``.zip``.
        board_size: if given, the board the player will play on; a model trained for another size is a
            ``ValueError`` naming the file and both sizes.
        device: where a model loaded from a path runs: ``"auto"``, ``"cpu"``, ``"cuda"`` or ``"cuda:N"``.
        name: the player's name in records (default ``ppo:<file name>``).

    The observation is rebuilt for each move with :func:`envs.go.features.encode` from the mover's point of view, with
    the history length read off the model's observation space (``2H + 2`` planes), exactly as ``arena/Go-v0``
    builds it; the action mask is ``game.legal_moves()``.
    """

    def __init__(self, model: Any, board_size: int | None = None, device: str = "auto", name: str | None = None):
        self.path: Path | None = None
        if isinstance(model, (str, os.PathLike)):
            self.path = Path(model)
            model = _load_maskable_ppo(self.path, device)
        self.model = model
        where = f"model {str(self.path)!r}" if self.path is not None else "the model"
        shape = tuple(getattr(model.observation_space, "shape", None) or ())
        if len(shape) != 3 or shape[1] != shape[2] or shape[0] < 4 or shape[0] % 2:
            raise ValueError(f"{where} does not read Go feature planes: its observation shape is {shape}, "
                             "expected (2H + 2, N, N)")
        planes, n, _ = shape
        self.model_board_size = int(n)
        self.history_length = features.check_history_length((planes - 2) // 2)
        n_actions = getattr(model.action_space, "n", None)
        if n_actions is not None and int(n_actions) != n * n + 1:
            raise ValueError(f"{where} has {n_actions} actions; a {n}x{n} Go model has {n * n + 1}")
        if board_size is not None and int(board_size) != self.model_board_size:
            raise ValueError(f"{where} was trained for {n}x{n} Go and cannot play on {board_size}x{board_size}")
        if name is None:
            name = f"ppo:{self.path.name}" if self.path is not None else "ppo"
        self.name = name

    def act(self, game: GoGame, rng: np.random.Generator) -> int:
        if game.board_size != self.model_board_size:
            where = f"model {str(self.path)!r}" if self.path is not None else "the model"
            raise ValueError(f"{where} was trained for {self.model_board_size}x{self.model_board_size} Go and cannot "
                             f"play on {game.board_size}x{game.board_size}")
        mask = game.legal_moves()
        obs = features.encode(game, self.history_length, game.to_play, legal=mask)
        action, _ = self.model.predict(obs, action_masks=mask, deterministic=True)
        return int(np.asarray(action).reshape(-1)[0])


def _load_maskable_ppo(path: Path, device: str) -> Any:
    from sb3_contrib import MaskablePPO  # lazy: SB3, only for .zip players (arena-gtp and --help import this module)

    from deep_arena.agents.sb3.models import load_saved  # lazy: SB3, as above

    torch_device = resolve_device(device)
    try:
        return load_saved(MaskablePPO, path, device=torch_device)  # also zips saved before the deep_arena root
    except Exception as err:  # a zip that is not an SB3 model, or one saved by another algorithm
        raise ValueError(f"could not load {str(path)!r} as a MaskablePPO model: {err}") from err


def load_player(spec: str, board_size: int, komi: float, device: str = "auto", sims: int | None = None,
                seed: int = 0, models_only: bool = False) -> Opponent:
    """Build a player from ``spec`` (see the module docstring) for ``board_size`` x ``board_size`` Go.

    ``sims`` (MCTS simulations per move) only matters to AlphaZero players; ``device`` to network players.
    ``models_only`` refuses ``random`` and ``gnugo:L`` (for callers that do not forward every move to the player). Raises ``ValueError`` for an unknown spec, a missing file or a model for another board size, and
    ``ImportError`` when the code needed for a checkpoint is not available.
    """
    if not isinstance(spec, str) or not spec.strip():
        raise ValueError(f"unknown player {spec!r}: use {SPEC_HELP}")
    spec = spec.strip()
    if models_only and (spec == "random" or spec.startswith("gnugo")):
        raise ValueError(f"{spec!r} is not a trained model: use PATH.pt (AlphaZero), PATH.zip (MaskablePPO) or "
                         f"pretrained")
    if spec == "random":
        return RandomOpponent()
    if spec == "gnugo" or spec.startswith("gnugo:"):
        return make_opponent(spec, board_size, komi)
    if spec == "pretrained":
        path = _pretrained_path(board_size)
        player = load_player(str(path), board_size, komi, device=device, sims=sims, seed=seed)
        player.name = f"pretrained:{board_size}x{board_size}"
        return player
    suffix = Path(spec).suffix.lower()
    if suffix in (".zip", ".pt"):
        path = Path(spec)
        if not path.is_file():
            kind = "MaskablePPO model" if suffix == ".zip" else "AlphaZero checkpoint"
            raise ValueError(f"{kind} {spec!r} does not exist")
        if suffix == ".zip":
            return PPOPlayer(path, board_size=board_size, device=device)
        return _alphazero_player(path, board_size, komi, device, sims)
    if Path(spec).exists():
        raise ValueError(f"cannot tell what kind of player {spec!r} is: model files end in .zip (MaskablePPO) "
                         "or .pt (AlphaZero)")
    raise ValueError(f"unknown player {spec!r}: use {SPEC_HELP}")


def _alphazero_player(path: Path, board_size: int, komi: float, device: str, sims: int | None) -> Opponent:
    try:
        from deep_arena.agents.alphazero.player import AlphaZeroPlayer  # lazy: torch and the search, .pt players only
    except ImportError as err:
        raise ImportError(f"cannot load AlphaZero checkpoint {str(path)!r}: agents.alphazero.player is not "
                          f"available ({err})") from err
    # The search is deterministic given the game (no noise, ties broken by the rng passed to act()), so no seed.
    return AlphaZeroPlayer.from_checkpoint(str(path), board_size=board_size, komi=komi, sims=sims, device=device)


def _pretrained_path(board_size: int) -> Path:
    missing = f"no pretrained model for {board_size}x{board_size}"
    try:
        path = pretrained_go_path(board_size)
    except (FileNotFoundError, KeyError, LookupError, ValueError) as err:
        raise ValueError(f"{missing} ({err})") from err
    if path is None or not Path(path).is_file():
        raise ValueError(missing + ("" if path is None else f" ({str(path)!r} does not exist)"))
    return Path(path)


def load_pretrained(name: str, device: str = "auto", **kwargs: Any) -> Opponent:
    """The shipped AlphaZero model ``name`` (``"go-7x7"``, ``"go-9x9"``) as a player (``act(game, rng) -> action``);
    ``kwargs`` go to its constructor (e.g. ``sims``, ``komi``)."""
    from deep_arena.agents.alphazero.player import AlphaZeroPlayer  # lazy: torch and the search, only when a model loads

    path = pretrained_path(name)
    size = int(name[len("go-"):].split("x")[0])
    return AlphaZeroPlayer.from_checkpoint(path, board_size=size, device=device, name=f"pretrained:{name}", **kwargs)
