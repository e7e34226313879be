"""Molecule-design speed: env steps per second with the action mask, ours against enumerate-and-sanitize.

Both sides walk the same kind of random episodes (uniformly random valid edits, stop excluded, 40 steps) and do the
same per-step work apart from the mask: the new molecule, its canonical SMILES and its Morgan fingerprint
(radius 3, 2048 bits).

* ours: `arena/MoleculeDesign-v0` (`MoleculeEnv.step`, mask by valence arithmetic on the Kekulé graph);
* baseline: the same action set, each edit applied to a copy of the molecule with RDKit and sanitized to find the
  valid ones (what MolDQN does; `envs.molecule.reference`).

Rewards are switched off (a constant reward function) so that the mask is what is timed; `--reward qed` adds RDKit
QED to both sides. Two start settings: a single carbon (MolDQN's default) and drug-like start molecules
(`tests/data/molecules_sample.smi`, larger molecules, more edits to check). One process, one core.

    python benchmarks/molecule_speed.py [--seconds 10] [--repeats 3] [--reward none|qed] [--json OUT.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np


from rdkit import Chem, RDLogger  # noqa: E402
from rdkit.Chem import rdFingerprintGenerator  # noqa: E402

from deep_arena.envs.molecule import rewards  # noqa: E402
from deep_arena.envs.molecule.chem import ActionCodec, EditableMolecule, EditRules  # noqa: E402
from deep_arena.envs.molecule.env import MoleculeEnv  # noqa: E402
from deep_arena.envs.molecule.reference import edit_with_rdkit, kekule_rwmol, relevant_actions  # noqa: E402

SAMPLE = Path(__file__).resolve().parents[1] / "tests" / "data" / "molecules_sample.smi"
RDLogger.DisableLog("rdApp.*")


def _zero(mol) -> float:
    return 0.0


def start_sets(rules: EditRules) -> dict[str, list[str]]:
    drug_like = []
    for s in SAMPLE.read_text().split():
        try:
            EditableMolecule.from_smiles(s, rules)
            drug_like.append(s)
        except ValueError:
            pass
    return {"carbon": ["C"], "drug-like": drug_like}


def run_ours(starts: list[str], reward: str, seconds: float, seed: int) -> float:
    env = MoleculeEnv(objective="qed" if reward == "qed" else _zero, start_smiles=starts, max_steps=40)
    rng = np.random.default_rng(seed)
    env.reset(seed=seed)
    steps, stop = 0, env.codec.stop
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        _, info = env.reset()
        done = False
        while not done:
            mask = info["action_mask"]
            mask[stop] = False
            legal = np.flatnonzero(mask)
            _, _, term, trunc, info = env.step(int(legal[rng.integers(len(legal))]) if legal.size else stop)
            steps += 1
            done = term or trunc
    return steps / (time.perf_counter() - start)


def run_baseline(starts: list[str], reward: str, seconds: float, seed: int) -> float:
    """Enumerate-and-sanitize: every edit of the action set is applied to a copy and sanitized each step."""
    rules = EditRules()
    codec = ActionCodec(rules)
    fp_gen = rdFingerprintGenerator.GetMorganGenerator(radius=3, fpSize=2048)
    mols = [EditableMolecule.from_smiles(s, rules) for s in starts]
    rng = np.random.default_rng(seed)
    steps = 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        mol = mols[int(rng.integers(len(mols)))]
        for _ in range(40):
            base = kekule_rwmol(mol)
            valid = [a for a in relevant_actions(mol, codec).tolist()
                     if a != codec.stop and edit_with_rdkit(mol, codec, a, base) is not None]
            if not valid:
                break
            mol = mol.apply(codec, valid[int(rng.integers(len(valid)))])
            rd = mol.to_mol()
            Chem.MolToSmiles(rd)
            fp_gen.GetFingerprintAsNumPy(rd)
            if reward == "qed":
                rewards.qed(rd)
            steps += 1
    return steps / (time.perf_counter() - start)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--reward", choices=["none", "qed"], default="none")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)

    print(f"machine: {platform.machine()} {platform.processor() or ''} {os.cpu_count()} cores, "
          f"Python {platform.python_version()}; reward: {args.reward}; {args.seconds:g} s x {args.repeats} "
          f"repeats, median")
    results = {}
    run_ours(["C"], args.reward, 0.5, seed=0)  # warm-up: numba compiles (or loads) the graph code once
    print(f"{'start':<10} {'ours steps/s':>13} {'enumerate+sanitize':>19} {'ratio':>7}")
    for name, starts in start_sets(EditRules()).items():
        ours = statistics.median(run_ours(starts, args.reward, args.seconds, seed=r) for r in range(args.repeats))
        base = statistics.median(run_baseline(starts, args.reward, args.seconds, seed=r)
                                 for r in range(args.repeats))
        results[name] = {"ours": ours, "baseline": base, "ratio": ours / base}
        print(f"{name:<10} {ours:>13.0f} {base:>19.1f} {ours / base:>6.1f}x")
    if args.json:
        args.json.write_text(json.dumps({"reward": args.reward, "results": results}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
