"""Settings of the chemical language model's training (``arena-train gan lm``; ``--set key=value`` names)."""

from __future__ import annotations

from dataclasses import dataclass

from deep_arena.runtime.settings import RunSettings, Settings, nested, setting

__all__ = ["LMModelSettings", "LMSettings"]


@dataclass
class LMModelSettings(Settings):
    """:class:`gan.lm.model.SmilesRNN`'s architecture (REINVENT's prior: 3 GRU layers of 512; MOSES's CharRNN:
    3 LSTM layers of 768; the default is smaller so that a CPU trains it in hours)."""

    embedding_dim: int = setting(128, low=1)
    hidden_size: int = setting(256, low=1)
    layers: int = setting(3, low=1)
    dropout: float = setting(0.0, low=0.0, high=1.0, high_open=True, help="between GRU layers")
    max_length: int = setting(100, low=2, help="the most tokens of a sampled SMILES")


@dataclass
class LMSettings(RunSettings):
    """Everything ``arena-train gan lm`` reads. One epoch is one pass over the data set in batches of
    ``batch_size`` (batches are formed from length-sorted chunks of a seeded shuffle, then shuffled)."""

    dataset: str = setting("moses", help="moses, moses-test, qm9 or a SMILES file")
    limit: int | None = setting(None, low=1, help="use only the first N SMILES of the data set")
    epochs: float = setting(1, low=0.0, low_open=True, help="passes over the data (a resumed total may be "
                                                             "fractional)")
    minutes: float | None = setting(None, low=0.0, low_open=True, help="wall-clock budget on top of epochs (the "
                                                                       "run's training time, across resumes)")
    batch_size: int = setting(256, low=1)
    model: LMModelSettings = nested(LMModelSettings)
    lr: float = setting(1e-3, low=0.0, low_open=True, help="Adam learning rate at the start")
    lr_decay: float = setting(0.5, low=0.0, high=1.0, low_open=True,
                              help="the learning rate is multiplied by this per epoch (smoothly, every step)")
    grad_clip: float = setting(1.0, low=0.0, help="gradient norm clip (0: off)")
    log_every: int = setting(100, low=1, help="steps between logged points")
    sample_every: int = setting(2000, low=1, help="steps between sample checks (validity, uniqueness, novelty, "
                                                  "held-out likelihood, molecule grid)")
    sample_n: int = setting(1000, low=1, help="molecules sampled per check")
    sample_fcd: bool = setting(True, help="also log the FCD of each check's valid samples to MOSES test "
                                          "(samples/fcd_test; ChemNet, about 10 s per 1,000 molecules on a CPU core; "
                                          "skipped without fcd_torch and molsets)")
    checkpoint_every: int = setting(2000, low=1, help="steps between checkpoints")
    keep_checkpoints: int | None = setting(3, low=1, help="newest checkpoints kept; null keeps every one")
    threads: int | None = setting(None, low=1, help="torch CPU threads; default all cores")
