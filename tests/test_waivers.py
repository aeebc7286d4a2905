"""Waivers: a waived failing check passes the gate and stays visible; an expired one fails the gate;
one that matches nothing warns; bad waivers are config errors."""

from __future__ import annotations

import datetime as dt
import json
import re

import pyarrow.parquet as pq
import pytest
import yaml

from synthproof.config import parse_config
from synthproof.errors import ConfigError
from synthproof.findings import Finding
from synthproof.runner import gate_passed
from synthproof.waivers import Waiver, apply_waivers

from .test_cli import ONLY, cli, files  # noqa: F401  (fixture)

TODAY = dt.date(2026, 12, 7)


def f(check="drift.ks", status="fail", column="age", scope="column", subgroup=None, **kw):
    return Finding(check_id=check, family=check.split(".")[0], scope=scope, metric="m", status=status,
                   message="x", column=column, subgroup=subgroup, **kw)


def w(**kw):
    return Waiver(**{"check": "drift.ks", "reason": "known", "owner": "ana", "expires": dt.date(2027, 1, 31), **kw})


def test_waiver_in_force_covers_and_the_gate_passes():
    found = [f(), f(column="fnlwgt", status="pass"), f(check="duplication.exact_copies", scope="row", column=None,
                                                        status="fail", row_id="r1")]
    out, gate = apply_waivers(found, [w(column="age")], today=TODAY)
    assert out[0].status == "fail" and out[0].waiver == "ana, until 2027-01-31: known"  # status kept, marked
    assert out[1].waiver is None and out[2].waiver is None
    assert gate.status == "pass" and "cover 1 finding" in gate.message
    assert not gate_passed(out, "fail")  # the unwaived row of another check still fails
    assert gate_passed(out[:2] + [gate], "fail")


def test_scope_column_and_subgroup_narrow_a_waiver():
    found = [f(column="age"), f(column="sex"), f(scope="subgroup", subgroup="sex=Female", column="age")]
    out, _ = apply_waivers(found, [w(scope="subgroup", subgroup="sex=Female")], today=TODAY)
    assert [x.waiver is not None for x in out] == [False, False, True]
    out, _ = apply_waivers(found, [w(column="sex")], today=TODAY)
    assert [x.waiver is not None for x in out] == [False, True, False]


def test_row_evidence_follows_its_check():
    found = [f(check="duplication.exact_copies", scope="dataset", column=None),
             f(check="duplication.exact_copies", scope="row", column=None, row_id="7")]
    out, gate = apply_waivers(found, [w(check="duplication.exact_copies")], today=TODAY)
    assert all(x.waiver for x in out) and gate_passed(out + [gate], "fail")


def test_expired_waiver_fails_the_gate_and_does_not_apply():
    out, gate = apply_waivers([f()], [w(expires=dt.date(2026, 12, 6))], today=TODAY)
    assert out[0].waiver is None
    assert gate.status == "fail" and gate.reason_code == "waiver_expired" and "expired on 2026-12-06" in gate.message
    assert not gate_passed(out + [gate], "fail")
    _, gate = apply_waivers([f(status="pass")], [w(expires=dt.date(2026, 12, 6))], today=TODAY)
    assert gate.status == "fail"  # expired, even when nothing matches any more
    out, gate = apply_waivers([f()], [w(expires=TODAY)], today=TODAY)
    assert out[0].waiver and gate.status == "pass"  # holds through its last day


def test_a_redundant_waiver_matches_nothing_and_rows_follow_the_subgroup():
    out, gate = apply_waivers([f()], [w(), w(reason="again")], today=TODAY)
    assert out[0].waiver.endswith(": known") and gate.status == "warn" and gate.reason_code == "waiver_unmatched"
    rows = [f(check="duplication.contamination", scope="row", column="text", subgroup=f"eval_set={e}", row_id=e)
            for e in ("A", "B")]
    out, _ = apply_waivers(rows, [w(check="duplication.contamination", subgroup="eval_set=A")], today=TODAY)
    assert [x.waiver is not None for x in out] == [True, False]


