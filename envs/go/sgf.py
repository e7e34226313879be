"""Reading and writing Go game records in SGF (Smart Game Format, FF[4]).

Writing: :func:`game_to_sgf` / :func:`save_sgf` turn a finished or unfinished :class:`~envs.go.game.GoGame`
into a single-line-per-few-moves SGF record that other Go programs (Sabaki, GoGui, KGS, CGOS viewers) open.

Reading: :func:`parse_sgf` is a real parser for the SGF grammar (collections, nested variations, escapes,
soft line breaks, arbitrary whitespace). It follows the *main line* (the first variation at every branch)
and returns an :class:`SGFGame`; :func:`sgf_to_game` / :func:`load_sgf` replay that line on a ``GoGame``.

Everything that goes wrong with the input raises :class:`SGFError` (a ``ValueError``) with a message that
names the problem and, where it helps, the line/column or the move number -- never an ``IndexError`` or
``KeyError`` from deep inside. Features our engine cannot represent (setup stones ``AB``/``AW``/``AE``,
handicap placement, non-square boards, sizes outside 5..19) are rejected with an explicit "not supported".

This module is pure Python on purpose (no pygame / gymnasium) so that tooling can use it anywhere.
"""

from __future__ import annotations

import datetime as _dt
import math
import os
import re
from dataclasses import dataclass, field
from typing import Union

from deep_arena.envs.go.coords import action_to_gtp, action_to_sgf, sgf_to_action
from deep_arena.envs.go.game import BLACK, WHITE, GoGame, IllegalMoveError

__all__ = [
    "SGFError",
    "SGFGame",
    "game_to_sgf",
    "save_sgf",
    "parse_sgf",
    "sgf_to_game",
    "load_sgf",
    "read_sgf",
    "result_string",
    "MIN_SIZE",
    "MAX_SIZE",
]

MIN_SIZE = 5
MAX_SIZE = 19  # SGF points are single letters a..s here; the engine supports 5..19

APPLICATION = "DeepArena:0.1.0"
RULES = "Chinese"
# RU[Chinese] is the closest standard name; the exact rules live in GC so nobody has to guess.
RULES_NOTE = (
    "Rules: Tromp-Taylor area scoring as on CGOS (stones + surrounded empty points), "
    "positional superko, suicide illegal, game ends after two consecutive passes."
)

_COLOUR_LETTER = {BLACK: "B", WHITE: "W"}
_LETTER_COLOUR = {"B": BLACK, "W": WHITE}
_SETUP_PROPERTIES = ("AB", "AW", "AE")
# Text-typed properties keep their line breaks; every other property is SimpleText-like (breaks -> spaces).
_TEXT_PROPERTIES = frozenset({"C", "GC"})


class SGFError(ValueError):
    """The SGF text is malformed or describes something this engine does not support."""


@dataclass
class SGFGame:
    """The main line of an SGF game record, decoded.

    ``moves`` holds ``(colour, action)`` pairs in order, with ``colour`` ``BLACK`` (1) or ``WHITE`` (-1) and
    ``action`` in the engine's numbering (``row * N + col``, ``N * N`` = pass).
    ``properties`` keeps every root property (first value of each, unescaped) for anything not decoded here.
    """

    board_size: int = 19
    komi: float = 0.0
    players: dict[int, str | None] = field(default_factory=lambda: {BLACK: None, WHITE: None})
    result: str | None = None
    date: str | None = None
    rules: str | None = None
    comment: str | None = None
    moves: list[tuple[int, int]] = field(default_factory=list)
    move_comments: dict[int, str] = field(default_factory=dict)  # 1-based move number -> C[] on that node
    properties: dict[str, str] = field(default_factory=dict)

    @property
    def black(self) -> str | None:
        return self.players.get(BLACK)

    @property
    def white(self) -> str | None:
        return self.players.get(WHITE)

    def to_game(self, max_moves: int | None = None) -> GoGame:
        """Replay the moves on a fresh :class:`GoGame` (see :func:`sgf_to_game`)."""
        return sgf_to_game(self, max_moves=max_moves)


