"""Molecule data sets for the GANs, read from files only (no downloads at run time).

* ``qm9``: the 130,831 QM9 SMILES shipped by the PyPI wheel ``qm9pack==1.0.3`` (``qm9pack/data/qm9_part{1,2,3}.csv``,
  column ``SMILES``); install with ``pip install qm9pack==1.0.3`` or ``pip install -e '.[gan]'``.
* ``moses`` / ``moses-test``: the MOSES train / test splits shipped by the wheel ``molsets==0.3.1``
  (``moses/dataset/data/{train,test}.csv.gz``). Its code is broken on current pandas and RDKit and its declared
  dependencies do not build, so install it with ``pip install --no-deps molsets==0.3.1`` (``make gan-data``); the
  package is located with :func:`importlib.util.find_spec` and never imported.
* any other name is a path to a SMILES file: one SMILES per line (first whitespace- or comma-separated column;
  blank lines, ``#`` comments and a ``smiles`` header line are skipped), plain or ``.gz``.
"""

from __future__ import annotations

import csv
import gzip
import importlib.util
import io
from pathlib import Path

__all__ = ["DataError", "DATASETS", "package_dir", "qm9_files", "moses_file", "load_qm9", "load_moses",
           "load_smiles_file", "load_dataset"]

DATASETS = ("qm9", "moses", "moses-test")

_QM9_HINT = "pip install qm9pack==1.0.3  (or: pip install -e '.[gan]')"
_MOSES_HINT = "pip install --no-deps molsets==0.3.1  (or: make gan-data); --no-deps because its own dependencies " \
              "(pomegranate 0.12) do not build"


class DataError(ValueError):
    """A data set is not installed, a file is missing, or a file holds no usable SMILES."""


def package_dir(name: str) -> Path | None:
    """The folder of an installed package, found without importing it (``None`` when not installed)."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0])


def qm9_files() -> list[Path]:
    """The three QM9 CSV files of ``qm9pack``; :class:`DataError` naming the install command when absent."""
    root = package_dir("qm9pack")
    if root is None:
        raise DataError(f"QM9 data set not installed: the package 'qm9pack' is missing; run: {_QM9_HINT}")
    files = [root / "data" / f"qm9_part{i}.csv" for i in (1, 2, 3)]
    missing = [str(f) for f in files if not f.is_file()]
    if missing:
        raise DataError(f"QM9 data files missing ({', '.join(missing)}); reinstall: {_QM9_HINT}")
    return files


def moses_file(split: str = "train") -> Path:
    """``moses/dataset/data/<split>.csv.gz`` of the ``molsets`` wheel (``split``: train, test, test_scaffolds)."""
    root = package_dir("moses")
    if root is None:
        raise DataError(f"MOSES data set not installed: the package 'molsets' (module moses) is missing; "
                        f"run: {_MOSES_HINT}")
    path = root / "dataset" / "data" / f"{split}.csv.gz"
    if not path.is_file():
        raise DataError(f"MOSES file {str(path)!r} is missing; reinstall: {_MOSES_HINT}")
    return path


def _smiles_column(handle: io.TextIOBase, where: str) -> list[str]:
    reader = csv.reader(handle)
    header = next(reader, None)
    if header is None:
        raise DataError(f"{where} is empty")
    try:
        col = [h.strip().upper() for h in header].index("SMILES")
    except ValueError:
        raise DataError(f"{where} has no SMILES column (header: {header[:6]})") from None
    return [row[col] for row in reader if len(row) > col and row[col]]


def load_qm9(limit: int | None = None) -> list[str]:
    """QM9 SMILES in file order (130,831 of them; the first ``limit`` if given)."""
    out: list[str] = []
    for path in qm9_files():
        with path.open(newline="", encoding="utf-8") as handle:
            out.extend(_smiles_column(handle, str(path)))
        if limit is not None and len(out) >= limit:
            return out[:limit]
    return out


def load_moses(split: str = "train", limit: int | None = None) -> list[str]:
    """MOSES SMILES of one split (train: 1,584,663), the first ``limit`` if given."""
    path = moses_file(split)
    with gzip.open(path, "rt", newline="", encoding="utf-8") as handle:
        smiles = _smiles_column(handle, str(path))
    return smiles[:limit] if limit is not None else smiles


def load_smiles_file(path: str | Path, limit: int | None = None) -> list[str]:
    """SMILES from a text file (see the module docstring for the format); :class:`DataError` when the file is
    missing, unreadable or holds none."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"SMILES file {str(path)!r} does not exist (datasets by name: {', '.join(DATASETS)})")
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rt", encoding="utf-8") as handle:
            lines = handle.read().splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"SMILES file {str(path)!r} cannot be read as text: {exc}") from None
    out = []
    for line in lines:
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        first = text.split()[0].split(",")[0]
        if first.lower() == "smiles":
            continue
        out.append(first)
        if limit is not None and len(out) >= limit:
            break
    if not out:
        raise DataError(f"SMILES file {str(path)!r} holds no SMILES")
    return out


def load_dataset(name: str, limit: int | None = None) -> list[str]:
    """SMILES of ``qm9``, ``moses`` (train), ``moses-test``, or a SMILES file path."""
    if name == "qm9":
        return load_qm9(limit)
    if name == "moses":
        return load_moses("train", limit)
    if name == "moses-test":
        return load_moses("test", limit)
    return load_smiles_file(name, limit)
