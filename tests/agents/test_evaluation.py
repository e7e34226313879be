"""Evaluation of Go players: statistics, games, matches, player loading, the chart and scripts/evaluate.py."""

from __future__ import annotations

import os

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

import importlib.util
import json
import math
import subprocess
import sys
import types
from pathlib import Path

import numpy as np
import pytest

from deep_arena.agents.go.match import (
    MatchResult,
    elo_diff,
    elo_text,
    play_game,
    play_match,
    plot_match_results,
    wilson_interval,
)
from deep_arena.agents.go import players
from deep_arena.agents.go.players import PPOPlayer, load_player
from deep_arena.envs.go.game import BLACK, WHITE, GoGame
from deep_arena.envs.go.gtp import gnugo_path
from deep_arena.envs.go.opponents import RESIGN, Opponent, RandomOpponent
from deep_arena.envs.go.sgf import load_sgf, read_sgf

REPO = Path(__file__).resolve().parents[2]
EVALUATE = REPO / "scripts" / "evaluate.py"
needs_gnugo = pytest.mark.skipif(gnugo_path() is None, reason="GNU Go is not installed (apt-get install gnugo)")


# ---------------------------------------------------------------------------------------------------------------
# Statistics


@pytest.mark.parametrize("successes, n, expected", [
    # Wilson: (p + z^2/2n) / (1 + z^2/n) -+ z / (1 + z^2/n) * sqrt(p(1-p)/n + z^2/4n^2), z = 1.96
    (0, 10, (0.0, 0.27754)),       # centre = half = 0.19208 / 1.38416
    (5, 10, (0.23659, 0.76341)),   # 0.5 -+ 1.41602 * sqrt(0.025 + 0.009604)
    (10, 10, (0.72246, 1.0)),
    (95, 100, (0.88825, 0.97846)),  # 0.933356 -+ 1.887493 * 0.023897
])
def test_wilson_interval_known_values(successes, n, expected):
    lo, hi = wilson_interval(successes, n)
    assert lo == pytest.approx(expected[0], abs=1e-4)
    assert hi == pytest.approx(expected[1], abs=1e-4)


def test_wilson_interval_edges():
    assert wilson_interval(0, 0) == (0.0, 1.0)
    lo, hi = wilson_interval(2.5, 5)  # draws count half: symmetric around 0.5
    assert lo == pytest.approx(1 - hi)
    lo99, hi99 = wilson_interval(5, 10, z=2.576)
    assert lo99 < 0.2366 and hi99 > 0.7634  # wider at 99%
    with pytest.raises(ValueError):
        wilson_interval(11, 10)


def test_elo_diff():
    assert elo_diff(0.5) == 0.0
    assert elo_diff(0.75) == pytest.approx(190.8485, abs=1e-3)
    assert elo_diff(0.25) == pytest.approx(-190.8485, abs=1e-3)
    assert elo_diff(0.9) > elo_diff(0.6) > 0
    # 0 and 1 are clipped to half a game from the end and shown as bounds
    assert elo_diff(1.0, games=10) == pytest.approx(400 * math.log10(19))
    assert elo_diff(0.0, games=10) == pytest.approx(-400 * math.log10(19))
    assert math.isfinite(elo_diff(1.0))
    assert elo_text(1.0, 10).startswith(">= +") and elo_text(0.0, 10).startswith("<= -")
    assert elo_text(0.75) == "+190.8"
    with pytest.raises(ValueError):
        elo_diff(1.5)


# ---------------------------------------------------------------------------------------------------------------
# Games


class Recorder(RandomOpponent):
    """A random player that remembers what it was told."""

    def __init__(self, name: str):
        self.name = name
        self.seeds: list[int | None] = []
        self.seen: list[tuple[int, int]] = []

    def reset(self, game: GoGame, seed: int | None) -> None:
        assert game.move_number == 0
        self.seeds.append(seed)
        self.seen = []

    def observe(self, colour: int, action: int) -> None:
        self.seen.append((colour, action))


