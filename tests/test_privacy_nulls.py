"""The exact nulls of the privacy checks, each against its reference or a brute-force definition:
Fisher's exact test (scipy), the Mann–Whitney AUC null (scipy), the relabelling nulls of singling
out and rare-combination replay (loops over explicit relabellings), PII replay rates and keys."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import fisher_exact, mannwhitneyu

from synthproof.calibration import Discrete
from synthproof.checks.privacy._setup import fisher_null, raw_risk
from synthproof.checks.privacy.membership import auc_null
from synthproof.stats.pii import combination_codes, pii_records, rare_replay, replay_rates, replayed
from synthproof.stats.privacy import (Encoded, count_matches, neighbourhood_queries, query_matches,
                                      singling_out_permutation)


@given(n=st.integers(1, 60), a=st.integers(0, 60), c=st.integers(0, 60))
@settings(max_examples=200, deadline=None)
def test_fisher_null_is_scipys_one_sided_exact_test(n, a, c):
    a, c = min(a, n), min(c, n)
    if a + c == 2 * n:
        return
    dist = fisher_null(n, a + c)
    want = fisher_exact([[a, n - a], [c, n - c]], alternative="greater").pvalue
    assert dist.sf(float(raw_risk(a, c, n))) == pytest.approx(want, rel=1e-9, abs=1e-12)


def test_raw_risk_definition():
    assert float(raw_risk(74, 2, 2000)) == pytest.approx((74 - 2) / (2000 - 2))
    assert float(raw_risk(5, 10, 10)) == -5.0  # a control that always succeeds leaves nothing to gain
    assert float(raw_risk(0, 5, 10)) == pytest.approx(-1.0)


def test_discrete_quantiles():
    d = Discrete(np.array([2.0, 0.0, 1.0]), np.array([0.25, 0.5, 0.25]))
    assert d.sf(0.0) == 1.0 and d.sf(1.0) == 0.5 and d.sf(1.5) == 0.25 and d.sf(3.0) == 0.0
    assert d.ppf(0.4) == 0.0 and d.ppf(0.5) == 0.0 and d.ppf(0.6) == 1.0 and d.ppf(1.0) == 2.0


@given(st.lists(st.integers(0, 6), min_size=4, max_size=60), st.integers(0, 2**31))
@settings(max_examples=100, deadline=None)
def test_auc_null_variance_gives_scipys_mann_whitney_p(values, seed):
    rng = np.random.default_rng(seed)
    scores = np.asarray(values, dtype=float)
    n_pos = len(scores) // 2
    labels = rng.permutation(np.r_[np.ones(n_pos), np.zeros(len(scores) - n_pos)])
    pos, neg = scores[labels == 1], scores[labels == 0]
    if np.unique(scores).size < 2:
        return
    res = mannwhitneyu(pos, neg, alternative="greater", method="asymptotic", use_continuity=False)
    auc = res.statistic / (len(pos) * len(neg))
    assert auc_null(scores, len(pos), len(neg)).sf(auc) == pytest.approx(res.pvalue, rel=1e-7, abs=1e-12)


def _encoded(rng, n):
    return Encoded(np.round(rng.random((n, 2)), 1), rng.integers(0, 3, (n, 2)))


def test_singling_out_permutation_matches_explicit_relabellings():
    rng = np.random.default_rng(0)
    train, control, syn = _encoded(rng, 40), _encoded(rng, 40), _encoded(rng, 60)
    queries = [(("num", 0, ">=", float(v)), ("cat", 1, "==", int(k))) for v, k in zip(syn.num[:30, 0], syn.cat[:30, 1])]
    a, c, nt, nc = singling_out_permutation(queries, train, control, 30, np.random.default_rng(5), max_matches=10_000)
    assert a == sum(count_matches(q, train) == 1 for q in queries)
    assert c == sum(count_matches(q, control) == 1 for q in queries)
    pooled = Encoded(np.vstack([train.num, control.num]), np.vstack([train.cat, control.cat]))
    base = np.concatenate([np.ones(40), np.zeros(40)])
    labels = np.random.default_rng(5).permuted(np.tile(base, (30, 1)), axis=1)  # the same draws, chunk of 50
    for r in range(30):
        t_half, c_half = pooled.take(labels[r] == 1), pooled.take(labels[r] == 0)
        assert nt[r] == sum(count_matches(q, t_half) == 1 for q in queries)
        assert nc[r] == sum(count_matches(q, c_half) == 1 for q in queries)


def test_query_matches_and_neighbourhood_queries():
    syn = Encoded(np.array([[0.10, np.nan], [0.50, 0.2], [0.52, 0.2], [0.9, 0.9]]), np.array([[0], [1], [1], [-1]]))
    q = (("num", 0, ">=", 0.45), ("cat", 0, "==", 1))
    assert query_matches(q, syn).tolist() == [1, 2]
    qs = neighbourhood_queries(syn, 10, 0.05, np.random.default_rng(0))
    # rows 1 and 2 lie within 0.05 of each other on every column: neither isolates itself
    assert sorted(query_matches(x, syn).tolist()[0] for x in qs) == [0, 3]
    assert all(count_matches(x, syn) == 1 for x in qs)
    assert ("na", 1, "num", None) in qs[0] and ("na", 0, "cat", None) in qs[1]


def test_rare_replay_matches_its_definition():
    rng = np.random.default_rng(1)
    t, c, s = (pd.DataFrame({"a": rng.integers(0, 6, n), "b": rng.integers(0, 4, n)}) for n in (80, 80, 50))
    ct, cc, cs = combination_codes([t, c, s], ["a", "b"])

    def hits(codes):
        counts = pd.Series(codes).value_counts()
        rare = set(counts[counts < 3].index)
        return sum(x in rare for x in cs)
    a, k, nt, nc = rare_replay(ct, cc, cs, 3, 20, np.random.default_rng(2))
    assert (a, k) == (hits(ct), hits(cc))
    pooled, r = np.concatenate([ct, cc]), np.random.default_rng(2)
    for i in range(20):
        perm = r.permutation(160)
        assert (nt[i], nc[i]) == (hits(pooled[perm[:80]]), hits(pooled[perm[80:]]))


def test_pii_records_and_replay_rates():
    real = ["ana@example.org", "call (415) 555-2671", None, "ana@example.org", "nothing", "x"]
    syn = ["ANA@example.org", "bob@example.org", "415-555-2671", "", "ok"]
    rr, kr, keys_r = pii_records(real)
    rs, ks, keys_s = pii_records(syn)
    assert rr.tolist() == [0, 1, 3] and kr.tolist() == [0, 1, 0] and keys_r.dtype == np.uint64
    assert replayed(keys_s, rs, keys_r).tolist() == [0, 2]  # normalised: case and phone format
    value, loo = replay_rates((rr, keys_r), 6, (rs, keys_s), 5)
    assert value == pytest.approx(2 / 5)
    assert loo == pytest.approx(2 / 6)  # the two real records sharing ana@ replay each other
