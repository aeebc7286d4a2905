"""Pure statistics of text diversity: vectorised distinct-n and the Vendi score.

The token codes and n-gram keys it counts are in :mod:`synthproof.stats.tokens`; self-similarity
(mean pairwise cosine) in :mod:`synthproof.stats.similarity`.
"""

from __future__ import annotations

import numpy as np

from synthproof.stats.tokens import ngram_keys


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
