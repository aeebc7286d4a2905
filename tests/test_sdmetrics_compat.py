"""SDMetrics-compatible scores (drift.sdmetrics_quality) against values produced by sdmetrics 0.32 itself.

The fixture ``tests/fixtures/sdmetrics_0_32_reference.json`` and its input tables were written by
``scripts/generate_sdmetrics_reference.py`` in a separate venv (sdmetrics 0.32.0, pandas 2.3.3).
"""

from __future__ import annotations

import json
import math
import pathlib

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

import synthproof
from synthproof.check import registry
from synthproof.checks.drift import sdmetrics_compat as sc
from synthproof.config import parse_config

FIXTURES = pathlib.Path(__file__).parent / "fixtures"
REFERENCE = json.loads((FIXTURES / "sdmetrics_0_32_reference.json").read_text(encoding="utf-8"))
PAIRS = sorted(REFERENCE["pairs"])
#: Observed max |ours - sdmetrics| is 3.3e-16 (summation order); 1e-9 leaves room for BLAS/numpy versions.
TOL = 1e-9
CHECK = "drift.sdmetrics_quality"


def _tables(pair: str) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    ref = REFERENCE["pairs"][pair]
    real = pq.read_table(FIXTURES / ref["files"]["real"]).to_pandas()
    syn = pq.read_table(FIXTURES / ref["files"]["synthetic"]).to_pandas()
    return real, syn, ref


def _close(ours: float, theirs: float | None) -> bool:
    if theirs is None:
        return math.isnan(ours)
    return abs(ours - theirs) <= TOL


def test_fixture_provenance_and_size():
    assert REFERENCE["versions"]["sdmetrics"] == sc.SDMETRICS_VERSION
    assert REFERENCE["versions"]["pandas"].startswith("2.")
    assert REFERENCE["generator"] == "scripts/generate_sdmetrics_reference.py"
    assert sum(p.stat().st_size for p in FIXTURES.iterdir()) < 300_000
    kinds = {t for ref in REFERENCE["pairs"].values() for t in ref["metadata"].values()}
    assert kinds == {"numerical", "categorical", "boolean", "datetime"}


@pytest.mark.parametrize("pair", PAIRS)
def test_synthproof_roles_are_the_fixture_sdtypes(pair):
    real, syn, ref = _tables(pair)
    res = synthproof.audit(real, syn, config={"suite": "listed", "checks": {CHECK: {}}})
    roles = {c: r["role"] for c, r in res.manifest["columns"].items()}
    assert sc.sdtypes_from_roles(roles, list(ref["metadata"])) == ref["metadata"]


@pytest.mark.parametrize("pair", PAIRS)
def test_pure_functions_equal_sdmetrics(pair):
    real, syn, ref = _tables(pair)
    md = ref["metadata"]
    shapes, details = sc.column_shapes(real, syn, md)
    assert _close(shapes, ref["column_shapes"]["score"])
    for ours, theirs in zip(details, ref["column_shapes"]["details"], strict=True):
        assert (ours["column"], ours["metric"]) == (theirs["column"], theirs["metric"])
        assert _close(ours["score"], theirs["score"]), ours
    for d in ref["direct"]:
        fn = sc.ks_complement if d["metric"] == "KSComplement" else sc.tv_complement
        assert _close(fn(real[d["column"]], syn[d["column"]]), d["score"]), d

    trends, pairs = sc.column_pair_trends(real, syn, md)
    assert _close(trends, ref["column_pair_trends"]["score"])
    trends0, pairs0 = sc.column_pair_trends(real, syn, md, 0, 0)
    assert _close(trends0, ref["column_pair_trends"]["score_all_pairs"])
    for ours, ours0, theirs in zip(pairs, pairs0, ref["column_pair_trends"]["details"], strict=True):
        assert (ours["column_1"], ours["column_2"], ours["metric"]) == (
            theirs["column_1"], theirs["column_2"], theirs["metric"])
        assert _close(ours["score"], theirs["score"]), theirs
        assert _close(ours0["score"], theirs["score"]), theirs
        assert ours["contributes"] == bool(theirs["meets_threshold"]), theirs
        if theirs["metric"] == "CorrelationSimilarity":
            assert _close(ours["real_correlation"], theirs["real_correlation"])
            assert _close(ours["synthetic_correlation"], theirs["synthetic_correlation"])
        else:
            assert _close(ours["real_association"], theirs["real_association"]), theirs
        assert (ours["error"] is None) == (theirs["error"] is None), theirs
        assert _close(ours["score"] if ours["contributes"] else math.nan, theirs["score_thresholded"]), theirs
    assert _close(sc.quality_score(shapes, trends), ref["overall_score"])
    assert _close(sc.quality_score(shapes, trends0), ref["overall_score_all_pairs"])


