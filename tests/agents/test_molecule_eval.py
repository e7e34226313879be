"""Molecule evaluation: episodes, summaries, MolDQN's constrained-improvement protocol, evaluate.py molecule."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from rdkit import Chem

from deep_arena.agents.molecule.evaluation import EpisodeRecord, constrained_improvement, read_smiles_file, run_episodes, summarize
from deep_arena.envs.molecule import rewards
from deep_arena.envs.molecule.env import MoleculeEnv

ROOT = Path(__file__).resolve().parents[2]


def first_legal(env, obs) -> int:
    mask = env.unwrapped.action_masks()
    mask[env.unwrapped.codec.stop] = False
    return int(np.flatnonzero(mask)[0])


def test_run_episodes_and_summary():
    env = MoleculeEnv(max_steps=4, max_atoms=10)
    records = run_episodes(env, first_legal, ["CCO", "c1ccccc1"], episodes_per_start=3, epsilon=0.5, seed=1)
    assert len(records) == 6 and all(len(r.visited) == 5 for r in records)
    assert records[0].start == "CCO" and records[3].start == "c1ccccc1"
    # Greedy first episodes are deterministic; epsilon ones are seeded.
    again = run_episodes(env, first_legal, ["CCO", "c1ccccc1"], episodes_per_start=3, epsilon=0.5, seed=1)
    assert [r.visited for r in records] == [r.visited for r in again]
    summary = summarize(records, top_k=3)
    assert summary["validity"] == 1.0 and 0 < summary["uniqueness"] <= 1 and len(summary["top"]) <= 3
    assert summary["top"] == sorted(summary["top"], reverse=True)


def test_constrained_improvement_by_hand():
    start = "CCCCCCO"
    better_similar = "CCCCCCCO"       # one carbon longer: higher logP, still similar
    dissimilar = "c1ccc2ccccc2c1"      # high pLogP but dissimilar: must not count
    recs = [EpisodeRecord(start=start, visited=[start, better_similar, dissimilar], final=dissimilar)]
    result = constrained_improvement(recs, delta=0.4)
    row = result["rows"][0]
    crit = rewards.ConstrainedPenalizedLogP(start, delta=0.4)
    assert crit.similarity(Chem.MolFromSmiles(better_similar)) >= 0.4
    assert crit.similarity(Chem.MolFromSmiles(dissimilar)) < 0.4
    expected = rewards.penalized_logp(Chem.MolFromSmiles(better_similar)) - rewards.penalized_logp(
        Chem.MolFromSmiles(start))
    assert row["best"] == better_similar and row["improvement"] == pytest.approx(expected) and row["success"]
    # Only the start qualifies: improvement 0, no success.
    none = constrained_improvement([EpisodeRecord(start=start, visited=[start, dissimilar])], delta=0.4)
    assert none["rows"][0]["improvement"] == 0.0 and none["success_rate"] == 0.0


def test_read_smiles_file(tmp_path):
    f = tmp_path / "s.smi"
    f.write_text("# comment\nsmiles\nCCO 1.0\n\nc1ccccc1,2\n")
    assert read_smiles_file(f) == ["CCO", "c1ccccc1"]
    (tmp_path / "e.smi").write_text("# nothing\n")
    with pytest.raises(ValueError, match="holds no SMILES"):
        read_smiles_file(tmp_path / "e.smi")
    with pytest.raises(ValueError, match="does not exist"):
        read_smiles_file(tmp_path / "missing.smi")


def test_evaluate_script_constrained(tmp_path):
    from deep_arena.agents.moldqn.trainer import DEFAULTS, MolDQNTrainer
    from deep_arena.runtime import COMMON_DEFAULTS, RunDir, deep_merge

    cfg = deep_merge(COMMON_DEFAULTS, DEFAULTS)
    cfg.update({"episodes": 2, "learning_starts": 4, "batch_size": 4, "threads": 1, "objective": "plogp"})
    cfg["env"].update({"max_atoms": 12, "max_steps": 3, "fp_bits": 64})
    cfg["net"].update({"hidden": [16]})
    run_dir = RunDir.create("molecule", "moldqn", root=tmp_path)
    MolDQNTrainer(cfg, run_dir, progress_bar=False).run()
    starts = tmp_path / "starts.smi"
    starts.write_text("CCCCCCO\nCC(=O)NC\n")
    out = tmp_path / "eval"
    proc = subprocess.run([sys.executable, str(ROOT / "scripts" / "evaluate.py"), "molecule", "--model",
                           str(run_dir.path / "model.pt"), "--start-file", str(starts), "--delta", "0.4",
                           "--episodes", "2", "--out", str(out), "--no-progress"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "constrained (delta 0.4): 2 starts" in proc.stdout
    result = json.loads((out / "results.json").read_text())
    assert result["validity"] == 1.0 and len(result["constrained"]["rows"]) == 2
    assert (out / "improvements.png").stat().st_size > 0 and (out / "top_molecules.csv").is_file()
    bad = subprocess.run([sys.executable, str(ROOT / "scripts" / "evaluate.py"), "molecule", "--model",
                          str(tmp_path / "none.pt"), "--out", str(tmp_path / "e2")],
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "does not exist" in bad.stderr
