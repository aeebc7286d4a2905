"""Croissant 1.1 + RAI 1.0 description of an audited run's data (``synthproof compliance RUN --croissant``).

:func:`croissant` builds, from a stored run folder (``findings.parquet``, ``manifest.json``) and the
run's input files, one JSON-LD document:

* the files (``distribution``): one ``cr:FileObject`` per input file with its ``contentUrl``,
  ``encodingFormat``, ``contentSize`` and the ``sha256`` of its bytes (streamed), checked against the
  content hash the run recorded, so the description is of the data that was audited; an input of
  several shards also gets a ``cr:FileSet`` listing them;
* one ``cr:RecordSet`` per input (``synthetic``, ``real``, ``holdout``) with one ``cr:Field`` per
  column: its Arrow type mapped to a Croissant ``dataType`` and its synthproof role;
* ``prov:wasDerivedFrom`` / ``prov:wasGeneratedBy`` (W3C PROV-O, as Croissant 1.1 "Provenance
  Representation" recommends) from the synthetic data's signed provenance manifest and the parents
  recorded along its lineage, else from the run's inputs;
* the RAI properties the run can fill (:data:`FROM_RUN`): data limitations from the failing and
  warning drift, diversity and validity findings, the subgroups too small to compare and the checks
  not run; biases from the bias findings; preprocessing from the duplication counts; personal and
  sensitive information from the audited sensitive columns and the privacy family; missing data;
  the raw (real) data; the collection from the generator metadata. Every other RAI property, and
  licence, version, citation, creators, only from the reviewer's attestations.

References: Croissant Format Specification 1.1, MLCommons (http://mlcommons.org/croissant/1.1):
"Resources", "RecordSets", "Data Types", "Provenance Representation", "Appendix 1: JSON-LD context";
Croissant RAI Specification 1.0, MLCommons (http://mlcommons.org/croissant/RAI/1.0), its vocabulary
``croissant_rai.ttl`` and use cases 1 (data life cycle), 4 (AI safety and fairness) and 6 (regulatory
compliance); W3C PROV-O (2013).

mlcroissant 1.1.1 spells two RAI 1.0 properties differently (:data:`MLCROISSANT_SPELLINGS`); this
export uses the vocabulary's names, which mlcroissant therefore drops when it loads the file.
"""

from __future__ import annotations

import glob
import hashlib
import json
import os
import pathlib
import urllib.parse
from dataclasses import dataclass, field

import pandas as pd
import pyarrow as pa

from synthproof.errors import InputError

from .rai import (FROM_RUN, MLCROISSANT_SPELLINGS, RAI_NS, RAI_PROPERTIES, REVIEWER_FIELDS, _ONE,  # noqa: F401
                  attested_fields, rai_from_run)

CROISSANT_1_1 = "http://mlcommons.org/croissant/1.1"
RAI_1_0 = "http://mlcommons.org/croissant/RAI/1.0"
PROV_NS = "http://www.w3.org/ns/prov#"

#: The JSON-LD context: mlcroissant 1.1.1's standard Croissant 1.1 context (Appendix 1 of the
#: specification, with ``https://schema.org/`` as mlcroissant expects) plus PROV-O.
CONTEXT = {
    "@language": "en", "@vocab": "https://schema.org/", "sc": "https://schema.org/",
    "cr": "http://mlcommons.org/croissant/", "rai": RAI_NS, "dct": "http://purl.org/dc/terms/", "prov": PROV_NS,
    "arrayShape": "cr:arrayShape", "citeAs": "cr:citeAs", "column": "cr:column", "conformsTo": "dct:conformsTo",
    "containedIn": "cr:containedIn", "data": {"@id": "cr:data", "@type": "@json"},
    "dataType": {"@id": "cr:dataType", "@type": "@vocab"}, "description": {"@container": "@language"},
    "equivalentProperty": "cr:equivalentProperty", "examples": {"@id": "cr:examples", "@type": "@json"},
    "extract": "cr:extract", "field": "cr:field", "fileProperty": "cr:fileProperty", "fileObject": "cr:fileObject",
    "fileSet": "cr:fileSet", "format": "cr:format", "includes": "cr:includes", "isArray": "cr:isArray",
    "isLiveDataset": "cr:isLiveDataset", "jsonPath": "cr:jsonPath", "key": "cr:key", "md5": "cr:md5",
    "name": {"@container": "@language"}, "parentField": "cr:parentField", "path": "cr:path",
    "recordSet": "cr:recordSet", "references": "cr:references", "regex": "cr:regex", "repeated": "cr:repeated",
    "replace": "cr:replace", "samplingRate": "cr:samplingRate", "separator": "cr:separator", "source": "cr:source",
    "subField": "cr:subField", "transform": "cr:transform",
}

