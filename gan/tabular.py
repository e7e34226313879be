"""Conditional tabular GAN for CSV data (CTGAN-style, on the shared WGAN-GP core :mod:`gan.wgan`).

Method (after Xu et al., 2019, "Modeling Tabular Data using Conditional GAN"; written from the paper, not copied):

* **Reading** (:func:`read_csv`). One header line, comma separated. The *target* column is always categorical
  (its values are the class labels, kept as strings). Any other column is

  - **categorical** when it is named in ``categorical``, when most of its values are not numbers, or when it is
    numeric with at most ``max_numeric_categories`` (default 10) distinct values;
  - **continuous** otherwise (every value parses as a finite number).

  A column whose values are mostly numbers (at least 90 %) but hold a few strings is taken as numeric with junk and
  refused, naming the column, the first bad value and its line in the file (line 1 is the header). Missing values
  (an empty cell, ``NA``, ``N/A``, ``NaN``, ``null``, ``None``, ``?``) are refused the same way: impute or drop such
  rows first, the GAN does not guess. An empty file, a file without data rows, rows with the wrong number of fields,
  duplicate column names, a missing target column, a target with one class only and a class with fewer than
  ``min_class_rows`` (default 5) rows are errors too (:class:`TabularDataError`, a ``ValueError``).

* **Representation** (:class:`TabularTransformer`). A continuous column gets *mode-specific normalisation*: a
  Bayesian Gaussian mixture (scikit-learn, Dirichlet-process prior 0.001, at most 10 components, fitted on the
  z-scored column) keeps the modes whose weight exceeds 0.005; a value ``x`` is encoded as a mode ``k`` drawn from
  its posterior over the kept modes and a scalar ``α = (x − μ_k) / (4 σ_k)`` clipped to [−0.99, 0.99]: ``[α,
  one-hot(k)]``. Decoding takes the most likely mode, ``x = 4 σ_k α + μ_k``, clips to the column's training range
  and rounds when every training value was an integer. A categorical column is one-hot. The fitted mixtures are
  stored as plain numbers (weights, means, standard deviations), so a saved model needs no pickled scikit-learn
  object. The generator ends in ``tanh`` for each ``α`` and a Gumbel-softmax (τ 0.2) for each one-hot span in
  training; sampling draws each one-hot from the span's softmax (Gumbel-max), so categories keep their spread.

* **Conditioning** (training-by-sampling). The condition vector is the one-hot target class. The generator sees
  ``z ‖ cond`` and produces every column but the target; the critic scores the pair ``(row, cond)``. Each batch
  picks classes with probability ∝ log(1 + class count) and then real rows of that class uniformly, so a class with
  20 rows among 400 is seen in about a third of the critic's real rows instead of 5 % and its conditional
  distribution is learnt. Fake rows use conditions drawn from the same probabilities. Because the class is an input
  and never an output, no conditional cross-entropy term is needed (CTGAN needs one because it conditions on a
  column the generator also outputs).

* **Exact-count sampling rule** (:meth:`TabularGAN.sample`): ``sample({"M": 30, "B": 5})`` runs the generator on
  exactly 30 conditions of class ``M`` and 5 of class ``B``; the target cell of each row is its condition, so the
  returned table holds exactly the requested count of each class (ctgan's conditional sampling only raises a
  class's probability). ``sample(n)`` without counts draws the classes from the training class frequencies
  (multinomial, seeded).

* **Training**: WGAN-GP (:class:`gan.wgan.WGANGP`, λ 10) with CTGAN's architecture and most of its defaults: betas
  (0.5, 0.9), weight decay 1e-6, one critic step per generator step, 300 epochs of ``max(1, rows // batch)`` steps
  (rows drawn with replacement), a residual generator (256, 256) with batch norm and a critic (256, 256) with leaky
  ReLU and dropout 0.5. Two defaults differ: batch 128 and Adam lr 1e-3 (CTGAN: 500 and 2e-4). On the demo table
  (one seed, whole table, judged only by the per-class mean gap of 800 sampled rows per class, in standard
  deviations) 500 / 2e-4 reached gaps 0.33 / 0.59 (benign / malignant) after 600 steps and 54 s, 128 / 1e-3
  reached 0.28 / 0.40 after 1,200 steps and 50 s. PacGAN packing is available (``model.pac``: the critic
  scores packs of ``pac`` consecutive rows and gives each row its pack's score, so the core's gradient penalty works
  unchanged) but off by default (1; CTGAN uses 10): with the core's per-row penalty every row's gradient carries the
  whole pack's score, which constrains the critic ``pac`` times harder, and on the demo table pac 8 left per-class
  mean gaps of 0.78 / 0.90 after 900 steps against 0.52 / 0.65 after 600 without packing.

* **Resuming**: a logged run (:func:`train_run`) writes ``checkpoints/checkpoint_<step>.pt`` every
  ``checkpoint_every`` epochs (default 50) and at the end, holding the WGAN-GP state (nets, optimizers, scaler,
  counters), the fitted transformer, the RNG states and a fingerprint of the table; ``scripts/train_gan.py tabular
  --resume RUN_DIR --epochs N`` continues it (:meth:`TabularTrainer.from_checkpoint`), bit-identical on the same
  device to a straight run of ``N`` epochs.

Typical use::

    table = read_csv("data.csv", target="label")
    model = TabularGAN.fit(table, config)            # or TabularTrainer for a logged run with a run directory
    synthetic = model.sample({"1": 100, "0": 20}, seed=0)
    synthetic.write_csv("synthetic.csv")
"""

