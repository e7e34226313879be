"""Pretrained models shipped with the repository (each under 5 MB), trained with this code on the CPU: names and
paths only. Loading goes through each family's task (:func:`deep_arena.agents.load_pretrained`).

| name      | file          | what                                   |
|-----------|---------------|----------------------------------------|
| `go-7x7`  | `go-7x7.pt`   | AlphaZero network for 7x7 Go (komi 9.5) |
| `go-9x9`  | `go-9x9.pt`   | AlphaZero network for 9x9 Go (komi 7.5) |
| `molecule-qed` | `molecule-qed.pt` | MolDQN network trained to maximise QED |
| `arm-reach` | `arm-reach.zip` | TQC + HER policy for `arena/ArmReach-v0` (SB3 zip, no replay buffer) |
| `arm-push` | `arm-push.zip` | TQC + HER policy for `arena/ArmPush-v0` after an expert start (SB3 zip) |
| `arm-pick-and-place` | `arm-pick-and-place.zip` | TQC + HER policy for `arena/ArmPickAndPlace-v0` after an expert start (SB3 zip) |

The README records the command, wall time, hardware and measured strength of each.
"""

from __future__ import annotations

from pathlib import Path

PRETRAINED_DIR = Path(__file__).resolve().parent
GO_MODELS = {7: "go-7x7.pt", 9: "go-9x9.pt"}
MOLECULE_MODELS = {"molecule-qed": "molecule-qed.pt"}
ARM_MODELS = {"arm-reach": "arm-reach.zip", "arm-push": "arm-push.zip", "arm-pick-and-place": "arm-pick-and-place.zip"}
# every name -> file
FILES = {**{f"go-{n}x{n}": f for n, f in GO_MODELS.items()}, **MOLECULE_MODELS, **ARM_MODELS}


def available() -> list[str]:
    """Names of the shipped models that are present."""
    return [name for name, f in FILES.items() if (PRETRAINED_DIR / f).is_file()]


def pretrained_path(name: str) -> Path:
    """The file of the shipped model ``name``; ``ValueError`` naming the available ones if it is unknown or absent."""
    if name not in FILES:
        raise ValueError(f"unknown pretrained model {name!r}; available: {', '.join(available()) or 'none'}")
    path = PRETRAINED_DIR / FILES[name]
    if not path.is_file():
        raise ValueError(f"no pretrained model {name!r} shipped; available: {', '.join(available()) or 'none'}")
    return path


def pretrained_arm_path(task: str) -> Path:
    """The shipped SB3 model for the arm ``task`` (``"reach"``, ``"push"``...); ``ValueError`` if none is shipped."""
    name = f"arm-{task}".replace("_", "-")   # pick_and_place -> arm-pick-and-place
    if name not in ARM_MODELS:
        raise ValueError(f"no pretrained model {name!r} shipped; available: {', '.join(available()) or 'none'}")
    return pretrained_path(name)


def pretrained_go_path(board_size: int) -> Path | None:
    """The shipped AlphaZero model file for ``board_size``, or None if there is none."""
    name = GO_MODELS.get(int(board_size))
    if name is None or not (PRETRAINED_DIR / name).is_file():
        return None
    return PRETRAINED_DIR / name
