"""Tests for GTP (envs/go/gtp.py, gtp_protocol.py, gtp_client.py, gnugo.py; scripts/gtp.py) and games with GNU Go."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from deep_arena.envs.go import gnugo, gtp, gtp_client, gtp_protocol
from deep_arena.envs.go.coords import action_to_gtp, gtp_to_action
from deep_arena.envs.go.game import BLACK, WHITE, GoGame
from deep_arena.envs.go.gnugo import RESIGN, GnuGo, gnugo_path
from deep_arena.envs.go.gtp import GTPEngine, random_policy
from deep_arena.envs.go.gtp_client import GTPClient, GTPError, GTPProcessError
from deep_arena.envs.go.gtp_protocol import format_score, parse_colour, parse_score
from deep_arena.envs.go.opponents import random_move

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "gtp.py"

needs_gnugo = pytest.mark.skipif(gnugo_path() is None, reason="GNU Go is not installed (apt-get install gnugo)")

# A ko in the lower-left corner: after Black C2 captures B2, White may not retake at B2 at once.
#     3 . X O
#     2 X O . O
#     1 . X O
#       A B C D
KO_SETUP = ["b B3", "w C3", "b A2", "w B2", "b B1", "w C1", "b J9", "w D2", "b C2"]


def ok(body: str = "", cmd_id: str = "") -> str:
    return f"={cmd_id} {body}\n\n"


def body_of(response: str | None) -> str:
    assert response is not None and response.startswith("=") and response.endswith("\n\n"), response
    return response[1:].lstrip("0123456789")[1:-2]


@pytest.fixture
def engine() -> GTPEngine:
    return GTPEngine(board_size=9, komi=7.5, seed=0)


def play_all(engine: GTPEngine, moves: list[str]) -> None:
    for move in moves:
        assert engine.handle(f"play {move}") == ok(), move


# ---------------------------------------------------------------------------------------------------------------
# Engine: each command's happy path.


def test_identity_commands(engine: GTPEngine) -> None:
    assert engine.handle("protocol_version") == ok("2")
    assert engine.handle("name") == ok("DeepArena")
    assert engine.handle("version") == ok(engine.version)
    named = GTPEngine(name="Tester", version="9.9")
    assert named.handle("name") == ok("Tester")
    assert named.handle("version") == ok("9.9")


def test_list_and_known_commands(engine: GTPEngine) -> None:
    listed = body_of(engine.handle("list_commands")).split("\n")
    required = ["protocol_version", "name", "version", "known_command", "list_commands", "quit", "boardsize",
                "clear_board", "komi", "play", "genmove", "undo", "showboard", "final_score"]
    assert set(required) <= set(listed)
    for command in listed:
        assert engine.handle(f"known_command {command}") == ok("true")
    assert engine.handle("known_command frobnicate") == ok("false")


def test_boardsize_and_clear_board(engine: GTPEngine) -> None:
    engine.handle("play b D4")
    assert engine.handle("boardsize 13") == ok()
    assert engine.game.board_size == 13 and not engine.game.history
    assert engine.handle("play b N13") == ok()
    assert engine.handle("boardsize 5") == ok()
    assert engine.handle("boardsize 19") == ok()
    assert engine.handle("play w T19") == ok()
    assert engine.handle("clear_board") == ok()
    assert engine.game.board_size == 19 and not engine.game.board.any() and engine.game.to_play == BLACK
    assert engine.handle("undo") == "? cannot undo\n\n"


def test_komi(engine: GTPEngine) -> None:
    assert engine.handle("komi 6.5") == ok()
    assert engine.game.komi == 6.5
    assert engine.handle("komi -3") == ok()
    assert engine.game.komi == -3.0
    engine.handle("play b E5")
    assert engine.handle("komi 0") == ok()  # komi may change in mid-game; the stones stay
    assert engine.game.komi == 0.0 and engine.game.history == [gtp_to_action("E5", 9)]
    assert engine.handle("boardsize 7") == ok()
    assert engine.game.komi == 0.0  # boardsize keeps the komi


def test_play_and_board_orientation(engine: GTPEngine) -> None:
    assert engine.handle("play black A1") == ok()
    assert engine.handle("play W j9") == ok()
    assert engine.handle("play b PASS") == ok()
    board = engine.game.board
    assert board[8, 0] == BLACK  # A1 is the lower-left corner, row 0 is the top
    assert board[0, 8] == WHITE
    assert engine.game.history == [72, 8, 81]
    assert engine.game.to_play == WHITE


def test_play_out_of_turn_inserts_a_pass_and_undo_reverts_both(engine: GTPEngine) -> None:
    assert engine.handle("play b D4") == ok()
    assert engine.handle("play b E5") == ok()  # White to move: a white pass goes in between
    g = engine.game
    assert g.history == [gtp_to_action("D4", 9), g.pass_action, gtp_to_action("E5", 9)]
    assert g.to_play == WHITE
    assert engine.handle("undo") == ok()
    assert g is engine.game and engine.game.history == [gtp_to_action("D4", 9)]
    assert engine.game.to_play == WHITE
    # Handicap-style setup: three black stones, then White moves.
    engine.handle("clear_board")
    play_all(engine, ["b D4", "b F6", "b D6", "w E5"])
    assert int((engine.game.board == BLACK).sum()) == 3 and int((engine.game.board == WHITE).sum()) == 1
    # genmove out of turn too.
    assert engine.game.to_play == BLACK
    vertex = body_of(engine.handle("genmove w"))
    assert vertex != "pass" and engine.game.history[-2] == engine.game.pass_action
    assert engine.handle("undo") == ok()
    assert engine.game.to_play == BLACK and len(engine.game.history) == 6  # 3 B stones, 2 W passes, W E5


def test_genmove_plays_random_legal_moves(engine: GTPEngine) -> None:
    seen = set()
    colour = "b"
    for _ in range(20):
        before = engine.game.copy()
        vertex = body_of(engine.handle(f"genmove {colour}"))
        action = gtp_to_action(vertex, 9)
        assert action != before.pass_action
        assert before.legality(action) is None
        assert engine.game.history[-1] == action
        assert vertex == action_to_gtp(action, 9)
        seen.add(action)
        colour = "w" if colour == "b" else "b"
    assert len(seen) == 20


def test_genmove_is_reproducible_with_a_seed() -> None:
    def moves(seed: int) -> list[str]:
        e = GTPEngine(seed=seed)
        return [body_of(e.handle(f"genmove {'b' if i % 2 == 0 else 'w'}")) for i in range(10)]

    assert moves(3) == moves(3)
    assert moves(3) != moves(4)


def test_genmove_passes_when_nothing_else_is_legal() -> None:
    engine = GTPEngine(board_size=5, komi=0.5)
    # Black fills the board except two single-point eyes, at A5 and E1: White's only legal move is pass.
    for action in range(25):
        if action not in (0, 24):
            engine.game.play(action)
            engine.game.play(engine.game.pass_action)
    engine.game.undo()  # leave it White's turn after a black stone
    assert engine.game.to_play == WHITE
    assert body_of(engine.handle("genmove w")) == "pass"


def test_genmove_with_a_custom_policy() -> None:
    engine = GTPEngine(genmove=lambda game: game.pass_action)
    assert engine.handle("genmove b") == ok("pass")
    assert engine.handle("genmove w") == ok("pass")
    assert engine.game.is_over
    assert engine.handle("genmove b") == "? game over\n\n"
    assert engine.handle("undo") == ok()
    assert engine.handle("play w D5") == ok()


def test_bad_policies_are_reported_not_raised() -> None:
    def crashing(game: GoGame) -> int:
        raise RuntimeError("network on fire")

    engine = GTPEngine(genmove=crashing)
    response = engine.handle("genmove b")
    assert response is not None and response.startswith("? genmove failed") and "network on fire" in response
    assert engine.game.history == []
    engine = GTPEngine(genmove=lambda game: 40)
    assert engine.handle("play b E5") == ok()  # action 40 is E5
    response = engine.handle("genmove w")
    assert response is not None and response.startswith("? genmove failed") and "occupied" in response
    assert engine.game.history == [40]
    response = GTPEngine(genmove=lambda game: "E5").handle("genmove b")  # type: ignore[arg-type,return-value]
    assert response is not None and response.startswith("? genmove failed")
    # A failing out-of-turn genmove takes its inserted pass back.
    engine = GTPEngine(genmove=crashing)
    assert engine.handle("genmove w") is not None and engine.game.history == []


def test_undo(engine: GTPEngine) -> None:
    assert engine.handle("undo") == "? cannot undo\n\n"
    play_all(engine, ["b C3", "w D4"])
    engine.handle("genmove b")
    for expected in (2, 1, 0):
        assert engine.handle("undo") == ok()
        assert len(engine.game.history) == expected
    assert engine.handle("undo") == "? cannot undo\n\n"
    assert not engine.game.board.any()


def test_undo_restores_captured_stones(engine: GTPEngine) -> None:
    play_all(engine, ["b B1", "w A1", "b J9", "w J8", "b A2"])  # A2 captures A1
    assert engine.game.board[8, 0] == 0 and engine.game.captures[BLACK] == 1
    assert engine.handle("undo") == ok()
    assert engine.game.board[8, 0] == WHITE and engine.game.captures[BLACK] == 0


def test_showboard(engine: GTPEngine) -> None:
    play_all(engine, ["b C3", "w G7"])
    response = engine.handle("showboard")
    assert response is not None and response.startswith("= \n") and response.endswith("\n\n")
    body = response[2:-2]
    assert "\n\n" not in body  # an empty line would end the response early
    lines = body.strip("\n").split("\n")
    assert lines[0].split() == list("ABCDEFGHJ") and lines[10].split() == list("ABCDEFGHJ")
    rows = {int(line.split()[0]): line for line in lines[1:10]}
    assert sorted(rows) == list(range(1, 10))
    assert "X" in rows[3] and "(O)" in rows[7]  # the last move is bracketed
    assert "Black (X) to play" in body and "komi 7.5" in body


def test_showboard_on_large_boards() -> None:
    engine = GTPEngine(board_size=19)
    play_all(engine, ["b T19", "w A1"])
    lines = body_of(engine.handle("showboard")).strip("\n").split("\n")
    assert lines[0].split() == list("ABCDEFGHJKLMNOPQRST")
    assert lines[1].split()[0] == "19" and lines[1].split()[-1] == "19" and lines[1].split()[-2] == "X"
    widths = {len(line.rstrip("0123456789")) for line in lines[1:20]}  # the right-hand labels differ in width
    assert len(widths) == 1


def test_final_score(engine: GTPEngine) -> None:
    assert engine.handle("final_score") == ok("W+7.5")
    engine.handle("play b E5")
    assert engine.handle("final_score") == ok("B+73.5")  # Black's one stone owns the whole empty board
    engine.handle("play w E4")
    assert engine.handle("final_score") == ok("W+7.5")
    engine.handle("komi 0")
    assert engine.handle("final_score") == ok("0")
    engine.handle("komi -0.5")
    assert engine.handle("final_score") == ok("B+0.5")
    assert parse_score(body_of(engine.handle("final_score"))) == engine.game.score()


def test_quit_and_run_loop() -> None:
    import io

    engine = GTPEngine()
    commands = "1 name\n\n# just a comment\nplay b D4\nquit\nname\n"
    out = io.StringIO()
    engine.run(io.StringIO(commands), out)
    assert out.getvalue() == "=1 DeepArena\n\n= \n\n= \n\n"
    assert engine.quit_requested
    # End of input also ends the loop.
    out = io.StringIO()
    GTPEngine().run(io.StringIO("protocol_version"), out)
    assert out.getvalue() == "= 2\n\n"


# ---------------------------------------------------------------------------------------------------------------
# Engine: malformed input and illegal moves.


@pytest.mark.parametrize("line", ["", "   ", "\t", "\n", "# only a comment", "  # indented comment\n", "\x01\x02"])
def test_empty_lines_get_no_response(engine: GTPEngine, line: str) -> None:
    assert engine.handle(line) is None


def test_preprocessing(engine: GTPEngine) -> None:
    assert engine.handle("name # what are you called?") == ok("DeepArena")
    assert engine.handle("\tprotocol_version\t\r\n") == ok("2")
    assert engine.handle("pro\x07tocol_version") == ok("2")  # control characters are dropped
    assert engine.handle("play\tb\tD4") == ok()
    assert engine.handle("  42   play  w  E5  ") == "=42 \n\n"
    assert engine.handle("name\nversion").startswith("? syntax error")  # one command per call
    assert engine.handle("name # comment\nversion") == ok("DeepArena")


def test_ids_are_echoed(engine: GTPEngine) -> None:
    assert engine.handle("12 name") == ok("DeepArena", "12")
    assert engine.handle("0 protocol_version") == ok("2", "0")
    assert engine.handle("7 frobnicate") == "?7 unknown command\n\n"
    assert engine.handle("8 boardsize 30") == "?8 unacceptable size\n\n"
    assert engine.handle("9") == "?9 syntax error: missing command\n\n"
    assert engine.handle("-3 name") == "? unknown command\n\n"  # not an id


@pytest.mark.parametrize(
    "line",
    [
        "garbage",
        "Name",  # commands are case-sensitive
        "play_move b D4",
        "%$&!",
    ],
)
def test_unknown_commands(engine: GTPEngine, line: str) -> None:
    assert engine.handle(line) == "? unknown command\n\n"


@pytest.mark.parametrize(
    "line",
    [
        "play x z99",
        "play b z99",
        "play b J10",
        "play b I5",  # GTP has no column I
        "play b A0",
        "play b 44",
        "play red D4",
        "play b",
        "play",
        "play b D4 E5",
        "genmove",
        "genmove purple",
        "boardsize",
        "boardsize x",
        "boardsize 9.5",
        "komi abc",
        "komi",
        "komi nan",
        "komi inf",
        "known_command",
        "name extra",
        "undo now",
    ],
)
def test_malformed_arguments(engine: GTPEngine, line: str) -> None:
    response = engine.handle(line)
    assert response is not None and response.startswith("? syntax error") and response.endswith("\n\n"), response
    assert engine.game.history == [] and engine.game.komi == 7.5 and engine.game.board_size == 9


@pytest.mark.parametrize("size", ["30", "4", "0", "-9", "20", "100000000000000000000"])
def test_unacceptable_board_sizes(engine: GTPEngine, size: str) -> None:
    assert engine.handle(f"boardsize {size}") == "? unacceptable size\n\n"
    assert engine.game.board_size == 9


def test_illegal_moves(engine: GTPEngine) -> None:
    play_all(engine, ["b D4"])
    assert engine.handle("play w D4") == "? illegal move: occupied\n\n"
    assert engine.handle("play b D4") == "? illegal move: occupied\n\n"  # out of turn: the inserted pass is undone
    assert engine.game.history == [gtp_to_action("D4", 9)] and engine.game.to_play == WHITE
    play_all(engine, ["w A2", "b J9", "w B1"])
    assert engine.handle("play b A1") == "? illegal move: suicide\n\n"
    assert engine.handle("play b A1") == "? illegal move: suicide\n\n"
    assert len(engine.game.history) == 4


def test_ko_is_illegal_until_a_move_elsewhere(engine: GTPEngine) -> None:
    play_all(engine, KO_SETUP)
    assert engine.game.board[7, 1] == 0  # B2 was captured
    before = engine.game.history.copy()
    assert engine.handle("play w B2") == "? illegal move: superko\n\n"
    assert engine.game.history == before
    play_all(engine, ["w H2", "b H8"])  # ko threats elsewhere
    assert engine.handle("play w B2") == ok()  # retaking is legal now
    assert engine.handle("play b C2") == "? illegal move: superko\n\n"


def test_moves_after_the_game_ended(engine: GTPEngine) -> None:
    play_all(engine, ["b D4", "w pass", "b pass"])
    assert engine.game.is_over
    assert engine.handle("play w E5") == "? illegal move: game over\n\n"
    assert engine.handle("genmove w") == "? game over\n\n"
    assert engine.handle("final_score") == ok("B+73.5")
    assert engine.handle("undo") == ok()
    assert engine.handle("play b E5") == ok()
    # Out of turn right after a pass: the inserted pass would end the game, so the move is refused.
    play_all(engine, ["w pass"])
    assert engine.handle("play w C3") == "? illegal move: game over\n\n"
    assert engine.game.history[-1] == engine.game.pass_action and not engine.game.is_over


def test_handle_never_raises_on_odd_input(engine: GTPEngine) -> None:
    rng = np.random.default_rng(0)
    words = ["play", "genmove", "b", "w", "D4", "pass", "undo", "komi", "boardsize", "9", "5", "1e9", "-",
             "showboard", "final_score", "clear_board", "known_command", "\x00", "#", "\t", "é", "٣", "12"]
    for _ in range(2000):
        line = " ".join(rng.choice(words, size=int(rng.integers(0, 5))))
        response = engine.handle(line)
        assert response is None or (response[0] in "=?" and response.endswith("\n\n"))
        assert response is None or "internal error" not in response, (line, response)


# ---------------------------------------------------------------------------------------------------------------
# Helpers.


def test_score_text_round_trip() -> None:
    for score in (3.5, -0.5, 0.0, 81.0, -7.5, 0.25):
        assert parse_score(format_score(score)) == score
    assert format_score(3.5) == "B+3.5" and format_score(-0.5) == "W+0.5" and format_score(0) == "0"
    assert format_score(25.0) == "B+25"
    assert parse_score("B+25.0") == 25.0 and parse_score("w+r") == -float("inf")
    for bad in ("", "B+", "X+3", "B-3", "3.5", "W+abc"):
        with pytest.raises(ValueError):
            parse_score(bad)


def test_parse_colour() -> None:
    assert [parse_colour(c) for c in ("b", "B", "black", "BLACK", "w", "White")] == [1, 1, 1, 1, -1, -1]
    with pytest.raises(ValueError):
        parse_colour("x")


def test_random_policy_only_passes_when_forced() -> None:
    policy = random_policy(0)
    game = GoGame(board_size=5)
    for _ in range(30):
        action = policy(game)
        assert action != game.pass_action and game.legality(action) is None
        game.play(action)
        if game.is_over:
            break



def test_random_policy_matches_random_move() -> None:
    policy, rng = random_policy(7), np.random.default_rng(7)
    game = GoGame(board_size=5)
    for _ in range(20):
        action = policy(game)
        assert action == random_move(game, rng)
        game.play(action)


# ---------------------------------------------------------------------------------------------------------------
# Module layout: engine (gtp), wire format (gtp_protocol), client (gtp_client), GNU Go (gnugo), no import circle.


@pytest.mark.parametrize("module", ["gtp", "gtp_protocol", "gtp_client", "gnugo", "opponents"])
def test_each_gtp_module_imports_first_in_a_fresh_interpreter(module: str) -> None:
    done = subprocess.run([sys.executable, "-c", f"import deep_arena.envs.go.{module}"], capture_output=True,
                          text=True, timeout=120, cwd=REPO)
    assert done.returncode == 0, done.stderr


def test_names_from_before_the_split_still_import_from_gtp() -> None:
    assert (gtp.GnuGo, gtp.gnugo_path, gtp.RESIGN) == (gnugo.GnuGo, gnugo.gnugo_path, gnugo.RESIGN)
    assert (gtp.GTPClient, gtp.GTPError, gtp.GTPProcessError) == (
        gtp_client.GTPClient, gtp_client.GTPError, gtp_client.GTPProcessError)
    assert (gtp.parse_colour, gtp.colour_name, gtp.format_score, gtp.parse_score) == (
        gtp_protocol.parse_colour, gtp_protocol.colour_name, gtp_protocol.format_score, gtp_protocol.parse_score)
    assert all(hasattr(gtp, name) for name in gtp.__all__)


# ---------------------------------------------------------------------------------------------------------------
# GTPClient, with our own script as the engine.


def our_engine(*args: str) -> GTPClient:
    return GTPClient([sys.executable, str(SCRIPT), *args], timeout=60, cwd=REPO)


def test_client_talks_to_our_script() -> None:
    with our_engine("--board-size", "7", "--komi", "0.5", "--seed", "1") as client:
        assert client.alive
        assert client.send("protocol_version") == "2"
        assert client.send("name") == "DeepArena"
        assert "genmove" in client.send("list_commands").split("\n")
        assert client.send("play b D4") == ""
        assert client.send("final_score") == "B+48.5"  # 7x7, komi 0.5
        board = client.send("showboard")
        assert board.split("\n")[0].split() == list("ABCDEFG") and "(X)" in board
        with pytest.raises(GTPError) as info:
            client.send("play w D4")
        assert info.value.message == "illegal move: occupied" and not isinstance(info.value, GTPProcessError)
        with pytest.raises(GTPError, match="unknown command"):
            client.send("frobnicate")
        with pytest.raises(ValueError):
            client.send("name\nversion")
        for silent in ("", "   ", "# just a comment"):  # engines do not answer these: waiting would hang
            with pytest.raises(ValueError):
                client.send(silent)
        assert client.send("7 name") == "DeepArena"  # the id is stripped from the body
    assert not client.alive
    client.close()  # closing twice is fine


def test_script_survives_garbage_bytes_and_stops_at_quit() -> None:
    stdin = b"1 name\n\xff\xfe\x00 garbage \x80\n2 protocol_version\n3 quit\n4 name\n"
    done = subprocess.run([sys.executable, str(SCRIPT), "--seed", "0"], input=stdin, capture_output=True,
                          timeout=60, cwd=REPO)
    assert done.returncode == 0, done.stderr
    out = done.stdout.decode()
    assert out.startswith("=1 DeepArena\n\n? unknown command\n\n=2 2\n\n=3 \n\n") and "=4" not in out
    assert "internal error" not in out


def test_script_rejects_bad_options() -> None:
    done = subprocess.run([sys.executable, str(SCRIPT), "--board-size", "30"], capture_output=True, timeout=60,
                          cwd=REPO, stdin=subprocess.DEVNULL)
    assert done.returncode == 2 and b"--board-size" in done.stderr


def test_client_reports_a_dead_engine() -> None:
    code = "import sys; sys.stdin.readline(); sys.stderr.write('boom: bad weights\\n'); sys.exit(3)"
    client = GTPClient([sys.executable, "-c", code], timeout=30)
    with pytest.raises(GTPProcessError) as info:
        client.send("name")
    assert info.value.returncode == 3 and "boom: bad weights" in str(info.value)
    with pytest.raises(GTPProcessError):
        client.send("name")  # still a clear error, not a hang
    client.close()


def test_client_reports_a_silent_engine() -> None:
    client = GTPClient([sys.executable, "-c", "import time; time.sleep(60)"], timeout=0.5)
    with pytest.raises(GTPProcessError, match="no answer"):
        client.send("name")
    assert not client.alive
    client.close()


def test_client_missing_program() -> None:
    with pytest.raises(FileNotFoundError):
        GTPClient(["/nonexistent/engine"])


def test_gnugo_missing_gives_install_hint() -> None:
    with pytest.raises(FileNotFoundError, match="apt-get install gnugo"):
        GnuGo(path="/nonexistent/gnugo")


# ---------------------------------------------------------------------------------------------------------------
# GNU Go.


@needs_gnugo
def test_gnugo_helpers() -> None:
    with GnuGo(board_size=9, komi=7.5, level=1, seed=0, timeout=60) as gnu:
        assert gnu.all_legal(BLACK) == list(range(81))
        assert gnu.list_stones(BLACK) == [] and gnu.list_stones(WHITE) == []
        gnu.play(BLACK, gtp_to_action("D4", 9))
        gnu.play(WHITE, gtp_to_action("J9", 9))
        assert gnu.list_stones(BLACK) == [gtp_to_action("D4", 9)]
        assert gnu.list_stones(WHITE) == [8]
        assert gnu.board()[5, 3] == BLACK and gnu.board()[0, 8] == WHITE
        legal = gnu.all_legal(BLACK)
        assert len(legal) == 79 and gtp_to_action("D4", 9) not in legal and 8 not in legal
        with pytest.raises(GTPError):
            gnu.play(BLACK, gtp_to_action("D4", 9))
        gnu.undo()
        assert gnu.list_stones(WHITE) == []
        action = gnu.genmove(WHITE)
        assert action is not RESIGN and 0 <= action <= 81
        assert isinstance(gnu.final_score(), float)
        gnu.clear()
        assert gnu.list_stones(BLACK) == []
        with pytest.raises(GTPError, match="cannot undo"):
            gnu.undo()


@needs_gnugo
def test_gnugo_and_goGame_agree_on_ko_legality() -> None:
    game = GoGame(board_size=9, komi=7.5)
    with GnuGo(board_size=9, level=1, timeout=60) as gnu:
        for move in KO_SETUP + ["w H2", "b H8", "w B2"]:
            colour_text, vertex = move.split()
            action = gtp_to_action(vertex, 9)
            assert list(np.flatnonzero(game.legal_moves()[:81])) == gnu.all_legal(game.to_play)
            gnu.play(parse_colour(colour_text), action)
            game.play(action)
            assert np.array_equal(gnu.board(), game.board)


@needs_gnugo
@pytest.mark.parametrize("our_colour", [BLACK, WHITE])
def test_full_game_against_gnugo(our_colour: int) -> None:
    """Our script (random policy) against GNU Go level 1: every move each side makes is accepted by the other,
    both boards agree after every move, and our final_score is GoGame's Tromp-Taylor score."""
    size, komi, cap = 9, 7.5, 600
    mirror = GoGame(board_size=size, komi=komi, max_moves=10 * size * size)
    names = {BLACK: "b", WHITE: "w"}
    with our_engine("--board-size", str(size), "--seed", "5") as ours, \
            GnuGo(board_size=size, komi=komi, level=1, seed=5, timeout=60) as gnu:
        ours.send(f"komi {komi}")
        colour = BLACK
        resigned = False
        while not mirror.is_over and len(mirror.history) < cap:
            if colour == our_colour:
                vertex = ours.send(f"genmove {names[colour]}")
                action = gtp_to_action(vertex, size)
                assert mirror.legality(action) is None, vertex
                gnu.play(colour, action)  # GNU Go accepts our move (raises GTPError otherwise)
            else:
                legal = set(np.flatnonzero(mirror.legal_moves()[: size * size]))
                assert set(gnu.all_legal(colour)) == legal  # same rules on both sides
                gnu_action = gnu.genmove(colour)
                if gnu_action is RESIGN:
                    resigned = True
                    break
                action = gnu_action
                ours.send(f"play {names[colour]} {action_to_gtp(action, size)}")  # and we accept GNU Go's
            mirror.play(action)
            assert np.array_equal(gnu.board(), mirror.board)
            colour = -colour
        assert resigned or mirror.is_over, "the game did not finish within the move cap"
        score_text = ours.send("final_score")
        assert score_text == format_score(mirror.score())
        assert parse_score(score_text) == mirror.score()
        board_text = ours.send("showboard")
        assert "\n" in board_text
