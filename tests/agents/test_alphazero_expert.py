"""The supervised start from GNU Go's games (agents.alphazero.expert) and its place in the AlphaZero trainer."""

from __future__ import annotations

import numpy as np
import pytest

from deep_arena.agents.alphazero import trainer as az
from deep_arena.agents.alphazero import expert as expert_module
from deep_arena.agents.alphazero.expert import ExpertConfig, expert_games, expert_samples
from deep_arena.agents.go import commands
from deep_arena.runtime import COMMON_DEFAULTS, RunDir, deep_merge, load_checkpoint, merge_config
from deep_arena.envs.go import features
from deep_arena.envs.go.game import BLACK, WHITE, GoGame
from deep_arena.envs.go.gnugo import gnugo_path

needs_gnugo = pytest.mark.skipif(gnugo_path() is None, reason="GNU Go not installed (apt-get install gnugo)")


def test_samples_follow_the_game_from_the_end_of_the_opening():
    n = 5
    moves = [12, 6, 7, 8, 25, 25]   # four stones, then two passes (pass = n * n)
    game = GoGame(n, 0.5)
    for a in moves:
        game.play(a)
    winner = game.winner
    samples = list(expert_samples(moves, winner, 2, n, 0.5, 4))
    assert len(samples) == len(moves) - 2
    replay = GoGame(n, 0.5)
    for a in moves[:2]:
        replay.play(a)
    for (planes, policy, value), action in zip(samples, moves[2:]):
        assert planes.dtype == np.uint8 and np.array_equal(planes, features.encode(replay, 4).astype(np.uint8))
        assert policy.shape == (n * n + 1,) and policy[action] == 1 and policy.sum() == 1
        assert value == winner * replay.to_play      # +1 when the player to move went on to win
        replay.play(action)
    assert {samples[0][2], samples[1][2]} == ({1.0, -1.0} if winner else {0.0})


@pytest.mark.parametrize("bad", [{"games": -1}, {"gnugo_level": 11}, {"train_steps": 1.5},
                                 {"max_opening_moves": True}])
def test_bad_expert_settings_are_refused(bad):
    with pytest.raises(ValueError, match="expert"):
        ExpertConfig(**bad).validate()
    config = merge_config(deep_merge(COMMON_DEFAULTS, az.DEFAULTS), overrides=["iterations=1"])
    config["expert"].update(bad)
    with pytest.raises(ValueError, match="expert"):
        az.validate_config(config)
    config["expert"] = {"games": 1, "level": 3}
    with pytest.raises(ValueError, match="expert"):
        az.validate_config(config)


@needs_gnugo
def test_gnugo_games_are_reproducible_and_open_randomly():
    cfg = ExpertConfig(games=4, gnugo_level=0, max_opening_moves=3)
    first = list(expert_games(cfg, 5, 0.5, seed=3))
    again = list(expert_games(cfg, 5, 0.5, seed=3))
    assert first == again and len(first) == 4
    assert len({tuple(m) for m, _, _ in first}) > 1          # the random openings make different games
    for moves, winner, opening in first:
        assert 0 <= opening <= 3 and winner in (BLACK, WHITE, 0)
        game = GoGame(5, 0.5)
        for a in moves:                                     # every move is legal and the game is finished
            assert game.legality(a) is None
            game.play(a)


