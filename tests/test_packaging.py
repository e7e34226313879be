"""Packaging: one import root (``deep_arena``) for the folders at the top of the repository, every package listed
in pyproject.toml, console entry points that resolve, and no module imported as a bare ``envs``/``agents``/``gan``."""

from __future__ import annotations

import importlib
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())
SETUPTOOLS = PYPROJECT["tool"]["setuptools"]


def _folder_packages() -> set[str]:
    names = set()
    for root, folder in ((name, REPO / path) for name, path in SETUPTOOLS["package-dir"].items()):
        for init in folder.rglob("__init__.py"):
            if "__pycache__" in init.parts:
                continue
            rel = init.parent.relative_to(folder).parts
            names.add(".".join((root, *rel)))
    return names


def test_every_package_folder_is_listed_under_the_deep_arena_root():
    listed = set(SETUPTOOLS["packages"])
    assert _folder_packages() == listed
    assert all(name.startswith("deep_arena.") for name in listed)


@pytest.mark.parametrize("script", sorted(PYPROJECT["project"]["scripts"]))
def test_console_entry_points_resolve(script):
    module, _, function = PYPROJECT["project"]["scripts"][script].partition(":")
    assert callable(getattr(importlib.import_module(module), function))


def test_no_bare_top_level_imports_in_the_code():
    bare = re.compile(r"^\s*(from|import)\s+(envs|agents|gan|runtime|scripts)\b", re.M)
    offenders = [str(path.relative_to(REPO)) for folder in ("envs", "agents", "gan", "runtime", "scripts", "tests",
                                                              "benchmarks")
                 for path in (REPO / folder).rglob("*.py") if bare.search(path.read_text())]
    assert offenders == []


def test_bare_names_are_not_importable_outside_the_checkout(tmp_path):
    code = "import importlib.util as u; print([n for n in ('envs', 'agents', 'gan') if u.find_spec(n)])"
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
