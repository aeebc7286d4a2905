"""Pure statistics of text diversity: vectorised distinct-n, Vendi score, self-similarity."""

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


def distinct_n_codes(codes: np.ndarray, doc: np.ndarray, n: int) -> float:
    """distinct-n (distinct / all word n-grams, within documents) of a coded corpus; NaN without
    any n-gram. Equals :func:`synthproof.text.distinct_n` on the same tokens."""
    keys = ngram_keys(codes, doc, n)
    return np.unique(keys).size / keys.size if keys.size else float("nan")


def vendi_score(x: np.ndarray) -> float:
    """Vendi score with the cosine kernel, order q = 1, through the dual (feature-space) form.

    Parameters
    ----------
    x : ndarray of shape (n, d)
        Embeddings; rows are normalised to unit length here (cosine kernel, k(x, x) = 1).

    Returns
    -------
    float in [1, min(n, d)]: the exponential of the Shannon entropy of the eigenvalues of
    ``K / n``; the "effective number of distinct items". Higher is more diverse. Computed from the
    ``d x d`` matrix ``XᵀX / n``, which has the same non-zero eigenvalues as ``XXᵀ / n``: linear in
    ``n``. Depends on ``n`` (biased low on small samples): compare at equal sizes.

    References
    ----------
    Friedman, D. & Dieng, A. B. (2023) "The Vendi score: a diversity evaluation metric for machine
    learning", TMLR.
    """
    x = np.asarray(x, dtype=np.float64)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    x = x / np.where(norms > 0, norms, 1.0)
    from threadpoolctl import threadpool_limits

    # One BLAS thread: a d x d eigenproblem is too small to share, and threaded OpenBLAS spun for
    # 2 s instead of 0.03 s per call on a busy 2-core machine (measured).
    with threadpool_limits(limits=1, user_api="blas"):
        lam = np.linalg.eigvalsh(x.T @ x / x.shape[0])
    lam = lam[lam > 1e-12]
    return float(np.exp(-np.sum(lam * np.log(lam))))


def mean_pairwise_cosine(x: np.ndarray) -> float:
    """Mean cosine similarity over distinct pairs of rows of ``x`` (shape (n, d), n >= 2), in
    [-1, 1]; higher means less diverse. Linear in ``n``: ``(||Σ u_i||² - n) / (n (n - 1))`` for the
    unit rows ``u_i``.

    References
    ----------
    Self-similarity as a diversity measure of generated text: e.g. Shaib et al. (2024),
    "Standardizing the measurement of text diversity".
    """
    x = np.asarray(x, dtype=np.float64)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    u = x / np.where(norms > 0, norms, 1.0)
    n = u.shape[0]
    s = u.sum(axis=0)
    return float((s @ s - (norms[:, 0] > 0).sum()) / (n * (n - 1)))
