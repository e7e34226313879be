"""LatentGAN (Prykhodko et al. 2019): a SMILES heteroencoder and a WGAN-GP in its latent space.

* :class:`HeteroEncoder`: a bidirectional GRU reads a SMILES (a randomised one in training: RDKit
  ``MolToSmiles(doRandom=True)``) into a latent vector (``tanh``; LatentGAN uses 512 numbers, the default here is
  smaller for CPUs); a GRU decoder whose initial state and every input step carry the latent writes the canonical
  SMILES. Trained teacher-forced, with Gaussian noise on the latent (the heteroencoder's regulariser).
* :class:`LatentGenerator` / :class:`LatentCritic`: MLPs; the generator maps noise to a latent vector, trained with
  :class:`gan.wgan.WGANGP` against the encoded training molecules.
* :class:`LatentGAN` holds the three with the vocabulary (:mod:`gan.lm.vocab`): ``sample(n, seed)`` draws latents
  from the generator and decodes them (greedy by default) into SMILES strings, some of which may be invalid.

Files are plain dicts of tensors, numbers and strings, read back with ``weights_only=True``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence

from deep_arena.gan.lm.vocab import SmilesVocabulary
from deep_arena.runtime.checkpoint import read_model_file

__all__ = ["HeteroEncoder", "LatentGenerator", "LatentCritic", "LatentGAN", "MODEL_KIND"]

MODEL_KIND = "latentgan"


class HeteroEncoder(nn.Module):
    """SMILES tokens -> latent vector -> SMILES tokens."""

    def __init__(self, vocab_size: int, embedding_dim: int = 64, hidden_size: int = 256, layers: int = 2,
                 latent_size: int = 128) -> None:
        super().__init__()
        self.hidden_size, self.layers, self.latent_size = hidden_size, layers, latent_size
        self.embedding = nn.Embedding(vocab_size, embedding_dim, padding_idx=SmilesVocabulary.pad)
        self.encoder = nn.GRU(embedding_dim, hidden_size, layers, batch_first=True, bidirectional=True)
        self.to_latent = nn.Linear(2 * layers * hidden_size, latent_size)
        self.from_latent = nn.Linear(latent_size, layers * hidden_size)
        self.decoder = nn.GRU(embedding_dim + latent_size, hidden_size, layers, batch_first=True)
        self.head = nn.Linear(hidden_size, vocab_size)

    def encode(self, tokens: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """``tokens`` [batch, time] (padded; ``lengths`` real tokens each) -> latents [batch, latent] in (-1, 1)."""
        packed = pack_padded_sequence(self.embedding(tokens), lengths.cpu(), batch_first=True, enforce_sorted=False)
        _, hidden = self.encoder(packed)                       # [2 * layers, batch, hidden]
        return torch.tanh(self.to_latent(hidden.transpose(0, 1).reshape(tokens.shape[0], -1)))

    def initial_state(self, latent: torch.Tensor) -> torch.Tensor:
        h = torch.tanh(self.from_latent(latent))
        return h.view(latent.shape[0], self.layers, self.hidden_size).transpose(0, 1).contiguous()

    def decode_step(self, latent: torch.Tensor, tokens: torch.Tensor, hidden: torch.Tensor
                    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Logits [batch, time, vocab] for the next tokens after ``tokens`` [batch, time], and the new state."""
        emb = self.embedding(tokens)
        z = latent.unsqueeze(1).expand(-1, tokens.shape[1], -1)
        out, hidden = self.decoder(torch.cat([emb, z], dim=2), hidden)
        return self.head(out), hidden

    def forward(self, inputs: torch.Tensor, lengths: torch.Tensor, targets: torch.Tensor,
                noise_std: float = 0.0) -> tuple[torch.Tensor, torch.Tensor]:
        """Teacher-forced logits for ``targets`` ([batch, time], end token included, start token not) given the
        encoded ``inputs``; also returns the latents."""
        latent = self.encode(inputs, lengths)
        z = latent + noise_std * torch.randn_like(latent) if noise_std > 0 else latent
        start = torch.full((targets.shape[0], 1), SmilesVocabulary.bos, dtype=torch.long, device=targets.device)
        logits, _ = self.decode_step(z, torch.cat([start, targets[:, :-1]], dim=1), self.initial_state(z))
        return logits, latent