_ENCODING = {"parquet": "application/x-parquet", "csv": "text/csv", "jsonl": "application/jsonlines"}
_COMPRESSED = {"gzip": "application/gzip", "zstd": "application/zstd"}


# ------------------------------------------------------------------------------------------ inputs

@dataclass
class InputFiles:
    """One input of the run as files: ``name`` (real, synthetic, holdout), the resolved source, the
    manifest's record of it, and per shard ``(label, rel, sha256, bytes)``."""

    name: str
    source: object
    recorded: dict
    shards: list = field(default_factory=list)
    verified: bool = False


def _read_run(run_dir) -> tuple[pd.DataFrame, dict]:
    from synthproof.apps.cli_ci import read_run
    from synthproof.findings import table_to_frame

    p = pathlib.Path(run_dir)
    if not p.exists():
        raise InputError(f"no such run folder: {p}")
    table, manifest, _ = read_run(str(p))
    if not manifest.get("inputs"):
        raise InputError(f"{p}: the run's manifest records no inputs (pass the folder `synthproof audit --out` wrote)")
    return table_to_frame(table), manifest


def _hash_shards(src, name: str) -> tuple[list, str]:
    """Per shard ``(label, rel, sha256 hex, bytes)`` and the run's content hash of the whole input
    (:func:`synthproof.io.compose_digest` of each file's blake2b-128), in one streaming pass."""
    from synthproof.io import compose_digest
    from synthproof.sources import open_stream

    out, digests = [], []
    for shard in src.shards:
        sha, b2, size = hashlib.sha256(), hashlib.blake2b(digest_size=16), 0
        with open_stream(src, shard, name, decompress=False) as fh:
            for block in iter(lambda: fh.read(1 << 22), b""):
                sha.update(block)
                b2.update(block)
                size += len(block)
        out.append((shard.label, shard.rel, sha.hexdigest(), size))
        digests.append(b2.digest())
    return out, compose_digest(digests)


def input_files(manifest: dict, inputs: dict | None = None) -> tuple[list[InputFiles], list[str]]:
    """The run's inputs that are files, hashed, and warnings for those that are not.

    Parameters
    ----------
    manifest : dict
        The run's manifest (its ``inputs``: name, source, content_hash, rows, columns).
    inputs : dict, optional
        ``{input name: path}`` where the files are now, when not at the recorded source.

    Raises
    ------
    InputError
        A recorded file is missing or unreadable, its bytes differ from the content hash the run
        recorded, or the synthetic input is not a file.
    """
    from synthproof.sources import resolve

    out, warnings = [], []
    for rec in manifest.get("inputs") or []:
        name = str(rec.get("name"))
        given = (inputs or {}).get(name, rec.get("source"))
        if not isinstance(given, (str, os.PathLike)) or str(given).startswith("<"):
            warnings.append(f"{name}: the run read an in-memory table ({given}); it is not described "
                            "(pass inputs={name: path} to describe a file of it)")
            continue
        try:
            src = resolve(given, name)
        except InputError as exc:
            if "://" in str(given) or os.path.isabs(str(given)):
                raise
            raise InputError(f"{exc} (the run recorded this path relative to the folder the audit ran in: run "
                             "from there, or pass where the file is now)") from None
        shards, digest = _hash_shards(src, name)
        recorded = str(rec.get("content_hash") or "")
        inp = InputFiles(name, src, dict(rec), shards, verified=digest == recorded)
        if not inp.verified:
            if not str(rec.get("source", "<")).startswith("<"):
                raise InputError(f"{name}: {src.label} is not the data the run audited (its content hash "
                                 f"{digest} differs from the recorded {recorded})")
            warnings.append(f"{name}: {src.label} is described as given; the run read an in-memory table, so its "
                            "bytes cannot be checked against the run")
        out.append(inp)
    if not any(i.name == "synthetic" for i in out):
        raise InputError("the run's synthetic input is not a file: a Croissant description needs the files "
                         "(audit files with `synthproof audit --synthetic PATH`, or pass inputs={'synthetic': path})")
    return out, warnings


