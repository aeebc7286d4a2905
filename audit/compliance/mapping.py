"""One row per clause from a run's findings: its status and the findings it rests on.

Status of a clause with checks: ``fail`` when a covered finding fails (unwaived), else ``warn``
when one warns, else ``pass`` when one passed, else ``not_run`` (every covered check skipped,
errored or absent). An ``attested`` clause is ``needs_attestation`` until the reviewer's
attestation file answers it (then ``attested``); a ``partial`` one takes its findings' status and
carries the attestation when given (without findings and attestation: ``needs_attestation``).
"""

from __future__ import annotations

import pandas as pd

from .clauses import CLAUSES, Clause

COLUMNS = ["framework", "clause_id", "gist", "evidence_kind", "check_ids", "status", "finding_refs", "attestation"]
MAX_REFS = 20


def covered(clause: Clause, check_ids) -> list[str]:
    """The run's check ids a clause covers (a family name covers all its checks), sorted."""
    out = set()
    for c in check_ids:
        for want in clause.checks:
            if c == want or ("." not in want and c.startswith(want + ".")):
                out.add(c)
    return sorted(out)


def _ref(rec) -> str:
    parts = [rec["check_id"], rec["scope"]]
    for key in ("column", "subgroup"):
        if isinstance(rec.get(key), str) and rec[key]:
            parts.append(f"{key}={rec[key]}")
    return ":".join(parts)


def clause_rows(findings: pd.DataFrame, attestations: dict | None = None) -> pd.DataFrame:
    """The compliance map of a run.

    Parameters
    ----------
    findings : pandas.DataFrame
        The run's findings table (``findings.parquet``).
    attestations : dict, optional
        ``{clause_id: text}`` from the reviewer's attestation file.

    Returns
    -------
    pandas.DataFrame with :data:`COLUMNS`, one row per clause of :data:`~.clauses.CLAUSES`.
    """
    attestations = attestations or {}
    f = findings[findings["scope"] != "row"]
    waived = f["waiver"].notna() & (f["waiver"].astype(str) != "") if "waiver" in f else pd.Series(False, index=f.index)
    rows = []
    for cl in CLAUSES:
        ids = covered(cl, f["check_id"].unique())
        sub = f[f["check_id"].isin(ids)]
        live = sub[~waived.loc[sub.index]]
        st = set(live["status"])
        status = ("fail" if "fail" in st else "warn" if "warn" in st else "pass" if "pass" in st
                  else "not_run") if cl.checks else "needs_attestation"
        text = attestations.get(cl.clause_id)
        if cl.evidence_kind == "attested":
            status = "attested" if text else "needs_attestation"
        elif cl.evidence_kind == "partial" and status == "not_run" and not text:
            status = "needs_attestation"
        order = {"fail": 0, "warn": 1, "error": 2, "pass": 3, "skipped": 4}
        picked = sub.assign(_o=sub["status"].map(order).fillna(5)).sort_values(["_o", "check_id"], kind="stable")
        refs = list(dict.fromkeys(_ref(r) for r in picked.to_dict(orient="records")))[:MAX_REFS]  # distinct, worst first
        rows.append({"framework": cl.framework, "clause_id": cl.clause_id, "gist": cl.gist,
                     "evidence_kind": cl.evidence_kind, "check_ids": ids, "status": status, "finding_refs": refs,
                     "attestation": text})
    return pd.DataFrame(rows, columns=COLUMNS)
