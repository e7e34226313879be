"""Tests for deep_arena.runtime: devices, seeding, configs, run dirs, checkpoints, TensorBoard, CLI."""

from __future__ import annotations

import argparse
import io
import random
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest
import torch

from deep_arena.runtime import (
    CheckpointError,
    RunDir,
    add_common_args,
    apply_overrides,
    build_config,
    checkpoint_name,
    create_run_dir,
    latest_checkpoint,
    load_checkpoint,
    load_config,
    log_hparams_text,
    make_rng,
    make_writer,
    merge_config,
    progress,
    resolve_device,
    save_checkpoint,
    save_config,
    seed_everything,
)

# --------------------------------------------------------------------------- device


def test_resolve_device_auto_and_cpu(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert resolve_device() == torch.device("cpu")
    assert resolve_device("auto") == torch.device("cpu")
    assert resolve_device(" CPU ") == torch.device("cpu")
    assert resolve_device(torch.device("cpu")) == torch.device("cpu")


def test_resolve_device_cuda_without_cuda_is_clear(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    for spec in ("cuda", "cuda:1"):
        with pytest.raises(ValueError, match="CUDA is not available"):
            resolve_device(spec)


def test_resolve_device_cuda_index(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    assert resolve_device("auto") == torch.device("cuda")
    assert resolve_device("cuda") == torch.device("cuda")
    assert resolve_device("cuda:1") == torch.device("cuda", 1)
    with pytest.raises(ValueError, match="only 2 CUDA"):
        resolve_device("cuda:2")


@pytest.mark.parametrize("spec", ["gpu", "cuda:", "cuda:x", "tpu", "", "cpu:0"])
def test_resolve_device_rejects_bad_spec(spec: str) -> None:
    with pytest.raises(ValueError, match="Invalid device") as info:
        resolve_device(spec)
    assert repr(spec) in str(info.value)


# --------------------------------------------------------------------------- seeding


def _draws() -> tuple[float, np.ndarray, torch.Tensor]:
    return random.random(), np.random.rand(5), torch.randn(5)


def test_seed_everything_reproducible() -> None:
    seed_everything(123)
    first = _draws()
    seed_everything(123)
    second = _draws()
    assert first[0] == second[0]
    np.testing.assert_array_equal(first[1], second[1])
    assert torch.equal(first[2], second[2])
    seed_everything(124)
    assert not torch.equal(first[2], _draws()[2])


@pytest.mark.parametrize("seed", [-1, 2**32, 1.5, True, "3"])
def test_seed_everything_rejects_bad_seed(seed: object) -> None:
    with pytest.raises(ValueError, match="[Ss]eed"):
        seed_everything(seed)  # type: ignore[arg-type]


def test_make_rng_independent_and_reproducible() -> None:
    np.testing.assert_array_equal(make_rng(7).random(4), make_rng(7).random(4))
    assert not np.array_equal(make_rng(7).random(4), make_rng(8).random(4))


# --------------------------------------------------------------------------- config

DEFAULTS = {
    "lr": 1e-3,
    "gamma": 0.99,
    "use_x": False,
    "net": {"blocks": 4, "channels": 64},
    "env_kwargs": {},
    "schedule": None,
}


def test_load_config_types(tmp_path: Path) -> None:
    path = tmp_path / "cfg.yml"
    path.write_text("lr: 3e-4\nsteps: 1e6\nname: go\nnet:\n  blocks: 6\nsizes: [64, 64]\n")
    config = load_config(path)
    assert config == {"lr": 3e-4, "steps": 1e6, "name": "go", "net": {"blocks": 6}, "sizes": [64, 64]}
    assert isinstance(config["lr"], float) and isinstance(config["steps"], float)


def test_load_config_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.yml"
    path.write_text("")
    assert load_config(path) == {}


def test_load_config_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.yml"
    with pytest.raises(ValueError, match="does not exist") as info:
        load_config(path)
    assert str(path) in str(info.value)


def test_load_config_bad_yaml(tmp_path: Path) -> None:
    path = tmp_path / "bad.yml"
    path.write_text("lr: [1, 2\nnet: {\n")
    with pytest.raises(ValueError, match="not valid YAML") as info:
        load_config(path)
    assert str(path) in str(info.value)


def test_load_config_top_level_not_mapping(tmp_path: Path) -> None:
    path = tmp_path / "list.yml"
    path.write_text("- 1\n- 2\n")
    with pytest.raises(ValueError, match="mapping") as info:
        load_config(path)
    assert str(path) in str(info.value)


def test_save_config_round_trip(tmp_path: Path) -> None:
    config = {"lr": 1e-5, "net": {"blocks": 6, "sizes": (64, 64)}, "flag": True, "n": np.int64(3), "p": Path("a/b")}
    path = save_config(config, tmp_path / "sub" / "config.yml")
    loaded = load_config(path)
    assert loaded == {"lr": 1e-5, "net": {"blocks": 6, "sizes": [64, 64]}, "flag": True, "n": 3, "p": "a/b"}
    assert list(loaded) == list(config)  # key order kept
    assert not list(path.parent.glob("*.tmp"))


def test_apply_overrides_types_and_nesting() -> None:
    base = {"lr": 1.0, "net": {"blocks": 4, "channels": 64}}
    result = apply_overrides(
        base,
        ["lr=3e-4", "net.blocks=6", "use_x=true", "name=go", "sizes=[64, 64]"]
        + ["tag='1e3'", "opt.betas.b1=0.9", "v=a=b"],
    )
    assert result["lr"] == 3e-4 and isinstance(result["lr"], float)
    assert result["net"] == {"blocks": 6, "channels": 64}
    assert result["use_x"] is True
    assert result["name"] == "go"
    assert result["sizes"] == [64, 64]
    assert result["tag"] == "1e3"
    assert result["opt"] == {"betas": {"b1": 0.9}}
    assert result["v"] == "a=b"
    assert base == {"lr": 1.0, "net": {"blocks": 4, "channels": 64}}  # input untouched


@pytest.mark.parametrize("override", ["lr", "=3", "net..blocks=1", ".a=1", "x=[1, 2"])
def test_apply_overrides_malformed(override: str) -> None:
    with pytest.raises(ValueError, match="Malformed override") as info:
        apply_overrides({}, [override])
    assert repr(override) in str(info.value)


def test_apply_overrides_through_scalar() -> None:
    with pytest.raises(ValueError, match="not a mapping"):
        apply_overrides({"lr": 1.0}, ["lr.x=1"])


def test_merge_config_precedence() -> None:
    file_cfg = {"lr": 0.1, "gamma": 0.9, "net": {"blocks": 8}}
    cli = {"lr": 0.2, "net.channels": 32, "gamma": None}  # None = flag not given
    config = merge_config(DEFAULTS, file_cfg, cli, ["lr=0.3"])
    assert config["lr"] == 0.3  # --set beats CLI beats file
    assert config["gamma"] == 0.9  # file beats defaults, unset CLI ignored
    assert config["net"] == {"blocks": 8, "channels": 32}  # nested merge
    assert config["use_x"] is False
    assert merge_config(DEFAULTS, file_cfg, cli)["lr"] == 0.2
    assert merge_config(DEFAULTS, file_cfg)["lr"] == 0.1
    assert merge_config(DEFAULTS) == DEFAULTS
    assert merge_config(DEFAULTS) is not DEFAULTS


def test_merge_config_unknown_keys() -> None:
    with pytest.raises(ValueError, match="Unknown config key") as info:
        merge_config(DEFAULTS, {"lrr": 0.1, "net": {"blokcs": 6}})
    assert "lrr" in str(info.value) and "net.blokcs" in str(info.value)
    with pytest.raises(ValueError, match="--set.*net.blokcs"):
        merge_config(DEFAULTS, overrides=["net.blokcs=6"])
    with pytest.raises(ValueError, match="command-line.*gama"):
        merge_config(DEFAULTS, cli_values={"gama": 0.5})
    with pytest.raises(ValueError, match="'net' must be a mapping"):
        merge_config(DEFAULTS, {"net": 5})
    config = merge_config(DEFAULTS, {"lrr": 0.1}, overrides=["new.key=1"], allow_unknown=True)
    assert config["lrr"] == 0.1 and config["new"] == {"key": 1}


def test_merge_config_open_sections() -> None:
    config = merge_config(
        DEFAULTS,
        {"env_kwargs": {"board_size": 9}},
        overrides=["env_kwargs.komi=7.5", "schedule=linear"],
    )
    assert config["env_kwargs"] == {"board_size": 9, "komi": 7.5}
    assert config["schedule"] == "linear"
    # A None default is an unset scalar, not an open section: keys below it are typos.
    with pytest.raises(ValueError, match="schedule.kind"):
        merge_config(DEFAULTS, None, overrides=["schedule.kind=linear"])


# --------------------------------------------------------------------------- CLI


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = add_common_args(argparse.ArgumentParser())
    parser.add_argument("--lr", type=float, default=None)
    parser.add_argument("--blocks", type=int, default=None)
    return parser.parse_args(argv)


def test_add_common_args_defaults() -> None:
    args = _parse([])
    assert args.device == "auto" and args.seed == 0 and args.config is None
    assert args.overrides == [] and args.run_root == "runs"
    args = _parse(["--device", "cuda:1", "--seed", "5", "--set", "a=1", "--set", "b=2", "--run-root", "out"])
    assert args.device == "cuda:1" and args.seed == 5 and args.overrides == ["a=1", "b=2"] and args.run_root == "out"
    assert _parse([]).overrides == []  # the append default is not shared between parses


@pytest.mark.parametrize("argv", [["--device", "gpu"], ["--seed", "x"], ["--seed", "-1"]])
def test_add_common_args_rejects_bad_values(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        _parse(argv)
    assert "invalid" in capsys.readouterr().err.lower()


def test_build_config_precedence(tmp_path: Path) -> None:
    path = tmp_path / "cfg.yml"
    path.write_text("seed: 5\nlr: 0.1\nnet:\n  blocks: 8\ndevice: cpu\n")
    keys = {"lr": "lr", "net.blocks": "blocks"}

    config = build_config(_parse(["--config", str(path)]), DEFAULTS, keys)
    assert (config["seed"], config["lr"], config["net"]["blocks"], config["device"]) == (5, 0.1, 8, "cpu")

    argv = ["--config", str(path), "--seed", "7", "--lr", "0.2", "--blocks", "2"]
    config = build_config(_parse(argv), DEFAULTS, keys)
    assert (config["seed"], config["lr"], config["net"]["blocks"]) == (7, 0.2, 2)

    argv = ["--config", str(path), "--seed", "7", "--lr", "0.2", "--set", "seed=9", "--set", "lr=3e-4"]
    config = build_config(_parse(argv), DEFAULTS, keys)
    assert (config["seed"], config["lr"]) == (9, 3e-4)

    config = build_config(_parse([]), DEFAULTS, keys)  # nothing given: defaults + common defaults
    assert config == {**DEFAULTS, "device": "auto", "seed": 0}


def test_build_config_errors(tmp_path: Path) -> None:
    path = tmp_path / "typo.yml"
    path.write_text("learning_rate: 0.1\n")
    with pytest.raises(ValueError, match="learning_rate") as info:
        build_config(_parse(["--config", str(path)]), DEFAULTS)
    assert str(path) in str(info.value)
    with pytest.raises(ValueError, match="seed"):
        build_config(_parse(["--set", "seed=abc"]), DEFAULTS)
    with pytest.raises(ValueError, match="Invalid device"):
        build_config(_parse(["--set", "device=gpu"]), DEFAULTS)


# --------------------------------------------------------------------------- run directories


def test_create_run_dir_pattern(tmp_path: Path) -> None:
    run = create_run_dir("Go9x9-v0", "ppo", root=tmp_path)
    assert run.is_dir() and run.parent == tmp_path / "Go9x9-v0"
    algo, stamp = run.name.split("-", 1)
    assert algo == "ppo"
    datetime.strptime(stamp, "%Y%m%d-%H%M%S")  # raises if the pattern is wrong
    assert create_run_dir("deep_arena/Go-v0", "ppo", root=tmp_path).parent.name == "deep_arena_Go-v0"


def test_create_run_dir_never_overwrites(tmp_path: Path) -> None:
    stamp = datetime(2024, 5, 1, 12, 30, 45)
    first = create_run_dir("Go", "ppo", root=tmp_path, timestamp=stamp)
    assert first.name == "ppo-20240501-123045"
    (first / "keep.txt").write_text("precious")
    second = create_run_dir("Go", "ppo", root=tmp_path, timestamp=stamp)
    third = create_run_dir("Go", "ppo", root=tmp_path, timestamp=stamp)
    assert second.name == "ppo-20240501-123045-1" and third.name == "ppo-20240501-123045-2"
    assert (first / "keep.txt").read_text() == "precious"
    assert list(second.iterdir()) == [] and list(third.iterdir()) == []


def test_create_run_dir_same_second_now(tmp_path: Path) -> None:
    dirs = {create_run_dir("Go", "dqn", root=tmp_path) for _ in range(3)}
    assert len(dirs) == 3


@pytest.mark.parametrize("bad", ["", "..", "///"])
def test_create_run_dir_rejects_bad_names(tmp_path: Path, bad: str) -> None:
    with pytest.raises(ValueError):
        create_run_dir(bad, "ppo", root=tmp_path)


def test_run_dir_helpers(tmp_path: Path) -> None:
    run = RunDir.create("Go", "ppo", root=tmp_path)
    assert run.checkpoints_dir.is_dir()
    run.write_config({"lr": 3e-4, "net": {"blocks": 6}})
    assert load_config(run.config_path) == {"lr": 3e-4, "net": {"blocks": 6}}
    run.write_command(["scripts/train.py", "--set", "name=two words"])
    assert run.command_path.read_text() == "scripts/train.py --set 'name=two words'\n"
    assert run.checkpoint_path(1000).name == "checkpoint_000001000.pt"
    assert run.latest_checkpoint() is None
    assert RunDir.open(run.path) == run
    with pytest.raises(ValueError):
        RunDir.open(tmp_path / "missing")


# --------------------------------------------------------------------------- checkpoints


def _model_and_optimizer() -> tuple[torch.nn.Module, torch.optim.Optimizer]:
    model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.BatchNorm1d(8), torch.nn.ReLU(), torch.nn.Linear(8, 2))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss = model(torch.randn(16, 4)).pow(2).mean()
    loss.backward()
    optimizer.step()  # populate Adam's moment buffers
    return model, optimizer


def test_checkpoint_round_trip(tmp_path: Path) -> None:
    torch.manual_seed(0)
    model, optimizer = _model_and_optimizer()
    state = {
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "step": 1234,
        "episodes": np.int64(56),
        "best_return": np.float32(1.5),
        "returns": np.arange(5, dtype=np.float64),
        "history": [(1, 0.5), (2, 0.25)],
        "torch_rng": torch.get_rng_state(),
        "numpy_rng": make_rng(3).bit_generator.state,
        "python_rng": random.getstate(),
        "config": {"lr": 1e-3, "run_dir": Path("runs/x")},
    }
    path = save_checkpoint(tmp_path / "ckpt" / checkpoint_name(1234), state)
    assert path.is_file() and not list(path.parent.glob("*.tmp"))

    loaded = load_checkpoint(path)
    assert loaded["step"] == 1234 and loaded["episodes"] == 56 and type(loaded["episodes"]) is int
    assert loaded["best_return"] == 1.5
    assert torch.equal(loaded["returns"], torch.arange(5, dtype=torch.float64))
    assert loaded["history"] == [(1, 0.5), (2, 0.25)]
    assert loaded["config"] == {"lr": 1e-3, "run_dir": "runs/x"}
    rng = np.random.default_rng()
    rng.bit_generator.state = loaded["numpy_rng"]
    np.testing.assert_array_equal(rng.random(3), make_rng(3).random(3))
    random.setstate(loaded["python_rng"])

    new_model, new_optimizer = _model_and_optimizer()
    new_model.load_state_dict(loaded["model"])
    new_optimizer.load_state_dict(loaded["optimizer"])
    for key, value in model.state_dict().items():
        assert torch.equal(value, new_model.state_dict()[key]), key
    old_moments = optimizer.state_dict()["state"][0]["exp_avg"]
    assert torch.equal(old_moments, new_optimizer.state_dict()["state"][0]["exp_avg"])
    model.eval(), new_model.eval()
    x = torch.randn(3, 4)
    assert torch.equal(model(x), new_model(x))


def test_checkpoint_overwrite_is_atomic_replace(tmp_path: Path) -> None:
    path = tmp_path / "c.pt"
    save_checkpoint(path, {"step": 1})
    save_checkpoint(path, {"step": 2})
    assert load_checkpoint(path)["step"] == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.pt"]


def test_checkpoint_rejects_unsafe_objects(tmp_path: Path) -> None:
    model, _ = _model_and_optimizer()
    with pytest.raises(TypeError, match=r"state\['model'\]"):
        save_checkpoint(tmp_path / "c.pt", {"model": model})
    with pytest.raises(TypeError, match="object array"):
        save_checkpoint(tmp_path / "c.pt", {"a": np.array([object()])})
    assert not (tmp_path / "c.pt").exists()


def test_load_checkpoint_missing(tmp_path: Path) -> None:
    path = tmp_path / "missing.pt"
    with pytest.raises(CheckpointError, match="does not exist") as info:
        load_checkpoint(path)
    assert str(path) in str(info.value) and info.value.path == path
    assert isinstance(info.value, RuntimeError)


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"this is not a checkpoint at all" * 20, "corrupt"),
        (b"", "empty"),
    ],
)
def test_load_checkpoint_garbage(tmp_path: Path, content: bytes, problem: str) -> None:
    path = tmp_path / "bad.pt"
    path.write_bytes(content)
    with pytest.raises(CheckpointError, match=problem) as info:
        load_checkpoint(path)
    assert str(path) in str(info.value)


