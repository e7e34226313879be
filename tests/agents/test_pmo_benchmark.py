"""benchmarks/pmo.py: resumable per (task, seed), and its table beside the published rows."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "pmo.py"


@pytest.fixture(scope="module")
def pmo_bench():
    spec = importlib.util.spec_from_file_location("pmo_bench", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_runs_resume_and_table(tmp_path, pmo_bench, capsys):
    args = ["--method", "ppo", "--tasks", "qed", "--seeds", "0", "--budget", "30", "--out", str(tmp_path),
            "--set", "n_envs=1", "--set", "ppo.n_steps=16", "--set", "ppo.batch_size=16"]
    assert pmo_bench.main(args) == 0
    summary = tmp_path / "qed-seed0" / "summary.json"
    first = json.loads(summary.read_text())
    assert first["calls"] == 30 and (tmp_path / "qed-seed0" / "oracle_calls.csv").is_file()
    mtime = summary.stat().st_mtime_ns
    assert pmo_bench.main(args) == 0                  # done: skipped, not run again
    assert summary.stat().st_mtime_ns == mtime
    out = capsys.readouterr().out
    assert "| qed | " in out and "0.941" in out and "**sum over the 1 tasks run**" in out
    with pytest.raises(SystemExit):
        pmo_bench.main(["--tasks", "nope", "--out", str(tmp_path)])


def test_side_by_side_table_and_verify(tmp_path, pmo_bench, capsys):
    ppo, other = tmp_path / "ppo", tmp_path / "other"
    common = ["--tasks", "qed", "--seeds", "0", "--budget", "20", "--set", "n_envs=1", "--set", "ppo.n_steps=16",
              "--set", "ppo.batch_size=16"]
    assert pmo_bench.main(["--method", "ppo", "--out", str(ppo)] + common) == 0
    assert pmo_bench.main(["--method", "ppo", "--out", str(other), "--seeds", "0"] + common) == 0
    capsys.readouterr()
    assert pmo_bench.main(["--method", "ppo", "--out", str(ppo), "--table-only", "--beside", f"again={other}",
                           "--verify", "5"]) == 0
    out = capsys.readouterr().out
    assert "| task | ours: ppo | ours: again | REINVENT" in out and "(1 tasks)" in out
    assert "20 logged molecules all valid" in out and "largest difference from the task definition 0" in out
    # a logged score that is not the task's is caught
    calls = ppo / "qed-seed0" / "oracle_calls.csv"
    rows = calls.read_text().splitlines()
    head, first = rows[0], rows[1].rsplit(",", 1)
    calls.write_text("\n".join([head, f"{first[0]},0.123456"] + rows[2:]) + "\n")
    assert pmo_bench.main(["--method", "ppo", "--out", str(ppo), "--table-only", "--verify", "20"]) == 1
    with pytest.raises(SystemExit):
        pmo_bench.main(["--out", str(ppo), "--table-only", "--beside", "nofolder"])


def _summary(folder: Path, task: str, seed: int, auc: float) -> None:
    run = folder / f"{task}-seed{seed}"
    run.mkdir(parents=True)
    run.joinpath("summary.json").write_text(json.dumps({
        "task": task, "seed": seed, "budget": 100, "calls": 100, "auc_top1": auc, "auc_top10": auc,
        "auc_top100": auc, "top10_mean": auc, "diversity_top100": 0.5, "seconds": 60.0, "cpu_seconds": 30.0}))


def test_per_seed_table_sums_only_tasks_every_seed_ran(tmp_path, pmo_bench, capsys):
    for seed, auc in ((0, 0.5), (1, 0.7)):
        _summary(tmp_path, "qed", seed, auc)
    _summary(tmp_path, "median1", 0, 0.25)           # seed 1 missing: left out of the seeds' sums
    assert pmo_bench.main(["--out", str(tmp_path), "--table-only", "--per-seed", "--verify", "5"]) == 0
    out = capsys.readouterr().out
    assert "| qed | 0.500 | 0.700 | 0.600 | 0.5, 0.5 |" in out
    assert "| median1 | 0.250 | – | 0.250 | 0.5, – |" in out
    assert "| **sum over the 1 tasks every seed ran** | **0.500** | **0.700** | **0.600** ± 0.141 | |" in out
    # summaries kept without their call logs are counted, not failed
    assert "0 logged molecules" in out and "3 run(s) without a call log not checked" in out
