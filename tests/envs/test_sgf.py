"""SGF writing, parsing and replay (envs/go/sgf.py)."""

from __future__ import annotations

import numpy as np
import pytest

from deep_arena.envs.go.coords import gtp_to_action, sgf_to_action
from deep_arena.envs.go.game import BLACK, WHITE, GoGame
from deep_arena.envs.go.sgf import (
    SGFError,
    SGFGame,
    game_to_sgf,
    load_sgf,
    parse_sgf,
    read_sgf,
    result_string,
    save_sgf,
    sgf_to_game,
)


def random_game(size: int, seed: int, max_moves: int | None = None, stop_after: int | None = None) -> GoGame:
    """A random legal game; passes are rare so the board fills up and captures happen."""
    rng = np.random.default_rng(seed)
    game = GoGame(board_size=size, komi=7.5, max_moves=max_moves)
    while not game.is_over and (stop_after is None or len(game.history) < stop_after):
        legal = np.flatnonzero(game.legal_moves())
        points = legal[legal != game.pass_action]
        if len(points) == 0 or rng.random() < 0.03:
            game.play(game.pass_action)
        else:
            game.play(int(rng.choice(points)))
    return game


def assert_same_game(a: GoGame, b: GoGame) -> None:
    assert a.board_size == b.board_size
    assert a.komi == b.komi
    assert a.history == b.history
    np.testing.assert_array_equal(a.board, b.board)
    assert a.to_play == b.to_play
    assert a.is_over == b.is_over
    assert a.score() == b.score()
    assert a.captures == b.captures


# ---------------------------------------------------------------------------------------------- round trips


@pytest.mark.parametrize(
    ("size", "seed", "max_moves"),
    [(5, 0, None), (5, 1, None), (7, 2, None), (9, 3, None), (9, 4, None), (13, 5, 200), (19, 6, 150)],
)
def test_round_trip_random_games(size: int, seed: int, max_moves: int | None) -> None:
    game = random_game(size, seed, max_moves=max_moves)
    assert game.is_over
    text = game_to_sgf(game, black="Bot A", white="Bot B", date="2024-05-01")
    record = parse_sgf(text)

    expected_moves = [(BLACK if i % 2 == 0 else WHITE, a) for i, a in enumerate(game.history)]
    assert record.moves == expected_moves
    assert record.board_size == size
    assert record.komi == game.komi
    assert record.result == result_string(game.score())
    assert record.players == {BLACK: "Bot A", WHITE: "Bot B"}
    assert record.date == "2024-05-01"
    assert record.rules == "Chinese"
    assert "superko" in record.properties["GC"] and "Tromp-Taylor" in record.properties["GC"]

    replayed = sgf_to_game(text, max_moves=max_moves)
    assert_same_game(game, replayed)


def test_round_trip_unfinished_game_has_unknown_result() -> None:
    game = random_game(9, 11, stop_after=17)
    assert not game.is_over
    text = game_to_sgf(game)
    assert "RE[?]" in text
    record = parse_sgf(text)
    assert record.result == "?"
    assert len(record.moves) == 17
    assert_same_game(game, sgf_to_game(text))


def test_passes_are_written_as_empty_values_and_end_the_game() -> None:
    game = GoGame(board_size=9, komi=6.5)
    for vertex in ("E5", "C3", "pass", "pass"):
        game.play(gtp_to_action(vertex, 9))
    text = game_to_sgf(game)
    assert ";B[ee];W[cg];B[];W[])" in text
    assert "KM[6.5]" in text and "SZ[9]" in text
    assert_same_game(game, sgf_to_game(text))


@pytest.mark.parametrize("komi", [0.0, 6.5, 7.5, -3.0, 0.25])
def test_komi_round_trips_exactly(komi: float) -> None:
    game = GoGame(board_size=5, komi=komi)
    game.play(12)
    assert parse_sgf(game_to_sgf(game)).komi == komi


def test_header_fields_and_text_escaping() -> None:
    game = GoGame(board_size=9)
    for action in (40, 20, 81, 81):
        game.play(action)
    text = game_to_sgf(
        game, black="Ann ]x[ \\ B", white="W]\\", result="W+R", date="2023-01-02", comment="line 1\nline ] 2 \\ end"
    )
    # A reader that does not know about escapes would stop at the first raw ']'.
    assert "PB[Ann \\]x[ \\\\ B]" in text
    for token in ("(;FF[4]", "GM[1]", "CA[UTF-8]", "RU[Chinese]", "AP[", "DT[2023-01-02]", "RE[W+R]"):
        assert token in text
    record = parse_sgf(text)
    assert record.black == "Ann ]x[ \\ B"
    assert record.white == "W]\\"
    assert record.result == "W+R"
    assert record.comment == "line 1\nline ] 2 \\ end"


