"""Bottom-k samples keyed by row id (synthproof.sampling): chunking-invariant, uniform, nested."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from synthproof.sampling import (
    bottom_k,
    merge_bottom_k,
    priorities,
    row_priorities,
    sample_key,
    sample_rows,
)


@settings(max_examples=60, deadline=None)
@given(n=st.integers(0, 3000), k=st.integers(0, 400), cuts=st.lists(st.integers(0, 3000), max_size=8),
       seed=st.integers(0, 2**31))
def test_bottom_k_of_chunks_merges_to_bottom_k_of_all(n, k, cuts, seed):
    key = sample_key(seed, "real", "c2st")
    ids = np.arange(n, dtype=np.int64)
    edges = sorted({0, n, *[c for c in cuts if c <= n]})
    parts = [bottom_k(ids[a:b], k, key) for a, b in zip(edges[:-1], edges[1:])]
    assert np.array_equal(merge_bottom_k(parts, k, key), bottom_k(ids, k, key))


def test_priorities_are_a_bijection_and_keyed():
    ids = np.arange(200_000, dtype=np.int64)
    p = priorities(ids, sample_key(0, "real", "x"))
    assert p.dtype == np.uint64 and np.unique(p).size == ids.size
    q = priorities(ids, sample_key(0, "synthetic", "x"))
    assert not np.array_equal(np.argsort(p)[:100], np.argsort(q)[:100])
    assert sample_key(0, "real", "x") != sample_key(1, "real", "x") != sample_key(0, "real", "y")


def test_sample_is_uniform_over_rows():
    # Each of 50 rows is drawn by 5-of-50 samples under 4,000 seeds about 400 times (binomial).
    counts = np.zeros(50)
    for seed in range(4000):
        counts[sample_rows(50, 5, seed, "real", "u")] += 1
    assert counts.sum() == 20_000
    p = stats.chisquare(counts).pvalue
    assert p > 1e-4, (p, counts.min(), counts.max())


def test_samples_are_nested_when_rows_are_added():
    # A row sampled from n + extra rows that lies among the first n is in the sample of the first n:
    # adding a shard never swaps rows of the old shards in and out (rng.choice over positions does).
    small = set(sample_rows(10_000, 500, 3, "synthetic", "dcr").tolist())
    big = sample_rows(12_000, 500, 3, "synthetic", "dcr")
    assert set(big[big < 10_000].tolist()) <= small


def test_bottom_k_gives_disjoint_uniform_parts_and_sample_rows_sorted():
    r = bottom_k(np.arange(1000), 300, sample_key(0, "real", "dcr"))  # priority order, as ctx.ranked
    assert r.size == 300 and np.unique(r).size == 300
    assert np.array_equal(np.sort(r), sample_rows(1000, 300, 0, "real", "dcr"))
    assert np.array_equal(sample_rows(7, 10, 0, "real", "x"), np.arange(7))
    with pytest.raises(ValueError, match="k must be >= 0"):
        bottom_k(np.arange(3), -1, 0)


def test_row_priorities_cached_and_read_only():
    a = row_priorities(0, "real", 1000)
    assert a is row_priorities(0, "real", 1000) and not a.flags.writeable
    assert np.array_equal(a, priorities(np.arange(1000), sample_key(0, "real", "bin_edges")))


def test_context_sample_matches_sample_rows(adult):
    import pyarrow as pa

    from synthproof.context import AuditContext
    from synthproof.schema import prepare

    from .conftest import real_real

    real, synthetic = real_real(adult, 300, 0)
    data = prepare(pa.Table.from_pandas(real, preserve_index=False),
                   pa.Table.from_pandas(synthetic, preserve_index=False), None)
    ctx = AuditContext(data=data, seed=7)
    n = len(data.real)
    assert np.array_equal(ctx.sample("real", 50, "drift.detection_auc"),
                          sample_rows(n, 50, 7, "real", "drift.detection_auc"))
    labelled = np.arange(0, n, 3)
    sub = ctx.sample("real", 20, "bias.utility", ids=labelled)
    assert set(sub.tolist()) <= set(labelled.tolist()) and sub.size == 20


@settings(max_examples=80, deadline=None)
@given(n=st.integers(0, 5000), k=st.integers(0, 600), skew=st.booleans(), seed=st.integers(0, 2**31))
def test_smallest_k_is_exact_with_or_without_the_candidate_shortcut(n, k, skew, seed):
    from synthproof.sampling import smallest_k

    rng = np.random.default_rng(seed)
    pri = rng.integers(0, 2**63, size=n, dtype=np.uint64) * np.uint64(2)
    if skew:  # all priorities high: the candidate bound keeps fewer than k, the fallback must run
        pri = pri | np.uint64(1 << 63)
    want = np.argsort(pri, kind="stable")[:k]
    assert np.array_equal(smallest_k(pri, k), want)
    assert set(smallest_k(pri, k, ordered=False).tolist()) == set(want.tolist())