@pytest.mark.parametrize("pair", PAIRS)
def test_metric_api_equals_sdmetrics(pair):
    real, syn, ref = _tables(pair)
    for d in ref["metric_api"]["contingency_continuous"]:
        a, b = d["columns"]
        got = sc.contingency_similarity(real[[a, b]], syn[[a, b]], continuous=d["continuous"])
        assert _close(got, d["score"]), d
    for d in ref["metric_api"]["correlation_spearman"]:
        a, b = d["columns"]
        assert _close(sc.correlation_similarity(real[[a, b]], syn[[a, b]], "spearman"), d["score"]), d


@pytest.mark.parametrize("pair", PAIRS)
def test_check_findings_equal_sdmetrics(pair):
    real, syn, ref = _tables(pair)
    res = synthproof.audit(real, syn, config={"suite": "listed", "checks": {CHECK: {"severity": "fail"}}})
    f = res.findings[res.findings["check_id"] == CHECK]
    assert set(f["status"]) <= {"pass", "skipped"}
    ds = f[f["scope"] == "dataset"].set_index("metric")["value"]
    assert _close(ds["column_shapes"], ref["column_shapes"]["score"])
    assert _close(ds["column_pair_trends"], ref["column_pair_trends"]["score"])
    assert _close(ds["sdmetrics_quality_score"], ref["overall_score"])
    cols = f[f["scope"] == "column"].set_index("column")
    for d in ref["column_shapes"]["details"]:
        row = cols.loc[d["column"]]
        assert row["metric"] == {"KSComplement": "ks_complement", "TVComplement": "tv_complement"}[d["metric"]]
        assert _close(row["value"], d["score"]), d
    pairs = f[f["scope"] == "column_pair"].set_index("column")
    assert len(pairs) == len(ref["column_pair_trends"]["details"])
    for d in ref["column_pair_trends"]["details"]:
        row = pairs.loc[f"{d['column_1']}|{d['column_2']}"]
        assert row["metric"] == {"CorrelationSimilarity": "correlation_similarity",
                                 "ContingencySimilarity": "contingency_similarity"}[d["metric"]]
        if d["score"] is None:
            assert row["status"] == "skipped" and math.isnan(row["value"])
        else:
            assert row["status"] == "pass" and _close(row["value"], d["score"]), d
        assert json.loads(row["evidence"])["contributes_to_column_pair_trends"] == bool(d["meets_threshold"])


# -- unit tests ----------------------------------------------------------------------------------
def test_identical_data_scores_one():
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"x": rng.normal(size=300), "y": rng.normal(size=300), "c": rng.choice(["a", "b", None], 300),
                       "t": pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 10**6, 300), unit="s")})
    md = {"x": "numerical", "y": "numerical", "c": "categorical", "t": "datetime"}
    assert sc.ks_complement(df["x"], df["x"]) == 1.0
    assert sc.ks_complement(df["t"], df["t"]) == 1.0
    assert sc.tv_complement(df["c"], df["c"]) == 1.0
    assert sc.correlation_similarity(df[["x", "y"]], df[["x", "y"]]) == 1.0
    assert sc.contingency_similarity(df[["c", "x"]], df[["c", "x"]], continuous=["x"]) == 1.0
    assert sc.column_shapes(df, df.copy(), md)[0] == 1.0
    score, pairs = sc.column_pair_trends(df, df.copy(), md, 0, 0)
    assert score == pytest.approx(1.0, abs=1e-15) and all(p["score"] == pytest.approx(1.0, abs=1e-15) for p in pairs)


def test_tv_complement_disjoint_and_hand_computed():
    # Disjoint categories: SDMetrics gives each synthetic-only category a real count of 1e-6,
    # so the score is k*1e-6 / (n_real + k*1e-6), not exactly 0.
    got = sc.tv_complement(["a"] * 10, ["b", "c"] * 5)
    assert got == pytest.approx(2e-6 / (10 + 2e-6), rel=1e-9) and got < 1e-6
    # Shares (a, b) = (0.5, 0.5) vs (0.75, 0.25): TVD 0.25. Missing values are dropped.
    assert sc.tv_complement(["a", "b", None, "a", "b"], ["a", "a", "a", "b", np.nan]) == pytest.approx(0.75)
    assert math.isnan(sc.tv_complement([None, None], ["a"]))
    assert sc.tv_complement([True, False, True, True], [True, False]) == pytest.approx(0.75)


