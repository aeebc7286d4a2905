"""The compliance map (issue 16, in progress): every clause's checks exist, statuses follow the
findings, attestations move rows from needs_attestation to attested."""

from __future__ import annotations


import synthproof
from synthproof.check import registry
from synthproof.compliance.clauses import CLAUSES, EVIDENCE_KINDS
from synthproof.compliance.mapping import clause_rows, covered
from synthproof.findings import FAMILIES


def test_every_clause_names_existing_checks_or_families():
    import synthproof.checks._families  # noqa: F401

    known = set(registry()) | {"gate.evidence", "gate.coverage"}
    for cl in CLAUSES:
        assert cl.evidence_kind in EVIDENCE_KINDS
        assert (cl.evidence_kind == "attested") == (not cl.checks), cl.clause_id
        for c in cl.checks:
            assert c in known or c in FAMILIES, (cl.clause_id, c)
    assert len({(c.framework, c.clause_id) for c in CLAUSES}) == len(CLAUSES)


def test_statuses_follow_the_findings(adult):
    real, syn = adult.iloc[:1500].reset_index(drop=True), adult.iloc[1500:3000].reset_index(drop=True)
    shifted = syn.assign(age=syn.age + 15)
    cfg = {"bias": {"target": "income"}, "select": {"families": ["drift", "bias", "duplication"]}}
    good = clause_rows(synthproof.audit(real, syn, config=cfg).findings).set_index("clause_id")
    bad = clause_rows(synthproof.audit(real, shifted, config=cfg).findings,
                      {"Art. 10(2)(a)": "Design choices: see DOC-12."}).set_index("clause_id")
    assert bad.loc["Art. 10(3)", "status"] == "fail" and good.loc["Art. 10(3)", "status"] in ("pass", "warn")
    assert any(r.startswith("drift.") for r in bad.loc["Art. 10(3)", "finding_refs"])
    assert good.loc["Art. 10(2)(a)", "status"] == "needs_attestation"
    assert bad.loc["Art. 10(2)(a)", "status"] == "attested"
    assert good.loc["traceability", "status"] == "not_run"  # provenance was not run
    assert set(good.columns) >= {"framework", "gist", "evidence_kind", "check_ids", "finding_refs", "attestation"}


def test_a_family_covers_its_checks():
    cl = next(c for c in CLAUSES if c.clause_id == "MS-2.10-003")
    assert covered(cl, ["duplication.dcr", "drift.ks", "duplicationx.y"]) == ["duplication.dcr"]


def test_cli_writes_the_record_and_attestations_move_rows(tmp_path, adult):
    import json
    import subprocess
    import sys

    import pyarrow.parquet as pq
    import yaml

    real, syn = adult.iloc[:800].reset_index(drop=True), adult.iloc[800:1600].reset_index(drop=True)
    real.to_parquet(tmp_path / "r.parquet")
    syn.to_parquet(tmp_path / "s.parquet")
    run = tmp_path / "run"

    def cli(*args):
        return subprocess.run([sys.executable, "-m", "synthproof.cli", *args], capture_output=True, text=True)
    r = cli("audit", "--real", str(tmp_path / "r.parquet"), "--synthetic", str(tmp_path / "s.parquet"), "--out",
            str(run), "--families", "drift,duplication")
    assert r.returncode in (0, 1), r.stderr
    tpl = tmp_path / "att.yaml"
    assert cli("compliance", str(run), "--template", str(tpl)).returncode == 0
    doc = yaml.safe_load(tpl.read_text())
    assert "Art. 10(2)(a)" in doc["clauses"] and all(v == "" for v in doc["clauses"].values())
    assert cli("compliance", str(run)).returncode == 0
    before = pq.read_table(run / "compliance_map.parquet").to_pandas().set_index("clause_id")
    assert before.loc["Art. 10(2)(a)", "status"] == "needs_attestation"
    doc["clauses"]["Art. 10(2)(a)"] = "Design <b>choices</b>: DOC-12"
    tpl.write_text(yaml.safe_dump(doc))
    r = cli("compliance", str(run), "--attestations", str(tpl))
    assert r.returncode == 0, r.stderr
    after = pq.read_table(run / "compliance_map.parquet").to_pandas().set_index("clause_id")
    assert after.loc["Art. 10(2)(a)", "status"] == "attested"
    assert json.loads((run / "compliance.json").read_text())["counts"]["attested"] == 1
    html = (run / "compliance.html").read_text()
    assert "Design &lt;b&gt;choices&lt;/b&gt;" in html and "<b>choices" not in html  # escaped
    bad = tmp_path / "bad.yaml"
    bad.write_text("clauses: {'Art. 99': yes}\n")
    r = cli("compliance", str(run), "--attestations", str(bad))
    assert r.returncode == 2 and "unknown clause id" in r.stderr and "Traceback" not in r.stderr
