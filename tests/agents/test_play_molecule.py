"""`scripts/play.py molecule`: watch a MolDQN model.pt or a MaskablePPO zip build molecules (headless: SDL dummy
video driver, or --headless-frames), with one-line errors and exit code 2 for bad models."""

from __future__ import annotations

import os

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")  # before pygame is imported anywhere: no real display here
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

import copy
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from rdkit import Chem

from deep_arena.runtime import COMMON_DEFAULTS, RunDir, deep_merge

torch.set_num_threads(1)

REPO = Path(__file__).resolve().parents[2]
PLAY = REPO / "scripts" / "play.py"


def _load_play_script():
    import importlib.util

    spec = importlib.util.spec_from_file_location("play_script", PLAY)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


play = _load_play_script()

EPISODE_LINE = re.compile(r"^episode (\d+): (\S+)  (\w+) (-?\d+\.\d+)  \((\d+) edits\)$", re.M)


@pytest.fixture(scope="module")
def moldqn_model(tmp_path_factory) -> Path:
    """An (untrained) MolDQN model.pt for a tiny env, written as the trainer writes it."""
    from deep_arena.agents.moldqn import trainer as dqn

    config = deep_merge(COMMON_DEFAULTS, copy.deepcopy(dqn.DEFAULTS))
    config["device"] = "cpu"
    config["env"].update({"max_atoms": 8, "max_steps": 5, "fp_bits": 128})
    config["net"]["hidden"] = [32]
    trainer = dqn.MolDQNTrainer(config, None, progress_bar=False)
    path = tmp_path_factory.mktemp("moldqn") / "model.pt"
    dqn.save_model(path, trainer.q, config)
    return path


@pytest.fixture(scope="module")
def ppo_model(tmp_path_factory) -> Path:
    """A MaskablePPO final_model.zip from a very short run on a tiny env."""
    from deep_arena.agents.molecule import ppo as mp

    config = deep_merge(COMMON_DEFAULTS, copy.deepcopy(mp.DEFAULTS))
    config.update({"device": "cpu", "threads": 1, "total_steps": 128, "n_envs": 1, "net_arch": [16],
                   "eval_every": 10_000, "checkpoint_every": 10_000})
    config["env"].update({"max_atoms": 8, "max_steps": 4, "fp_bits": 64})
    config["ppo"].update({"n_steps": 64, "batch_size": 32, "n_epochs": 1})
    run_dir = RunDir.create("molecule", "maskable_ppo", root=tmp_path_factory.mktemp("runs"))
    return mp.MoleculePPOTrainer(config, run_dir, progress_bar=False).run().model_path


def episodes(text: str) -> list[tuple[str, str, float, int]]:
    found = [(m[2], m[3], float(m[4]), int(m[5])) for m in EPISODE_LINE.finditer(text)]
    for smiles, *_ in found:
        assert Chem.MolFromSmiles(smiles) is not None, smiles
    return found


def test_watch_moldqn_in_a_window(moldqn_model):
    """The real command, with the pygame window on the dummy video driver."""
    env = {**os.environ, "SDL_VIDEODRIVER": "dummy", "OMP_NUM_THREADS": "1"}
    proc = subprocess.run([sys.executable, str(PLAY), "molecule", "--model", str(moldqn_model), "--episodes", "2",
                           "--fps", "500", "--device", "cpu"], capture_output=True, text=True, env=env, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    played = episodes(proc.stdout)
    assert [p[1] for p in played] == ["qed", "qed"] and all(p[3] == 5 for p in played)


def test_watch_ppo_headless_frames(ppo_model, tmp_path, capsys):
    frames = tmp_path / "frames"
    assert play.main(["molecule", "--model", str(ppo_model), "--episodes", "2", "--headless-frames", str(frames),
                      "--start-smiles", "CCO", "--objective", "plogp", "--device", "cpu"]) == 0
    out = capsys.readouterr().out
    played = episodes(out)
    assert len(played) == 2 and all(p[1] == "plogp" for p in played)
    n_frames = sum(p[3] + 1 for p in played)  # the start and one frame per edit
    files = sorted(frames.glob("episode*_step*.png"))
    assert len(files) == n_frames and f"wrote {n_frames} frames" in out
    img = np.asarray(Image.open(files[0]))
    assert img.ndim == 3 and img.shape[2] == 3 and img.std() > 0


def test_run_directory_and_start_smiles(moldqn_model, tmp_path, capsys):
    assert play.main(["molecule", "--model", str(moldqn_model.parent), "--start-smiles", "c1ccccc1",
                      "--headless-frames", str(tmp_path), "--device", "cpu"]) == 0
    (played,) = episodes(capsys.readouterr().out)
    assert played[3] == 5


def expect_error(argv: list[str], capsys, pattern: str) -> None:
    with pytest.raises(SystemExit) as exc:
        play.main(argv)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    last = err.strip().splitlines()[-1]
    assert last.startswith("arena-play molecule: error:") and re.search(pattern, last), last


def test_bad_models_give_one_line_errors(tmp_path, capsys):
    garbage_pt, garbage_zip, odd = tmp_path / "bad.pt", tmp_path / "bad.zip", tmp_path / "model.bin"
    for path in (garbage_pt, garbage_zip, odd):
        path.write_bytes(b"not a model")
    cases = [
        (tmp_path / "missing.pt", "does not exist"),
        (tmp_path / "missing.zip", "does not exist"),
        (garbage_pt, "Cannot load checkpoint"),
        (garbage_zip, "not a MaskablePPO model"),
        (odd, r"\.pt \(MolDQN\) or \.zip"),
        (tmp_path / "nothing.bin", "does not exist"),
        (tmp_path, "without model.pt or final_model.zip"),
    ]
    for path, pattern in cases:
        expect_error(["molecule", "--model", str(path)], capsys, pattern)


def test_bad_start_smiles(moldqn_model, capsys):
    expect_error(["molecule", "--model", str(moldqn_model), "--start-smiles", "XYZ"], capsys, "XYZ")


def test_pretrained(moldqn_model, tmp_path, capsys, monkeypatch):
    """`--model pretrained` plays agents.load_pretrained("molecule-qed"), and says cleanly when none is shipped
    (both cases staged with a stand-in pretrained folder)."""
    import shutil

    import deep_arena.agents.pretrained as pretrained

    argv = ["molecule", "--model", "pretrained", "--headless-frames", str(tmp_path / "frames"), "--device", "cpu"]
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setattr(pretrained, "PRETRAINED_DIR", empty)
    expect_error(argv, capsys, "no pretrained molecule model shipped yet")
    shipped = tmp_path / "shipped"
    shipped.mkdir()
    shutil.copy(moldqn_model, shipped / pretrained.MOLECULE_MODELS["molecule-qed"])
    monkeypatch.setattr(pretrained, "PRETRAINED_DIR", shipped)
    assert play.main(argv) == 0
    (played,) = episodes(capsys.readouterr().out)
    assert played[1] == "qed" and played[3] == 5
