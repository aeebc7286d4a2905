"""The signed cover of a compliance record: the SHA-256 of every file of the record and of the run
it rests on, signed with the provenance key (Ed25519 over RFC 8785 bytes, the format of
:mod:`synthproof.provenance.manifest`). EU AI Act Annex IV asks for the logs of a system's
validation and testing to be "dated and signed"; the cover is that date and signature.

``synthproof provenance verify RUN/compliance.cover.json --public-key KEY`` checks the signature,
that the key is trusted, and that every listed file still has its signed hash: editing any covered
file, or the cover itself, fails the verification.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import pathlib
from dataclasses import dataclass, field

from synthproof.errors import InputError

COVER_FORMAT = "synthproof-compliance-cover/1"
COVER_NAME = "compliance.cover.json"
RUN_FILES = ("findings.parquet", "manifest.json", "report.html", "summary.json")


def utc_now() -> str:
    """The current UTC time, ISO 8601 to the second with a ``Z``."""
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def sha256_file(path: pathlib.Path, chunk: int = 1 << 20) -> str:
    """Hex SHA-256 of a file's bytes, read in ``chunk``-byte blocks (bounded memory)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(chunk), b""):
            h.update(block)
    return h.hexdigest()


def cover_document(record: dict[str, bytes], base: pathlib.Path, extra_files: list[pathlib.Path],
                   manifest: dict, counts: dict, signed_at: str | None = None) -> dict:
    """The unsigned cover of a record about to be published in folder ``base``.

    Parameters
    ----------
    record : dict
        The record's files (name -> bytes), to be published in ``base``.
    base : pathlib.Path
        The folder the cover is published in; every path in the cover is relative to it (POSIX form).
    extra_files : list of pathlib.Path
        Files already on disk the record rests on (the run's findings, manifest, report; a Croissant
        export); hashed as they are now.
    manifest : dict
        The run's manifest (its ``run_id``, ``verdict``, ``finished_at`` are recorded).
    counts : dict
        Clause rows per status.
    signed_at : str, optional
        UTC ISO 8601 time of signing; default now.

    Returns
    -------
    dict
        ``format``, ``run_id``, ``verdict``, ``run_finished_at``, ``signed_at``, ``clause_status_counts``
        and ``files`` (sorted by path: ``path``, ``sha256``, ``bytes``).
    """
    files = [{"path": name, "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
             for name, data in record.items()]
    for p in extra_files:
        rel = pathlib.Path(os.path.relpath(p, base)).as_posix()
        files.append({"path": rel, "sha256": sha256_file(p), "bytes": p.stat().st_size})
    now = signed_at or utc_now()
    return {"format": COVER_FORMAT, "run_id": manifest.get("run_id"), "verdict": manifest.get("verdict"),
            "run_finished_at": manifest.get("finished_at"), "signed_at": now,
            "clause_status_counts": {str(k): int(v) for k, v in counts.items()},
            "files": sorted(files, key=lambda f: f["path"])}


def run_files(run_folder: pathlib.Path) -> list[pathlib.Path]:
    """The run's own files that exist in ``run_folder`` (:data:`RUN_FILES`)."""
    return [run_folder / n for n in RUN_FILES if (run_folder / n).is_file()]


def sign_cover(doc: dict, key_spec: str) -> bytes:
    """The signed cover as file bytes (``key_spec``: a private key file or ``env:NAME``)."""
    from synthproof.provenance.manifest import load_private_key, sign_document

    signed = sign_document(doc, load_private_key(key_spec))
    return (json.dumps(signed, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()


def is_cover(path: str) -> bool:
    """True when ``path`` is a JSON file holding a compliance cover (read only when small)."""
    p = pathlib.Path(path)
    try:
        if p.suffix != ".json" or not p.is_file() or p.stat().st_size > 16 << 20:
            return False
        doc = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return False
    return isinstance(doc, dict) and doc.get("format") == COVER_FORMAT


@dataclass
class CoverVerification:
    """What :func:`verify_cover` found; ``ok`` when a trusted valid signature covers unchanged files."""

    signature: object  # synthproof.provenance.manifest.SignatureCheck
    files: list[tuple[str, str]] = field(default_factory=list)  # (path, "ok" | "changed" | "missing")
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return (self.signature.valid and self.signature.trusted and not self.problems
                and all(s == "ok" for _, s in self.files))


def verify_cover(path: str, trusted: list[str]) -> CoverVerification:
    """Verify a compliance cover: its signature, the trust of its key, and every file's SHA-256.

    Parameters
    ----------
    path : str
        The cover (``compliance.cover.json``).
    trusted : list of str
        Public-key files or ``env:NAME``.

    Returns
    -------
    CoverVerification

    Raises
    ------
    InputError
        The cover cannot be read, or a key file cannot.
    """
    from synthproof.provenance.manifest import check_signature, load_public_keys

    keys = [k for spec in trusted for k in load_public_keys(spec)]
    p = pathlib.Path(path)
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"cannot read the compliance cover {path}: {str(exc).splitlines()[0]}") from None
    v = CoverVerification(signature=check_signature(doc, keys))
    if v.signature.problem:
        v.problems.append(v.signature.problem)
    entries = doc.get("files")
    if not isinstance(entries, list) or not entries:
        v.problems.append("the cover lists no files")
        return v
    for e in entries:
        rel = str(e.get("path", "")) if isinstance(e, dict) else ""
        if not rel or pathlib.PurePosixPath(rel).is_absolute():
            v.problems.append(f"the cover lists a bad path {rel!r}")
            continue
        target = p.parent / rel
        if not target.is_file():
            v.files.append((rel, "missing"))
        else:
            v.files.append((rel, "ok" if sha256_file(target) == e.get("sha256") else "changed"))
    return v
