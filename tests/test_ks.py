"""The grid-pruned exact KS statistic (synthproof.stats.ks): the same float as the plain merge and
as scipy, at every level of the grids, on samples the grids split well and on ones they cannot."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy import stats

from synthproof.stats import ks
from synthproof.stats.distances import ks_statistic

values = st.one_of(
    st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False),
    st.sampled_from([-0.0, 0.0, 1.0, 2.5, 1e-300, -1e-300, 5e-324, 1e300, -1e300]),
)
sample = arrays(np.float64, st.integers(1, 120), elements=values)


def scipy_ks(x, y) -> float:
    with warnings.catch_warnings():  # scipy's p-value of tiny samples may warn; only its statistic is used
        warnings.simplefilter("ignore", RuntimeWarning)
        return float(stats.ks_2samp(x, y, method="asymp").statistic)


@settings(max_examples=300)
@given(sample, sample, st.sampled_from([2, 3, 4, 16, 1 << 16]), st.integers(0, 8))
def test_pruned_equals_the_plain_merge_to_the_bit(x, y, grid, small):
    """Tiny grids and thresholds send small samples through every level and the final merge."""
    want = ks.merge_statistic(x, y)
    assert ks.ks_exact(x, y, grid=grid, small=small) == want
    assert want == scipy_ks(x, y)


def _cases(rng):
    n = 150_000
    yield "normal shift", rng.normal(size=n), rng.normal(0.01, 1, size=n - 17)
    yield "spike and tail", np.where(rng.random(n) < 0.9, rng.normal(0, 1, n), rng.exponential(1e5, n)), \
        np.where(rng.random(n) < 0.9, rng.normal(0, 1.01, n), rng.exponential(1e5, n))
    yield "integers (ties)", rng.integers(0, 90, n).astype(float), rng.integers(0, 91, n).astype(float)
    yield "two values far apart", np.repeat([0.0, 1e12], n // 2), np.repeat([0.0, 1e12], [n // 3, n - n // 3])
    yield "one outlier", np.append(rng.normal(size=n), 1e300), rng.normal(size=n)
    yield "whole float range", np.append(rng.normal(size=n), [-1.7e308, 1.7e308]), rng.normal(size=n)
    yield "subnormal range", rng.integers(0, 50, n) * 5e-324, rng.integers(0, 51, n) * 5e-324
    yield "all equal", np.full(n, 3.0), np.full(n // 2, 3.0)
    yield "signed zeros", np.where(rng.random(n) < 0.5, -0.0, 0.0), np.append(np.zeros(n // 2), np.ones(9))
    yield "disjoint", rng.normal(size=n), rng.normal(100, 1, size=n)
    yield "identical", (z := rng.normal(size=n)), z[::-1].copy()


@pytest.mark.parametrize("case", range(11))
def test_pruned_equals_scipy_on_large_samples(case):
    name, x, y = list(_cases(np.random.default_rng(case)))[case]
    got = ks_statistic(x, y)
    assert got == ks.merge_statistic(x, y) == scipy_ks(x, y), name


def test_pruning_leaves_few_values_on_a_smooth_column(monkeypatch):
    """On a smooth column of 10^5 values per side the final merge sees a small share of them."""
    seen = []
    real_merge = ks.merge_statistic

    def spy(r, s, *a, **k):
        seen.append(r.size + s.size)
        return real_merge(r, s, *a, **k)

    monkeypatch.setattr(ks, "merge_statistic", spy)
    rng = np.random.default_rng(5)
    x, y = rng.normal(size=100_000), rng.normal(0.005, 1, size=100_000)
    assert ks.ks_exact(x, y) == real_merge(x, y)
    assert sum(seen) < 0.05 * 200_000


def test_non_finite_values_are_dropped_and_empty_samples_raise():
    x = np.array([np.nan, 1.0, np.inf, 2.0, -np.inf])
    assert ks_statistic(x, np.array([1.5])) == scipy_ks([1.0, 2.0], [1.5])
    with pytest.raises(ValueError, match="finite"):
        ks_statistic(np.array([np.nan]), np.array([1.0]))
