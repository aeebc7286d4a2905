"""Role inference and schema reconciliation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from synthproof.schema import canonical_category, infer_role, prepare


def _prep(real, syn, **kw):
    return prepare(pa.Table.from_pandas(real), pa.Table.from_pandas(syn), None, **kw)


def test_roles_on_adult(adult):
    data = _prep(adult.head(3000), adult.tail(3000))
    assert data.roles["age"] == "numeric"
    assert data.roles["education"] == "categorical"
    assert data.roles["sex"] == "boolean"
    assert set(data.features) == set(adult.columns)


def test_role_inference_cases():
    n = 200
    assert infer_role("customer_id", pd.Series(np.arange(n))) == "id"
    assert infer_role("uuid", pd.Series([f"u{i:05d}" for i in range(n)])) == "id"
    assert infer_role("when", pd.Series(pd.date_range("2020-01-01", periods=n).astype(str))) == "datetime"
    assert infer_role("review", pd.Series(["this is a long free text review number %d" % i for i in range(n)])) == "text"
    assert infer_role("generator", pd.Series(["sdv"] * n)) == "provenance"
    assert infer_role("flag", pd.Series([0, 1] * (n // 2))) == "boolean"


def test_lossless_retypes_pass_and_missing_columns_are_reported():
    real = pd.DataFrame({"n": [1, 2, 3, 4] * 10, "c": ["a", "b", "c", "a"] * 10, "gone": [1.5, 2.5, 3.5, 4.5] * 10})
    syn = pd.DataFrame({"n": [1.0, 2.0, 3.0, 4.0] * 10, "c": pd.Categorical(["a", "b", "c", "a"] * 10),
                        "extra_id": range(40)})
    data = _prep(real, syn)
    codes = {(i.column, i.reason_code) for i in data.issues}
    assert codes == {("gone", "missing_column")}
    assert data.synthetic_only == ["extra_id"]
    assert data.synthetic["n"].dtype == float


def test_column_trouble_becomes_issues_not_errors():
    real = pd.DataFrame({"num": np.arange(50, dtype=float), "allnull": [None] * 50, "const": [7] * 50,
                         "c": ["a", "b"] * 25})
    syn = pd.DataFrame({"num": ["1", "x"] * 25, "allnull": [None] * 50, "const": [7] * 50, "c": ["a", "b"] * 25})
    syn.loc[0, "num"] = "inf"
    data = _prep(real, syn, roles={"const": "numeric"})
    got = {(i.column, i.side, i.reason_code) for i in data.issues}
    assert ("num", "synthetic", "mixed_types") in got
    assert ("num", "synthetic", "non_finite") in got
    assert ("allnull", "real", "all_null") in got
    assert ("const", "real", "constant") in got


def test_canonical_category():
    out = canonical_category(pd.Series([1.0, 2, "x", None, True, float("nan")], dtype=object))
    assert [None if pd.isna(v) else v for v in out] == ["1", "2", "x", None, "True", None]
    fast = canonical_category(pd.Series(["a", "true", None, "FALSE", "a"]))
    assert [None if pd.isna(v) else v for v in fast] == ["a", "True", None, "False", "a"]
    assert list(canonical_category(pd.Series([1.0, 2.5, None]))[:2]) == ["1", "2.5"]