def test_ks_complement_hand_computed():
    assert sc.ks_complement([1, 2, 3], [2, 3, 4]) == pytest.approx(2 / 3)
    assert sc.ks_complement([1.0, np.nan, 2.0], [1.0, 2.0, np.nan, np.nan]) == 1.0
    assert sc.ks_complement([0, 1], [5, 6]) == 0.0
    assert math.isnan(sc.ks_complement([np.nan], [1.0]))
    t = pd.to_datetime(pd.Series(["2020-01-01", "2020-01-02", None, "2020-01-03"]))
    u = pd.to_datetime(pd.Series(["2020-01-02", "2020-01-03", "2020-01-04"]))
    assert sc.ks_complement(t, u) == pytest.approx(2 / 3)


def test_correlation_and_contingency_hand_computed():
    x = np.arange(10.0)
    real = pd.DataFrame({"a": x, "b": 2 * x + 1})
    anti = pd.DataFrame({"a": x, "b": -x})
    assert sc.correlation_similarity(real, anti) == pytest.approx(0.0, abs=1e-15)  # r = 1 vs -1
    with_nan = real.copy()
    with_nan.loc[3, "a"] = np.nan  # dropped row-wise: still r = 1
    assert sc.correlation_similarity(with_nan, real) == pytest.approx(1.0)
    const = pd.DataFrame({"a": x, "b": np.ones(10)})
    assert math.isnan(sc.correlation_similarity(real, const))  # SDMetrics: ConstantInputError
    # Joint shares {(a,x): .5, (b,y): .5} vs {(a,x): .5, (a,y): .25, (NaN,y): .25}: TVD 0.5.
    r = pd.DataFrame({"p": ["a", "b", "a", "b"], "q": ["x", "y", "x", "y"]})
    s = pd.DataFrame({"p": ["a", "a", None, "a"], "q": ["x", "y", "y", "x"]})
    assert sc.contingency_similarity(r, s) == pytest.approx(0.5)


def test_report_bins_share_the_maximum_with_missing():
    # QualityReport binning: 10 equal-width bins of the side's own range; the maximum and NaN get 11.
    codes = sc.report_bins(np.array([0.0, 0.5, 9.99, 10.0, np.nan]))
    assert codes.tolist() == [1, 1, 10, 11, 11]
    # Metric API binning: the REAL range, open outer edges.
    r, s = sc.metric_bins(np.array([0.0, 10.0, np.nan]), np.array([-5.0, 10.0, 50.0]))
    assert r.tolist() == [1, 10, 11] and s.tolist() == [1, 10, 10]


def test_pairwise_pearson_matches_per_pair_with_missing_values():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(500, 4)) @ rng.normal(size=(4, 4)) + 1e6
    x[rng.random(x.shape) < 0.1] = np.nan
    x[:, 3] = np.where(np.isnan(x[:, 3]), np.nan, 7.0)  # constant where present
    r = sc.pairwise_pearson(x)
    from scipy.stats import pearsonr

    for i in range(4):
        for j in range(i + 1, 4):
            keep = ~(np.isnan(x[:, i]) | np.isnan(x[:, j]))
            if j == 3:
                assert math.isnan(r[i, j])
            else:
                assert r[i, j] == pytest.approx(pearsonr(x[keep, i], x[keep, j])[0], abs=1e-12)


def test_registered_in_default_suite_and_never_gates():
    assert CHECK in registry()
    cls = registry()[CHECK]
    assert cls.statistical is False and cls.default_severity == "warn" and cls.goal == "maximize"
    assert CHECK in [c.id for c in parse_config({}).build_checks()]
    rng = np.random.default_rng(1)
    real = pd.DataFrame({"x": rng.normal(size=200), "c": rng.choice(["a", "b", "c"], 200)})
    syn = pd.DataFrame({"x": rng.normal(5, 1, size=200), "c": ["z"] * 200})  # very different
    res = synthproof.audit(real, syn, config={"suite": "listed", "checks": {CHECK: {"severity": "fail"}}})
    f = res.findings[res.findings["check_id"] == CHECK]
    assert set(f["status"]) <= {"pass", "skipped"}  # a score is reported, never a failure
    # No pair has a real association above SDMetrics' thresholds: Column Pair Trends has no score,
    # and the quality score is Column Shapes alone (SDMetrics' nanmean).
    ds = f[f["scope"] == "dataset"].set_index("metric")
    assert ds.loc["column_pair_trends", "status"] == "skipped"
    assert ds.loc["sdmetrics_quality_score", "value"] == ds.loc["column_shapes", "value"] < 0.5
    assert "not a gate verdict" in f.loc[f["metric"] == "sdmetrics_quality_score", "message"].iloc[0]