# ------------------------------------------------------------------------------------------ resources

def data_type(t: pa.DataType) -> tuple[str, bool]:
    """Croissant 1.1 ``dataType`` ("Data Types") of an Arrow type, and whether it is an array
    (``isArray``: a list of that type). Types Croissant has no class for (binary, structs, maps,
    durations) are ``sc:Text``."""
    if pa.types.is_dictionary(t):
        return data_type(t.value_type)
    if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t):
        return data_type(t.value_type)[0], True
    for test, name in ((pa.types.is_boolean, "sc:Boolean"), (pa.types.is_integer, "sc:Integer"),
                       (pa.types.is_floating, "sc:Float"), (pa.types.is_decimal, "sc:Float"),
                       (pa.types.is_timestamp, "sc:DateTime"), (pa.types.is_date, "sc:Date"),
                       (pa.types.is_time, "sc:Time")):
        if test(t):
            return name, False
    return "sc:Text", False


def _encoding(fmt: str, rel: str) -> str:
    from synthproof.sources import compression_of, is_tsv

    comp = compression_of(rel)
    if comp and fmt != "parquet":
        return _COMPRESSED[comp]
    return "text/tab-separated-values" if fmt == "csv" and is_tsv(rel) else _ENCODING[fmt]


def _url(label: str, src, base: pathlib.Path) -> str:
    if src.remote:
        return label
    return pathlib.Path(os.path.relpath(os.path.abspath(label), os.path.abspath(base))).as_posix()


def distribution(inp: InputFiles, base: pathlib.Path) -> tuple[list[dict], dict]:
    """The ``cr:FileObject`` of each file of an input (and a ``cr:FileSet`` of its shards when it has
    several), and the reference a field's ``source`` uses."""
    src = inp.source
    files = []
    for label, rel, sha, size in inp.shards:
        url = _url(label, src, base)
        fid = f"{inp.name}-data" if not src.folder else f"{inp.name}-data/{urllib.parse.quote(rel)}"
        files.append({"@type": "cr:FileObject", "@id": fid, "name": os.path.basename(rel), "contentUrl": url,
                      "encodingFormat": _encoding(src.format, rel), "contentSize": f"{size} B", "sha256": sha,
                      "description": f"{inp.name} data" + (f", shard {rel}" if src.folder else "")
                                     + f" (read by synthproof as {src.format})."})
    if not src.folder:
        return files, {"fileObject": {"@id": files[0]["@id"]}}
    fs = {"@type": "cr:FileSet", "@id": f"{inp.name}-data", "name": f"{inp.name} shards",
          "description": f"The {len(files)} shards of the {inp.name} data, in the order synthproof read them.",
          "encodingFormat": _encoding(src.format, inp.shards[0][1]),
          "includes": [glob.escape(f["contentUrl"]) for f in files]}
    return files + [fs], {"fileSet": {"@id": fs["@id"]}}


def _schema(inp: InputFiles, config: dict) -> pa.Schema:
    from synthproof.sources import iter_batches

    for _, _, batch in iter_batches(inp.source.given, inp.name, batch_rows=1024, encoding=config.get("encoding"),
                                    delimiter=config.get("delimiter")):
        return batch.schema
    raise InputError(f"{inp.name}: {inp.source.label} holds no rows")


