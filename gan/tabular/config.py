"""Settings of the tabular GAN: :class:`TabularGANSettings` (data, model, WGAN-GP and training-by-sampling settings;
the reasons for the defaults that differ from CTGAN's are in the package docstring), the one source of
:data:`DEFAULTS` and of :func:`validate_config`'s checks (``--set key=value`` names below)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from deep_arena.gan.config import WGANSettings, check_layers
from deep_arena.runtime.settings import RunSettings, Settings, nested, setting

__all__ = ["DEFAULTS", "TabularGANSettings", "TabularModelSettings", "TabularWGANSettings", "validate_config"]


@dataclass
class TabularModelSettings(Settings):
    latent_dim: int = setting(128, low=1)
    generator_hidden: list[int] = setting([256, 256], help="residual generator widths")
    critic_hidden: list[int] = setting([256, 256], help="critic widths")
    dropout: float = setting(0.5, low=0.0, high=1.0, high_open=True, help="critic dropout")
    pac: int = setting(1, low=1, help="PacGAN: rows the critic scores together (1: off)")
    tau: float = setting(0.2, low=0.0, low_open=True, help="Gumbel-softmax temperature of the one-hot spans")
    max_modes: int = setting(10, low=1, help="Gaussian mixture components per continuous column")
    mode_weight_threshold: float = setting(0.005, low=0.0, high=1.0, high_open=True,
                                           help="mixture components lighter than this are dropped")

    def check(self) -> None:
        check_layers("model.generator_hidden", self.generator_hidden)
        check_layers("model.critic_hidden", self.critic_hidden)


@dataclass
class TabularWGANSettings(WGANSettings):
    """CTGAN's one critic step per generator step; lr 1e-3 (CTGAN: 2e-4, see the package docstring); no AMP."""

    n_critic: int = setting(1, low=1, help="critic updates per generator update")
    lr_generator: float = setting(1e-3, low=0.0, low_open=True)
    lr_critic: float = setting(1e-3, low=0.0, low_open=True)
    amp: bool = setting(False, help="mixed precision, used only on CUDA")


@dataclass
class TabularGANSettings(RunSettings):
    """Everything ``train_gan.py tabular`` reads."""

    data: str | None = setting(None, help="FILE.csv, or demo (the imbalanced breast-cancer table)")
    target: str | None = setting(None, help="the class column (demo: diagnosis)")
    categorical: list[str] = setting(list, help="columns forced categorical")
    max_numeric_categories: int = setting(10, low=1,
                                          help="numeric columns with at most this many distinct values are "
                                               "categorical")
    min_class_rows: int = setting(5, low=1, help="a class with fewer rows is refused")
    epochs: int = setting(300, low=1, help="passes of max(1, rows // batch_size) generator steps")
    # CTGAN's 500 learnt the class conditionals slower per second (package docstring)
    batch_size: int = setting(128, low=2, help="rows per step, drawn with replacement")
    model: TabularModelSettings = nested(TabularModelSettings)
    wgan: TabularWGANSettings = nested(TabularWGANSettings)
    weight_decay: float = setting(1e-6, low=0.0, help="generator and critic (CTGAN's)")
    class_sampling: str = setting("log", choices=("log", "uniform", "frequency"),
                                  help="class probabilities of training-by-sampling")
    log_every: int = setting(10, low=1, help="generator steps between logged points")
    checkpoint_every: int = setting(50, low=0, help="epochs between checkpoints of a logged run (0: only the final "
                                                    "one)")
    threads: int | None = setting(None, low=1, help="torch CPU threads; default all cores")


DEFAULTS: dict[str, Any] = TabularGANSettings.defaults()  # device and seed included


def validate_config(config: Mapping[str, Any]) -> TabularGANSettings:
    """The checked settings; ValueError naming the first bad setting (missing keys take their defaults)."""
    return TabularGANSettings.from_dict(config)