# --------------------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------------------


def _number(value: float) -> str:
    """Shortest exact text for komi / score: ``7.5`` -> "7.5", ``3.0`` -> "3"."""
    text = repr(float(value))
    return text[:-2] if text.endswith(".0") else text


def result_string(score: float) -> str:
    """SGF ``RE`` value for a final area score (black minus white minus komi): ``B+3.5``, ``W+0.5`` or ``0``."""
    if not math.isfinite(score):
        raise ValueError(f"score must be finite, got {score!r}")
    if score > 0:
        return f"B+{_number(score)}"
    if score < 0:
        return f"W+{_number(-score)}"
    return "0"  # FF[4] spelling of a draw (jigo); "Draw" is also read


def _escape(text: str) -> str:
    """Escape a text value: only ``\\`` and ``]`` are special inside ``[...]``."""
    return text.replace("\\", "\\\\").replace("]", "\\]")


def game_to_sgf(
    game: GoGame,
    black: str = "Black",
    white: str = "White",
    result: str | None = None,
    date: str | _dt.date | None = None,
    comment: str | None = None,
) -> str:
    """Serialise ``game`` (its size, komi and move history) as an FF[4] SGF string.

    ``result`` defaults to the Tromp-Taylor result (``B+3.5`` / ``W+0.5`` / ``0``) when the game is over
    and to ``?`` (unknown) while it is still running. ``date`` defaults to today (``YYYY-MM-DD``).
    """
    size = game.board_size
    if result is None:
        result = result_string(game.score()) if game.is_over else "?"
    if date is None:
        date = _dt.date.today()
    if isinstance(date, _dt.date):
        date = date.isoformat()

    root = [
        ("FF", "4"),
        ("GM", "1"),
        ("CA", "UTF-8"),
        ("AP", APPLICATION),
        ("SZ", str(size)),
        ("KM", _number(game.komi)),
        ("RU", RULES),
        ("PB", black),
        ("PW", white),
        ("DT", str(date)),
        ("RE", str(result)),
        ("GC", RULES_NOTE + (" Game stopped at the move limit." if getattr(game, "is_truncated", False) else "")),
    ]
    if comment:
        root.append(("C", comment))
    lines = ["(;" + "".join(f"{key}[{_escape(value)}]" for key, value in root)]

    # Ten moves per line keeps files diff-friendly and readable without a viewer.
    moves = [
        f";{_COLOUR_LETTER[BLACK if i % 2 == 0 else WHITE]}[{action_to_sgf(action, size)}]"
        for i, action in enumerate(game.history)
    ]
    lines.extend("".join(moves[i : i + 10]) for i in range(0, len(moves), 10))
    return "\n".join(lines) + ")\n"


def save_sgf(game: GoGame, path: str | os.PathLike[str], **kw: object) -> None:
    """Write :func:`game_to_sgf` ``(game, **kw)`` to ``path`` as UTF-8."""
    text = game_to_sgf(game, **kw)  # type: ignore[arg-type]
    with open(path, "w", encoding="utf-8", newline="\n") as fh:
        fh.write(text)


# --------------------------------------------------------------------------------------------------
# Parsing: text -> tree of nodes
# --------------------------------------------------------------------------------------------------


@dataclass
class _Node:
    props: dict[str, list[str]]
    pos: int  # offset of the ';' for error messages


@dataclass
class _Tree:
    nodes: list[_Node] = field(default_factory=list)
    children: list["_Tree"] = field(default_factory=list)


