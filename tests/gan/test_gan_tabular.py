"""Tabular GAN (gan.tabular): per-class marginals learnt, exact counts, transformer round trip, bad CSVs, model
files, and a smoke run of train_gan.py tabular / evaluate.py tabular."""

from __future__ import annotations

import copy
import json
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

ROOT = Path(__file__).resolve().parents[2]
torch.set_num_threads(1)

from deep_arena.gan.tabular import (DEFAULTS, TabularDataError, TabularGAN, TabularTrainer, TabularTransformer,  # noqa: E402
                                    class_marginals, demo_table, read_csv, train_model)

SMALL = {"model": {"latent_dim": 16, "generator_hidden": [64, 64], "critic_hidden": [64, 64], "dropout": 0.2, "pac": 1,
                   "tau": 0.2, "max_modes": 5, "mode_weight_threshold": 0.005},
         "batch_size": 64, "log_every": 50}


def small_config(**changes):
    config = copy.deepcopy(DEFAULTS)
    for key, value in {**SMALL, **changes}.items():
        config[key] = copy.deepcopy(value)
    return config


def write_table(path: Path, n_a: int = 300, n_b: int = 60, seed: int = 0) -> Path:
    """Class A: x bimodal at 0 and 10, colour mostly red; class B: x near 20, colour mostly blue or green."""
    rng = np.random.default_rng(seed)
    rows = []
    for _ in range(n_a):
        rows.append((rng.choice([0.0, 10.0]) + rng.normal(0, 1), rng.choice(["red", "blue"], p=[0.8, 0.2]), "A"))
    for _ in range(n_b):
        rows.append((20 + rng.normal(0, 1), rng.choice(["red", "blue", "green"], p=[0.1, 0.6, 0.3]), "B"))
    lines = ["x,colour,label"] + [f"{x:.4f},{c},{y}" for x, c, y in rows]
    path.write_text("\n".join(lines) + "\n")
    return path


def marginals_ok(synthetic) -> list[str]:
    """The per-class checks a working conditional GAN passes; returns the failures."""
    m = class_marginals(synthetic)
    fails = []
    if abs(m["A"]["x"]["mean"] - 5.0) > 2.0:
        fails.append(f"A mean {m['A']['x']['mean']:.2f}")
    if abs(m["B"]["x"]["mean"] - 20.0) > 2.0:
        fails.append(f"B mean {m['B']['x']['mean']:.2f}")
    xa = synthetic.data["x"][synthetic.labels == "A"]
    low, high = np.mean(np.abs(xa) < 3), np.mean(np.abs(xa - 10) < 3)
    if low < 0.25 or high < 0.25:
        fails.append(f"A not bimodal ({low:.2f} near 0, {high:.2f} near 10)")
    if abs(m["A"]["colour"].get("red", 0) - 0.8) > 0.15:
        fails.append(f"A red {m['A']['colour'].get('red', 0):.2f}")
    if abs(m["B"]["colour"].get("blue", 0) - 0.6) > 0.2 or m["B"]["colour"].get("green", 0) < 0.1:
        fails.append(f"B colours {m['B']['colour']}")
    return fails


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    path = write_table(tmp_path_factory.mktemp("tab") / "t.csv")
    table = read_csv(path, "label")
    trainer = TabularTrainer(table, small_config(epochs=160), seed=0)   # 5 steps per epoch -> 800 steps
    untrained = copy.deepcopy(trainer.model)
    trainer.train()
    return table, trainer.model, untrained


def test_reads_kinds(trained):
    table, _, _ = trained
    assert table.kinds == {"x": "continuous", "colour": "categorical", "label": "categorical"}
    assert table.class_counts() == {"A": 300, "B": 60}


def test_per_class_marginals_learnt_and_untrained_fails(trained):
    _, model, untrained = trained
    assert marginals_ok(model.sample({"A": 600, "B": 600}, seed=1)) == []
    assert marginals_ok(untrained.sample({"A": 600, "B": 600}, seed=1)) != []


def test_exact_counts_per_class(trained):
    table, model, _ = trained
    for counts in ({"A": 7, "B": 123}, {"B": 1}, {"A": 0, "B": 0}):
        assert model.sample(counts, seed=3).class_counts() == {k: v for k, v in counts.items() if v}
    drawn = model.sample(50, seed=0)
    assert sum(drawn.class_counts().values()) == 50
    a = model.sample({"A": 5, "B": 5}, seed=9)
    b = model.sample({"A": 5, "B": 5}, seed=9)
    assert np.array_equal(a.data["x"], b.data["x"])
    with pytest.raises(ValueError, match="unknown class 'C'"):
        model.sample({"C": 3})
    with pytest.raises(ValueError, match="non-negative"):
        model.sample({"A": -1})


