"""Pure drift statistics: arrays or counts in, numbers out.

Every count-based function takes count vectors over a shared, ordered support and broadcasts over
leading axes, so ``R`` seeded splits are scored in one call (shape ``(R, k)``). The array-based
functions are the public reference forms and are tested against scipy. The distances other
families use too (KS, TVD and JS from counts, their sample forms, the robust scale) are in
:mod:`synthproof.stats.distances` and :mod:`synthproof.stats.scale`.

Direction: every statistic here is a distance or an absolute difference — 0 means identical
distributions and **larger is worse**.
"""

from __future__ import annotations

import numpy as np

from synthproof.stats.distances import category_keys, joint_counts, js_distance_from_counts, shares
from synthproof.stats.scale import robust_scale

_EPS_PSI = 1e-4


def psi_from_counts(p: np.ndarray, q: np.ndarray, eps: float = _EPS_PSI) -> np.ndarray:
    """Population stability index ``sum (q_i - p_i) ln(q_i / p_i)``, shares floored at ``eps``.

    Parameters
    ----------
    p : ndarray of shape (..., k)
        Reference (real) counts per bin (10 real-quantile bins plus a missing bin by convention).
    q : ndarray of shape (..., k)
        Compared (synthetic) counts.
    eps : float, default 1e-4
        Floor on each share, so empty bins stay finite.

    Returns
    -------
    ndarray of shape (...), in [0, inf); 0 when identical. Source: Yurdakul (2018), "Statistical
    properties of population stability index".
    """
    a = np.maximum(shares(p), eps)
    b = np.maximum(shares(q), eps)
    return np.sum((b - a) * np.log(b / a), axis=-1)


def wasserstein_from_counts(p: np.ndarray, q: np.ndarray, support: np.ndarray) -> np.ndarray:
    """First Wasserstein distance between two distributions on the same sorted ``support``.

    Parameters
    ----------
    p, q : ndarray of shape (..., k)
        Counts over ``support``.
    support : ndarray of shape (k,)
        Sorted bin values, in the data's unit.

    Returns
    -------
    ndarray of shape (...), in the data's unit; equals ``scipy.stats.wasserstein_distance`` for data
    taking only the support values.
    """
    support = np.asarray(support, dtype=float)
    if support.size < 2:
        return np.zeros(np.broadcast_shapes(np.shape(p)[:-1], np.shape(q)[:-1]))
    diff = np.abs(np.cumsum(shares(p), axis=-1) - np.cumsum(shares(q), axis=-1))[..., :-1]
    return np.sum(diff * np.diff(support), axis=-1)


def mean_from_counts(p: np.ndarray, support: np.ndarray) -> np.ndarray:
    """Mean of a distribution given counts over ``support`` (shape (..., k))."""
    return np.sum(shares(p) * np.asarray(support, dtype=float), axis=-1)


def jensen_shannon_distance(real: np.ndarray, synthetic: np.ndarray) -> float:
    """JS distance (base 2, [0, 1]) between the category frequencies of two samples."""
    cats, inv = np.unique(
        np.concatenate([category_keys(real), category_keys(synthetic)]), return_inverse=True
    )
    n = len(real)
    return float(
        js_distance_from_counts(
            np.bincount(inv[:n], minlength=cats.size), np.bincount(inv[n:], minlength=cats.size)
        )
    )


