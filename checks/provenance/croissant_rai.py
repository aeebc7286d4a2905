"""``provenance.croissant_rai``: the dataset's own Croissant file carries the RAI fields a reviewer needs.

Reads ``provenance.croissant`` (a Croissant JSON-LD file; a relative path is relative to the config
file) and fails when one of :data:`~synthproof.compliance.rai.REVIEWER_FIELDS` is absent or empty on
its ``sc:Dataset`` node: ``rai:dataCollection``, ``rai:dataUseCases``, ``rai:dataLimitations``,
``rai:dataBiases``, ``rai:personalSensitiveInformation``, ``rai:dataReleaseMaintenancePlan``,
``rai:dataManipulationProtocol`` — the RAI properties the Croissant RAI 1.0 overview table assigns to
its use cases 1 (data life cycle), 4 (AI safety and fairness) and 6 (regulatory compliance), the
annotation properties aside (they concern labelled data only). The other RAI properties are reported
(``recommended_missing``), never failed.

Keys are resolved to IRIs with the file's own inline ``@context`` (terms, prefixes, ``@vocab``; a
remote context is never fetched; the prefixes ``rai``, ``sc``, ``cr`` and ``dct`` stand for their
standard namespaces when the file does not define them), so
``rai:dataBiases``, a term aliased to it and the full IRI all count. A property under another IRI —
``cr:dataBiases``, a bare ``dataBiases`` under the schema.org vocabulary, or mlcroissant 1.1.1's
spellings ``rai:dataDataManipulationProtocol`` and ``rai:dataCollectionTimeFrame`` — does not count,
and the finding names it. Without ``provenance.croissant``: ``skipped`` (``not_configured``); a file
that cannot be read, is not JSON or holds no dataset: an ``error`` finding (``invalid_file``).
Deterministic: takes no share of the gate's false-alarm budget.
"""

from __future__ import annotations

import json
import os

from synthproof.check import Check, register
from synthproof.compliance.rai import MLCROISSANT_SPELLINGS, RAI_NS, RAI_PROPERTIES, REVIEWER_FIELDS
from synthproof.errors import IncomputableError
from synthproof.findings import Finding

MAX_BYTES = 64 << 20
_DATASET = {"https://schema.org/Dataset", "http://schema.org/Dataset"}
_BY_LOWER = {p.lower(): p for p in RAI_PROPERTIES}
_MISSPELT = {v: k for k, v in MLCROISSANT_SPELLINGS.items()}
#: Croissant's standard prefixes, used when a file's context does not define them.
PREFIXES = {"rai": RAI_NS, "sc": "https://schema.org/", "cr": "http://mlcommons.org/croissant/",
            "dct": "http://purl.org/dc/terms/"}


def _context(doc: dict) -> tuple[dict, bool]:
    """The inline ``@context`` merged in order, and whether a remote context was left unread."""
    raw = doc.get("@context", {})
    merged, remote = {}, False
    for part in raw if isinstance(raw, list) else [raw]:
        if isinstance(part, dict):
            merged.update(part)
        elif part is not None:
            remote = True
    return merged, remote


def expand(key: str, ctx: dict) -> str | None:
    """The IRI of a JSON-LD key under ``ctx`` (JSON-LD 1.1 term, compact IRI and ``@vocab`` rules, one
    level of term aliasing); None for keywords and keys that do not resolve."""
    if key.startswith("@"):
        return None
    term = ctx.get(key)
    if isinstance(term, dict):
        term = term.get("@id")
    if isinstance(term, str) and term != key:
        return expand(term, {k: v for k, v in ctx.items() if k != key})
    if ":" in key:
        prefix, local = key.split(":", 1)
        if local.startswith("//"):
            return key  # an absolute IRI
        base = ctx.get(prefix, PREFIXES.get(prefix))
        base = base.get("@id") if isinstance(base, dict) else base
        return base + local if isinstance(base, str) else None
    vocab = ctx.get("@vocab")
    return vocab + key if isinstance(vocab, str) else None


def filled(value) -> bool:
    """Whether a JSON-LD value says something: a non-blank string, a number or boolean, a value object
    or language map with a non-blank string, a node, or a list holding one of these."""
    if isinstance(value, str):
        return bool(value.strip())
    if isinstance(value, bool) or isinstance(value, (int, float)):
        return True
    if isinstance(value, list):
        return any(filled(v) for v in value)
    if isinstance(value, dict):
        if "@value" in value:
            return filled(value["@value"])
        if value and all(isinstance(v, str) for v in value.values()) and not any(k.startswith("@") for k in value):
            return any(v.strip() for v in value.values())  # a language map
        return bool(value)
    return False


def _dataset(doc: dict, ctx: dict) -> dict | None:
    nodes = doc.get("@graph") if isinstance(doc.get("@graph"), list) else [doc]
    for node in nodes:
        if not isinstance(node, dict):
            continue
        types = node.get("@type")
        for t in types if isinstance(types, list) else [types]:
            if isinstance(t, str) and (expand(t, ctx) in _DATASET or t in _DATASET):
                return node
    return None