def test_transformer_round_trip(trained):
    table, _, _ = trained
    tr = TabularTransformer.fit(table, max_modes=5, seed=0)
    back = tr.decode(tr.encode(table, np.random.default_rng(0)), table.labels)
    err = np.abs(back.data["x"] - table.data["x"])
    assert np.mean(err < 1e-6 * 20) > 0.98 and err.max() < 5
    assert np.array_equal(back.data["colour"], table.data["colour"])
    assert np.array_equal(back.labels, table.labels)
    # the plain-number state rebuilds the same transformer
    again = TabularTransformer(tr.to_dict())
    assert again.spans == tr.spans and json.dumps(tr.to_dict())


def test_save_load_and_corrupt(trained, tmp_path):
    _, model, _ = trained
    path = model.save(tmp_path / "model.pt")
    loaded = TabularGAN.load(path)
    a, b = model.sample({"A": 20, "B": 20}, seed=5), loaded.sample({"A": 20, "B": 20}, seed=5)
    assert np.allclose(a.data["x"], b.data["x"]) and np.array_equal(a.data["colour"], b.data["colour"])
    assert TabularGAN.load(tmp_path).transformer.classes == ["A", "B"]     # a run directory works too
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a model")
    with pytest.raises(ValueError, match="cannot read tabular GAN model"):
        TabularGAN.load(bad)
    with pytest.raises(ValueError, match="does not exist"):
        TabularGAN.load(tmp_path / "missing.pt")
    torch.save({"kind": "molgan-generator"}, tmp_path / "other.pt")
    with pytest.raises(ValueError, match="not a tabular GAN model"):
        TabularGAN.load(tmp_path / "other.pt")


def test_seeded_training_is_deterministic(tmp_path):
    table = read_csv(write_table(tmp_path / "t.csv", 40, 20), "label")
    runs = [train_model(table, small_config(epochs=3), seed=4).sample({"A": 10, "B": 10}, seed=0)
            for _ in range(2)]
    assert np.array_equal(runs[0].data["x"], runs[1].data["x"])


@pytest.mark.parametrize("text, match", [
    ("", "empty"),
    ("x,label\n", "no data rows"),
    ("x,y\n1,a\n2,b\n", "target column 'label' not found; columns: x, y"),
    ("x,label\n" + "".join(f"{i},A\n" for i in range(20)), "one class only"),
    ("x,label\n" + "".join(f"{i},A\n" for i in range(20)) + "1,B\n2,B\n", "class 'B' of 'label' has only 2 row"),
    ("x,label\n" + "".join(f"{i}.5,{'AB'[i % 2]}\n" for i in range(20)) + "oops,A\n",
     r"column 'x' is numeric but line 22 holds 'oops'"),
    ("x,label\n" + "".join(f"{i}.5,{'AB'[i % 2]}\n" for i in range(20)) + ",A\n",
     "column 'x' has a missing value .an empty cell. at line 22"),
    ("x,label\n" + "".join(f"{i}.5,{'AB'[i % 2]}\n" for i in range(20)) + "NaN,A\n", "missing value .'NaN'."),
    ("x,label\n1,A,3\n", "line 2 has 3 fields"),
    ("x,x,label\n1,2,A\n", "duplicate column"),
    ("label\nA\nB\n", "at least one feature column"),
])
def test_bad_csv(tmp_path, text, match):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(TabularDataError, match=match):
        read_csv(path, "label")


def test_column_rules(tmp_path):
    path = tmp_path / "t.csv"
    rows = [f"{i * 1.5},{i % 3},{'cat' if i % 2 else 'dog'},{'AB'[i % 2]}" for i in range(30)]
    path.write_text("num,few,word,label\n" + "\n".join(rows) + "\n")
    table = read_csv(path, "label")
    assert table.kinds == {"num": "continuous", "few": "categorical", "word": "categorical", "label": "categorical"}
    assert read_csv(path, "label", categorical=["num"]).kinds["num"] == "categorical"
    with pytest.raises(TabularDataError, match="not in the header"):
        read_csv(path, "label", categorical=["nope"])


