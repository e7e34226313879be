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

_TABLES: dict[int, tuple[np.ndarray, np.ndarray, np.uint64]] = {}


def _tables(n: int) -> tuple[np.ndarray, np.ndarray, np.uint64]:
    """Neighbour table (NN, 4; -1 padded), Zobrist keys (NN, 2) and the empty-board hash for size ``n``."""
    if n not in _TABLES:
        nbrs = np.full((n * n, 4), -1, dtype=np.int32)
        for p in range(n * n):
            r, c = divmod(p, n)
            k = 0
            for dr, dc in ((-1, 0), (1, 0), (0, -1), (0, 1)):
                rr, cc = r + dr, c + dc
                if 0 <= rr < n and 0 <= cc < n:
                    nbrs[p, k] = rr * n + cc
                    k += 1
        rng = np.random.default_rng(0x60_60 + n)  # fixed: hashes are reproducible across runs
        zobrist = rng.integers(1, 2**63, size=(n * n, 2), dtype=np.int64).astype(np.uint64)
        empty_hash = np.uint64(rng.integers(1, 2**63, dtype=np.int64))
        _TABLES[n] = (nbrs, zobrist, empty_hash)
    return _TABLES[n]


# ---------------------------------------------------------------------------------------------------------------
# Compiled kernels. State arrays are passed explicitly so that every GoGame owns its own state.


@njit(cache=True, inline="always")
def _colour_index(colour):
    return 0 if colour == 1 else 1


@njit(cache=True, inline="always")
def _table_contains(table, h):
    mask = table.shape[0] - 1
    i = np.int64(h & np.uint64(mask))
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
    i = np.int64(h & np.uint64(mask))
    while True:
        v = table[i]
        if v == h:
            return
        if v == 0:
            table[i] = h
            return
        i = (i + 1) & mask


@njit(cache=True, inline="always")
def _in_atari(g, libs):
    c = libs[0, g]
    return c > 0 and libs[1, g] * libs[1, g] == c * libs[2, g]


@njit(cache=True, inline="always")
def _legality(p, colour, board, groups, libs, ghash, nbrs, zobrist, h, table):
    """LEGAL, OCCUPIED, SUICIDE or SUPERKO for ``colour`` playing at point ``p``."""
    if board[p] != 0:
        return OCCUPIED
    new_hash = h ^ zobrist[p, _colour_index(colour)]
    has_liberty = False
    captures = False
    seen0 = -1
    seen1 = -1
    seen2 = -1
    for k in range(4):
        q = nbrs[p, k]
        if q < 0:
            break
        v = board[q]
        if v == 0:
            has_liberty = True
            continue
        g = groups[0, q]
        if g == seen0 or g == seen1 or g == seen2:
            continue
        if seen0 < 0:
            seen0 = g
        elif seen1 < 0:
            seen1 = g
        else:
            seen2 = g
        atari = _in_atari(g, libs)  # its only liberty is then p itself
        if v == colour:
            if not atari:
                has_liberty = True
        elif atari:
            captures = True
            new_hash ^= ghash[g]
    if not has_liberty and not captures:
        return SUICIDE
    if _table_contains(table, new_hash):
        return SUPERKO
    return LEGAL


@njit(cache=True)
def _legality_code(p, colour, board, groups, libs, ghash, nbrs, zobrist, h, table):
    return _legality(p, colour, board, groups, libs, ghash, nbrs, zobrist, h, table)


@njit(cache=True)
def _legal_mask(colour, board, groups, libs, ghash, nbrs, zobrist, h, table, out):
    nn = board.shape[0]
    for p in range(nn):
        out[p] = board[p] == 0 and _legality(p, colour, board, groups, libs, ghash, nbrs, zobrist, h, table) == LEGAL
    out[nn] = True  # pass is always legal


@njit(cache=True)
def _merge(a, b, groups, libs, ghash):
    """Merge groups with heads ``a`` and ``b``; returns the surviving head (the larger group's)."""
    head = groups[0]
    nxt = groups[1]
    gsize = groups[2]
    if gsize[a] < gsize[b]:
        a, b = b, a
    s = b
    while True:
        head[s] = a
        s = nxt[s]
        if s == b:
            break
    na = nxt[a]
    nxt[a] = nxt[b]
    nxt[b] = na
    gsize[a] += gsize[b]
    for i in range(3):
        libs[i, a] += libs[i, b]
    ghash[a] ^= ghash[b]
    return a


@njit(cache=True)
def _apply(action, colour, board, groups, libs, ghash, nbrs, zobrist, hash_box, table, board_hist, hist_pos):
    """Play a legal ``action`` (pass included), record the new board in slot ``hist_pos`` of the history ring,
    and return the number of stones captured."""
    nn = board.shape[0]
    captured = 0
    if action < nn:
        captured = _place(action, colour, board, groups, libs, ghash, nbrs, zobrist, hash_box, table)
    for i in range(nn):
        board_hist[hist_pos, i] = board[i]
    return captured