from __future__ import annotations

import csv
import hashlib
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from deep_arena.gan.wgan import WGANGP, WGANConfig

__all__ = ["TabularDataError", "Table", "read_csv", "TabularTransformer", "TabularGAN", "TabularTrainer",
           "DEFAULTS", "validate_config", "MODEL_KIND", "CHECKPOINT_KIND", "read_checkpoint", "table_fingerprint"]

MODEL_KIND = "tabular-gan"
CHECKPOINT_KIND = "tabular-gan-checkpoint"
CHECKPOINT_VERSION = 2       # 1 (before resuming existed) held no counters, RNG states or data fingerprint
MISSING = frozenset({"", "na", "n/a", "nan", "null", "none", "?"})
JUNK_FRACTION = 0.9          # a column with >= 90 % numbers and some strings is "numeric with junk"

DEFAULTS: dict[str, Any] = {
    "data": None,
    "target": None,
    "categorical": [],            # columns forced categorical
    "max_numeric_categories": 10,  # numeric columns with at most this many distinct values are categorical
    "min_class_rows": 5,
    "epochs": 300,
    "batch_size": 128,            # CTGAN's 500 learnt the class conditionals slower per second (module docstring)
    "model": {"latent_dim": 128, "generator_hidden": [256, 256], "critic_hidden": [256, 256], "dropout": 0.5,
              "pac": 1, "tau": 0.2, "max_modes": 10, "mode_weight_threshold": 0.005},
    "wgan": {"gp_weight": 10.0, "n_critic": 1, "lr_generator": 1e-3, "lr_critic": 1e-3, "betas": [0.5, 0.9],
             "amp": False},
    "weight_decay": 1e-6,         # generator and critic (CTGAN's)
    "class_sampling": "log",      # log | uniform | frequency: class probabilities for training-by-sampling
    "log_every": 10,              # generator steps
    "checkpoint_every": 50,       # epochs between checkpoints of a logged run (0: only the final one)
    "threads": None,
}


class TabularDataError(ValueError):
    """A CSV file or table the tabular GAN cannot use; the message names the problem (column, value, line)."""


# ---------------------------------------------------------------------------------------------------------------
# tables


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
                writer.writerow([_fmt(self.data[c][i]) if self.kinds[c] == "continuous" else self.data[c][i]
                                 for c in self.columns])
        return path


def _fmt(value: float) -> str:
    return repr(float(value)) if not float(value).is_integer() else str(int(value))


def read_csv(path: str | Path, target: str, categorical: Sequence[str] = (), max_numeric_categories: int = 10,
             min_class_rows: int = 5) -> Table:
    """Read a CSV into a :class:`Table` with the column-type rule of the module docstring.

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


# ---------------------------------------------------------------------------------------------------------------
# mode-specific normalisation


def _fit_modes(values: np.ndarray, max_modes: int, threshold: float, seed: int) -> dict[str, Any]:
    from sklearn.mixture import BayesianGaussianMixture

    mean, std = float(values.mean()), float(values.std())
    std = std if std > 0 else 1.0
    z = ((values - mean) / std).reshape(-1, 1)
    k = int(min(max_modes, len(np.unique(values))))
    bgm = BayesianGaussianMixture(n_components=k, weight_concentration_prior_type="dirichlet_process",
                                  weight_concentration_prior=0.001, max_iter=100, n_init=1, random_state=seed)
    import warnings

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
    """Encodes a :class:`Table`'s feature columns to the GAN's matrix and back (see the module docstring).

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
                params[col] = {"categories": sorted({str(v) for v in table.data[col]}, key=_category_key)}
        counts = table.class_counts()
        classes = sorted(counts, key=_category_key)
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


def _category_key(value: str) -> tuple[int, float, str]:
    number = _parse_float(value)
    return (0, number, "") if number is not None and math.isfinite(number) else (1, 0.0, value)