@pytest.mark.parametrize("keep", [0.5, 0.9, 0.99])
def test_load_checkpoint_truncated(tmp_path: Path, keep: float) -> None:
    model, optimizer = _model_and_optimizer()
    good = save_checkpoint(tmp_path / "good.pt", {"model": model.state_dict(), "optimizer": optimizer.state_dict()})
    data = good.read_bytes()
    path = tmp_path / "truncated.pt"
    path.write_bytes(data[: int(len(data) * keep)])
    with pytest.raises(CheckpointError, match="truncated|corrupt") as info:
        load_checkpoint(path)
    assert str(path) in str(info.value)


def test_load_checkpoint_unsafe_pickle(tmp_path: Path) -> None:
    path = tmp_path / "unsafe.pt"
    torch.save({"when": datetime(2024, 1, 1)}, path)  # loadable only with weights_only=False
    with pytest.raises(CheckpointError, match="weights_only"):
        load_checkpoint(path)


def test_load_checkpoint_not_a_dict(tmp_path: Path) -> None:
    path = tmp_path / "list.pt"
    torch.save([1, 2, 3], path)
    with pytest.raises(CheckpointError, match="dict"):
        load_checkpoint(path)


def test_latest_checkpoint(tmp_path: Path) -> None:
    assert latest_checkpoint(tmp_path / "nothing") is None
    run = RunDir.create("Go", "ppo", root=tmp_path)
    for step in (900, 10_000, 2_000):
        save_checkpoint(run.checkpoint_path(step), {"step": step})
    save_checkpoint(run.checkpoints_dir / "checkpoint_5000000000.pt", {"step": 5_000_000_000})  # wider than the padding
    (run.checkpoints_dir / "best.pt").write_bytes(b"")
    (run.checkpoints_dir / ".checkpoint_000099999.pt.abc.tmp").write_bytes(b"")
    assert latest_checkpoint(run.path) == run.checkpoints_dir / "checkpoint_5000000000.pt"
    assert latest_checkpoint(run.checkpoints_dir) == run.checkpoints_dir / "checkpoint_5000000000.pt"


