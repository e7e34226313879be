"""Feature planes for Go observations, from one player's point of view.

With ``history_length = H`` the observation is a float32 array of shape ``(2H + 2, N, N)``:

| plane            | content                                                              |
|------------------|----------------------------------------------------------------------|
| 0 .. H-1         | the player's own stones, now and at each of the H-1 previous moves   |
| H .. 2H-1        | the opponent's stones, at the same times                             |
| 2H               | all ones if the player is Black, all zeros if White                  |
| 2H + 1           | the player's legal moves (zeros when it is not the player's turn)    |

Before the first move the earlier history planes are empty. Perspective never flips inside one observation: every
history plane uses the observing player's colour (PettingZoo's go_v5 flips it, which its docs do not say).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from deep_arena.envs.go.game import HIST0, HISTORY_DEPTH, GoGame


def num_planes(history_length: int) -> int:
    return 2 * history_length + 2


def check_history_length(history_length: int) -> int:
    if isinstance(history_length, bool) or not isinstance(history_length, (int, np.integer)) \
            or not 1 <= history_length <= HISTORY_DEPTH:
        raise ValueError(f"history_length must be an integer from 1 to {HISTORY_DEPTH}, got {history_length!r}")
    return int(history_length)


@njit(cache=True)
def _fill_planes(state, hist_pos, available, colour, legal, history_length, out):
    depth = HISTORY_DEPTH
    nn = state.shape[1]
    h = history_length
    for t in range(h):
        if t < available:
            row = state[HIST0 + (hist_pos - t) % depth]
            for p in range(nn):
                v = row[p]
                out[t, p] = 1.0 if v == colour else 0.0
                out[h + t, p] = 1.0 if v == -colour else 0.0
        else:
            for p in range(nn):
                out[t, p] = 0.0
                out[h + t, p] = 0.0
    black = 1.0 if colour == 1 else 0.0
    for p in range(nn):
        out[2 * h, p] = black
        out[2 * h + 1, p] = 1.0 if legal[p] else 0.0


def encode(game: GoGame, history_length: int = 4, colour: int | None = None,
           legal: np.ndarray | None = None) -> np.ndarray:
    """Feature planes of ``game`` seen by ``colour`` (default: the player to move); see the module table.

    ``legal`` may pass in the player's legal-move mask when the caller already has it. When ``colour`` is not the
    player to move, the legal-move plane is zeros.
    """
    if colour is None:
        colour = game.to_play
    n = game.board_size
    if legal is None:
        legal = game._legal_mask_cached() if colour == game.to_play else np.zeros(n * n + 1, dtype=np.bool_)
    out = np.empty((2 * history_length + 2, n, n), dtype=np.float32)
    available = min(history_length, len(game.history) + 1)
    _fill_planes(game._state, game._hist_pos, available, colour, legal, history_length,
                 out.reshape(2 * history_length + 2, n * n))
    return out