def rai_fields(doc: dict) -> dict:
    """The RAI properties of a Croissant document's dataset node.

    Parameters
    ----------
    doc : dict
        The parsed JSON-LD document.

    Returns
    -------
    dict
        ``present`` (RAI property names with a value), ``empty`` (given without a value),
        ``misplaced`` (property -> the key that looks like it but is another IRI), ``conforms_to_rai``
        (the RAI 1.0 specification among ``dct:conformsTo``) and ``remote_context``.

    Raises
    ------
    ValueError
        The document holds no ``sc:Dataset`` node.
    """
    ctx, remote = _context(doc)
    node = _dataset(doc, ctx)
    if node is None:
        raise ValueError("no sc:Dataset node (not a Croissant dataset description)")
    present, empty, misplaced, conforms = set(), set(), {}, False
    for key, value in node.items():
        iri = expand(key, ctx)
        if iri is None:
            continue
        if iri == "http://purl.org/dc/terms/conformsTo":
            conforms = any(isinstance(v, str) and v.rstrip("/") == "http://mlcommons.org/croissant/RAI/1.0"
                           for v in (value if isinstance(value, list) else [value]))
            continue
        local = iri.rstrip("/").rsplit("/", 1)[-1].rsplit("#", 1)[-1]
        if iri.startswith(RAI_NS) and local in RAI_PROPERTIES:
            (present if filled(value) else empty).add(local)
        elif local in _MISSPELT or local.lower() in _BY_LOWER:
            misplaced[_MISSPELT.get(local) or _BY_LOWER[local.lower()]] = key
    return {"present": sorted(present), "empty": sorted(empty - present),
            "misplaced": {k: v for k, v in sorted(misplaced.items()) if k not in present},
            "conforms_to_rai": conforms, "remote_context": remote}


@register
class CroissantRai(Check):
    id = "provenance.croissant_rai"
    needs = ()
    family = "provenance"
    summary = ("The dataset's own Croissant file (provenance.croissant) carries the RAI 1.0 fields a reviewer needs: "
               "dataCollection, dataUseCases, dataLimitations, dataBiases, personalSensitiveInformation, "
               "dataReleaseMaintenancePlan, dataManipulationProtocol.")
    metric = "missing_rai_fields"
    goal = "minimize"
    unit = "RAI fields"
    value_range = f"[0, {len(REVIEWER_FIELDS)}]"
    computation = "mergeable"
    computation_note = "reads no data: only the configured Croissant file"
    statistical = False
    source = ("Croissant RAI Specification 1.0 (MLCommons, 2024), use cases 1, 4 and 6; Croissant Format "
              "Specification 1.1 (MLCommons)")

    def run(self, ctx) -> list[Finding]:
        path = ctx.config.provenance.croissant
        if not path:
            raise IncomputableError("not_configured", "no Croissant file configured (provenance.croissant); "
                                                      "nothing to check.")
        name = os.path.basename(path)
        try:
            if os.path.getsize(path) > MAX_BYTES:
                raise ValueError(f"larger than {MAX_BYTES >> 20} MiB")
            with open(path, encoding="utf-8") as fh:
                doc = json.load(fh)
            if not isinstance(doc, dict):
                raise ValueError("not a JSON object")
            found = rai_fields(doc)
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            why = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc).splitlines()[0]
            return [self.finding(scope="dataset", status="error", reason_code="invalid_file",
                                 evidence={"file": path},
                                 message=f"Croissant file {name} not checked: {why[:200]}.")]
        missing = [p for p in REVIEWER_FIELDS if p not in found["present"]]
        recommended = [p for p in RAI_PROPERTIES if p not in REVIEWER_FIELDS and p not in found["present"]]
        notes = [f"rai:{p} is given as {key!r}, which is another IRI" + (" (mlcroissant's spelling)"
                                                                          if key.split(":")[-1] in _MISSPELT else "")
                 for p, key in found["misplaced"].items() if p in missing]
        notes += [f"rai:{p} is empty" for p in found["empty"] if p in missing]
        if found["remote_context"]:
            notes.append("its remote @context was not fetched")
        msg = (f"Croissant file {name}: {len(missing)} of {len(REVIEWER_FIELDS)} RAI fields a reviewer needs are "
               f"missing or empty: {', '.join('rai:' + p for p in missing)}" if missing else
               f"Croissant file {name}: all {len(REVIEWER_FIELDS)} RAI fields a reviewer needs are filled")
        msg += (f" ({'; '.join(notes)})" if notes else "") + "."
        if not found["conforms_to_rai"]:
            msg += " It does not declare dct:conformsTo http://mlcommons.org/croissant/RAI/1.0."
        return [self.finding(
            scope="dataset", value=float(len(missing)), threshold=0.0, status="fail" if missing else "pass",
            reason_code="missing_tag" if missing else None, message=msg,
            evidence={"file": path, "missing": missing, "present": found["present"], "empty": found["empty"],
                      "misplaced": found["misplaced"], "recommended_missing": recommended,
                      "conforms_to_rai": found["conforms_to_rai"]})]
