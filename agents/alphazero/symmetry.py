"""The 8 symmetries of the square board (dihedral group D4), for planes and for policies.

Symmetry ``k`` (0..7) rotates by ``k % 4`` quarter turns and then, for ``k >= 4``, flips left-right. The pass entry
of a policy never moves.
"""

from __future__ import annotations

import numpy as np

NUM_SYMMETRIES = 8


def transform_planes(planes: np.ndarray, k: int) -> np.ndarray:
    """Apply symmetry ``k`` to the last two axes of ``planes`` (..., N, N)."""
    out = np.rot90(planes, k % 4, axes=(-2, -1))
    if k >= 4:
        out = np.flip(out, axis=-1)
    return np.ascontiguousarray(out)


def transform_policy(policy: np.ndarray, k: int, board_size: int) -> np.ndarray:
    """Apply symmetry ``k`` to policies (..., N*N + 1) over points plus pass."""
    points = policy[..., :-1].reshape(*policy.shape[:-1], board_size, board_size)
    moved = transform_planes(points, k).reshape(*policy.shape[:-1], board_size * board_size)
    return np.concatenate([moved, policy[..., -1:]], axis=-1)


def transform_action(action: int, k: int, board_size: int) -> int:
    """Where point ``action`` goes under symmetry ``k`` (pass stays pass)."""
    if action == board_size * board_size:
        return action
    one_hot = np.zeros(board_size * board_size + 1, dtype=np.float32)
    one_hot[action] = 1
    return int(np.argmax(transform_policy(one_hot, k, board_size)))


def inverse(k: int) -> int:
    """The symmetry that undoes ``k``."""
    return (4 - k) % 4 if k < 4 else k  # rotations invert by the opposite turn; each flip-rotation is an involution
