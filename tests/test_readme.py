"""The README's commands and code work: the "API at a glance" block runs, and every evaluate / play command of the
quick start parses with its family's parser (training commands are exercised by each family's own tests)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from deep_arena.agents.registry import get_task

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def _block_after(heading: str, language: str) -> str:
    section = README.split(heading, 1)[1]
    return section.split(f"```{language}\n", 1)[1].split("\n```", 1)[0]


def test_api_at_a_glance_runs(gnugo):
    namespace: dict = {}
    exec(compile(_block_after("## API at a glance", "python"), "README.md", "exec"), namespace)  # noqa: S102
    assert namespace["frame"].ndim == 3 and namespace["game"].board_size == 9
    assert hasattr(namespace["policy"], "predict") and hasattr(namespace["designer"], "generate")
    for env in ("env",):
        namespace[env].close()
    namespace["player"].close()


QUICK_START = [shlex.split(line) for line in _block_after("## Quick start", "bash").splitlines()
               if line.startswith("arena-")]


def test_the_quick_start_has_three_commands_per_family():
    for family in ("go", "arm", "molecule"):
        verbs = [cmd[0] for cmd in QUICK_START if cmd[1] == family]
        assert verbs == ["arena-train", "arena-play", "arena-evaluate"], family


@pytest.mark.parametrize("cmd", [c for c in QUICK_START if c[0] in ("arena-evaluate", "arena-play") and c[1] != "gan"],
                         ids=lambda c: " ".join(c[:2]))
def test_quick_start_evaluate_and_play_commands_parse(cmd):
    module = __import__(f"deep_arena.agents.{cmd[1]}.{'commands' if cmd[0] == 'arena-evaluate' else 'play'}",
                        fromlist=["x"])
    parser = module.evaluate_parser() if cmd[0] == "arena-evaluate" else module.play_parser()
    parser.parse_args(cmd[2:])
    assert get_task(cmd[1]).name == cmd[1]


def test_readme_links_to_existing_docs():
    for target in re.findall(r"\]\((docs/[^)#]+)\)", README):
        assert (Path(__file__).resolve().parents[1] / target).is_file(), target
