"""SMILES tokens and the vocabulary of a chemical language model.

A SMILES string is split into chemically meaningful tokens (a bracket atom such as ``[nH+]`` is one token, so are
``Cl``, ``Br`` and the two-digit ring closures ``%10``); the vocabulary is built from the training data and adds three
special tokens: padding, start and end of sequence.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence

__all__ = ["BOS", "EOS", "PAD", "SmilesVocabulary", "TokenError", "tokenize"]

PAD, BOS, EOS = "<pad>", "^", "$"
# bracket atoms, two-letter organic-subset halogens, %NN ring closures, then any single character
_TOKEN = re.compile(r"(\[[^\]]+\]|Br|Cl|%\d\d|.)")


class TokenError(ValueError):
    """A SMILES string holds a token that the vocabulary does not know."""


def tokenize(smiles: str) -> list[str]:
    """The tokens of ``smiles`` (``"c1ccccc1Cl" -> ['c', '1', 'c', 'c', 'c', 'c', 'c', '1', 'Cl']``)."""
    if not isinstance(smiles, str) or not smiles:
        raise TokenError(f"a SMILES must be a non-empty string, got {smiles!r}")
    if any(ch.isspace() for ch in smiles):
        raise TokenError(f"a SMILES holds no whitespace, got {smiles!r}")
    return _TOKEN.findall(smiles)


class SmilesVocabulary:
    """Token <-> index. Index 0 is padding, 1 the start token, 2 the end token."""

    def __init__(self, tokens: Sequence[str]) -> None:
        tokens = list(tokens)
        if tokens[:3] != [PAD, BOS, EOS]:
            tokens = [PAD, BOS, EOS] + [t for t in tokens if t not in (PAD, BOS, EOS)]
        if len(set(tokens)) != len(tokens):
            raise ValueError("vocabulary tokens must be distinct")
        self.tokens: list[str] = tokens
        self.index: dict[str, int] = {t: i for i, t in enumerate(tokens)}

    pad, bos, eos = 0, 1, 2

    @classmethod
    def from_smiles(cls, smiles: Iterable[str], min_count: int = 1) -> SmilesVocabulary:
        """Every token seen at least ``min_count`` times in ``smiles``, in a stable (sorted) order."""
        counts: Counter[str] = Counter()
        for s in smiles:
            counts.update(tokenize(s))
        return cls(sorted(t for t, c in counts.items() if c >= min_count))

    def __len__(self) -> int:
        return len(self.tokens)

    def __contains__(self, smiles: str) -> bool:
        try:
            self.encode(smiles)
        except TokenError:
            return False
        return True

    def encode(self, smiles: str) -> list[int]:
        """Start token, the SMILES's tokens, end token (TokenError naming an unknown token)."""
        ids = [self.bos]
        for tok in tokenize(smiles):
            try:
                ids.append(self.index[tok])
            except KeyError:
                raise TokenError(f"token {tok!r} of {smiles!r} is not in the vocabulary "
                                 f"({len(self)} tokens)") from None
        ids.append(self.eos)
        return ids

    def decode(self, ids: Iterable[int]) -> str:
        """The SMILES of a token sequence: stops at the end token, skips start and padding."""
        out = []
        for i in ids:
            i = int(i)
            if i == self.eos:
                break
            if i in (self.bos, self.pad):
                continue
            out.append(self.tokens[i])
        return "".join(out)