def _mlp(sizes: Sequence[int], out_act: nn.Module | None = None) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i in range(len(sizes) - 1):
        layers.append(nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            layers.append(nn.LeakyReLU(0.2))
    if out_act is not None:
        layers.append(out_act)
    return nn.Sequential(*layers)


class LatentGenerator(nn.Module):
    """Noise [batch, noise_size] -> latent [batch, latent_size] in (-1, 1) (the encoder's range)."""

    def __init__(self, noise_size: int, latent_size: int, hidden: Sequence[int] = (256, 256)) -> None:
        super().__init__()
        self.noise_size = noise_size
        self.net = _mlp([noise_size, *hidden, latent_size], nn.Tanh())

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z)


class LatentCritic(nn.Module):
    """Latent [batch, latent_size] -> one score each."""

    def __init__(self, latent_size: int, hidden: Sequence[int] = (256, 256)) -> None:
        super().__init__()
        self.net = _mlp([latent_size, *hidden, 1])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).squeeze(-1)


class LatentGAN:
    """A heteroencoder, a latent generator and a critic, with their vocabulary."""

    def __init__(self, vocab: SmilesVocabulary, config: Mapping[str, Any] | None = None,
                 device: str | torch.device = "cpu") -> None:
        """``config``: ``embedding_dim``, ``hidden_size``, ``layers``, ``latent_size`` (the heteroencoder),
        ``noise_size``, ``gan_hidden`` (generator and critic MLP widths), ``max_length`` (tokens of a decoded
        SMILES)."""
        self.vocab = vocab
        self.config = {"embedding_dim": 64, "hidden_size": 256, "layers": 2, "latent_size": 128, "noise_size": 64,
                       "gan_hidden": [256, 256], "max_length": 100, **dict(config or {})}
        self.config["gan_hidden"] = [int(h) for h in self.config["gan_hidden"]]
        c = self.config
        self.device = torch.device(device)
        self.autoencoder = HeteroEncoder(len(vocab), c["embedding_dim"], c["hidden_size"], c["layers"],
                                         c["latent_size"]).to(self.device)
        self.generator = LatentGenerator(c["noise_size"], c["latent_size"], c["gan_hidden"]).to(self.device)
        self.critic = LatentCritic(c["latent_size"], c["gan_hidden"]).to(self.device)

    @property
    def max_length(self) -> int:
        return int(self.config["max_length"])

    # --- tokens -----------------------------------------------------------------------------------------------------

    def encode_tokens(self, smiles: Sequence[str]) -> tuple[torch.Tensor, torch.Tensor]:
        """Padded [n, time] tokens (end token included, no start token) and lengths (TokenError for an unknown
        token)."""
        rows = [self.vocab.encode(s)[1:] for s in smiles]
        width = max(len(r) for r in rows)
        out = torch.full((len(rows), width), SmilesVocabulary.pad, dtype=torch.long)
        for i, r in enumerate(rows):
            out[i, :len(r)] = torch.tensor(r)
        return out.to(self.device), torch.tensor([len(r) for r in rows])

    @torch.no_grad()
    def encode(self, smiles: Sequence[str], batch_size: int = 1024) -> torch.Tensor:
        """Latent vectors [n, latent_size] of SMILES strings (as written; no noise)."""
        if isinstance(smiles, str):
            raise TypeError("encode takes a list of SMILES strings, not one string")
        was = self.autoencoder.training
        self.autoencoder.eval()
        try:
            out = []
            for i in range(0, len(smiles), batch_size):
                tokens, lengths = self.encode_tokens(smiles[i:i + batch_size])
                out.append(self.autoencoder.encode(tokens, lengths))
            return torch.cat(out) if out else torch.zeros(0, self.config["latent_size"], device=self.device)
        finally:
            self.autoencoder.train(was)

    @torch.no_grad()
    def decode(self, latents: torch.Tensor, greedy: bool = True, generator: torch.Generator | None = None,
               temperature: float = 1.0, batch_size: int = 1024) -> list[str]:
        """SMILES strings written by the decoder from latent vectors: the most likely token each step (``greedy``)
        or tokens drawn at ``temperature``."""
        if not temperature > 0:
            raise ValueError(f"temperature must be positive, got {temperature}")
        ae = self.autoencoder
        was = ae.training
        ae.eval()
        out: list[str] = []
        try:
            for i in range(0, len(latents), batch_size):
                z = latents[i:i + batch_size].to(self.device)
                n = z.shape[0]
                hidden = ae.initial_state(z)
                token = torch.full((n, 1), SmilesVocabulary.bos, dtype=torch.long, device=self.device)
                done = torch.zeros(n, dtype=torch.bool, device=self.device)
                steps = []
                for _ in range(self.max_length):
                    logits, hidden = ae.decode_step(z, token, hidden)
                    logits = logits[:, -1]
                    if greedy:
                        nxt = logits.argmax(-1)
                    else:
                        nxt = torch.multinomial(torch.softmax(logits / temperature, -1), 1,
                                                generator=generator).squeeze(1)
                    nxt = torch.where(done, torch.full_like(nxt, SmilesVocabulary.pad), nxt)
                    steps.append(nxt)
                    done = done | (nxt == SmilesVocabulary.eos)
                    if bool(done.all()):
                        break
                    token = nxt.unsqueeze(1)
                out.extend(self.vocab.decode(row) for row in torch.stack(steps, 1).tolist())
        finally:
            ae.train(was)
        return out

    # --- sampling ---------------------------------------------------------------------------------------------------

    def sample_latents(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        noise = torch.randn(n, self.config["noise_size"], generator=generator, device="cpu").to(self.device)
        was = self.generator.training
        self.generator.eval()
        try:
            with torch.no_grad():
                return self.generator(noise)
        finally:
            self.generator.train(was)

    def sample(self, n: int, seed: int | None = None, greedy: bool = True, temperature: float = 1.0,
               batch_size: int = 1024) -> list[str]:
        """``n`` SMILES strings (invalid ones included); the same seed gives the same list on the same device."""
        if n < 1:
            raise ValueError(f"n must be a positive number of molecules, got {n}")
        gen = torch.Generator()
        if seed is not None:
            gen.manual_seed(int(seed))
        else:
            gen.seed()
        out: list[str] = []
        while len(out) < n:
            k = min(batch_size, n - len(out))
            out.extend(self.decode(self.sample_latents(k, gen), greedy=greedy, generator=gen,
                                   temperature=temperature, batch_size=batch_size))
        return out

    # --- files ------------------------------------------------------------------------------------------------------

    def to(self, device: str | torch.device) -> LatentGAN:
        self.device = torch.device(device)
        for net in (self.autoencoder, self.generator, self.critic):
            net.to(self.device)
        return self

    def state(self, with_critic: bool = False) -> dict[str, Any]:
        def cpu(net: nn.Module) -> dict[str, torch.Tensor]:
            return {k: v.detach().cpu() for k, v in net.state_dict().items()}

        out = {"kind": MODEL_KIND, "tokens": list(self.vocab.tokens), "config": dict(self.config),
               "autoencoder": cpu(self.autoencoder), "generator": cpu(self.generator)}
        if with_critic:
            out["critic"] = cpu(self.critic)
        return out

    def save(self, path: str | os.PathLike[str]) -> Path:
        """The heteroencoder and the generator (what sampling needs), weights_only-readable."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        torch.save(self.state(), tmp)
        os.replace(tmp, path)
        return path

    @classmethod
    def from_state(cls, state: Mapping[str, Any], device: str | torch.device = "cpu") -> LatentGAN:
        if not isinstance(state, Mapping) or state.get("kind") != MODEL_KIND:
            kind = state.get("kind") if isinstance(state, Mapping) else type(state).__name__
            raise ValueError(f"not a LatentGAN model (kind {kind!r}, expected {MODEL_KIND!r})")
        model = cls(SmilesVocabulary(state["tokens"]), state["config"], device)
        model.autoencoder.load_state_dict(state["autoencoder"])
        model.generator.load_state_dict(state["generator"])
        if "critic" in state:
            model.critic.load_state_dict(state["critic"])
        for net in (model.autoencoder, model.generator, model.critic):
            net.eval()
        return model

    @classmethod
    def load(cls, path: str | os.PathLike[str], device: str | torch.device = "cpu") -> LatentGAN:
        """A model saved by :meth:`save` (read with ``weights_only=True``)."""
        state = read_model_file(path, "LatentGAN model")
        try:
            return cls.from_state(state, device)
        except ValueError as exc:
            raise ValueError(f"{path}: {exc}") from None
