"""The files of a compliance record: ``compliance_map.parquet``, ``compliance.json`` and
``compliance.html`` from a stored run and the reviewer's attestation file, published as one set."""

from __future__ import annotations

import io
import json
import pathlib
from typing import NamedTuple

import pyarrow as pa
import pyarrow.parquet as pq
import yaml

from synthproof.errors import InputError

from .clauses import CLAUSES
from .datasheet import KEYS, SECTIONS, datasheet
from .mapping import clause_rows


class Attestations(NamedTuple):
    """The reviewer's answers: ``clauses`` ``{clause_id: text}`` and ``datasheet`` ``{section key: text}``."""

    clauses: dict
    datasheet: dict


def read_attestations(path: str | None) -> Attestations:
    """The answers of an attestation YAML (``clauses: {id: text}``, ``datasheet: {section: text}``);
    empty answers are no answers.

    Raises
    ------
    InputError
        An unreadable file, an unknown clause id or datasheet section.
    """
    if path is None:
        return Attestations({}, {})
    try:
        doc = yaml.safe_load(pathlib.Path(path).read_text(encoding="utf-8")) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise InputError(f"cannot read the attestation file {path}: {str(exc).splitlines()[0]}") from None
    answers = doc.get("clauses", {}) if isinstance(doc, dict) else None
    sheet = (doc.get("datasheet") or {}) if isinstance(doc, dict) else None
    if not isinstance(answers, dict) or not isinstance(sheet, dict):
        raise InputError(f"{path}: expected mappings 'clauses: {{clause id: text}}' and 'datasheet: {{section: "
                         "text}}' (see --template)")
    known = {c.clause_id for c in CLAUSES}
    unknown = sorted(str(k) for k in answers if str(k) not in known)
    if unknown:
        raise InputError(f"{path}: unknown clause id(s) {unknown[:5]}; write a template with --template")
    bad = sorted(str(k) for k in sheet if str(k) not in KEYS)
    if bad:
        raise InputError(f"{path}: unknown datasheet section(s) {bad[:5]}; sections are {', '.join(KEYS)}")

    def clean(d):
        return {str(k): str(v).strip() for k, v in d.items() if v is not None and str(v).strip()}
    return Attestations(clean(answers), clean(sheet))


def template() -> str:
    """An attestation YAML with every clause a person must answer (attested and partial ones)."""
    lines = ["# synthproof compliance attestations: answer each clause a run cannot evidence alone.",
             "# Leave an answer empty to keep the clause 'needs_attestation'.", "clauses:"]
    for c in CLAUSES:
        if c.evidence_kind != "auto":
            lines.append(f"  # {c.framework} — {c.gist} ({c.evidence_kind})")
            lines.append(f"  {json.dumps(c.clause_id)}: ''")
    lines += ["# Datasheet (Gebru et al. 2021): composition and preprocessing are filled from the run;",
              "# text given for them is added.", "datasheet:"]
    for key, title, question, _ in SECTIONS:
        lines += [f"  # {title}: {question}", f"  {key}: ''"]
    return "\n".join(lines) + "\n"


def record_files(findings, manifest: dict, attestations: Attestations | dict | None = None,
                 cover: dict | None = None) -> dict[str, bytes]:
    """The record's files (name -> bytes): ``compliance_map.parquet``, ``compliance.json``,
    ``compliance.html``. ``attestations``: :class:`Attestations` (a plain dict is the clause answers);
    ``cover``: who signs it (``key_id``), shown in the HTML."""
    from synthproof.reports.html import _env

    att = attestations if isinstance(attestations, Attestations) else Attestations(dict(attestations or {}), {})
    rows = clause_rows(findings, att.clauses)
    sheet = datasheet(findings, manifest, att.datasheet)
    buf = io.BytesIO()
    pq.write_table(pa.Table.from_pandas(rows, preserve_index=False), buf)
    doc = {"run_id": manifest.get("run_id"), "verdict": manifest.get("verdict"),
           "counts": rows["status"].value_counts().sort_index().to_dict(),
           "clauses": json.loads(rows.to_json(orient="records")), "datasheet": sheet}
    html = _env().get_template("compliance.html.j2").render(rows=rows.to_dict(orient="records"), doc=doc,
                                                             sheet=sheet, cover=cover or {})
    return {"compliance_map.parquet": buf.getvalue(),
            "compliance.json": (json.dumps(doc, indent=2, sort_keys=True) + "\n").encode(),
            "compliance.html": html.encode()}
