"""Human play and watch mode for Go (agents/go/human.py, scripts/play.py), headless."""

from __future__ import annotations

import os

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")  # before pygame is imported anywhere: no real display here
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pygame
import pytest

from deep_arena.envs.go.coords import gtp_to_action
from deep_arena.envs.go.game import BLACK, WHITE, GoGame
from deep_arena.envs.go.gnugo import gnugo_path
from deep_arena.agents.go.human import HumanGoSession, SessionWindow, random_agent, unique_path
from deep_arena.envs.go.opponents import RESIGN, Opponent
from deep_arena.envs.go.sgf import load_sgf, read_sgf

REPO = Path(__file__).resolve().parents[2]
PLAY = REPO / "scripts" / "play.py"
needs_gnugo = pytest.mark.skipif(gnugo_path() is None, reason="GNU Go is not installed (apt-get install gnugo)")


def a(vertex: str, n: int = 9) -> int:
    return gtp_to_action(vertex, n)


class Scripted(Opponent):
    """Plays the given vertices in order, then passes (or resigns with "resign")."""

    name = "scripted"

    def __init__(self, moves: list[str], n: int = 9):
        self.moves = [RESIGN if m == "resign" else a(m, n) for m in moves]
        self.seen: list[tuple[int, int]] = []

    def observe(self, colour: int, action: int) -> None:
        self.seen.append((colour, action))

    def act(self, game: GoGame, rng: np.random.Generator) -> int:
        return self.moves.pop(0) if self.moves else game.pass_action


def session(opponent: object = "random", **kw) -> HumanGoSession:
    kw.setdefault("seed", 0)
    kw.setdefault("save_dir", "unused-save-dir")
    s = HumanGoSession(opponent=opponent, **kw)
    s.start()
    return s


@pytest.fixture
def events():
    """A dummy display so the pygame event queue works; yields a function that posts events and feeds them to a
    session through ``handle_event`` (as the window loop does)."""
    pygame.display.init()
    pygame.event.clear()

    def feed(s: HumanGoSession, *evs: pygame.event.Event) -> None:
        for ev in evs:
            pygame.event.post(ev)
        for ev in pygame.event.get():
            s.handle_event(ev)

    yield feed
    pygame.display.quit()


def click(s: HumanGoSession, vertex: str) -> pygame.event.Event:
    pos = s.renderer.action_to_pixel(a(vertex, s.game.board_size))
    return pygame.event.Event(pygame.MOUSEBUTTONDOWN, pos=pos, button=1)


def key(k: int) -> pygame.event.Event:
    return pygame.event.Event(pygame.KEYDOWN, key=k, mod=0, unicode="", scancode=0)


# ---------------------------------------------------------------------------------------------------------------
# Moves, illegal clicks, ends of game


def test_click_plays_and_the_opponent_answers(events) -> None:
    s = session("random")
    events(s, click(s, "E5"))
    assert s.game.history[0] == a("E5")
    assert len(s.game.history) == 2 and s.game.to_play == BLACK
    assert s.game.board.flat[a("E5")] == BLACK
    assert "your move" in s.message
    # Clicks off the grid (panel, coordinate band) do nothing.
    events(s, pygame.event.Event(pygame.MOUSEBUTTONDOWN, pos=(s.renderer.board_px + 40, 100), button=1))
    assert len(s.game.history) == 2


def test_occupied_click_shows_the_reason_and_changes_nothing(events) -> None:
    s = session(Scripted(["C3"]))
    events(s, click(s, "E5"))
    board, history = s.game.board.copy(), list(s.game.history)
    for vertex in ("E5", "C3"):
        events(s, click(s, vertex))
        assert s.message.startswith("Illegal: occupied")
        assert vertex in s.message
        np.testing.assert_array_equal(s.game.board, board)
        assert s.game.history == history
    assert not s.is_over


def test_ko_recapture_shows_superko() -> None:
    # Human Black surrounds C3's neighbours, White takes the ko at D3; retaking at C3 at once repeats the board.
    s = session(Scripted(["B3", "C2", "C4", "D3"]))
    for vertex in ("D2", "D4", "E3", "C3"):
        assert s.play(a(vertex))
    assert s.game.board.flat[a("C3")] == 0 and s.game.captures[WHITE] == 1
    history = list(s.game.history)
    assert not s.play(a("C3"))
    assert s.message.startswith("Illegal: ko (superko)")
    assert s.game.history == history


def test_suicide_is_refused() -> None:
    s = session(Scripted(["B1", "A2"], n=5), board_size=5)
    s.play(a("E5", 5))
    s.play(a("E4", 5))
    assert not s.play(a("A1", 5))
    assert s.message.startswith("Illegal: suicide")


