"""JUnit XML (``--junit``): one testcase per check x scope, valid against the JUnit schema, waived
findings as skipped with their reason, user data escaped, the same file from audit and render."""

from __future__ import annotations

import pathlib
import xml.etree.ElementTree as ET

import pandas as pd
import pytest
import xmlschema

from synthproof.reports.junit import junit_xml

from .test_cli import cli, files  # noqa: F401  (fixture)

XSD = xmlschema.XMLSchema(str(pathlib.Path(__file__).parent / "fixtures" / "junit.xsd"))
HOSTILE = "<img src=x onerror=alert(1)> & \"q\" \x07bell"


def frame(rows: list[dict]) -> pd.DataFrame:
    base = {"scope": "column", "column": None, "subgroup": None, "family": "drift", "metric": "m", "value": None,
            "baseline_value": None, "min_effect": None, "message": "m", "reason_code": None, "waiver": None}
    return pd.DataFrame([{**base, **r} for r in rows])


def cases(xml: str) -> dict[str, ET.Element]:
    return {c.get("name"): c for c in ET.fromstring(xml).iter("testcase")}


def test_outcomes_counts_and_schema():
    f = frame([
        {"check_id": "drift.ks", "status": "fail", "column": "a", "value": 0.3, "baseline_value": 0.1,
         "min_effect": 0.05, "reason_code": "beyond_baseline", "message": "a drifted"},
        {"check_id": "drift.ks", "status": "pass", "column": "b"},
        {"check_id": "drift.tvd", "status": "warn", "column": "a", "message": "small"},
        {"check_id": "drift.smd", "status": "error", "scope": "dataset", "reason_code": "exception", "message": "boom"},
        {"check_id": "drift.psi", "status": "fail", "column": "c", "waiver": "ana@example.com, until 2099-01-01: known"},
        {"check_id": "drift.psi", "status": "pass", "column": "d"},
        {"check_id": "bias.representation", "family": "bias", "status": "skipped", "scope": "subgroup",
         "reason_code": "min_group_size", "message": "too small"},
        {"check_id": "duplication.exact_copies", "family": "duplication", "status": "fail", "scope": "row"},
    ])
    xml = junit_xml(f, passed=False, run_id="r1")
    XSD.validate(xml)
    suite = ET.fromstring(xml).find("testsuite")
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors"), suite.get("skipped")) == ("5", "1", "1", "2")
    c = cases(xml)
    assert set(c) == {"drift.ks [column]", "drift.tvd [column]", "drift.smd [dataset]", "drift.psi [column]",
                      "bias.representation [subgroup]"}  # row evidence is no testcase
    fail = c["drift.ks [column]"].find("failure")
    assert fail.get("type") == "beyond_baseline" and "a drifted" in fail.get("message") and "column=a" in fail.text
    assert c["drift.ks [column]"].get("classname") == "synthproof.drift"
    assert c["drift.smd [dataset]"].find("error").get("type") == "exception"
    waived = c["drift.psi [column]"].find("skipped")
    assert waived is not None and waived.get("message").startswith("waived: ana@example.com, until 2099-01-01: known")
    assert c["drift.tvd [column]"].find("failure") is None and "warning" in c["drift.tvd [column]"].find("system-out").text
    props = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert props == {"gate_verdict": "fail", "run_id": "r1"}


def test_waived_with_warnings_is_skipped_and_mixed_waivers_fail():
    waiver = "ana, until 2099-01-01: known"
    f = frame([{"check_id": "drift.psi", "status": "fail", "column": "a", "waiver": waiver},
               {"check_id": "drift.psi", "status": "warn", "column": "b"},
               {"check_id": "drift.ks", "status": "fail", "column": "a", "waiver": waiver},
               {"check_id": "drift.ks", "status": "fail", "column": "b", "message": "b drifted"}])
    xml = junit_xml(f, passed=False)
    XSD.validate(xml)
    c = cases(xml)
    psi = c["drift.psi [column]"]
    assert psi.find("skipped").get("message").startswith("waived: ana") and "warning" in psi.find("system-out").text
    ks = c["drift.ks [column]"]
    assert "b drifted" in ks.find("failure").text and "column=a" not in ks.find("failure").text
    assert "waived" in ks.find("system-out").text and ks.find("skipped") is None


def test_user_data_survives_escaping():
    f = frame([{"check_id": "drift.ks", "status": "fail", "column": HOSTILE, "message": HOSTILE}])
    xml = junit_xml(f, passed=False)
    XSD.validate(xml)
    assert "<img" not in xml
    msg = cases(xml)["drift.ks [column]"].find("failure").get("message")
    assert "<img src=x onerror=alert(1)> & \"q\" bell" in msg  # parsed back intact; the control character dropped


def test_the_schema_can_say_no():
    bad = '<testsuites><testsuite name="s" tests="1"><testcase name="only-a-name"/></testsuite></testsuites>'
    with pytest.raises(xmlschema.XMLSchemaValidationError):
        XSD.validate(bad)
    bad = '<testsuites><testsuite name="s" tests="-1"/></testsuites>'
    with pytest.raises(xmlschema.XMLSchemaValidationError):
        XSD.validate(bad)


def test_audit_and_render_write_the_same_junit(files, tmp_path):  # noqa: F811
    out, j = tmp_path / "run", tmp_path / "junit.xml"
    r = cli("audit", "--real", str(files / "real.parquet"), "--synthetic", str(files / "bad.csv"),
            "--config", str(files / "only.yaml"), "--out", str(out), "--junit", str(j))
    assert r.returncode == 1, r.stderr
    xml = j.read_text(encoding="utf-8")
    XSD.validate(xml)
    c = cases(xml)
    assert c["drift.ks [column]"].find("failure") is not None and "age" in c["drift.ks [column]"].find("failure").text
    again = tmp_path / "again.xml"
    r = cli("render", str(out), "--out", str(tmp_path / "r.html"), "--junit", str(again))
    assert r.returncode == 0, r.stderr
    assert again.read_text(encoding="utf-8") == xml


def test_junit_to_a_folder_is_refused_before_the_run(files, tmp_path):  # noqa: F811
    r = cli("audit", "--real", str(files / "real.parquet"), "--synthetic", str(files / "syn.csv"),
            "--config", str(files / "only.yaml"), "--out", str(tmp_path / "o"), "--junit", str(tmp_path))
    assert r.returncode == 2 and "folder" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "o").exists()
