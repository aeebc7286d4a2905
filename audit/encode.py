"""Shared encodings of the prepared columns: count vectors over a common support, and seeded
matched-size real/real splits drawn directly from those counts.

Counting merges across batches, so these statistics never need the rows together: a numeric column
becomes counts over at most ``max_bins`` ordered bins (exact when the column has at most that many
distinct values; otherwise pooled-quantile bins whose representative is the mean of the values in
the bin — KS error at most the largest bin mass, about ``1/max_bins``); a categorical column
becomes counts per category. The last bin always counts missing values.

A real/real split of ``n`` real rows into a comparison part of ``m`` rows and a reference of
``n - m`` rows is a multivariate hypergeometric draw from the real counts; the synthetic part is a
draw of ``m`` from the synthetic counts (without replacement). Both are exact for sampling rows
without replacement.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from synthproof.sampling import row_priorities, smallest_k
from synthproof.stats.bins import EdgeTable
from synthproof.stats.scale import robust_scale

MAX_BINS = 1024
PAIR_NUMERIC_BINS = 16
PAIR_MAX_CATEGORIES = 30
_EDGE_SAMPLE = 200_000


@dataclass(frozen=True)
class ColumnCounts:
    """Counts of one column on the real and synthetic sides over a shared support.

    Attributes
    ----------
    kind : {"numeric", "categorical"}
    support : ndarray of shape (k,)
        Sorted representative values (numeric) or category labels (categorical), missing excluded.
    real, synthetic : ndarray of int64, shape (k + 1,)
        Counts; index ``k`` counts missing values.
    deciles : ndarray of int, shape (k,)
        For numeric columns: the real-decile group (0..9) of each bin, for PSI/JS.
    scale : float
        Robust scale of the real values (SD; IQR if 0; 1 if constant), numeric only.
    exact : bool
        Whether the bins are the distinct values.
    bounds : ndarray of float, shape (2, 2), optional
        Numeric only: ``[[real_min, real_max], [synthetic_min, synthetic_max]]`` of the finite
        values (NaN for a side without any), exact at any size (min and max merge exactly).
    """

    kind: str
    support: np.ndarray
    real: np.ndarray
    synthetic: np.ndarray
    deciles: np.ndarray
    scale: float
    exact: bool
    bounds: np.ndarray | None = None


def numeric_codes(real: np.ndarray, synthetic: np.ndarray, max_bins: int, seed: int = 0):
    """Bin codes for two float arrays on pooled bins; NaN -> code ``k``.

    Returns ``(codes_real, codes_synthetic, support, exact)``.
    """
    pooled = np.concatenate([real, synthetic])
    ok = ~np.isnan(pooled)
    finite = pooled[ok]
    sample = finite
    if finite.size > _EDGE_SAMPLE:
        # A bottom-k sample of the finite values keyed by (side, row id): the same values whatever
        # the chunking (synthproof.sampling).
        pri = np.concatenate([row_priorities(seed, "real", real.size),
                              row_priorities(seed, "synthetic", synthetic.size)])[ok]
        sample = finite[np.sort(smallest_k(pri, _EDGE_SAMPLE, ordered=False))]
    uniq = np.unique(sample)
    if uniq.size <= max_bins and sample.size < finite.size:
        uniq = np.unique(finite)  # the sample suggests few distinct values: confirm on all of them
    if uniq.size <= max_bins:
        support, exact = uniq, True
        edges = uniq
    else:
        edges = np.unique(np.quantile(sample, np.linspace(0, 1, max_bins + 1)[:-1]))
        exact = False
        support = None
    k = edges.size
    table = EdgeTable(edges)  # clip(searchsorted(edges, x, "right") - 1, 0, k - 1), NaN -> k
    cr, cs = table.codes(real), table.codes(synthetic)
    if support is None:
        both = np.concatenate([cr, cs])
        vals = np.nan_to_num(pooled, nan=0.0)
        sums = np.bincount(both, weights=vals, minlength=k + 1)[:k]
        cnt = np.bincount(both, minlength=k + 1)[:k]
        support = np.where(cnt > 0, sums / np.maximum(cnt, 1), edges)
    return cr, cs, support, exact


def category_codes(real: np.ndarray, synthetic: np.ndarray, max_categories: int | None = None):
    """Codes for two object arrays (or two ``pandas.Categorical``) over the real-frequency-ordered
    union of categories.

    ``None`` -> code ``k`` (missing). With ``max_categories``, categories beyond the most frequent
    (by real count) fold into one ``<other>`` code. Returns ``(codes_real, codes_synthetic, labels)``.
    """
    n = len(real)
    if isinstance(real, pd.Categorical) and isinstance(synthetic, pd.Categorical):
        # Fast path: merge the two (small) category sets and remap integer codes.
        uniques = pd.Index(real.categories).append(pd.Index(synthetic.categories)).unique()
        map_r = np.append(uniques.get_indexer(real.categories), -1)
        map_s = np.append(uniques.get_indexer(synthetic.categories), -1)
        codes = np.concatenate([map_r[real.codes], map_s[synthetic.codes]])
        missing = codes < 0
    else:
        both = np.concatenate([np.asarray(real, dtype=object), np.asarray(synthetic, dtype=object)])
        missing = pd.isna(both)
        codes, uniques = pd.factorize(pd.Series(both, dtype=object), use_na_sentinel=True, sort=False)
    if len(uniques) == 0:
        return np.zeros(n, dtype=np.int64), np.zeros(len(codes) - n, dtype=np.int64), np.array([], dtype=object)
    real_freq = np.bincount(codes[:n][codes[:n] >= 0], minlength=len(uniques))
    syn_freq = np.bincount(codes[n:][codes[n:] >= 0], minlength=len(uniques))
    labels = np.asarray(uniques, dtype=object).astype(str)
    order = np.lexsort((labels, -syn_freq, -real_freq))
    rank = np.empty(len(uniques), dtype=np.int64)
    rank[order] = np.arange(len(uniques))
    labels = labels[order]
    if max_categories is not None and len(uniques) > max_categories:
        rank = np.minimum(rank, max_categories)
        labels = np.append(labels[:max_categories], "<other>")
    k = len(labels)
    mapped = np.where(missing, k, rank[np.maximum(codes, 0)])
    return mapped[:n].astype(np.int64), mapped[n:].astype(np.int64), labels


def deciles_of(real_counts: np.ndarray) -> np.ndarray:
    """The real-decile group (0..9) of each of ``k`` ordered bins from their real counts (shape
    (k + 1,), the last = missing): the group of a bin's lower cumulative mass. Shape (k,), int64."""
    rc = np.asarray(real_counts, dtype=np.int64)[:-1]
    cum = np.cumsum(rc) - rc
    total = max(int(rc.sum()), 1)
    return np.minimum((cum * 10) // total, 9).astype(np.int64)


def column_counts(real: np.ndarray, synthetic: np.ndarray, role: str, seed: int = 0,
                  codes: tuple | None = None) -> ColumnCounts:
    """Build the :class:`ColumnCounts` of one prepared column (see module docstring).

    ``codes`` may pass precomputed :func:`category_codes` of a categorical column, or
    :func:`numeric_codes` (with ``MAX_BINS``) of a numeric one. The audit itself builds counts
    chunk by chunk (:func:`synthproof.plan.columns.build_columns`); this is the in-memory
    reference it is tested against.
    """
    if role in ("numeric", "datetime"):
        cr, cs, support, exact = codes if codes is not None else numeric_codes(real, synthetic, MAX_BINS, seed)
        k = support.size
        rc = np.bincount(cr, minlength=k + 1).astype(np.int64)
        sc = np.bincount(cs, minlength=k + 1).astype(np.int64)
        finite = real[~np.isnan(real)]
        fs = synthetic[~np.isnan(synthetic)]
        bounds = np.array([[x.min(), x.max()] if x.size else [np.nan, np.nan] for x in (finite, fs)])
        return ColumnCounts("numeric", support, rc, sc, deciles_of(rc), robust_scale(finite), exact, bounds)
    cr, cs, labels = codes if codes is not None else category_codes(real, synthetic)
    k = labels.size
    rc = np.bincount(cr, minlength=k + 1).astype(np.int64)
    sc = np.bincount(cs, minlength=k + 1).astype(np.int64)
    return ColumnCounts("categorical", labels, rc, sc, np.zeros(k, dtype=np.int64), 1.0, True)


def coarse_edges(real: np.ndarray, bins: int, min_count: int = 10) -> np.ndarray:
    """Bin edges on REAL values so that every bin holds a stable share of real mass.

    A value holding at least ``1/bins`` of the real mass and ``min_count`` rows (an atom, e.g.
    the zeros of a zero-inflated column) gets a bin of its own; the rest is cut at real quantiles
    into bins of about ``1/bins`` of the mass and at least ``min_count`` rows each. Codes are
    ``searchsorted(edges, x, side="right")``.
    """
    fin = real[~np.isnan(real)]
    if fin.size == 0:
        return np.zeros(0)
    vals, counts = np.unique(fin, return_counts=True)
    atoms = vals[(counts >= fin.size / bins) & (counts >= min_count)]
    rest = fin[~np.isin(fin, atoms)]
    edges = [atoms, np.nextafter(atoms, np.inf)]
    if rest.size:
        k = max(1, min(int(round(bins * rest.size / fin.size)), rest.size // min_count))
        edges.append(np.quantile(rest, np.linspace(0, 1, k + 1)[1:-1]))
    return np.unique(np.concatenate(edges))


def coarse_map(fine_real_counts: np.ndarray, support: np.ndarray, exact: bool, bins: int = PAIR_NUMERIC_BINS,
               min_count: int = 10) -> tuple[np.ndarray, int]:
    """Coarse pair codes of a numeric column's fine bins, from the fine bins' real counts.

    Same rule as :func:`coarse_edges`, applied to the fine bins: with an exact support it is the
    same binning; otherwise coarse edges fall on fine-bin boundaries (1/1024 of the mass).

    Parameters
    ----------
    fine_real_counts : ndarray of int, shape (k + 1,)
        Real counts of the ``k`` fine bins, the last entry missing.
    support : ndarray of float, shape (k,)
    exact : bool

    Returns
    -------
    mapping : ndarray of int64, shape (k + 1,)
        Coarse code of each fine code (fine code ``k``, missing, maps to the last coarse code).
    n_coarse : int
        Number of coarse codes, missing included.
    """
    k_fine = support.size
    counts = np.asarray(fine_real_counts, dtype=float)[:k_fine]
    n = counts.sum()
    if n == 0:
        edges = np.zeros(0)
    else:
        atom = (counts >= n / bins) & (counts >= min_count) if exact else np.zeros(k_fine, dtype=bool)
        atoms = support[atom]
        edges = [atoms, np.nextafter(atoms, np.inf)]
        rest_n = counts[~atom].sum()
        if rest_n:
            k = max(1, min(int(round(bins * rest_n / n)), int(rest_n // min_count)))
            cum = np.cumsum(np.where(atom, 0.0, counts))
            cuts = np.searchsorted(cum, rest_n * np.arange(1, k) / k, side="left")
            edges.append(support[np.minimum(cuts, k_fine - 1)])
        edges = np.unique(np.concatenate(edges))
    k = edges.size + 1
    return np.append(np.searchsorted(edges, support, side="right"), k).astype(np.int64), k + 1


def coarse_from_fine(fine_real: np.ndarray, fine_synthetic: np.ndarray, support: np.ndarray, exact: bool,
                     bins: int = PAIR_NUMERIC_BINS, min_count: int = 10):
    """Per-row coarse pair codes of a numeric column from its fine codes (:func:`coarse_map`).
    Returns ``(codes_real, codes_synthetic, n_codes)``; the last code is missing."""
    counts = np.bincount(fine_real, minlength=support.size + 1)
    mapping, n_codes = coarse_map(counts, support, exact, bins, min_count)
    return mapping[fine_real], mapping[fine_synthetic], n_codes


def category_coarse_map(real_counts: np.ndarray) -> tuple[np.ndarray, int]:
    """Coarse pair codes of a categorical column's codes (ordered by real frequency, the last =
    missing) from their real counts: the 30 most frequent categories holding at least 0.5% of the
    real rows and at least 10 rows keep a code, the rest share ``<other>``; an ``<other>`` or a
    missing code of fewer than 10 rows joins the most frequent category (see :func:`pair_codes`).

    Parameters
    ----------
    real_counts : ndarray of int, shape (k + 1,)

    Returns
    -------
    mapping : ndarray of int64, shape (k + 1,)
    n_coarse : int
    """
    rc = np.asarray(real_counts, dtype=np.int64)
    k = rc.size - 1
    n = int(rc.sum())
    fold = np.arange(k + 1)
    if k > PAIR_MAX_CATEGORIES:  # codes are ordered by real frequency: fold the tail into one code
        fold = np.where(fold == k, PAIR_MAX_CATEGORIES + 1, np.minimum(fold, PAIR_MAX_CATEGORIES))
        k = PAIR_MAX_CATEGORIES + 1
    counts = np.bincount(fold, weights=rc, minlength=k + 1).astype(np.int64)
    small = (counts < 0.005 * n) | (counts < 10)
    keep = np.nonzero(~small[:k])[0]
    remap = np.empty(k + 1, dtype=np.int64)
    remap[keep] = np.arange(keep.size)
    other = keep.size
    remap[np.nonzero(small[:k])[0]] = other
    remap[k] = other + 1
    n_other = int(counts[:k][small[:k]].sum())
    if n_other < 10 and keep.size:  # an <other> bucket of a few rows would dominate chi-square terms
        remap[np.nonzero(small[:k])[0]] = remap[int(np.argmax(counts[:k]))]
    if counts[k] < 10 and keep.size:  # so would a handful of missing values
        remap[k] = remap[int(np.argmax(counts[:k]))]
    return remap[fold], other + 2


def pair_codes(real: np.ndarray, synthetic: np.ndarray, role: str, seed: int = 0,
               codes: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None):
    """Coarse codes for pair tables; missing is the last code.

    Numeric columns: :func:`coarse_edges` with 16 bins (plus one bin below the smallest edge).
    Categorical columns: the 30 most frequent real categories holding at least 0.5% of the real
    rows and at least 10 rows, the rest folded into ``<other>``. Coarse bins keep association
    statistics stable: cells of a few rows make chi-square-based statistics swing between
    independent samples far more than between halves of one sample, which the real/real
    baseline would not see.
    """
    if role in ("numeric", "datetime"):
        edges = coarse_edges(real, PAIR_NUMERIC_BINS)
        k = edges.size + 1

        def code(x):
            return np.where(np.isnan(x), k, np.searchsorted(edges, x, side="right"))

        return code(real).astype(np.int64), code(synthetic).astype(np.int64), k + 1
    cr, cs, labels = codes if codes is not None else category_codes(real, synthetic)
    mapping, n_codes = category_coarse_map(np.bincount(cr, minlength=labels.size + 1))
    return mapping[cr], mapping[cs], n_codes


@dataclass(frozen=True)
class Splits:
    """``R`` matched-size draws: reference ``A`` (n_real - m), real comparison ``B`` (m), synthetic ``S`` (m)."""

    A: np.ndarray
    B: np.ndarray
    S: np.ndarray
    m: int
    n_ref: int


def comparison_size(n_real: int, n_synthetic: int) -> int:
    """Size ``m`` of the compared parts: ``min(n_synthetic, n_real // 2)``."""
    return int(min(n_synthetic, n_real // 2))


def split_counts(real: np.ndarray, synthetic: np.ndarray, n_splits: int, rng: np.random.Generator) -> Splits:
    """Draw ``n_splits`` matched-size splits from count vectors (any shape, flattened).

    Parameters
    ----------
    real, synthetic : ndarray of int, same shape
        Counts over a shared support (a vector, or a contingency table).
    n_splits : int
        ``R``, the number of seeded splits.
    rng : numpy.random.Generator

    Returns
    -------
    Splits with arrays of shape ``(R,) + real.shape``.
    """
    shape = real.shape
    r = np.ascontiguousarray(real, dtype=np.int64).ravel()
    s = np.ascontiguousarray(synthetic, dtype=np.int64).ravel()
    n_r, n_s = int(r.sum()), int(s.sum())
    m = comparison_size(n_r, n_s)
    B = rng.multivariate_hypergeometric(r, m, size=n_splits, method="marginals")
    A = r[None, :] - B
    if m == n_s:
        S = np.broadcast_to(s, (n_splits, s.size)).copy()
    else:
        S = rng.multivariate_hypergeometric(s, m, size=n_splits, method="marginals")
    full = (n_splits,) + shape
    return Splits(A.reshape(full), B.reshape(full), S.reshape(full), m, n_r - m)


def permutation_counts(real: np.ndarray, synthetic: np.ndarray, n_splits: int,
                       rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """The permutation null at the same sizes: from the POOLED real and synthetic counts draw a
    reference of ``n_real - m`` and a comparison part of ``m`` (without replacement).

    Real/real splits are conditional on the one real sample: a configuration that sample happens
    to lack (a rare cell) can never appear in them, though an independent sample — such as a
    faithful synthetic one — shows it by chance. Relabelling the pooled data is the exact null of
    "real and synthetic come from one distribution" and does not have that blind spot.
    Returns ``(A, B)`` of shape ``(R,) + real.shape``.
    """
    shape = real.shape
    r = np.ascontiguousarray(real, dtype=np.int64).ravel()
    s = np.ascontiguousarray(synthetic, dtype=np.int64).ravel()
    n_r, n_s = int(r.sum()), int(s.sum())
    m = comparison_size(n_r, n_s)
    pool = r + s
    A = rng.multivariate_hypergeometric(pool, n_r - m, size=n_splits, method="marginals")
    rest = pool[None, :] - A
    B = np.stack([rng.multivariate_hypergeometric(row, m, method="marginals") for row in rest])
    full = (n_splits,) + shape
    return A.reshape(full), B.reshape(full)
