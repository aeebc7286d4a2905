"""Targeted tests for checks not covered by the acceptance defects: each passes on real/real and
flags its own seeded defect."""

from __future__ import annotations

import numpy as np
import pytest

import synthproof
from synthproof.apps import defects

from .conftest import real_real


def only(*ids, **params):
    return {"suite": "listed", "checks": {cid: dict(params.get(cid.split(".")[1], {})) for cid in ids}}


def statuses(res, check_id, column=None):
    f = res.findings
    f = f[(f.check_id == check_id) & (f.scope != "row")]
    if column is not None:
        f = f[f.column == column]
    return set(f.status)


@pytest.fixture(scope="module")
def pair(adult):
    return real_real(adult, 2000, seed=21)


@pytest.mark.parametrize("cid", ["drift.psi", "drift.jensen_shannon", "drift.wasserstein"])
def test_warn_severity_distances_flag_a_shift(pair, cid):
    real, syn = pair
    ok = synthproof.audit(real, syn, config=only(cid))
    rows = ok.findings.query("check_id == @cid")
    assert set(rows.status) <= {"pass", "warn"}
    assert set(rows[rows.status == "warn"].reason_code) <= {"underpowered"}
    bad = synthproof.audit(real, defects.shift_numeric(syn, "age", 0.5, real), config=only(cid))
    row = bad.findings.query("check_id == @cid and column == 'age'").iloc[0]
    # severity "warn" by default: a failing statistic is reported as warn and does not fail the gate
    assert row.status == "warn" and row.reason_code == "beyond_baseline" and row.severity == "warn"
    assert bad.passed
    strict = synthproof.audit(real, defects.shift_numeric(syn, "age", 0.5, real),
                              config={"suite": "listed", "checks": {cid: {"severity": "fail"}}})
    assert not strict.passed


def test_missing_rate_flags_injected_nulls(pair):
    real, syn = pair
    assert "fail" not in statuses(synthproof.audit(real, syn, config=only("drift.missing_rate")), "drift.missing_rate")
    holes = syn.copy()
    holes.loc[holes.sample(frac=0.2, random_state=0).index, "hours_per_week"] = np.nan
    res = synthproof.audit(real, holes, config=only("drift.missing_rate"))
    assert statuses(res, "drift.missing_rate", "hours_per_week") == {"fail"}
    assert statuses(res, "drift.missing_rate", "age") == {"pass"}


def test_dcr_flags_jittered_copies_and_passes_real(pair):
    real, syn = pair
    ok = synthproof.audit(real, syn, config=only("duplication.dcr"))
    assert statuses(ok, "duplication.dcr") == {"pass"}
    v = ok.findings.query("check_id == 'duplication.dcr' and scope == 'dataset'").value.iloc[0]
    assert 0.45 < v < 0.55
    bad = synthproof.audit(real, defects.jittered_mode_collapse(real, len(syn), np.random.default_rng(0), keep=0.5),
                           config=only("duplication.dcr"))
    assert "fail" in statuses(bad, "duplication.dcr")
    assert len(bad.findings.query("check_id == 'duplication.dcr' and scope == 'row'")) > 0


def test_crashing_check_becomes_error_and_fails_coverage(pair, monkeypatch):
    from synthproof.checks.drift.columns import KSDrift

    def boom(self, ctx):
        raise RuntimeError("kaput\nsecond line")

    monkeypatch.setattr(KSDrift, "run", boom)
    real, syn = pair
    res = synthproof.audit(real, syn, config=only("drift.ks", "drift.tvd"))
    f = res.findings
    err = f[f.check_id == "drift.ks"].iloc[0]
    assert err.status == "error" and err.reason_code == "exception" and "kaput" in err.message
    assert "\n" not in err.message
    assert set(f[f.check_id == "drift.tvd"].status) <= {"pass", "warn"}  # the run went on
    assert len(f[f.check_id == "drift.tvd"]) > 1
    cov = f[f.check_id == "gate.coverage"].iloc[0]
    assert cov.status == "fail" and "drift.ks" in cov.message and not res.passed


