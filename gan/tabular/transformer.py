"""Mode-specific normalisation for the tabular GAN (:class:`TabularTransformer`; the method is described in the
package docstring, :mod:`deep_arena.gan.tabular`): per continuous column a Bayesian Gaussian mixture whose fitted
modes are stored as plain numbers, one-hot categories."""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np
from sklearn.mixture import BayesianGaussianMixture

from deep_arena.gan.tabular.data import Table, TabularDataError, category_sort_key

__all__ = ["TabularTransformer"]


def _fit_modes(values: np.ndarray, max_modes: int, threshold: float, seed: int) -> dict[str, Any]:
    """The kept modes of one continuous column (weights, means, stds in the column's units), its range and whether
    every value is an integer: plain numbers, as stored in a model file."""
    mean, std = float(values.mean()), float(values.std())
    std = std if std > 0 else 1.0
    z = ((values - mean) / std).reshape(-1, 1)
    k = int(min(max_modes, len(np.unique(values))))
    bgm = BayesianGaussianMixture(n_components=k, weight_concentration_prior_type="dirichlet_process",
                                  weight_concentration_prior=0.001, max_iter=100, n_init=1, random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # ConvergenceWarning on tiny columns is harmless here
        bgm.fit(z)
    keep = bgm.weights_ > threshold
    if not keep.any():
        keep = bgm.weights_ == bgm.weights_.max()
    weights = bgm.weights_[keep] / bgm.weights_[keep].sum()
    means = bgm.means_.ravel()[keep] * std + mean
    stds = np.sqrt(bgm.covariances_.ravel()[keep]) * std
    return {"weights": [float(w) for w in weights], "means": [float(m) for m in means],
            "stds": [float(max(s, 1e-6 * std)) for s in stds], "min": float(values.min()),
            "max": float(values.max()), "integer": bool(np.all(np.equal(np.mod(values, 1), 0)))}


class TabularTransformer:
    """Encodes a :class:`Table`'s feature columns to the GAN's matrix and back (see the package docstring).

    ``spans`` lists ``(column, kind, start, width)``: for a continuous column ``kind`` is ``"continuous"`` and the
    span is ``[α, one-hot modes]`` (width ``1 + modes``); for a categorical one it is ``"categorical"``.
    """

    def __init__(self, state: Mapping[str, Any]) -> None:
        self.state = dict(state)
        self.columns: list[str] = list(state["columns"])
        self.kinds: dict[str, str] = dict(state["kinds"])
        self.target: str = state["target"]
        self.classes: list[str] = list(state["classes"])
        self.class_counts: list[int] = [int(n) for n in state["class_counts"]]
        self.params: dict[str, dict[str, Any]] = {c: dict(p) for c, p in state["params"].items()}
        self.spans: list[tuple[str, str, int, int]] = []
        start = 0
        for col in self.feature_columns:
            p = self.params[col]
            width = 1 + len(p["means"]) if self.kinds[col] == "continuous" else len(p["categories"])
            self.spans.append((col, self.kinds[col], start, width))
            start += width
        self.width = start

    @property
    def feature_columns(self) -> list[str]:
        return [c for c in self.columns if c != self.target]

    @classmethod
    def fit(cls, table: Table, max_modes: int = 10, weight_threshold: float = 0.005, seed: int = 0
            ) -> TabularTransformer:
        params: dict[str, dict[str, Any]] = {}
        for col in table.feature_columns:
            if table.kinds[col] == "continuous":
                params[col] = _fit_modes(table.data[col], max_modes, weight_threshold, seed)
            else:
                params[col] = {"categories": sorted({str(v) for v in table.data[col]}, key=category_sort_key)}
        counts = table.class_counts()
        classes = sorted(counts, key=category_sort_key)
        return cls({"columns": list(table.columns), "kinds": dict(table.kinds), "target": table.target,
                    "classes": classes, "class_counts": [counts[c] for c in classes], "params": params})

    def to_dict(self) -> dict[str, Any]:
        return self.state

    # --- encode / decode ------------------------------------------------------------------------------------------

    def mode_posterior(self, col: str, values: np.ndarray) -> np.ndarray:
        p = self.params[col]
        w, mu, sd = (np.asarray(p[k], dtype=np.float64) for k in ("weights", "means", "stds"))
        x = values.reshape(-1, 1)
        log = np.log(w + 1e-12) - np.log(sd) - 0.5 * ((x - mu) / sd) ** 2
        log -= log.max(axis=1, keepdims=True)
        post = np.exp(log)
        return post / post.sum(axis=1, keepdims=True)

    def encode(self, table: Table, rng: np.random.Generator | None = None) -> np.ndarray:
        """Feature matrix ``(rows, width)`` float32; modes are drawn from the posterior with ``rng`` (seed 0)."""
        rng = rng or np.random.default_rng(0)
        n = table.n_rows
        out = np.zeros((n, self.width), dtype=np.float32)
        for col, kind, start, width in self.spans:
            values = table.data[col]
            if kind == "continuous":
                p = self.params[col]
                post = self.mode_posterior(col, values.astype(np.float64))
                u = rng.random((n, 1))
                modes = np.minimum((post.cumsum(axis=1) < u).sum(axis=1), post.shape[1] - 1)
                mu, sd = np.asarray(p["means"])[modes], np.asarray(p["stds"])[modes]
                out[:, start] = np.clip((values - mu) / (4 * sd), -0.99, 0.99)
                out[np.arange(n), start + 1 + modes] = 1.0
            else:
                index = {c: i for i, c in enumerate(self.params[col]["categories"])}
                unknown = [v for v in values if str(v) not in index]
                if unknown:
                    raise TabularDataError(f"column {col!r}: category {unknown[0]!r} was not seen in training")
                out[np.arange(n), start + np.array([index[str(v)] for v in values], dtype=np.int64)] = 1.0
        return out

    def decode(self, matrix: np.ndarray, labels: np.ndarray) -> Table:
        """Matrix (α values and one-hot or logit spans) plus the class labels -> :class:`Table`."""
        matrix = np.asarray(matrix, dtype=np.float64)
        data: dict[str, np.ndarray] = {self.target: np.asarray(labels, dtype=str)}
        for col, kind, start, width in self.spans:
            p = self.params[col]
            if kind == "continuous":
                modes = matrix[:, start + 1:start + width].argmax(axis=1)
                alpha = np.clip(matrix[:, start], -1.0, 1.0)
                x = alpha * 4 * np.asarray(p["stds"])[modes] + np.asarray(p["means"])[modes]
                x = np.clip(x, p["min"], p["max"])
                data[col] = np.round(x) if p["integer"] else x
            else:
                data[col] = np.asarray(p["categories"], dtype=str)[matrix[:, start:start + width].argmax(axis=1)]
        return Table(list(self.columns), dict(self.kinds), data, self.target)

    def class_index(self, labels: np.ndarray) -> np.ndarray:
        index = {c: i for i, c in enumerate(self.classes)}
        return np.array([index[str(v)] for v in labels], dtype=np.int64)