def test_cli_train_and_evaluate(tmp_path, capsys):
    from deep_arena.scripts import evaluate
    from deep_arena.scripts import train_gan

    csv_path = write_table(tmp_path / "t.csv", 80, 30)
    code = train_gan.main(["tabular", "--data", str(csv_path), "--target", "label", "--epochs", "2",
                           "--run-root", str(tmp_path), "--no-progress", "--device", "cpu",
                           "--set", "model.generator_hidden=[32]", "--set", "model.critic_hidden=[32]",
                           "--set", "batch_size=32", "--set", "threads=1"])
    assert code == 0
    (run,) = list((tmp_path / "gan").iterdir())
    for name in ("model.pt", "synthetic.csv", "marginals.png", "config.yml", "command.txt"):
        assert (run / name).is_file(), name
    out = capsys.readouterr().out
    assert "steps 6 (2 epochs of 3)" in out and "per-class mean gap" in out and str(run / "model.pt") in out
    assert any(p.name.startswith("events.out.tfevents") for p in run.iterdir())
    assert read_csv(run / "synthetic.csv", "label").class_counts() == {"A": 80, "B": 30}
    capsys.readouterr()
    out = tmp_path / "eval"
    code = evaluate.main(["tabular", "--model", str(run / "model.pt"), "--data", str(csv_path), "--target", "label",
                          "--seeds", "2", "--no-peer", "--out", str(out), "--no-progress"])
    assert code == 0
    result = json.loads((out / "results.json").read_text())
    assert set(result["summary"]) >= {"trtr", "tstr_ours", "smote", "aug_ours"} and len(result["per_seed"]) == 2
    assert (out / "utility.png").is_file() and "TSTR ours" in capsys.readouterr().out
    # errors: missing target, bad model
    with pytest.raises(SystemExit):
        train_gan.main(["tabular", "--data", str(csv_path), "--target", "nope", "--run-root", str(tmp_path)])
    assert "target column 'nope' not found" in capsys.readouterr().err
    (tmp_path / "junk.pt").write_bytes(b"junk")
    assert evaluate.main(["tabular", "--model", str(tmp_path / "junk.pt"), "--data", str(csv_path)]) == 2
    assert "cannot read tabular GAN model" in capsys.readouterr().err


def test_settings_are_the_defaults_and_name_bad_values():
    from deep_arena.gan.tabular import validate_config
    from deep_arena.gan.tabular.config import TabularGANSettings

    assert DEFAULTS == TabularGANSettings.defaults()
    assert DEFAULTS["wgan"]["n_critic"] == 1 and DEFAULTS["wgan"]["amp"] is False   # not the core's 5 / True
    for change, message in (({"model": {"dropout": 1.0}}, "model.dropout must be a number in [0, 1), got 1.0"),
                            ({"checkpoint_every": -1}, "checkpoint_every must be an integer >= 0, got -1"),
                            ({"class_sampling": "x"}, "class_sampling must be one of 'log', 'uniform', 'frequency'"),
                            ({"wgan": {"lr_critic": 0}}, "wgan.lr_critic must be a positive number, got 0"),
                            ({"model": {"critic_hidden": [0]}}, "model.critic_hidden must be a list of positive"),
                            ({"modle": {}}, "unknown setting(s) modle")):
        with pytest.raises(ValueError) as err:
            validate_config(small_config(**change))
        assert message in str(err.value)
    # a config saved before a setting existed: missing keys (here in nested groups) take that group's defaults
    old = small_config()
    del old["checkpoint_every"], old["model"]["pac"], old["wgan"]["n_critic"]
    settings = validate_config(old)
    assert (settings.checkpoint_every, settings.model.pac, settings.wgan.n_critic) == (50, 1, 1)


