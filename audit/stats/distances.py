"""Distances between two distributions, from counts over a shared support or from two samples.

Every count-based function takes count vectors over a shared, ordered support and broadcasts over
leading axes, so ``R`` seeded splits are scored in one call (shape ``(R, k)``). The sample-based
functions are the public reference forms and are tested against scipy. Used by the drift and bias
families and by ``synthproof lineage``; the drift family's own statistics (PSI, Wasserstein, SMD,
Cramér's V...) are in ``synthproof.checks.drift._stats``.

Direction: every statistic here is a distance — 0 means identical distributions and **larger is
worse**.
"""

from __future__ import annotations

import numpy as np

from synthproof.stats.ks import ks_exact


def shares(counts: np.ndarray) -> np.ndarray:
    """Shares ``counts / counts.sum()`` along the last axis (shape (..., k)); 0 where a total is 0."""
    counts = np.asarray(counts, dtype=float)
    total = counts.sum(axis=-1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, counts / np.where(total > 0, total, 1.0), 0.0)


def ks_from_counts(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Two-sample Kolmogorov–Smirnov statistic from counts over ordered bins.

    Parameters
    ----------
    p, q : ndarray of shape (..., k)
        Counts of the two samples over the same ordered support (missing values excluded).

    Returns
    -------
    ndarray of shape (...)
        ``sup |F_p - F_q|`` in [0, 1]; exact for data whose distinct values are the bins.

    References
    ----------
    Kolmogorov (1933), Smirnov (1948); equals ``scipy.stats.ks_2samp(x, y).statistic``.
    """
    d = np.max(np.abs(np.cumsum(shares(p), axis=-1) - np.cumsum(shares(q), axis=-1)), axis=-1)
    return np.clip(d, 0.0, 1.0)


def tvd_from_counts(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Total variation distance ``0.5 * sum |p_i - q_i|`` in [0, 1] from counts of shape (..., k).

    Source: SDMetrics ``TVComplement`` is ``1 - TVD``.
    """
    return 0.5 * np.sum(np.abs(shares(p) - shares(q)), axis=-1)


def js_distance_from_counts(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Jensen–Shannon distance (base 2, range [0, 1]) from counts of shape (..., k).

    The square root of the Jensen–Shannon divergence (Lin 1991; Endres & Schindelin 2003); equals
    ``scipy.spatial.distance.jensenshannon(p, q, base=2)``.
    """
    a, b = shares(p), shares(q)
    m = 0.5 * (a + b)
    with np.errstate(divide="ignore", invalid="ignore"):
        ka = np.where(a > 0, a * np.log2(np.where(a > 0, a, 1.0) / np.where(m > 0, m, 1.0)), 0.0)
        kb = np.where(b > 0, b * np.log2(np.where(b > 0, b, 1.0) / np.where(m > 0, m, 1.0)), 0.0)
    js = 0.5 * ka.sum(axis=-1) + 0.5 * kb.sum(axis=-1)
    return np.sqrt(np.clip(js, 0.0, 1.0))


def ks_statistic(real: np.ndarray, synthetic: np.ndarray) -> float:
    """Two-sample KS statistic of two numeric samples (NaN and infinities dropped); ``scipy.stats.ks_2samp``.

    Parameters
    ----------
    real, synthetic : array-like of shape (n,) and (m,)

    Returns
    -------
    float in [0, 1]; 0 for identical empirical distributions.

    Raises
    ------
    ValueError
        If either sample has no finite value.
    """
    r = np.asarray(real, dtype=float)
    s = np.asarray(synthetic, dtype=float)
    fr, fs = np.isfinite(r), np.isfinite(s)
    r, s = (r if fr.all() else r[fr]), (s if fs.all() else s[fs])
    if r.size == 0 or s.size == 0:
        raise ValueError("both samples need at least one finite value")
    # scipy's form: both empirical CDFs at every observed value, max |difference|, with the same
    # integer counts and divisions as scipy, so the same floats; large samples are counted on
    # monotone grids first so only the values near the maximum are sorted (synthproof.stats.ks).
    return ks_exact(r, s)


def total_variation_distance(real: np.ndarray, synthetic: np.ndarray) -> float:
    """TVD between the category frequencies of two samples (missing values form a category)."""
    cats, inv = np.unique(
        np.concatenate([category_keys(real), category_keys(synthetic)]), return_inverse=True
    )
    n = len(real)
    p = np.bincount(inv[:n], minlength=cats.size)
    q = np.bincount(inv[n:], minlength=cats.size)
    return float(tvd_from_counts(p, q))


def category_keys(x: np.ndarray) -> np.ndarray:
    """Values of ``x`` as strings with one shared key for every missing value (None, and values
    unequal to themselves: NaN, NaT): the categories of :func:`total_variation_distance`; object
    array of shape (n,)."""
    arr = np.asarray(x, dtype=object)
    return np.array(["\x00<missing>" if _isna(v) else str(v) for v in arr], dtype=object)


def _isna(v: object) -> bool:
    if v is None:
        return True
    try:
        return bool(v != v)
    except (TypeError, ValueError):
        return False


def joint_counts(real: np.ndarray, synthetic: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Counts of two numeric samples over their joint sorted distinct finite values.

    Returns ``(p, q, support)``: int64 counts of shape (k,) per sample and the sorted support (k,).

    Raises
    ------
    ValueError
        If either sample has no finite value.
    """
    r = np.asarray(real, dtype=float)
    s = np.asarray(synthetic, dtype=float)
    fr, fs = np.isfinite(r), np.isfinite(s)
    r, s = (r if fr.all() else r[fr]), (s if fs.all() else s[fs])
    if r.size == 0 or s.size == 0:
        raise ValueError("both samples need at least one finite value")
    support, inv = np.unique(np.concatenate([r, s]), return_inverse=True)
    p = np.bincount(inv[: r.size], minlength=support.size)
    q = np.bincount(inv[r.size:], minlength=support.size)
    return p, q, support