def test_default_result_is_the_tromp_taylor_score() -> None:
    game = GoGame(board_size=5, komi=0.5)
    game.play(12)  # one black stone owns the whole empty board
    game.play(25)
    game.play(25)
    assert game.is_over
    assert "RE[B+24.5]" in game_to_sgf(game)
    assert result_string(-3.5) == "W+3.5"
    assert result_string(2.0) == "B+2"
    assert result_string(0.0) == "0"


def test_save_and_load(tmp_path) -> None:
    game = random_game(9, 21)
    path = tmp_path / "game.sgf"
    save_sgf(game, path, black="Me", white="You", comment="ünïcode ok")
    loaded = load_sgf(path)
    assert_same_game(game, loaded)
    record = read_sgf(str(path))
    assert record.players == {BLACK: "Me", WHITE: "You"}
    assert record.comment == "ünïcode ok"


def test_load_honours_non_utf8_charset(tmp_path) -> None:
    path = tmp_path / "latin.sgf"
    path.write_bytes("(;FF[4]CA[ISO-8859-1]SZ[9]PB[Jos\u00e9];B[ee])".encode("latin-1"))
    assert read_sgf(path).black == "Jos\u00e9"
    assert load_sgf(path).history == [40]


# ---------------------------------------------------------------------------------------------- the parser

HAND_WRITTEN = r"""
Some mail header that precedes the game and is ignored.
(;FF[4]GM[1]SZ[9]KM[6.5]
  PB[Alice \] Smith]PW[Bob\\Jones]RE[W+R]
  C[Root comment with \] bracket,
two lines and a soft\
break]
  ;B[ee]C[first move]
  (;W[cc] ; B [gg] LB[aa:x][bb:y] TR[ab][ba]
     (;W[tt];B[])
     (;W[gc]))
  (;W[gg];B[cc]))
(;FF[4]SZ[19];B[aa])
"""


def test_hand_written_sgf_with_variations_follows_the_main_line() -> None:
    record = parse_sgf(HAND_WRITTEN)
    assert isinstance(record, SGFGame)
    assert record.board_size == 9
    assert record.komi == 6.5
    assert record.black == "Alice ] Smith"
    assert record.white == "Bob\\Jones"
    assert record.result == "W+R"
    assert record.comment == "Root comment with ] bracket,\ntwo lines and a softbreak"
    assert record.move_comments == {1: "first move"}
    # Main line = first variation at each branch: B E5, W C7, B G3, W pass ([tt]), B pass ([]).
    assert record.moves == [
        (BLACK, sgf_to_action("ee", 9)),
        (WHITE, sgf_to_action("cc", 9)),
        (BLACK, sgf_to_action("gg", 9)),
        (WHITE, 81),
        (BLACK, 81),
    ]
    game = sgf_to_game(HAND_WRITTEN)
    assert game.is_over
    assert game.history == [40, 20, 60, 81, 81]


def test_whitespace_and_old_style_property_names() -> None:
    text = "\n\t( ; GaMe[1] SiZe [ 7 ]\n ; B\n[dd]\r\n;W[cc] )\n"
    record = parse_sgf(text)
    assert record.board_size == 7
    assert record.moves == [(BLACK, 24), (WHITE, 16)]


def test_defaults_when_header_is_missing() -> None:
    record = parse_sgf("(;;B[pd];W[dp])")
    assert record.board_size == 19
    assert record.komi == 0.0
    assert record.result is None
    assert record.players == {BLACK: None, WHITE: None}


def test_deeply_nested_variations_do_not_hit_the_recursion_limit() -> None:
    depth = 3000
    text = "(;SZ[9]" + "(;C[x]" * depth + ")" * depth + ")"
    assert parse_sgf(text).moves == []


# ---------------------------------------------------------------------------------------------- errors