def record_set(inp: InputFiles, schema: pa.Schema, manifest: dict, ref: dict) -> dict:
    """The ``cr:RecordSet`` of one input: a ``cr:Field`` per column (``extract.column``), its data type
    and, in its description, the role the run gave it."""
    roles = manifest.get("columns") or {}
    only = set(manifest.get("synthetic_only_columns") or [])
    fields = []
    for f in schema:
        meta = roles.get(f.name) or {}
        role = ("synthetic-only column (not audited against real)" if f.name in only else
                f"role {meta.get('role')}" + (" (inferred)" if meta.get("inferred") else "") if meta else
                "not audited (not shared by the inputs)")
        dtype, many = data_type(f.type)
        entry = {"@type": "cr:Field", "@id": f"{inp.name}/{urllib.parse.quote(f.name, safe='')}", "name": f.name,
                 "description": f"synthproof {role}; Arrow type {f.type}.", "dataType": dtype,
                 "source": {**ref, "extract": {"column": f.name}}}
        if many:
            entry["isArray"] = True
        fields.append(entry)
    rows, cols = int(inp.recorded.get("rows") or 0), int(inp.recorded.get("columns") or len(fields))
    return {"@type": "cr:RecordSet", "@id": inp.name, "name": inp.name, "field": fields,
            "description": f"The {inp.name} data as synthproof read it in run {manifest.get('run_id')}: {rows:,} rows "
                           f"x {cols} columns."}


# ------------------------------------------------------------------------------------------ provenance

def _sidecar(syn: InputFiles, manifest: dict):
    from synthproof.provenance.sidecar import SidecarError, default_sidecar_path, load_sidecar

    side = ((manifest.get("config") or {}).get("provenance") or {}).get("sidecar")
    if syn.source.remote:
        return None
    side = side or default_sidecar_path(syn.source.given)
    if not os.path.isfile(side):
        return None
    try:
        return load_sidecar(side)
    except SidecarError as exc:
        raise InputError(f"synthetic: {exc}") from None


def _entity(parent: dict, side_dir: str, depth: int, seen: set) -> dict:
    """A PROV entity for a parent recorded in a signed manifest, with its own recorded parents (the
    lineage, read from the sidecars along the chain; Merkle roots as recorded, not recomputed)."""
    from synthproof.provenance.sidecar import SidecarError, default_sidecar_path, load_sidecar

    e = {"@type": "prov:Entity", "prov:label": str(parent.get("name")),
         "sc:identifier": f"merkle-root:{parent.get('merkle_root')}",
         "sc:description": f"{int(parent.get('records') or 0):,} records; RFC 6962 Merkle root as recorded in a "
                           "signed synthproof provenance manifest (synthproof-manifest/1)."}
    path = os.path.normpath(os.path.join(side_dir, str(parent.get("path", ""))))
    side = default_sidecar_path(path)
    if depth >= 100 or os.path.realpath(path) in seen or not os.path.isfile(side):
        return e
    seen.add(os.path.realpath(path))
    try:
        m = load_sidecar(side).extra.get("manifest")
    except SidecarError:
        return e
    if isinstance(m, dict) and m.get("parents"):
        e["prov:wasDerivedFrom"] = [_entity(p, os.path.dirname(side), depth + 1, seen)
                                    for p in m["parents"] if isinstance(p, dict)]
    return e


def _signature_status(findings: pd.DataFrame) -> str:
    s = findings[(findings["check_id"] == "provenance.signature") & (findings["scope"] == "dataset")]
    return ", ".join(sorted(set(s["status"]))) or "not run"