def test_pass_pass_ends_with_score_and_winner(events) -> None:
    s = session(Scripted([]))  # passes every time
    events(s, click(s, "E5"))
    assert s.message.startswith("scripted passes")
    events(s, key(pygame.K_p))
    assert s.is_over and s.game.is_over
    assert s.winner == BLACK and s.result == "B+73.5"
    assert "Game over (two passes)" in s.message
    assert "Black (you) wins, B+73.5" in s.message
    assert "Tromp-Taylor area Black 81, White 0" in s.message
    # Nothing more can be played.
    events(s, click(s, "A1"))
    assert len(s.game.history) == 3 and "over" in s.message


def test_move_cap_ends_the_game() -> None:
    s = session("random", max_moves=4)
    s.play(a("E5"))
    s.play(a("D4"))
    assert s.is_over and s.game.is_truncated
    assert "Game over (move limit of 4)" in s.message and s.result[:2] in ("B+", "W+") and s.result in s.message


def test_resign(events) -> None:
    s = session("random")
    events(s, click(s, "E5"), key(pygame.K_r))
    assert s.is_over and s.resigned == BLACK
    assert s.winner == WHITE and s.result == "W+R"
    assert s.message.startswith("You resign: White (random) wins")
    assert not s.play(a("A1"))
    # Undo takes the resignation back.
    events(s, key(pygame.K_u))
    assert not s.is_over and s.resigned is None and len(s.game.history) == 2


def test_opponent_resigning_ends_the_game() -> None:
    s = session(Scripted(["C3", "resign"]))
    s.play(a("E5"))
    s.play(a("D4"))
    assert s.is_over and s.resigned == WHITE and s.winner == BLACK and s.result == "B+R"
    assert s.message.startswith("scripted resigns: Black (you) wins")
    # Undo takes back the human's move the opponent resigned to.
    assert s.undo()
    assert not s.is_over and s.game.history == [a("E5"), a("C3")]


def test_undo_takes_back_the_move_and_the_reply(events) -> None:
    opponent = Scripted(["C3", "G7", "C7"])
    s = session(opponent)
    events(s, click(s, "E5"), click(s, "D4"))
    assert s.game.history == [a("E5"), a("C3"), a("D4"), a("G7")]
    events(s, key(pygame.K_u))
    assert s.game.history == [a("E5"), a("C3")]
    assert s.game.board.flat[a("D4")] == 0 and s.game.board.flat[a("G7")] == 0
    assert s.game.to_play == BLACK and "Took back 2 moves" in s.message
    # The opponent was replayed the remaining game.
    assert opponent.seen[-2:] == [(BLACK, a("E5")), (WHITE, a("C3"))]
    s.undo()
    assert s.game.history == []
    assert not s.undo() and s.message == "Nothing to undo"
    events(s, click(s, "D4"))  # play resumes
    assert s.game.history == [a("D4"), a("C7")]


def test_undo_after_the_game_ended_and_as_white() -> None:
    s = session(Scripted(["E5", "pass"]), human_color="white")
    assert s.game.history == [a("E5")]  # the opponent opened as Black
    assert not s.undo()  # its opening move is not ours to take back
    s.play(a("C3"))
    s.pass_turn()  # black passed, white passes: over
    assert s.game.is_over and s.winner == WHITE and "White (you) wins, W+7.5" in s.message
    s.undo()
    assert not s.is_over and s.game.history == [a("E5"), a("C3"), s.game.pass_action]


# ---------------------------------------------------------------------------------------------------------------
# SGF records


def test_save_sgf_is_loadable_and_never_overwrites(tmp_path, events) -> None:
    s = session("random", save_dir=tmp_path / "runs" / "go")
    events(s, click(s, "E5"), click(s, "C3"), key(pygame.K_s))
    first = s.saved_paths[-1]
    assert first.parent == tmp_path / "runs" / "go" and first.name.startswith("human-") and first.suffix == ".sgf"
    loaded = load_sgf(first)
    assert loaded.history == s.game.history
    record = read_sgf(first)
    assert record.black == "Human" and record.white == "random" and record.result == "?"
    text = first.read_text()
    events(s, key(pygame.K_s), key(pygame.K_s))
    assert len(set(s.saved_paths)) == 3
    assert first.read_text() == text
    assert [p.name for p in s.saved_paths[1:]] == [f"{first.stem}-1.sgf", f"{first.stem}-2.sgf"]


