#!/usr/bin/env python
"""What the GAN critic in the reward does to the realism of RL-designed molecules (ORGAN / ATNC pairing).

    python benchmarks/gan_reward_realism.py --episodes 300 --eval-episodes 200 --seeds 0 1

For each seed, two MolDQN runs maximise QED on molecules of at most 9 heavy atoms (QM9's size, the shipped GAN's
domain): one with the plain QED reward, one with `--gan-reward pretrained --gan-lambda LAMBDA`
(reward = LAMBDA * D(mol) + (1 - LAMBDA) * QED, D the shipped molgan-qm9 critic squashed to (0, 1)). Each trained
policy then designs `--eval-episodes` molecules (epsilon 0.05, the final molecule of each episode), which are
compared with QM9: FCD against a QM9 sample (fcd_torch), PAINS pass rate, mean critic score D, mean QED, uniqueness,
and share of molecules that are in QM9 itself. Prints a table and writes results.json into the output folder.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def train(variant: str, seed: int, args, out: Path) -> Path:
    root = out / f"{variant}-seed{seed}"
    cmd = [sys.executable, str(ROOT / "scripts/train_molecule.py"), "--algo", "moldqn", "--objective", "qed",
           "--episodes", str(args.episodes), "--seed", str(seed), "--run-root", str(root), "--no-progress",
           "--set", "env.max_atoms=9", "--set", "threads=1"]
    if variant == "gan":
        cmd += ["--gan-reward", "pretrained", "--gan-lambda", str(args.gan_lambda)]
    start = time.time()
    with open(out / f"{variant}-seed{seed}.log", "w") as log:
        code = subprocess.run(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT).returncode
    if code != 0:
        raise RuntimeError(f"{variant} seed {seed}: train_molecule.py exited {code}; see the log in {out}")
    [model] = list(root.glob("molecule/*/model.pt"))
    print(f"trained {variant} seed {seed} in {time.time() - start:.0f} s: {model}", flush=True)
    return model


def design(model: Path, args, seed: int) -> list[str]:
    from deep_arena.agents.molecule import evaluation as molecule_eval
    from deep_arena.agents.molecule.players import load_molecule_agent

    policy, act = load_molecule_agent(str(model), device="cpu")
    env = policy.make_env(objective="qed")
    records = molecule_eval.run_episodes(env, act, [None], args.eval_episodes, epsilon=0.05, seed=seed,
                                         progress_bar=False)
    return [r.final for r in records]


def measure(smiles: list[str], qm9: set[str], reference: list[str], critic) -> dict:
    from rdkit import Chem
    from rdkit.Chem import QED

    from deep_arena.gan import metrics

    mols = [Chem.MolFromSmiles(s) for s in smiles]
    scores = [critic(m) for m in mols]
    return {"molecules": len(smiles), "unique": len(set(smiles)) / len(smiles),
            "in_qm9": float(np.mean([s in qm9 for s in smiles])),
            "mean_qed": float(np.mean([QED.qed(m) for m in mols])),
            "mean_critic": float(np.mean(scores)),
            "pains_pass": metrics.pains_pass_rate(smiles),
            "fcd_qm9": metrics.fcd(smiles, reference),
            "mean_heavy_atoms": float(np.mean([m.GetNumHeavyAtoms() for m in mols]))}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--episodes", type=int, default=300, help="MolDQN training episodes per run")
    parser.add_argument("--eval-episodes", type=int, default=200, help="designed molecules per run")
    parser.add_argument("--gan-lambda", type=float, default=0.3)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--fcd-n", type=int, default=5000, help="QM9 reference molecules for FCD")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    from deep_arena.gan import metrics
    from deep_arena.gan.data import load_dataset
    from deep_arena.gan.rewards import DiscriminatorReward

    if not metrics.fcd_available():
        parser.error("fcd_torch is not installed: make gan-data")
    qm9_all = load_dataset("qm9")
    qm9 = {c for c in (metrics.canonical_smiles(s) for s in qm9_all) if c}
    reference = random.Random(0).sample(qm9_all, args.fcd_n)
    critic = DiscriminatorReward("pretrained")
    out = args.out or ROOT / "runs" / "bench" / f"gan-reward-{time.strftime('%Y%m%d-%H%M%S')}"
    if out.exists() and any(out.iterdir()):
        parser.error(f"{out} exists and is not empty; nothing is overwritten")
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    for seed in args.seeds:
        for variant in ("plain", "gan"):
            model = train(variant, seed, args, out)
            smiles = design(model, args, seed)
            (out / f"{variant}-seed{seed}.smi").write_text("\n".join(smiles) + "\n")
            row = {"variant": variant, "seed": seed, **measure(smiles, qm9, reference, critic)}
            rows.append(row)
            print(json.dumps(row), flush=True)
    keys = ["fcd_qm9", "pains_pass", "mean_critic", "mean_qed", "unique", "in_qm9", "mean_heavy_atoms"]
    print(f"\nMolDQN, QED, <= 9 heavy atoms, {args.episodes} training episodes, {args.eval_episodes} designs per run, "
          f"seeds {args.seeds}; mean ± std over seeds")
    print("variant  " + "  ".join(f"{k:>16}" for k in keys))
    table = {}
    for variant in ("plain", "gan"):
        vals = {k: [r[k] for r in rows if r["variant"] == variant] for k in keys}
        table[variant] = {k: [float(np.mean(v)), float(np.std(v))] for k, v in vals.items()}
        print(f"{variant:<8} " + "  ".join(f"{np.mean(v):>9.3f} ± {np.std(v):<4.2f}" for v in vals.values()))
    (out / "results.json").write_text(json.dumps({"args": {k: str(v) for k, v in vars(args).items()},
                                                  "rows": rows, "table": table}, indent=2) + "\n")
    print(f"results: {out / 'results.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
