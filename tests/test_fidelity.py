"""α-precision, β-recall and authenticity (``synthproof.stats.fidelity``) against loops written
from the definitions in Alaa et al. (ICML 2022), their relabelling nulls against explicit
relabellings, and the two checks on Adult (copied training rows raise the unauthentic share
against the training rows, not against the holdout)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from synthproof.stats import fidelity as F


def _points(seed, n, d=3, decimals=12):
    return np.round(np.random.default_rng(seed).normal(size=(n, d)), decimals)


def _dist(a, b):
    return np.sqrt(((a[:, None, :] - b[None, :, :]) ** 2).sum(-1))


@given(st.integers(0, 10_000), st.integers(5, 25), st.integers(5, 25))
@settings(max_examples=40, deadline=None)
def test_unauthentic_and_curves_follow_the_definitions(seed, n, m):
    real, syn = _points(seed, n, decimals=12), _points(seed + 1, m, decimals=12)  # equidistant pairs: measure zero
    rr = _dist(real, real)
    np.fill_diagonal(rr, np.inf)
    own = rr.min(axis=1)
    sr = _dist(syn, real)
    want = np.array([sr[i].min() < own[np.argmin(sr[i])] for i in range(m)])
    assert (F.unauthentic(real, syn) == want).all()
    grid = F.alphas(7)
    center = real.mean(0)
    radii = np.quantile(np.linalg.norm(real - center, axis=1), grid)
    prec = [np.mean(np.linalg.norm(syn - center, axis=1) <= r) for r in radii]
    assert F.precision_curve(real, syn, grid) == pytest.approx(prec)
    rs = _dist(real, syn)
    j = rs.argmin(axis=1)
    closest_d = np.linalg.norm(syn[j] - syn.mean(0), axis=1)
    rad_s = np.quantile(closest_d, grid)
    rec = [np.mean((rs.min(axis=1) <= own) & (closest_d <= r)) for r in rad_s]
    assert F.recall_curve(real, syn, grid) == pytest.approx(rec)
    assert F.delta(grid, grid) == 1.0
    assert F.delta(np.zeros_like(grid), grid) == pytest.approx(0.0)


def test_relabelled_nulls_match_explicit_relabellings():
    real, pooled = _points(1, 30, decimals=12), _points(2, 40, decimals=12)  # no ties: neighbour order is unique
    grid = F.alphas(10)
    dp, dr = F.relabelled_deltas(real, pooled, 20, 15, np.random.default_rng(3), grid, k=40)
    rng = np.random.default_rng(3)
    for r in range(15):
        member = np.zeros(40, dtype=bool)
        member[rng.choice(40, 20, replace=False)] = True
        part = pooled[member]
        assert dp[r] == pytest.approx(F.delta(F.precision_curve(real, part, grid), grid))
        assert dr[r] == pytest.approx(F.delta(F.recall_curve(real, part, grid), grid))


def test_unauthentic_relabelled_matches_explicit_relabellings():
    pooled, syn = _points(4, 40, decimals=12), _points(5, 25, decimals=12)
    a, c, nt, nc = F.unauthentic_relabelled(pooled, 20, syn, 12, np.random.default_rng(6), k=39)
    assert (a, c) == (F.unauthentic(pooled[:20], syn).sum(), F.unauthentic(pooled[20:], syn).sum())
    member = np.zeros(40, dtype=bool)
    member[:20] = True
    rng = np.random.default_rng(6)
    for r in range(12):
        m = rng.permutation(member)
        assert (nt[r], nc[r]) == (F.unauthentic(pooled[m], syn).sum(), F.unauthentic(pooled[~m], syn).sum())


def test_checks_on_adult_copies():
    import synthproof
    from synthproof.apps.defects import copy_real_rows_noisy
    from synthproof.datasets import load

    train = load("adult", split="train").iloc[:3000].reset_index(drop=True)
    hold = load("adult", split="holdout").iloc[:3000].reset_index(drop=True)
    clean = load("adult_sdv_gaussiancopula").iloc[:3000].reset_index(drop=True)
    cfg = {"select": {"checks": ["duplication.authenticity", "diversity.alpha_precision"]}}
    out = {}
    for name, syn in (("clean", clean), ("copies", copy_real_rows_noisy(clean, train, 0.2, 0.0, np.random.default_rng(0))),
                      ("real", hold.iloc[1500:].reset_index(drop=True))):
        h = hold.iloc[:1500].reset_index(drop=True) if name == "real" else hold
        f = synthproof.audit(train, syn, holdout=h, config=cfg).findings
        out[name] = f[(f.scope == "dataset") & f.p_value.notna()].set_index("metric")
    a = out["copies"].loc["unauthentic_share"]
    assert a.status == "warn" and a.reason_code == "beyond_baseline"  # warn-only by default
    assert a.matched_value > out["clean"].loc["unauthentic_share"].matched_value + 0.1
    assert (out["real"].status == "pass").all()
    # the GaussianCopula output is less faithful than real data: both losses beyond relabelled real
    assert out["clean"].loc["alpha_precision_loss"].status == "warn"
