"""Pretrained models shipped with the repository (each under 5 MB), trained with this code on the CPU.

| name      | file          | what                                   |
|-----------|---------------|----------------------------------------|
| `go-7x7`  | `go-7x7.pt`   | AlphaZero network for 7x7 Go (komi 9.5) |
| `go-9x9`  | `go-9x9.pt`   | AlphaZero network for 9x9 Go (komi 7.5) |
| `molecule-qed` | `molecule-qed.pt` | MolDQN network trained to maximise QED |
| `arm-reach` | `arm-reach.zip` | TQC + HER policy for `arena/ArmReach-v0` (SB3 zip, no replay buffer) |
| `arm-push` | `arm-push.zip` | TQC + HER policy for `arena/ArmPush-v0` after an expert start (SB3 zip) |

The README records the command, wall time, hardware and measured strength of each.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

PRETRAINED_DIR = Path(__file__).resolve().parent
GO_MODELS = {7: "go-7x7.pt", 9: "go-9x9.pt"}
MOLECULE_MODELS = {"molecule-qed": "molecule-qed.pt"}
ARM_MODELS = {"arm-reach": "arm-reach.zip", "arm-push": "arm-push.zip", "arm-pick_and_place": "arm-pick_and_place.zip"}


def available() -> list[str]:
    """Names of the shipped models that are present."""
    names = [f"go-{n}x{n}" for n, f in GO_MODELS.items() if (PRETRAINED_DIR / f).is_file()]
    names += [name for name, f in MOLECULE_MODELS.items() if (PRETRAINED_DIR / f).is_file()]
    return names + [name for name, f in ARM_MODELS.items() if (PRETRAINED_DIR / f).is_file()]


def pretrained_arm_path(task: str) -> Path:
    """The shipped SB3 model for the arm ``task`` (``"reach"``, ``"push"``...); ``ValueError`` if none is shipped."""
    name = f"arm-{task}"
    path = PRETRAINED_DIR / ARM_MODELS.get(name, f"{name}.zip")
    if name not in ARM_MODELS or not path.is_file():
        raise ValueError(f"no pretrained model {name!r} shipped; available: {available() or 'none'}")
    return path


def pretrained_go_path(board_size: int) -> Path | None:
    """The shipped AlphaZero model file for ``board_size``, or None if there is none."""
    name = GO_MODELS.get(int(board_size))
    if name is None or not (PRETRAINED_DIR / name).is_file():
        return None
    return PRETRAINED_DIR / name


def load_pretrained(name: str, device: str = "auto", **kwargs: Any):
    """Load a shipped model by name. ``"go-7x7"`` / ``"go-9x9"`` give an `AlphaZeroPlayer` (an
    `envs.go.opponents.Opponent`: ``act(game, rng) -> action``); ``kwargs`` go to its constructor (e.g. ``sims``).
    ``"molecule-qed"`` gives a `MolDQNPolicy` (``make_env()``, ``act(env)``, ``generate(env)``).
    ``"arm-reach"`` and ``"arm-push"`` give the Stable-Baselines3 model (TQC):
    ``predict(obs, deterministic=True) -> (action, None)`` on the env's Dict observation."""
    if name in ARM_MODELS:
        from deep_arena.agents.arm.sb3_trainer import load_model

        return load_model(pretrained_arm_path(name[len("arm-"):]), device=device)
    if name in MOLECULE_MODELS:
        path = PRETRAINED_DIR / MOLECULE_MODELS[name]
        if not path.is_file():
            raise ValueError(f"no pretrained model {name!r} shipped yet; available: {available() or 'none'}")
        from deep_arena.agents.moldqn.player import MolDQNPolicy

        return MolDQNPolicy.load(path, device=device, name=f"pretrained:{name}")
    if name.startswith("go-"):
        try:
            size = int(name[3:].split("x")[0])
        except ValueError:
            size = -1
        path = pretrained_go_path(size)
        if path is None:
            raise ValueError(f"no pretrained model {name!r}; available: {available() or 'none'}")
        from deep_arena.agents.alphazero.player import AlphaZeroPlayer

        return AlphaZeroPlayer.from_checkpoint(path, board_size=size, device=device, name=f"pretrained:{name}",
                                               **kwargs)
    raise ValueError(f"unknown pretrained model {name!r}; available: {available() or 'none'}")
