"""Coordinate conversions between actions, GTP vertices and SGF points.

Actions index the board row-major with row 0 at the *top*: ``action = row * N + col``, and ``N * N`` is pass.
GTP counts rows from the bottom (``A1`` is the lower-left corner) and skips the letter ``I``.
SGF uses two lower-case letters, column then row, row ``a`` at the top; pass is the empty value ``[]``
(``[tt]`` is also read as pass on boards up to 19x19).
"""

from __future__ import annotations

GTP_COLUMNS = "ABCDEFGHJKLMNOPQRSTUVWXYZ"  # no I, as in GTP and on real boards


def pass_action(board_size: int) -> int:
    return board_size * board_size


def action_to_gtp(action: int, board_size: int) -> str:
    """``action`` -> ``"D4"`` style vertex, or ``"pass"``."""
    if action == board_size * board_size:
        return "pass"
    if not 0 <= action < board_size * board_size:
        raise ValueError(f"action {action} is off a {board_size}x{board_size} board")
    row, col = divmod(action, board_size)
    return f"{GTP_COLUMNS[col]}{board_size - row}"


def gtp_to_action(vertex: str, board_size: int) -> int:
    """``"D4"`` / ``"d4"`` / ``"pass"`` -> action. Raises ``ValueError`` naming the bad vertex."""
    text = vertex.strip().upper()
    if text == "PASS":
        return board_size * board_size
    if len(text) < 2 or text[0] not in GTP_COLUMNS or not text[1:].isdigit():
        raise ValueError(f"invalid vertex {vertex!r}")
    col = GTP_COLUMNS.index(text[0])
    number = int(text[1:])
    if col >= board_size or not 1 <= number <= board_size:
        raise ValueError(f"vertex {vertex!r} is off a {board_size}x{board_size} board")
    return (board_size - number) * board_size + col


def action_to_sgf(action: int, board_size: int) -> str:
    """``action`` -> SGF point such as ``"dc"``; pass -> ``""``."""
    if action == board_size * board_size:
        return ""
    if not 0 <= action < board_size * board_size:
        raise ValueError(f"action {action} is off a {board_size}x{board_size} board")
    row, col = divmod(action, board_size)
    return chr(ord("a") + col) + chr(ord("a") + row)


def sgf_to_action(point: str, board_size: int) -> int:
    """SGF point -> action; ``""`` (and ``"tt"`` on boards up to 19x19) is pass."""
    if point == "" or (point == "tt" and board_size <= 19):
        return board_size * board_size
    if len(point) != 2 or not point.isalpha() or not point.islower():
        raise ValueError(f"invalid SGF point {point!r}")
    col = ord(point[0]) - ord("a")
    row = ord(point[1]) - ord("a")
    if not (0 <= col < board_size and 0 <= row < board_size):
        raise ValueError(f"SGF point {point!r} is off a {board_size}x{board_size} board")
    return row * board_size + col
