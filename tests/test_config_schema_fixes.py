"""Issue 11, item 11 (config and schema): did-you-mean for unknown keys, ``drift.ks: off``,
+-inf-only columns, and no contradictory extreme-value messages."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml

import synthproof
from synthproof.config import load_config, parse_config
from synthproof.errors import ConfigError
from synthproof.schema import infer_role


@pytest.mark.parametrize("data,path,hint", [
    ({"sed": 1}, "sed", "seed"),
    ({"gate": {"fail_onn": "warn"}}, "gate.fail_onn", "fail_on"),
    ({"text": {"embedding": {"batch": 3}}}, "text.embedding.batch", "batch_size"),
])
def test_unknown_key_did_you_mean(data, path, hint):
    with pytest.raises(ConfigError) as e:
        parse_config(data)
    assert path in str(e.value) and f"did you mean {hint!r}" in str(e.value)


def test_bare_off_in_yaml_switches_a_check_off(tmp_path):
    p = tmp_path / "c.yaml"
    p.write_text("checks:\n  drift.ks: off\n  drift.tvd: warn\n  drift.smd: on\n")
    assert yaml.safe_load(p.read_text())["checks"]["drift.ks"] is False  # what YAML 1.1 gives
    cfg = load_config(p)
    checks = {c.id: c for c in cfg.build_checks()}
    assert checks["drift.ks"].severity == "off" and checks["drift.tvd"].severity == "warn"
    assert checks["drift.smd"].severity == "fail"


def test_infinite_only_column_is_numeric_not_boolean():
    v = pd.Series([np.inf, -np.inf] * 50)
    assert infer_role("x", v) == "numeric"
    rng = np.random.default_rng(0)
    r = pd.DataFrame({"x": rng.normal(size=100), "inf": v})
    s = pd.DataFrame({"x": rng.normal(size=100), "inf": v.sample(frac=1, random_state=1).to_numpy()})
    f = synthproof.audit(r, s, config={"suite": "listed", "checks": {"validity.column_quality": {}}}).findings
    reasons = set(f.loc[f.column == "inf", "reason_code"])
    assert "non_finite" in reasons and "constant" not in reasons


def test_no_synthetic_value_past_a_bound_is_skipped_not_single_extreme():
    pytest.importorskip("great_expectations")
    rng = np.random.default_rng(1)
    r = pd.DataFrame({"x": rng.normal(size=400), "y": rng.normal(size=400)})
    s = pd.DataFrame({"x": np.full(400, np.nan), "y": rng.normal(size=400)})
    f = synthproof.audit(r, s, config={"suite": "listed", "checks": {"validity.expectations": {}}}).findings
    x = f[(f.check_id == "validity.expectations") & (f.column == "x")
          & f.metric.str.contains("max|min", regex=True)]
    assert len(x) and set(x.status) == {"skipped"}, x[["metric", "status", "message"]].to_string()
    assert not x.message.str.contains("only one synthetic value").any()


def test_converted_arrow_types_are_recorded_by_column_quality():
    import pyarrow as pa

    rng = np.random.default_rng(2)

    def table():
        return pa.table({"x": rng.normal(size=120), "tags": pa.array([[i % 3, 1] for i in range(120)]),
                         "blob": pa.array([bytes([i % 7]) for i in range(120)])})

    f = synthproof.audit(table(), table(), config={"suite": "listed", "checks": {"validity.column_quality": {}}}).findings
    conv = f[f.reason_code == "converted"]
    assert set(conv.column) == {"tags", "blob"} and set(conv.status) == {"pass"}
    assert conv.message.str.contains("list->json").any() and conv.message.str.contains("binary->sha256").any()


def test_repeated_long_labels_are_categorical_not_text():
    from synthproof.datasets import load

    labels = pd.Series(np.random.default_rng(3).choice(
        ["critical account other credits existing", "existing credits paid back duly till now",
         "no credits taken all credits paid back duly"], 1000))
    assert infer_role("credit_history", labels) == "categorical"
    g = load("german_credit")
    f = synthproof.audit(g.iloc[:300], g.iloc[300:600], config={"suite": "listed", "checks": {"drift.tvd": {}}}).findings
    assert "credit_history" in set(f.column.dropna()) or len(f.column.dropna().unique()) >= 10
    docs = pd.Series([f"document number {i} says something different about topic {i % 7}" for i in range(300)])
    assert infer_role("text", docs) == "text"


@pytest.mark.parametrize("x,text", [(-0.0, "0"), (16280, "16280"), (16280.4, "16280"), (3.0, "3"),
                                    (0.12345, "0.1235"), (-1e-7, "-1e-07"), (float("inf"), "n/a")])
def test_fmt_never_prints_minus_zero_or_exponents_for_counts(x, text):
    from synthproof.calibration import fmt

    assert fmt(x) == text
