"""Shared encodings and matched-size splits."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from synthproof.encode import coarse_edges, column_counts, comparison_size, numeric_codes, pair_codes, split_counts


def test_split_counts_sizes_and_conservation():
    rng = np.random.default_rng(0)
    real = np.array([50, 30, 0, 20])
    syn = np.array([10, 10, 10, 70])
    sp = split_counts(real, syn, 25, rng)
    assert sp.m == comparison_size(100, 100) == 50
    assert np.all(sp.A + sp.B == real)
    assert np.all(sp.B.sum(axis=1) == 50)
    assert np.all(sp.S.sum(axis=1) == 50)
    assert np.all(sp.S <= syn)


def test_split_counts_is_hypergeometric():
    """The count of one bin in B follows the hypergeometric law of sampling rows without replacement."""
    rng = np.random.default_rng(1)
    real = np.array([300, 700])
    sp = split_counts(real, np.array([500, 500]), 4000, rng)
    b0 = sp.B[:, 0]
    ref = stats.hypergeom(1000, 300, 500)
    assert b0.mean() == pytest.approx(ref.mean(), rel=0.01)
    assert b0.var() == pytest.approx(ref.var(), rel=0.1)


def test_split_counts_tables_keep_shape():
    sp = split_counts(np.ones((3, 4), dtype=int) * 5, np.ones((3, 4), dtype=int) * 5, 20, np.random.default_rng(0))
    assert sp.A.shape == (20, 3, 4)


def test_numeric_codes_exact_for_few_values_and_binned_otherwise():
    r = np.array([1.0, 2.0, 2.0, np.nan])
    s = np.array([3.0, 1.0])
    cr, cs, support, exact = numeric_codes(r, s, 10)
    assert exact and support.tolist() == [1.0, 2.0, 3.0]
    assert cr.tolist() == [0, 1, 1, 3] and cs.tolist() == [2, 0]
    big = np.random.default_rng(0).normal(size=5000)
    cr, cs, support, exact = numeric_codes(big, big, 100)
    assert not exact and support.size <= 100
    assert np.all(np.diff(support) > 0)


def test_column_counts_missing_bin_and_deciles():
    real = np.concatenate([np.arange(100.0), [np.nan] * 10])
    cc = column_counts(real, real, "numeric")
    assert cc.real[-1] == 10 and cc.real.sum() == 110
    assert set(cc.deciles.tolist()) == set(range(10))
    cat = column_counts(np.array(["a", "b", None, "a"], dtype=object), np.array(["c"], dtype=object), "categorical")
    assert cat.support.tolist() == ["a", "b", "c"]
    assert cat.real.tolist() == [2, 1, 0, 1]


def test_coarse_edges_give_atoms_their_own_bin():
    x = np.concatenate([np.zeros(950), np.arange(1.0, 51.0)])
    edges = coarse_edges(x, 16)
    codes = np.searchsorted(edges, x, side="right")
    assert len(set(codes[:950])) == 1
    assert set(codes[950:]).isdisjoint(set(codes[:950]))
    r, s, k = pair_codes(x, x, "numeric")
    assert r.max() < k


def test_pair_codes_fold_rare_categories():
    real = np.array(["a"] * 500 + ["b"] * 470 + [f"r{i}" for i in range(30)], dtype=object)
    r, s, k = pair_codes(real, real, "categorical")
    assert k == 4  # a, b, <other>, missing
    assert r[-1] == r[-2] == 2 and r[0] == 0
    tiny = np.array(["a"] * 500 + ["b"] * 498 + ["rare1", "rare2"], dtype=object)
    r, _, _ = pair_codes(tiny, tiny, "categorical")
    assert r[-1] == r[-2] == r[0]  # an <other> of 2 rows joins the largest category


def test_coarse_from_fine_matches_coarse_edges_on_exact_support():
    from synthproof.encode import coarse_from_fine

    r = np.random.default_rng(2)
    x = np.concatenate([np.zeros(900), r.integers(1, 60, 600).astype(float), [np.nan] * 5])
    y = np.concatenate([np.zeros(800), r.integers(1, 80, 700).astype(float)])
    fr, fs, support, exact = numeric_codes(x, y, 1024)
    assert exact
    cr, cs, k = coarse_from_fine(fr, fs, support, exact)
    ref_r, ref_s, k_ref = pair_codes(x, y, "numeric")
    assert k == k_ref
    assert np.array_equal(cr, ref_r) and np.array_equal(cs, ref_s)


def test_pair_tables_from_triples_equal_one_bincount_per_pair():
    """The three-way tables' margins give every pair table exactly (each pair claimed once), also
    with a column too wide for any triple (its pairs counted alone) and with threads."""
    from concurrent.futures import ThreadPoolExecutor
    from itertools import combinations
    from types import SimpleNamespace

    from synthproof.plan.columns import TRIPLE_CELLS, _add_tables, triple_cover

    rng = np.random.default_rng(5)
    sizes = {f"c{i}": int(k) for i, k in enumerate(rng.integers(2, 18, 11))}
    sizes["wide"] = TRIPLE_CELLS // 4 + 1  # no triple with it fits
    cols = list(sizes)
    pairs = list(combinations(cols, 2))
    jobs = triple_cover(pairs, sizes)
    claimed = [p for _, c in jobs for p in c]
    assert sorted(claimed) == sorted(pairs) and len(claimed) == len(set(claimed))
    assert sum(len(j) == 3 for j, _ in jobs) <= len(pairs) // 2 and all(len(j) == 2 for j, _ in jobs if "wide" in j)
    n = 20_000
    codes = {c: rng.integers(0, k, n) for c, k in sizes.items()}
    maps = {c: SimpleNamespace(n_coarse=k) for c, k in sizes.items()}
    for pool in (None, ThreadPoolExecutor(2)):
        tables = {p: np.zeros((2, sizes[p[0]], sizes[p[1]]), np.int64) for p in pairs}
        _add_tables(tables, codes, maps, pairs, 1, pool, 10**9)
        for a, b in pairs:
            want = np.bincount(codes[a] * sizes[b] + codes[b], minlength=sizes[a] * sizes[b]).reshape(sizes[a], -1)
            assert np.array_equal(tables[(a, b)][1], want) and not tables[(a, b)][0].any()


def test_distinct_value_shortcut_gives_the_full_scan_outcome():
    """_numeric_scan gives up exact bins when its first values alone hold more than MAX_BINS
    distinct values; a column with few distinct values at first and many later, one with exactly
    MAX_BINS and one continuous get the outcome of counting every distinct value."""
    import pandas as pd

    from synthproof.encode import MAX_BINS
    from synthproof.plan.columns import _HEAD, build_columns, frame_chunks

    rng = np.random.default_rng(2)
    n = 3 * _HEAD
    late = np.concatenate([np.zeros(_HEAD + 10), rng.integers(0, 5_000, n - _HEAD - 10)]).astype(float)
    few = rng.permutation(np.arange(n) % MAX_BINS).astype(float)
    frames = {s: pd.DataFrame({"late": late, "few": few, "many": rng.normal(size=n)}) for s in ("real", "synthetic")}
    roles = dict.fromkeys(frames["real"].columns, "numeric")
    art = build_columns(frame_chunks(frames, list(roles)), roles, list(roles), 0)
    assert art.counts["few"].exact and np.array_equal(art.counts["few"].support, np.unique(few))
    assert np.array_equal(art.counts["few"].real[:-1], np.bincount(few.astype(int)))
    assert not art.counts["late"].exact and not art.counts["many"].exact
