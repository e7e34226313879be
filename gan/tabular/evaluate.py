"""Utility evaluation of the tabular GAN (:mod:`deep_arena.gan.tabular`): TSTR against TRTR and minority-class
augmentation against SMOTE, over several seeds, with the ``ctgan`` package as a peer.

Protocol (no test row ever reaches a generator, SMOTE or a classifier's training):

1. For each seed ``s`` (default 0-4) the real table is split 70/30, stratified by class
   (``StratifiedShuffleSplit(test_size=0.3, random_state=s)``).
2. A fresh GAN is trained on the 70 % training split with the settings of the given model file (its ``config``;
   the model's own weights saw every row of its CSV and are not used for the scores), seed ``s``. The ``ctgan``
   peer (``CTGAN(epochs=E)``, its other defaults, the target and every categorical column as discrete columns) is
   fitted on the same split. Training seconds include the transformer fit for both.
3. One fixed classifier: ``RandomForestClassifier(n_estimators=200, random_state=s)`` on the feature columns
   (continuous values as they are, categorical ones as ordinal codes over the categories of the whole CSV).
4. Scores on the real 30 % test split: macro F1, and for the *minority class* (the smallest class of the CSV) its
   F1 and its PR-AUC (average precision of the predicted minority probability).

   * **TRTR**: trained on the real training split (also the "real only" augmentation row);
   * **TSTR**: trained only on synthetic rows, as many per class as the training split has (ours: exact counts;
     ctgan: ``sample(len(train))``, whatever classes it draws);
   * **+SMOTE**: ``imblearn.pipeline.Pipeline([SMOTE, classifier])`` fitted on the training split, so resampling
     happens inside training only (SMOTENC when there are categorical features; ``k_neighbors = min(5, n - 1)``);
   * **+ours / +ctgan**: the training split plus synthetic rows of every non-majority class up to the majority
     count (what SMOTE's ``auto`` strategy adds). Ours gives exact counts; ctgan's conditional sampling is repeated
     (``condition_column`` / ``condition_value``) and rows of other classes are dropped until the count is reached
     (at most 50 rounds; the acceptance rate is reported).

Means and standard deviations over the seeds go to ``results.json``; ``utility.png`` is a bar chart.
"""

from __future__ import annotations

import importlib
import json
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from imblearn.over_sampling import SMOTE, SMOTENC
from imblearn.pipeline import Pipeline
from sklearn.ensemble import RandomForestClassifier
from sklearn.metrics import average_precision_score, f1_score
from sklearn.model_selection import StratifiedShuffleSplit

from deep_arena.gan.tabular.data import Table, category_sort_key
from deep_arena.gan.tabular.trainer import train_model

__all__ = ["evaluate_utility", "format_table", "utility_chart", "peer_available", "write_results"]

ROWS = ("trtr", "tstr_ours", "tstr_ctgan", "real_only", "smote", "aug_ours", "aug_ctgan")
LABELS = {"trtr": "TRTR (train real, test real)", "tstr_ours": "TSTR ours", "tstr_ctgan": "TSTR ctgan",
          "real_only": "real only", "smote": "real + SMOTE", "aug_ours": "real + ours (minority)",
          "aug_ctgan": "real + ctgan (minority)"}


def peer_available() -> tuple[bool, str]:
    """Whether ``ctgan`` imports, and a note for the user when it does not."""
    try:
        importlib.import_module("ctgan")
    except Exception as exc:  # ImportError or a broken install
        return False, (f"ctgan is not importable ({type(exc).__name__}: {exc}); the peer is skipped "
                       "(pip install -e '.[tabular-peer]')")
    return True, ""


class _Features:
    """Table -> classifier matrix: continuous columns as they are, categorical ones as ordinal codes."""

    def __init__(self, table: Table) -> None:
        self.columns = table.feature_columns
        self.kinds = table.kinds
        self.codes = {c: {v: i for i, v in enumerate(sorted(set(table.data[c].tolist()), key=category_sort_key))}
                      for c in self.columns if table.kinds[c] == "categorical"}
        self.categorical = [j for j, c in enumerate(self.columns) if table.kinds[c] == "categorical"]

    def __call__(self, table: Table) -> np.ndarray:
        cols = []
        for c in self.columns:
            if self.kinds[c] == "continuous":
                cols.append(table.data[c].astype(np.float64))
            else:
                cols.append(np.array([self.codes[c].get(str(v), -1) for v in table.data[c]], dtype=np.float64))
        return np.stack(cols, axis=1)


def _scores(clf, X_test: np.ndarray, y_test: np.ndarray, minority: str) -> dict[str, float]:
    pred = clf.predict(X_test)
    classes = list(clf.classes_)
    proba = clf.predict_proba(X_test)[:, classes.index(minority)] if minority in classes else np.zeros(len(y_test))
    return {"macro_f1": float(f1_score(y_test, pred, average="macro", zero_division=0)),
            "minority_f1": float(f1_score(y_test == minority, pred == minority, zero_division=0)),
            "minority_pr_auc": float(average_precision_score(y_test == minority, proba))}


