"""Quantiles of data given as distinct values and their counts."""

from __future__ import annotations

import numpy as np


def quantile_from_counts(values: np.ndarray, counts: np.ndarray, q) -> np.ndarray:
    """``numpy.quantile(x, q)`` (the default ``linear`` method) of the data ``x`` that holds each
    ``values[i]`` ``counts[i]`` times, without expanding it.

    Parameters
    ----------
    values : ndarray of float, shape (k,)
        Sorted distinct values (or bin representatives).
    counts : ndarray of int, shape (k,)
        Their multiplicities; at least one positive.
    q : float or array of float in [0, 1]

    Returns
    -------
    ndarray of float, shape of ``q``
        Equal to ``numpy.quantile(numpy.repeat(values, counts), q)``.
    """
    values = np.asarray(values, dtype=float)
    cum = np.cumsum(np.asarray(counts, dtype=np.int64))
    n = int(cum[-1])
    h = (n - 1) * np.asarray(q, dtype=float)
    lo = np.floor(h).astype(np.int64)
    hi = np.minimum(lo + 1, n - 1)
    at = lambda j: values[np.searchsorted(cum, j, side="right")]  # noqa: E731 - the j-th order statistic
    return at(lo) + (h - lo) * (at(hi) - at(lo))