def test_timeout_becomes_error(pair, monkeypatch):
    import time

    from synthproof.checks.drift.columns import KSDrift

    monkeypatch.setattr(KSDrift, "run", lambda self, ctx: time.sleep(5))
    real, syn = pair
    res = synthproof.audit(real, syn, config={"suite": "listed", "checks": {"drift.ks": {"timeout_seconds": 0.2}}})
    row = res.findings.query("check_id == 'drift.ks'").iloc[0]
    assert row.status == "error" and row.reason_code == "timeout"


def test_default_time_limit_grows_with_the_data():
    from synthproof.check import MIN_TIMEOUT, TIMEOUT_PER_MILLION_ROWS, time_limit

    assert time_limit(None, 0) == time_limit(None, 1000) == MIN_TIMEOUT
    assert time_limit(None, 3_000_000) == 3 * TIMEOUT_PER_MILLION_ROWS > MIN_TIMEOUT
    assert time_limit(2.5, 10**9) == 2.5  # a limit the user set is kept whatever the size


def test_runner_scales_the_default_limit_with_the_largest_side(pair, monkeypatch):
    import contextlib

    import synthproof.runner as runner

    seen = []
    monkeypatch.setattr("synthproof.check.TIMEOUT_PER_MILLION_ROWS", 1e6)
    monkeypatch.setattr(runner, "_deadline", lambda s: seen.append(s) or contextlib.nullcontext())
    real, syn = pair
    synthproof.audit(real, syn, config={"suite": "listed", "checks": {"drift.ks": {}, "drift.tvd": {"timeout_seconds": 7}}})
    n = max(len(real), len(syn))
    assert seen == [max(600.0, 1e6 * n / 1e6), 7.0]


def test_determinism_same_inputs_same_findings(pair):
    real, syn = pair
    a = synthproof.audit(real, syn, seed=4).findings
    b = synthproof.audit(real, syn, seed=4).findings
    assert a.equals(b)


def test_bad_columns_give_findings_not_exit(pair):
    real, syn = pair
    real = real.assign(const=1, allnull=np.nan)
    syn = syn.drop(columns=["education"]).assign(const=1, allnull=np.nan, age=syn.age.astype(object))
    syn.loc[:5, "age"] = "unknown"
    syn["hours_per_week"] = syn["hours_per_week"].astype(float)
    syn.loc[6:9, "hours_per_week"] = np.inf
    res = synthproof.audit(real, syn)
    f = res.findings
    assert set(f.query("check_id == 'validity.schema' and column == 'education'").status) == {"fail"}
    got = set(zip(f.query("check_id == 'validity.column_quality'").column, f.query("check_id == 'validity.column_quality'").reason_code))
    assert {("age", "mixed_types"), ("hours_per_week", "non_finite"), ("const", "constant"), ("allnull", "all_null")} <= got
    assert not res.passed
    assert "error" not in set(f.status)


def test_absent_probability_is_hypergeometric():
    from scipy.stats import hypergeom

    from synthproof.checks.drift.columns import absent_probability

    assert absent_probability(8, 100, 100) == pytest.approx(hypergeom(200, 8, 100).pmf(0), rel=1e-9)
    assert absent_probability(0, 10, 10) == 1.0


def test_column_quality_holdout_and_plausible_constants(adult):
    """A constant holdout column is the real data's own property (warn, never fail); a synthetic
    column constant where the real one is 95% one value is plausible at 100 rows (warn); a synthetic
    column constant where the real one is spread out fails."""
    real = adult.iloc[:2000].reset_index(drop=True)
    syn = adult.iloc[2000:2100].reset_index(drop=True).copy()
    hold = adult.iloc[3000:3100].reset_index(drop=True).copy()
    hold["age"] = 40
    syn["capital_loss"] = 0
    cfg = {"suite": "listed", "checks": {"validity.column_quality": {}}}
    f = synthproof.audit(real, syn, holdout=hold, config=cfg).findings
    f = f[f.check_id == "validity.column_quality"]
    assert f[(f.column == "age") & (f.side == "holdout")].status.tolist() == ["warn"]
    assert f[(f.column == "capital_loss") & (f.side == "synthetic")].status.tolist() == ["warn"]
    syn["hours_per_week"] = 40
    f = synthproof.audit(real, syn, config=cfg).findings
    assert f[(f.column == "hours_per_week") & (f.side == "synthetic")].status.tolist() == ["fail"]
