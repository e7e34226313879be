"""Tables for the tabular GAN: :class:`Table`, the CSV reader and its column-type rule (:func:`read_csv`, see the
package docstring), the class checks, per-class marginals, the config's table (:func:`load_table`) and the demo table.

The demo table is an imbalanced breast-cancer table built from the copy that ships inside the scikit-learn wheel
(``sklearn.datasets.load_breast_cancer``, no download). How it is made imbalanced (deterministic): the Wisconsin
diagnostic data has 357 benign and 212 malignant tumours with 30 continuous features. :func:`demo_table` keeps every
benign row and a seeded random 20 % of the malignant ones (``numpy.random.default_rng(0).choice(212, 42,
replace=False)``, rows kept in their original order), giving 399 rows of which 42 (10.5 %) are malignant. The target
column ``diagnosis`` holds ``benign`` / ``malignant``; the feature columns keep scikit-learn's names with spaces
replaced by underscores.

    python -c "from deep_arena.gan.tabular import demo_table; demo_table('runs/breast_cancer_imbalanced.csv')"

``scripts/train_gan.py tabular --data demo`` and ``scripts/evaluate.py tabular --data demo`` write this file into
the run / output folder and use it.
"""

from __future__ import annotations

import csv
import math
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.datasets import load_breast_cancer

__all__ = ["TabularDataError", "Table", "read_csv", "check_classes", "category_sort_key", "class_marginals",
           "load_table", "DEMO_TARGET", "MINORITY_FRACTION", "demo_table"]

MISSING = frozenset({"", "na", "n/a", "nan", "null", "none", "?"})
JUNK_FRACTION = 0.9          # a column with >= 90 % numbers and some strings is "numeric with junk"

DEMO_TARGET = "diagnosis"
MINORITY_FRACTION = 0.2
DEMO_SEED = 0


class TabularDataError(ValueError):
    """A CSV file or table the tabular GAN cannot use; the message names the problem (column, value, line)."""


