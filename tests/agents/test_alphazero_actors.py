"""Self-play actors on Ray (agents.alphazero.actors, ``arena-train go --actors N``).

The Ray tests skip when ray is not installed (``pip install -e '.[scale]'``); they share one local Ray (its start
takes 5-10 s) and each stays under a minute on a shared 2-core machine."""

from __future__ import annotations

import asyncio
import importlib.util
import os
import signal
import sys

import numpy as np
import pytest
import torch
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from deep_arena.agents.alphazero import trainer as az
from deep_arena.agents.alphazero.actors import ActorPool, SelfPlayWorker, actor_seed, cpu_weights
from deep_arena.agents.alphazero.inference_server import InferenceServer, use_server
from deep_arena.agents.alphazero.network import NetConfig, PolicyValueNet
from deep_arena.agents.alphazero.search import NetworkLeafEvaluator, masked_priors
from deep_arena.agents.go import commands
from deep_arena.envs.go import features
from deep_arena.runtime import RunDir, load_checkpoint

needs_ray = pytest.mark.skipif(importlib.util.find_spec("ray") is None,
                               reason="ray is not installed (pip install -e '.[scale]')")

TINY = {"board_size": 5, "positions_per_iteration": 32, "min_replay": 32, "replay_capacity": 1000, "threads": 1,
        "selfplay": {"parallel_games": 8, "simulations": 8, "fast_simulations": 2},
        "net": {"channels": 8, "blocks": 1}, "train": {"batch_size": 32},
        "eval": {"games_vs_random": 0, "games_vs_gnugo": 0, "sims": 4}, "device": "cpu"}
TINY_SETS = ["positions_per_iteration=32", "min_replay=32", "replay_capacity=1000", "selfplay.parallel_games=8",
             "selfplay.simulations=8", "selfplay.fast_simulations=2", "net.channels=8", "net.blocks=1",
             "eval.games_vs_random=2", "eval.games_vs_gnugo=0", "eval.sims=4", "checkpoint_every=1", "threads=1",
             "train.batch_size=32"]


@pytest.fixture(scope="module")
def local_ray():
    """One local Ray for this module's Ray tests (a pool that finds Ray running uses it and leaves it running)."""
    import ray  # lazy: ray is optional; only the tests marked needs_ray use this fixture

    ray.init(num_cpus=2, include_dashboard=False, logging_level="WARNING", log_to_driver=False)
    yield ray
    ray.shutdown()


def tiny_config(**changes) -> dict:
    return az.deep_merge(az.deep_merge(az.DEFAULTS, TINY), changes)


def tiny_net(config: dict) -> PolicyValueNet:
    return PolicyValueNet(NetConfig(in_planes=features.num_planes(int(config["history_length"])), **config["net"]))


def test_actor_seeds_differ_by_run_actor_and_restart() -> None:
    seeds = {tuple(actor_seed(s, i, r)) for s in (0, 1) for i in range(3) for r in range(2)}
    assert len(seeds) == 12
    assert actor_seed(7, 1) == actor_seed(7, 1, 0)


def test_worker_plays_the_same_games_for_the_same_seed_and_weights() -> None:
    """An actor's games depend on its seed and weights only (what a restarted actor starts from)."""
    config = tiny_config(selfplay={"actors": 1})
    net = tiny_net(config)
    spec = {"board_size": 5, "komi": 7.5, "history_length": 4, "selfplay": config["selfplay"],
            "inference": config["inference"], "mixed_precision": True, "threads": 1}
    a = SelfPlayWorker(net.config.to_dict(), cpu_weights(net), 0, spec, actor_seed(3, 0)).generate(16)
    b = SelfPlayWorker(net.config.to_dict(), cpu_weights(net), 0, spec, actor_seed(3, 0)).generate(16)
    c = SelfPlayWorker(net.config.to_dict(), cpu_weights(net), 0, spec, actor_seed(3, 1)).generate(16)
    assert len(a["value"]) >= 16 and a["planes"].dtype == np.uint8
    assert np.array_equal(a["planes"], b["planes"]) and np.array_equal(a["policy"], b["policy"])
    assert not (a["planes"].shape == c["planes"].shape and np.array_equal(a["planes"], c["planes"]))


