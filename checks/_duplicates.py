"""What the duplicate-row checks of two families share: the compared columns, the cached row
hashes, the duplicate-row rate with its exact real null, and that null's baseline band.

``duplication.exact_duplicates`` and ``diversity.unique_rows`` judge the same rate (one as a
duplicate share, the other as a unique-row deficit); ``duplication.exact_copies`` and the distance
checks compare rows on the same columns. The pure statistics are in :mod:`synthproof.stats`.
"""

from __future__ import annotations

import numpy as np

from synthproof.calibration import RateNull
from synthproof.errors import IncomputableError
from synthproof.stats.duplicates import expected_duplicate_rate
from synthproof.stats.rowhashes import SideHashes, distinct, distinct_among, multiplicity_histogram
from synthproof.stats.hashing import canonical_hashes

#: Fewest rows per side for a row comparison of the duplication family.
MIN_ROWS = 10


def feature_columns(ctx) -> list[str]:
    """The feature columns rows are compared on (``ctx.data.features``).

    Raises
    ------
    IncomputableError
        No feature column (``no_applicable_columns``).
    """
    cols = ctx.data.features
    if not cols:
        raise IncomputableError("no_applicable_columns", "no feature column to compare rows on")
    return cols


def row_hashes(ctx) -> tuple[SideHashes, SideHashes]:
    """Canonical hashes (:func:`synthproof.stats.hashing.canonical_hashes`) of every real and
    synthetic row over :func:`feature_columns` (artefact ``row_hashes``): in memory, or spilled to
    partition files by the planner out of core (:mod:`synthproof.stats.rowhashes`)."""
    cols = feature_columns(ctx)
    d = ctx.prepared  # the artefact itself is what the check reads (built by the planner out of core)
    return ctx.artefact("row_hashes", "features", lambda: (SideHashes.of(canonical_hashes(d.real, cols, d.roles)),
                                                           SideHashes.of(canonical_hashes(d.synthetic, cols, d.roles))))


def duplicate_rates(ctx, n_splits: int) -> tuple[float, float, np.ndarray, int, float]:
    """The duplicate-row rate of the synthetic data and its real null, shared (cached) by
    ``duplication.exact_duplicates`` and ``diversity.unique_rows``.

    Every synthetic row is checked against every other synthetic row: ``full`` is the rate of all
    ``n_s`` synthetic rows. The null is the rate a without-replacement sample of ``m = min(n_s,
    n_r)`` real rows shows, computed exactly from the real multiplicities
    (:func:`synthproof.stats.duplicates.expected_duplicate_rate`). When the synthetic data is
    larger than the real table, the rate at ``m`` is the median over ``n_splits`` seeded synthetic
    samples of ``m`` rows (a rate grows with the size of the set it is counted in).

    Returns
    -------
    full : float
        Duplicate-row rate of all synthetic rows.
    matched : float
        The synthetic rate at ``m`` rows (``full`` when ``n_s <= n_r``).
    null_rate : float
        The expected real rate at ``m`` rows.
    m : int
    floor : float
        ``0.5 / max(n_r, m)``: the null rate floor (half a duplicate), so that one stray duplicate is
        not significant where the real table has none.

    Raises
    ------
    IncomputableError
        Fewer than ``MIN_ROWS`` rows on a side.
    """
    def build():
        hr, hs = row_hashes(ctx)
        m = int(min(hs.n, hr.n))
        if m < MIN_ROWS:
            raise IncomputableError("too_few_rows", f"only {m} rows to compare")
        full = 1.0 - distinct(hs) / hs.n
        if m == hs.n:
            matched = full
        else:
            rng = ctx.rng("duplication.exact_duplicates")
            picks = [np.sort(rng.choice(hs.n, m, replace=False)) for _ in range(n_splits)]
            matched = float(np.median([1.0 - d / m for d in distinct_among(hs, picks)]))
        mult, how_many = multiplicity_histogram(hr)
        null_rate = expected_duplicate_rate(mult, m, weights=how_many)
        return full, matched, null_rate, m, 0.5 / max(hr.n, m)

    return ctx.artefact("row_hashes", f"duplicate_rates:{n_splits}", build)


def null_rates(null: RateNull) -> np.ndarray:
    """199 quantiles of a binomial rate null: the baseline band reported beside an exact null (its
    median is the null's median rate, ``ci_low``/``ci_high`` its central 95%)."""
    from scipy.stats import binom

    return binom.ppf(np.linspace(0.005, 0.995, 199), null.m, null.p0) / null.m
