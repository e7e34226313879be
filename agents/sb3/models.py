"""Algorithms by name, building and loading SB3 / sb3-contrib models, and their TensorBoard logger.

Stable-Baselines3 is what this package runs, so it is imported at the top (importing ``agents.sb3.models`` costs
SB3's import time; the configs in :mod:`agents.sb3.settings` do not).
"""

from __future__ import annotations

import importlib
import json
import os
import warnings
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import torch
from sb3_contrib import TQC, MaskablePPO
from stable_baselines3 import PPO, SAC, TD3
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.logger import Logger, TensorBoardOutputFormat

from deep_arena.agents.sb3.callbacks import SECONDS_ATTR
from deep_arena.agents.sb3.checkpoints import grow_replay_buffer
from deep_arena.runtime.device import resolve_device
from deep_arena.runtime.legacy_names import legacy_module_names
from deep_arena.runtime.tb import make_writer

__all__ = ["ALGORITHMS", "OFF_POLICY", "OPTIONAL_ALGORITHMS", "SECONDS_ATTR", "algo_class", "attach_tensorboard", "load_for_training",
           "load_saved", "restore_replay_buffer", "saved_algo", "saved_progress", "trained_seconds"]

#: The algorithms the runner builds, by the names configs and ``--algo`` use.
ALGORITHMS: dict[str, type[BaseAlgorithm]] = {"ppo": PPO, "sac": SAC, "td3": TD3, "tqc": TQC,
                                              "maskable_ppo": MaskablePPO}
#: Algorithms from optional packages, imported on first use: name -> (module, class). sbx (SB3 in JAX, the [fast]
#: extra) trains the same algorithms with jitted updates, several times SB3's updates/s on a CPU
#: (benchmarks/arm_learner_speed.py).
OPTIONAL_ALGORITHMS: dict[str, tuple[str, str]] = {"sbx_tqc": ("sbx", "TQC"), "sbx_sac": ("sbx", "SAC")}
#: The algorithms that keep a replay buffer (checkpointed beside the model).
OFF_POLICY = ("sac", "tqc", "td3", "sbx_tqc", "sbx_sac")

# policy class module saved in a zip's ``data`` entry -> algorithm (PPO's MultiInputPolicy lives in common.policies)
_POLICY_MODULES = {"sbx.tqc": "sbx_tqc", "sbx.sac": "sbx_sac", "sb3_contrib.tqc": "tqc", "sb3_contrib.common.maskable": "maskable_ppo",
                   "stable_baselines3.sac": "sac", "stable_baselines3.td3": "td3",
                   "stable_baselines3.common.policies": "ppo", "stable_baselines3.ppo": "ppo"}


def algo_class(name: str) -> type[BaseAlgorithm]:
    """The SB3 / sb3-contrib / sbx class for ``name`` (``"tqc"``, ``"maskable_ppo"``, ``"sbx_tqc"``...);
    ``ValueError`` if unknown, or if its optional package is not installed."""
    if name in OPTIONAL_ALGORITHMS:
        module, cls = OPTIONAL_ALGORITHMS[name]
        try:
            return getattr(importlib.import_module(module), cls)
        except ImportError as err:
            raise ValueError(f"algorithm {name!r} needs the {module} package ({err}); install it with "
                             f"pip install -e '.[fast]'") from None
    try:
        return ALGORITHMS[name]
    except KeyError:
        names = (*ALGORITHMS, *OPTIONAL_ALGORITHMS)
        raise ValueError(f"unknown algorithm {name!r}; choose from {', '.join(names)}") from None


def saved_algo(path: str | os.PathLike[str], allowed: Iterable[str] | None = None) -> str:
    """Which algorithm saved the SB3 zip at ``path`` (read from its ``data`` entry, nothing unpickled); ``ValueError``
    if the file is missing or unreadable, or (with ``allowed``) the algorithm is not one of those."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"model file {str(path)!r} does not exist")
    try:
        with zipfile.ZipFile(path) as archive:
            data = json.loads(archive.read("data").decode("utf-8"))
        module = data["policy_class"]["__module__"]
    except (zipfile.BadZipFile, KeyError, ValueError, TypeError, OSError) as err:
        raise ValueError(f"{path}: not a Stable-Baselines3 model zip ({type(err).__name__}: {err})") from None
    algo = next((a for prefix, a in _POLICY_MODULES.items() if module.startswith(prefix)), None)
    allowed = tuple(allowed) if allowed is not None else (*ALGORITHMS, *OPTIONAL_ALGORITHMS)
    if algo not in allowed:
        names = [a.upper() for a in allowed]
        expected = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]
        raise ValueError(f"{path}: saved by an unsupported policy class from {module!r} (expected {expected})")
    return algo


def load_saved(cls: type[BaseAlgorithm], path: str | os.PathLike[str], device: str | torch.device = "auto",
               env: Any = None, custom_objects: dict[str, Any] | None = None) -> BaseAlgorithm:
    """``cls.load`` with today's module names standing in for the old ones that zips saved before the
    ``deep_arena`` root pickled (:mod:`runtime.legacy_names`). Errors are the caller's to word."""
    with legacy_module_names():
        return cls.load(str(path), env=env, device=resolve_device(device), custom_objects=custom_objects)