def test_sgf_path_saves_at_the_end_without_overwriting(tmp_path) -> None:
    target = tmp_path / "games" / "mine.sgf"
    target.parent.mkdir()
    target.write_text("keep me")
    s = session(Scripted([]), sgf_path=target, human_color="white")
    s.pass_turn()  # black (scripted) passed first: two passes
    assert s.is_over and s.saved_paths == [tmp_path / "games" / "mine-1.sgf"]
    assert target.read_text() == "keep me"
    record = read_sgf(s.saved_paths[0])
    assert record.result == "W+7.5" and record.black == "scripted" and record.white == "Human"
    assert load_sgf(s.saved_paths[0]).is_over
    assert "Saved mine-1.sgf" in s.message
    s.quit()  # saved already: nothing new written
    assert len(s.saved_paths) == 1


def test_resigned_game_record_and_save_on_quit(tmp_path) -> None:
    s = session("random", sgf_path=tmp_path / "r.sgf")
    s.play(a("E5"))
    s.quit()  # unsaved moves are saved on quitting when --sgf was given
    assert read_sgf(tmp_path / "r.sgf").result == "?"
    s2 = session("random", sgf_path=tmp_path / "r.sgf")
    s2.play(a("E5"))
    s2.resign()
    assert s2.saved_paths == [tmp_path / "r-1.sgf"]
    assert read_sgf(s2.saved_paths[0]).result == "W+R"


def test_unique_path(tmp_path) -> None:
    p = tmp_path / "x.sgf"
    assert unique_path(p) == p
    p.write_text("")
    (tmp_path / "x-1.sgf").write_text("")
    assert unique_path(p) == tmp_path / "x-2.sgf"


# ---------------------------------------------------------------------------------------------------------------
# Watch mode and the window loop


def test_watch_session_plays_to_the_cap() -> None:
    s = session("random", agent=random_agent(1), max_moves=8)
    s.play(a("E5"))  # a human click does nothing while watching
    assert s.game.history == []
    while s.step_agent():
        pass
    assert s.is_over and s.game.is_truncated and len(s.game.history) == 8
    assert "move limit of 8" in s.message


def test_run_loop_with_posted_events(tmp_path) -> None:
    s = HumanGoSession(opponent="random", seed=3, save_dir=tmp_path)
    pos = s.renderer.action_to_pixel(a("E5"))
    evs = [pygame.event.Event(pygame.MOUSEMOTION, pos=pos, rel=(0, 0), buttons=(0, 0, 0)),
           pygame.event.Event(pygame.MOUSEBUTTONDOWN, pos=pos, button=1),
           key(pygame.K_s), key(pygame.K_ESCAPE)]
    s.run(events=evs, auto_quit_after=5.0)
    assert s.quit_requested and s.game.history[0] == a("E5") and len(s.game.history) == 2
    assert len(s.saved_paths) == 1 and load_sgf(s.saved_paths[0]).history == s.game.history
    assert not pygame.display.get_init() or pygame.display.get_surface() is None  # the window was closed
    s.close()


def test_run_loop_waits_without_burning_cpu() -> None:
    s = HumanGoSession(opponent="random", seed=0)
    s.run(auto_quit_after=0.05)  # warm up (first window, fonts, sprites)
    s = HumanGoSession(opponent="random", seed=0)
    wall, cpu = time.monotonic(), time.process_time()
    s.run(auto_quit_after=1.0)
    wall, cpu = time.monotonic() - wall, time.process_time() - cpu
    assert wall >= 1.0
    assert cpu < 0.5 * wall, f"idle loop used {cpu:.2f} s of CPU in {wall:.2f} s"


def test_session_window_refuses_an_invisible_window(monkeypatch) -> None:
    from deep_arena.agents.go.human import NoDisplayError

    monkeypatch.delenv("SDL_VIDEODRIVER", raising=False)
    monkeypatch.setattr(pygame.display, "get_driver", lambda: "offscreen")
    window = SessionWindow(HumanGoSession().renderer)
    with pytest.raises(NoDisplayError, match="SDL_VIDEODRIVER=dummy"):
        window.open()
    assert not window.is_open


# ---------------------------------------------------------------------------------------------------------------
# scripts/play.py


