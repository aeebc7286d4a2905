"""Drift statistics against scipy references, the identical/disjoint/near/far quartet, invariants."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy import stats
from scipy.spatial.distance import jensenshannon
from scipy.stats.contingency import association

from synthproof.checks.drift import _stats as S
from synthproof.stats import distances as D
from synthproof.stats import scale

rng = np.random.default_rng(0)
finite = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)
samples = arrays(np.float64, st.integers(1, 60), elements=finite)


@pytest.mark.parametrize("seed", range(5))
def test_ks_matches_scipy(seed):
    r = np.random.default_rng(seed)
    x, y = r.normal(size=300), r.normal(0.3, 1.2, size=170)
    assert D.ks_statistic(x, y) == pytest.approx(stats.ks_2samp(x, y).statistic, abs=1e-12)
    xi, yi = r.integers(0, 7, 200).astype(float), r.integers(0, 9, 150).astype(float)  # ties
    assert D.ks_statistic(xi, yi) == pytest.approx(stats.ks_2samp(xi, yi).statistic, abs=1e-12)


tied = arrays(np.float64, st.integers(1, 80), elements=st.sampled_from([-2.0, -0.0, 0.0, 0.5, 1.0, 3.0, 1e6]))


@given(st.one_of(samples, tied), st.one_of(samples, tied), st.lists(st.sampled_from([np.nan, np.inf, -np.inf]),
                                                                     max_size=3))
def test_ks_is_scipys_value_to_the_bit(x, y, junk):
    """Not only close: the same floats as scipy's CDF differences (asymp mode, where scipy keeps that
    value; its exact mode re-derives it from the lattice), with non-finite values dropped."""
    import warnings

    with warnings.catch_warnings():  # scipy's p-value of tiny samples may warn; only its statistic is used
        warnings.simplefilter("ignore", RuntimeWarning)
        want = stats.ks_2samp(x, y, method="asymp").statistic
    assert D.ks_statistic(np.append(x, junk), y[::-1]) == want


def test_ks_merge_equals_counts_form():
    r = np.random.default_rng(3)
    x, y = r.normal(size=20_000), r.normal(0.01, 1, size=17_000)
    x[::7] = np.round(x[::7], 1)
    p, q, _ = D.joint_counts(x, y)
    assert D.ks_statistic(x, y) == pytest.approx(float(D.ks_from_counts(p, q)), abs=1e-12)


@pytest.mark.parametrize("seed", range(5))
def test_wasserstein_matches_scipy(seed):
    r = np.random.default_rng(seed)
    x, y = r.exponential(size=250), r.normal(1, 2, size=90)
    p, q, support = D.joint_counts(x, y)
    assert S.wasserstein_from_counts(p, q, support) == pytest.approx(stats.wasserstein_distance(x, y), rel=1e-9)
    assert S.normalized_wasserstein(x, y) == pytest.approx(stats.wasserstein_distance(x, y) / np.std(x), rel=1e-9)


def test_js_and_tvd_match_references():
    p = np.array([10, 0, 5, 85])
    q = np.array([3, 7, 0, 90])
    assert D.js_distance_from_counts(p, q) == pytest.approx(jensenshannon(p / p.sum(), q / q.sum(), base=2), abs=1e-12)
    assert D.tvd_from_counts(p, q) == pytest.approx(0.5 * np.abs(p / 100 - q / 100).sum())
    a = np.array(["a"] * 10 + ["b"] * 5 + [None] * 5, dtype=object)
    b = np.array(["a"] * 5 + ["c"] * 15, dtype=object)
    # categories a, b, c, missing: real (.5, .25, 0, .25) vs synthetic (.25, 0, .75, 0)
    assert D.total_variation_distance(a, b) == pytest.approx(0.75)
    ref = jensenshannon([0.5, 0.25, 0, 0.25], [0.25, 0, 0.75, 0], base=2)
    assert S.jensen_shannon_distance(a, b) == pytest.approx(ref)


def test_psi_hand_computed():
    real = np.arange(100, dtype=float)
    syn = np.concatenate([np.arange(50, dtype=float), [np.nan] * 50])
    # deciles of 0..99: first 5 bins hold syn's 50 values (10 each), missing bin 50.
    p = np.array([0.1] * 10 + [1e-4])
    q = np.array([0.1] * 5 + [1e-4] * 5 + [0.5])
    expected = float(np.sum((q - p) * np.log(q / p)))
    assert S.population_stability_index(real, syn) == pytest.approx(expected, rel=1e-9)


def test_cramers_v_and_spearman_match_scipy():
    r = np.random.default_rng(3)
    t = r.integers(0, 30, size=(4, 5))
    assert S.cramers_v_from_table(t) == pytest.approx(association(t, method="cramer"), rel=1e-9)
    x = r.integers(0, 6, 500)
    y = np.clip(x + r.integers(-2, 3, 500), 0, 7)
    table = np.zeros((6, 8))
    np.add.at(table, (x, y), 1)
    assert S.spearman_from_table(table) == pytest.approx(stats.spearmanr(x, y).statistic, rel=1e-9)


def test_smd():
    x = np.array([0.0, 1.0, 2.0, 3.0])
    assert S.standardized_mean_difference(x, x + 1.0) == pytest.approx(1.0 / np.std(x))
    assert scale.robust_scale(np.ones(5)) == 1.0


@pytest.mark.parametrize(
    "fn",
    [D.ks_statistic, S.normalized_wasserstein, S.population_stability_index, D.total_variation_distance,
     S.jensen_shannon_distance],
)
def test_quartet_identical_near_far_disjoint(fn):
    categorical = fn in (D.total_variation_distance, S.jensen_shannon_distance)
    base = np.random.default_rng(1).normal(size=2000)
    if categorical:  # category frequencies: shift whole categories
        base = np.round(base * 2)
    identical = fn(base, base.copy())
    near = fn(base, base + (1.0 if categorical else 0.05))
    far = fn(base, base + (4.0 if categorical else 1.0))
    assert identical == pytest.approx(0.0, abs=1e-12)
    assert identical <= near < far
    if fn in (D.ks_statistic, D.total_variation_distance, S.jensen_shannon_distance):
        assert fn(base, base + 100.0) == pytest.approx(1.0)  # disjoint supports


@given(samples, samples)
def test_ks_tvd_js_range_and_symmetry(x, y):
    ks = D.ks_statistic(x, y)
    assert 0.0 <= ks <= 1.0
    assert ks == pytest.approx(D.ks_statistic(y, x))
    p, q, _ = D.joint_counts(x, y)
    for f in (D.tvd_from_counts, D.js_distance_from_counts):
        v = float(f(p, q))
        assert 0.0 <= v <= 1.0 + 1e-12
        assert v == pytest.approx(float(f(q, p)), abs=1e-12)


@given(samples)
def test_zero_distance_on_identical(x):
    assert D.ks_statistic(x, x) == 0.0
    assert S.normalized_wasserstein(x, x) == pytest.approx(0.0, abs=1e-12)
    assert S.population_stability_index(x, x) == pytest.approx(0.0, abs=1e-12)


def test_count_functions_broadcast_over_splits():
    p = rng.integers(0, 50, size=(7, 12))
    q = rng.integers(0, 50, size=(7, 12))
    vec = D.ks_from_counts(p, q)
    assert vec.shape == (7,)
    assert vec[3] == pytest.approx(D.ks_from_counts(p[3], q[3]))


def test_errors_on_empty():
    with pytest.raises(ValueError):
        D.ks_statistic(np.array([np.nan]), np.array([1.0]))


def test_rank_auc_matches_sklearn():
    from sklearn.metrics import roc_auc_score

    from synthproof.stats.auc import rank_auc

    r = np.random.default_rng(4)
    y = r.integers(0, 2, 400)
    s = np.round(r.normal(size=400) + 0.4 * y, 1)  # ties
    assert rank_auc(s, y) == pytest.approx(roc_auc_score(y, s), abs=1e-12)
