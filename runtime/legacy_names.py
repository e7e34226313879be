"""Loading files saved before the ``deep_arena`` import root existed.

Stable-Baselines3 zips pickle classes by module path (``policy_kwargs["features_extractor_class"]``), so a model
saved when the packages were importable as ``agents.sb3.arm_expert`` names that module. While such a file loads,
:func:`legacy_module_names` makes the old names resolve to today's modules; afterwards ``sys.modules`` is as before,
so the bare names never shadow another project's ``agents`` package.
"""

from __future__ import annotations

import contextlib
import importlib
import sys
import types
from collections.abc import Iterator

# old module path -> today's module (only modules whose classes were pickled into shipped or users' files)
LEGACY_MODULES = {
    "agents.sb3.arm_expert": "deep_arena.agents.arm.expert",
    "agents.sb3.arm": "deep_arena.agents.arm.sb3_trainer",
    "agents.sb3.go_ppo": "deep_arena.agents.go.ppo",
    "agents.sb3.molecule_ppo": "deep_arena.agents.molecule.ppo",
    "agents.sb3.selfplay_pool": "deep_arena.agents.go.selfplay_pool",
}


@contextlib.contextmanager
def legacy_module_names() -> Iterator[None]:
    """Within the block, ``import agents.sb3.arm_expert`` (and the other :data:`LEGACY_MODULES`) gives today's module."""
    added: list[str] = []
    try:
        for old, new in LEGACY_MODULES.items():
            parts = old.split(".")
            for i in range(1, len(parts)):  # parent packages as empty placeholders
                parent = ".".join(parts[:i])
                if parent not in sys.modules:
                    module = types.ModuleType(parent)
                    module.__path__ = []  # a package: lets the import system look for children
                    sys.modules[parent] = module
                    added.append(parent)
            if old not in sys.modules:
                sys.modules[old] = importlib.import_module(new)
                added.append(old)
        yield
    finally:
        for name in added:
            sys.modules.pop(name, None)
