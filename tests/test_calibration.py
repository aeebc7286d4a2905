"""The decision rule: Holm, Benjamini–Hochberg, fitted nulls and the fail/warn/pass logic."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from synthproof.calibration import Comparison, bh_reject, fit_null, holm_levels, judge


def test_holm_known_example():
    p = np.array([0.01, 0.04, 0.03, 0.005])
    reject, level = holm_levels(p, 0.05)
    # sorted: .005 <= .05/4, .01 <= .05/3, .03 > .05/2 -> stop
    assert reject.tolist() == [True, False, False, True]
    assert level.tolist() == pytest.approx([0.05 / 3, 0.05 / 1, 0.05 / 2, 0.05 / 4])


def test_bh_known_example():
    p = np.array([0.001, 0.008, 0.039, 0.041, 0.042, 0.06, 0.074, 0.205])
    # BH at .05 with m=8: thresholds .00625 .0125 .01875 .025 .03125 .0375 .04375 .05 -> largest k=2
    assert bh_reject(p, 0.05).tolist() == [True, True] + [False] * 6


@given(st.lists(st.floats(0, 1), min_size=1, max_size=30), st.floats(0.001, 0.2))
def test_holm_never_rejects_more_than_bh(p, alpha):
    p = np.array(p)
    holm, _ = holm_levels(p, alpha)
    assert not np.any(holm & ~bh_reject(p, alpha))


def test_fit_null_gamma_matches_moments_and_degenerate():
    b = np.random.default_rng(0).gamma(3.0, 0.1, size=5000)
    d = fit_null(b, "gamma")
    assert d.mean() == pytest.approx(b.mean(), rel=1e-9)
    assert d.var() == pytest.approx(b.var(ddof=1), rel=1e-9)
    point = fit_null(np.zeros(20), "gamma")
    assert point.sf(0.0) == 1.0
    assert point.sf(0.1) == 0.0
    with pytest.raises(ValueError):
        fit_null(np.array([1.0]), "gamma")


def _cmp(value, loc=0.1, scale=0.01, min_effect=0.05):
    base = np.random.default_rng(1).normal(loc, scale, size=200).clip(0)
    return Comparison(value, base, min_effect)


def test_judge_statuses():
    out = judge([_cmp(0.1), _cmp(0.5), _cmp(0.14), _cmp(0.2, scale=0.2)], alpha=0.01)
    statuses = [v.status for v in out]
    reasons = [v.reason_code for v in out]
    assert statuses[0] == "pass"
    assert (statuses[1], reasons[1]) == ("fail", "beyond_baseline")
    assert (statuses[2], reasons[2]) == ("warn", "below_min_effect")  # significant but < min effect
    assert (statuses[3], reasons[3]) == ("pass", "underpowered")  # large effect, noisy baseline
    assert out[1].threshold > out[1].baseline_median
    assert out[0].ci_low <= out[0].baseline_median <= out[0].ci_high


def test_judge_real_like_false_alarm_rate():
    """Values drawn from the baseline's own distribution rarely fail (Holm at 5% over 10 tests)."""
    rng = np.random.default_rng(5)
    fails = 0
    for _ in range(300):
        comps = []
        for _ in range(10):
            draws = rng.gamma(4.0, 0.02, size=101)
            comps.append(Comparison(float(draws[0]), draws[1:], 0.0))
        fails += any(v.status == "fail" for v in judge(comps, alpha=0.05))
    assert fails / 300 <= 0.08


def test_light_distributions_match_scipy_stats():
    from scipy import stats

    from synthproof.calibration import Gamma, Normal, RateNull

    g, ref = Gamma(2.5, 0.4), stats.gamma(a=2.5, scale=0.4)
    for x in (0.1, 1.0, 3.0):
        assert g.sf(x) == pytest.approx(ref.sf(x), rel=1e-10)
    assert g.ppf(0.999) == pytest.approx(ref.ppf(0.999), rel=1e-10)
    n, nref = Normal(0.5, 0.02), stats.norm(0.5, 0.02)
    assert n.sf(0.55) == pytest.approx(nref.sf(0.55), rel=1e-10)
    assert n.ppf(0.9999) == pytest.approx(nref.ppf(0.9999), rel=1e-10)
    r = RateNull(np.full(20, 0.02), 100)
    assert r.sf(0.05) == pytest.approx(stats.binom(100, 0.02).sf(4), rel=1e-10)  # P(X >= 5)
    assert r.ppf(0.99) == pytest.approx(stats.binom(100, 0.02).ppf(0.99) / 100)
    assert r.sf(0.0) == 1.0 and r.sf(2.0) == 0.0
