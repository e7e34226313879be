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
