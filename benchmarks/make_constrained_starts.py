"""Write the start molecules of the constrained-optimisation benchmark: the N molecules of the MOSES test set with
the lowest penalized logP that the molecule env accepts with its default rules (MolDQN and GCPN used the 800
lowest-pLogP molecules of ZINC250k, which no PyPI package ships; MOSES is a ZINC subset that `molsets` does).

    pip download molsets==0.3.1 --no-deps -d /tmp/molsets     # a 52 MB wheel; nothing is imported from it
    python benchmarks/make_constrained_starts.py --wheel /tmp/molsets/molsets-0.3.1-py3-none-any.whl --n 100

Writes benchmarks/data/moses_low_plogp_<N>.smi (SMILES and pLogP).
"""

from __future__ import annotations

import argparse
import gzip
import io
import os
import sys
import zipfile
from pathlib import Path


from rdkit import Chem, rdBase  # noqa: E402

from deep_arena.envs.molecule import rewards  # noqa: E402
from deep_arena.envs.molecule.chem import EditableMolecule, EditRules, MoleculeError  # noqa: E402

MEMBER = "moses/dataset/data/test.csv.gz"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--wheel", type=Path, required=True, help="the molsets-0.3.1 wheel (or an installed "
                        "package folder holding moses/dataset/data/test.csv.gz)")
    parser.add_argument("--n", type=int, default=100)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    if args.wheel.is_dir():
        raw = (args.wheel / MEMBER).read_bytes()
    else:
        with zipfile.ZipFile(args.wheel) as wheel:
            raw = wheel.read(MEMBER)
    lines = gzip.GzipFile(fileobj=io.BytesIO(raw)).read().decode().splitlines()
    rules = EditRules()
    scored = []
    blocker = rdBase.BlockLogs()  # noqa: F841
    for line in lines[1:]:
        smiles = line.split(",")[0]
        try:
            EditableMolecule.from_smiles(smiles, rules)
        except MoleculeError:
            continue
        mol = Chem.MolFromSmiles(smiles)
        scored.append((rewards.penalized_logp(mol), Chem.MolToSmiles(mol)))
    scored.sort()
    out = args.out or Path(__file__).parent / "data" / f"moses_low_plogp_{args.n}.smi"
    with open(out, "w") as handle:
        handle.write(f"# {args.n} lowest penalized-logP molecules of the MOSES test set ({len(scored)} accepted "
                     f"of {len(lines) - 1}); columns: SMILES pLogP\n")
        for value, smiles in scored[: args.n]:
            handle.write(f"{smiles} {value:.4f}\n")
    print(f"wrote {out}: pLogP from {scored[0][0]:.2f} to {scored[args.n - 1][0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
