"""An autoregressive chemical language model: a GRU over SMILES tokens (CharRNN / REINVENT's prior).

:class:`ChemicalLM` bundles the network with its vocabulary and is what users and other modules hold:

- ``sample(n, seed=None, temperature=1.0) -> list[str]``: SMILES strings as written (some may be invalid: the MOSES
  validity metric counts them);
- ``log_likelihood(smiles) -> np.ndarray``: the exact log-probability of each given SMILES (start to end token);
- ``sample_tokens`` / ``log_likelihood_tokens``: the same on token tensors, with gradients when asked, for
  policy-gradient fine-tuning (REINVENT's agent, :mod:`agents.reinvent`).

Files are plain dicts of tensors, numbers and strings, so :meth:`ChemicalLM.load` reads them with
``weights_only=True``.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from deep_arena.gan.lm.vocab import SmilesVocabulary
from deep_arena.runtime.checkpoint import read_model_file

__all__ = ["ChemicalLM", "SmilesRNN", "MODEL_KIND"]

MODEL_KIND = "chemical-lm"


class SmilesRNN(nn.Module):
    """Embedding -> stacked GRU -> linear logits over the vocabulary."""

    def __init__(self, vocab_size: int, embedding_dim: int = 128, hidden_size: int = 256, layers: int = 3,
                 dropout: float = 0.0) -> None:
        super().__init__()
        self.vocab_size, self.hidden_size, self.layers = vocab_size, hidden_size, layers
        self.embedding = nn.Embedding(vocab_size, embedding_dim, padding_idx=SmilesVocabulary.pad)
        self.gru = nn.GRU(embedding_dim, hidden_size, layers, batch_first=True,
                          dropout=dropout if layers > 1 else 0.0)
        self.head = nn.Linear(hidden_size, vocab_size)

    def forward(self, tokens: torch.Tensor, hidden: torch.Tensor | None = None
                ) -> tuple[torch.Tensor, torch.Tensor]:
        """``tokens`` [batch, time] -> logits [batch, time, vocab] and the last hidden state."""
        out, hidden = self.gru(self.embedding(tokens), hidden)
        return self.head(out), hidden


class ChemicalLM:
    """A SMILES language model: :class:`SmilesRNN` plus its :class:`~gan.lm.vocab.SmilesVocabulary`."""

    def __init__(self, vocab: SmilesVocabulary, config: Mapping[str, Any] | None = None,
                 device: str | torch.device = "cpu", max_length: int = 100) -> None:
        """``config``: the network's ``embedding_dim``, ``hidden_size``, ``layers``, ``dropout`` (defaults of
        :class:`SmilesRNN` where missing); ``max_length``: the most tokens a sampled SMILES may have."""
        self.vocab = vocab
        self.config = {"embedding_dim": 128, "hidden_size": 256, "layers": 3, "dropout": 0.0, **dict(config or {})}
        self.max_length = int(max_length)
        self.device = torch.device(device)
        self.net = SmilesRNN(len(vocab), **self.config).to(self.device)

    # --- tokens -----------------------------------------------------------------------------------------------------

    def encode(self, smiles: Sequence[str]) -> torch.Tensor:
        """[n, time] token indices of each SMILES after the start token, ending with the end token, padded
        (TokenError naming an unknown token)."""
        rows = [self.vocab.encode(s)[1:] for s in smiles]
        width = max(len(r) for r in rows)
        out = torch.full((len(rows), width), SmilesVocabulary.pad, dtype=torch.long)
        for i, r in enumerate(rows):
            out[i, :len(r)] = torch.tensor(r)
        return out.to(self.device)

    def decode(self, tokens: torch.Tensor) -> list[str]:
        return [self.vocab.decode(row) for row in tokens.tolist()]

    def next_token_logits(self, logits: torch.Tensor) -> torch.Tensor:
        """The network's logits with the padding and start tokens ruled out (-inf): the model's next-token
        distribution, used alike by sampling and by the likelihoods (so an untrained network cannot write a padding
        or start token into a SMILES, and a sample's log-probability is its likelihood)."""
        mask = torch.zeros(logits.shape[-1], dtype=torch.bool, device=logits.device)
        mask[[SmilesVocabulary.pad, SmilesVocabulary.bos]] = True
        return logits.masked_fill(mask, float("-inf"))

    def log_likelihood_tokens(self, tokens: torch.Tensor) -> torch.Tensor:
        """Log-probability of each row of ``tokens`` (as :meth:`encode` writes them), summed over its tokens up to
        and including the end token; differentiable."""
        tokens = tokens.to(self.device)
        start = torch.full((tokens.shape[0], 1), SmilesVocabulary.bos, dtype=torch.long, device=self.device)
        logits, _ = self.net(torch.cat([start, tokens[:, :-1]], dim=1))
        logp = torch.log_softmax(self.next_token_logits(logits), dim=-1).gather(2, tokens.unsqueeze(-1)).squeeze(-1)
        return torch.where(tokens != SmilesVocabulary.pad, logp, torch.zeros_like(logp)).sum(dim=1)

    def sample_tokens(self, n: int, generator: torch.Generator | None = None, temperature: float = 1.0,
                      grad: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
        """``n`` sequences drawn token by token: tokens [n, time] (end token then padding; a sequence that reaches
        ``max_length`` without an end token stops there) and each sequence's log-probability under the model at
        temperature 1 (differentiable when ``grad``)."""
        if n < 1:
            raise ValueError(f"n must be a positive number of sequences, got {n}")
        if not temperature > 0:
            raise ValueError(f"temperature must be positive, got {temperature}")
        with torch.set_grad_enabled(grad):
            token = torch.full((n, 1), SmilesVocabulary.bos, dtype=torch.long, device=self.device)
            hidden, done = None, torch.zeros(n, dtype=torch.bool, device=self.device)
            logp_sum = torch.zeros(n, device=self.device)
            out = []
            for _ in range(self.max_length):
                logits, hidden = self.net(token, hidden)
                logits = self.next_token_logits(logits[:, -1])
                probs = torch.softmax(logits.detach() / temperature, dim=-1)
                nxt = torch.multinomial(probs, 1, generator=generator).squeeze(1)
                nxt = torch.where(done, torch.full_like(nxt, SmilesVocabulary.pad), nxt)
                step_logp = torch.log_softmax(logits, dim=-1).gather(1, nxt.unsqueeze(1)).squeeze(1)
                logp_sum = logp_sum + torch.where(done, torch.zeros_like(step_logp), step_logp)
                out.append(nxt)
                done = done | (nxt == SmilesVocabulary.eos)
                if bool(done.all()):
                    break
                token = nxt.unsqueeze(1)
            return torch.stack(out, dim=1), logp_sum

    # --- strings ----------------------------------------------------------------------------------------------------

    def sample(self, n: int, seed: int | None = None, temperature: float = 1.0, batch_size: int = 1024
               ) -> list[str]:
        """``n`` SMILES strings as the model writes them (invalid ones included); the same seed gives the same
        list on the same device (``n`` 0: an empty list)."""
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
            raise ValueError(f"n must be a number of SMILES >= 0, got {n!r}")
        if not temperature > 0:
            raise ValueError(f"temperature must be positive, got {temperature}")
        generator = torch.Generator(device=self.device)
        if seed is not None:
            generator.manual_seed(int(seed))
        else:
            generator.seed()
        was_training = self.net.training
        self.net.eval()
        out: list[str] = []
        try:
            while len(out) < n:
                tokens, _ = self.sample_tokens(min(batch_size, n - len(out)), generator, temperature)
                out.extend(self.decode(tokens))
        finally:
            self.net.train(was_training)
        return out

    @torch.no_grad()
    def log_likelihood(self, smiles: Sequence[str], batch_size: int = 1024) -> np.ndarray:
        """Log-probability of each SMILES string exactly as written (not canonicalised); ``-inf`` for one holding a
        token the vocabulary lacks."""
        if isinstance(smiles, str):
            raise TypeError("log_likelihood takes a list of SMILES strings, not one string")
        out = np.full(len(smiles), -np.inf)
        known = [i for i, s in enumerate(smiles) if s in self.vocab]
        was_training = self.net.training
        self.net.eval()
        try:
            for start in range(0, len(known), batch_size):
                idx = known[start:start + batch_size]
                out[idx] = self.log_likelihood_tokens(self.encode([smiles[i] for i in idx])).cpu().numpy()
        finally:
            self.net.train(was_training)
        return out

    # --- files ------------------------------------------------------------------------------------------------------

    def clone(self) -> ChemicalLM:
        """An independent copy (REINVENT's agent starts as a copy of the prior)."""
        other = ChemicalLM(self.vocab, self.config, self.device, self.max_length)
        other.net.load_state_dict(copy.deepcopy(self.net.state_dict()))
        return other

    def to(self, device: str | torch.device) -> ChemicalLM:
        self.device = torch.device(device)
        self.net.to(self.device)
        return self

    def state(self) -> dict[str, Any]:
        return {"kind": MODEL_KIND, "tokens": list(self.vocab.tokens), "config": dict(self.config),
                "max_length": self.max_length,
                "state_dict": {k: v.detach().cpu() for k, v in self.net.state_dict().items()}}

    def save(self, path: str | os.PathLike[str]) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        torch.save(self.state(), tmp)
        os.replace(tmp, path)   # a crash mid-write never leaves a truncated model file
        return path

    @classmethod
    def from_state(cls, state: Mapping[str, Any], device: str | torch.device = "cpu") -> ChemicalLM:
        if not isinstance(state, Mapping) or state.get("kind") != MODEL_KIND:
            kind = state.get("kind") if isinstance(state, Mapping) else type(state).__name__
            raise ValueError(f"not a chemical language model (kind {kind!r}, expected {MODEL_KIND!r})")
        model = cls(SmilesVocabulary(state["tokens"]), state["config"], device, state.get("max_length", 100))
        model.net.load_state_dict(state["state_dict"])
        model.net.eval()
        return model

    @classmethod
    def load(cls, path: str | os.PathLike[str], device: str | torch.device = "cpu") -> ChemicalLM:
        """A model saved by :meth:`save` (read with ``weights_only=True``)."""
        state = read_model_file(path, "chemical language model")
        try:
            return cls.from_state(state, device)
        except ValueError as exc:
            raise ValueError(f"{path}: {exc}") from None