@needs_gnugo
def test_trainer_learns_from_gnugo_first_and_does_not_repeat_it_on_resume(tmp_path):
    tiny = ["positions_per_iteration=32", "min_replay=32", "replay_capacity=4000", "selfplay.parallel_games=4",
            "selfplay.simulations=4", "selfplay.fast_simulations=2", "net.channels=8", "net.blocks=1",
            "eval.games_vs_random=0", "eval.games_vs_gnugo=0", "eval.sims=2", "checkpoint_every=1", "threads=1",
            "train.batch_size=16", "board_size=5", "device=cpu", "iterations=1",
            "expert.games=3", "expert.gnugo_level=0", "expert.train_steps=4"]
    config = merge_config(deep_merge(COMMON_DEFAULTS, az.DEFAULTS), overrides=tiny)
    run = RunDir.create("go", "alphazero", root=tmp_path)
    trainer = az.AlphaZeroTrainer(config, run, progress_bar=False)
    before = [p.detach().clone() for p in trainer.net.parameters()]
    trainer.run()
    c = trainer.counters
    assert c["expert_games"] == 3 and c["expert_steps"] == 4 and 0 < c["expert_samples"] <= trainer.replay.size
    assert c["iteration"] == 1 and trainer.replay.size > c["expert_samples"]       # then self-play as usual
    assert any(not np.allclose(a.numpy(), b.detach().numpy()) for a, b in zip(before, trainer.net.parameters()))
    assert (run.checkpoints_dir / "checkpoint_000000000.pt").exists()            # the stage saved as iteration 0
    # a run resumed from its newest checkpoint goes on with self-play: no second batch of GNU Go games
    config2 = merge_config(config, overrides=["iterations=2"])
    resumed = az.AlphaZeroTrainer(config2, run, progress_bar=False)
    resumed.load(run.latest_checkpoint())
    size = resumed.replay.size
    resumed.run()
    assert resumed.counters["expert_games"] == 3 and resumed.counters["expert_steps"] == 4
    assert resumed.counters["iteration"] == 2 and resumed.replay.size > size


@needs_gnugo
def test_gnugo_games_are_the_same_whatever_the_workers():
    """Each game is seeded by its index: one process and a pool of two play the same games, in the same order."""
    cfg = ExpertConfig(games=6, gnugo_level=0, max_opening_moves=3)
    one = list(expert_games(cfg, 5, 0.5, seed=11, workers=1))
    two = list(expert_games(cfg, 5, 0.5, seed=11, workers=2))
    assert one == two and len(one) == 6
    assert list(expert_games(ExpertConfig(games=6, gnugo_level=0, max_opening_moves=3, workers=2), 5, 0.5,
                             seed=11)) == one


def test_bad_expert_workers_are_refused():
    with pytest.raises(ValueError, match="expert.workers"):
        ExpertConfig(workers=0).validate()
    config = merge_config(deep_merge(COMMON_DEFAULTS, az.DEFAULTS), overrides=["iterations=1", "expert.workers=0"])
    with pytest.raises(ValueError, match="expert.workers"):
        az.validate_config(config)


@needs_gnugo
def test_cli_workers_flag_plays_the_expert_games_in_a_pool(tmp_path, monkeypatch):
    """arena-train go --workers 2 sets expert.workers: the trainer's expert stage asks expert_games for 2 workers."""
    asked = []

    def spy(config, *args, workers=None, **kwargs):
        asked.append(workers)
        return expert_module.expert_games(config, *args, workers=workers, **kwargs)

    monkeypatch.setattr(az, "expert_games", spy)
    sets = ["positions_per_iteration=16", "min_replay=16", "selfplay.parallel_games=4", "selfplay.simulations=4",
            "selfplay.fast_simulations=2", "net.channels=8", "net.blocks=1", "eval.games_vs_random=0",
            "eval.games_vs_gnugo=0", "train.batch_size=16", "threads=1", "expert.games=4", "expert.gnugo_level=0",
            "expert.train_steps=2"]
    argv = ["--board-size", "5", "--steps", "1", "--workers", "2", "--no-progress", "--device", "cpu",
            "--run-root", str(tmp_path), *[a for s in sets for a in ("--set", s)]]
    assert commands.train(argv) == 0
    assert asked == [2]
    (run,) = (tmp_path / "go").glob("alphazero-*")
    assert load_checkpoint(RunDir(run).latest_checkpoint())["counters"]["expert_games"] == 4