class _Parser:
    """Recursive-descent parser for the SGF grammar, written iteratively.

    A game with a variation at every move nests thousands of ``(`` deep; an explicit stack avoids
    Python's recursion limit turning such a file into a ``RecursionError``.
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def where(self, pos: int | None = None) -> str:
        pos = self.pos if pos is None else pos
        line = self.text.count("\n", 0, pos) + 1
        col = pos - (self.text.rfind("\n", 0, pos) + 1) + 1
        return f"line {line}, column {col}"

    def error(self, message: str, pos: int | None = None) -> SGFError:
        return SGFError(f"{message} (at {self.where(pos)})")

    def skip_ws(self) -> None:
        text, n = self.text, len(self.text)
        while self.pos < n and text[self.pos].isspace():
            self.pos += 1

    def parse(self) -> list[_Tree]:
        text, n = self.text, len(self.text)
        start = text.find("(")
        if start < 0 or not text[start + 1 :].lstrip().startswith(";"):
            raise SGFError("not an SGF game record: expected it to start with '(;'")
        # Anything before the first '(' is ignored, as the SGF spec allows (mail headers and the like).
        self.pos = start
        roots: list[_Tree] = []
        stack: list[_Tree] = []
        open_at: list[int] = []
        while True:
            self.skip_ws()
            if self.pos >= n:
                break
            ch = text[self.pos]
            if ch == "(":
                tree = _Tree()
                if stack:
                    if not stack[-1].nodes:
                        raise self.error("variation '(' must follow at least one node")
                    stack[-1].children.append(tree)
                else:
                    roots.append(tree)
                stack.append(tree)
                open_at.append(self.pos)
                self.pos += 1
                self.skip_ws()
                if self.pos >= n or text[self.pos] != ";":
                    raise self.error("expected ';' to start a node after '('")
            elif ch == ")":
                if not stack:
                    raise self.error("unbalanced ')': no game tree is open")
                stack.pop()
                open_at.pop()
                self.pos += 1
            elif ch == ";":
                if not stack:
                    raise self.error("node ';' outside a game tree")
                if stack[-1].children:
                    raise self.error("node ';' after a variation; nodes must come before sub-trees")
                stack[-1].nodes.append(self.parse_node())
            elif not stack:
                raise self.error(f"unexpected text {ch!r} after the game tree")
            elif ch in "[]":
                raise self.error(f"unexpected {ch!r} outside a property value (missing property name?)")
            else:
                raise self.error(f"unexpected character {ch!r}")
        if stack:
            raise SGFError(
                f"unbalanced parentheses: {len(stack)} game tree(s) not closed with ')' "
                f"(innermost opened at {self.where(open_at[-1])})"
            )
        return roots

    def parse_node(self) -> _Node:
        text, n = self.text, len(self.text)
        node = _Node(props={}, pos=self.pos)
        self.pos += 1  # the ';'
        while True:
            self.skip_ws()
            if self.pos >= n or not _is_ascii_letter(text[self.pos]):
                return node
            ident_at = self.pos
            while self.pos < n and _is_ascii_letter(text[self.pos]):
                self.pos += 1
            raw_ident = text[ident_at : self.pos]
            # FF[1]-FF[3] allowed lower-case letters inside names (e.g. "AddBlack" == "AB"); they don't count.
            ident = "".join(c for c in raw_ident if c.isupper())
            if not ident:
                raise self.error(f"invalid property name {raw_ident!r} (needs upper-case letters)", ident_at)
            if ident in node.props:
                raise self.error(f"property {ident} appears twice in one node", ident_at)
            values: list[str] = []
            self.skip_ws()
            while self.pos < n and text[self.pos] == "[":
                values.append(self.parse_value(ident))
                self.skip_ws()
            if not values:
                raise self.error(f"property {ident} has no value ('[' expected)", ident_at)
            node.props[ident] = values

    def parse_value(self, ident: str) -> str:
        """Read ``[...]`` at ``self.pos`` and return its unescaped content."""
        text, n = self.text, len(self.text)
        opened = self.pos
        self.pos += 1
        out: list[str] = []
        while True:
            if self.pos >= n:
                raise self.error(f"unterminated value of property {ident}: missing ']'", opened)
            ch = text[self.pos]
            if ch == "]":
                self.pos += 1
                return "".join(out)
            if ch == "\\":
                self.pos += 1
                if self.pos >= n:
                    raise self.error(f"unterminated value of property {ident}: missing ']'", opened)
                nxt = text[self.pos]
                self.pos += 1
                if nxt in "\r\n":
                    # Escaped line break = "soft" line break: removed. Swallow the partner of \r\n / \n\r.
                    if self.pos < n and text[self.pos] in "\r\n" and text[self.pos] != nxt:
                        self.pos += 1
                    continue
                out.append(nxt)
            else:
                out.append(ch)
                self.pos += 1


def _is_ascii_letter(ch: str) -> bool:
    return ("A" <= ch <= "Z") or ("a" <= ch <= "z")


def _decode_text(ident: str, value: str) -> str:
    """Apply the SGF whitespace rules for text values (escapes were already resolved by the parser)."""
    value = value.replace("\r\n", "\n").replace("\n\r", "\n").replace("\r", "\n")
    if ident in _TEXT_PROPERTIES:
        return re.sub(r"[^\S\n]", " ", value)  # other whitespace -> space, line breaks kept
    return re.sub(r"\s", " ", value).strip()  # SimpleText: no line breaks at all


# --------------------------------------------------------------------------------------------------
# Parsing: tree -> SGFGame
# --------------------------------------------------------------------------------------------------


def _main_line(tree: _Tree) -> list[_Node]:
    nodes = list(tree.nodes)
    while tree.children:
        tree = tree.children[0]  # the first variation is the main line by SGF convention
        nodes.extend(tree.nodes)
    return nodes


def _single(node: _Node, ident: str, where: str) -> str:
    values = node.props[ident]
    if len(values) != 1:
        raise SGFError(f"{ident} must have exactly one value, got {len(values)} ({where})")
    return values[0]


def _is_whole_number(text: str) -> bool:
    # ASCII digits only: str.isdigit() also accepts characters such as "²" that int() rejects.
    return re.fullmatch(r"[0-9]{1,6}", text) is not None


def _parse_size(value: str) -> int:
    text = value.strip()
    if ":" in text:  # FF[4] allows "columns:rows"
        cols, _, rows = text.partition(":")
        if cols.strip() != rows.strip():
            raise SGFError(f"SZ[{value}]: non-square boards are not supported")
        text = cols.strip()
    if not _is_whole_number(text):
        raise SGFError(f"SZ[{value}]: board size must be a whole number")
    size = int(text)
    if not MIN_SIZE <= size <= MAX_SIZE:
        raise SGFError(f"SZ[{value}]: board size {size} is not supported (must be {MIN_SIZE}..{MAX_SIZE})")
    return size


def _parse_komi(value: str) -> float:
    text = value.strip()
    try:
        komi = float(text) if text else 0.0
    except ValueError:
        raise SGFError(f"KM[{value}]: komi must be a number") from None
    if not math.isfinite(komi):
        raise SGFError(f"KM[{value}]: komi must be finite")
    return komi


def parse_sgf(text: str) -> SGFGame:
    """Parse SGF ``text`` and decode the main line of its first game.

    Raises :class:`SGFError` for malformed input and for unsupported features (see module docstring).
    """
    if not isinstance(text, str):
        raise SGFError(f"SGF text must be a str, got {type(text).__name__}")
    trees = _Parser(text).parse()
    if not trees:  # pragma: no cover - parse() guarantees at least one tree
        raise SGFError("no game tree found")
    nodes = _main_line(trees[0])
    root = nodes[0]

    game = SGFGame()
    game.properties = {key: _decode_text(key, values[0]) for key, values in root.props.items()}

    if "GM" in root.props and _single(root, "GM", "root").strip() != "1":
        raise SGFError(f"GM[{root.props['GM'][0]}]: not a Go game record (GM[1] expected)")
    if "SZ" in root.props:
        game.board_size = _parse_size(_single(root, "SZ", "root"))
    if "KM" in root.props:
        game.komi = _parse_komi(_single(root, "KM", "root"))
    if "HA" in root.props:
        handicap = root.props["HA"][0].strip()
        if not _is_whole_number(handicap):
            raise SGFError(f"HA[{handicap}]: handicap must be a whole number")
        if int(handicap) >= 2:
            raise SGFError(f"HA[{handicap}]: handicap games are not supported")
    game.players = {BLACK: game.properties.get("PB"), WHITE: game.properties.get("PW")}
    game.result = game.properties.get("RE")
    game.date = game.properties.get("DT")
    game.rules = game.properties.get("RU")
    game.comment = game.properties.get("C")

    size = game.board_size
    for index, node in enumerate(nodes):
        where = "root node" if index == 0 else f"node {index}"
        setup = [key for key in _SETUP_PROPERTIES if key in node.props]
        if setup:
            raise SGFError(
                f"setup stones ({'/'.join(setup)}) are not supported, only plain B/W moves ({where})"
            )
        if index > 0 and "SZ" in node.props:
            raise SGFError(f"SZ may only appear in the root node ({where})")
        colours = [key for key in ("B", "W") if key in node.props]
        if not colours:
            continue
        number = len(game.moves) + 1
        if len(colours) == 2:
            raise SGFError(f"move {number}: node has both a B and a W move ({where})")
        letter = colours[0]
        colour = _LETTER_COLOUR[letter]
        expected = BLACK if number == 1 else -game.moves[-1][0]
        if colour != expected:
            raise SGFError(
                f"move {number} is {letter} but {_COLOUR_LETTER[expected]} should play: "
                "colours must alternate starting with Black"
            )
        point = _single(node, letter, f"move {number}").strip()
        try:
            action = sgf_to_action(point, size)
        except ValueError as exc:
            raise SGFError(f"move {number} ({letter}[{point}]): bad coordinate: {exc}") from None
        game.moves.append((colour, action))
        if "C" in node.props:
            game.move_comments[number] = _decode_text("C", node.props["C"][0])
    return game


# --------------------------------------------------------------------------------------------------
# Replaying
# --------------------------------------------------------------------------------------------------


def sgf_to_game(source: Union[str, SGFGame], max_moves: int | None = None) -> GoGame:
    """Build a :class:`GoGame` by replaying the main line of an SGF string (or parsed :class:`SGFGame`).

    ``max_moves`` defaults to the engine default (``2 * N * N``), raised if needed so that a long record
    still fits. An illegal move raises :class:`SGFError` naming the move number, colour, vertex and reason.
    """
    record = parse_sgf(source) if isinstance(source, str) else source
    size = record.board_size
    if max_moves is None and len(record.moves) > 2 * size * size:
        max_moves = len(record.moves)
    game = GoGame(board_size=size, komi=record.komi, max_moves=max_moves)
    for number, (colour, action) in enumerate(record.moves, start=1):
        letter = _COLOUR_LETTER.get(colour, "?")
        vertex = action_to_gtp(action, size) if 0 <= action <= size * size else str(action)
        if colour != game.to_play:
            raise SGFError(f"move {number} ({letter} {vertex}): it is not {letter}'s turn")
        try:
            game.play(action)
        except IllegalMoveError as exc:
            reason = getattr(exc, "reason", None) or "illegal"
            point = action_to_sgf(action, size) if 0 <= action <= size * size else "?"
            raise SGFError(f"move {number} ({letter} {vertex}, SGF [{point}]) is illegal: {reason}: {exc}") from exc
    return game


def _read_text(path: str | os.PathLike[str]) -> str:
    """Read an SGF file, honouring a non-UTF-8 ``CA[...]`` charset if UTF-8 decoding fails."""
    with open(path, "rb") as fh:
        data = fh.read()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    # CA is ASCII inside the file, so latin-1 (which never fails) is a safe way to look for it.
    match = re.search(r"CA\s*\[([^\]]*)\]", data.decode("latin-1"))
    if match:
        try:
            return data.decode(match.group(1).strip())
        except (LookupError, UnicodeDecodeError):
            pass
    return data.decode("latin-1")


def read_sgf(path: str | os.PathLike[str]) -> SGFGame:
    """Read and parse an SGF file without replaying it (names, result, comments, moves)."""
    return parse_sgf(_read_text(path))


def load_sgf(path: str | os.PathLike[str], max_moves: int | None = None) -> GoGame:
    """Read an SGF file and replay its main line (see :func:`sgf_to_game`)."""
    return sgf_to_game(_read_text(path), max_moves=max_moves)
