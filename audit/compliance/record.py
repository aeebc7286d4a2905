"""The files of a compliance record: ``compliance_map.parquet``, ``compliance.json`` and
``compliance.html`` from a stored run and the reviewer's attestation file, published as one set."""

from __future__ import annotations

import io
import json
import pathlib

import pyarrow as pa
import pyarrow.parquet as pq
import yaml

from synthproof.errors import InputError

from .clauses import CLAUSES
from .mapping import clause_rows


def read_attestations(path: str | None) -> dict:
    """``{clause_id: text}`` from an attestation YAML (``clauses: {id: text}``); empty answers are
    no answers. Raises :class:`InputError` for an unreadable file or an unknown clause id."""
    if path is None:
        return {}
    try:
        doc = yaml.safe_load(pathlib.Path(path).read_text(encoding="utf-8")) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise InputError(f"cannot read the attestation file {path}: {str(exc).splitlines()[0]}") from None
    answers = doc.get("clauses", {}) if isinstance(doc, dict) else None
    if not isinstance(answers, dict):
        raise InputError(f"{path}: expected a mapping 'clauses: {{clause id: text}}' (see --template)")
    known = {c.clause_id for c in CLAUSES}
    unknown = sorted(str(k) for k in answers if str(k) not in known)
    if unknown:
        raise InputError(f"{path}: unknown clause id(s) {unknown[:5]}; write a template with --template")
    return {str(k): str(v).strip() for k, v in answers.items() if v is not None and str(v).strip()}


def template() -> str:
    """An attestation YAML with every clause a person must answer (attested and partial ones)."""
    lines = ["# synthproof compliance attestations: answer each clause a run cannot evidence alone.",
             "# Leave an answer empty to keep the clause 'needs_attestation'.", "clauses:"]
    for c in CLAUSES:
        if c.evidence_kind != "auto":
            lines.append(f"  # {c.framework} — {c.gist} ({c.evidence_kind})")
            lines.append(f"  {json.dumps(c.clause_id)}: ''")
    return "\n".join(lines) + "\n"


def record_files(findings, manifest: dict, attestations: dict) -> dict[str, bytes]:
    """The record's files (name -> bytes)."""
    from synthproof.reports.html import _env

    rows = clause_rows(findings, attestations)
    buf = io.BytesIO()
    pq.write_table(pa.Table.from_pandas(rows, preserve_index=False), buf)
    doc = {"run_id": manifest.get("run_id"), "verdict": manifest.get("verdict"),
           "counts": rows["status"].value_counts().sort_index().to_dict(),
           "clauses": json.loads(rows.to_json(orient="records"))}
    html = _env().get_template("compliance.html.j2").render(rows=rows.to_dict(orient="records"), doc=doc)
    return {"compliance_map.parquet": buf.getvalue(),
            "compliance.json": (json.dumps(doc, indent=2, sort_keys=True) + "\n").encode(),
            "compliance.html": html.encode()}
