"""Conditional tabular GAN for CSV data (CTGAN-style, on the shared WGAN-GP core :mod:`gan.wgan`).

Modules: :mod:`.data` (the :class:`Table`, CSV reading and its errors, the demo table, the config's table),
:mod:`.transformer` (mode-specific normalisation), :mod:`.networks` (generator, critic), :mod:`.model`
(:class:`TabularGAN`: sampling, the model file), :mod:`.config` (:data:`DEFAULTS`, validation), :mod:`.trainer`
(:class:`TabularTrainer`, checkpoints, resuming), :mod:`.figure` (the real-vs-synthetic plot), :mod:`.run` (a logged
training run) and :mod:`.evaluate` (utility against SMOTE and the ctgan peer). Every public name is re-exported
here: ``from deep_arena.gan.tabular import TabularGAN, read_csv``.

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
    model = train_model(table, config)               # or TabularTrainer for a logged run with a run directory
    synthetic = model.sample({"1": 100, "0": 20}, seed=0)
    synthetic.write_csv("synthetic.csv")
"""

from deep_arena.gan.tabular.config import DEFAULTS, validate_config
from deep_arena.gan.tabular.data import (DEMO_TARGET, MINORITY_FRACTION, Table, TabularDataError, category_sort_key,
                                         check_classes, class_marginals, demo_table, load_table, read_csv)
from deep_arena.gan.tabular.evaluate import (evaluate_utility, format_table, peer_available, utility_chart,
                                             write_results)
from deep_arena.gan.tabular.figure import marginal_figure
from deep_arena.gan.tabular.model import MODEL_KIND, TabularGAN
from deep_arena.gan.tabular.networks import Critic, Generator, activate
from deep_arena.gan.tabular.run import TabularGANTrainer, train_run
from deep_arena.gan.tabular.trainer import (CHECKPOINT_KIND, TabularTrainer, class_probabilities, read_checkpoint,
                                            table_fingerprint, train_model)
from deep_arena.gan.tabular.transformer import TabularTransformer

__all__ = [
    # data
    "TabularDataError", "Table", "read_csv", "check_classes", "category_sort_key", "class_marginals", "load_table",
    "DEMO_TARGET", "MINORITY_FRACTION", "demo_table",
    # model and training
    "DEFAULTS", "validate_config", "TabularTransformer", "Generator", "Critic", "activate", "MODEL_KIND",
    "TabularGAN", "CHECKPOINT_KIND", "TabularTrainer", "train_model", "class_probabilities", "read_checkpoint",
    "table_fingerprint",
    # runs and evaluation
    "TabularGANTrainer", "train_run", "marginal_figure", "evaluate_utility", "format_table", "peer_available", "utility_chart",
    "write_results",
]