def decile_edges(real: np.ndarray, n_bins: int = 10) -> np.ndarray:
    """The distinct real quantiles that cut a numeric column into PSI/JS bins.

    ``e_j`` is the inverted-CDF quantile of the finite real values at ``j / n_bins``
    (``j = 1 .. n_bins - 1``): the smallest real value ``v`` with ``F_real(v) >= j / n_bins``,
    computed in integers as the ``ceil(j n / n_bins)``-th smallest value (equals
    ``np.quantile(x, j / n_bins, method="inverted_cdf")`` without its floating-point rounding).
    Duplicates are merged, so a value holding many rows is never split across bins.

    Parameters
    ----------
    real : array-like of shape (n,)
        Numeric sample; non-finite values are ignored.
    n_bins : int, default 10

    Returns
    -------
    ndarray of shape (<= n_bins - 1,), sorted, distinct; every edge is a real value.

    Raises
    ------
    ValueError
        If ``real`` has no finite value.
    """
    r = np.asarray(real, dtype=float)
    r = np.sort(r[np.isfinite(r)])
    n = r.size
    if n == 0:
        raise ValueError("the real sample has no finite value")
    j = np.arange(1, n_bins, dtype=np.int64)
    return np.unique(r[np.maximum((j * n + n_bins - 1) // n_bins, 1) - 1])


def decile_bin_counts(x: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Counts of ``x`` in the bins cut by ``edges``, plus a last bin for missing values.

    A finite value ``x`` falls in bin ``#{e in edges : e < x}`` (``searchsorted(side="left")``), so
    the bins are ``(-inf, e_1], (e_1, e_2], ..., (e_last, inf)``: a value equal to an edge stays
    in the lower bin, values outside the real range join the outer bins. For edges from
    :func:`decile_edges` the bin of ``x`` is the same partition as
    ``min(floor(n_bins * F_real(x-)), n_bins - 1)`` with ``F_real(x-)`` the real share strictly
    below ``x`` — which is how the drift checks group their fine bins (``ColumnCounts.deciles``).

    Returns
    -------
    ndarray of int64, shape (edges.size + 2,); the last entry counts NaN/inf values.
    """
    x = np.asarray(x, dtype=float)
    fin = np.isfinite(x)
    c = np.bincount(np.searchsorted(edges, x[fin], side="left"), minlength=edges.size + 1)
    return np.append(c, (~fin).sum()).astype(np.int64)


def population_stability_index(
    real: np.ndarray, synthetic: np.ndarray, n_bins: int = 10, eps: float = _EPS_PSI
) -> float:
    """PSI of a numeric column on real-decile bins plus one missing bin.

    Definition (the one ``drift.psi`` reports): bins from :func:`decile_edges` (the distinct
    inverted-CDF real deciles; ties never split) and :func:`decile_bin_counts` (bins
    ``(e_{j-1}, e_j]``, outer bins open, one bin for missing values); shares ``p_i`` (real) and
    ``q_i`` (synthetic) of all rows, each floored at ``eps`` without renormalising;
    ``PSI = sum_i (q_i - p_i) ln(q_i / p_i)``.

    Parameters
    ----------
    real, synthetic : array-like of shape (n,) and (m,)
        Numeric samples; NaN counts in the missing bin.
    n_bins : int, default 10
    eps : float, default 1e-4

    Returns
    -------
    float in [0, inf); 0 when the binned shares are identical, larger is worse (customary reading:
    < 0.1 stable, > 0.25 shifted).

    References
    ----------
    Siddiqi (2006), Credit Risk Scorecards; Yurdakul (2018), "Statistical properties of population
    stability index".
    """
    edges = decile_edges(real, n_bins)
    return float(psi_from_counts(decile_bin_counts(real, edges), decile_bin_counts(synthetic, edges), eps))


def jensen_shannon_numeric(real: np.ndarray, synthetic: np.ndarray, n_bins: int = 10) -> float:
    """Jensen–Shannon distance (base 2) of a numeric column on the PSI bins (real deciles + missing).

    Same bins as :func:`population_stability_index`; no floor on the shares. Equals
    ``scipy.spatial.distance.jensenshannon(p, q, base=2)`` on those bin counts.

    Returns
    -------
    float in [0, 1]; 0 for identical binned shares, larger is worse.
    """
    edges = decile_edges(real, n_bins)
    return float(js_distance_from_counts(decile_bin_counts(real, edges), decile_bin_counts(synthetic, edges)))


def normalized_wasserstein(real: np.ndarray, synthetic: np.ndarray) -> float:
    """W1 between two numeric samples divided by the real standard deviation (IQR if it is 0).

    Returns a unitless float in [0, inf): "how many real SDs of mass must move". If both the SD
    and IQR are 0 (a constant real column) the raw W1 is returned.
    """
    p, q, support = joint_counts(real, synthetic)
    r = np.asarray(real, dtype=float)
    return float(wasserstein_from_counts(p, q, support) / robust_scale(r[np.isfinite(r)]))


def standardized_mean_difference(real: np.ndarray, synthetic: np.ndarray) -> float:
    """``(mean_synthetic - mean_real) / sd_real`` (signed, unitless; NaN dropped).

    Austin (2009), "Balance diagnostics for comparing the distribution of baseline covariates",
    Stat. Med. 28:3083 — |SMD| < 0.1 is the customary negligible imbalance.
    """
    r = np.asarray(real, dtype=float)
    s = np.asarray(synthetic, dtype=float)
    r, s = r[np.isfinite(r)], s[np.isfinite(s)]
    return float((s.mean() - r.mean()) / robust_scale(r))


def cramers_v_from_table(t: np.ndarray, k: int | None = None) -> np.ndarray:
    """Cramér's V of contingency tables of shape (..., r, c); rows/cols empty in a table are ignored.

    ``V = sqrt(chi2 / (n * (min(r', c') - 1)))`` with r', c' the non-empty rows/columns; 0 when a
    table has a single non-empty row or column. Equals ``scipy.stats.contingency.association(t,
    method="cramer")`` (no bias correction). With ``k`` given, ``min(r', c') - 1`` is replaced by
    ``k`` for every table, so that tables drawn from one population share one normalisation.
    Cramér (1946), Mathematical Methods of Statistics.
    """
    t = np.asarray(t, dtype=float)
    n = t.sum(axis=(-2, -1))
    rows = t.sum(axis=-1)
    cols = t.sum(axis=-2)
    safe_n = np.where(n > 0, n, 1.0)
    expected = rows[..., :, None] * cols[..., None, :] / safe_n[..., None, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        chi2 = np.where(expected > 0, (t - expected) ** 2 / np.where(expected > 0, expected, 1), 0)
    chi2 = chi2.sum(axis=(-2, -1))
    if k is None:
        k = np.minimum((rows > 0).sum(axis=-1), (cols > 0).sum(axis=-1)) - 1
    else:
        k = np.full(np.shape(n), k)
    with np.errstate(divide="ignore", invalid="ignore"):
        v = np.sqrt(np.where((k > 0) & (n > 0), chi2 / (safe_n * np.maximum(k, 1)), 0.0))
    return np.clip(v, 0.0, 1.0)


def residual_structure_distance(t1: np.ndarray, t2: np.ndarray, reference: np.ndarray, k: int) -> np.ndarray:
    """Cramér's-V-scaled distance between the dependence structures of two contingency tables.

    Each table's dependence is its matrix of standardised residuals
    ``R_ij = (p_ij - p_i. p_.j) / sqrt(q_i q_j)``, with the weights ``q`` the margins of a fixed
    ``reference`` table (floored at half a row), so that both tables are measured on one scale.
    The distance is ``||R_1 - R_2||_F / sqrt(k)``: with ``R_2 = 0`` (independence) it equals
    Cramér's V of table 1, since ``||R||_F^2 = chi^2 / n``. Unlike ``|V_1 - V_2|`` it keeps the
    sign of every cell, so two tables with opposite associations are far apart.

    Parameters
    ----------
    t1, t2 : ndarray of shape (..., r, c)
        Counts.
    reference : ndarray of shape (r, c)
        Counts giving the weights (the full real table).
    k : int
        ``min(r, c) - 1`` of the reference, at least 1.

    Returns
    -------
    ndarray of shape (...), >= 0; 0 for identical dependence structures.
    """
    ref = np.asarray(reference, dtype=float)
    n_ref = max(ref.sum(), 1.0)
    qi = np.maximum(ref.sum(axis=1) / n_ref, 0.5 / n_ref)
    qj = np.maximum(ref.sum(axis=0) / n_ref, 0.5 / n_ref)
    w = np.sqrt(qi[:, None] * qj[None, :])

    def resid(t):
        t = np.asarray(t, dtype=float)
        n = t.sum(axis=(-2, -1), keepdims=True)
        p = t / np.where(n > 0, n, 1.0)
        return (p - p.sum(axis=-1, keepdims=True) * p.sum(axis=-2, keepdims=True)) / w

    d = resid(t1) - resid(t2)
    return np.sqrt((d * d).sum(axis=(-2, -1)) / max(k, 1))


def spearman_from_table(t: np.ndarray) -> np.ndarray:
    """Spearman's rank correlation from a contingency table of two ORDERED codings, shape (..., r, c).

    Ranks are the average (mid) ranks of each row/column bin, as ``scipy.stats.spearmanr`` assigns
    to ties; exact when each bin holds a single distinct value. Range [-1, 1]; 0 for a constant.
    """
    t = np.asarray(t, dtype=float)
    n = t.sum(axis=(-2, -1))
    rows = t.sum(axis=-1)
    cols = t.sum(axis=-2)
    ra = np.cumsum(rows, axis=-1) - rows + (rows + 1) / 2.0
    rb = np.cumsum(cols, axis=-1) - cols + (cols + 1) / 2.0
    safe_n = np.where(n > 0, n, 1.0)
    ma = (rows * ra).sum(axis=-1) / safe_n
    mb = (cols * rb).sum(axis=-1) / safe_n
    da = ra - ma[..., None]
    db = rb - mb[..., None]
    cov = np.einsum("...ij,...i,...j->...", t, da, db)
    va = (rows * da * da).sum(axis=-1)
    vb = (cols * db * db).sum(axis=-1)
    denom = np.sqrt(va * vb)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(denom > 0, cov / np.where(denom > 0, denom, 1.0), 0.0)
