"""The Anonymeter-method privacy statistics (``synthproof.stats.privacy``): Wilson rates against
scipy, the residual risk and its error propagation, the Gower distance against a loop, the
attacks on hand-made cases, and agreement with anonymeter 1.1.0 itself on real data (values it
produced, tests/fixtures/anonymeter/reference.json)."""

from __future__ import annotations

import json
import pathlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import binomtest

from synthproof.stats import privacy as P

from .fixtures.anonymeter.frames import NUMERIC, frames

REF = json.loads((pathlib.Path(__file__).parent / "fixtures" / "anonymeter" / "reference.json").read_text())
AUX = tuple(REF["aux"])


@given(st.integers(1, 5000), st.floats(0, 1), st.sampled_from([0.9, 0.95, 0.99]))
@settings(max_examples=60, deadline=None)
def test_wilson_rate_is_scipys_wilson_interval(n, share, conf):
    k = int(round(share * n))
    r = P.success_rate(n, k, conf)
    ci = binomtest(k, n).proportion_ci(confidence_level=conf, method="wilson")
    assert r.value - r.error == pytest.approx(ci.low, abs=1e-12)
    assert r.value + r.error == pytest.approx(ci.high, abs=1e-12)


def test_bad_rates_are_refused():
    for args in ((0, 0), (10, 11), (10, -1), (10, 5, 1.0)):
        with pytest.raises(ValueError):
            P.success_rate(*args)
    with pytest.raises(ValueError):
        P.residual_risk(P.Rate(0.5, 0.1), P.Rate(1.0, 0.0))


def test_residual_risk_and_its_propagated_error():
    a, c = P.Rate(0.4, 0.03), P.Rate(0.1, 0.02)
    r = P.residual_risk(a, c)
    assert r.value == pytest.approx((0.4 - 0.1) / 0.9)
    h = 1e-6  # first-order propagation = the finite-difference gradient
    da = (P.residual_risk(P.Rate(0.4 + h, 0), c).value - r.value) / h
    dc = (P.residual_risk(a, P.Rate(0.1 + h, 0)).value - r.value) / h
    assert r.error == pytest.approx(np.hypot(0.03 * da, 0.02 * dc), rel=1e-4)
    assert P.bounded(-0.2, 0.1) == (0.0, 0.0, 0.0) and P.bounded(0.5, 0.7) == (0.5, 0.0, 1.0)
    assert P.residual_risk(P.Rate(0.1, 0), P.Rate(0.3, 0)).value < 0  # the control was easier


@given(st.integers(1, 6), st.integers(1, 7), st.integers(0, 2), st.integers(0, 2), st.integers(0, 2**31))
@settings(max_examples=40, deadline=None)
def test_gower_distance_equals_its_definition(nq, nc, n_num, n_cat, seed):
    rng = np.random.default_rng(seed)
    def make(n):
        num = rng.random((n, n_num))
        num[rng.random((n, n_num)) < 0.2] = np.nan
        return P.Encoded(num, rng.integers(-1, 3, (n, n_cat)))
    q, c = make(nq), make(nc)
    d = P.gower_distances(q, c)
    for i in range(nq):
        for j in range(nc):
            want = sum(1.0 if np.isnan(q.num[i, k]) or np.isnan(c.num[j, k]) else abs(q.num[i, k] - c.num[j, k])
                       for k in range(n_num))
            want += sum(1.0 if q.cat[i, k] < 0 or c.cat[j, k] < 0 or q.cat[i, k] != c.cat[j, k] else 0.0
                        for k in range(n_cat))
            assert d[i, j] == pytest.approx(want)
    idx = P.gower_neighbours(q, c, k=2, chunk=2)
    for i in range(nq):
        assert list(idx[i]) == sorted(range(nc), key=lambda j: (d[i, j], j))[:min(2, nc)]


def test_encoding_shares_scales_and_codes():
    import pandas as pd

    a = pd.DataFrame({"x": [0.0, 10.0], "c": ["u", None]})
    b = pd.DataFrame({"x": [20.0, np.nan], "c": ["v", "u"]})
    ea, eb = P.encode([a, b], ["x"], ["c"])
    assert ea.num[:, 0].tolist() == [0.0, 0.5] and eb.num[0, 0] == 1.0 and np.isnan(eb.num[1, 0])
    assert ea.cat[0, 0] == eb.cat[1, 0] and ea.cat[1, 0] == -1 and eb.cat[0, 0] not in (ea.cat[0, 0], -1)


def _toy():
    syn = P.Encoded(np.array([[0.1], [0.5], [0.9], [0.5]]), np.array([[0, 1], [1, 1], [1, 0], [2, 0]]))
    return syn


def test_singling_out_queries_single_out_one_synthetic_record():
    syn = _toy()
    for n_cols in (1, 2, 3):
        qs = P.singling_out_queries(syn, 50, n_cols, np.random.default_rng(0), max_attempts=500)
        assert qs and len(set(qs)) == len(qs)
        assert all(P.count_matches(q, syn) == 1 for q in qs)
        assert all(len(q) == (1 if n_cols == 1 else min(n_cols, 3)) for q in qs)
    uni = P.singling_out_queries(syn, 50, 1, np.random.default_rng(0))
    assert (("num", 0, "<=", 0.1),) in uni and (("num", 0, ">=", 0.9),) in uni
    assert (("num", 0, "==", 0.5),) not in uni  # 0.5 is seen twice
    assert P.singling_out_successes(uni, syn) == len(uni)


def test_count_matches_is_a_conjunction():
    data = P.Encoded(np.array([[0.2], [0.4], [np.nan]]), np.array([[0], [1], [-1]]))
    assert P.count_matches((("num", 0, "<=", 0.4),), data) == 2
    assert P.count_matches((("num", 0, "<=", 0.4), ("cat", 0, "==", 1)), data) == 1
    assert P.count_matches((("na", 0, "num", None),), data) == 1 == P.count_matches((("na", 0, "cat", None),), data)


