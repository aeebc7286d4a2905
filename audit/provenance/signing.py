"""Sign a dataset's provenance sidecar and verify it (the ``synthproof provenance`` commands and the
``provenance.signature`` check). The format is documented in :mod:`.manifest`."""

from __future__ import annotations

import datetime as dt
import json
import os
import pathlib
from dataclasses import dataclass, field

from synthproof.errors import InputError

from .manifest import (FORMAT, RecordDiff, SignatureCheck, check_signature, diff_records, load_private_key,
                       load_public_keys, read_records, sign_document, sorted_root, table_leaves,
                       write_records)
from .sidecar import FORMAT_KEY, FORMAT_VERSION, SidecarError, default_sidecar_path, load_sidecar


def _utc_now() -> str:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _load_table(data_path: str):
    from synthproof.io import load

    table, _ = load(data_path, "data")
    return table


def _ids(table, id_column: str | None) -> list | None:
    if id_column is None:
        return None
    if id_column not in table.column_names:
        raise InputError(f"id column {id_column!r} is not a column of the data")
    ids = table.column(id_column).to_pylist()
    if any(i is None for i in ids):
        raise InputError(f"id column {id_column!r} has missing values")
    return ids


def records_file_for(side: pathlib.Path) -> pathlib.Path:
    """The records file beside a sidecar: ``<data>.provenance.json`` -> ``<data>.provenance.records.parquet``."""
    return side.with_name((side.name[:-5] if side.name.endswith(".json") else side.name) + ".records.parquet")


def data_root(data_path: str) -> tuple[str, int]:
    """(hex order-free Merkle root, records) of a dataset, computed from its content (never from a
    manifest, which may be stale)."""
    leaves = table_leaves(_load_table(data_path))
    return sorted_root(leaves).hex(), len(leaves)


def _parent(path: str, base: pathlib.Path) -> dict:
    root, n = data_root(path)
    return {"name": os.path.basename(path.rstrip("/\\")), "path": os.path.relpath(path, base),
            "merkle_root": root, "records": n}


def walk_parents(data_path: str, max_depth: int = 1000) -> list[str]:
    """The chain GEN0 .. ``data_path`` recorded in signed manifests: from ``data_path`` follow each
    manifest's first parent (its ``path``, relative to the sidecar) until a dataset without parents.

    Raises
    ------
    InputError
        A dataset without a signed manifest before the chain ends at generation 0, a parent path that
        does not exist, a parent whose Merkle root no longer matches the recorded one, or a cycle.
    """
    chain = [str(data_path)]
    seen = {os.path.realpath(data_path)}
    while len(chain) <= max_depth:
        side = default_sidecar_path(chain[-1])
        if not os.path.exists(side):
            if len(chain) == 1:
                raise InputError(f"{chain[-1]}: no provenance sidecar with a manifest to follow")
            break  # the real data need not be signed
        m = load_sidecar(side).extra.get("manifest")
        if not isinstance(m, dict) or not m.get("parents"):
            break
        parent = m["parents"][0]
        ppath = os.path.normpath(os.path.join(os.path.dirname(side), str(parent.get("path", ""))))
        if not os.path.exists(ppath):
            raise InputError(f"{chain[-1]}: parent {parent.get('name')!r} not found at {ppath}")
        root, _ = data_root(ppath)
        if root != parent.get("merkle_root"):
            raise InputError(f"{chain[-1]}: parent {ppath} changed since it was recorded (Merkle root differs)")
        if os.path.realpath(ppath) in seen:
            raise InputError(f"{chain[-1]}: the parents form a cycle")
        seen.add(os.path.realpath(ppath))
        chain.append(ppath)
    return chain[::-1]


def sign_data(data_path: str, key_spec: str, *, id_column: str | None = None, generator: dict | None = None,
              parents: list[str] = (), generation: int | None = None, sidecar: str | None = None,
              progress=None) -> dict:
    """Hash every record of ``data_path``, write the records file, and write the signed sidecar.

    Parameters
    ----------
    data_path : str
        A Parquet file or folder, CSV or JSONL (read as the audit reads it; never modified).
    key_spec : str
        Ed25519 private key: a file path or ``env:NAME`` (see :func:`.manifest.load_private_key`).
    id_column : str, optional
        Column naming each record (unique, non-null); records are then matched by id on verification.
    generator : dict, optional
        ``model``, ``version``, ``prompt_template_id``, ``sampling`` (object), ``seed``; None values dropped.
    parents : list of str
        Parent datasets (paths); each contributes its name and Merkle root.
    generation : int, optional
        Generation index (0 = real data).
    sidecar : str, optional
        The sidecar path (default ``<data>.provenance.json``); its ``fields`` are kept.

    Returns
    -------
    dict
        The signed sidecar object as written.

    Raises
    ------
    InputError
        Unreadable data, a bad id column, a bad key (the key is never echoed), an invalid existing sidecar.
    """
    key = load_private_key(key_spec)  # fail on the key before hashing anything
    side = pathlib.Path(sidecar or default_sidecar_path(data_path))
    fields: dict = {}
    extra: dict = {}
    if side.exists():
        old = load_sidecar(side)
        fields = dict(old.fields)
        extra = {k: v for k, v in old.extra.items() if k not in ("manifest", "signature")}
    table = _load_table(data_path)
    ids = _ids(table, id_column)
    if ids is not None and len(set(map(str, ids))) != len(ids):
        raise InputError(f"id column {id_column!r} has repeated values; records must have unique ids")
    leaves = table_leaves(table, progress=progress)
    rec = records_file_for(side)
    rec_sha = write_records(rec, leaves, ids)
    gen = {k: v for k, v in (generator or {}).items() if v is not None}
    now = _utc_now()
    for name, value in (("generator", gen.get("model")), ("generator_version", gen.get("version")),
                        ("created_at", now), ("is_synthetic", True if generation != 0 else False)):
        if value is not None:
            fields.setdefault(name, value)
    manifest = {
        "format": FORMAT, "records": len(leaves), "columns": list(table.column_names), "id_column": id_column,
        "canonicalization": "RFC 8785", "leaf_hash": "sha256(0x00 || JCS(record))",
        "tree": "RFC 6962 over the bytewise-sorted leaf hashes (order-free)",
        "merkle_root": sorted_root(leaves).hex(), "records_file": rec.name, "records_sha256": rec_sha,
        "generator": gen,
        "parents": [_parent(str(p), side.parent) for p in parents],
        "generation": generation, "created_at": now,
    }
    doc = sign_document({FORMAT_KEY: FORMAT_VERSION, "fields": fields, **extra, "manifest": manifest}, key)
    tmp = side.with_name(side.name + ".tmp")
    tmp.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, side)
    return doc