def test_unmatched_waiver_warns():
    out, gate = apply_waivers([f(status="pass")], [w(column="nope")], today=TODAY)
    assert gate.status == "warn" and gate.reason_code == "waiver_unmatched" and "drift.ks (column nope)" in gate.message
    assert gate_passed(out + [gate], "fail") and not gate_passed(out + [gate], "warn")
    assert apply_waivers([f()], [], today=TODAY) == ([f()], None)


@pytest.mark.parametrize("bad, where", [
    ({"check": "drift.kss", "reason": "r", "owner": "o", "expires": "2027-01-01"}, "drift.ks"),
    ({"check": "drift.ks", "reason": " ", "owner": "o", "expires": "2027-01-01"}, "reason"),
    ({"check": "drift.ks", "reason": "r", "expires": "2027-01-01"}, "owner"),
    ({"check": "drift.ks", "reason": "r", "owner": "o", "expires": "soon"}, "expires"),
    ({"check": "drift.ks", "reason": "r", "owner": "o", "expires": "2027-01-01", "colum": "a"}, "colum"),
    ({"check": "gate.evidence", "reason": "r", "owner": "o", "expires": "2027-01-01"}, "gate.evidence"),
])
def test_bad_waivers_are_config_errors(bad, where):
    with pytest.raises(ConfigError) as exc:
        parse_config({"waivers": [bad]}).build_checks()
    assert where in str(exc.value) and "waivers" in str(exc.value)


def _config(path, waivers):
    path.write_text(yaml.safe_dump({**ONLY, "waivers": waivers}, default_flow_style=False))
    return path


def test_cli_waived_failure_passes_and_stays_visible(files, tmp_path):  # noqa: F811
    cfg = _config(tmp_path / "w.yaml", [{"check": "drift.ks", "column": "age", "reason": "age shift is planned",
                                         "owner": "ana@example.com", "expires": "2099-12-31"}])
    out, md, junit = tmp_path / "o", tmp_path / "s.md", tmp_path / "j.xml"
    r = cli("audit", "--real", str(files / "real.parquet"), "--synthetic", str(files / "bad.csv"), "--config",
            str(cfg), "--out", str(out), "--markdown", str(md), "--junit", str(junit))
    assert r.returncode == 0, r.stdout + r.stderr
    df = pq.read_table(out / "findings.parquet").to_pandas()
    ks = df[(df.check_id == "drift.ks") & (df.column == "age")].iloc[0]
    assert ks.status == "fail" and ks.waiver == "ana@example.com, until 2099-12-31: age shift is planned"
    assert df[df.check_id == "gate.waivers"].iloc[0].status == "pass"
    summary = json.loads((out / "summary.json").read_text())
    assert summary["passed"] and summary["waived_checks"] == ["drift.ks"] and "drift.ks" not in summary["failing_checks"]
    html = (out / "report.html").read_text()
    assert "age shift is planned" in html and 'data-status="waived"' in html and 'class="badge waived"' in html
    assert "**Waived**" in md.read_text() and "age shift is planned" in md.read_text()
    assert 'message="waived: ana@example.com' in junit.read_text()
    assert re.search(r"^\w+ +drift.ks +.*1 waived", r.stdout, re.M)


def test_cli_expired_waiver_fails_the_gate(files, tmp_path):  # noqa: F811
    cfg = _config(tmp_path / "w.yaml", [{"check": "drift.ks", "column": "age", "reason": "r", "owner": "ana",
                                         "expires": "2020-01-01"}])
    out = tmp_path / "o"
    r = cli("audit", "--real", str(files / "real.parquet"), "--synthetic", str(files / "bad.csv"), "--config",
            str(cfg), "--out", str(out))
    assert r.returncode == 1
    summary = json.loads((out / "summary.json").read_text())
    assert {"drift.ks", "gate.waivers"} <= set(summary["failing_checks"])
    df = pq.read_table(out / "findings.parquet").to_pandas()
    assert "expired on 2020-01-01" in df[df.check_id == "gate.waivers"].iloc[0].message
    assert df["waiver"].isna().all()