def _classifier(seed: int):
    return RandomForestClassifier(n_estimators=200, random_state=seed, n_jobs=1)


def _to_frame(table: Table):
    import pandas as pd  # lazy: only the optional ctgan peer needs pandas (it comes with ctgan, not with us)

    return pd.DataFrame({c: table.data[c] for c in table.columns})


def _from_frame(frame, like: Table) -> Table:
    data = {}
    for c in like.columns:
        if like.kinds[c] == "continuous":
            data[c] = frame[c].to_numpy(dtype=np.float64)
        else:
            data[c] = frame[c].astype(str).to_numpy(dtype=str)
    return Table(list(like.columns), dict(like.kinds), data, like.target)


def _ctgan_minority(model, target: str, needed: Mapping[str, int], like: Table, seed: int
                    ) -> tuple[Table | None, float]:
    """Conditional sampling + rejection until each class has its count; returns (rows, acceptance rate)."""
    import pandas as pd  # lazy: only the optional ctgan peer needs pandas (it comes with ctgan, not with us)

    parts, drawn, kept = [], 0, 0
    for c, k in needed.items():
        got = []
        have = 0
        for _ in range(50):
            if have >= k:
                break
            frame = model.sample(max(2 * (k - have), 50), condition_column=target, condition_value=c)
            drawn += len(frame)
            ok = frame[frame[target].astype(str) == c]
            got.append(ok)
            have += len(ok)
        frame = pd.concat(got).iloc[:k] if got else None
        if frame is not None and len(frame):
            parts.append(frame)
            kept += len(frame)
    if not parts:
        return None, 0.0
    return _from_frame(pd.concat(parts), like), kept / max(drawn, 1)


def evaluate_utility(table: Table, config: Mapping[str, Any], seeds: Sequence[int] = (0, 1, 2, 3, 4),
                     test_fraction: float = 0.3, peer: bool = True, peer_epochs: int | None = None,
                     device: str = "cpu", progress_bar: bool = False, log=print) -> dict[str, Any]:
    """Run the protocol of the module docstring; returns a JSON-ready dict (per seed and mean/std)."""
    counts = table.class_counts()
    minority = min(counts, key=lambda c: (counts[c], c))
    features = _Features(table)
    discrete = [c for c in table.columns if table.kinds[c] == "categorical"]
    peer_epochs = int(peer_epochs or config["epochs"])
    per_seed: list[dict[str, Any]] = []
    for seed in seeds:
        split = StratifiedShuffleSplit(n_splits=1, test_size=test_fraction, random_state=seed)
        train_idx, test_idx = next(split.split(np.zeros(table.n_rows), table.labels))
        train, test = table.subset(np.sort(train_idx)), table.subset(np.sort(test_idx))
        X_tr, y_tr, X_te, y_te = features(train), train.labels, features(test), test.labels
        tc = train.class_counts()
        top = max(tc.values())
        needed = {c: top - n for c, n in tc.items() if top - n > 0}
        row: dict[str, Any] = {"seed": int(seed), "train_rows": train.n_rows, "test_rows": test.n_rows,
                               "train_classes": tc}

        def fit_score(X, y, clf=None):
            clf = clf or _classifier(seed)
            clf.fit(X, y)
            return _scores(clf, X_te, y_te, minority)

        row["trtr"] = fit_score(X_tr, y_tr)
        row["real_only"] = row["trtr"]
        # SMOTE inside the training split only (imblearn Pipeline)
        k = max(1, min(5, min(tc.values()) - 1))
        sampler = (SMOTENC(categorical_features=features.categorical, k_neighbors=k, random_state=seed)
                   if features.categorical else SMOTE(k_neighbors=k, random_state=seed))
        row["smote"] = fit_score(X_tr, y_tr, Pipeline([("smote", sampler), ("clf", _classifier(seed))]))
        # ours
        began = time.perf_counter()
        model = train_model(train, config, device=device, seed=seed, progress_bar=progress_bar)
        row["seconds_ours"] = time.perf_counter() - began
        synthetic = model.sample(tc, seed=seed)
        row["tstr_ours"] = fit_score(features(synthetic), synthetic.labels)
        extra = model.sample(needed, seed=seed + 10_000)
        aug = Table.concat([train, extra])
        row["aug_ours"] = fit_score(features(aug), aug.labels)
        msg = (f"seed {seed}: TRTR F1 {row['trtr']['macro_f1']:.3f}  TSTR ours {row['tstr_ours']['macro_f1']:.3f}  "
               f"minority F1 real {row['real_only']['minority_f1']:.3f} SMOTE {row['smote']['minority_f1']:.3f} "
               f"ours {row['aug_ours']['minority_f1']:.3f}  ours {row['seconds_ours']:.0f} s")
        if peer:
            from ctgan import CTGAN  # lazy: the optional peer (the tabular-peer extra), only when asked for

            torch.manual_seed(seed)
            began = time.perf_counter()
            peer_model = CTGAN(epochs=peer_epochs, enable_gpu=device != "cpu")
            peer_model.set_random_state(seed)
            peer_model.fit(_to_frame(train), discrete_columns=discrete)
            row["seconds_ctgan"] = time.perf_counter() - began
            synth = _from_frame(peer_model.sample(train.n_rows), train)
            row["tstr_ctgan"] = fit_score(features(synth), synth.labels)
            row["ctgan_tstr_classes"] = synth.class_counts()
            extra_c, accept = _ctgan_minority(peer_model, table.target, needed, train, seed)
            row["ctgan_acceptance"] = accept
            aug_c = Table.concat([train, extra_c]) if extra_c is not None else train
            row["ctgan_minority_rows"] = 0 if extra_c is None else extra_c.n_rows
            row["aug_ctgan"] = fit_score(features(aug_c), aug_c.labels)
            msg += (f" | TSTR ctgan {row['tstr_ctgan']['macro_f1']:.3f}  ctgan minority F1 "
                    f"{row['aug_ctgan']['minority_f1']:.3f}  ctgan {row['seconds_ctgan']:.0f} s")
        log(msg)
        per_seed.append(row)
    summary: dict[str, Any] = {}
    for key in ROWS:
        if key not in per_seed[0]:
            continue
        summary[key] = {m: {"mean": float(np.mean([r[key][m] for r in per_seed])),
                            "std": float(np.std([r[key][m] for r in per_seed]))}
                        for m in ("macro_f1", "minority_f1", "minority_pr_auc")}
    for key in ("seconds_ours", "seconds_ctgan"):
        if key in per_seed[0]:
            summary[key] = {"mean": float(np.mean([r[key] for r in per_seed])),
                            "std": float(np.std([r[key] for r in per_seed]))}
    targets = {"minority_f1_ours_ge_smote": summary["aug_ours"]["minority_f1"]["mean"]
               >= summary["smote"]["minority_f1"]["mean"]}
    if peer:
        targets["tstr_ours_ge_ctgan"] = (summary["tstr_ours"]["macro_f1"]["mean"]
                                         >= summary["tstr_ctgan"]["macro_f1"]["mean"])
        targets["time_ours_le_ctgan"] = summary["seconds_ours"]["mean"] <= summary["seconds_ctgan"]["mean"]
    return {"minority_class": minority, "class_counts": counts, "rows": table.n_rows, "seeds": list(seeds),
            "test_fraction": test_fraction, "classifier": "RandomForestClassifier(n_estimators=200)",
            "epochs_ours": int(config["epochs"]), "epochs_ctgan": peer_epochs if peer else None,
            "peer": peer, "summary": summary, "targets": targets, "per_seed": per_seed}


