"""Self-play opponent pool for the MaskablePPO Go trainer (agents/go/selfplay_pool.py, agents/go/ppo.py).

The pool opponent sees the board from its own colour and plays only legal moves; snapshot selection follows
latest_prob / random_prob; the env's reward goes to the agent that acted; and a short self-play training run grows
the pool and saves it in a file that loads with ``weights_only=True``.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
import torch

from deep_arena.agents.go import ppo as go_ppo
from deep_arena.agents.go.selfplay_pool import OpponentPool, PoolOpponent
from deep_arena.envs.go.game import BLACK, WHITE, GoGame
from deep_arena.envs.go.gym_env import GoEnv

torch.set_num_threads(1)

N = 5
PASS = N * N
H = 4


def small_config(**changes) -> dict:
    config = go_ppo.default_config()
    config.update({"board_size": N, "device": "cpu", "seed": 0,
                   "net": {"channels": 8, "conv_layers": 1, "hidden": 32}})
    config.update(changes)
    return config


def make_policy(favour: int | None = None):
    """A MaskableActorCriticPolicy for 5x5 Go; with ``favour``, its logits prefer that action by a wide margin."""
    from sb3_contrib.common.maskable.policies import MaskableActorCriticPolicy

    env = GoEnv(board_size=N, history_length=H)
    policy = MaskableActorCriticPolicy(env.observation_space, env.action_space, lambda _: 3e-4,
                                       **go_ppo.policy_kwargs(small_config()))
    env.close()
    if favour is not None:
        with torch.no_grad():
            policy.action_net.weight.zero_()
            policy.action_net.bias.zero_()
            policy.action_net.bias[favour] = 30.0
    return policy


def record_observations(snapshot) -> list[np.ndarray]:
    """Every observation the snapshot's policy is evaluated on, appended to the returned list."""
    seen: list[np.ndarray] = []
    snapshot.module.features_extractor.register_forward_pre_hook(
        lambda module, args: seen.append(args[0][0].numpy().copy()))
    return seen


# ---------------------------------------------------------------------------------------------------------------
# The opponent's point of view and legality


def test_pool_opponent_sees_its_own_colour_and_plays_the_favoured_point() -> None:
    pool = OpponentPool(random_prob=0.0)
    snap = pool.add(make_policy(favour=12))  # the centre
    seen = record_observations(snap)
    opponent = PoolOpponent(pool)
    env = GoEnv(board_size=N, opponent=opponent, agent_color="black", history_length=H)
    env.reset(seed=0)
    assert opponent.current is snap
    env.step(0)  # Black (agent) A5; White (snapshot) answers on the centre
    assert env.game.board.reshape(-1)[12] == WHITE
    first = seen[-1]
    assert not first[0].any()  # no white stone yet
    assert np.flatnonzero(first[H]).tolist() == [0]  # Black's stone is the opponent's, for White
    assert not first[2 * H].any()  # White: the colour plane is zeros
    assert first[2 * H + 1].reshape(-1)[0] == 0 and first[2 * H + 1].reshape(-1)[12] == 1  # its legal moves
    env.step(1)
    second = seen[-1]
    assert np.flatnonzero(second[0]).tolist() == [12]  # its own (white) stone in plane 0
    assert np.flatnonzero(second[H]).tolist() == [0, 1]
    assert np.flatnonzero(second[1]).tolist() == [12] and np.flatnonzero(second[H + 1]).tolist() == [0]
    # The favoured point is taken now: the opponent still only plays legal moves (the env raises otherwise).
    assert env.game.board.reshape(-1)[12] == WHITE
    env.close()

    # As Black it sees its own stones in plane 0 too, and a colour plane of ones.
    pool2 = OpponentPool(random_prob=0.0)
    seen2 = record_observations(pool2.add(make_policy(favour=6)))
    env = GoEnv(board_size=N, opponent=PoolOpponent(pool2), agent_color="white", history_length=H)
    env.reset(seed=0)
    assert env.game.board.reshape(-1)[6] == BLACK
    env.step(0)
    assert np.flatnonzero(seen2[-1][0]).tolist() == [6] and np.flatnonzero(seen2[-1][H]).tolist() == [0]
    assert seen2[-1][2 * H].all()
    env.close()