def load_for_training(cls: type[BaseAlgorithm], path: str | os.PathLike[str], venv: Any, device: str | torch.device,
                      seed: int, custom_objects: dict[str, Any] | None = None) -> BaseAlgorithm:
    """A checkpoint zip loaded to continue learning on ``venv`` (policy, optimizers, step counter), its random
    generators seeded with ``seed + steps done`` (a resumed run does not replay the first run's randomness)."""
    model = load_saved(cls, path, device=device, env=venv, custom_objects=custom_objects or None)
    model.set_random_seed(seed + model.num_timesteps)
    return model


#: What HerReplayBuffer says on every load of a buffer saved mid-episode. A resumed run starts new episodes, so
#: ending the stored last one there is what it should do: the warning is expected and silenced (only it).
HER_TRUNCATION_WARNING = r"The last trajectory in the replay buffer will be truncated"


def restore_replay_buffer(model: BaseAlgorithm, path: Path, learning_starts: int) -> bool:
    """Load the replay buffer at ``path`` into an off-policy ``model`` at its configured size (a checkpoint holds
    only the slots written: :func:`agents.sb3.checkpoints.save_replay_buffer`); if the file is missing (a run killed
    between the model's save and the buffer's), warn and learn again only after ``max(learning_starts, 100)`` new
    steps (HER cannot sample before an episode is complete). Returns whether the buffer was restored."""
    if path.is_file():
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=HER_TRUNCATION_WARNING, category=UserWarning)
            model.load_replay_buffer(path)
        grow_replay_buffer(model.replay_buffer)
        return True
    model.learning_starts = model.num_timesteps + max(int(learning_starts), 100)
    warnings.warn(f"{path} is missing: training continues with an empty replay buffer, learning again after "
                  f"{model.learning_starts} steps", stacklevel=3)
    return False


class _TensorBoard(TensorBoardOutputFormat):
    """SB3's TensorBoard output on :func:`runtime.tb.make_writer`'s writer (with its ``purge_step``)."""

    def __init__(self, folder: str, purge_step: int | None = None) -> None:  # noqa: D107 - no super(): one writer
        self.writer = make_writer(folder, purge_step=purge_step)
        self._is_closed = False


def attach_tensorboard(model: BaseAlgorithm, folder: str | os.PathLike[str], purge_step: int | None = None) -> None:
    """Log ``model``'s scalars and pictures as TensorBoard events in ``folder`` (the run directory; nothing on
    stdout, no csv). A resumed run passes ``purge_step`` (the checkpoint's step + 1): what the interrupted run
    logged from there on is hidden, so that curves continue instead of folding back."""
    os.makedirs(folder, exist_ok=True)
    model.set_logger(Logger(folder=str(folder), output_formats=[_TensorBoard(str(folder), purge_step)]))


def trained_seconds(model: Any) -> float:
    """The training seconds the run of ``model`` has spent (0 for a zip saved before they were recorded)."""
    return float(getattr(model, SECONDS_ATTR, 0.0) or 0.0)


def saved_progress(path: str | os.PathLike[str]) -> tuple[int, float]:
    """``(env steps, training seconds)`` of the SB3 zip at ``path``, read from its ``data`` entry (nothing
    unpickled); ``ValueError`` if unreadable."""
    try:
        with zipfile.ZipFile(path) as archive:
            data = json.loads(archive.read("data").decode("utf-8"))
        return int(data["num_timesteps"]), float(data.get(SECONDS_ATTR) or 0.0)
    except (zipfile.BadZipFile, KeyError, ValueError, TypeError, OSError) as err:
        raise ValueError(f"{path}: not a Stable-Baselines3 model zip ({type(err).__name__}: {err})") from None
