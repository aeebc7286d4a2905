"""Tokenised corpora as integer codes over one shared vocabulary, and their word n-gram keys.

Shared by the text checks of every family (``synthproof.checks._text.text_codes``), MinHash and
verbatim-span matching (duplication) and distinct-n (diversity).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

_MULT = np.uint64(0x9E3779B97F4A7C15)  # odd 64-bit multiplier (golden ratio) for n-gram keys


class TokenCodes:
    """A tokenised corpus as integer codes: ``codes`` (all tokens, documents one after another) and
    ``starts`` (offset of each document; ``starts[-1] == len(codes)``). Build both sides of a
    comparison with :func:`encode_corpora` so equal words share a code."""

    def __init__(self, codes: np.ndarray, starts: np.ndarray) -> None:
        self.codes = codes
        self.starts = starts

    @property
    def lengths(self) -> np.ndarray:
        return np.diff(self.starts)

    def take(self, order: np.ndarray, budget: int) -> tuple[np.ndarray, np.ndarray]:
        """Documents in ``order`` until ``budget`` tokens (the last one cut to fit).

        Returns ``(codes, doc)``: the tokens taken and, for each, its position in the selection."""
        lens = self.lengths[order]
        cum = np.cumsum(lens)
        k = int(np.searchsorted(cum, budget, side="left")) + 1
        k = min(k, len(order))
        take = lens[:k].copy()
        if k and cum[k - 1] > budget:
            take[-1] -= cum[k - 1] - budget
        starts = self.starts[order[:k]]
        doc = np.repeat(np.arange(k), take)
        offs = np.arange(doc.size) - np.repeat(np.cumsum(take) - take, take)
        return self.codes[starts[doc] + offs], doc


def encode_corpora(*corpora: list[list[str]]) -> list[TokenCodes]:
    """Integer-code tokenised corpora over one shared vocabulary (``pandas.factorize``)."""
    flat = [w for corpus in corpora for doc in corpus for w in doc]
    codes, _ = pd.factorize(pd.Series(flat, dtype=object), sort=False)
    codes = codes.astype(np.uint64) + np.uint64(1)
    out, pos = [], 0
    for corpus in corpora:
        lens = np.fromiter((len(d) for d in corpus), dtype=np.int64, count=len(corpus))
        total = int(lens.sum())
        out.append(TokenCodes(codes[pos:pos + total], np.concatenate([[0], np.cumsum(lens)])))
        pos += total
    return out


def ngram_keys(codes: np.ndarray, doc: np.ndarray, n: int) -> np.ndarray:
    """64-bit keys of the word n-grams that lie within one document (polynomial hash of the codes;
    a collision needs two distinct n-grams of the same corpus to agree on 64 bits)."""
    if codes.size < n:
        return np.zeros(0, dtype=np.uint64)
    m = codes.size - n + 1
    key = np.zeros(m, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for j in range(n):
            key = key * _MULT + codes[j:j + m]
    return key[doc[: m] == doc[n - 1:]]
