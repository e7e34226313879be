"""A chemical language model over SMILES (:mod:`gan.lm.model`), its vocabulary (:mod:`gan.lm.vocab`), settings
(:mod:`gan.lm.config`) and trainer (:mod:`gan.lm.trainer`)."""

from deep_arena.gan.lm.model import ChemicalLM, SmilesRNN
from deep_arena.gan.lm.vocab import SmilesVocabulary, TokenError, tokenize

__all__ = ["ChemicalLM", "SmilesRNN", "SmilesVocabulary", "TokenError", "tokenize"]
