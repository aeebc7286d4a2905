"""Comparing runs (``synthproof compare``, ``audit --baseline``): worse beyond the calibrated noise
and the minimum effect is a regression, new failures first, fail closed on a check no longer judged."""

from __future__ import annotations

import json

import pandas as pd
import pyarrow.parquet as pq
import pytest

from synthproof.compare import compare_findings, regressions

from .test_cli import cli, files  # noqa: F401  (fixture)
from .test_junit import XSD


def frame(rows: list[dict]) -> pd.DataFrame:
    base = {"check_id": "drift.ks", "family": "drift", "scope": "column", "column": "a", "subgroup": None,
            "metric": "ks_statistic", "side": None, "goal": "minimize", "status": "pass", "value": 0.02,
            "matched_value": 0.02, "baseline_value": 0.01, "threshold": 0.03, "min_effect": 0.05, "waiver": None}
    return pd.DataFrame([{**base, **r} for r in rows])


def one(old: dict, new: dict) -> dict:
    t = compare_findings(frame([old]), frame([new]))
    assert len(t) == 1
    return t.iloc[0].to_dict()


def test_identical_runs_do_not_regress():
    f = frame([{}, {"column": "b", "status": "fail", "matched_value": 0.5}])
    t = compare_findings(f, f)
    assert set(t["change"]) == {"unchanged"} and not len(regressions(t))


@pytest.mark.parametrize("new, change, regression", [
    ({"matched_value": 0.10}, "worsened", False),          # worse by 0.08 > noise 0.02 and >= min effect 0.05
    ({"matched_value": 0.06}, "unchanged", False),         # worse by 0.04: beyond the noise, below the min effect
    ({"matched_value": 0.10, "min_effect": 0.01}, "worsened", False),
    ({"matched_value": 0.10, "waiver": "ana, until 2099-01-01: ok"}, "worsened", True),  # a waiver covers a level
    ({"matched_value": 0.021, "status": "fail"}, "new_failure", False),  # a flip within the noise is listed only
    ({"matched_value": 0.30, "status": "fail"}, "new_failure", True),
    ({"matched_value": 0.30, "status": "fail", "waiver": "ana, until 2099-01-01: ok"}, "worsened", True),
    ({"matched_value": 0.06, "status": "fail"}, "new_failure", False),   # beyond the noise, below the min effect
])
def test_worse_beyond_noise_and_min_effect(new, change, regression):
    r = one({}, new)
    assert (r["change"], r["regression"]) == (change, regression)
    assert r["noise"] == pytest.approx(0.02 * 2 ** 0.5)  # the spread of a difference of two runs


def test_direction_follows_the_goal():
    r = one({"goal": "maximize", "matched_value": 0.9}, {"goal": "maximize", "matched_value": 0.8})
    assert r["change"] == "worsened" and r["worse_by"] == pytest.approx(0.1)
    r = one({"goal": "maximize", "matched_value": 0.8}, {"goal": "maximize", "matched_value": 0.9})
    assert r["change"] == "improved" and not r["regression"]
    r = one({"goal": "minimize (0.5 = indistinguishable)", "matched_value": 0.5}, {"goal": "minimize (x)",
                                                                                   "matched_value": 0.7})
    assert r["change"] == "worsened"


def test_matched_value_when_both_have_it_else_value():
    r = one({"matched_value": None, "value": 0.02}, {"matched_value": None, "value": 0.2, "status": "fail"})
    assert r["old_value"] == 0.02 and r["new_value"] == 0.2 and r["regression"]


def test_without_calibrated_noise_a_new_failure_fails_closed():
    r = one({"baseline_value": None, "status": "pass", "value": 0}, {"baseline_value": None, "status": "fail", "value": 3})
    assert r["change"] == "new_failure" and r["regression"]
    r = one({"status": "fail", "matched_value": 0.3}, {"status": "pass", "matched_value": 0.02})
    assert r["change"] == "fixed" and not r["regression"]


def test_a_check_no_longer_judged_regresses_and_new_failures_come_first():
    old = frame([{}, {"check_id": "drift.tvd", "metric": "tvd"}, {"column": "z", "matched_value": 0.02}])
    new = frame([{"matched_value": 0.5, "status": "fail"}, {"check_id": "drift.tvd", "metric": "tvd",
                                                             "status": "skipped", "matched_value": None},
                 {"column": "z", "matched_value": 0.2}])
    t = compare_findings(old, new)
    assert list(t["change"][:3]) == ["new_failure", "no_longer_judged", "worsened"]
    lost = t[t["change"] == "no_longer_judged"].iloc[0]
    assert lost["check_id"] == "drift.tvd" and lost["regression"] and "skipped" in lost["message"]