class Stubborn(Opponent):
    """Always plays the centre point: illegal from its second move on."""

    name = "stubborn-bot"

    def act(self, game: GoGame, rng: np.random.Generator) -> int:
        return (game.board_size // 2) * (game.board_size + 1)


class Resigner(Opponent):
    name = "quitter"

    def act(self, game: GoGame, rng: np.random.Generator) -> int:
        return RESIGN


def test_play_game_players_see_every_move():
    black, white = Recorder("b"), Recorder("w")
    record = play_game(black, white, 5, 7.5, seed=3)
    assert black.seeds == [3] and white.seeds == [3]
    expected = [(BLACK if i % 2 == 0 else WHITE, a) for i, a in enumerate(record.moves)]
    assert black.seen == expected and white.seen == expected
    assert record.winner == (1 if record.score > 0 else -1)
    assert record.black == "b" and record.white == "w"
    assert record.game is not None and record.game.history == record.moves
    replayed = GoGame(5, 7.5)
    for a in record.moves:
        replayed.play(a)
    assert replayed.score() == record.score


def test_illegal_move_names_the_player():
    with pytest.raises(RuntimeError, match="stubborn-bot.*illegal.*occupied"):
        play_game(Stubborn(), RandomOpponent(), 5, 7.5, seed=0)
    with pytest.raises(RuntimeError, match="stubborn-bot"):
        play_match(RandomOpponent(), Stubborn(), 5, 7.5, games=2, seed=0, progress=False)

    class Garbage(Opponent):
        name = "garbage"

        def act(self, game, rng):
            return "D4"

    with pytest.raises(RuntimeError, match="garbage"):
        play_game(RandomOpponent(), Garbage(), 5, 7.5, seed=0)


def test_resignation(tmp_path):
    record = play_game(RandomOpponent(), Resigner(), 5, 7.5, seed=0)
    assert record.resigned_by == WHITE and record.winner == BLACK and record.result == "B+R"
    assert len(record.moves) == 1
    result = play_match(Resigner(), RandomOpponent(), 5, 7.5, games=2, seed=0, sgf_dir=tmp_path, progress=False)
    assert (result.wins, result.losses) == (0, 2) and result.resignations == 2
    assert read_sgf(tmp_path / "game-0000.sgf").result == "W+R"
    assert read_sgf(tmp_path / "game-0001.sgf").result == "B+R"


# ---------------------------------------------------------------------------------------------------------------
# Matches


def test_random_match_alternates_colours_and_saves_sgf(tmp_path):
    result = play_match(RandomOpponent(), RandomOpponent(), 5, 7.5, games=6, seed=10, sgf_dir=tmp_path,
                        progress=False, player_name="alpha", opponent_name="beta")
    assert result.wins + result.draws + result.losses == result.games == 6
    assert result.draws == 0  # komi 7.5: no draws
    assert result.by_colour["black"].games == 3 and result.by_colour["white"].games == 3
    for i, record in enumerate(result.records):
        assert (record.black, record.white) == (("alpha", "beta") if i % 2 == 0 else ("beta", "alpha"))
        assert record.seed == 10 + i
        sgf = read_sgf(tmp_path / f"game-{i:04d}.sgf")
        assert (sgf.black, sgf.white) == (record.black, record.white)
        assert sgf.result == record.result
        game = load_sgf(tmp_path / f"game-{i:04d}.sgf")
        assert game.history == record.moves and game.board_size == 5 and game.komi == 7.5
    wins = sum(r.winner == (BLACK if i % 2 == 0 else WHITE) for i, r in enumerate(result.records))
    assert wins == result.wins
    assert result.win_rate == pytest.approx(result.wins / 6)
    lo, hi = result.interval
    assert lo <= result.win_rate <= hi
    data = json.loads(json.dumps(result.to_dict()))  # JSON-clean
    assert data["wins"] == result.wins and len(data["game_records"]) == 6
    assert "alpha vs beta" in result.summary()
    with pytest.raises(FileExistsError):  # never overwrites a saved game
        play_match(RandomOpponent(), RandomOpponent(), 5, 7.5, games=1, seed=10, sgf_dir=tmp_path, progress=False)


def test_same_seed_same_results():
    def run(seed):
        r = play_match(RandomOpponent(), RandomOpponent(), 5, 7.5, games=4, seed=seed, progress=False)
        return [rec.moves for rec in r.records], (r.wins, r.draws, r.losses)

    assert run(7) == run(7)
    assert run(7)[0] != run(8)[0]


@needs_gnugo
def test_match_against_gnugo(tmp_path):
    opponent = load_player("gnugo:0", 5, 7.5)
    try:
        result = play_match(RandomOpponent(), opponent, 5, 7.5, games=2, seed=0, sgf_dir=tmp_path, progress=False)
    finally:
        opponent.close()
    assert result.games == 2 and result.opponent == "gnugo:0"
    assert result.wins == 0  # random never beats GNU Go on 5x5
    for i in range(2):
        load_sgf(tmp_path / f"game-{i:04d}.sgf")


# ---------------------------------------------------------------------------------------------------------------
# Players


def test_load_player_specs_and_errors(tmp_path):
    assert isinstance(load_player("random", 5, 7.5), RandomOpponent)
    with pytest.raises(ValueError, match="unknown player 'alphago'"):
        load_player("alphago", 5, 7.5)
    with pytest.raises(ValueError, match="level"):
        load_player("gnugo:11", 5, 7.5)
    missing = tmp_path / "nope.zip"
    with pytest.raises(ValueError, match="nope.zip"):
        load_player(str(missing), 5, 7.5)
    with pytest.raises(ValueError, match="nope.pt"):
        load_player(str(tmp_path / "nope.pt"), 5, 7.5)
    other = tmp_path / "model.bin"
    other.write_bytes(b"x")
    with pytest.raises(ValueError, match="model.bin"):
        load_player(str(other), 5, 7.5)
    bad_zip = tmp_path / "bad.zip"
    bad_zip.write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="bad.zip"):
        load_player(str(bad_zip), 5, 7.5, device="cpu")


