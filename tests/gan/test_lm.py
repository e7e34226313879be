"""gan.lm: the tokenizer, the language model's likelihoods and sampling, its files, arena-train gan lm (resume,
TensorBoard, bad inputs) and its data-parallel run under torchrun (2 processes on the CPU)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from deep_arena.gan.data import package_dir
from deep_arena.gan.distributed import weights_digest
from deep_arena.gan.lm import ChemicalLM, SmilesVocabulary, TokenError, tokenize
from deep_arena.runtime import load_checkpoint
from deep_arena.scripts import train_gan

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "tests" / "data" / "qm9_sample.smi"
torch.set_num_threads(1)

SMILES = ["CCO", "c1ccccc1Cl", "C[NH3+]", "Brc1ccc2ccccc2c1", "C1CC2CC%10CC2C1%10", "O=C(O)[C@@H](N)C"]
TINY = ["--batch-size", "16", "--set", "model.hidden_size=16", "--set", "model.embedding_dim=8", "--set",
        "model.layers=1", "--set", "sample_n=20", "--set", "sample_every=5", "--set", "checkpoint_every=5",
        "--set", "log_every=2", "--set", "sample_fcd=false", "--set", "threads=1", "--device", "cpu", "--no-progress"]


def _model(seed: int = 0) -> ChemicalLM:
    torch.manual_seed(seed)
    return ChemicalLM(SmilesVocabulary.from_smiles(SMILES), {"embedding_dim": 8, "hidden_size": 16, "layers": 2},
                      max_length=30)


def test_tokenizer_round_trip():
    assert tokenize("c1ccccc1Cl") == ["c", "1", "c", "c", "c", "c", "c", "1", "Cl"]
    assert tokenize("C[NH3+]Br") == ["C", "[NH3+]", "Br"]
    assert "%10" in tokenize(SMILES[4])
    vocab = SmilesVocabulary.from_smiles(SMILES)
    assert vocab.tokens[:3] == ["<pad>", "^", "$"]
    for s in SMILES:
        assert "".join(tokenize(s)) == s
        ids = vocab.encode(s)
        assert ids[0] == vocab.bos and ids[-1] == vocab.eos
        assert vocab.decode(ids[1:] + [vocab.pad, vocab.pad]) == s
    with pytest.raises(TokenError, match="not in the vocabulary"):
        vocab.encode("CCS")
    for bad in ("", "C C", None):
        with pytest.raises(TokenError):
            tokenize(bad)


def test_log_likelihood_is_the_sum_of_sampled_token_log_probs():
    model = _model()
    gen = torch.Generator().manual_seed(1)
    tokens, logp = model.sample_tokens(12, gen)
    assert torch.allclose(model.log_likelihood_tokens(tokens), logp, atol=1e-5)
    # the same through strings, for the samples whose text re-tokenises to the sampled tokens
    texts = model.decode(tokens)
    checked = 0
    for i, text in enumerate(texts):
        if text and text in model.vocab and model.encode([text])[0].tolist() == \
                tokens[i, :len(model.vocab.encode(text)) - 1].tolist():
            assert model.log_likelihood([text])[0] == pytest.approx(float(logp[i]), abs=1e-4)
            checked += 1
    assert checked > 0
    # by hand for one string: the sum of log-softmax of each next token over the tokens a SMILES may hold (all
    # but padding and start)
    ids = model.vocab.encode("CCO")
    with torch.no_grad():
        logits, _ = model.net(torch.tensor([ids[:-1]]))
        logits = logits[0, :, 2:]                     # drop <pad> (0) and ^ (1)
        manual = torch.log_softmax(logits, -1)[torch.arange(len(ids) - 1), torch.tensor(ids[1:]) - 2].sum()
    assert model.log_likelihood(["CCO"])[0] == pytest.approx(float(manual), abs=1e-5)
    with_grad = model.log_likelihood_tokens(model.encode(["CCO", "c1ccccc1Cl"]))
    with_grad.sum().backward()
    assert model.net.head.weight.grad is not None


def test_seeded_sampling_is_reproducible():
    model = _model()
    a, b = model.sample(30, seed=7), model.sample(30, seed=7)
    assert a == b and len(a) == 30 and all(isinstance(s, str) for s in a)
    assert model.sample(30, seed=8) != a
    assert model.sample(5, seed=7, batch_size=2) == model.sample(5, seed=7, batch_size=2)


def test_save_load_weights_only(tmp_path):
    model = _model()
    path = model.save(tmp_path / "lm.pt")
    state = torch.load(path, weights_only=True)
    assert state["kind"] == "chemical-lm" and state["tokens"] == model.vocab.tokens
    loaded = ChemicalLM.load(path)
    assert np.allclose(loaded.log_likelihood(SMILES), model.log_likelihood(SMILES))
    assert loaded.sample(10, seed=3) == model.sample(10, seed=3)
    clone = model.clone()
    assert weights_digest(clone.net.state_dict()) == weights_digest(model.net.state_dict())


def test_bad_inputs_give_clear_errors(tmp_path):
    model = _model()
    with pytest.raises(TypeError, match="list of SMILES"):
        model.log_likelihood("CCO")
    assert model.log_likelihood(["CCS"])[0] == -np.inf          # an unknown token: impossible under the model
    assert model.sample(0) == []
    with pytest.raises(ValueError, match="number of SMILES"):
        model.sample(-1)
    with pytest.raises(ValueError, match="temperature"):
        model.sample(3, temperature=0)
    with pytest.raises(FileNotFoundError, match="no chemical language model"):
        ChemicalLM.load(tmp_path / "missing.pt")
    (tmp_path / "junk.pt").write_bytes(b"not a model")
    with pytest.raises(ValueError, match="not a readable model file"):
        ChemicalLM.load(tmp_path / "junk.pt")
    torch.save({"kind": "something-else"}, tmp_path / "other.pt")
    with pytest.raises(ValueError, match="not a chemical language model"):
        ChemicalLM.load(tmp_path / "other.pt")


def test_cli_bad_inputs(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        train_gan.main(["lm", "--dataset", str(tmp_path / "none.smi"), "--run-root", str(tmp_path), *TINY])
    assert exc.value.code == 2 and "does not exist" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        train_gan.main(["lm", "--dataset", str(SAMPLE), "--set", "lr=-1", "--run-root", str(tmp_path), *TINY])
    assert "lr" in capsys.readouterr().err
    assert not (tmp_path / "gan").exists()          # no run directory for a refused command


def _scalars(run: Path, tag: str) -> list[int]:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(run))
    acc.Reload()
    return [e.step for e in acc.Scalars(tag)] if tag in acc.Tags()["scalars"] else []


def test_resume_continues_steps_and_tensorboard(tmp_path, capsys):
    args = ["lm", "--dataset", str(SAMPLE), "--limit", "200", "--epochs", "1", "--run-root", str(tmp_path), *TINY]
    assert train_gan.main(args) == 0
    (run,) = list((tmp_path / "gan").iterdir())
    out = capsys.readouterr().out
    assert "steps 13 (epoch 1.00" in out      # 198 after the 1 % held out, batches of 16
    first = load_checkpoint(run.joinpath("checkpoints", "checkpoint_000000013.pt"))
    assert first["kind"] == "chemical-lm-checkpoint" and first["counters"]["step"] == 13
    assert set(first) == {"kind", "config", "model", "optimizer", "counters", "torch_rng"}
    assert train_gan.main(["lm", "--resume", str(run), "--epochs", "1", *TINY[-3:]]) == 0
    assert "steps 26 (epoch 2.00" in capsys.readouterr().out
    last = load_checkpoint(sorted(run.joinpath("checkpoints").iterdir())[-1])
    assert last["counters"]["step"] == 26 and last["counters"]["tokens"] > first["counters"]["tokens"]
    steps = _scalars(run, "train/loss_per_token")
    assert steps == sorted(steps) and steps[-1] == 26 and 2 in steps
    assert _scalars(run, "samples/validity")[-1] == 26
    assert ChemicalLM.load(run / "model.pt").sample(3, seed=0)
    with pytest.raises(SystemExit):
        train_gan.main(["lm", "--resume", str(run), "--dataset", "qm9", *TINY[-3:]])
    assert "cannot change" in capsys.readouterr().err


@pytest.mark.skipif(not (package_dir("fcd_torch") and package_dir("moses")), reason="needs fcd_torch and molsets")
def test_checks_log_fcd(tmp_path):
    """sample_fcd: each check logs the FCD of its valid samples to MOSES test (here one check, at the end)."""
    args = ["lm", "--dataset", str(SAMPLE), "--limit", "200", "--epochs", "1", "--run-root", str(tmp_path), *TINY,
            "--set", "sample_fcd=true", "--set", "sample_every=1000", "--set", "sample_n=200"]
    assert train_gan.main(args) == 0
    (run,) = list((tmp_path / "gan").iterdir())
    assert _scalars(run, "samples/fcd_test") == [13]


def test_torchrun_two_processes_stay_in_sync(tmp_path):
    """DDP on the CPU (gloo): 2 ranks, a few steps; rank 0's model is the one saved and the ranks' weights agree."""
    torchrun = Path(sys.executable).with_name("torchrun")
    if not torchrun.is_file():
        pytest.skip("torchrun is not installed next to this Python")
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    cmd = [str(torchrun), "--nproc_per_node", "2", "--master_port", str(29500 + os.getpid() % 1000),
           "-m", "deep_arena.scripts.train", "gan", "lm", "--dataset", str(SAMPLE), "--limit", "200", "--epochs",
           "1", "--run-root", str(tmp_path), *TINY]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    (run,) = list((tmp_path / "gan").iterdir())            # one run directory: only rank 0 made one
    match = re.search(r"data-parallel: 2 processes, weights in sync \(sha1 ([0-9a-f]{40})\)", done.stdout)
    assert match, done.stdout
    saved = torch.load(run / "model.pt", weights_only=True)
    assert weights_digest(saved["state_dict"]) == match.group(1)   # rank 0's final weights are what was saved
    # 13 batches over 2 ranks: 6 steps, each of 2 batches
    assert "steps 6 (epoch 1.00" in done.stdout
    ckpt = load_checkpoint(sorted(run.joinpath("checkpoints").iterdir())[-1])
    assert ckpt["counters"]["step"] == 6
    assert done.stdout.count("run directory:") == 2          # printed by rank 0 alone (start and end)