def play(*args: str, env: dict | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
    full_env = {**os.environ, "SDL_VIDEODRIVER": "dummy"} if env is None else env
    return subprocess.run([sys.executable, str(PLAY), *args], cwd=REPO, capture_output=True, text=True,
                          timeout=timeout, env=full_env)


def test_play_script_human_with_events_exits_cleanly(tmp_path) -> None:
    sgf = tmp_path / "g.sgf"
    out = play("go", "--human", "--board-size", "7", "--seed", "1", "--sgf", str(sgf),
               "--test-events", "D4,D4,p,u,C3,esc", "--auto-quit-after", "5")
    assert out.returncode == 0, out.stderr
    assert "Black (you) vs White (random)" in out.stdout and "result ?" in out.stdout
    assert f"saved {sgf}" in out.stdout  # quitting saves the unfinished game to --sgf
    game = load_sgf(sgf)
    assert game.board_size == 7 and len(game.history) == 4 and game.history[0] == a("D4", 7)


def test_play_script_watch_finishes() -> None:
    out = play("go", "--watch", "--max-moves", "6", "--delay", "0", "--seed", "2", "--auto-quit-after", "0.3")
    assert out.returncode == 0, out.stderr
    assert "Black (random agent) vs White (random), 6 moves" in out.stdout
    assert "Game over (move limit of 6)" in out.stdout


@pytest.mark.parametrize("mode", ["--watch", "--human"])
def test_play_script_missing_model_is_a_clear_error(mode: str, capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        load_play_script().main(["go", mode, "--model", "no-such-model.pt"])
    assert exit_info.value.code == 2
    assert "no-such-model.pt" in capsys.readouterr().err


@pytest.mark.parametrize(
    "args, expected",
    [
        ([], "usage: arena-play ENV"),
        (["go"], "one of the arguments --human --watch is required"),
        (["go", "--human", "--watch"], "not allowed with argument"),
        (["go", "--human", "--board-size", "4"], "--board-size: must be from 5 to 19"),
        (["go", "--human", "--komi", "nan"], "--komi: must be a finite number"),
        (["go", "--human", "--color", "red"], "invalid choice: 'red'"),
        (["go", "--human", "--opponent", "gnugo:11"], "GNU Go level must be an integer from 0 to 10"),
        (["go", "--human", "--opponent", "alphago"], "use 'random' or 'gnugo:LEVEL'"),
        (["chess"], "unknown environment family 'chess'; choose one of go, arm, molecule"),
    ],
)
def test_play_script_bad_arguments(args: list[str], expected: str, capsys) -> None:
    try:  # argparse exits; the registry's dispatch returns its status
        code = load_play_script().main(args)
    except SystemExit as exit_info:
        code = exit_info.code
    assert code == 2
    assert expected in capsys.readouterr().err


def load_play_script():
    import importlib.util

    spec = importlib.util.spec_from_file_location("play_script", PLAY)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_play_script_no_display_message() -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("SDL_VIDEODRIVER", "DISPLAY", "WAYLAND_DISPLAY")}
    out = play("go", "--human", "--auto-quit-after", "0.1", env=env)
    if out.returncode == 0:
        pytest.skip("this machine has a display")
    assert out.returncode == 1
    assert "cannot open a window" in out.stderr and "SDL_VIDEODRIVER=dummy" in out.stderr
    assert "Traceback" not in out.stderr


# ---------------------------------------------------------------------------------------------------------------
# GNU Go


@needs_gnugo
def test_gnugo_answers_and_undoes() -> None:
    s = session("gnugo:1", seed=5)
    try:
        engine = s.opponent._engine
        for vertex in ("E5", "C3", "G7"):
            assert s.play(a(vertex)) or s.is_over
            if s.is_over:
                break
            assert s.game.to_play == BLACK and len(s.game.history) % 2 == 0
        np.testing.assert_array_equal(engine.board(), s.game.board)
        before = list(s.game.history)
        s.undo()
        assert s.game.history == before[:-2]
        np.testing.assert_array_equal(engine.board(), s.game.board)  # GNU Go took the moves back too
        assert s.play(a("D6"))
        np.testing.assert_array_equal(engine.board(), s.game.board)
    finally:
        s.close()


@needs_gnugo
def test_gnugo_opens_as_black() -> None:
    s = session("gnugo:1", human_color="white", seed=1)
    try:
        assert len(s.game.history) == 1 and s.game.to_play == WHITE
        assert "gnugo:1 played" in s.message
    finally:
        s.close()


class Broken(Opponent):
    name = "broken"

    def act(self, game: GoGame, rng: np.random.Generator) -> int:
        raise RuntimeError("engine crashed")


def test_a_failing_opponent_stops_the_game_without_crashing(tmp_path) -> None:
    s = session(Broken(), save_dir=tmp_path)
    assert s.play(a("E5"))
    assert s.is_over and s.winner is None and s.result == "?"
    assert "broken failed: engine crashed" in s.message
    assert not s.play(a("D4"))
    assert s.save() is not None  # the record can still be kept
    assert s.undo() and s.game.history == [] and not s.is_over