def test_actors_without_ray_say_how_to_install(monkeypatch, capsys) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray -> ImportError
    with pytest.raises(ValueError, match=r"pip install -e '\.\[scale\]'"):
        ActorPool(tiny_net(tiny_config()), tiny_config(selfplay={"actors": 2}))
    with pytest.raises(SystemExit) as exc:
        commands.train(["--board-size", "5", "--steps", "1", "--actors", "2", "--no-progress", "--device", "cpu"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "needs Ray: pip install -e '.[scale]'" in err and "Traceback" not in err


def test_actor_flags_are_alphazero_only(capsys) -> None:
    with pytest.raises(SystemExit):
        commands.train(["--algo", "maskable_ppo", "--actors", "2"])
    assert "--actors applies to --algo alphazero" in capsys.readouterr().err


@needs_ray
def test_cli_run_with_two_actors_completes_and_resumes(tmp_path, local_ray) -> None:
    """arena-train go --actors 2 on 5x5: an iteration fed by two Ray actors, the rate tags and the mean inference
    batch in TensorBoard; --resume with actors continues the run."""
    sets = [a for s in TINY_SETS for a in ("--set", s)]
    argv = ["--board-size", "5", "--steps", "1", "--actors", "2", "--no-progress", "--device", "cpu",
            "--run-root", str(tmp_path), *sets]
    assert commands.train(argv) == 0
    (run,) = (tmp_path / "go").glob("alphazero-*")
    counters = load_checkpoint(RunDir(run).latest_checkpoint())["counters"]
    assert counters["iteration"] == 1 and counters["positions"] >= 32
    acc = EventAccumulator(str(run))
    acc.Reload()
    tags = acc.Tags()["scalars"]
    for tag in ("selfplay/simulations_per_second", "selfplay/positions_per_second", "selfplay/mean_inference_batch"):
        assert tag in tags and acc.Scalars(tag)[0].value > 0
    assert acc.Scalars("selfplay/mean_inference_batch")[0].value <= 8  # one leaf per game, 8 games per actor

    assert commands.train(["--resume", str(run), "--steps", "1", "--actors", "2", "--no-progress"]) == 0
    assert load_checkpoint(RunDir(run).latest_checkpoint())["counters"]["iteration"] == 2


@needs_ray
def test_sigkilled_actor_is_replaced_and_the_run_goes_on(tmp_path, local_ray) -> None:
    """SIGKILL one actor's process between two iterations: its pending call fails, the pool starts a new actor with
    the learner's weights, and the run finishes all its iterations."""
    config = tiny_config(iterations=4, selfplay={"actors": 2}, positions_per_iteration=64, checkpoint_every=10)
    trainer = az.AlphaZeroTrainer(config, RunDir.create("go", "alphazero", root=tmp_path), progress_bar=False)
    pool = trainer.selfplay
    assert isinstance(pool, ActorPool)
    generate = pool.generate
    killed = []

    def generate_and_kill(min_samples):
        if len(killed) == 0 and pool.version >= 1:  # after the first training phase
            pid = pool.pids()[0]
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)
        return generate(min_samples)

    pool.generate = generate_and_kill
    result = trainer.run()
    assert killed and result.counters["iteration"] == 4
    assert pool.restarts >= 1
    assert not pool.actors and local_ray.is_initialized()  # actors gone with the run; Ray it did not start stays


def _server_and_planes(max_batch: int = 4096):
    config = tiny_config()
    net = tiny_net(config).eval()
    server = InferenceServer(net.config.to_dict(), cpu_weights(net), 0, config["inference"], True, 1, max_batch)
    rng = np.random.default_rng(0)
    planes = [rng.integers(0, 2, (n, net.config.in_planes, 5, 5)).astype(np.float32) for n in (3, 5, 2)]
    return net, server, planes


def test_inference_server_batches_concurrent_requests_and_answers_each_its_rows() -> None:
    """Three requests that arrive together go through one forward pass; each gets the rows the network gives its
    planes alone (no Ray needed: the server is an asyncio object)."""
    net, server, planes = _server_and_planes()

    async def ask_all():
        return await asyncio.gather(*(server.evaluate(p) for p in planes))

    answers = asyncio.run(ask_all())
    assert server.stats()["passes"] == 1 and server.stats()["positions"] == 10 and server.stats()["requests"] == 3
    alone = NetworkLeafEvaluator(net, torch.device("cpu"), True)
    for p, (logits, values) in zip(planes, answers):
        want_logits, want_values = alone.raw(p)
        assert logits.shape == want_logits.shape and values.shape == want_values.shape
        np.testing.assert_allclose(logits, want_logits, atol=1e-5)
        np.testing.assert_allclose(values, want_values, atol=1e-5)
    # max_batch splits a queue into several passes, never a request
    _, small, planes = _server_and_planes(max_batch=8)  # 3 + 5, then 2

    async def ask_small():
        return await asyncio.gather(*(small.evaluate(p) for p in planes))

    asyncio.run(ask_small())
    assert small.stats()["passes"] == 2 and small.stats()["positions"] == 10


def test_inference_server_loads_new_weights_and_masking_matches_in_process() -> None:
    net, server, planes = _server_and_planes()
    other = tiny_net(tiny_config())

    async def run():
        before = await server.evaluate(planes[0])
        await server.set_weights(cpu_weights(other), 1)
        after = await server.evaluate(planes[0])
        return before, after

    before, after = asyncio.run(run())
    assert server.stats()["version"] == 1 and not np.allclose(before[0], after[0])
    legal = np.ones_like(after[0], dtype=bool)
    legal[:, 0] = False
    priors = masked_priors(after[0].copy(), legal)
    assert np.allclose(priors.sum(axis=1), 1.0) and (priors[:, 0] == 0).all()
    with pytest.raises(ValueError, match="inference_server must be one of"):
        use_server("gpu", 2)
    assert use_server("always", 2) and not use_server("never", 2) and not use_server("always", 0)


def test_inference_server_needs_the_compiled_engine() -> None:
    config = tiny_config(selfplay={"actors": 2, "inference_server": "always", "engine": "python"})
    if importlib.util.find_spec("ray") is None:
        pytest.skip("ray is not installed (pip install -e '.[scale]')")
    with pytest.raises(ValueError, match="needs selfplay.engine=compiled"):
        ActorPool(tiny_net(config), config)


@needs_ray
def test_actors_play_through_one_inference_server(tmp_path, local_ray) -> None:
    """selfplay.inference_server=always (what a CUDA machine gets by default): two actors without networks, one server
    evaluating for both; the run trains, sends its weights to the server, resumes, and logs the server's batch."""
    config = tiny_config(iterations=2, selfplay={"actors": 2, "inference_server": "always"}, checkpoint_every=10)
    trainer = az.AlphaZeroTrainer(config, RunDir.create("go", "alphazero", root=tmp_path), progress_bar=False)
    pool = trainer.selfplay
    result = trainer.run()
    assert result.counters["iteration"] == 2 and result.counters["positions"] >= 64
    assert pool.version >= 1 and not pool.actors and pool.server is None  # weights went out; all closed
    (run,) = (tmp_path / "go").glob("alphazero-*")
    acc = EventAccumulator(str(run))
    acc.Reload()
    server_batch = [e.value for e in acc.Scalars("selfplay/server_mean_batch")]
    assert len(server_batch) == 2 and all(1 <= b <= 16 for b in server_batch)  # 8 games per actor, 2 actors
