"""Fine bin codes by the monotone-grid table (synthproof.stats.bins) equal the binary search."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from synthproof.stats.bins import EdgeTable

values = st.one_of(
    st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False),
    st.sampled_from([np.nan, np.inf, -np.inf, -0.0, 0.0, 1.0, 2.5, 5e-324, 1e300, -1e300]),
)


def searched(edges, x):
    k = edges.size
    c = np.clip(np.searchsorted(edges, x, side="right") - 1, 0, max(k - 1, 0))
    return np.where(np.isnan(x), k, c).astype(np.int64)


@settings(max_examples=300)
@given(arrays(np.float64, st.integers(1, 40), elements=st.floats(-1e6, 1e6, allow_nan=False)),
       arrays(np.float64, st.integers(0, 200), elements=values), st.sampled_from([None, 2, 3, 7, 64]))
def test_table_codes_equal_searchsorted(edges, x, cells):
    """Tiny grids put many edges in one cell (the searched fallback), large ones one per cell."""
    edges = np.unique(edges + 0.0)  # sorted, distinct (-0.0 and 0.0 are one edge)
    x = np.concatenate([x, edges, np.nextafter(edges, np.inf), np.nextafter(edges, -np.inf)])
    table = EdgeTable(edges, cells)
    got = table.codes(x)
    assert got.dtype == np.int64 and np.array_equal(got, searched(edges, x))


@pytest.mark.parametrize("edges", [
    np.unique(np.quantile(np.random.default_rng(0).lognormal(0, 3, 50_000), np.linspace(0, 1, 1025)[:-1])),
    np.arange(1.0, 17.0),  # an exact column: its distinct values
    np.array([-1.7e308, 0.0, 1.7e308]),  # a range that overflows: searched
    np.array([3.0]),  # one edge
    np.array([0.0, 5e-324, 1e-323]),  # a range too small to divide by
])
def test_table_codes_on_real_shapes(edges):
    rng = np.random.default_rng(1)
    x = np.concatenate([rng.lognormal(0, 3, 100_000), rng.choice(edges, 1000), [np.nan, np.inf, -np.inf, -1e308]])
    assert np.array_equal(EdgeTable(edges).codes(x), searched(edges, x))
