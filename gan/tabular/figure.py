"""The real-vs-synthetic figure of a tabular GAN run (:func:`marginal_figure`, ``marginals.png``)."""

from __future__ import annotations

import numpy as np

from deep_arena.gan.tabular.data import Table, category_sort_key

__all__ = ["marginal_figure"]


def marginal_figure(real: Table, synthetic: Table, max_columns: int = 6):
    """Matplotlib figure: per class, histograms (continuous) or bar pairs (categorical) of real vs synthetic."""
    import matplotlib  # lazy: slow, and selecting Agg at import would change the backend of a program importing us

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # lazy: as matplotlib above

    cols = real.feature_columns[:max_columns]
    classes = sorted(set(real.labels.tolist()), key=category_sort_key)
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
                cats = sorted(set(real.data[col].tolist()), key=category_sort_key)
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

