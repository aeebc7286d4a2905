"""The exact two-sample Kolmogorov–Smirnov statistic of large samples without sorting them whole.

``D = max_v |F_r(v) - F_s(v)|`` over every observed value ``v`` (Kolmogorov 1933, Smirnov 1948;
``scipy.stats.ks_2samp``). Sorting both samples costs O(n log n); almost every value is far from
where the maximum can be. Here the values are counted on a **monotone grid** (``cell(v)`` never
decreases as ``v`` grows: a subtraction, a multiplication and a floor, each monotone in floating
point), so each cell is a run of the sorted data and, with the counts of every earlier cell, gives

* the exact ``D`` at the cell's largest value (every value of the cell and before it is at most
  that value, every later one is larger): a lower bound ``LB`` on the maximum;
* an upper bound on ``|D|`` at every value inside the cell: between the cell's first and last value
  the real CDF grows by at most the cell's real count and the synthetic one by its synthetic count.

Cells whose bound cannot beat ``LB`` are settled; the others are split by a finer grid on their own
values, and what is left is sorted and merged exactly (:func:`merge_statistic`). Every value
reported is the same float as the plain merge — ``count_r / n_r - count_s / n_s`` with the same
integer counts — and a value skipped cannot be the largest (its bound is below ``LB`` by more than
the rounding of either), so the result is scipy's statistic to the bit; the tests assert it against
the plain merge and scipy.
"""

from __future__ import annotations

import numpy as np

GRID = 1 << 16  # cells of the first grid; later grids split each open cell into up to this many
SMALL = 1 << 15  # values left at which the rest is merged exactly
_CELLS = 1 << 18  # cells of each later grid, all open cells together
_TOL = 1e-9  # bounds this close to LB stay open: far above the rounding (1e-16) of either


def merge_statistic(r: np.ndarray, s: np.ndarray, cell: tuple[np.ndarray, np.ndarray] | None = None,
                    below: tuple[np.ndarray, np.ndarray] | None = None, n: tuple[int, int] | None = None) -> float:
    """``max |F_r - F_s|`` at the values of ``r`` and ``s`` by merging their sorted copies.

    Parameters
    ----------
    r, s : ndarray of float64, shape (a,) and (b,)
        Finite values (all of each sample, or those of some cells of a monotone grid).
    cell : (ndarray, ndarray) of int64, optional
        Each value's cell (dense ids in value order); with ``below`` and ``n``.
    below : (ndarray, ndarray) of int64, optional
        Per cell, the real and synthetic counts of ALL values below the cell.
    n : (int, int), optional
        The full sample sizes (default: ``r.size``, ``s.size``).

    Returns
    -------
    float in [0, 1]; ``-1.0`` when both are empty.
    """
    if r.size + s.size == 0:
        return -1.0
    n_r, n_s = n if n is not None else (r.size, s.size)
    merged = np.concatenate([np.sort(r), np.sort(s)])
    is_r = np.zeros(merged.size, bool)
    is_r[: r.size] = True
    order = np.argsort(merged, kind="stable")  # a stable sort of two sorted runs is one linear merge
    v = merged[order]
    last = np.append(np.flatnonzero(v[1:] != v[:-1]), v.size - 1)  # -0.0 ties 0.0, as in searchsorted
    count_r = np.cumsum(is_r[order])[last]
    count_s = last + 1 - count_r
    if cell is not None:
        # All values below the cell, less the ones of this selection in earlier cells (ties share a cell).
        c = np.concatenate([np.sort(cell[0]), np.sort(cell[1])])[order][last]  # cells are monotone in value
        k = below[0].size
        sel_r, sel_s = np.bincount(cell[0], minlength=k), np.bincount(cell[1], minlength=k)
        count_r = count_r + (below[0] - (np.cumsum(sel_r) - sel_r))[c]
        count_s = count_s + (below[1] - (np.cumsum(sel_s) - sel_s))[c]
    return float(np.abs(count_r / n_r - count_s / n_s).max())