def format_table(result: Mapping[str, Any]) -> str:
    """Plain-text table of the summary (mean ± std over the seeds)."""
    s = result["summary"]
    lines = [f"{'':32s} {'macro F1':>15s} {'minority F1':>15s} {'minority PR-AUC':>17s}"]
    for key in ROWS:
        if key in s:
            cells = [f"{s[key][m]['mean']:.3f} ± {s[key][m]['std']:.3f}"
                     for m in ("macro_f1", "minority_f1", "minority_pr_auc")]
            lines.append(f"{LABELS[key]:32s} {cells[0]:>15s} {cells[1]:>15s} {cells[2]:>17s}")
    for key, name in (("seconds_ours", "training s, ours"), ("seconds_ctgan", "training s, ctgan")):
        if key in s:
            lines.append(f"{name:32s} {s[key]['mean']:.1f} ± {s[key]['std']:.1f}")
    lines.append("targets: " + ", ".join(f"{k} {'met' if v else 'NOT met'}" for k, v in result["targets"].items()))
    return "\n".join(lines)


def utility_chart(result: Mapping[str, Any], path: str | Path) -> Path:
    """Bar chart: TSTR/TRTR macro F1 and the augmentation rows' minority F1 and PR-AUC (error bars: std)."""
    import matplotlib  # lazy: slow, and selecting Agg at import would change the backend of a program importing us

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # lazy: as matplotlib above

    s = result["summary"]
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    groups = [("macro F1 (test split)", [k for k in ("trtr", "tstr_ours", "tstr_ctgan") if k in s], ["macro_f1"]),
              ("minority class", [k for k in ("real_only", "smote", "aug_ours", "aug_ctgan") if k in s],
               ["minority_f1", "minority_pr_auc"])]
    for ax, (title, keys, metrics) in zip(axes, groups):
        x = np.arange(len(keys))
        width = 0.8 / len(metrics)
        for i, m in enumerate(metrics):
            ax.bar(x + (i - (len(metrics) - 1) / 2) * width, [s[k][m]["mean"] for k in keys], width,
                   yerr=[s[k][m]["std"] for k in keys], capsize=3, label=m.replace("_", " "))
        ax.set_xticks(x, [LABELS[k] for k in keys], rotation=20, ha="right", fontsize=8)
        ax.set_ylim(0, 1.05)
        ax.set_title(title)
        ax.legend(fontsize=8)
    fig.suptitle(f"{len(result['seeds'])} seeds, minority class {result['minority_class']!r}")
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def write_results(result: Mapping[str, Any], out: Path) -> Path:
    """``results.json`` in the folder ``out``."""
    path = Path(out) / "results.json"
    path.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return path