# --------------------------------------------------------------------------- TensorBoard and progress


def _event_files(folder: Path) -> list[Path]:
    return sorted(folder.glob("events.out.tfevents.*"))


def test_make_writer_writes_events(tmp_path: Path) -> None:
    run = RunDir.create("Go", "ppo", root=tmp_path)
    writer = make_writer(run.path)
    try:
        writer.add_scalar("loss", 1.0, global_step=0)
        log_hparams_text(writer, {"lr": 3e-4, "net": {"blocks": 6}, "name": "a|b"})
        writer.flush()
    finally:
        writer.close()
    files = _event_files(run.path)
    assert len(files) == 1 and files[0].stat().st_size > 0


def test_make_writer_purge_step_on_resume(tmp_path: Path) -> None:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    with make_writer(tmp_path) as writer:
        for step in range(10):
            writer.add_scalar("x", float(step), step)
    with make_writer(tmp_path, purge_step=5) as writer:  # resume from a checkpoint at step 5
        for step in range(5, 8):
            writer.add_scalar("x", 100.0 + step, step)
    accumulator = EventAccumulator(str(tmp_path))
    accumulator.Reload()
    events = accumulator.Scalars("x")
    assert [event.step for event in events] == list(range(8))
    assert [event.value for event in events][5:] == [105.0, 106.0, 107.0]