# ---------------------------------------------------------------------------------------------------------------
# networks


class _Residual(nn.Module):
    def __init__(self, i: int, o: int) -> None:
        super().__init__()
        self.fc, self.bn = nn.Linear(i, o), nn.BatchNorm1d(o)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([F.relu(self.bn(self.fc(x))), x], dim=1)


class Generator(nn.Module):
    """``z ‖ cond -> raw output`` (α pre-activations and logits); residual blocks with batch norm."""

    def __init__(self, in_dim: int, hidden: Sequence[int], out_dim: int) -> None:
        super().__init__()
        blocks, dim = [], in_dim
        for h in hidden:
            blocks.append(_Residual(dim, h))
            dim += h
        self.body = nn.Sequential(*blocks)
        self.out = nn.Linear(dim, out_dim)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.out(self.body(z))


class Critic(nn.Module):
    """``critic(row, cond) -> score`` per sample: MLP with leaky ReLU (0.2) and dropout over packs of ``pac``
    consecutive samples (PacGAN); each sample gets its pack's score, so the WGAN-GP core still sees one score per
    sample (a batch whose size is not a multiple of ``pac`` is padded by repeating its last rows)."""

    def __init__(self, row_dim: int, cond_dim: int, hidden: Sequence[int], dropout: float, pac: int = 1) -> None:
        super().__init__()
        self.pac = int(pac)
        layers: list[nn.Module] = []
        dim = (row_dim + cond_dim) * self.pac
        for h in hidden:
            layers += [nn.Linear(dim, h), nn.LeakyReLU(0.2), nn.Dropout(dropout)]
            dim = h
        layers.append(nn.Linear(dim, 1))
        self.net = nn.Sequential(*layers)

    def forward(self, row: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        x = torch.cat([row, cond], dim=1)
        n = x.shape[0]
        pad = (-n) % self.pac
        if pad:
            x = torch.cat([x, x[-pad:]], dim=0)
        scores = self.net(x.reshape(-1, x.shape[1] * self.pac)).squeeze(1)
        return scores.repeat_interleave(self.pac)[:n]


def activate(raw: torch.Tensor, spans: Sequence[tuple[str, str, int, int]], tau: float, hard: bool = False,
             generator: torch.Generator | None = None) -> torch.Tensor:
    """tanh on each α, Gumbel-softmax (temperature ``tau``) on each one-hot span in training; ``hard``: one-hots
    drawn from each span's softmax (Gumbel-max with noise from ``generator``), as the critic saw them in training."""
    parts = []
    for _, kind, start, width in spans:
        if kind == "continuous":
            parts.append(torch.tanh(raw[:, start:start + 1]))
            logits = raw[:, start + 1:start + width]
        else:
            logits = raw[:, start:start + width]
        if hard:
            u = torch.rand(logits.shape, generator=generator).to(logits.device).clamp(1e-10, 1 - 1e-10)
            drawn = (logits - torch.log(-torch.log(u))).argmax(dim=1)
            parts.append(F.one_hot(drawn, logits.shape[1]).to(raw.dtype))
        else:
            parts.append(F.gumbel_softmax(logits, tau=tau, hard=False))
    return torch.cat(parts, dim=1)


# ---------------------------------------------------------------------------------------------------------------
# the model


def validate_config(config: Mapping[str, Any]) -> None:
    """ValueError naming the first bad setting."""
    for key in ("epochs", "batch_size", "log_every", "min_class_rows", "max_numeric_categories"):
        v = config[key]
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise ValueError(f"{key} must be a positive integer, got {v!r}")
    if config["batch_size"] < 2:
        raise ValueError("batch_size must be at least 2")
    if config["class_sampling"] not in ("log", "uniform", "frequency"):
        raise ValueError(f"class_sampling must be log, uniform or frequency, got {config['class_sampling']!r}")
    m = config["model"]
    if not (isinstance(m["latent_dim"], int) and m["latent_dim"] >= 1):
        raise ValueError(f"model.latent_dim must be a positive integer, got {m['latent_dim']!r}")
    if not (0 <= float(m["dropout"]) < 1):
        raise ValueError(f"model.dropout must be in [0, 1), got {m['dropout']!r}")
    if isinstance(m.get("pac", 1), bool) or not isinstance(m.get("pac", 1), int) or m.get("pac", 1) < 1:
        raise ValueError(f"model.pac must be a positive integer, got {m.get('pac')!r}")
    if not (float(m["tau"]) > 0):
        raise ValueError(f"model.tau must be positive, got {m['tau']!r}")
    w = dict(config["wgan"])
    WGANConfig(**{**w, "betas": tuple(w["betas"])}).validate()
    every = config.get("checkpoint_every", 0)
    if isinstance(every, bool) or not isinstance(every, int) or every < 0:
        raise ValueError(f"checkpoint_every must be a non-negative integer (epochs; 0: only at the end), got {every!r}")
    if config.get("threads") is not None and (not isinstance(config["threads"], int) or config["threads"] < 1):
        raise ValueError(f"threads must be a positive integer, got {config['threads']!r}")


def class_probabilities(counts: Sequence[int], rule: str = "log") -> np.ndarray:
    """Training-by-sampling class probabilities: ∝ log(1 + count) (CTGAN's), uniform, or the frequencies."""
    c = np.asarray(counts, dtype=np.float64)
    p = {"log": np.log1p(c), "uniform": np.ones_like(c), "frequency": c}[rule]
    return p / p.sum()


class TabularGAN:
    """Generator + critic + fitted transformer; :meth:`sample` gives exact class counts; :meth:`save` / :meth:`load`
    use one ``weights_only`` file."""

    def __init__(self, transformer: TabularTransformer, config: Mapping[str, Any],
                 device: str | torch.device = "cpu") -> None:
        self.transformer = transformer
        self.config = dict(config)
        m = self.config["model"]
        self.n_classes = len(transformer.classes)
        self.device = torch.device(device)
        self.generator = Generator(m["latent_dim"] + self.n_classes, m["generator_hidden"],
                                   transformer.width).to(self.device)
        self.critic = Critic(transformer.width, self.n_classes, m["critic_hidden"], m["dropout"],
                             m.get("pac", 1)).to(self.device)
        self.seconds = 0.0
        self.steps = 0

    # --- sampling ---------------------------------------------------------------------------------------------

    def _counts(self, n: int | Mapping[str, int], rng: np.random.Generator) -> dict[str, int]:
        classes = self.transformer.classes
        if isinstance(n, Mapping):
            counts = {}
            for c, k in n.items():
                if str(c) not in classes:
                    raise ValueError(f"unknown class {c!r}; the model knows {', '.join(map(repr, classes))}")
                if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 0:
                    raise ValueError(f"count for class {c!r} must be a non-negative integer, got {k!r}")
                counts[str(c)] = int(k)
            return counts
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
            raise ValueError(f"n must be a non-negative integer or a {{class: count}} mapping, got {n!r}")
        freq = np.asarray(self.transformer.class_counts, dtype=np.float64)
        drawn = rng.multinomial(int(n), freq / freq.sum())
        return {c: int(k) for c, k in zip(classes, drawn)}

    @torch.no_grad()
    def sample(self, n: int | Mapping[str, int], seed: int | None = None, batch: int = 1000) -> Table:
        """Rows with exactly ``n[c]`` rows of class ``c`` (or ``n`` rows at the training class frequencies)."""
        rng = np.random.default_rng(seed)
        counts = self._counts(n, rng)
        gen = torch.Generator(device="cpu")
        gen.manual_seed(int(rng.integers(2**63 - 1)))
        labels = np.concatenate([np.full(k, c, dtype=object) for c, k in counts.items()] or
                                [np.zeros(0, dtype=object)]).astype(str)
        index = self.transformer.class_index(labels)
        was_training = self.generator.training
        self.generator.eval()
        rows = []
        try:
            for s in range(0, len(labels), batch):
                idx = torch.as_tensor(index[s:s + batch])
                z = torch.randn(len(idx), self.config["model"]["latent_dim"], generator=gen)
                cond = F.one_hot(idx, self.n_classes).float()
                raw = self.generator(torch.cat([z, cond], dim=1).to(self.device))
                rows.append(activate(raw, self.transformer.spans, 1.0, hard=True, generator=gen).cpu().numpy())
        finally:
            self.generator.train(was_training)
        matrix = np.concatenate(rows) if rows else np.zeros((0, self.transformer.width))
        return self.transformer.decode(matrix, labels)

    # --- files ------------------------------------------------------------------------------------------------

    def state(self) -> dict[str, Any]:
        return {"kind": MODEL_KIND, "version": 1, "config": self.config, "transformer": self.transformer.to_dict(),
                "generator": self.generator.state_dict(), "critic": self.critic.state_dict(),
                "seconds": float(self.seconds), "steps": int(self.steps)}

    def save(self, path: str | Path) -> Path:
        from deep_arena.runtime import save_checkpoint

        return save_checkpoint(path, self.state())

    @classmethod
    def load(cls, path: str | Path, device: str | torch.device = "cpu") -> TabularGAN:
        """Load a model file written by :meth:`save` (``torch.load(weights_only=True)``).

        :raises ValueError: one line naming the file and the problem (missing, corrupt, not a tabular GAN).
        """
        path = Path(path)
        if path.is_dir():
            path = path / "model.pt"
        if not path.is_file():
            raise ValueError(f"tabular GAN model {str(path)!r} does not exist")
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as exc:  # pickle/zip errors of all kinds
            raise ValueError(f"cannot read tabular GAN model {str(path)!r}: {type(exc).__name__}: "
                             f"{str(exc).splitlines()[0] if str(exc) else 'corrupt file'}") from None
        if not isinstance(state, dict) or state.get("kind") != MODEL_KIND:
            kind = state.get("kind") if isinstance(state, dict) else type(state).__name__
            raise ValueError(f"{str(path)!r} is not a tabular GAN model (kind {kind!r})")
        try:
            model = cls(TabularTransformer(state["transformer"]), state["config"], device=device)
            model.generator.load_state_dict(state["generator"])
            model.critic.load_state_dict(state["critic"])
            model.seconds, model.steps = float(state.get("seconds", 0.0)), int(state.get("steps", 0))
        except (KeyError, RuntimeError, TypeError, ValueError) as exc:
            raise ValueError(f"tabular GAN model {str(path)!r} is inconsistent: "
                             f"{str(exc).splitlines()[0]}") from None
        model.generator.eval()
        return model

    # --- training ---------------------------------------------------------------------------------------------

    @classmethod
    def fit(cls, table: Table, config: Mapping[str, Any], device: str | torch.device = "cpu", seed: int = 0,
            progress_bar: bool = False, writer: Any = None) -> TabularGAN:
        """Fit the transformer and train the GAN on ``table`` (seeded; see :class:`TabularTrainer`)."""
        trainer = TabularTrainer(table, config, device=device, seed=seed)
        trainer.train(progress_bar=progress_bar, writer=writer)
        return trainer.model


def table_fingerprint(table: Table) -> str:
    """SHA-256 of a table's columns, kinds and values: a resumed run refuses data that changed since it started."""
    h = hashlib.sha256()
    for col in table.columns:
        h.update(f"{col}\x1e{table.kinds[col]}\x1e".encode())
        values = table.data[col]
        if table.kinds[col] == "continuous":
            h.update(np.ascontiguousarray(values, dtype="<f8").tobytes())
        else:
            h.update("\x1f".join(map(str, values)).encode())
        h.update(b"\x1d")
    return h.hexdigest()


def read_checkpoint(path: str | Path) -> dict[str, Any]:
    """A training checkpoint written by :meth:`TabularTrainer.save_checkpoint` (``weights_only``).

    :raises CheckpointError: one line naming the file: missing, corrupt, not a tabular GAN checkpoint, or written
        before checkpoints could be resumed.
    """
    from deep_arena.runtime import CheckpointError, load_checkpoint

    state = load_checkpoint(path, map_location="cpu")
    if state.get("kind") != CHECKPOINT_KIND:
        raise CheckpointError(path, f"is not a tabular GAN training checkpoint (kind {state.get('kind')!r})")
    missing = [k for k in ("config", "wgan", "transformer", "counters", "rng", "torch_rng", "data") if k not in state]
    if missing:
        raise CheckpointError(path, f"cannot be resumed: it lacks {', '.join(missing)} (written before tabular GAN "
                                    "runs were resumable?)")
    return state


class TabularTrainer:
    """Training-by-sampling WGAN-GP loop for :class:`TabularGAN` on the shared :class:`gan.wgan.WGANGP` core.

    Resumable: :meth:`state_dict` holds the WGAN-GP state (both nets, both Adam optimizers, the AMP scaler, step
    counters), the fitted transformer, the counters, the unlogged metric window, the NumPy and torch (and CUDA)
    generator states and a fingerprint of the table; :meth:`from_checkpoint` rebuilds the trainer from it (the
    transformer is taken from the checkpoint, not refitted). On the same device and torch build, ``epochs`` 2 then a
    resume to 4 gives bit-identical weights to a straight 4-epoch run with the same seed (tests/test_gan_tabular.py).
    """

    def __init__(self, table: Table, config: Mapping[str, Any], device: str | torch.device = "cpu",
                 seed: int = 0, transformer: TabularTransformer | None = None) -> None:
        config = dict(config)
        validate_config(config)
        check_classes(table, config["min_class_rows"])
        torch.manual_seed(seed)
        self.seed = seed
        self.rng = np.random.default_rng(seed)
        self.table = table
        started = time.perf_counter()
        m = config["model"]
        if transformer is None:
            transformer = TabularTransformer.fit(table, m["max_modes"], m["mode_weight_threshold"], seed)
        elif (transformer.columns, transformer.kinds, transformer.target) != (table.columns, table.kinds, table.target):
            raise TabularDataError("the table's columns differ from the ones the transformer was fitted on")
        self.transformer = transformer
        self.model = TabularGAN(self.transformer, config, device=device)
        self.device = self.model.device
        self.matrix = torch.as_tensor(self.transformer.encode(table, self.rng))
        labels = self.transformer.class_index(table.labels)
        self.by_class = [np.flatnonzero(labels == k) for k in range(self.model.n_classes)]
        self.class_p = torch.as_tensor(class_probabilities(self.transformer.class_counts, config["class_sampling"]))
        self.latent = m["latent_dim"]
        self.wgan = WGANGP(self.model.generator, self.model.critic, noise=self._noise, config=config["wgan"],
                           device=self.device, generate=self._generate)
        for opt in (self.wgan.opt_g, self.wgan.opt_d):
            for group in opt.param_groups:
                group["weight_decay"] = float(config["weight_decay"])
        self.config = config
        self.steps_per_epoch = max(1, table.n_rows // config["batch_size"])
        self.window: dict[str, list[float]] = {}     # metrics since the last logged point
        self.setup_seconds = time.perf_counter() - started
        self._began: float | None = None

    def _noise(self, n: int) -> torch.Tensor:
        idx = torch.multinomial(self.class_p, n, replacement=True)
        return torch.cat([torch.randn(n, self.latent), F.one_hot(idx, self.model.n_classes).float()], dim=1)

    def _generate(self, generator: nn.Module, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        raw = generator(z)
        return activate(raw, self.transformer.spans, float(self.config["model"]["tau"])), z[:, self.latent:]

    def sample_real(self, n: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Training-by-sampling: classes by ``class_p``, then rows of each class uniformly (with replacement)."""
        classes = torch.multinomial(self.class_p, n, replacement=True).numpy()
        rows = np.empty(n, dtype=np.int64)
        for k in np.unique(classes):
            where = np.flatnonzero(classes == k)
            rows[where] = self.rng.choice(self.by_class[k], size=len(where))
        cond = F.one_hot(torch.as_tensor(classes), self.model.n_classes).float()
        return self.matrix[rows].to(self.device), cond.to(self.device)

    @property
    def seconds(self) -> float:
        """Training seconds so far (setup included), across resumes."""
        running = time.perf_counter() - self._began if self._began is not None else 0.0
        return self.model.seconds + self.setup_seconds + running

    def train(self, progress_bar: bool = False, writer: Any = None, epochs: int | None = None,
              checkpoint: Any = None) -> dict[str, Any]:
        """Train until ``epochs`` (default ``config["epochs"]``) epochs in all, continuing from the current step.

        :param checkpoint: ``checkpoint(trainer)``, called every ``config["checkpoint_every"]`` epochs and after the
            last step (a logged run saves :meth:`state_dict` there).
        """
        from deep_arena.runtime import progress

        cfg = self.config
        total = (epochs or cfg["epochs"]) * self.steps_per_epoch
        every = int(cfg.get("checkpoint_every", 0)) * self.steps_per_epoch
        start = self.wgan.step
        self._began = time.perf_counter()
        self.model.generator.train()
        self.model.critic.train()
        with progress(total=total, initial=min(start, total), desc="tabular-gan", unit="step",
                      disable=not progress_bar) as bar:
            while self.wgan.step < total:
                metrics = self.wgan.train_step(self.sample_real, cfg["batch_size"])
                step = self.wgan.step
                for k, v in metrics.items():
                    self.window.setdefault(k, []).append(v)
                bar.update(1)
                if step % cfg["log_every"] == 0 or step == total:
                    means = {k: float(np.mean(v)) for k, v in self.window.items()}
                    if writer is not None:
                        self.wgan.log(writer, means, step)
                        writer.add_scalar("gan/epoch", step / self.steps_per_epoch, step)
                    bar.set_postfix(W=f"{means['wasserstein']:.3f}")
                    if step % cfg["log_every"] == 0:
                        self.window = {}   # a final partial window is kept: a resumed run's next point continues it
                if checkpoint is not None and ((every and step % every == 0) or step == total):
                    checkpoint(self)
        self.model.generator.eval()
        self.model.seconds = self.seconds
        self.setup_seconds, self._began = 0.0, None
        self.model.steps = self.wgan.step
        return {"steps": self.wgan.step, "seconds": self.model.seconds, "epochs": self.wgan.step / self.steps_per_epoch}

    # --- checkpoints ------------------------------------------------------------------------------------------

    def state_dict(self) -> dict[str, Any]:
        """Everything a resumed run needs (plain data and tensors only: ``weights_only`` loadable)."""
        step = self.wgan.step
        return {"kind": CHECKPOINT_KIND, "version": CHECKPOINT_VERSION, "config": dict(self.config),
                "wgan": self.wgan.state_dict(), "transformer": self.transformer.to_dict(),
                "counters": {"step": step, "epoch": step / self.steps_per_epoch, "seconds": self.seconds},
                "window": {k: [float(x) for x in v] for k, v in self.window.items()},
                "rng": self.rng.bit_generator.state, "torch_rng": torch.get_rng_state(),
                "cuda_rng": torch.cuda.get_rng_state(self.device) if self.device.type == "cuda" else None,
                "data": {"rows": self.table.n_rows, "sha256": table_fingerprint(self.table)}}

    def save_checkpoint(self, path: str | Path) -> Path:
        from deep_arena.runtime import save_checkpoint

        return save_checkpoint(path, self.state_dict())

    def load_state_dict(self, state: Mapping[str, Any], path: str | Path = "checkpoint") -> None:
        """Restore a :meth:`state_dict` (see :func:`read_checkpoint`); :class:`CheckpointError` when it does not fit."""
        from deep_arena.runtime import CheckpointError

        data = state["data"]
        if data.get("sha256") != table_fingerprint(self.table):
            raise CheckpointError(path, f"was trained on other data ({data.get('rows')} rows) than "
                                        f"{self.config.get('data')!r} holds now ({self.table.n_rows} rows)")
        try:
            self.wgan.load_state_dict(state["wgan"])
            self.rng.bit_generator.state = state["rng"]
            torch.set_rng_state(state["torch_rng"])
            if self.device.type == "cuda" and state.get("cuda_rng") is not None:
                torch.cuda.set_rng_state(state["cuda_rng"], self.device)
            self.window = {str(k): [float(x) for x in v] for k, v in state.get("window", {}).items()}
            self.model.seconds = float(state["counters"]["seconds"])
        except (KeyError, RuntimeError, ValueError, TypeError) as exc:
            raise CheckpointError(path, f"does not match this config: {str(exc).splitlines()[0]}") from None
        self.model.steps = self.wgan.step
        self.setup_seconds = 0.0

    @classmethod
    def from_checkpoint(cls, state: Mapping[str, Any], table: Table, config: Mapping[str, Any],
                        device: str | torch.device = "cpu", path: str | Path = "checkpoint") -> TabularTrainer:
        """A trainer that continues the checkpoint ``state`` (from :func:`read_checkpoint`) on ``table``.

        The seed of the checkpoint's config re-encodes the table exactly as the run did; the fitted transformer
        comes from the checkpoint. :raises CheckpointError: when the checkpoint does not fit the table or config.
        """
        from deep_arena.runtime import CheckpointError

        try:
            transformer = TabularTransformer(state["transformer"])
            seed = int(state["config"]["seed"])
        except (KeyError, TypeError, ValueError) as exc:
            raise CheckpointError(path, f"holds a broken transformer or config: {exc}") from None
        if transformer.classes != sorted(table.class_counts(), key=_category_key):
            raise CheckpointError(path, f"was trained on classes {transformer.classes}, the data has "
                                        f"{sorted(table.class_counts(), key=_category_key)}")
        try:
            trainer = cls(table, config, device=device, seed=seed, transformer=transformer)
        except TabularDataError as exc:
            raise CheckpointError(path, f"does not fit the data: {exc}") from None
        trainer.load_state_dict(state, path)
        return trainer


# ---------------------------------------------------------------------------------------------------------------
# fidelity summaries (used by the tests, the run's marginal plot and the evaluation)


def class_marginals(table: Table) -> dict[str, dict[str, Any]]:
    """Per class: the mean and std of each continuous column and the category frequencies of each categorical one."""
    out: dict[str, dict[str, Any]] = {}
    for c in sorted(set(table.labels.tolist()), key=_category_key):
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


def marginal_figure(real: Table, synthetic: Table, max_columns: int = 6):
    """Matplotlib figure: per class, histograms (continuous) or bar pairs (categorical) of real vs synthetic."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cols = real.feature_columns[:max_columns]
    classes = sorted(set(real.labels.tolist()), key=_category_key)
    fig, axes = plt.subplots(len(classes), len(cols), figsize=(2.6 * len(cols), 2.2 * len(classes)), squeeze=False)
    for i, c in enumerate(classes):
        r, s = real.labels == c, synthetic.labels == c
        for j, col in enumerate(cols):
            ax = axes[i][j]
            if real.kinds[col] == "continuous":
                lo, hi = float(real.data[col].min()), float(real.data[col].max())
                bins = np.linspace(lo, hi if hi > lo else lo + 1, 25)
                ax.hist(real.data[col][r], bins=bins, density=True, alpha=0.5, label="real")
                ax.hist(synthetic.data[col][s], bins=bins, density=True, alpha=0.5, label="synthetic")
            else:
                cats = sorted(set(real.data[col].tolist()), key=_category_key)
                x = np.arange(len(cats))
                fr = [np.mean(real.data[col][r] == k) if r.any() else 0 for k in cats]
                fs = [np.mean(synthetic.data[col][s] == k) if s.any() else 0 for k in cats]
                ax.bar(x - 0.2, fr, 0.4, label="real")
                ax.bar(x + 0.2, fs, 0.4, label="synthetic")
                ax.set_xticks(x, cats, fontsize=6)
            ax.set_title(f"{col[:18]} | {real.target}={c}", fontsize=7)
            ax.tick_params(labelsize=6)
    axes[0][0].legend(fontsize=6)
    fig.tight_layout()
    return fig


def load_table(config: Mapping[str, Any], workdir: str | Path | None = None) -> Table:
    """The config's table: ``data`` is a CSV path, or ``demo`` (the imbalanced breast-cancer table of
    :mod:`gan.tabular_data`, written into ``workdir`` first; the target defaults to ``diagnosis``)."""
    data, target = config.get("data"), config.get("target")
    if not data:
        raise TabularDataError("no data: give --data FILE.csv (or demo)")
    if data == "demo":
        import tempfile

        from deep_arena.gan.tabular_data import DEMO_TARGET, demo_table

        path = demo_table(Path(workdir or tempfile.mkdtemp()) / "breast_cancer_imbalanced.csv")
        target = target or DEMO_TARGET
    else:
        path = Path(data)
    if not target:
        raise TabularDataError("no target: give --target COLUMN")
    return read_csv(path, target, categorical=config.get("categorical") or (),
                    max_numeric_categories=config["max_numeric_categories"], min_class_rows=config["min_class_rows"])


def train_run(config: Mapping[str, Any], run_dir: Any, table: Table, progress_bar: bool = True,
              trainer: TabularTrainer | None = None) -> dict[str, Any]:
    """A logged training run: TensorBoard scalars (``gan/*``: critic and generator losses, Wasserstein estimate,
    gradient penalty) and a real-vs-synthetic per-class marginal figure, ``model.pt`` (the file
    ``scripts/evaluate.py tabular --model`` reads), checkpoints every ``checkpoint_every`` epochs and at the end
    (``checkpoints/checkpoint_<step>.pt``, see :meth:`TabularTrainer.state_dict`), ``synthetic.csv`` (as many rows
    per class as the data) and ``marginals.png`` in ``run_dir``.

    :param trainer: a trainer to continue (from :meth:`TabularTrainer.from_checkpoint`, after
        ``prepare_training``); TensorBoard events at or after its step left by the interrupted run are purged, so
        the curves continue. Default: a fresh trainer.
    """
    from deep_arena.runtime import make_writer, prepare_training

    if trainer is None:
        device = prepare_training(dict(config))
        trainer = TabularTrainer(table, config, device=device, seed=int(config["seed"]))
    writer = make_writer(run_dir.path, purge_step=trainer.wgan.step or None)
    try:
        result = trainer.train(progress_bar=progress_bar, writer=writer,
                               checkpoint=lambda t: t.save_checkpoint(run_dir.checkpoint_path(t.wgan.step)))
        model_path = trainer.model.save(run_dir.path / "model.pt")
        synthetic = trainer.model.sample(table.class_counts(), seed=int(config["seed"]))
        synthetic.write_csv(run_dir.path / "synthetic.csv")
        fig = marginal_figure(table, synthetic)
        fig.savefig(run_dir.path / "marginals.png", dpi=90)
        writer.add_figure("samples/marginals", fig, trainer.wgan.step)
        real_m, syn_m = class_marginals(table), class_marginals(synthetic)
        gaps = [abs(real_m[c][col]["mean"] - syn_m[c][col]["mean"]) / (float(table.data[col].std()) or 1.0)
                for c in real_m for col in table.feature_columns if table.kinds[col] == "continuous"]
        result["mean_gap_std"] = float(np.mean(gaps)) if gaps else 0.0
        writer.add_scalar("samples/class_mean_gap_std", result["mean_gap_std"], trainer.wgan.step)
    finally:
        writer.close()
    result.update({"model": model_path, "rows": table.n_rows, "classes": table.class_counts(),
                   "steps_per_epoch": trainer.steps_per_epoch})
    return result