@pytest.mark.parametrize("deterministic", [False, True])
def test_pool_opponent_plays_only_legal_moves_in_full_games(deterministic: bool) -> None:
    pool = OpponentPool(random_prob=0.0, deterministic=deterministic)
    pool.add(make_policy(favour=12))
    pool.add(make_policy())  # untrained: spreads its probability over every move
    rng = np.random.default_rng(0)
    for game_index in range(4):
        env = GoEnv(board_size=N, opponent=PoolOpponent(pool), agent_color="random", history_length=H)
        _, info = env.reset(seed=game_index)
        done, moves = False, 0
        while not done:
            legal = np.flatnonzero(info["action_mask"][:-1])
            action = int(rng.choice(legal)) if len(legal) and rng.random() < 0.9 else PASS
            _, _, terminated, truncated, info = env.step(action)
            done = terminated or truncated
            moves += 1
        assert moves > 1
        env.close()


def test_sampled_moves_follow_the_seed() -> None:
    pool = OpponentPool(random_prob=0.0)
    pool.add(make_policy())

    def opening(seed: int) -> list[int]:
        game = GoGame(N)
        opponent = PoolOpponent(pool)
        opponent.reset(game, seed)
        for _ in range(6):
            game.play(opponent.act(game, np.random.default_rng(0)))
        return list(game.history)

    assert opening(3) == opening(3)
    assert any(opening(3) != opening(s) for s in range(4, 8))


# ---------------------------------------------------------------------------------------------------------------
# Selection statistics


def test_snapshot_selection_follows_latest_prob_and_random_prob() -> None:
    pool = OpponentPool(max_size=3, latest_prob=0.5, random_prob=0.1)
    game = GoGame(N)
    opponent = PoolOpponent(pool)
    opponent.reset(game, 0)
    assert opponent.current is None  # empty pool: the random player
    assert 0 <= opponent.act(game, np.random.default_rng(0)) < PASS

    policy = make_policy()
    for step in range(4):  # max_size 3: snapshot 0 is dropped
        pool.add(policy, step=step)
    assert len(pool) == 3 and [s.id for s in pool.snapshots] == [1, 2, 3]

    draws = 4000
    counts: Counter = Counter()
    for seed in range(draws):
        opponent.reset(game, seed)
        counts[None if opponent.current is None else opponent.current.id] += 1
    freq = {k: v / draws for k, v in counts.items()}
    assert set(freq) == {None, 1, 2, 3}
    assert freq[None] == pytest.approx(0.1, abs=0.02)
    assert freq[3] == pytest.approx(0.9 * 0.5, abs=0.03)
    assert freq[1] == pytest.approx(0.9 * 0.25, abs=0.03) and freq[2] == pytest.approx(0.9 * 0.25, abs=0.03)

    # The same seed draws the same player; overrides pin the newest snapshot.
    picks = []
    for _ in range(2):
        opponent.reset(game, 1234)
        picks.append(opponent.current)
    assert picks[0] is picks[1]
    latest = PoolOpponent(pool, latest_prob=1.0, random_prob=0.0)
    for seed in range(50):
        latest.reset(game, seed)
        assert latest.current is pool.latest
    with pytest.raises(ValueError, match="random_prob"):
        OpponentPool(random_prob=1.5)


# ---------------------------------------------------------------------------------------------------------------
# Rewards go to the agent that acted


