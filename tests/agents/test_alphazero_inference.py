"""Inference options of AlphaZero's network calls (agents.alphazero.inference, config ``inference.*``), on the CPU,
and networks up to 10 blocks x 128 channels."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from deep_arena.agents.alphazero import trainer as az
from deep_arena.agents.alphazero.inference import InferenceOptions, autocast_dtype
from deep_arena.agents.alphazero.network import NetConfig, PolicyValueNet
from deep_arena.agents.alphazero.search import BatchedSearch, Leaves, NetworkLeafEvaluator
from deep_arena.envs.go import features
from deep_arena.runtime import RunDir

CPU = torch.device("cpu")


def searched(n: int, net: PolicyValueNet, options: InferenceOptions, sims: int = 8, trees: int = 3):
    """Root visits and the evaluator after ``sims`` simulations from ``trees`` empty ``n`` x ``n`` boards."""
    torch.manual_seed(0)
    evaluate = NetworkLeafEvaluator(net.eval(), CPU, True, options)
    search = BatchedSearch(trees, n, 7.5, 4)
    search.expand_roots(evaluate)
    search.search(evaluate, sims)
    return np.stack([search.root_visits(t) for t in range(trees)]), evaluate


def small_net(channels: int = 16, blocks: int = 2) -> PolicyValueNet:
    torch.manual_seed(1)
    return PolicyValueNet(NetConfig(in_planes=features.num_planes(4), channels=channels, blocks=blocks))


def test_precision_names_map_to_autocast_dtypes() -> None:
    assert autocast_dtype("auto", CPU) is None  # float32 on the CPU
    assert autocast_dtype("float32", CPU) is None
    assert autocast_dtype("bfloat16", CPU) is torch.bfloat16
    assert autocast_dtype("float16", CPU) is torch.float16
    assert autocast_dtype("auto", torch.device("cuda"), mixed_precision=False) is None
    with pytest.raises(ValueError, match="inference.precision"):
        autocast_dtype("int8", CPU)


def test_bfloat16_and_channels_last_give_the_float32_priors() -> None:
    planes = np.random.default_rng(0).integers(0, 2, size=(6, features.num_planes(4), 7, 7)).astype(np.float32)
    legal = np.ones((6, 50), dtype=bool)
    legal[:, 3] = False
    leaves = Leaves(planes, legal, np.zeros((6, 49), dtype=np.int8), np.ones(6, dtype=np.int8))
    ref_p, ref_v = NetworkLeafEvaluator(small_net(), CPU)(leaves)
    for options, tol in ((InferenceOptions(channels_last=True), 1e-5), (InferenceOptions(precision="bfloat16"), 0.05)):
        p, v = NetworkLeafEvaluator(small_net(), CPU, True, options)(leaves)
        assert p[:, 3].max() == 0 and np.allclose(p.sum(axis=1), 1, atol=1e-5)
        assert np.abs(p - ref_p).max() < tol and np.abs(v - ref_v).max() < tol, options
    net = small_net()
    assert net.stem[0].weight.is_contiguous()
    NetworkLeafEvaluator(net, CPU, True, InferenceOptions(channels_last=True))
    assert net.stem[0].weight.is_contiguous(memory_format=torch.channels_last)


def test_channels_last_search_visits_match_the_default() -> None:
    base, _ = searched(7, small_net(), InferenceOptions())
    nhwc, evaluate = searched(7, small_net(), InferenceOptions(channels_last=True))
    assert np.array_equal(base, nhwc) and evaluate.calls > 0


def test_ten_blocks_of_128_channels_are_allowed_build_and_search() -> None:
    """The settings allow networks of at least 10 x 128; one builds and runs a 9x9 search step (bfloat16 too)."""
    config = az.deep_merge(az.DEFAULTS, {"iterations": 1, "net": {"blocks": 10, "channels": 128}})
    az.validate_config(config)
    net = PolicyValueNet(NetConfig(in_planes=features.num_planes(4), **config["net"]))
    assert sum(p.numel() for p in net.parameters()) > 2_900_000
    for options in (InferenceOptions(), InferenceOptions(precision="bfloat16", channels_last=True)):
        visits, evaluate = searched(9, net, options, sims=2, trees=2)
        assert visits.sum() == 2 * 2 and evaluate.positions >= 2


def test_trainer_runs_with_inference_options_and_logs_the_mean_inference_batch(tmp_path) -> None:
    config = az.deep_merge(az.DEFAULTS, {
        "board_size": 5, "iterations": 1, "positions_per_iteration": 16, "min_replay": 16, "replay_capacity": 500,
        "threads": 1, "device": "cpu", "selfplay": {"parallel_games": 4, "simulations": 4, "fast_simulations": 2},
        "net": {"channels": 8, "blocks": 1}, "train": {"batch_size": 16},
        "eval": {"games_vs_random": 0, "games_vs_gnugo": 0},
        "inference": {"precision": "bfloat16", "channels_last": True}})
    trainer = az.AlphaZeroTrainer(config, RunDir.create("go", "alphazero", root=tmp_path), progress_bar=False)
    assert trainer.evaluator.dtype is torch.bfloat16 and trainer.evaluator.options.channels_last
    result = trainer.run()
    assert result.counters["iteration"] == 1
    acc = EventAccumulator(str(trainer.run_dir.path))
    acc.Reload()
    batch = acc.Scalars("selfplay/mean_inference_batch")[0].value
    assert 1 <= batch <= 4  # one leaf per game, 4 games
    for tag in ("selfplay/simulations_per_second", "selfplay/positions_per_second"):
        assert acc.Scalars(tag)[0].value > 0


def test_bad_inference_settings_are_refused() -> None:
    for bad in ({"precision": "half"}, {"channels_last": "yes"}):
        with pytest.raises(ValueError, match="inference"):
            az.validate_config(az.deep_merge(az.DEFAULTS, {"iterations": 1, "inference": bad}))


@pytest.mark.slow
def test_compiled_network_gives_the_same_visits() -> None:
    """torch.compile on the CPU (inductor builds C++: tens of seconds, so marked slow: make test-slow)."""
    base, _ = searched(5, small_net(8, 1), InferenceOptions(), sims=4, trees=2)
    compiled, _ = searched(5, small_net(8, 1), InferenceOptions(compile=True), sims=4, trees=2)
    assert np.array_equal(base, compiled)