@dataclass
class Verification:
    """What :func:`verify_data` found; ``ok`` when a trusted valid signature covers unchanged records."""

    manifest: bool
    signature: SignatureCheck | None = None
    diff: RecordDiff = field(default_factory=RecordDiff)
    problems: list[str] = field(default_factory=list)
    records_signed: int = 0
    records_now: int = 0
    id_column: str | None = None
    signed_ids: list | None = None
    now_ids: list | None = None

    @property
    def ok(self) -> bool:
        return (self.manifest and self.signature is not None and self.signature.valid and self.signature.trusted
                and self.diff.clean and not self.problems)


def verify_data(data_path: str, trusted: list[str], sidecar: str | None = None, table=None) -> Verification:
    """Verify the signed sidecar of ``data_path`` against trusted public keys and the data itself.

    Parameters
    ----------
    data_path : str
    trusted : list of str
        Public-key files or ``env:NAME`` (see :func:`.manifest.load_public_keys`); may be empty (then no
        signature is trusted).
    sidecar : str, optional
        Default ``<data>.provenance.json``.
    table : pyarrow.Table, optional
        The data already read (skips reading ``data_path``).

    Returns
    -------
    Verification

    Raises
    ------
    InputError
        Unreadable data or key files. A missing or invalid sidecar is a finding, not an error.
    """
    keys = [k for spec in trusted for k in load_public_keys(spec)]
    side = pathlib.Path(sidecar or default_sidecar_path(data_path))
    if not side.exists():
        return Verification(False, problems=[f"no provenance sidecar ({side.name}): the manifest is missing"])
    try:
        sc = load_sidecar(side)
    except SidecarError as exc:
        return Verification(False, problems=[str(exc)])
    manifest = sc.extra.get("manifest")
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        return Verification(False, problems=[f"{side.name} has no synthproof manifest (run synthproof provenance sign)"])
    doc = {FORMAT_KEY: sc.version, "fields": dict(sc.fields), **dict(sc.extra)}
    v = Verification(True, signature=check_signature(doc, keys), id_column=manifest.get("id_column"),
                     records_signed=int(manifest.get("records", 0)))
    if v.signature.problem:
        v.problems.append(v.signature.problem)
    rec = side.parent / str(manifest.get("records_file", ""))
    try:
        signed, signed_ids, sha = read_records(rec)
    except (OSError, InputError) as exc:
        v.problems.append(f"the records file {rec.name} cannot be read ({exc})")
        return v
    if sha != manifest.get("records_sha256"):
        v.problems.append(f"the records file {rec.name} does not match the signed manifest (edited or replaced)")
    if sorted_root(signed).hex() != manifest.get("merkle_root"):
        v.problems.append("the records file does not reproduce the signed Merkle root")
    if table is None:
        table = _load_table(data_path)
    now = table_leaves(table)
    v.records_now = len(now)
    now_ids = None
    if v.id_column is not None and v.id_column in table.column_names:
        now_ids = table.column(v.id_column).to_pylist()
    elif v.id_column is not None:
        v.problems.append(f"the signed id column {v.id_column!r} is no longer in the data")
    cols_then, cols_now = list(manifest.get("columns") or []), list(table.column_names)
    if cols_then != cols_now:
        added = [c for c in cols_now if c not in cols_then]
        gone = [c for c in cols_then if c not in cols_now]
        v.problems.append("the columns changed since signing" + (f"; added: {', '.join(added)}" if added else "")
                          + (f"; removed: {', '.join(gone)}" if gone else "")
                          + ("; re-ordered" if not added and not gone else ""))
    v.signed_ids, v.now_ids = signed_ids, now_ids
    v.diff = diff_records(signed, signed_ids, now, now_ids)
    return v