def test_a_failure_waived_since_cannot_get_worse_unnoticed():
    waiver = "ana, until 2099-01-01: accepted at 0.3"
    r = one({"status": "fail", "matched_value": 0.3}, {"status": "fail", "matched_value": 0.9, "waiver": waiver})
    assert (r["change"], r["regression"]) == ("worsened", True)
    r = one({"status": "fail", "matched_value": 0.3}, {"status": "fail", "matched_value": 0.31, "waiver": waiver})
    assert (r["change"], r["regression"]) == ("unchanged", False)
    t = compare_findings(frame([{"status": "fail", "matched_value": 0.3}]),
                         frame([{"status": "skipped", "matched_value": None}]))
    assert list(t["change"]) == ["no_longer_judged", "unjudged"] and list(t["regression"]) == [True, False]


def test_a_new_finding_without_counterpart():
    old = frame([{}])
    new = frame([{}, {"column": "new_col", "status": "fail"},
                 {"scope": "subgroup", "subgroup": "sex=F", "status": "fail"}])
    t = compare_findings(old, new).set_index("column")
    assert t.loc["new_col", "change"] == "new_failure" and t.loc["new_col", "regression"]  # fails closed
    sub = t[t["subgroup"] == "sex=F"].iloc[0]
    assert sub["change"] == "new_failure" and not sub["regression"]  # a subgroup the old run did not compare


def test_tables_without_a_waiver_column_compare():
    old = frame([{}]).drop(columns=["waiver"])
    new = frame([{"status": "fail", "matched_value": 0.3}]).drop(columns=["waiver"])
    assert not len(regressions(compare_findings(old, old)))
    t = compare_findings(old, new)
    assert list(t["change"]) == ["new_failure"] and t["regression"].all()


def _run(files, tmp_path, name, syn, *extra):  # noqa: F811
    out = tmp_path / name
    r = cli("audit", "--real", str(files / "real.parquet"), "--synthetic", str(files / syn), "--config",
            str(files / "only.yaml"), "--out", str(out), *extra)
    return out, r


def test_cli_compare_fails_on_a_seeded_regression(files, tmp_path):  # noqa: F811
    good, _ = _run(files, tmp_path, "good", "syn.csv")
    bad, _ = _run(files, tmp_path, "bad", "bad.csv")
    table, junit, md = tmp_path / "c.parquet", tmp_path / "c.xml", tmp_path / "c.md"
    r = cli("compare", str(good), str(bad), "--out", str(table), "--junit", str(junit), "--markdown", str(md),
            "--annotations", "github")
    assert r.returncode == 1, r.stderr
    lines = r.stdout.splitlines()
    printed = [x for x in lines if not x.startswith("::")]
    assert printed[0].startswith("NEW_FAILURE") and "drift.ks (column age)" in printed[0]
    assert lines[-1].startswith("compare REGRESSED")
    assert any(x.startswith("::error title=synthproof compare%3A new failure drift.ks") for x in lines)
    t = pq.read_table(table).to_pandas()
    assert t.iloc[0]["change"] == "new_failure" and t.iloc[0]["column"] == "age" and t.iloc[0]["regression"]
    XSD.validate(str(junit))
    assert "failure" in junit.read_text() and md.read_text().startswith("## synthproof compare: REGRESSED")
    r = cli("compare", str(bad), str(good))
    assert r.returncode == 0 and "fixed" in r.stdout  # getting better is no regression


def test_cli_compare_passes_on_the_same_data_with_other_seeds(files, tmp_path):  # noqa: F811
    a, _ = _run(files, tmp_path, "a", "syn.csv", "--seed", "1")
    b, _ = _run(files, tmp_path, "b", "syn.csv", "--seed", "2")
    assert json.loads((a / "manifest.json").read_text())["seed"] == 1
    r = cli("compare", str(a), str(b / "findings.parquet"))
    assert r.returncode == 0, r.stdout + r.stderr
    assert "compare NO REGRESSION" in r.stdout


def test_audit_baseline_in_one_step(files, tmp_path):  # noqa: F811
    good, _ = _run(files, tmp_path, "good", "syn.csv")
    out, r = _run(files, tmp_path, "new", "bad.csv", "--baseline", str(good), "--junit", str(tmp_path / "j.xml"))
    assert r.returncode == 1 and "compare REGRESSED" in r.stdout
    t = pq.read_table(out / "comparison.parquet").to_pandas()
    assert t.iloc[0]["change"] == "new_failure"
    xml = (tmp_path / "j.xml").read_text()
    XSD.validate(xml)
    assert 'name="synthproof-compare"' in xml and 'name="synthproof"' in xml
    out, r = _run(files, tmp_path, "same", "syn.csv", "--baseline", str(good))
    assert r.returncode == 0 and "compare NO REGRESSION" in r.stdout


def test_bad_baseline_is_refused_before_the_run(files, tmp_path):  # noqa: F811
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / "findings.parquet").write_bytes(b"not parquet")
    for base in (tmp_path / "nothing", tmp_path / "junk"):
        out, r = _run(files, tmp_path, "o", "syn.csv", "--baseline", str(base))
        assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1, r.stderr
        assert not out.exists()