@pytest.mark.parametrize("agent_color, reward", [("white", 1.0), ("black", -1.0)])
def test_reward_goes_to_the_acting_agent(agent_color: str, reward: float) -> None:
    pool = OpponentPool(random_prob=0.0)
    pool.add(make_policy(favour=PASS))  # always passes
    env = GoEnv(board_size=N, komi=7.5, opponent=PoolOpponent(pool, deterministic=True), agent_color=agent_color)
    _, info = env.reset(seed=0)
    assert env.game.history == ([PASS] if agent_color == "white" else [])
    _, r, terminated, truncated, info = env.step(PASS)  # both passed on an empty board: White wins by komi
    if agent_color == "black":  # Black passed first; White (the pool) passes back
        assert env.game.history == [PASS, PASS]
    assert terminated and not truncated
    assert info["winner"] == WHITE
    assert r == reward
    env.close()


# ---------------------------------------------------------------------------------------------------------------
# Saving and the trainer


def test_pool_save_and_load_with_weights_only(tmp_path) -> None:
    policy = make_policy(favour=3)
    pool = OpponentPool(max_size=4)
    pool.add(policy, step=10)
    pool.add(make_policy(favour=7), step=20)
    path = pool.save(tmp_path / "pool.pt")
    raw = torch.load(path, weights_only=True)
    assert len(raw["state_dicts"]) == 2 and raw["steps"] == [10, 20]
    restored = OpponentPool(max_size=4, random_prob=0.0)
    restored.load(path, template=make_policy())
    assert [s.id for s in restored.snapshots] == [0, 1] and restored.latest.step == 20
    opponent = PoolOpponent(restored, latest_prob=1.0, deterministic=True)
    game = GoGame(N)
    opponent.reset(game, 0)
    assert opponent.act(game, np.random.default_rng(0)) == 7
    assert restored.add(policy).id == 2


def test_train_with_selfplay_grows_and_saves_the_pool(tmp_path) -> None:
    from deep_arena.runtime import RunDir

    config = small_config(n_envs=2, total_steps=512, eval_every=10**9, eval_games=2, checkpoint_every=256,
                          ppo={**go_ppo.default_config()["ppo"], "n_steps": 64, "batch_size": 64, "n_epochs": 1})
    config["selfplay"] = {**config["selfplay"], "snapshot_every": 128, "max_size": 4}
    assert go_ppo.DEFAULTS["opponent"] == "selfplay"
    run_dir = RunDir.create("go", "maskable_ppo", root=tmp_path)
    trainer = go_ppo.GoPPOTrainer(config, run_dir, progress_bar=False)
    result = trainer.run()
    model, win_rate = trainer.model, result.metrics["win_rate_vs_random"]
    assert model.num_timesteps >= 512 and 0.0 <= win_rate <= 1.0
    assert result.counters["env_steps"] == model.num_timesteps and result.stopped_by == "budget"
    assert result.model_path == run_dir.path / "final_model.zip" and result.model_path.is_file()
    assert 0.0 <= result.metrics["win_rate_vs_latest_snapshot"] <= 1.0
    assert result.details["sample_game"] == run_dir.path / "sample_game.sgf"
    ckpts = run_dir.checkpoints_dir
    assert (ckpts / "model_000000256.zip").is_file()
    mid = torch.load(ckpts / "pool_000000256.pt", weights_only=True)
    assert mid["steps"] == [0, 128, 256]  # one at the start, then every 128 steps
    final = torch.load(run_dir.path / "final_pool.pt", weights_only=True)
    assert final["steps"] == [128, 256, 384, 512] and final["ids"] == [1, 2, 3, 4]  # max_size 4
    assert set(final["state_dicts"][0]) == set(model.policy.state_dict())
    restored = OpponentPool(max_size=4)
    restored.load(run_dir.path / "final_pool.pt", template=model.policy)
    assert len(restored) == 4
    game = GoGame(N)
    opponent = PoolOpponent(restored, latest_prob=1.0, random_prob=0.0)
    opponent.reset(game, 0)
    assert game.legal_moves()[opponent.act(game, np.random.default_rng(0))]

    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(run_dir.path))
    events.Reload()
    sizes = [e.value for e in events.Scalars("selfplay/pool_size")]
    assert sizes[0] >= 1 and sizes[-1] == 4
    assert "eval/win_rate_vs_latest_snapshot" in events.Tags()["scalars"]
    assert "eval/board" in events.Tags()["images"]
    from deep_arena.envs.go.sgf import load_sgf

    assert len(load_sgf(run_dir.path / "sample_game.sgf").history) > 0
    assert (run_dir.path / "sample_game.png").read_bytes()[:4] == b"\x89PNG"


