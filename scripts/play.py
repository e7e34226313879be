"""Play against, or watch, Deep Arena environments in a window.

Examples (from the repository root)::

    .venv/bin/python scripts/play.py go --human                                  # you (Black) vs random, 9x9
    .venv/bin/python scripts/play.py go --human --opponent gnugo:5 --color white --sgf runs/go/mygame.sgf
    .venv/bin/python scripts/play.py go --watch --opponent gnugo:5              # a random agent vs GNU Go
    .venv/bin/python scripts/play.py go --human --model pretrained --board-size 7 --show-search
    .venv/bin/python scripts/play.py go --watch --model pretrained --board-size 9 --opponent gnugo:5

Go controls: click an intersection to play, P pass, R resign, U undo (your move and the reply), S save an SGF
record (runs/go/human-<timestamp>.sgf unless --sgf is given; files are never overwritten), Esc or closing the
window quits. The panel shows the Tromp-Taylor score and, at the end, the result.

Molecule design: watch a trained agent build molecules one edit at a time::

    .venv/bin/python scripts/play.py molecule --model runs/molecule/moldqn-<time>/model.pt
    .venv/bin/python scripts/play.py molecule --model runs/molecule/maskable_ppo-<time>/final_model.zip --episodes 3
    .venv/bin/python scripts/play.py molecule --model pretrained --start-smiles c1ccccc1 --fps 2
    .venv/bin/python scripts/play.py molecule --model MODEL --headless-frames frames/   # PNG frames, no window

Robot arm: watch a trained policy (scripts/train_arm.py) in a pygame window showing MuJoCo's 3-D view::

    .venv/bin/python scripts/play.py arm --task reach --model pretrained --episodes 5
    .venv/bin/python scripts/play.py arm --task push --model runs/arm/tqc-<time>/final_model.zip

Each environment family of the task registry is a subcommand (`go`, `molecule`, `arm`) with its own options
(`arena-play go --help`). Each opens a window, or exits with status 1 and a
one-line reason (no display, for instance); `--save-frames DIR` also writes every frame the window shows as a PNG.
A crash in native code (SDL, Cairo, OpenGL) prints a Python traceback (faulthandler) instead of hanging.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

from deep_arena.agents.registry import run_command  # noqa: E402  (after the pygame banner setting)
from deep_arena.runtime.display import enable_faulthandler  # noqa: E402


def main(argv: Sequence[str] | None = None) -> int:
    enable_faulthandler()
    return run_command("play", list(sys.argv[1:] if argv is None else argv), "arena-play")


if __name__ == "__main__":
    sys.exit(main())
