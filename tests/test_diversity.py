"""Diversity: pure statistics against reference definitions, real/real passes, mode collapse and tail
loss fail — at 200 rows per side (UCI Adult) and 26,970 (ggplot2 diamonds)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import synthproof
from synthproof.apps import defects
from synthproof.checks.diversity import _stats
from synthproof.stats import coverage as category_stats

from .conftest import real_real

ALL = ["diversity.category_coverage", "diversity.tail_retention", "diversity.unique_rows", "diversity.prdc"]
ADULT_NUMERIC = ["age", "fnlwgt", "education_num", "capital_gain", "capital_loss", "hours_per_week"]


def listed(ids):
    return {"suite": "listed", "checks": {c: {} for c in ids}}


def failing(result, check_id):
    f = result.findings
    return bool(((f.check_id == check_id) & (f.status == "fail")).any())


def prdc_reference(real, fake, k):
    """Naeem et al. (2020) written out loop by loop, with <= for ball membership."""
    def radius(x):
        d = np.sqrt(((x[:, None, :] - x[None, :, :]) ** 2).sum(-1))
        return np.sort(d, axis=1)[:, k]

    rr, rf = radius(real), radius(fake)
    d = np.sqrt(((real[:, None, :] - fake[None, :, :]) ** 2).sum(-1))
    precision = np.mean([any(d[i, j] <= rr[i] for i in range(len(real))) for j in range(len(fake))])
    recall = np.mean([any(d[i, j] <= rf[j] for j in range(len(fake))) for i in range(len(real))])
    density = np.mean([sum(d[i, j] <= rr[i] for i in range(len(real))) for j in range(len(fake))]) / k
    coverage = np.mean([d[i].min() <= rr[i] for i in range(len(real))])
    return dict(precision=precision, recall=recall, density=density, coverage=coverage)


def test_prdc_matches_reference():
    rng = np.random.default_rng(0)
    real, fake = rng.normal(size=(60, 3)), rng.normal(0.5, 1.2, size=(50, 3))
    got, ref = _stats.prdc(real, fake, 5), prdc_reference(real, fake, 5)
    for key in ref:
        assert got[key] == pytest.approx(ref[key])


@given(arrays(np.float64, (30, 2), elements=st.floats(-5, 5)))
def test_prdc_identical_sets_give_one(x):
    got = _stats.prdc(x, x.copy(), 5)
    assert got["precision"] == got["recall"] == got["coverage"] == 1.0
    assert got["density"] >= 1.0


def test_prdc_mode_collapse_lowers_recall_and_coverage():
    rng = np.random.default_rng(1)
    real = rng.normal(size=(500, 4))
    collapsed = real[rng.choice(20, 500)] + rng.normal(0, 0.01, size=(500, 4))
    got = _stats.prdc(real, collapsed, 5)
    assert got["coverage"] < 0.5 and got["recall"] < 0.5 and got["precision"] > 0.9


def test_tail_retention_definition():
    x = np.arange(1000.0)  # continuous: 10 values below the 1st and 10 above the 99th percentile
    counts = np.ones(1000)
    assert _stats.tail_bins(counts).sum() == 20
    assert _stats.tail_retention(counts, counts) == pytest.approx(1.0)
    clipped = np.bincount(np.clip(x, 50, 949).astype(int), minlength=1000)
    assert _stats.tail_retention(counts, clipped) == 0.0
    heavy = counts.copy()
    heavy[:10] *= 3
    assert _stats.tail_retention(counts, heavy) == pytest.approx((40 / 1020) / 0.02)


@given(arrays(np.int64, 12, elements=st.integers(0, 50)), arrays(np.int64, 12, elements=st.integers(0, 50)))
def test_coverage_ranges(a, b):
    mm = category_stats.missing_mass(a, b)
    cov = category_stats.category_coverage(a, b)
    assert 0 <= mm <= 1 and 0 <= cov <= 1
    assert category_stats.missing_mass(a, a) == 0
    if (a > 0).any():
        # SDMetrics CategoryCoverage: share of real categories present in synthetic
        assert cov == pytest.approx(len(set(np.nonzero(a)[0]) & set(np.nonzero(b)[0])) / len(np.nonzero(a)[0]))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_real_real_adult_200_passes(adult, seed):
    r, s = real_real(adult, 200, seed)
    f = synthproof.audit(r, s, config=listed(ALL)).findings
    assert not f.status.isin(["fail", "error"]).any(), f[f.status.isin(["fail", "error"])].message.tolist()


def test_defects_fail_adult_200(adult):
    r, s = real_real(adult, 200, 0)
    rng = np.random.default_rng(0)
    collapsed = synthproof.audit(r, defects.jittered_mode_collapse(r, 200, rng), config=listed(ALL))
    assert failing(collapsed, "diversity.prdc") and failing(collapsed, "diversity.category_coverage")
    clipped = synthproof.audit(r, defects.clip_tails(s, ADULT_NUMERIC), config=listed(ALL))
    f = clipped.findings
    pooled = f[(f.check_id == "diversity.tail_retention") & (f.scope == "dataset") & f.column.isna()
               & (f.metric == "tail_loss")]
    assert pooled.status.iloc[0] == "fail"
    assert json.loads(pooled.evidence.iloc[0])["tail_retention"] == 0.0
    dropped = synthproof.audit(r, defects.drop_category(s, "race", "Black"), config=listed(ALL))
    assert failing(dropped, "diversity.category_coverage")


@pytest.mark.slow
def test_diamonds_27k(diamonds):
    half = len(diamonds) // 2
    r, s = real_real(diamonds, half, 0)
    rng = np.random.default_rng(0)
    ok = synthproof.audit(r, s, config=listed(ALL)).findings
    assert not ok.status.isin(["fail", "error"]).any(), ok[ok.status.isin(["fail", "error"])].message.tolist()
    # PRDC sees collapse at the resolution of its equal-size samples (2,000 rows): 2,697 jittered
    # sources look diverse to it, so at this size the gate catches collapse through the synthetic
    # rows' own nearest-neighbour distances (duplication.near_duplicates).
    collapsed = synthproof.audit(r, defects.jittered_mode_collapse(r, half, rng),
                                 config=listed(ALL + ["duplication.near_duplicates"]))
    assert failing(collapsed, "duplication.near_duplicates")
    assert not collapsed.passed
    clipped = synthproof.audit(r, defects.clip_tails(s, ["carat", "price", "x", "y", "z", "depth", "table"]),
                               config=listed(["diversity.tail_retention"])).findings
    per_col = clipped[(clipped.scope == "column") & (clipped.status == "fail")]
    assert {"carat", "price", "depth"} <= set(per_col.column)


def test_unique_rows_warns_only(adult):
    r, s = real_real(adult, 500, 0)
    dup = defects.duplicate_rows(s, 0.2, np.random.default_rng(0))
    f = synthproof.audit(r, dup, config=listed(["diversity.unique_rows"])).findings
    row = f[f.check_id == "diversity.unique_rows"].iloc[0]
    assert row.status == "warn" and row.severity == "warn"
    m = len(dup)
    assert json.loads(row.evidence)["synthetic_unique_ratio"] == pytest.approx(
        synthproof.audit(r, dup, config=listed(["duplication.exact_duplicates"])).findings.value.iloc[0] * -1 + 1, abs=1e-9)
    assert json.loads(row.evidence)["synthetic_unique_ratio"] < 0.9 and m == 500


def test_tail_retention_ignores_missing_values(adult):
    """A column with 30% missing values on both sides keeps retention ~1 (review finding: missing
    rows were counted as lost tails)."""
    r, s = real_real(adult, 8000, 0)
    rng = np.random.default_rng(0)
    r, s = r.copy(), s.copy()
    for df in (r, s):
        df.loc[rng.random(len(df)) < 0.3, "age"] = np.nan
    f = synthproof.audit(r, s, config=listed(["diversity.tail_retention"])).findings
    row = f[(f.column == "age") & (f.metric == "tail_loss")].iloc[0]
    assert abs(json.loads(row.evidence)["tail_retention"] - 1.0) < 0.35
    assert row.status == "pass"


def test_prdc_skips_features_with_too_few_distinct_rows(adult):
    r, s = real_real(adult[["sex", "income"]], 500, 1)  # at most 4 distinct rows: every k-NN ball has radius 0
    res = synthproof.audit(r, s, config=listed(["diversity.prdc"]))
    f = res.findings[res.findings.check_id == "diversity.prdc"]
    assert list(f.status) == ["skipped"] and f.reason_code.iloc[0] == "too_few_rows"
    assert "distinct feature rows" in f.message.iloc[0]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(-5, 5), min_size=1, max_size=60), st.lists(st.floats(0, 1), min_size=1, max_size=5))
def test_quantile_from_counts_equals_numpy_quantile(xs, qs):
    from synthproof.stats.quantiles import quantile_from_counts

    x = np.array(xs, dtype=float) * 1.5
    values, counts = np.unique(x, return_counts=True)
    assert np.allclose(quantile_from_counts(values, counts, qs), np.quantile(x, qs), rtol=0, atol=1e-12)