def test_progress_wrapper() -> None:
    assert list(progress(range(3), desc="test", disable=True)) == [0, 1, 2]
    buffer = io.StringIO()
    with progress(total=10, desc="steps", unit="step", file=buffer) as bar:
        bar.update(4)
        assert bar.n == 4
    assert "steps" in buffer.getvalue() and "4/10" in buffer.getvalue()


def test_resume_budget_is_one_rule_for_every_trainer(tmp_path: Path) -> None:
    """No budget flag: the saved plan (totals); a flag: that much more than the checkpoint has done, and a saved
    budget whose flag is not given is dropped (the time limit; the count only where the trainer can do without)."""
    from deep_arena.runtime.cli import resume_budget
    from deep_arena.runtime.rundir import RunDir

    run = RunDir.create("go", "alphazero", root=tmp_path)
    ckpt = run.checkpoint_path(5)

    def plan(config, **kw):
        kw = {"key": "iterations", "flag": "--steps", "unit": "iteration", "done": 5, "given": None,
              "seconds_done": 126.0, **kw}
        return resume_budget(config, run, ckpt, **kw), config

    line, config = plan({"iterations": 10, "minutes": 30.0})
    assert config == {"iterations": 10, "minutes": 30.0}
    assert line == (f"resuming {run.path} from checkpoint_000000005.pt at iteration 5 (2.1 min): training to "
                    "iteration 10 or 30 min in all, whichever comes first (the saved plan)")
    line, config = plan({"iterations": 10, "minutes": 30.0}, given=2, required=False)
    assert config == {"iterations": 7, "minutes": None}
    assert line.endswith("at iteration 5 (2.1 min): training to iteration 7 (--steps 2 more)")
    line, config = plan({"iterations": 10, "minutes": 30.0}, given_minutes=0.5, required=False)
    assert config == {"iterations": None, "minutes": 2.6}
    assert line.endswith("training to 2.6 min in all (--minutes 0.5 more)")
    # a required count keeps its saved total when only --minutes is given
    _, config = plan({"iterations": 10, "minutes": None}, given_minutes=1.0)
    assert config == {"iterations": 10, "minutes": 3.1}
    # fractional counts (MolGAN's epochs) and no minutes budget at all (the tabular GAN)
    _, config = plan({"iterations": 1}, done=0.75, given=2, seconds_done=None)
    assert config == {"iterations": 2.75}
    _, config = plan({"iterations": 1}, done=1.0, given=2, seconds_done=None)
    assert config == {"iterations": 3} and isinstance(config["iterations"], int)
    # nothing left: a clear error that names the flag to give
    for config, kw in (({"iterations": 5, "minutes": None}, {}), ({"iterations": 100, "minutes": 2.0}, {}),
                       ({"iterations": 5, "minutes": None}, {"given_minutes": 1.0})):
        with pytest.raises(ValueError, match=r"is at iteration 5 \(2.1 min\): nothing left to train .* give --steps "
                                             r"N or --minutes M to train that much more"):
            plan(config, **kw)


def test_report_interrupted_prints_the_resume_command_or_why_there_is_none(capsys) -> None:
    from deep_arena.runtime.interrupts import INTERRUPTED_EXIT, report_interrupted

    assert report_interrupted("runs/x", ["arena-train", "arm", "--resume", "runs/x y"], saved=["a.zip", None]) == 130
    err = capsys.readouterr().err
    assert "interrupted: runs/x saved (a.zip)" in err and "continue with: arena-train arm --resume 'runs/x y'" in err
    assert report_interrupted("runs/x", None, note="cannot be resumed yet") == INTERRUPTED_EXIT
    err = capsys.readouterr().err
    assert "cannot be resumed yet" in err and "continue with" not in err
