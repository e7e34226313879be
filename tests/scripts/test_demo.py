"""`make demo`'s closing hints are real commands: every one names an installed entry point with the venv's prefix,
the run directory the job made, and parses with its command's own parser."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

import pytest

from deep_arena.agents.arm import commands as arm_commands, play as arm_play
from deep_arena.agents.go import commands as go_commands, play as go_play
from deep_arena.agents.molecule import commands as molecule_commands, play as molecule_play
from deep_arena.scripts import demo, evaluate, gtp

PARSERS = {
    ("arena-evaluate", "go"): go_commands.evaluate_parser, ("arena-evaluate", "arm"): arm_commands.evaluate_parser,
    ("arena-evaluate", "molecule"): molecule_commands.evaluate_parser, ("arena-play", "go"): go_play.play_parser,
    ("arena-play", "arm"): arm_play.play_parser, ("arena-play", "molecule"): molecule_play.play_parser,
}


def _hints(run: Path) -> list[list[str]]:
    return [shlex.split(line) for line in demo.closing_hints([(job, run) for job in demo.demo_jobs()], ".venv/bin/")]


def test_every_job_has_hints_and_they_name_its_run(tmp_path):
    assert all(job.hints for job in demo.demo_jobs())
    hints = _hints(Path("runs/go/alphazero-20261206-120000"))
    assert all(h[0].startswith(".venv/bin/") for h in hints)
    assert not any("<" in arg for h in hints for arg in h)  # no placeholders such as <moldqn run>
    assert sum("runs/go/alphazero-20261206-120000" in " ".join(h) for h in hints) >= len(demo.demo_jobs())


@pytest.mark.parametrize("hint", _hints(Path("runs/x/run")), ids=lambda h: " ".join(h[:3]))
def test_every_hint_parses(hint):
    command = Path(hint[0]).name
    assert (Path(sys.executable).parent / command).exists(), f"{command} is not an installed entry point"
    if command == "tensorboard":
        return
    if command == "arena-gtp":
        gtp.parse_args(hint[1:])
    elif command == "arena-evaluate" and hint[1] in evaluate.GAN_COMMANDS:
        evaluate.build_gan_parser().parse_args(hint[1:])
    else:
        PARSERS[command, hint[1]]().parse_args(hint[2:])
