"""train_gan.py molecules: a tiny run, resume continues the counters, RL term, bad inputs; evaluate.py gan smoke."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import torch
import yaml

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "tests" / "data" / "qm9_sample.smi"
torch.set_num_threads(1)

from deep_arena.scripts import evaluate  # noqa: E402
from deep_arena.scripts import train_gan  # noqa: E402

TINY = ["--set", "threads=1", "--set", "sample_n=40", "--set", "sample_every=4", "--set", "checkpoint_every=4",
        "--set", "log_every=2", "--set", "batch_size=8", "--set", "wgan.n_critic=2", "--no-progress",
        "--device", "cpu"]


def _run_dir(root: Path) -> Path:
    (run,) = list((root / "gan").iterdir())
    return run


def test_tiny_run_resume_and_evaluate(tmp_path, capsys):
    smi = tmp_path / "small.smi"
    smi.write_text("\n".join(SAMPLE.read_text().splitlines()[1:121]) + "\n")
    # 120 molecules, batch 8, n_critic 2 -> 7 steps per epoch
    assert train_gan.main(["molecules", "--dataset", str(smi), "--epochs", "1", "--run-root", str(tmp_path), *TINY]) == 0
    run = _run_dir(tmp_path)
    assert (run / "generator.pt").is_file() and (run / "config.yml").is_file()
    assert (run / "best_generator.pt").is_file()
    from deep_arena.runtime import load_checkpoint

    first = load_checkpoint(sorted((run / "checkpoints").iterdir())[-1])
    assert first["counters"]["step"] == 7
    out = capsys.readouterr().out
    assert "steps 7 (epoch 1.00)" in out and "best sampled (unique valid" in out and str(run / "generator.pt") in out
    # a config.yml saved before rl_memory and model.temperature existed still resumes (they take their defaults)
    saved = yaml.safe_load((run / "config.yml").read_text())
    del saved["rl_memory"], saved["model"]["temperature"]
    (run / "config.yml").write_text(yaml.safe_dump(saved))
    assert train_gan.main(["molecules", "--resume", str(run), "--epochs", "1", *TINY[-3:]]) == 0  # 1 more
    assert "at epoch 1 (" in capsys.readouterr().out
    resumed = yaml.safe_load((run / "config.yml").read_text())
    assert resumed["rl_memory"] == 0 and resumed["model"]["temperature"] == 1.0 and resumed["epochs"] == 2
    last = load_checkpoint(sorted((run / "checkpoints").iterdir())[-1])
    assert last["counters"]["step"] == 14 and last["wgan"]["step"] == 14 and last["wgan"]["critic_steps"] == 28
    # checkpoints at 4, 7, 8, 12, 14: the newest keep_checkpoints (3) are kept
    assert sorted(p.name for p in (run / "checkpoints").iterdir()) == [
        f"checkpoint_{s:09d}.pt" for s in (8, 12, 14)]
    assert last["counters"]["best_score"] >= first["counters"]["best_score"] >= 0
    assert any(p.name.startswith("events.out.tfevents") for p in run.iterdir())
    capsys.readouterr()

    out = tmp_path / "eval"
    code = evaluate.main(["gan", "--model", str(run), "--n", "60", "--train-data", str(smi), "--no-fcd",
                          "--out", str(out), "--samples", str(tmp_path / "designs.smi")])
    assert code == 0
    result = json.loads((out / "results.json").read_text())
    for key in ("validity", "unique@1k", "unique@10k", "novelty", "intdiv", "fcd", "pains_pass"):
        assert key in result
    assert (out / "properties.png").is_file()
    assert len((tmp_path / "designs.smi").read_text().splitlines()) == 60
    assert "validity" in capsys.readouterr().out


def test_rl_term_runs(tmp_path):
    smi = tmp_path / "small.smi"
    smi.write_text("\n".join(SAMPLE.read_text().splitlines()[1:41]) + "\n")
    assert train_gan.main(["molecules", "--dataset", str(smi), "--epochs", "1", "--lambda-rl", "0.5",
                           "--objective", "qed", "--run-root", str(tmp_path), *TINY]) == 0
    from deep_arena.runtime import load_checkpoint

    run = _run_dir(tmp_path)
    state = load_checkpoint(sorted((run / "checkpoints").iterdir())[-1])
    assert state["config"]["lambda_rl"] == 0.5 and state["counters"]["step"] == 2


def test_rl_repeat_discount_divides_by_recent_count_and_resumes(tmp_path):
    from rdkit import Chem

    from deep_arena.runtime import save_checkpoint
    from deep_arena.gan.trainer import DEFAULTS, MolGANTrainer, validate_config

    smiles = SAMPLE.read_text().splitlines()[1:41]
    config = {**DEFAULTS, "lambda_rl": 0.5, "rl_memory": 3, "threads": 1, "batch_size": 8, "device": "cpu",
              "seed": 0, "dataset": "sample", "wgan": {**DEFAULTS["wgan"], "n_critic": 2}}
    trainer = MolGANTrainer(config, None, progress_bar=False, smiles=smiles)
    ethanol, water = Chem.MolFromSmiles("CCO"), Chem.MolFromSmiles("O")
    got = trainer._repeat_discounted([0.4, 0.4, 0.3, 0.0, 0.4], [ethanol, ethanol, water, None, ethanol])
    # CCO once, twice, O once, invalid (not remembered), CCO: the first CCO has left the 3-long memory -> twice
    assert got == pytest.approx([0.4, 0.2, 0.3, 0.0, 0.2])
    assert list(trainer.recent) == ["CCO", "O", "CCO"]
    save_checkpoint(tmp_path / "c.pt", trainer.state_dict())
    again = MolGANTrainer(config, None, progress_bar=False, smiles=smiles)
    again.load(tmp_path / "c.pt")
    assert again._repeat_discounted([0.6], [water]) == pytest.approx([0.3])   # memory O, CCO, O
    off = MolGANTrainer({**config, "rl_memory": 0}, None, progress_bar=False, smiles=smiles)
    assert off._repeat_discounted([0.4, 0.4], [ethanol, ethanol]) == [0.4, 0.4]
    with pytest.raises(ValueError, match="rl_memory"):
        validate_config({**config, "rl_memory": -1})


def test_rl_term_with_a_user_callable_objective(tmp_path):
    """The reward network can learn any ``mol -> float`` (the issue: QED, logP, SA "or a user callable")."""
    from rdkit import Chem

    from deep_arena.gan.trainer import DEFAULTS, MolGANTrainer, validate_config
    from deep_arena.runtime import RunDir
    from deep_arena.runtime.trainer import RunResult, Trainer

    def heavy_atom_fraction(mol):
        return mol.GetNumAtoms() / 9.0

    smiles = SAMPLE.read_text().splitlines()[1:41]
    config = {**DEFAULTS, "lambda_rl": 0.5, "threads": 1, "batch_size": 8, "device": "cpu", "seed": 0,
              "dataset": "sample", "epochs": 1, "wgan": {**DEFAULTS["wgan"], "n_critic": 2}, "sample_n": 20,
              "log_every": 1}
    run = RunDir.create("gan", "molgan", root=tmp_path)
    trainer = MolGANTrainer(config, run, progress_bar=False, smiles=smiles, objective=heavy_atom_fraction)
    assert trainer.config["objective"] == "custom"
    assert trainer.score(Chem.MolFromSmiles("CCO")) == pytest.approx(3 / 9) and trainer.score(None) == 0.0
    assert trainer._real_score(0) == pytest.approx(Chem.MolFromSmiles(trainer.smiles[0]).GetNumAtoms() / 9)
    assert isinstance(trainer, Trainer)
    result = trainer.run()
    assert isinstance(result, RunResult) and result.stopped_by == "budget" and result.counters["steps"] >= 1
    assert result.model_path == run.path / "generator.pt" and result.model_path.is_file()
    assert {"validity", "uniqueness", "unique_valid", "best_unique_valid", "epochs", "seconds"} <= set(result.metrics)
    assert result.details["step"] == result.counters["steps"] and "last_samples" in result.details
    broken = MolGANTrainer(config, None, progress_bar=False, smiles=smiles, objective=lambda m: float("nan"))
    assert broken.score(Chem.MolFromSmiles("CCO")) == 0.0                 # non-finite scores count as 0
    with pytest.raises(ValueError, match="callable"):
        MolGANTrainer(config, None, progress_bar=False, smiles=smiles, objective="qed!")
    with pytest.raises(ValueError, match="custom"):
        validate_config({**config, "objective": "custom"})


def test_interrupt_saves_prints_the_resume_command_and_resume_trains_exactly_that_much_more(tmp_path, capsys,
                                                                                           monkeypatch):
    """Ctrl-C: the step in progress finishes, a checkpoint and generator.pt are saved (no final samples), the exact
    resume command is printed, exit status 130; --resume --epochs 1 trains one more epoch (7 steps)."""
    import os
    import signal

    from deep_arena.gan.trainer import MolGANTrainer
    from deep_arena.runtime import load_checkpoint

    smi = tmp_path / "small.smi"
    smi.write_text("\n".join(SAMPLE.read_text().splitlines()[1:121]) + "\n")
    calls, original = [], MolGANTrainer.sample_real

    def sample_real(self, n):
        calls.append(n)
        if len(calls) == 9:   # around generator step 4 (two critic batches a step)
            os.kill(os.getpid(), signal.SIGINT)
        return original(self, n)

    monkeypatch.setattr(MolGANTrainer, "sample_real", sample_real)
    code = train_gan.main(["molecules", "--dataset", str(smi), "--epochs", "100", "--run-root", str(tmp_path),
                           *TINY, "--set", "sample_every=1000"])
    assert code == 130
    captured = capsys.readouterr()
    run = _run_dir(tmp_path)
    assert f"continue with: arena-train gan molecules --resume {run}" in captured.err
    assert "Traceback" not in captured.err and "SIGINT: stopping" in captured.err
    latest = sorted((run / "checkpoints").iterdir())[-1]
    k = load_checkpoint(latest)["counters"]["step"]
    assert latest.name == f"checkpoint_{k:09d}.pt" and 3 <= k <= 5   # the step in progress finished
    assert (run / "generator.pt").is_file()
    monkeypatch.setattr(MolGANTrainer, "sample_real", original)
    assert train_gan.main(["molecules", "--resume", str(run), "--epochs", "1", *TINY[-3:]]) == 0
    out = capsys.readouterr().out
    assert f"at epoch {k / 7:.4g} (" in out and f"training to epoch {(k + 7) / 7:.4g} (--epochs 1 more)" in out
    assert load_checkpoint(sorted((run / "checkpoints").iterdir())[-1])["counters"]["step"] == k + 7


def test_settings_are_the_defaults_and_name_bad_values():
    """DEFAULTS and validate_config derive from gan.config.MolGANSettings; an old config lacking newer keys loads."""
    from deep_arena.gan.config import MolGANSettings
    from deep_arena.gan.trainer import DEFAULTS, validate_config

    assert DEFAULTS == MolGANSettings.defaults() and DEFAULTS["wgan"]["lr_generator"] == 1e-3
    for change, message in (({"wgan": {"n_critic": 0}}, "wgan.n_critic must be a positive integer, got 0"),
                            ({"batch_size": 1}, "batch_size must be an integer >= 2, got 1"),
                            ({"lambda_rl": 1.5}, "lambda_rl must be a number in [0, 1], got 1.5"),
                            ({"model": {"decode": "greedy"}}, "model.decode must be one of 'sample'"),
                            ({"wgan": {"betas": [0.5, 1.0]}}, "wgan.betas must be two numbers in [0, 1)"),
                            ({"wgan": {"typo": 1}}, "unknown setting(s) wgan.typo")):
        with pytest.raises(ValueError) as err:
            validate_config({**DEFAULTS, **change})
        assert message in str(err.value)
    old = {k: v for k, v in DEFAULTS.items() if k != "rl_memory"}
    old["model"] = {k: v for k, v in DEFAULTS["model"].items() if k != "temperature"}
    settings = validate_config(old)
    assert settings.rl_memory == 0 and settings.model.temperature == 1.0 and settings.wgan.lr_critic == 1e-3
    assert validate_config({"objective": "custom"}, custom_objective=True).objective == "custom"


def test_bad_inputs_give_clear_errors(tmp_path, capsys):
    with pytest.raises(SystemExit):
        train_gan.main(["molecules", "--dataset", str(tmp_path / "missing.smi"), *TINY])
    assert "does not exist" in capsys.readouterr().err
    bad = tmp_path / "bad.smi"
    bad.write_text("not_a_smiles\nC[Cl]Br(\n")
    with pytest.raises(SystemExit):
        train_gan.main(["molecules", "--dataset", str(bad), *TINY])
    assert "none of the 2 SMILES fits" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        train_gan.main(["molecules", "--lambda-rl", "1.5", *TINY])
    corrupt = tmp_path / "generator.pt"
    corrupt.write_bytes(b"garbage")
    assert evaluate.main(["gan", "--model", str(corrupt), "--n", "10", "--no-fcd"]) == 2
    assert "Cannot load checkpoint" in capsys.readouterr().err
    assert evaluate.main(["gan", "--model", str(tmp_path / "nope.pt"), "--n", "10"]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_data_errors_name_the_install(monkeypatch):
    from deep_arena.gan import data

    monkeypatch.setattr(data, "package_dir", lambda name: None)
    with pytest.raises(data.DataError, match="pip install qm9pack"):
        data.load_dataset("qm9")
    with pytest.raises(data.DataError, match="--no-deps molsets"):
        data.load_dataset("moses")
