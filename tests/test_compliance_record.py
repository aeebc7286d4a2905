"""The compliance record on the demo's runs (issue 16 acceptance): every clause row has a status,
each auto row links to findings that exist, the signed cover verifies and fails after any edit,
and the reviewer's attestation file moves rows and datasheet sections to ``attested``."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pandas as pd
import pyarrow.parquet as pq
import pytest
import yaml

from synthproof.compliance.mapping import _ref

STATUSES = {"pass", "warn", "fail", "not_run", "needs_attestation", "attested"}


def cli(*args, env=None):
    return subprocess.run([sys.executable, "-m", "synthproof.cli", *args], capture_output=True, text=True, env=env)


@pytest.fixture(scope="module")
def signed(demo, tmp_path_factory):
    """Copies of the demo's table and text runs with signed records (attestations on the text run)."""
    base = tmp_path_factory.mktemp("compliance")
    keys = base / "keys"
    keys.mkdir()
    assert cli("provenance", "keygen", "--out", str(keys / "k")).returncode == 0
    runs = {}
    for name, src in (("table", demo), ("text", demo / "text")):
        dst = base / name
        dst.mkdir()
        for f in ("findings.parquet", "manifest.json", "report.html", "summary.json"):
            shutil.copy(src / f, dst / f)
        runs[name] = dst
    tpl = base / "att.yaml"
    assert cli("compliance", str(runs["text"]), "--template", str(tpl)).returncode == 0
    att = yaml.safe_load(tpl.read_text())
    att["clauses"]["Art. 10(2)(d)"] = "Collected by <script>alert(1)</script> the data team, 2026."
    att["datasheet"]["motivation"] = "Training data for a support assistant."
    tpl.write_text(yaml.safe_dump(att))
    for name, run in runs.items():
        extra = ["--attestations", str(tpl)] if name == "text" else []
        r = cli("compliance", str(run), "--key", str(keys / "k"), *extra)
        assert r.returncode == 0, r.stderr
    return {"runs": runs, "pub": keys / "k.pub", "keys": keys}


@pytest.mark.parametrize("name", ["table", "text"])
def test_every_row_has_a_status_and_auto_rows_link_to_findings(signed, name):
    run = signed["runs"][name]
    rows = pq.read_table(run / "compliance_map.parquet").to_pandas()
    findings = pd.read_parquet(run / "findings.parquet")
    refs = {_ref(r) for r in findings[findings["scope"] != "row"].to_dict(orient="records")}
    assert rows["status"].notna().all() and set(rows["status"]) <= STATUSES
    auto = rows[rows["evidence_kind"] == "auto"]
    assert len(auto) >= 5
    for r in auto.itertuples():
        if r.status != "not_run":
            assert len(r.finding_refs) > 0, r.clause_id
        for ref in r.finding_refs:
            assert ref in refs, (r.clause_id, ref)
    assert (rows["status"] != "not_run").sum() >= len(rows) // 2  # the demo evidences most clauses


def test_cover_verifies_and_fails_after_any_edit(signed, tmp_path):
    run, pub = signed["runs"]["table"], signed["pub"]
    cover = run / "compliance.cover.json"
    r = cli("provenance", "verify", str(cover), "--public-key", str(pub))
    assert r.returncode == 0, r.stdout
    listed = {f["path"] for f in json.loads(cover.read_text())["files"]}
    assert {"compliance.html", "compliance.json", "compliance_map.parquet", "findings.parquet", "manifest.json",
            "report.html"} <= listed
    for name in sorted(listed):  # every covered file, edited by one byte, fails verification
        copy = tmp_path / name.replace("/", "_")
        shutil.copytree(run, copy)
        target = copy / name
        data = bytearray(target.read_bytes())
        data[len(data) // 2] ^= 1
        target.write_bytes(bytes(data))
        r = cli("provenance", "verify", str(copy / "compliance.cover.json"), "--public-key", str(pub))
        assert r.returncode == 1 and f"changed: {name}" in r.stdout, (name, r.stdout)
    doc = json.loads(cover.read_text())
    doc["verdict"] = "pass" if doc["verdict"] != "pass" else "fail"  # the cover itself, edited
    forged = tmp_path / "forged"
    shutil.copytree(run, forged)
    (forged / "compliance.cover.json").write_text(json.dumps(doc))
    r = cli("provenance", "verify", str(forged / "compliance.cover.json"), "--public-key", str(pub))
    assert r.returncode == 1 and "FAIL signature" in r.stdout
    (forged / "compliance.cover.json").unlink()
    shutil.copy(cover, forged / "compliance.cover.json")
    (forged / "report.html").unlink()
    r = cli("provenance", "verify", str(forged / "compliance.cover.json"), "--public-key", str(pub))
    assert r.returncode == 1 and "missing: report.html" in r.stdout
    other = tmp_path / "other"
    assert cli("provenance", "keygen", "--out", str(other)).returncode == 0
    r = cli("provenance", "verify", str(cover), "--public-key", str(other) + ".pub")
    assert r.returncode == 1 and "not trusted" in r.stdout


def test_attestations_move_rows_and_datasheet_sections(signed):
    table, text = signed["runs"]["table"], signed["runs"]["text"]
    a = pq.read_table(table / "compliance_map.parquet").to_pandas().set_index("clause_id")
    b = pq.read_table(text / "compliance_map.parquet").to_pandas().set_index("clause_id")
    assert a.loc["Art. 10(2)(d)", "status"] == "needs_attestation" and b.loc["Art. 10(2)(d)", "status"] == "attested"
    sheet = {s["key"]: s for s in json.loads((text / "compliance.json").read_text())["datasheet"]}
    assert sheet["motivation"]["status"] == "attested" and sheet["uses"]["status"] == "needs_attestation"
    assert sheet["composition"]["status"] == "from_run"
    assert any("rows x" in f for f in sheet["composition"]["facts"])
    html = (text / "compliance.html").read_text()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert" not in html


def test_datasheet_preprocessing_counts_come_from_the_findings(signed):
    run = signed["runs"]["table"]
    f = pd.read_parquet(run / "findings.parquet")
    hit = f[(f.check_id == "duplication.exact_copies") & (f.scope != "row") & f.column.isna()].iloc[0]
    sheet = {s["key"]: s for s in json.loads((run / "compliance.json").read_text())["datasheet"]}
    want = f"{round(hit.value * hit.n_synthetic):,} of {int(hit.n_synthetic):,}"
    assert any(line.startswith(f"synthetic rows that copy a real row: {want}") for line in sheet["preprocessing"]["facts"])


def test_bad_inputs_exit_2_with_one_line(signed, tmp_path):
    run = signed["runs"]["table"]
    bad = tmp_path / "bad.yaml"
    bad.write_text("datasheet: {purpose: x}\n")
    r = cli("compliance", str(run), "--attestations", str(bad))
    assert r.returncode == 2 and "unknown datasheet section" in r.stderr and len(r.stderr.splitlines()) == 1
    r = cli("compliance", str(run), "--key", str(tmp_path / "nokey"))
    assert r.returncode == 2 and "Traceback" not in r.stderr
    r = cli("provenance", "verify", str(run / "compliance.cover.json"), "--public-key", str(tmp_path / "nokey"))
    assert r.returncode == 2 and "Traceback" not in r.stderr
