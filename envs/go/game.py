"""Go rules engine: pure NumPy + numba, no RL, Gymnasium, PettingZoo or pygame imports.

Rules are those of the computer-Go servers (CGOS): area (Tromp-Taylor) scoring, suicide illegal, positional superko
(a move may not recreate any earlier whole-board position, whoever is to play), passing is always legal, two
consecutive passes end the game, and a cap of ``max_moves`` (default ``2 * N * N``, passes included) ends it as
truncated. Komi is 7.5 by default; with an integer komi a tie is a draw (``winner == 0``).

Speed comes from incremental bookkeeping compiled with numba, never a whole-board flood fill per move:

* every stone points at its group's head, and stones of a group form a circular linked list, so merging and
  capturing touch only the stones involved;
* each group keeps *pseudo-liberties* (one per stone/empty-neighbour adjacency) as a count, a sum and a sum of
  squares of the empty points' indices. A group is captured when the count reaches zero, and it is in atari (exactly
  one distinct liberty) exactly when ``sum**2 == count * sum_of_squares`` (Cauchy-Schwarz with equality: all the
  counted points are the same point);
* each group keeps the XOR of its stones' Zobrist keys, so the hash of the position after a capture is known before
  the move is made, and superko is one lookup in an open-addressing table of every earlier position's hash.

Actions index the board row-major with row 0 at the top (``action = row * N + col``); ``N * N`` is pass.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from deep_arena.envs.go.coords import GTP_COLUMNS, action_to_gtp

BLACK = 1
WHITE = -1
EMPTY = 0
MIN_SIZE = 5
MAX_SIZE = 19
HISTORY_DEPTH = 8  # boards kept for feature planes (current + 7 earlier)

# Legality codes returned by the compiled checker, and the reasons users see.
LEGAL, OCCUPIED, SUICIDE, SUPERKO = 0, 1, 2, 3
_REASONS = {OCCUPIED: "occupied", SUICIDE: "suicide", SUPERKO: "superko"}


class IllegalMoveError(ValueError):
    """An illegal move. ``reason`` is one of ``"occupied"``, ``"suicide"``, ``"superko"``, ``"game over"``,
    ``"off board"``; ``action`` is the offending action. The game state is unchanged when this is raised."""

    def __init__(self, reason: str, action: object, message: str):
        super().__init__(message)
        self.reason = reason
        self.action = action


# ---------------------------------------------------------------------------------------------------------------
# Per-size constant tables (immutable, so sharing them between games of the same size is safe).

_TABLES: dict[int, tuple[np.ndarray, np.int64]] = {}

# Rows of the packed per-game state array (int64, shape (STATE_ROWS, N*N)). One array instead of many keeps the
# cost of each call into the compiled kernels low, which matters at ~10 us per move.
BOARD, HEAD, NEXT, SIZE, LIB_COUNT, LIB_SUM, LIB_SQUARES, GROUP_HASH, HIST0 = range(9)
STATE_ROWS = HIST0 + HISTORY_DEPTH  # rows HIST0.. hold a ring of recent boards, for feature planes
# Rows of the per-size constant array: four neighbours (-1 padded), then Zobrist keys for Black and White.
ZOBRIST_BLACK, ZOBRIST_WHITE = 4, 5


def _tables(n: int) -> tuple[np.ndarray, np.int64]:
    """Constant array (6, N*N): neighbours and Zobrist keys, and the empty-board hash, for size ``n``."""
    if n not in _TABLES:
        const = np.full((6, n * n), -1, dtype=np.int64)
        for p in range(n * n):
            r, c = divmod(p, n)
            k = 0
            for dr, dc in ((-1, 0), (1, 0), (0, -1), (0, 1)):
                rr, cc = r + dr, c + dc
                if 0 <= rr < n and 0 <= cc < n:
                    const[k, p] = rr * n + cc
                    k += 1
        rng = np.random.default_rng(0x60_60 + n)  # fixed: hashes are reproducible across runs
        const[ZOBRIST_BLACK:] = rng.integers(1, 2**62, size=(2, n * n), dtype=np.int64)
        empty_hash = np.int64(rng.integers(1, 2**62, dtype=np.int64))  # never 0: 0 marks a free table slot
        const.flags.writeable = False
        _TABLES[n] = (const, empty_hash)
    return _TABLES[n]


# ---------------------------------------------------------------------------------------------------------------
# Compiled kernels. State arrays are passed explicitly so that every GoGame owns its own state.


@njit(cache=True, inline="always")
def _zobrist_row(colour):
    return ZOBRIST_BLACK if colour == 1 else ZOBRIST_WHITE


@njit(cache=True, inline="always")
def _table_contains(table, h):
    mask = table.shape[0] - 1
    i = h & mask
    while True:
        v = table[i]
        if v == h:
            return True
        if v == 0:
            return False
        i = (i + 1) & mask


@njit(cache=True)
def _table_insert(table, h):
    mask = table.shape[0] - 1
    i = h & mask
    while True:
        v = table[i]
        if v == h:
            return
        if v == 0:
            table[i] = h
            return
        i = (i + 1) & mask


@njit(cache=True, inline="always")
def _in_atari(g, state):
    c = state[LIB_COUNT, g]
    return c > 0 and state[LIB_SUM, g] * state[LIB_SUM, g] == c * state[LIB_SQUARES, g]


@njit(cache=True, inline="always")
def _legality(p, colour, state, const, table, counts, h, stones):
    """LEGAL, OCCUPIED, SUICIDE or SUPERKO for ``colour`` playing at point ``p``.

    ``counts[k]`` is how many earlier positions had ``k`` stones: a move can only repeat a position with as many
    stones as it leaves, so most moves need no table lookup (a game's stone count mostly grows)."""
    if state[BOARD, p] != 0:
        return OCCUPIED
    new_hash = h ^ const[_zobrist_row(colour), p]
    has_liberty = False
    captures = False
    captured_stones = 0
    seen0 = -1
    seen1 = -1
    seen2 = -1
    for k in range(4):
        q = const[k, p]
        if q < 0:
            break
        v = state[BOARD, q]
        if v == 0:
            has_liberty = True
            continue
        g = state[HEAD, q]
        if g == seen0 or g == seen1 or g == seen2:
            continue
        if seen0 < 0:
            seen0 = g
        elif seen1 < 0:
            seen1 = g
        else:
            seen2 = g
        atari = _in_atari(g, state)  # its only liberty is then p itself
        if v == colour:
            if not atari:
                has_liberty = True
        elif atari:
            captures = True
            new_hash ^= state[GROUP_HASH, g]
            captured_stones += state[SIZE, g]
    if not has_liberty and not captures:
        return SUICIDE
    if counts[stones + 1 - captured_stones] > 0 and _table_contains(table, new_hash):
        return SUPERKO
    return LEGAL


@njit(cache=True)
def _legality_code(p, colour, state, const, table, counts, meta):
    return _legality(p, colour, state, const, table, counts, meta[0], meta[1])


@njit(cache=True)
def _legal_mask(colour, state, const, table, counts, meta, out):
    nn = state.shape[1]
    h = meta[0]
    stones = meta[1]
    for p in range(nn):
        out[p] = state[BOARD, p] == 0 and _legality(p, colour, state, const, table, counts, h, stones) == LEGAL
    out[nn] = True  # pass is always legal


@njit(cache=True)
def _merge(a, b, state):
    """Merge groups with heads ``a`` and ``b``; returns the surviving head (the larger group's)."""
    if state[SIZE, a] < state[SIZE, b]:
        a, b = b, a
    s = b
    while True:
        state[HEAD, s] = a
        s = state[NEXT, s]
        if s == b:
            break
    na = state[NEXT, a]
    state[NEXT, a] = state[NEXT, b]
    state[NEXT, b] = na
    for row in (SIZE, LIB_COUNT, LIB_SUM, LIB_SQUARES):
        state[row, a] += state[row, b]
    state[GROUP_HASH, a] ^= state[GROUP_HASH, b]
    return a


@njit(cache=True)
def _apply(action, colour, hist_slot, state, const, table, counts, meta):
    """Play a legal ``action`` (pass included), record the new board in history row ``hist_slot``, and return
    the number of stones captured."""
    nn = state.shape[1]
    captured = 0
    if action < nn:
        captured = _place(action, colour, state, const, table, counts, meta)
    row = HIST0 + hist_slot
    for i in range(nn):
        state[row, i] = state[BOARD, i]
    return captured


@njit(cache=True, inline="always")
def _place(p, colour, state, const, table, counts, meta):
    zrow = _zobrist_row(colour)
    state[BOARD, p] = colour
    state[HEAD, p] = p
    state[NEXT, p] = p
    state[SIZE, p] = 1
    state[GROUP_HASH, p] = const[zrow, p]
    state[LIB_COUNT, p] = 0
    state[LIB_SUM, p] = 0
    state[LIB_SQUARES, p] = 0
    h = meta[0] ^ const[zrow, p]
    for k in range(4):
        q = const[k, p]
        if q < 0:
            break
        if state[BOARD, q] == 0:
            state[LIB_COUNT, p] += 1
            state[LIB_SUM, p] += q
            state[LIB_SQUARES, p] += q * q
        else:  # every neighbouring group loses p as a (pseudo-)liberty, once per adjacency
            g = state[HEAD, q]
            state[LIB_COUNT, g] -= 1
            state[LIB_SUM, g] -= p
            state[LIB_SQUARES, g] -= p * p
    for k in range(4):
        q = const[k, p]
        if q < 0:
            break
        if state[BOARD, q] == colour and state[HEAD, q] != state[HEAD, p]:
            _merge(state[HEAD, p], state[HEAD, q], state)
    captured = 0
    enemy_row = _zobrist_row(-colour)
    for k in range(4):
        q = const[k, p]
        if q < 0:
            break
        if state[BOARD, q] == -colour:
            eg = state[HEAD, q]
            if state[LIB_COUNT, eg] == 0:
                # Clear every stone first, then give liberties back to the groups that touched them.
                s = eg
                while True:
                    state[BOARD, s] = 0
                    state[HEAD, s] = -1
                    h ^= const[enemy_row, s]
                    captured += 1
                    s = state[NEXT, s]
                    if s == eg:
                        break
                s = eg
                while True:
                    for j in range(4):
                        t = const[j, s]
                        if t < 0:
                            break
                        if state[BOARD, t] != 0:
                            tg = state[HEAD, t]
                            state[LIB_COUNT, tg] += 1
                            state[LIB_SUM, tg] += s
                            state[LIB_SQUARES, tg] += s * s
                    s_next = state[NEXT, s]
                    state[NEXT, s] = s
                    s = s_next
                    if s == eg:
                        break
    meta[0] = h
    meta[1] += 1 - captured
    counts[meta[1]] += 1
    _table_insert(table, h)
    return captured


@njit(cache=True)
def _area(board, const):
    """Tromp-Taylor area: stones plus empty regions that reach only one colour."""
    nn = board.shape[0]
    black = 0
    white = 0
    visited = np.zeros(nn, dtype=np.bool_)
    stack = np.empty(nn, dtype=np.int64)
    for p in range(nn):
        v = board[p]
        if v == 1:
            black += 1
        elif v == -1:
            white += 1
        elif not visited[p]:
            top = 0
            stack[0] = p
            visited[p] = True
            size = 0
            reach_black = False
            reach_white = False
            while top >= 0:
                s = stack[top]
                top -= 1
                size += 1
                for k in range(4):
                    t = const[k, s]
                    if t < 0:
                        break
                    bv = board[t]
                    if bv == 1:
                        reach_black = True
                    elif bv == -1:
                        reach_white = True
                    elif not visited[t]:
                        visited[t] = True
                        top += 1
                        stack[top] = t
            if reach_black and not reach_white:
                black += size
            elif reach_white and not reach_black:
                white += size
    return black, white


# ---------------------------------------------------------------------------------------------------------------


class GoGame:
    """A game of Go under CGOS rules (see the module docstring).

    Args:
        board_size: 5 to 19.
        komi: points added to White's area. A non-integer komi (default 7.5) rules out draws.
        max_moves: moves (passes included) after which the game ends as truncated; default ``2 * N * N``.

    Attributes and methods: ``board`` (int8 N x N: 1 black, -1 white, 0 empty), ``to_play`` (1 or -1),
    ``legal_moves()``, ``legality(action)``, ``play(action)``, ``is_over``, ``is_truncated``, ``score()``,
    ``winner``, ``captures`` (stones captured *by* each colour), ``history`` (actions in order, Black first),
    ``last_move``, ``undo()``, ``copy()``.
    """

    def __init__(self, board_size: int = 9, komi: float = 7.5, max_moves: int | None = None):
        if isinstance(board_size, bool) or not isinstance(board_size, (int, np.integer)):
            raise ValueError(f"board_size must be an integer from {MIN_SIZE} to {MAX_SIZE}, got {board_size!r}")
        if not MIN_SIZE <= board_size <= MAX_SIZE:
            raise ValueError(f"board_size must be from {MIN_SIZE} to {MAX_SIZE}, got {board_size}")
        try:
            komi = float(komi)
        except (TypeError, ValueError):
            raise ValueError(f"komi must be a number, got {komi!r}") from None
        if not np.isfinite(komi):
            raise ValueError(f"komi must be finite, got {komi}")
        n = int(board_size)
        if max_moves is None:
            max_moves = 2 * n * n
        if isinstance(max_moves, bool) or not isinstance(max_moves, (int, np.integer)) or max_moves < 1:
            raise ValueError(f"max_moves must be a positive integer, got {max_moves!r}")
        self.board_size = n
        self.komi = komi
        self.max_moves = int(max_moves)
        self.pass_action = n * n
        self._const, self._empty_hash = _tables(n)
        self._reset_state()

    # -- state ---------------------------------------------------------------------------------------------------

    def _reset_state(self) -> None:
        nn = self.board_size * self.board_size
        # Board, group bookkeeping (head, next stone in a circular list, size; pseudo-liberty count, sum and sum of
        # squares; Zobrist XOR of the stones, all valid at heads) and a ring of recent boards, in one array.
        self._state = np.zeros((STATE_ROWS, nn), dtype=np.int64)
        self._state[HEAD] = -1
        self._state[NEXT] = np.arange(nn)
        self._meta = np.array([self._empty_hash, 0], dtype=np.int64)  # position hash, stones on the board
        # Open addressing needs spare room: at most max_moves + 1 positions are ever stored.
        capacity = 1 << int(np.ceil(np.log2(4 * (self.max_moves + 2))))
        self._seen = np.zeros(capacity, dtype=np.int64)
        _table_insert(self._seen, self._meta[0])
        self._seen_counts = np.zeros(nn + 2, dtype=np.int64)  # earlier positions by number of stones
        self._seen_counts[0] = 1
        self._hist_pos = 0  # history row HIST0 + _hist_pos holds the current board
        self.to_play = BLACK
        self.history: list[int] = []
        self.captures = {BLACK: 0, WHITE: 0}
        self.consecutive_passes = 0
        self.is_over = False
        self.is_truncated = False
        self._mask: np.ndarray | None = None

    def copy(self) -> "GoGame":
        """An independent copy (shares only the immutable per-size tables)."""
        other = GoGame.__new__(GoGame)
        other.__dict__.update(self.__dict__)
        for name in ("_state", "_meta", "_seen", "_seen_counts"):
            setattr(other, name, getattr(self, name).copy())
        other.history = list(self.history)
        other.captures = dict(self.captures)
        other._mask = None if self._mask is None else self._mask.copy()
        return other

    @property
    def board(self) -> np.ndarray:
        """The board as a read-only int8 (N, N) view: 1 black, -1 white, 0 empty; row 0 at the top."""
        view = self._state[BOARD].astype(np.int8).reshape(self.board_size, self.board_size)
        view.flags.writeable = False
        return view

    @property
    def hash(self) -> int:
        """Zobrist hash of the current board (positional: independent of who is to play)."""
        return int(self._meta[0])

    @property
    def last_move(self) -> int | None:
        return self.history[-1] if self.history else None

    @property
    def move_number(self) -> int:
        return len(self.history)

    def recent_boards(self, k: int) -> np.ndarray:
        """The last ``k`` boards (k <= 8), newest first, as int8 (k, N, N); before the first move they are empty."""
        if not 1 <= k <= HISTORY_DEPTH:
            raise ValueError(f"k must be from 1 to {HISTORY_DEPTH}, got {k}")
        idx = (self._hist_pos - np.arange(k)) % HISTORY_DEPTH
        boards = self._state[HIST0 + idx].astype(np.int8).reshape(k, self.board_size, self.board_size)
        available = min(k, len(self.history) + 1)
        boards[available:] = 0
        return boards

    # -- rules ---------------------------------------------------------------------------------------------------

    def legal_moves(self) -> np.ndarray:
        """Bool array of length N*N + 1 (last entry: pass). All False once the game is over."""
        return self._legal_mask_cached().copy()

    def _legal_mask_cached(self) -> np.ndarray:
        if self._mask is None:
            mask = np.empty(self.pass_action + 1, dtype=np.bool_)
            if self.is_over:
                mask[:] = False
            else:
                _legal_mask(self.to_play, self._state, self._const, self._seen, self._seen_counts, self._meta, mask)
            self._mask = mask
        return self._mask

    def legality(self, action: int) -> str | None:
        """``None`` if ``action`` is legal for the player to move, else the reason it is not."""
        if isinstance(action, bool) or not isinstance(action, (int, np.integer)):
            return "off board"
        if not 0 <= action <= self.pass_action:
            return "off board"
        if self.is_over:
            return "game over"
        if action == self.pass_action:
            return None
        if self._mask is not None and self._mask[action]:
            return None
        code = _legality_code(int(action), self.to_play, self._state, self._const, self._seen, self._seen_counts,
                              self._meta)
        return _REASONS.get(code)

    def is_legal(self, action: int) -> bool:
        return self.legality(action) is None

    def play(self, action: int) -> int:
        """Play ``action`` for the player to move; returns the number of stones it captured.

        Raises ``IllegalMoveError`` (state unchanged) for an occupied point, suicide, a superko repetition, a move
        after the game ended, or an action off the board.
        """
        mask = self._mask
        # Fast path: the legal-move mask of this position is already known (envs build it for every observation).
        if not (mask is not None and type(action) is int and 0 <= action < mask.shape[0] and mask[action]):
            reason = self.legality(action)
            if reason is not None:
                raise IllegalMoveError(reason, action, self._explain(action, reason))
            action = int(action)
        colour = self.to_play
        if action == self.pass_action:
            self.consecutive_passes += 1
        else:
            self.consecutive_passes = 0
        self._hist_pos = (self._hist_pos + 1) % HISTORY_DEPTH
        captured = _apply(action, colour, self._hist_pos, self._state, self._const, self._seen, self._seen_counts,
                          self._meta)
        if captured:
            self.captures[colour] += captured
        self.history.append(action)
        self.to_play = -colour
        self._mask = None
        if self.consecutive_passes >= 2:
            self.is_over = True
        elif len(self.history) >= self.max_moves:
            self.is_over = True
            self.is_truncated = True
        return captured

    def _explain(self, action: object, reason: str) -> str:
        who = "Black" if self.to_play == BLACK else "White"
        if reason == "off board":
            return (f"action {action!r} is not a move on a {self.board_size}x{self.board_size} board "
                    f"(use 0..{self.pass_action - 1} for points, {self.pass_action} to pass)")
        where = action_to_gtp(int(action), self.board_size)
        if reason == "game over":
            return f"cannot play {where}: the game is over"
        details = {
            "occupied": "the point is occupied",
            "suicide": "it would leave the stone's own group without liberties (suicide)",
            "superko": "it would recreate an earlier whole-board position (positional superko)",
        }
        return f"{who} cannot play {where}: {details[reason]}"

    def undo(self) -> int:
        """Take back the last move (by replaying the rest); returns the undone action."""
        if not self.history:
            raise ValueError("no move to undo")
        moves = self.history[:-1]
        last = self.history[-1]
        self._reset_state()
        for a in moves:
            self.play(a)
        return last

    # -- scoring -------------------------------------------------------------------------------------------------

    def area(self) -> tuple[int, int]:
        """(black, white) Tromp-Taylor area: stones plus empty regions bordering only that colour."""
        b, w = _area(self._state[BOARD], self._const)
        return int(b), int(w)

    def score(self) -> float:
        """Tromp-Taylor score of the current board: black area - white area - komi."""
        b, w = self.area()
        return b - w - self.komi

    @property
    def winner(self) -> int:
        """1 (Black), -1 (White) or 0 (draw) by the score of the current board."""
        s = self.score()
        return 1 if s > 0 else (-1 if s < 0 else 0)

    def __repr__(self) -> str:
        return (f"GoGame(board_size={self.board_size}, komi={self.komi}, moves={len(self.history)}, "
                f"to_play={'black' if self.to_play == BLACK else 'white'}, over={self.is_over})")

    def __str__(self) -> str:
        n = self.board_size
        cols = " ".join(GTP_COLUMNS[:n])
        lines = [f"   {cols}"]
        for r in range(n):
            row = " ".join(".XO"[int(v)] for v in self._state[BOARD, r * n:(r + 1) * n])
            lines.append(f"{n - r:2d} {row} {n - r}")
        lines.append(f"   {cols}")
        return "\n".join(lines)
