"""runtime.tb.log_hparams: a run's settings and final metrics in TensorBoard's HParams tab, written into the run's
own folder; every family's train command writes them when a run finishes (here a tiny MolDQN run)."""

from __future__ import annotations

import pytest

from deep_arena.runtime.tb import hparam_values, log_hparams


def _hparams(run_dir):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    from tensorboard.plugins.hparams import metadata, plugin_data_pb2

    acc = EventAccumulator(str(run_dir))
    acc.Reload()
    content = acc.PluginTagToContent(metadata.PLUGIN_NAME)
    data = {}
    for tag, raw in content.items():
        parsed = plugin_data_pb2.HParamsPluginData.FromString(raw)
        data[tag] = parsed
    experiment = data[metadata.EXPERIMENT_TAG].experiment
    start = data[metadata.SESSION_START_INFO_TAG].session_start_info
    metrics = {m.name.tag for m in experiment.metric_infos}
    scalars = {tag: acc.Scalars(tag)[-1].value for tag in acc.Tags()["scalars"] if tag.startswith("hparams/")}
    return start.hparams, metrics, scalars


def test_hparam_values_flatten_and_stringify():
    values = hparam_values({"lr": 3e-4, "net": {"hidden": [32, 16], "norm": True}, "name": "x", "cap": None})
    assert values == {"lr": 3e-4, "net.hidden": "[32, 16]", "net.norm": 1, "name": "x", "cap": "None"}


def test_log_hparams_into_the_run_folder(tmp_path):
    log_hparams(tmp_path, {"lr": 0.1, "algo": "sac", "net": {"hidden": [8]}},
                {"success_rate": 0.75, "note": "text", "bad": float("nan")}, step=100)
    assert not [p for p in tmp_path.iterdir() if p.is_dir()]  # no sub-run folder (add_hparams makes one)
    hparams, metrics, scalars = _hparams(tmp_path)
    assert hparams["lr"].number_value == pytest.approx(0.1) and hparams["algo"].string_value == "sac"
    assert hparams["net.hidden"].string_value == "[8]"
    assert metrics == {"hparams/success_rate"} and scalars == {"hparams/success_rate": pytest.approx(0.75)}


def test_a_finished_moldqn_run_has_its_hparams(tmp_path):
    import torch

    from deep_arena.agents.molecule import commands

    torch.set_num_threads(1)
    args = ["--episodes", "2", "--no-progress", "--device", "cpu", "--run-root", str(tmp_path),
            "--set", "learning_starts=8", "--set", "batch_size=8", "--set", "log_every=1", "--set", "threads=1",
            "--set", "replay_capacity=200", "--set", "env.max_atoms=8", "--set", "env.max_steps=5",
            "--set", "env.fp_bits=64", "--set", "net.hidden=[16]"]
    assert commands.train(args) == 0
    (run,) = (tmp_path / "molecule").iterdir()
    hparams, metrics, scalars = _hparams(run)
    assert hparams["episodes"].number_value == 2 and hparams["env.max_atoms"].number_value == 8
    assert hparams["net.hidden"].string_value == "[16]"
    assert "hparams/top1" in metrics and set(scalars) == metrics