MALFORMED = [
    ("", "'(;'"),
    ("just some text", "'(;'"),
    ("(B[aa])", "'(;'"),
    ("(;SZ[9];B[aa]", "unbalanced parentheses"),
    ("(;SZ[9](;B[aa])", "unbalanced parentheses"),
    ("(;SZ[9];B[aa]))", "unbalanced ')'"),
    ("(;SZ[9];B[aa)", "missing ']'"),
    ("(;SZ[9];C[oops\\", "missing ']'"),
    ("(;SZ[9]];B[aa])", "unexpected ']'"),
    ("(;SZ[9];B)", "has no value"),
    ("(;SZ[9];b[aa])", "invalid property name"),
    ("(;SZ[9]SZ[9])", "twice"),
    ("(;SZ[9]) trailing junk", "after the game tree"),
    ("(;SZ[9](;B[aa])(;B[bb]);W[cc])", "after a variation"),
    ("(;SZ[nine])", "SZ[nine]: board size must be a whole number"),
    ("(;SZ[\u00b2])", "whole number"),
    ("(;SZ[4])", "board size 4 is not supported"),
    ("(;SZ[20])", "board size 20 is not supported"),
    ("(;SZ[9:13])", "non-square"),
    ("(;SZ[9];SZ[9])", "root node"),
    ("(;GM[2]SZ[9])", "not a Go game"),
    ("(;SZ[9]KM[lots])", "KM[lots]"),
    ("(;SZ[9]KM[nan])", "finite"),
    ("(;SZ[9]HA[3])", "handicap games are not supported"),
    ("(;SZ[9]AB[aa][bb];W[cc])", "setup stones (AB) are not supported"),
    ("(;SZ[9];B[aa];AW[bb])", "setup stones (AW) are not supported"),
    ("(;SZ[9];B[aa];W[bb];AE[aa])", "setup stones (AE) are not supported"),
    ("(;SZ[9];B[zz])", "move 1 (B[zz]): bad coordinate"),
    ("(;SZ[9];B[jj])", "off a 9x9 board"),
    ("(;SZ[9];B[a])", "bad coordinate"),
    ("(;SZ[9];B[AA])", "bad coordinate"),
    ("(;SZ[9];B[aa][bb])", "exactly one value"),
    ("(;SZ[9];B[aa]W[bb])", "both a B and a W"),
    ("(;SZ[9];W[aa])", "move 1 is W but B should play"),
    ("(;SZ[9];B[aa];B[bb])", "move 2 is B but W should play"),
    ("(;SZ[9];B[aa];W[bb];W[cc])", "colours must alternate"),
]


@pytest.mark.parametrize(("text", "fragment"), MALFORMED)
def test_malformed_sgf_raises_sgf_error_with_a_useful_message(text: str, fragment: str) -> None:
    with pytest.raises(SGFError) as info:
        parse_sgf(text)
    assert fragment in str(info.value)
    assert isinstance(info.value, ValueError)


def test_parse_errors_give_a_location() -> None:
    with pytest.raises(SGFError, match=r"unexpected '\]'.*line 3, column 7"):
        parse_sgf("(;SZ[9]\n;B[aa]\n;W[bb]])")


@pytest.mark.parametrize(
    ("text", "fragments"),
    [
        ("(;SZ[9];B[aa];W[aa])", ["move 2", "W A9", "occupied"]),
        ("(;SZ[5];B[ba];W[ee];B[ab];W[aa])", ["move 4", "W A5", "suicide"]),
        # A ko in the upper-left corner: white's immediate recapture at B8 repeats the position.
        ("(;SZ[9];B[ba];W[ca];B[ab];W[db];B[bc];W[cc];B[ii];W[bb];B[cb];W[bb])", ["move 10", "W B8", "superko"]),
        ("(;SZ[9];B[];W[];B[aa])", ["move 3", "game over"]),
    ],
)
def test_illegal_moves_name_the_move_and_vertex(text: str, fragments: list[str]) -> None:
    parse_sgf(text)  # syntactically fine ...
    with pytest.raises(SGFError) as info:
        sgf_to_game(text)  # ... but not playable
    for fragment in fragments:
        assert fragment in str(info.value)


def test_mangled_input_only_ever_raises_sgf_error() -> None:
    """Truncations and random corruptions of a valid record: success or SGFError, never anything else."""
    game = random_game(7, 31)
    text = game_to_sgf(game, comment="a [comment] with \\ escapes")
    rng = np.random.default_rng(0)
    alphabet = list("()[];\\: \nBWABSZKMaszt19")
    candidates = [text[:cut] for cut in range(0, len(text), 7)]
    for _ in range(400):
        chars = list(text)
        for _ in range(int(rng.integers(1, 4))):
            pos = int(rng.integers(len(chars)))
            op = rng.integers(3)
            if op == 0:
                chars[pos] = str(rng.choice(alphabet))
            elif op == 1:
                del chars[pos]
            else:
                chars.insert(pos, str(rng.choice(alphabet)))
        candidates.append("".join(chars))
    for candidate in candidates:
        try:
            sgf_to_game(candidate)
        except SGFError:
            pass


def test_rejects_non_string_input() -> None:
    with pytest.raises(SGFError):
        parse_sgf(b"(;SZ[9])")  # type: ignore[arg-type]
