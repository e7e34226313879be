"""Demo data for the tabular GAN: an imbalanced breast-cancer table built from the copy that ships inside the
scikit-learn wheel (``sklearn.datasets.load_breast_cancer``, no download).

How it is made imbalanced (deterministic): the Wisconsin diagnostic data has 357 benign and 212 malignant tumours
with 30 continuous features. :func:`demo_table` keeps every benign row and a seeded random 20 % of the malignant ones
(``numpy.random.default_rng(0).choice(212, 42, replace=False)``, rows kept in their original order), giving 399 rows
of which 42 (10.5 %) are malignant. The target column ``diagnosis`` holds ``benign`` / ``malignant``; the feature
columns keep scikit-learn's names with spaces replaced by underscores.

    python -c "from gan.tabular_data import demo_table; demo_table('runs/breast_cancer_imbalanced.csv')"

``scripts/train_gan.py tabular --data demo`` and ``scripts/evaluate.py tabular --data demo`` write this file into
the run / output folder and use it.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

__all__ = ["DEMO_TARGET", "MINORITY_FRACTION", "demo_table"]

DEMO_TARGET = "diagnosis"
MINORITY_FRACTION = 0.2
DEMO_SEED = 0


def demo_table(path: str | Path) -> Path:
    """Write the imbalanced breast-cancer CSV (see the module docstring) to ``path`` and return the path."""
    from sklearn.datasets import load_breast_cancer

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