def provenance(files: list[InputFiles], manifest: dict, findings: pd.DataFrame) -> tuple[dict, list[str]]:
    """PROV-O properties of the dataset and the ``rai:dataCollection`` lines from the generator."""
    syn = next(i for i in files if i.name == "synthetic")
    sc = _sidecar(syn, manifest)
    signed = sc.extra.get("manifest") if sc is not None and isinstance(sc.extra.get("manifest"), dict) else None
    out: dict = {}
    collection: list[str] = []
    if signed is not None:
        seen = {os.path.realpath(str(syn.source.given))}
        parents = [p for p in signed.get("parents") or [] if isinstance(p, dict)]
        if parents:
            out["prov:wasDerivedFrom"] = [_entity(p, os.path.dirname(sc.path), 1, seen) for p in parents]
    else:
        out["prov:wasDerivedFrom"] = [
            {"@type": "prov:Entity", "prov:label": os.path.basename(str(i.source.label).rstrip("/")),
             "sc:description": f"the {i.name} data the synthetic data was audited against in run "
                               f"{manifest.get('run_id')} (declared by the audit's inputs, not signed)"}
            for i in files if i.name == "real"]
    gen = dict(signed.get("generator") or {}) if signed is not None else {}
    fields = dict(sc.fields) if sc is not None else {}
    model = gen.get("model") or fields.get("generator")
    version = gen.get("version") or fields.get("generator_version")
    if model:
        label = " ".join(str(x) for x in (model, version) if x)
        detail = [f"{k} {json.dumps(gen[k], sort_keys=True)}" for k in ("seed", "sampling", "prompt_template_id")
                  if gen.get(k) is not None]
        where = (f"the signed provenance manifest {os.path.basename(sc.path)} (Ed25519 key "
                 f"{(sc.extra.get('signature') or {}).get('key_id')}; provenance.signature in this run: "
                 f"{_signature_status(findings)})" if signed is not None else
                 f"the unsigned provenance tags of {os.path.basename(sc.path)}")
        act = {"@type": "prov:Activity", "prov:label": f"generation by {label}",
               "prov:wasAssociatedWith": {"@type": "prov:SoftwareAgent", "prov:label": label},
               "sc:description": "; ".join(detail + [f"as recorded in {where}"])}
        out["prov:wasGeneratedBy"] = act
        parents = ", ".join(str(p.get("name")) for p in (signed or {}).get("parents") or [] if isinstance(p, dict))
        collection.append(f"Synthetic data generated by {label}" + (f" ({'; '.join(detail)})" if detail else "")
                          + (f" from {parents}" if parents else "")
                          + (f", generation {signed.get('generation')}" if (signed or {}).get("generation") is not None
                             else "") + f"; as recorded in {where}.")
    if fields.get("created_at"):
        out["prov:generatedAtTime"] = str(fields["created_at"])
    return out, collection


# ------------------------------------------------------------------------------------------ document

