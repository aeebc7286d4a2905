"""Tokenised corpora as integer codes, and their word n-gram keys.

A word's code is a 64-bit content hash of its UTF-8 bytes (blake2b), so two corpora, or two chunks
of one corpus, give equal words equal codes without a shared vocabulary: n-gram keys and MinHash
signatures are computed per chunk and do not depend on the chunking (issue 12). Two distinct words
share a code with probability about ``V^2 / 2^65`` for ``V`` distinct words (1e-8 at V = 10^6).

Shared by the text checks of every family (``synthproof.checks._text.text_codes``), MinHash and
verbatim-span matching (duplication), distinct-n (diversity) and the corpus statistics
(:mod:`synthproof.corpus`).
"""

from __future__ import annotations

import hashlib

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


def word_codes(flat: list[str]) -> np.ndarray:
    """Content codes of words: blake2b (8 bytes, little-endian) of each word's UTF-8 bytes.

    Parameters
    ----------
    flat : list of str, length n

    Returns
    -------
    ndarray of uint64, shape (n,): equal words get equal codes in every call, process and platform.
    Each distinct word is hashed once (``pandas.factorize``).
    """
    if not flat:
        return np.zeros(0, dtype=np.uint64)
    inv, uniq = pd.factorize(pd.Series(flat, dtype=object), sort=False)
    digest = b"".join(hashlib.blake2b(w.encode("utf-8", "surrogatepass"), digest_size=8).digest() for w in uniq)
    return np.frombuffer(digest, dtype="<u8").astype(np.uint64)[inv]


def encode_corpora(*corpora: list[list[str]]) -> list[TokenCodes]:
    """Integer-code tokenised corpora (:func:`word_codes`: content hashes, so corpora coded apart
    share codes too)."""
    flat = [w for corpus in corpora for doc in corpus for w in doc]
    codes = word_codes(flat)
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


def distinct_per_owner(keys: np.ndarray, owner: np.ndarray, n_owners: int) -> np.ndarray:
    """Number of distinct ``keys`` of each owner ``0..n_owners-1`` (int64, shape (n_owners,))."""
    if not keys.size:
        return np.zeros(n_owners, dtype=np.int64)
    order = np.lexsort((keys, owner))
    k, o = keys[order], owner[order]
    new = np.ones(k.size, dtype=bool)
    new[1:] = (k[1:] != k[:-1]) | (o[1:] != o[:-1])
    return np.bincount(o[new], minlength=n_owners)


def ngram_owners(corpus: TokenCodes, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Keys (:func:`ngram_keys`) of every word n-gram within a document, with the document of each
    (int64), in corpus order (repeats kept)."""
    lens = corpus.lengths
    doc = np.repeat(np.arange(lens.size), lens)
    keys = ngram_keys(corpus.codes, doc, n)
    m = max(corpus.codes.size - n + 1, 0)
    owner = doc[:m][doc[:m] == doc[n - 1:]] if m else np.zeros(0, dtype=np.int64)
    return keys, owner.astype(np.int64)