def test_trainer_protocol_and_run_result(tmp_path):
    from deep_arena.gan.tabular.run import TabularGANTrainer
    from deep_arena.runtime import RunDir
    from deep_arena.runtime.trainer import RunResult, Trainer

    csv_path = write_table(tmp_path / "t.csv", 80, 30)
    config = small_config(data=str(csv_path), target="label", epochs=2, batch_size=32, device="cpu", threads=1,
                          model={**SMALL["model"], "generator_hidden": [32], "critic_hidden": [32]})
    run_dir = RunDir.create("gan", "tabular", root=tmp_path)
    trainer = TabularGANTrainer(config, run_dir, progress_bar=False)     # reads the config's CSV
    assert isinstance(trainer, Trainer) and trainer.loop is None
    result = trainer.run()
    assert isinstance(result, RunResult) and result.stopped_by == "budget"
    assert result.counters == {"steps": 6, "steps_per_epoch": 3} and result.metrics["epochs"] == 2.0
    assert result.model_path == run_dir.path / "model.pt" and result.model_path.is_file()
    assert result.metrics["mean_gap_std"] >= 0 and result.details["classes"] == {"A": 80, "B": 30}
    # the trainer's epochs are a total; --resume turns "--epochs N more" into one (runtime.cli.resume_budget)
    assert TabularGANTrainer.epochs_done(run_dir.latest_checkpoint(), batch_size=32) == 2.0
    more = TabularGANTrainer({**config, "epochs": 3}, run_dir, progress_bar=False)
    more.load(run_dir.latest_checkpoint())
    assert more.loop.wgan.step == 6 and more.run().counters["steps"] == 9


def test_demo_table(tmp_path):
    table = read_csv(demo_table(tmp_path / "demo.csv"), "diagnosis")
    assert table.class_counts() == {"benign": 357, "malignant": 42}
    assert len(table.feature_columns) == 30 and all(table.kinds[c] == "continuous" for c in table.feature_columns)


# --- resuming ------------------------------------------------------------------------------------------------------

TINY = ["--no-progress", "--device", "cpu", "--set", "model.generator_hidden=[32]", "--set", "model.critic_hidden=[32]",
        "--set", "batch_size=32", "--set", "threads=1", "--set", "log_every=4", "--set", "checkpoint_every=1"]


def _train(root: Path, csv_path: Path, epochs: int) -> Path:
    from deep_arena.scripts import train_gan

    assert train_gan.main(["tabular", "--data", str(csv_path), "--target", "label", "--epochs", str(epochs),
                           "--run-root", str(root), "--seed", "3"] + TINY) == 0
    (run,) = list((root / "gan").iterdir())
    return run


def _scalars(run: Path, tag: str) -> list[tuple[int, float]]:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(run), size_guidance={"scalars": 0})
    acc.Reload()
    return [(e.step, e.value) for e in acc.Scalars(tag)]


def test_resume_continues_and_equals_straight_run(tmp_path, capsys):
    from deep_arena.scripts import train_gan

    csv_path = write_table(tmp_path / "t.csv", 80, 30)           # 110 rows // 32 -> 3 steps per epoch
    straight = _train(tmp_path / "straight", csv_path, 4)
    run = _train(tmp_path / "resumed", csv_path, 2)
    assert sorted(p.name for p in (run / "checkpoints").iterdir()) == ["checkpoint_000000003.pt",
                                                                         "checkpoint_000000006.pt"]
    # a config.yml saved before model.pac and wgan.amp existed still resumes: missing keys take their defaults (the
    # values this run had), so the resumed run still equals the straight one
    saved = yaml.safe_load((run / "config.yml").read_text())
    del saved["model"]["pac"], saved["wgan"]["amp"]
    (run / "config.yml").write_text(yaml.safe_dump(saved))
    capsys.readouterr()
    assert train_gan.main(["tabular", "--resume", str(run), "--epochs", "2", "--no-progress"]) == 0  # 2 more
    assert "from checkpoint_000000006.pt at epoch 2: training to epoch 4 (--epochs 2 more) (step 6)" \
        in capsys.readouterr().out
    ckpts = sorted(p.name for p in (run / "checkpoints").iterdir())
    assert ckpts == [f"checkpoint_{s:09d}.pt" for s in (3, 6, 9, 12)]
    state = torch.load(run / "checkpoints" / ckpts[-1], weights_only=True)
    assert state["counters"]["step"] == 12 and state["counters"]["epoch"] == 4 and state["wgan"]["step"] == 12
    resumed = yaml.safe_load((run / "config.yml").read_text())
    assert resumed["epochs"] == 4 and resumed["model"]["pac"] == 1 and resumed["wgan"]["amp"] is False
    # the model file is rewritten and its weights equal the straight 4-epoch run's bit for bit
    a, b = TabularGAN.load(straight / "model.pt"), TabularGAN.load(run / "model.pt")
    assert a.steps == b.steps == 12
    for (name, x), (_, y) in zip(a.generator.state_dict().items(), b.generator.state_dict().items()):
        assert torch.equal(x, y), name
    for (name, x), (_, y) in zip(a.critic.state_dict().items(), b.critic.state_dict().items()):
        assert torch.equal(x, y), name
    # TensorBoard continues: the first run's final point (step 6, a partial window) is purged, the resumed run's
    # points continue that window, so the curve equals the straight run's
    curve = _scalars(run, "gan/wasserstein")
    assert [s for s, _ in curve] == [4, 8, 12]
    assert curve == _scalars(straight, "gan/wasserstein")


