"""gan.latentgan: the heteroencoder and LatentGAN model (files, sampling, bad inputs), arena-train gan latentgan (both
phases, TensorBoard, resume, ending the heteroencoder phase early), arena-evaluate gan on it, load_pretrained names
and a 2-process torchrun run."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from rdkit import Chem

from deep_arena import gan
from deep_arena.gan.distributed import weights_digest
from deep_arena.gan.latentgan import LatentGAN
from deep_arena.gan.latentgan.trainer import randomized_smiles
from deep_arena.gan.lm import SmilesVocabulary
from deep_arena.runtime import load_checkpoint
from deep_arena.scripts import train_gan

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "tests" / "data" / "qm9_sample.smi"
torch.set_num_threads(1)
SMILES = ["CCO", "c1ccccc1O", "CC(=O)Nc1ccccc1", "OCC1CC1", "N#CC(C)C"]
TINY = ["--batch-size", "16", "--set", "model.hidden_size=16", "--set", "model.embedding_dim=8", "--set",
        "model.layers=1", "--set", "model.latent_size=8", "--set", "gan.hidden=[16,16]", "--set", "gan.batch_size=8",
        "--set", "gan.noise_size=4", "--set", "sample_n=20", "--set", "sample_every=6", "--set",
        "checkpoint_every=6", "--set", "log_every=2", "--set", "sample_fcd=false", "--set", "threads=1",
        "--device", "cpu", "--no-progress"]


def _model() -> LatentGAN:
    torch.manual_seed(0)
    vocab = SmilesVocabulary.from_smiles(SMILES)
    return LatentGAN(vocab, {"embedding_dim": 8, "hidden_size": 16, "layers": 1, "latent_size": 8,
                             "noise_size": 4, "gan_hidden": [16], "max_length": 20})


def test_model_encode_decode_sample_and_files(tmp_path):
    model = _model()
    z = model.encode(SMILES)
    assert z.shape == (5, 8) and float(z.abs().max()) < 1
    decoded = model.decode(z)
    assert len(decoded) == 5 and all(isinstance(s, str) for s in decoded)
    a, b = model.sample(12, seed=3), model.sample(12, seed=3)
    assert a == b and len(a) == 12
    assert model.sample(12, seed=4, greedy=False) == model.sample(12, seed=4, greedy=False)
    path = model.save(tmp_path / "lg.pt")
    state = torch.load(path, weights_only=True)
    assert state["kind"] == "latentgan" and "critic" not in state
    loaded = LatentGAN.load(path)
    assert loaded.sample(12, seed=3) == a
    assert torch.allclose(loaded.encode(SMILES), z)
    # teacher-forced logits have the targets' shape
    tokens, lengths = model.encode_tokens(SMILES)
    logits, latent = model.autoencoder(tokens, lengths, tokens, noise_std=0.1)
    assert logits.shape == (*tokens.shape, len(model.vocab)) and latent.shape == (5, 8)


def test_bad_inputs(tmp_path):
    model = _model()
    with pytest.raises(TypeError, match="list of SMILES"):
        model.encode("CCO")
    with pytest.raises(ValueError, match="positive number"):
        model.sample(0)
    with pytest.raises(ValueError, match="temperature"):
        model.decode(torch.zeros(2, 8), greedy=False, temperature=0)
    with pytest.raises(FileNotFoundError, match="no LatentGAN model"):
        LatentGAN.load(tmp_path / "none.pt")
    torch.save({"kind": "chemical-lm"}, tmp_path / "lm.pt")
    with pytest.raises(ValueError, match="not a LatentGAN model"):
        LatentGAN.load(tmp_path / "lm.pt")


def test_randomized_smiles_are_the_same_molecules():
    import numpy as np

    smiles = ["CC(=O)Nc1ccccc1", "OCC1CC1N"]
    rand = randomized_smiles(smiles * 3, np.arange(6))
    assert [Chem.CanonSmiles(r) for r in rand] == [Chem.CanonSmiles(s) for s in smiles * 3]
    assert len(set(rand)) > 2                                     # different seeds, different strings
    assert randomized_smiles(smiles, np.array([5, 6])) == randomized_smiles(smiles, np.array([5, 6]))


def _scalar_tags(run: Path) -> dict[str, list[int]]:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(run))
    acc.Reload()
    return {t: [e.step for e in acc.Scalars(t)] for t in acc.Tags()["scalars"]}


def test_train_both_phases_resume_and_evaluate(tmp_path, capsys, monkeypatch):
    args = ["latentgan", "--dataset", str(SAMPLE), "--limit", "200", "--ae-epochs", "1", "--gan-epochs", "1",
            "--run-root", str(tmp_path), *TINY]
    assert train_gan.main(args) == 0
    (run,) = list((tmp_path / "gan").iterdir())
    out = capsys.readouterr().out
    # 198 molecules (1 % held out) in batches of 16: 13 heteroencoder steps; 198 // (8 * 5) = 4 WGAN-GP steps
    assert "steps 17 (13 heteroencoder of 13, 4 WGAN-GP of 4)" in out
    tags = _scalar_tags(run)
    for tag in ("ae/loss_per_token", "ae/token_accuracy", "ae/reconstruction", "ae/reconstruction_canonical",
                "gan/wasserstein", "gan/critic_loss", "samples/validity", "samples/uniqueness"):
        assert tag in tags, tag
    assert tags["ae/reconstruction"] == [6, 12, 13]
    ckpt = load_checkpoint(sorted(run.joinpath("checkpoints").iterdir())[-1])
    assert ckpt["kind"] == "latentgan-checkpoint" and ckpt["counters"]["step"] == 17
    model = LatentGAN.load(run / "model.pt")
    assert model.sample(5, seed=0) == model.sample(5, seed=0)
    # resume: 2 WGAN-GP epochs in all -> 4 more generator steps; TensorBoard steps continue
    assert train_gan.main(["latentgan", "--resume", str(run), "--gan-epochs", "2", *TINY[-3:]]) == 0
    out = capsys.readouterr().out
    assert "resuming" in out and "steps 21 (13 heteroencoder of 13, 8 WGAN-GP of 8)" in out
    last = load_checkpoint(sorted(run.joinpath("checkpoints").iterdir())[-1])
    assert last["wgan_step"] == 8 and last["critic_steps"] == 40
    assert max(_scalar_tags(run)["gan/wasserstein"]) == 21
    # arena-evaluate gan on the run directory: MOSES metrics with small stand-in references
    from deep_arena.gan import moses_metrics as M
    from deep_arena.scripts import evaluate

    from deep_arena.gan.data import load_smiles_file

    refs = [M.get_mol(s) for s in load_smiles_file(SAMPLE, 200)]
    small = {"fps": M.morgan_fingerprints(refs), "frag": M.fragments(refs), "scaf": M.scaffolds(refs)}
    monkeypatch.setattr(M, "reference_statistics", lambda split, with_fcd=True: small)
    monkeypatch.setattr(M, "moses_train_set", lambda: set())
    out_dir = tmp_path / "eval"
    assert evaluate.main(["gan", "--model", str(run), "--n", "30", "--no-fcd", "--out", str(out_dir)]) == 0
    table = (out_dir / "moses_metrics.md").read_text()
    assert table.startswith("| model | valid | unique@1k") and "latentgan" in table
    assert (out_dir / "moses_metrics.csv").read_text().startswith("model,valid,")
    assert (out_dir / "results.json").is_file()


def test_ending_the_heteroencoder_phase_early(tmp_path, capsys):
    args = ["latentgan", "--dataset", str(SAMPLE), "--limit", "200", "--ae-epochs", "3", "--gan-epochs", "1",
            "--minutes", "0.0001", "--run-root", str(tmp_path), *TINY]
    assert train_gan.main(args) == 0                    # stops at once: the time budget
    (run,) = list((tmp_path / "gan").iterdir())
    capsys.readouterr()
    assert train_gan.main(["latentgan", "--resume", str(run), "--ae-epochs", "0.1", "--minutes", "10",
                           *TINY[-3:]]) == 0
    out = capsys.readouterr().out
    assert re.search(r"steps \d+ \(\d+ heteroencoder of 1, 4 WGAN-GP of 4\)", out), out


def test_cli_errors(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        train_gan.main(["latentgan", "--dataset", str(tmp_path / "none.smi"), "--run-root", str(tmp_path), *TINY])
    assert exc.value.code == 2 and "does not exist" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        train_gan.main(["latentgan", "--dataset", str(SAMPLE), "--set", "gan.n_critic=0", "--run-root",
                        str(tmp_path), *TINY])
    assert "n_critic" in capsys.readouterr().err
    assert not (tmp_path / "gan").exists()


def test_pretrained_names():
    assert {"lm-moses", "latentgan-moses"} <= set(gan.PRETRAINED)
    for name in ("lm-moses", "latentgan-moses"):
        path = gan.PRETRAINED_DIR / gan.PRETRAINED[name]
        if path.is_file():
            assert len(gan.load_pretrained(name).sample(3, seed=0)) == 3
        else:
            with pytest.raises(FileNotFoundError, match=f"{name}.*arena-train gan"):
                gan.load_pretrained(name)
    with pytest.raises(ValueError, match="unknown pretrained"):
        gan.load_pretrained("nope")


def test_torchrun_two_processes_stay_in_sync(tmp_path):
    torchrun = Path(sys.executable).with_name("torchrun")
    if not torchrun.is_file():
        pytest.skip("torchrun is not installed next to this Python")
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    cmd = [str(torchrun), "--nproc_per_node", "2", "--master_port", str(28500 + os.getpid() % 1000),
           "-m", "deep_arena.scripts.train", "gan", "latentgan", "--dataset", str(SAMPLE), "--limit", "200",
           "--ae-epochs", "1", "--gan-epochs", "1", "--run-root", str(tmp_path), *TINY]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    (run,) = list((tmp_path / "gan").iterdir())
    match = re.search(r"data-parallel: 2 processes, weights in sync \(sha1 ([0-9a-f]{40})\)", done.stdout)
    assert match, done.stdout
    saved = torch.load(run / "model.pt", weights_only=True)
    state = {**{f"ae.{k}": v for k, v in saved["autoencoder"].items()},
             **{f"g.{k}": v for k, v in saved["generator"].items()}}
    assert weights_digest(state) == match.group(1)
    # 13 batches over 2 ranks: 6 heteroencoder steps; 198 // (8 * 5 * 2) = 2 WGAN-GP steps
    assert "steps 8 (6 heteroencoder of 6, 2 WGAN-GP of 2)" in done.stdout


def test_heteroencoder_memorises_a_few_molecules():
    """The encoder-decoder path can carry a molecule: 8 molecules are reconstructed exactly after 300 steps."""
    import copy

    from deep_arena.gan.latentgan.trainer import DEFAULTS, LatentGANTrainer

    smiles = ["CCO", "c1ccccc1O", "CC(=O)Nc1ccccc1", "OCC1CC1", "N#CC(C)C", "CCN(CC)CC", "O=C1CCCCC1", "Cc1ccncc1"]
    cfg = copy.deepcopy(DEFAULTS)
    cfg.update({"batch_size": 8, "randomize": False, "noise_std": 0.0, "lr": 3e-3, "lr_decay": 1.0, "threads": 1,
                "device": "cpu"})
    cfg["model"].update({"hidden_size": 64, "embedding_dim": 16, "layers": 1, "latent_size": 16, "max_length": 30})
    trainer = LatentGANTrainer(cfg, None, progress_bar=False, smiles=smiles)
    for step in range(300):
        values = trainer.ae_step(step)
    assert values["token_accuracy"] == 1.0
    decoded = trainer.model.decode(trainer.model.encode(trainer.smiles))
    assert decoded == trainer.smiles


def test_ctrl_c_saves_and_resumes(tmp_path, interrupt_when):
    """SIGINT mid-run: a checkpoint and model.pt are saved, exit 130 with the --resume command; the resume finishes."""
    cmd = [sys.executable, "-m", "deep_arena.scripts.train", "gan", "latentgan", "--dataset", str(SAMPLE), "--limit",
           "200", "--ae-epochs", "200", "--gan-epochs", "1", "--run-root", str(tmp_path), *TINY]
    code, out, err = interrupt_when(cmd, lambda: any((tmp_path / "gan").glob("*/checkpoints/*.pt")))
    assert code == 130, out + err
    (run,) = list((tmp_path / "gan").iterdir())
    assert "arena-train gan latentgan --resume" in out + err and (run / "model.pt").is_file()
    step = load_checkpoint(sorted(run.joinpath("checkpoints").iterdir())[-1])["counters"]["step"]
    assert step >= 6
    assert train_gan.main(["latentgan", "--resume", str(run), "--ae-epochs", "0.01", *TINY[-3:]]) == 0
    last = load_checkpoint(sorted(run.joinpath("checkpoints").iterdir())[-1])
    assert last["counters"]["gan_step"] == 4 and last["counters"]["ae_step"] >= step
