"""MaskablePPO baseline on arena/MoleculeDesign-v0 (agents/molecule/ppo.py): a short training run on a tiny env
writes the run-directory outputs (models, checkpoints, top-molecule CSV/PNG, TensorBoard scalars and image); every
final molecule is a valid RDKit molecule; the stop action stays masked; bad configs fail with the key's name."""

from __future__ import annotations

import copy
import csv
import zipfile

import numpy as np
import pytest
import torch
from rdkit import Chem

from deep_arena.agents.molecule.outputs import TOP_CSV, TOP_PNG
from deep_arena.runtime import COMMON_DEFAULTS, CheckpointError, RunDir, deep_merge
from deep_arena.agents.molecule import ppo as mp
from deep_arena.envs.molecule import rewards

torch.set_num_threads(1)

TOTAL_STEPS = 1536
MAX_STEPS = 6


def tiny_config(**changes) -> dict:
    config = deep_merge(COMMON_DEFAULTS, copy.deepcopy(mp.DEFAULTS))
    config.update({"device": "cpu", "seed": 0, "threads": 1, "total_steps": TOTAL_STEPS, "n_envs": 2,
                   "eval_every": 512, "eval_episodes": 1, "checkpoint_every": 768, "top_k": 5, "net_arch": [32]})
    config["env"].update({"max_atoms": 8, "max_steps": MAX_STEPS, "fp_bits": 128})
    config["ppo"].update({"n_steps": 128, "batch_size": 64, "n_epochs": 2})
    for key, value in changes.items():
        config[key] = value
    return config


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    run_dir = RunDir.create("molecule", "maskable_ppo", root=tmp_path_factory.mktemp("runs"))
    result = mp.MoleculePPOTrainer(tiny_config(), run_dir, progress_bar=False).run()
    return run_dir.path, result


def scalars(path) -> dict[str, list[float]]:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(path), size_guidance={"images": 0})
    acc.Reload()
    out = {tag: [e.value for e in acc.Scalars(tag)] for tag in acc.Tags()["scalars"]}
    out["_images"] = acc.Tags()["images"]
    return out


def test_train_result_and_files(run):
    path, run_result = run
    result = run_result.details
    assert result["steps"] >= TOTAL_STEPS and result["seconds"] > 0 and result["episodes"] > 0
    assert run_result.counters == {"env_steps": result["steps"], "episodes": result["episodes"]}
    assert run_result.model_path == path / "final_model.zip" and run_result.stopped_by == "budget"
    assert run_result.metrics["top1"] == result["top"][0][0]
    top = result["top"]
    assert 1 <= len(top) <= 5
    assert [s for s, _ in top] == sorted((s for s, _ in top), reverse=True)
    assert len({smi for _, smi in top}) == len(top)  # distinct molecules
    assert (path / "final_model.zip").is_file() and result["model_path"] == str(path / "final_model.zip")
    ckpts = sorted(p.name for p in (path / "checkpoints").glob("model_*.zip"))
    assert ckpts == ["model_000000768.zip", "model_000001536.zip"]
    assert zipfile.is_zipfile(path / "checkpoints" / ckpts[0])
    assert (path / TOP_PNG).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_top_molecules_csv(run):
    path, result = run[0], run[1].details
    with open(path / TOP_CSV, newline="") as handle:
        rows = list(csv.DictReader(handle))
    expected = ["rank", "smiles", "objective", *rewards.property_table(Chem.MolFromSmiles("C"))]
    assert list(rows[0]) == expected
    assert [int(r["rank"]) for r in rows] == list(range(1, len(rows) + 1))
    assert [r["smiles"] for r in rows] == [smiles for _, smiles in result["top"]]
    assert [float(r["objective"]) for r in rows] == pytest.approx([score for score, _ in result["top"]])
    for r in rows:
        mol = Chem.MolFromSmiles(r["smiles"])
        assert mol is not None
        assert float(r["objective"]) == pytest.approx(float(r["qed"]))  # objective qed
        assert float(r["qed"]) == pytest.approx(rewards.qed(mol))
        assert 1 <= int(r["num_atoms"]) <= 8


def test_tensorboard_logs(run):
    path, _ = run
    logged = scalars(path)
    for tag in ("episode/return", "episode/final_score", "episode/validity", "episode/uniqueness_last100",
                "top/top1", "top/top3", "speed/env_steps_per_s", "eval/final_score", "train/loss"):
        assert logged.get(tag), f"{tag} was not logged"
    assert all(v == 1.0 for v in logged["episode/validity"])  # every final molecule parses in RDKit
    assert all(0.0 < v <= 1.0 for v in logged["episode/uniqueness_last100"])
    assert logged["top/top1"] == sorted(logged["top/top1"])  # the best so far never drops
    assert all(v > 0 for v in logged["speed/env_steps_per_s"])
    # the stop action is masked (allow_stop false): every episode runs max_steps edits
    assert all(v == MAX_STEPS for v in logged["rollout/ep_len_mean"])
    assert "top_molecules" in logged["_images"]


def test_saved_policy_plays_valid_molecules(run):
    path, _ = run
    policy = mp.MoleculePPOPolicy.load(path / "final_model.zip", device="cpu")
    assert policy.objective == "qed" and policy.allow_stop is False
    env = policy.make_env()
    for seed, start in enumerate(("C", "CCO", "c1ccccc1")):
        obs, info = env.reset(seed=seed, options={"smiles": start})
        done, steps = False, 0
        while not done:
            mask = env.action_masks()
            action = policy.act(env, obs)
            assert mask[action] and action != env.codec.stop
            obs, _, terminated, truncated, info = env.step(action)
            done, steps = terminated or truncated, steps + 1
        assert steps == MAX_STEPS
        assert Chem.MolFromSmiles(info["smiles"]) is not None
        assert info["score"] == pytest.approx(rewards.qed(Chem.MolFromSmiles(info["smiles"])))