def test_resume_bad_inputs(tmp_path, capsys):
    import shutil

    from deep_arena.scripts import train_gan

    csv_path = write_table(tmp_path / "t.csv", 80, 30)
    run = _train(tmp_path / "runs", csv_path, 1)
    other = write_table(tmp_path / "other.csv", 80, 30, seed=1)

    def refused(args: list[str], match: str) -> None:
        capsys.readouterr()
        with pytest.raises(SystemExit) as info:
            train_gan.main(["tabular", "--no-progress"] + args)
        assert info.value.code == 2
        err = capsys.readouterr().err
        assert match in err, err

    refused(["--resume", str(run), "--data", str(other)], "--data cannot change it")
    refused(["--resume", str(run), "--batch-size", "8", "--seed", "1"], "--batch-size, --seed cannot change it")
    refused(["--resume", str(tmp_path / "nowhere")], "does not exist")
    (tmp_path / "empty").mkdir()
    refused(["--resume", str(tmp_path / "empty")], "not a tabular GAN run directory")
    refused(["--resume", str(run)], "is at epoch 1: nothing left to train (training to epoch 1 (the saved plan)); "
                                    "give --epochs N")
    # corrupt newest checkpoint
    broken = tmp_path / "broken"
    shutil.copytree(run, broken)
    (broken / "checkpoints" / "checkpoint_000000003.pt").write_bytes(b"junk")
    refused(["--resume", str(broken), "--epochs", "2"], "Cannot load checkpoint")
    # another kind of checkpoint
    torch.save({"kind": "molgan-checkpoint"}, broken / "checkpoints" / "checkpoint_000000003.pt")
    refused(["--resume", str(broken), "--epochs", "2"], "is not a tabular GAN training checkpoint")
    # the CSV changed since the run started
    shutil.copy(other, csv_path)
    refused(["--resume", str(run), "--epochs", "2"], "was trained on other data")


def test_interrupt_finishes_the_epoch_saves_and_resume_trains_exactly_that_much_more(tmp_path, capsys, monkeypatch):
    """Ctrl-C: the epoch in progress finishes, a checkpoint and model.pt are saved (no samples), the exact resume
    command is printed, exit status 130; --resume with --epochs 1 trains one more epoch, with no flag the plan."""
    import os
    import signal

    from deep_arena.gan.tabular.trainer import TabularTrainer
    from deep_arena.scripts import train_gan

    csv_path = write_table(tmp_path / "t.csv", 80, 30)           # 110 rows // 32 -> 3 steps per epoch
    calls = []
    original = TabularTrainer.sample_real

    def sample_real(self, n):
        calls.append(n)
        if len(calls) == 5:        # during the first epochs (a step samples once per critic step)
            os.kill(os.getpid(), signal.SIGINT)
        return original(self, n)

    monkeypatch.setattr(TabularTrainer, "sample_real", sample_real)
    code = train_gan.main(["tabular", "--data", str(csv_path), "--target", "label", "--epochs", "50",
                           "--run-root", str(tmp_path / "runs"), *TINY, "--set", "checkpoint_every=0"])
    assert code == 130
    captured = capsys.readouterr()
    (run,) = (tmp_path / "runs" / "gan").iterdir()
    assert f"continue with: arena-train gan tabular --resume {run}" in captured.err
    assert "Traceback" not in captured.err and f"run directory: {run} (" in captured.out
    (ckpt,) = (run / "checkpoints").iterdir()
    step = torch.load(ckpt, weights_only=True)["counters"]["step"]
    assert step % 3 == 0 and 0 < step < 150                        # an epoch's end
    assert (run / "model.pt").is_file() and not (run / "synthetic.csv").exists()
    monkeypatch.setattr(TabularTrainer, "sample_real", original)
    assert train_gan.main(["tabular", "--resume", str(run), "--epochs", "1", "--no-progress"]) == 0
    assert f"training to epoch {step // 3 + 1} (--epochs 1 more)" in capsys.readouterr().out
    assert TabularGAN.load(run / "model.pt").steps == step + 3
