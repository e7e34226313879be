"""The tabular GAN model (:class:`TabularGAN`): generator, critic and fitted transformer, sampling with exact class
counts, and the model file (one ``weights_only`` file written by :meth:`TabularGAN.save`). Training lives in
:mod:`deep_arena.gan.tabular.trainer`."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from deep_arena.gan.tabular.data import Table
from deep_arena.gan.tabular.networks import Critic, Generator, activate
from deep_arena.gan.tabular.transformer import TabularTransformer
from deep_arena.runtime import save_checkpoint

__all__ = ["MODEL_KIND", "TabularGAN"]

MODEL_KIND = "tabular-gan"


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
