#!/usr/bin/env python
"""`make demo`: a short training run on every environment that exists so far, then where to look."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

JOBS = [
    ("Go 5x5, AlphaZero self-play (2 minutes; evaluation vs random and GNU Go level 1 at the end)",
     [sys.executable, "scripts/train_go.py", "--algo", "alphazero", "--board-size", "5", "--minutes", "2",
      "--set", "eval_every=1000", "--set", "eval.games_vs_random=10", "--set", "eval.games_vs_gnugo=4"]),
    ("Go 5x5, MaskablePPO against a self-play pool (about a minute)",
     [sys.executable, "scripts/train_go.py", "--algo", "maskable_ppo", "--board-size", "5", "--steps", "12000",
      "--set", "eval_every=4000", "--set", "eval_games=20", "--set", "selfplay.snapshot_every=2000"]),
    ("Robot arm reach, TQC + HER (2,000 steps, about a minute; the shipped model trained for 20,000)",
     [sys.executable, "scripts/train_arm.py", "--task", "reach", "--algo", "tqc", "--her", "--steps", "2000",
      "--set", "eval_every=1000", "--set", "eval_episodes=10", "--set", "checkpoint_every=1000"]),
    ("Robot arm push, TQC + HER after an expert start: 100 scripted demonstrations, cloning, 1 DAgger round, "
     "critic warm-up, then 1,000 agent steps (one to two minutes; the README's run used 1,000 demonstrations and 5 rounds)",
     [sys.executable, "scripts/train_arm.py", "--task", "push", "--algo", "tqc", "--her", "--steps", "1000",
      "--set", "expert.episodes=100", "--set", "expert.bc_steps=2000", "--set", "expert.dagger_rounds=1",
      "--set", "expert.dagger_episodes=50", "--set", "expert.critic_steps=300", "--set", "expert.bc_alpha=1.0",
      "--set", "eval_every=1000", "--set", "eval_episodes=10", "--set", "checkpoint_every=1000",
      "--set", "threads=1"]),
    ("Robot arm reach on the wide goal space with a Goal GAN curriculum (2,000 steps, about a minute)",
     [sys.executable, "scripts/train_arm.py", "--task", "reach", "--curriculum", "goalgan", "--goal-space", "wide",
      "--steps", "2000", "--coverage", "3", "--set", "eval_every=2000", "--set", "eval_episodes=10",
      "--set", "checkpoint_every=2000"]),
    ("Molecule design, MolDQN maximising QED (60 episodes of 40 edits, about a minute)",
     [sys.executable, "scripts/train_molecule.py", "--algo", "moldqn", "--objective", "qed", "--episodes", "60",
      "--set", "learning_starts=400", "--set", "checkpoint_every=30"]),
    ("Molecule design, MaskablePPO maximising QED (4,000 steps, about a minute)",
     [sys.executable, "scripts/train_molecule.py", "--algo", "maskable_ppo", "--objective", "qed", "--steps", "4000"]),
    ("Molecular graph GAN (MolGAN-style WGAN-GP) on the committed 2,000-molecule QM9 sample (30 seconds)",
     [sys.executable, "scripts/train_gan.py", "molecules", "--dataset", "tests/data/qm9_sample.smi", "--epochs", "40",
      "--minutes", "0.5", "--set", "threads=1"]),
    ("Tabular GAN on the imbalanced breast-cancer table (100 epochs, about a minute)",
     [sys.executable, "scripts/train_gan.py", "tabular", "--data", "demo", "--epochs", "100", "--set", "threads=1"]),
]


def main() -> int:
    for title, cmd in JOBS:
        print(f"\n=== {title}\n$ {' '.join(cmd[1:])}", flush=True)
        start = time.time()
        result = subprocess.run(cmd, cwd=ROOT)
        if result.returncode != 0:
            print(f"demo job failed with exit code {result.returncode}", file=sys.stderr)
            return result.returncode
        print(f"done in {time.time() - start:.0f} s")
    print("\nWhere to look:")
    print("  tensorboard --logdir runs            # curves, evaluation boards")
    print("  python scripts/play.py go --human    # play Go against the random player in a pygame window")
    print("  python scripts/play.py go --human --model pretrained --board-size 7 --komi 9.5 --show-search")
    print("  python scripts/evaluate.py go --model pretrained --board-size 7 --komi 9.5 --opponent gnugo:1 --games 20")
    print("  python scripts/gtp.py --board-size 9 # a GTP engine for GoGui/Sabaki or GNU Go matches")
    print("  python scripts/evaluate.py arm --task reach --model pretrained --episodes 100   # success rate, 95% CI")
    print("  python scripts/play.py arm --task reach --model pretrained   # watch the shipped reach policy")
    print("  python scripts/play.py molecule --model runs/molecule/<moldqn run>/model.pt   # watch it build molecules")
    print("  python scripts/evaluate.py molecule --model runs/molecule/<moldqn run>/model.pt --episodes 20")
    print("  python scripts/evaluate.py tabular --model runs/gan/<tabular run>/model.pt --data demo --no-peer "
          "--seeds 2   # TSTR, minority F1 vs SMOTE")
    return 0


if __name__ == "__main__":
    sys.exit(main())