def test_load_player_alphazero_and_pretrained(tmp_path, monkeypatch):
    ckpt = tmp_path / "az.pt"
    ckpt.write_bytes(b"checkpoint")
    monkeypatch.setitem(sys.modules, "deep_arena.agents.alphazero", None)  # the module cannot be imported
    monkeypatch.setitem(sys.modules, "deep_arena.agents.alphazero.player", None)
    with pytest.raises(ImportError, match="az.pt"):
        load_player(str(ckpt), 5, 7.5)

    calls = []

    class FakeAlphaZero(RandomOpponent):
        @classmethod
        def from_checkpoint(cls, path, board_size, komi, sims=None, device="auto"):
            calls.append((path, board_size, komi, sims, device))
            return cls()

    package = types.ModuleType("deep_arena.agents.alphazero")
    player_module = types.ModuleType("deep_arena.agents.alphazero.player")
    player_module.AlphaZeroPlayer = FakeAlphaZero
    monkeypatch.setitem(sys.modules, "deep_arena.agents.alphazero", package)
    monkeypatch.setitem(sys.modules, "deep_arena.agents.alphazero.player", player_module)
    assert isinstance(load_player(str(ckpt), 5, 6.5, device="cpu", sims=8), FakeAlphaZero)
    assert calls == [(str(ckpt), 5, 6.5, 8, "cpu")]

    monkeypatch.setattr(players, "pretrained_go_path", lambda n: ckpt if n == 9 else None)
    player = load_player("pretrained", 9, 7.5, sims=4)
    assert isinstance(player, FakeAlphaZero) and player.name == "pretrained:9x9"
    with pytest.raises(ValueError, match="no pretrained model for 5x5"):
        load_player("pretrained", 5, 7.5)

    def lookup_fails(n):
        raise LookupError(f"no shipped model for {n}x{n}")

    monkeypatch.setattr(players, "pretrained_go_path", lookup_fails)
    with pytest.raises(ValueError, match=r"no pretrained model for 7x7 \(no shipped model for 7x7\)"):
        load_player("pretrained", 7, 7.5)