def ks_exact(r: np.ndarray, s: np.ndarray, *, grid: int = GRID, small: int = SMALL) -> float:
    """Two-sample KS statistic of finite float64 samples, exactly (scipy's floats), by grid pruning.

    Parameters
    ----------
    r, s : ndarray of float64, shapes (n,) and (m,), n, m >= 1
        Finite values only (the caller drops NaN and infinities).
    grid, small : int
        Cells of the first grid, and the values left at which the rest is merged (defaults
        ``GRID``, ``SMALL``; the tests make them tiny to exercise every level on small samples).

    Returns
    -------
    float in [0, 1]: ``max_v |F_r(v) - F_s(v)|``, unitless (a difference of shares of rows); a
    distance — 0 for identical empirical distributions, 1 for disjoint ones, larger is worse.
    Equals ``scipy.stats.ks_2samp(r, s).statistic`` (its asymptotic mode, which keeps the CDF
    difference as computed).

    Notes
    -----
    Time O(n + m) per grid level plus O(k log k) for the ``k`` values left open (a few hundred to a
    few thousand on real columns of 10^6 values; all of them for data the grids cannot split, such
    as a few distinct values far apart — then it costs one extra pass over the plain merge).

    References
    ----------
    Kolmogorov (1933), "Sulla determinazione empirica di una legge di distribuzione"; Smirnov
    (1948), "Table for estimating the goodness of fit of empirical distributions"; reference
    implementation ``scipy.stats.ks_2samp``.
    """
    n_r, n_s = r.size, s.size
    if n_r + n_s <= small:
        return merge_statistic(r, s)
    lo = min(float(r.min()), float(s.min()))
    hi = max(float(r.max()), float(s.max()))
    half = 1.0 if np.isfinite(hi - lo) else 0.5  # halve first where the range overflows
    with np.errstate(over="ignore", divide="ignore"):
        scale = grid / (hi * half - lo * half) if hi > lo else 0.0
    if not np.isfinite(scale):  # a range too small to divide by: one cell (then merged)
        scale = 0.0
    # Level 1: t = (v - lo) * scale is monotone in v; the cell is floor(t), the top value clipped in.
    t_r, t_s = (r * half - lo * half) * scale, (s * half - lo * half) * scale
    l_r = np.minimum(t_r.astype(np.int64), grid - 1)  # the cell within its parent (here: the whole range)
    l_s = np.minimum(t_s.astype(np.int64), grid - 1)
    c_r, c_s = l_r, l_s
    cnt_r, cnt_s = np.bincount(c_r, minlength=grid), np.bincount(c_s, minlength=grid)
    br, bs = np.cumsum(cnt_r) - cnt_r, np.cumsum(cnt_s) - cnt_s  # per cell: counts of ALL values below it
    best, first = -1.0, True
    while True:
        end_r, end_s = br + cnt_r, bs + cnt_s
        full = (cnt_r + cnt_s) > 0
        if full.any():  # the exact D at each cell's largest value
            best = max(best, float(np.abs(end_r / n_r - end_s / n_s)[full].max()))
        ub = np.maximum(np.abs(br / n_r - end_s / n_s), np.abs(end_r / n_r - bs / n_s))
        open_ = full & (ub > best - _TOL)
        keep_r, keep_s = open_[c_r], open_[c_s]
        left, here = int(keep_r.sum() + keep_s.sum()), r.size + s.size
        if left == 0:
            return best
        n_open = int(open_.sum())
        rank = np.cumsum(open_) - 1
        r, s, t_r, t_s, l_r, l_s = r[keep_r], s[keep_s], t_r[keep_r], t_s[keep_s], l_r[keep_r], l_s[keep_s]
        c_r, c_s = rank[c_r[keep_r]], rank[c_s[keep_s]]
        br, bs = br[open_], bs[open_]
        if left <= small or (not first and left >= 0.9 * here):  # few left, or the grids stopped splitting
            return max(best, merge_statistic(r, s, (c_r, c_s), (br, bs), (n_r, n_s)))
        # Split each open cell into `sub` cells by where t lies within it, t - l in [0, 1] (monotone
        # within a cell, the clipped top value last; cells of different parents keep their order).
        sub = int(max(2, min(grid, _CELLS // n_open)))
        t_r, t_s = (t_r - l_r) * sub, (t_s - l_s) * sub
        l_r, l_s = np.minimum(t_r.astype(np.int64), sub - 1), np.minimum(t_s.astype(np.int64), sub - 1)
        c_r, c_s = c_r * sub + l_r, c_s * sub + l_s
        k_r = np.bincount(c_r, minlength=n_open * sub).reshape(n_open, sub)
        k_s = np.bincount(c_s, minlength=n_open * sub).reshape(n_open, sub)
        br = (br[:, None] + np.cumsum(k_r, axis=1) - k_r).ravel()
        bs = (bs[:, None] + np.cumsum(k_s, axis=1) - k_s).ravel()
        cnt_r, cnt_s = k_r.ravel(), k_s.ravel()
        first = False