def _parse_float(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value


@dataclass
class Table:
    """A small column store: ``data[col]`` is a float64 array (continuous) or an array of str (categorical).

    ``columns`` keeps the file order; ``kinds[col]`` is ``"continuous"`` or ``"categorical"``; ``target`` names the
    class column (categorical).
    """

    columns: list[str]
    kinds: dict[str, str]
    data: dict[str, np.ndarray]
    target: str

    @property
    def n_rows(self) -> int:
        return len(self.data[self.target])

    def __len__(self) -> int:
        return self.n_rows

    @property
    def feature_columns(self) -> list[str]:
        return [c for c in self.columns if c != self.target]

    @property
    def labels(self) -> np.ndarray:
        return self.data[self.target]

    def class_counts(self) -> dict[str, int]:
        values, counts = np.unique(self.labels, return_counts=True)
        return {str(v): int(c) for v, c in zip(values, counts)}

    def subset(self, index: np.ndarray | Sequence[int]) -> Table:
        index = np.asarray(index, dtype=np.int64)
        return Table(list(self.columns), dict(self.kinds), {c: v[index] for c, v in self.data.items()}, self.target)

    @staticmethod
    def concat(tables: Sequence[Table]) -> Table:
        first = tables[0]
        return Table(list(first.columns), dict(first.kinds),
                     {c: np.concatenate([t.data[c] for t in tables]) for c in first.columns}, first.target)

    def write_csv(self, path: str | Path) -> Path:
        path = Path(path)
        with path.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(self.columns)
            for i in range(self.n_rows):
                writer.writerow([_format_number(self.data[c][i]) if self.kinds[c] == "continuous"
                                 else self.data[c][i] for c in self.columns])
        return path


def _format_number(value: float) -> str:
    """A continuous cell as written to CSV: integers without a decimal point, others as ``repr``."""
    return repr(float(value)) if not float(value).is_integer() else str(int(value))


def read_csv(path: str | Path, target: str, categorical: Sequence[str] = (), max_numeric_categories: int = 10,
             min_class_rows: int = 5) -> Table:
    """Read a CSV into a :class:`Table` with the column-type rule of the package docstring.

    :raises TabularDataError: naming the problem (file, column, value, line) for every case listed there.
    """
    path = Path(path)
    if not path.is_file():
        raise TabularDataError(f"{path}: no such file")
    text = path.read_text(encoding="utf-8-sig", errors="replace")
    if not text.strip():
        raise TabularDataError(f"{path}: the file is empty")
    rows = list(csv.reader(text.splitlines()))
    header = [h.strip() for h in rows[0]]
    body = [(i + 2, r) for i, r in enumerate(rows[1:]) if any(cell.strip() for cell in r)]
    if not body:
        raise TabularDataError(f"{path}: no data rows after the header")
    if any(not h for h in header):
        raise TabularDataError(f"{path}: column {header.index('') + 1} of the header has no name")
    dupes = sorted({h for h in header if header.count(h) > 1})
    if dupes:
        raise TabularDataError(f"{path}: duplicate column name(s) {', '.join(map(repr, dupes))}")
    if target not in header:
        raise TabularDataError(f"{path}: target column {target!r} not found; columns: {', '.join(header)}")
    unknown = [c for c in categorical if c not in header]
    if unknown:
        raise TabularDataError(f"{path}: categorical column(s) {', '.join(map(repr, unknown))} not in the header")
    if len(header) < 2:
        raise TabularDataError(f"{path}: only the target column; at least one feature column is needed")
    for line, r in body:
        if len(r) != len(header):
            raise TabularDataError(f"{path}: line {line} has {len(r)} fields, the header has {len(header)}")
    kinds: dict[str, str] = {}
    data: dict[str, np.ndarray] = {}
    for j, col in enumerate(header):
        cells = [r[j].strip() for _, r in body]
        for (line, _), cell in zip(body, cells):
            if cell.lower() in MISSING:
                shown = repr(cell) if cell else "an empty cell"
                raise TabularDataError(f"{path}: column {col!r} has a missing value ({shown}) at line {line}; "
                                       "impute or drop such rows first")
        parsed = [_parse_float(c) for c in cells]
        numeric = [p is not None and math.isfinite(p) for p in parsed]
        n_num = sum(numeric)
        forced = col == target or col in categorical
        if not forced and 0 < n_num < len(cells) and n_num >= JUNK_FRACTION * len(cells):
            k = numeric.index(False)
            raise TabularDataError(f"{path}: column {col!r} is numeric but line {body[k][0]} holds {cells[k]!r}; "
                                   "fix the value, or name the column as categorical")
        if not forced and n_num == len(cells) and len(set(parsed)) > max_numeric_categories:
            kinds[col] = "continuous"
            data[col] = np.asarray(parsed, dtype=np.float64)
        else:
            kinds[col] = "categorical"
            data[col] = np.asarray(cells, dtype=str)
    table = Table(header, kinds, data, target)
    check_classes(table, min_class_rows, str(path))
    return table


def check_classes(table: Table, min_class_rows: int = 5, where: str = "table") -> None:
    """Refuse a target with one class or a class with fewer than ``min_class_rows`` rows."""
    counts = table.class_counts()
    if len(counts) < 2:
        (only,) = counts
        raise TabularDataError(f"{where}: target column {table.target!r} has one class only ({only!r}); "
                               "a conditional GAN needs at least two")
    small = {c: n for c, n in counts.items() if n < min_class_rows}
    if small:
        c, n = min(small.items(), key=lambda kv: kv[1])
        raise TabularDataError(f"{where}: class {c!r} of {table.target!r} has only {n} row(s); at least "
                               f"{min_class_rows} per class are needed")


def category_sort_key(value: str) -> tuple[int, float, str]:
    """Sort key for category and class labels: numbers first, in numeric order, then the other strings."""
    number = _parse_float(value)
    return (0, number, "") if number is not None and math.isfinite(number) else (1, 0.0, value)


def class_marginals(table: Table) -> dict[str, dict[str, Any]]:
    """Per class: the mean and std of each continuous column and the category frequencies of each categorical one."""
    out: dict[str, dict[str, Any]] = {}
    for c in sorted(set(table.labels.tolist()), key=category_sort_key):
        rows = table.labels == c
        entry: dict[str, Any] = {}
        for col in table.feature_columns:
            v = table.data[col][rows]
            if table.kinds[col] == "continuous":
                entry[col] = {"mean": float(v.mean()), "std": float(v.std())}
            else:
                values, counts = np.unique(v, return_counts=True)
                entry[col] = {str(a): float(b) / len(v) for a, b in zip(values, counts)}
        out[str(c)] = entry
    return out


def load_table(config: Mapping[str, Any], workdir: str | Path | None = None) -> Table:
    """The config's table: ``data`` is a CSV path, or ``demo`` (the imbalanced breast-cancer table of
    :func:`demo_table`, written into ``workdir`` first; the target defaults to ``diagnosis``)."""
    data, target = config.get("data"), config.get("target")
    if not data:
        raise TabularDataError("no data: give --data FILE.csv (or demo)")
    if data == "demo":
        path = demo_table(Path(workdir or tempfile.mkdtemp()) / "breast_cancer_imbalanced.csv")
        target = target or DEMO_TARGET
    else:
        path = Path(data)
    if not target:
        raise TabularDataError("no target: give --target COLUMN")
    return read_csv(path, target, categorical=config.get("categorical") or (),
                    max_numeric_categories=config["max_numeric_categories"], min_class_rows=config["min_class_rows"])


def demo_table(path: str | Path) -> Path:
    """Write the imbalanced breast-cancer CSV (see the module docstring) to ``path`` and return the path."""
    data = load_breast_cancer()
    names = [str(n).replace(" ", "_") for n in data.feature_names]
    y = np.asarray(data.target)              # 0 = malignant, 1 = benign in scikit-learn's coding
    malignant = np.flatnonzero(y == 0)
    keep_m = np.random.default_rng(DEMO_SEED).choice(len(malignant), int(round(MINORITY_FRACTION * len(malignant))),
                                                      replace=False)
    keep = np.sort(np.concatenate([np.flatnonzero(y == 1), malignant[keep_m]]))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(names + [DEMO_TARGET])
        for i in keep:
            writer.writerow([repr(float(v)) for v in data.data[i]] + ["malignant" if y[i] == 0 else "benign"])
    return path