def test_guesses_and_links():
    hit = P.guess_successes(np.array([100.0, 100.0, -10.0, np.nan]), np.array([104.0, 106.0, 30.0, np.nan]), True)
    assert hit.tolist() == [True, False, False, True]  # within 5% of the guess; negative guesses by magnitude
    assert P.guess_successes(np.array(["a", None], dtype=object), np.array(["a", "b"], dtype=object), False).tolist() \
        == [True, False]
    syn = P.Encoded(np.array([[0.0, 0.0], [0.3, 0.9], [1.0, 1.0]]), np.zeros((3, 0), dtype=np.int64))
    targets = P.Encoded(np.array([[0.31, 0.88], [0.0, 1.0]]), np.zeros((2, 0), dtype=np.int64))
    split = (([0], []), ([1], []))
    assert P.linkability_successes(targets, syn, split).tolist() == [True, False]


def _ours(syn: str, seed: int = 0) -> dict:
    d = frames()
    cat = [c for c in d["train"].columns if c not in NUMERIC]
    rng = np.random.default_rng(seed)
    dd = {k: v.drop_duplicates().reset_index(drop=True) for k, v in d.items()}
    tr, co, sy = P.encode([dd["train"], dd["control"], dd[syn]], NUMERIC, cat)
    out = {"singling_out_univariate": P.singling_out_risk(tr, co, sy, REF["n_attacks"], 1, rng),
           "singling_out_multivariate": P.singling_out_risk(tr, co, sy, REF["n_attacks"], 3, rng)}
    tr, co, sy = P.encode([d["train"], d["control"], d[syn]], NUMERIC, cat)

    def part(names):
        return [NUMERIC.index(c) for c in names if c in NUMERIC], [cat.index(c) for c in names if c in cat]
    out["linkability"] = P.linkability_risk(tr, co, sy, (part(AUX[0]), part(AUX[1])), REF["n_attacks"], rng)
    for secret in ("income", "age"):
        num, ca = [c for c in NUMERIC if c != secret], [c for c in cat if c != secret]
        a, b, s = P.encode([d["train"], d["control"], d[syn]], num, ca)
        out[f"inference_{secret}"] = P.inference_risk(
            (a, d["train"][secret]), (b, d["control"][secret]), (s, d[syn][secret]),
            (list(range(len(num))), list(range(len(ca)))), secret in NUMERIC, REF["n_attacks"], rng)
    return out


@pytest.mark.parametrize("syn", ["clean", "leaky"])
def test_risks_agree_with_anonymeter(syn):
    """Our risk lies within anonymeter's 95% interval (averaged over its repeats; it samples
    unseeded) for every attack, on a clean SDV output and on one with 30% copied training rows."""
    ours = _ours(syn)
    for attack, runs in REF["results"][syn].items():
        ref = np.mean([r["risk"] for r in runs])
        lo, hi = np.mean([r["ci"][0] for r in runs]), np.mean([r["ci"][1] for r in runs])
        value, low, high = ours[attack].risk.interval()
        assert lo - 1e-9 <= value <= hi + 1e-9, (syn, attack, value, (lo, ref, hi))
        assert ours[attack].attack.value == pytest.approx(np.mean([r["attack"] for r in runs]), abs=0.06)
        if syn == "leaky":
            assert low > 0, (attack, low)  # copies raise every risk above the holdout control
        else:
            assert low == 0.0, (attack, low)


@given(st.integers(2, 60), st.integers(2, 60), st.integers(0, 2**31), st.sampled_from([0.01, 0.1, 0.3]))
@settings(max_examples=60, deadline=None)
def test_tpr_at_fpr_and_auc_match_scikit_learn(n_pos, n_neg, seed, fpr):
    from sklearn.metrics import roc_auc_score, roc_curve

    from synthproof.stats.membership import membership_auc, tpr_at_fpr

    rng = np.random.default_rng(seed)
    scores = np.round(rng.normal(size=n_pos + n_neg), 1)  # ties on purpose
    labels = np.r_[np.ones(n_pos, dtype=int), np.zeros(n_neg, dtype=int)]
    f, t, _ = roc_curve(labels, scores, drop_intermediate=False)
    assert tpr_at_fpr(scores, labels, fpr) == pytest.approx(t[f <= fpr + 1e-12].max())
    auc, p = membership_auc(scores, labels)
    assert auc == pytest.approx(roc_auc_score(labels, scores)) and 0 <= p <= 1


def test_membership_attack_sees_copies():
    from synthproof.stats.membership import membership_auc, membership_scores, tpr_at_fpr

    rng = np.random.default_rng(0)
    members = P.Encoded(rng.random((300, 3)), np.zeros((300, 0), dtype=np.int64))
    others = P.Encoded(rng.random((300, 3)), np.zeros((300, 0), dtype=np.int64))
    fresh = P.Encoded(rng.random((300, 3)), np.zeros((300, 0), dtype=np.int64))
    auc, p = membership_auc(*membership_scores(members, others, fresh))
    assert abs(auc - 0.5) < 0.07 and p > 0.01  # a generator that saw nobody: chance
    leaky = P.Encoded(np.vstack([members.num[:60], fresh.num[60:]]), np.zeros((300, 0), dtype=np.int64))
    scores, labels = membership_scores(members, others, leaky)
    auc, p = membership_auc(scores, labels)
    assert auc > 0.55 and p < 1e-3
    assert tpr_at_fpr(scores, labels, 0.01) >= 0.19  # the 60 copies sit at distance 0