def croissant(run_dir, *, base=None, attestations=None, inputs: dict | None = None) -> tuple[dict, list[str]]:
    """The Croissant 1.1 + RAI 1.0 JSON-LD description of a stored run's data.

    Parameters
    ----------
    run_dir : str or os.PathLike
        The run's output folder (or its ``findings.parquet``), as ``synthproof audit --out`` wrote it.
    base : str or os.PathLike, optional
        The folder local ``contentUrl`` paths are relative to: where the JSON-LD file will be
        [default: the run folder].
    attestations : Attestations or dict, optional
        The reviewer's answers (:func:`attested_fields`); appended to what the run fills.
    inputs : dict, optional
        ``{input name: path}`` for inputs no longer at their recorded source.

    Returns
    -------
    doc : dict
        The JSON-LD document (no timestamp but the run's and the provenance records').
    warnings : list of str
        What could not be described, and the reviewer fields (:data:`REVIEWER_FIELDS`) left empty.

    Raises
    ------
    InputError
        A missing or unreadable run folder, manifest or input file; an input whose bytes are not the
        ones the run audited; an unknown attestation key. Nothing is written.
    """
    findings, manifest = _read_run(run_dir)
    run = pathlib.Path(run_dir)
    base = pathlib.Path(base) if base is not None else (run if run.is_dir() else run.parent)
    files, warnings = input_files(manifest, inputs)
    config = manifest.get("config") or {}
    order = {"synthetic": 0, "real": 1, "holdout": 2}
    files.sort(key=lambda i: (order.get(i.name, 3), i.name))
    dist, sets = [], []
    for inp in files:
        objs, ref = distribution(inp, base)
        if inp.source.folder and not inp.source.remote and any(o.get("contentUrl", "").startswith("../") for o in objs):
            warnings.append(f"{inp.name}: its shards are not below {base}; mlcroissant 1.1.1 reads a local FileSet "
                            "only below the Croissant file's folder (write the file beside or above the data)")
        dist += objs
        sets.append(record_set(inp, _schema(inp, config), manifest, ref))
    prov, collection = provenance(files, manifest, findings)
    rai = rai_from_run(findings, manifest, collection)
    att_rai, att_schema = attested_fields(attestations)
    for prop, texts in att_rai.items():
        rai[prop] = rai.get(prop, []) + [f"Reviewer's attestation: {t}" for t in texts]
    syn = files[0]
    rec = syn.recorded
    doc = {"@context": CONTEXT, "@type": "sc:Dataset", "conformsTo": [CROISSANT_1_1, RAI_1_0],
           "name": os.path.basename(str(syn.source.label).rstrip("/")),
           "description": f"Synthetic data ({int(rec.get('rows') or 0):,} rows x {int(rec.get('columns') or 0)} "
                          f"columns) audited by synthproof {manifest.get('version')} in run {manifest.get('run_id')} "
                          f"against the real data it imitates: gate verdict {manifest.get('verdict')}. The record "
                          "sets describe every input of the run; the RAI properties come from the run's findings "
                          "and the reviewer's attestations.",
           "distribution": dist, "recordSet": sets, **prov, **att_schema}
    for prop in RAI_PROPERTIES:
        texts = rai.get(prop)
        if texts:
            doc[f"rai:{prop}"] = "\n".join(texts) if prop in _ONE or len(texts) == 1 else list(texts)
    for prop in REVIEWER_FIELDS:
        if f"rai:{prop}" not in doc:
            warnings.append(f"rai:{prop} is not filled from the run; the reviewer's attestation must answer it")
    return doc, warnings


def to_bytes(doc: dict) -> bytes:
    """The JSON-LD file's bytes: sorted keys, two-space indent, UTF-8, a final newline."""
    return (json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")


def write_croissant(run_dir, out_path, attestations=None, inputs: dict | None = None) -> list[str]:
    """Write the Croissant 1.1 + RAI 1.0 description of a run's data (:func:`croissant`) to ``out_path``.

    The file is written to a fresh temporary file in its folder and renamed into place; the run
    folder and the input files are only read, and ``out_path`` may not be one of them.

    Parameters
    ----------
    run_dir : str or os.PathLike
        The run's output folder (or its ``findings.parquet``).
    out_path : str or os.PathLike
        The JSON-LD file to write; local ``contentUrl`` paths are relative to its folder.
    attestations : Attestations or dict, optional
        The reviewer's answers (:func:`attested_fields`).
    inputs : dict, optional
        ``{input name: path}`` for inputs no longer at their recorded source.

    Returns
    -------
    list of str
        Warnings: inputs not described, reviewer fields left empty.

    Raises
    ------
    InputError
        See :func:`croissant`; also an ``out_path`` that is a folder, an input or a file of the run.
    """
    from synthproof.result import atomic_write

    out = pathlib.Path(out_path)
    if out.is_dir():
        raise InputError(f"--croissant {out} is a folder: pass the path of the JSON-LD file to write")
    doc, warnings = croissant(run_dir, base=out.parent, attestations=attestations, inputs=inputs)
    run = pathlib.Path(run_dir)
    run = run if run.is_dir() else run.parent
    protected = {os.path.realpath(run / n) for n in ("findings.parquet", "manifest.json", "report.html",
                                                     "summary.json")}
    for rs in doc["distribution"]:
        if rs["@type"] == "cr:FileObject" and "://" not in rs["contentUrl"]:
            protected.add(os.path.realpath(out.parent / rs["contentUrl"]))
    if os.path.realpath(out) in protected:
        raise InputError(f"--croissant {out} is an input or a file of the run; choose another path")
    atomic_write(out, to_bytes(doc))
    return warnings
