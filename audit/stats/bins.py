"""Bin codes of float values on sorted edges, by a table on a monotone grid instead of a binary search.

``codes = clip(searchsorted(edges, x, "right") - 1, 0, k - 1)``, ``k`` for NaN — the fine bins of
:class:`synthproof.plan.columns.CodeMap` — costs a binary search per value (about ten unpredictable
branches for 1,024 edges). Here both the values and the edges go through one monotone cell function
(``min(max((v - e_0) * scale, 0), G - 1)`` truncated: a subtraction, a multiplication, a clip and a
floor, each monotone in floating point), so every edge in an earlier cell is below ``v`` and every
edge in a later cell above it: ``#edges <= v`` is the number of edges before ``v``'s cell plus one
comparison with the cell's only edge. The values of the few cells holding several edges fall back
to the binary search. Same integers as ``searchsorted``, tested.
"""

from __future__ import annotations

import numpy as np

_MULTI = np.iinfo(np.int64).min // 2  # marks a cell with two or more edges (the values there are searched)


class EdgeTable:
    """Fine codes of values on ``edges`` (sorted, distinct, finite float64, shape (k,), k >= 1).

    Parameters
    ----------
    edges : ndarray of float64, shape (k,)
    cells : int
        Grid cells (default ``64 * k``, at most 2**18): more cells, fewer multi-edge cells.
    """

    def __init__(self, edges: np.ndarray, cells: int | None = None):
        self.edges = np.asarray(edges, dtype=np.float64)
        k = self.k = self.edges.size
        lo, hi = (float(self.edges[0]), float(self.edges[-1])) if k else (0.0, 0.0)
        g = self.cells = int(cells or min(1 << 18, max(64 * k, 2)))
        with np.errstate(over="ignore", divide="ignore"):
            scale = g / (hi - lo) if hi > lo else 0.0
        self.usable = k >= 2 and np.isfinite(scale) and np.isfinite(hi - lo)
        if not self.usable:
            return
        self.lo, self.scale = lo, scale
        ce = self._cell(self.edges)
        count = np.bincount(ce, minlength=g)
        first = np.cumsum(count) - count  # edges in earlier cells
        self.base = np.where(count >= 2, _MULTI, first - 1)
        self.threshold = np.full(g, np.nan)  # no edge: v >= NaN is False
        one = count == 1
        self.threshold[one] = self.edges[first[one]]

    def _cell(self, x: np.ndarray) -> np.ndarray:
        with np.errstate(over="ignore"):  # far values overflow to +-inf: still in order, clipped below
            t = (x - self.lo) * self.scale
        np.fmin(t, self.cells - 1, out=t)  # NaN -> the last cell (its code is replaced below)
        np.fmax(t, 0.0, out=t)
        return t.astype(np.int64)

    def codes(self, x: np.ndarray) -> np.ndarray:
        """Fine codes of ``x``.

        Parameters
        ----------
        x : array-like of float, shape (n,)
            Values in the edges' unit; NaN is missing, +-inf fall in the last and first bin.

        Returns
        -------
        ndarray of int64, shape (n,)
            ``clip(searchsorted(edges, x, "right") - 1, 0, k - 1)`` in ``0..k-1``, ``k`` for NaN
            (reference: ``numpy.searchsorted``); ``x`` is not modified.
        """
        x = np.asarray(x, dtype=np.float64)
        if not self.usable:
            c = np.clip(np.searchsorted(self.edges, x, side="right") - 1, 0, max(self.k - 1, 0))
            return np.where(np.isnan(x), self.k, c).astype(np.int64)
        cell = self._cell(x)
        c = self.base[cell]
        c += x >= self.threshold[cell]
        multi = c < -1
        if multi.any():
            c[multi] = np.searchsorted(self.edges, x[multi], side="right") - 1
        np.maximum(c, 0, out=c)
        nan = np.isnan(x)
        if nan.any():
            c[nan] = self.k
        return c