@pytest.fixture(scope="module")
def ppo_zip(tmp_path_factory):
    """A MaskablePPO model for 5x5, trained for 64 steps (only its shapes matter)."""
    import gymnasium as gym
    from sb3_contrib import MaskablePPO

    import deep_arena.envs  # noqa: F401  (registers arena/Go-v0)

    env = gym.make("arena/Go-v0", board_size=5, opponent="random", agent_color="random")
    model = MaskablePPO("MlpPolicy", env, n_steps=64, batch_size=64, n_epochs=1, seed=0, device="cpu",
                        policy_kwargs={"net_arch": [16]})
    model.learn(64)
    path = tmp_path_factory.mktemp("ppo") / "tiny5.zip"
    model.save(path)
    env.close()
    return path


def test_ppo_player(ppo_zip):
    with pytest.raises(ValueError, match=r"tiny5\.zip.*5x5.*7x7"):
        load_player(str(ppo_zip), 7, 7.5, device="cpu")
    player = load_player(str(ppo_zip), 5, 7.5, device="cpu")
    assert isinstance(player, PPOPlayer) and player.history_length == 4 and player.name == "ppo:tiny5.zip"
    result = play_match(player, RandomOpponent(), 5, 7.5, games=2, seed=0, progress=False)
    assert result.games == 2
    again = play_match(player, RandomOpponent(), 5, 7.5, games=2, seed=0, progress=False)
    assert [r.moves for r in again.records] == [r.moves for r in result.records]  # deterministic

    import gymnasium as gym

    env = gym.make("arena/Go-v0", board_size=5, opponent=player)  # a player is also an env opponent
    obs, info = env.reset(seed=0)
    obs, *_ = env.step(int(np.flatnonzero(info["action_mask"])[0]))
    assert env.unwrapped.game.move_number == 2
    env.close()


# ---------------------------------------------------------------------------------------------------------------
# Chart and command line


def _fake_result(wins: int, losses: int, name: str) -> MatchResult:
    result = MatchResult(player="model", opponent=name, board_size=9, komi=7.5, seed=0)
    result.by_colour["black"].wins = wins
    result.by_colour["white"].losses = losses
    return result


