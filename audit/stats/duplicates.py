"""Duplicate-row rates of a set of row hashes, and their exact expectation at a smaller size.

Shared by ``duplication.exact_duplicates`` and ``diversity.unique_rows`` (through
``synthproof.checks._duplicates``).
"""

from __future__ import annotations

import numpy as np


def multiplicities(hashes: np.ndarray) -> np.ndarray:
    """Count of each distinct value of ``hashes`` (n,), shape (n_distinct,), in sorted-value order."""
    return np.unique(np.asarray(hashes), return_counts=True)[1]


def duplicate_row_rate(hashes: np.ndarray) -> float:
    """Duplicate-row rate ``1 - distinct / n`` of a set of row hashes (n,): the share of rows that
    repeat an earlier row. Range [0, 1 - 1/n]; 0 means every row is distinct; larger is worse."""
    h = np.asarray(hashes)
    return 1.0 - np.unique(h).size / h.size if h.size else 0.0


def expected_duplicate_rate(counts: np.ndarray, m: int, weights: np.ndarray | None = None) -> float:
    """Expected duplicate-row rate of ``m`` rows drawn without replacement from a table whose rows
    occur with the multiplicities ``counts`` (shape (k,), summing to ``n >= m``).

    ``E[distinct] = sum_v 1 - C(n - c_v, m) / C(n, m)`` (the hypergeometric probability that a draw
    misses every copy of ``v``), so the rate is ``1 - E[distinct] / m``: exact, with no random
    split, and equal to the table's own rate ``1 - k / n`` at ``m = n``.

    Parameters
    ----------
    counts : array of int, shape (k,)
        Multiplicities (each ``>= 1``).
    m : int
        Rows drawn.
    weights : array of int, shape (k,), optional
        How many distinct values have each multiplicity (the histogram form of
        :func:`synthproof.stats.rowhashes.multiplicity_histogram`: ``counts`` then lists each
        multiplicity once); default: one value each.

    Returns
    -------
    float in [0, 1 - 1/m]; larger means more repeated rows.

    Raises
    ------
    ValueError
        If ``m`` is not in ``[1, n]``.
    """
    from scipy.special import gammaln

    c = np.asarray(counts, dtype=float)
    w = np.ones_like(c) if weights is None else np.asarray(weights, dtype=float)
    n = float(c.sum()) if weights is None else float((c * w).sum())
    if not 1 <= m <= n:
        raise ValueError(f"m must be in [1, {int(n)}], got {m}")
    miss = np.zeros_like(c)
    ok = n - c >= m  # otherwise every draw of m rows holds a copy of v
    nc = n - c[ok]
    miss[ok] = np.exp(gammaln(nc + 1) - gammaln(nc - m + 1) - gammaln(n + 1) + gammaln(n - m + 1))
    return float(1.0 - (1.0 - miss).sum() / m) if weights is None else float(1.0 - ((1.0 - miss) * w).sum() / m)