def test_settings_name_the_bad_key() -> None:
    for key, value, message in (("selfplay", {"snapshot_every": 0}, "selfplay.snapshot_every must be a positive "
                                                                   "integer"),
                                ("ppo", {"gamma": 1.5}, r"ppo.gamma must be a number in \[0, 1\]"),
                                ("opponent", "gnugo:11", "opponent must be selfplay, random or gnugo:LEVEL"),
                                ("board_size", 4, "board_size must be from 5 to 19")):
        config = small_config()
        config[key] = {**config[key], **value} if isinstance(value, dict) else value
        with pytest.raises(ValueError, match=message):
            go_ppo.validate_config(config)
    assert go_ppo.validate_config(small_config(opponent="gnugo:3")).opponent == "gnugo:3"


def test_train_go_maskable_ppo_resumes_with_its_pool_and_the_one_budget_rule(tmp_path, capsys) -> None:
    """arena-train go --resume on a MaskablePPO run: the model, its step counter and the self-play pool saved with
    the checkpoint come back; --steps 128 trains exactly 128 more, no flag finishes the saved plan; TensorBoard steps
    never overlap; old checkpoints are pruned to keep_checkpoints."""
    from deep_arena.agents.go.commands import train
    from deep_arena.runtime import load_config

    tiny = ["--no-progress", "--device", "cpu", "--set", "n_envs=2", "--set", "ppo.n_steps=64",
            "--set", "ppo.batch_size=64", "--set", "ppo.n_epochs=1", "--set", "eval_every=128",
            "--set", "eval_games=2", "--set", "checkpoint_every=128", "--set", "selfplay.snapshot_every=128",
            "--set", "net.channels=4", "--set", "net.hidden=16", "--set", "keep_checkpoints=2"]
    assert train(["--algo", "maskable_ppo", "--board-size", "5", "--steps", "256", "--run-root", str(tmp_path),
                  *tiny]) == 0
    (run,) = (tmp_path / "go").glob("maskable_ppo-*")
    ckpts = run / "checkpoints"
    assert sorted(p.name for p in ckpts.glob("model_*.zip")) == ["model_000000128.zip", "model_000000256.zip"]
    capsys.readouterr()
    assert train(["--resume", str(run), "--steps", "128", "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "from model_000000256.zip at env step 256" in out and "training to env step 384 (--steps 128 more)" in out
    assert f"run directory: {run} (" in out
    assert sorted(p.name for p in ckpts.glob("model_*.zip")) == ["model_000000256.zip", "model_000000384.zip"]
    assert sorted(p.name for p in ckpts.glob("pool_*.pt")) == ["pool_000000256.pt", "pool_000000384.pt"]
    pool = torch.load(ckpts / "pool_000000384.pt", weights_only=True)
    assert pool["steps"] == [0, 128, 256, 384]  # the restored pool kept growing
    assert load_config(run / "config.yml")["total_steps"] == 384
    # killed after the checkpoint at 256 (as if 384 had never been saved): no flag finishes the plan (384)
    (ckpts / "model_000000384.zip").unlink()
    assert train(["--resume", str(run), "--no-progress"]) == 0
    assert "training to env step 384 (the saved plan)" in capsys.readouterr().out
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(run))
    events.Reload()
    assert [e.step for e in events.Scalars("eval/win_rate_vs_random")] == [128, 256, 384]
    for tag in events.Tags()["scalars"]:  # no curve folds back (selfplay/pool_size is logged twice at some steps)
        steps = [e.step for e in events.Scalars(tag)]
        assert steps == sorted(steps), (tag, steps)


def test_make_env_refuses_selfplay_without_a_pool() -> None:
    with pytest.raises(ValueError, match="PoolOpponent"):
        go_ppo.make_env(small_config())