def test_plot_match_results_png(tmp_path):
    import pygame

    results = {"random": _fake_result(9, 1, "random"), "gnugo:5": _fake_result(0, 10, "gnugo:5")}
    path = plot_match_results(results, tmp_path / "chart.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    image = pygame.surfarray.array3d(pygame.image.load(str(path)))
    assert image.shape[0] > 200 and image.shape[1] > 200
    blue = (image[..., 2] > 150) & (image[..., 0] < 120)  # bar colour
    assert blue.sum() > 1000
    with pytest.raises(ValueError):
        plot_match_results({}, tmp_path / "empty.png")


def _load_script():
    spec = importlib.util.spec_from_file_location("evaluate_script", EVALUATE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_evaluate_script_errors(tmp_path, capsys):
    script = _load_script()
    assert script.main(["go", "--model", "random", "--opponent", "deepblue", "--board-size", "5",
                        "--out", str(tmp_path / "a")]) == 2
    assert "deepblue" in capsys.readouterr().err
    taken = tmp_path / "taken"
    taken.mkdir()
    (taken / "results.json").write_text("{}")
    assert script.main(["go", "--model", "random", "--board-size", "5", "--games", "1", "--out", str(taken)]) == 2
    assert "already exists" in capsys.readouterr().err
    assert (taken / "results.json").read_text() == "{}"
    with pytest.raises(SystemExit):
        script.main(["go", "--model", "random", "--board-size", "4"])


def test_evaluate_script_corrupt_checkpoint(tmp_path, capsys):
    script = _load_script()
    garbage = tmp_path / "x.pt"
    garbage.write_bytes(b"this is not a checkpoint\x00\x01")
    for flags in (["--model", str(garbage)], ["--model", "random", "--opponent", str(garbage)]):
        assert script.main(["go", *flags, "--board-size", "5", "--games", "1", "--device", "cpu",
                            "--out", str(tmp_path / "out"), "--no-progress"]) == 2
        err = capsys.readouterr().err
        assert err.startswith("error: ") and "x.pt" in err and "Traceback" not in err


def test_evaluate_go_seed_range():
    from deep_arena.agents.go.commands import evaluate_parser

    parser = evaluate_parser()
    assert parser.parse_args(["--model", "random", "--seed", str(2**32 - 1)]).seed == 2**32 - 1
    for bad in ("-1", str(2**32), "x"):
        with pytest.raises(SystemExit):
            parser.parse_args(["--model", "random", "--seed", bad])


def test_evaluate_script_end_to_end(tmp_path):
    out = tmp_path / "x"
    proc = subprocess.run(
        [sys.executable, str(EVALUATE), "go", "--model", "random", "--opponent", "random", "--board-size", "5",
         "--games", "4", "--out", str(out), "--no-progress"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
        env={**os.environ, "SDL_VIDEODRIVER": "dummy"},
    )
    assert proc.returncode == 0, proc.stderr
    assert "W/D/L" in proc.stdout and "95% CI" in proc.stdout and "Elo" in proc.stdout
    data = json.loads((out / "results.json").read_text())
    match = data["results"]["random"]
    assert match["games"] == 4 and match["wins"] + match["draws"] + match["losses"] == 4
    assert len(match["wilson_95"]) == 2 and len(match["elo_95"]) == 2
    assert (out / "win_rates.png").read_bytes()[:4] == b"\x89PNG"
    sgfs = sorted(out.rglob("*.sgf"))
    assert len(sgfs) == 4
    for path in sgfs:
        load_sgf(path)


def test_random_openings_are_shared_by_each_pair_of_games_and_differ_between_pairs() -> None:
    from deep_arena.agents.go.match import play_match
    from deep_arena.envs.go.opponents import RandomOpponent

    result = play_match(RandomOpponent(), RandomOpponent(), 5, 7.5, 6, seed=10, progress=False, opening_moves=3)
    openings = [tuple(r.moves[:3]) for r in result.records]
    assert openings[0] == openings[1] and openings[2] == openings[3] and openings[4] == openings[5]
    assert len({openings[0], openings[2], openings[4]}) == 3


def test_board_frame_draws_saves_and_never_raises(tmp_path, monkeypatch, capsys):
    import sys

    from deep_arena.agents.go.match import board_frame
    from deep_arena.envs.go.game import GoGame
    from deep_arena.envs.go.sgf import game_to_sgf

    game = GoGame(5, 0.5)
    for action in (12, 6, 25, 25):
        game.play(action)
    frame = board_frame(5, game_to_sgf(game), png=tmp_path / "board.png")
    assert frame is not None and frame.ndim == 3 and frame.shape[2] == 3 and (tmp_path / "board.png").is_file()
    assert np.array_equal(board_frame(5, game), frame)          # a game or its SGF text
    monkeypatch.setitem(sys.modules, "pygame", None)            # a server without pygame
    assert board_frame(5, game, png=tmp_path / "none.png") is None and not (tmp_path / "none.png").exists()
    assert "board picture skipped" in capsys.readouterr().out