@njit(cache=True, inline="always")
def _place(p, colour, board, groups, libs, ghash, nbrs, zobrist, hash_box, table):
    head = groups[0]
    nxt = groups[1]
    ci = _colour_index(colour)
    board[p] = colour
    head[p] = p
    nxt[p] = p
    groups[2, p] = 1
    ghash[p] = zobrist[p, ci]
    libs[0, p] = 0
    libs[1, p] = 0
    libs[2, p] = 0
    h = hash_box[0] ^ zobrist[p, ci]
    pp = np.int64(p)
    for k in range(4):
        q = nbrs[p, k]
        if q < 0:
            break
        if board[q] == 0:
            qq = np.int64(q)
            libs[0, p] += 1
            libs[1, p] += qq
            libs[2, p] += qq * qq
        else:  # every neighbouring group loses p as a (pseudo-)liberty, once per adjacency
            g = head[q]
            libs[0, g] -= 1
            libs[1, g] -= pp
            libs[2, g] -= pp * pp
    for k in range(4):
        q = nbrs[p, k]
        if q < 0:
            break
        if board[q] == colour and head[q] != head[p]:
            _merge(head[p], head[q], groups, libs, ghash)
    captured = 0
    enemy_index = 1 - ci
    for k in range(4):
        q = nbrs[p, k]
        if q < 0:
            break
        if board[q] == -colour:
            eg = head[q]
            if libs[0, eg] == 0:
                # Clear every stone first, then give liberties back to the groups that touched them.
                s = eg
                while True:
                    board[s] = 0
                    head[s] = -1
                    h ^= zobrist[s, enemy_index]
                    captured += 1
                    s = nxt[s]
                    if s == eg:
                        break
                s = eg
                while True:
                    ss = np.int64(s)
                    for j in range(4):
                        t = nbrs[s, j]
                        if t < 0:
                            break
                        if board[t] != 0:
                            tg = head[t]
                            libs[0, tg] += 1
                            libs[1, tg] += ss
                            libs[2, tg] += ss * ss
                    s_next = nxt[s]
                    nxt[s] = s
                    s = s_next
                    if s == eg:
                        break
    hash_box[0] = h
    _table_insert(table, h)
    return captured


@njit(cache=True)
def _area(board, nbrs):
    """Tromp-Taylor area: stones plus empty regions that reach only one colour."""
    nn = board.shape[0]
    black = 0
    white = 0
    visited = np.zeros(nn, dtype=np.bool_)
    stack = np.empty(nn, dtype=np.int32)
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
                    t = nbrs[s, k]
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
        self._nbrs, self._zobrist, self._empty_hash = _tables(n)
        self._reset_state()

    # -- state ---------------------------------------------------------------------------------------------------

    def _reset_state(self) -> None:
        nn = self.board_size * self.board_size
        self._board = np.zeros(nn, dtype=np.int8)
        # Group bookkeeping, packed to keep kernel calls cheap: rows are head, next stone (circular list), size.
        self._groups = np.zeros((3, nn), dtype=np.int32)
        self._groups[0] = -1
        self._groups[1] = np.arange(nn)
        # Pseudo-liberties of each group (valid at heads): count, sum of points, sum of squared points.
        self._libs = np.zeros((3, nn), dtype=np.int64)
        self._ghash = np.zeros(nn, dtype=np.uint64)
        self._hash = np.array([self._empty_hash], dtype=np.uint64)
        # Open addressing needs spare room: at most max_moves + 1 positions are ever stored.
        capacity = 1 << int(np.ceil(np.log2(4 * (self.max_moves + 2))))
        self._seen = np.zeros(capacity, dtype=np.uint64)
        _table_insert(self._seen, self._hash[0])
        # Ring buffer of recent boards for feature planes; slot `_hist_pos` holds the current board.
        self._board_hist = np.zeros((HISTORY_DEPTH, nn), dtype=np.int8)
        self._hist_pos = 0
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
        for name in ("_board", "_groups", "_libs", "_ghash", "_hash", "_seen", "_board_hist"):
            setattr(other, name, getattr(self, name).copy())
        other.history = list(self.history)
        other.captures = dict(self.captures)
        other._mask = None if self._mask is None else self._mask.copy()
        return other

    @property
    def board(self) -> np.ndarray:
        """The board as a read-only int8 (N, N) view: 1 black, -1 white, 0 empty; row 0 at the top."""
        view = self._board.reshape(self.board_size, self.board_size)
        view.flags.writeable = False
        return view

    @property
    def hash(self) -> int:
        """Zobrist hash of the current board (positional: independent of who is to play)."""
        return int(self._hash[0])

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
        boards = self._board_hist[idx].reshape(k, self.board_size, self.board_size)
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
                _legal_mask(self.to_play, self._board, self._groups, self._libs, self._ghash, self._nbrs,
                            self._zobrist, self._hash[0], self._seen, mask)
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
        code = _legality_code(int(action), self.to_play, self._board, self._groups, self._libs, self._ghash,
                              self._nbrs, self._zobrist, self._hash[0], self._seen)
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
        captured = _apply(action, colour, self._board, self._groups, self._libs, self._ghash, self._nbrs,
                          self._zobrist, self._hash, self._seen, self._board_hist, self._hist_pos)
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
        from envs.go.coords import action_to_gtp

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
        b, w = _area(self._board, self._nbrs)
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
        from envs.go.coords import GTP_COLUMNS

        n = self.board_size
        cols = " ".join(GTP_COLUMNS[:n])
        lines = [f"   {cols}"]
        for r in range(n):
            row = " ".join(".XO"[int(v)] for v in self._board[r * n:(r + 1) * n])
            lines.append(f"{n - r:2d} {row} {n - r}")
        lines.append(f"   {cols}")
        return "\n".join(lines)
