"""Self-similarity of a set of embeddings (diversity of a corpus, of a subgroup's texts)."""

from __future__ import annotations

import numpy as np


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