def test_load_errors(tmp_path):
    with pytest.raises(CheckpointError, match="does not exist"):
        mp.MoleculePPOPolicy.load(tmp_path / "missing.zip")
    bad = tmp_path / "bad.zip"
    bad.write_bytes(b"not a zip")
    with pytest.raises(CheckpointError, match="not a MaskablePPO model"):
        mp.MoleculePPOPolicy.load(bad)


def test_policy_mask_keeps_stop_only_when_nothing_else_is_legal():
    env = mp.make_env(tiny_config())
    env.reset(seed=0)
    full = env.action_masks()
    assert full[env.codec.stop]
    masked = mp.policy_mask(env, allow_stop=False)
    assert not masked[env.codec.stop] and masked[: env.codec.stop].any()
    assert np.array_equal(masked[: env.codec.stop], full[: env.codec.stop])
    assert np.array_equal(mp.policy_mask(env, allow_stop=True), full)


@pytest.mark.parametrize("key, value, message", [
    ("total_steps", 0, "total_steps"),
    ("n_envs", 1.5, "n_envs"),
    ("minutes", -1, "minutes"),
    ("net_arch", [], "net_arch"),
    ("ppo.batch_size", 1, "ppo.batch_size"),
    ("ppo.gamma", 1.5, "ppo.gamma"),
    ("ppo.learning_rate", 0, "ppo.learning_rate"),
    ("env.obs_type", "pixels", "env.obs_type"),
    ("env.reward_mode", "sometimes", "env.reward_mode"),
    ("env.allow_stop", "yes", "env.allow_stop"),
    ("env.fp_radius", 7, "env.fp_radius must be from 0 to 6"),
    ("env.ring_sizes", [2], "env.ring_sizes must all be >= 3"),
    ("objective", "bogus", "objective must be one of"),
    ("start_smiles", [], "start_smiles must be a SMILES or a non-empty list"),
    ("no_such_key", 1, "unknown setting(s) no_such_key"),
])
def test_validate_config_names_the_bad_key(key, value, message):
    config = tiny_config()
    node = config
    *parents, leaf = key.split(".")
    for p in parents:
        node = node[p]
    node[leaf] = value
    with pytest.raises(ValueError, match=message.replace(".", r"\.").replace("(", r"\(").replace(")", r"\)")):
        mp.validate_config(config)


def test_resume_is_refused_with_a_clear_message(tmp_path):
    trainer = mp.MoleculePPOTrainer(tiny_config(), RunDir.create("molecule", "maskable_ppo", root=tmp_path))
    with pytest.raises(ValueError, match="resuming maskable_ppo runs is not supported"):
        trainer.load(tmp_path / "model_000000100.zip")


def test_make_env_rejects_bad_smiles_and_objectives(tmp_path):
    with pytest.raises(ValueError, match="XYZ"):
        mp.make_env(tiny_config(start_smiles="XYZ"))
    with pytest.raises(ValueError, match="target"):
        mp.make_env(tiny_config(objective="similarity"))
    with pytest.raises(ValueError, match="unknown objective"):
        mp.make_env(tiny_config(objective="bogus"))
    with pytest.raises(ValueError, match="does not exist"):
        mp.make_env(tiny_config(start_file=str(tmp_path / "none.smi")))
    starts = tmp_path / "starts.smi"
    starts.write_text("CCO\nc1ccccc1\n")
    env = mp.make_env(tiny_config(objective="sim_plogp", start_file=str(starts)))
    _, info = env.reset(options={"smiles": "CCO"})
    assert info["smiles"] == "CCO"


def test_interrupt_saves_and_says_the_run_cannot_be_resumed(tmp_path, interrupt_when):
    """SIGTERM during MaskablePPO training: a checkpoint, final_model.zip and the top molecules are saved, exit 130,
    no traceback, and instead of a resume command the message says these runs cannot be resumed yet."""
    import signal
    import sys
    from pathlib import Path

    repo = Path(__file__).resolve().parents[2]
    cmd = [sys.executable, str(repo / "scripts" / "train_molecule.py"), "--algo", "maskable_ppo", "--steps",
           "10000000", "--no-progress", "--device", "cpu", "--run-root", str(tmp_path), "--set", "threads=1",
           "--set", "n_envs=2", "--set", "ppo.n_steps=64", "--set", "ppo.batch_size=64", "--set", "ppo.n_epochs=1",
           "--set", "checkpoint_every=128", "--set", "eval_every=100000", "--set", "net_arch=[16]",
           "--set", "env.max_atoms=6", "--set", "env.max_steps=4", "--set", "env.fp_bits=64"]
    code, out, err = interrupt_when(cmd, lambda: bool(list(tmp_path.glob("molecule/*/checkpoints/model_*.zip"))),
                                    signal.SIGTERM, timeout=180)
    assert code == 130, out + err
    assert "Traceback" not in err and "SIGTERM: stopping" in err
    assert "cannot be resumed yet" in err and "continue with" not in err
    (run,) = (tmp_path / "molecule").iterdir()
    assert (run / "final_model.zip").is_file() and (run / TOP_CSV).is_file()
    assert mp.MoleculePPOPolicy.load(run / "final_model.zip", device="cpu").model.num_timesteps < 10_000_000
