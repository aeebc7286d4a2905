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
