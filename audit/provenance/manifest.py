"""Signed provenance manifests: per-record hashes, an RFC 6962 Merkle root and an Ed25519 signature.

``synthproof provenance sign DATA --key KEY`` adds to the sidecar ``<data>.provenance.json`` (format
version 1; these keys are additive) a ``manifest`` and a ``signature``, and writes the per-record
hashes to ``<data>.provenance.records.parquet``::

    "manifest": {
      "format": "synthproof-manifest/1",
      "records": 32561, "columns": ["age", ...], "id_column": "doc_id" or null,
      "canonicalization": "RFC 8785", "leaf_hash": "sha256(0x00 || JCS(record))",
      "merkle_root": "<64 hex>",                    # RFC 6962 tree over the sorted leaf hashes
      "records_file": "<data>.provenance.records.parquet", "records_sha256": "<64 hex>",
      "generator": {"model": ..., "version": ..., "prompt_template_id": ..., "sampling": {...}, "seed": ...},
      "parents": [{"name": ..., "merkle_root": ...}], "generation": 1,
      "created_at": "2026-11-30T12:00:00Z"
    },
    "signature": {"algorithm": "Ed25519", "key_id": "<16 hex>", "public_key": "<base64, 32 bytes>",
                  "value": "<base64, 64 bytes>"}

* **Record**: a row as a JSON object ``{column: value}`` over every column, canonicalised by RFC 8785
  (JSON Canonicalization Scheme, the ``rfc8785`` package). Values outside I-JSON get a tagged form:
  NaN/inf -> ``{"$float": "nan"}``, integers beyond 2**53 -> ``{"$int": "<digits>"}``, bytes ->
  ``{"$bytes": "<base64>"}``, dates and times -> ISO-8601 strings, decimals -> strings.
* **Leaf** = SHA-256(0x00 || record bytes); inner node = SHA-256(0x01 || left || right) (RFC 6962
  section 2.1, which also fixes the split of an odd number of leaves). The tree is built over the leaf
  hashes **sorted bytewise**, so the root is a property of the multiset of records: re-ordering rows
  does not change it (the canonical form is order-free), every other edit does.
* **Signature**: Ed25519 (RFC 8032, the ``cryptography`` package) over the RFC 8785 bytes of the whole
  sidecar object without its ``signature`` key, so editing any field, the manifest or the generator
  metadata breaks it. The records file is bound by its SHA-256 in the signed manifest.
* **Verification** recomputes the leaves from the data and compares: with an ``id_column``, records are
  matched by id (added, removed, modified, each named); without, as multisets of hashes (added rows
  named by position, removed ones counted; a modified row shows as one removed plus one added).

Keys are Ed25519 keys in PEM (PKCS#8 private, SubjectPublicKeyInfo public) or raw 32 bytes in base64,
read from a file or from an environment variable (``env:NAME``). Private keys are never printed,
logged or written anywhere by synthproof.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import decimal
import hashlib
import math
import os
import pathlib
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from synthproof.errors import InputError

FORMAT = "synthproof-manifest/1"
_MAX_SAFE_INT = 2**53 - 1


class KeyFileError(InputError):
    """A key file or variable is missing or does not hold an Ed25519 key (the key is never echoed)."""


# ---------------------------------------------------------------------------------------------
# canonical records, leaves, Merkle root


def canonical_value(v):
    """A Python value from ``pyarrow`` as an I-JSON value (see the module docstring for the tags)."""
    if v is None or isinstance(v, (bool, str)):
        return v
    if isinstance(v, int):
        return v if abs(v) <= _MAX_SAFE_INT else {"$int": str(v)}
    if isinstance(v, float):
        if math.isfinite(v):
            return v
        return {"$float": "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf")}
    if isinstance(v, (bytes, bytearray, memoryview)):
        return {"$bytes": base64.b64encode(bytes(v)).decode("ascii")}
    if isinstance(v, (dt.datetime, dt.date, dt.time)):
        return v.isoformat()
    if isinstance(v, dt.timedelta):
        return {"$timedelta_us": (v.days * 86_400 + v.seconds) * 1_000_000 + v.microseconds}
    if isinstance(v, decimal.Decimal):
        return str(v)
    if isinstance(v, dict):
        return {str(k): canonical_value(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        if v and isinstance(v[0], tuple) and all(isinstance(x, tuple) and len(x) == 2 for x in v):  # Arrow map
            return {"$map": [[canonical_value(a), canonical_value(b)] for a, b in v]}
        return [canonical_value(x) for x in v]
    if isinstance(v, np.generic):
        return canonical_value(v.item())
    return str(v)


def record_bytes(record: dict) -> bytes:
    """RFC 8785 (JCS) bytes of one record ``{column: value}`` after :func:`canonical_value`."""
    import rfc8785

    return rfc8785.dumps({str(k): canonical_value(v) for k, v in record.items()})


def leaf_hash(data: bytes) -> bytes:
    """RFC 6962 (section 2.1) leaf hash: SHA-256(0x00 || data); 32 bytes. The 0x00/0x01 prefixes keep
    a leaf from ever hashing like an inner node (second-preimage resistance)."""
    return hashlib.sha256(b"\x00" + data).digest()


def merkle_root(leaves: list[bytes]) -> bytes:
    """RFC 6962 Merkle Tree Hash over leaf hashes (already hashed with the 0x00 prefix), in the given order.

    Parameters
    ----------
    leaves : list of 32-byte hashes

    Returns
    -------
    bytes of length 32.

    MTH({}) = SHA-256(""); MTH of one leaf is the leaf hash; otherwise split at the largest power of two
    below n and hash SHA-256(0x01 || left || right). Computed level by level (an odd node is promoted
    unchanged, which yields the same tree as RFC 6962's left-heavy split).
    """
    if not leaves:
        return hashlib.sha256(b"").digest()
    level = list(leaves)
    while len(level) > 1:
        nxt = [hashlib.sha256(b"\x01" + level[i] + level[i + 1]).digest() for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            nxt.append(level[-1])
        level = nxt
    return level[0]


def table_leaves(table: pa.Table, batch_rows: int = 8192, progress=None) -> list[bytes]:
    """Leaf hashes of every row of ``table`` in row order (streamed in record batches)."""
    out: list[bytes] = []
    batches = table.to_batches(max_chunksize=batch_rows)
    for batch in (progress(batches) if progress is not None else batches):
        out.extend(leaf_hash(record_bytes(r)) for r in batch.to_pylist())
    return out


def sorted_root(leaves: list[bytes]) -> bytes:
    """The order-free root: :func:`merkle_root` over the leaf hashes sorted bytewise."""
    return merkle_root(sorted(leaves))


# ---------------------------------------------------------------------------------------------
# keys


def _read_secret(spec: str, what: str) -> bytes:
    if spec.startswith("env:"):
        name = spec[4:]
        raw = os.environ.get(name)
        if raw is None:
            raise KeyFileError(f"{what}: environment variable {name} is not set")
        return raw.encode("utf-8")
    p = pathlib.Path(spec)
    try:
        return p.read_bytes()
    except FileNotFoundError:
        raise KeyFileError(f"{what}: no such file: {p}") from None
    except OSError as exc:
        raise KeyFileError(f"{what}: cannot read {p} ({exc.strerror or exc})") from None


def _raw32(data: bytes) -> bytes | None:
    try:
        raw = base64.b64decode(data.strip(), validate=True)
    except (binascii.Error, ValueError):
        return None
    return raw if len(raw) == 32 else None


def load_private_key(spec: str):
    """An Ed25519 private key from a file path or ``env:NAME`` (PEM PKCS#8, or base64 of the 32-byte seed).

    Raises
    ------
    KeyFileError
        Missing file/variable, or not an Ed25519 private key. The key material is never in the message.
    """
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    data = _read_secret(spec, "signing key")
    if b"-----BEGIN" in data:
        try:
            key = serialization.load_pem_private_key(data, password=None)
        except (ValueError, TypeError):
            raise KeyFileError("signing key: not a readable unencrypted PEM private key") from None
        if not isinstance(key, Ed25519PrivateKey):
            raise KeyFileError("signing key: not an Ed25519 key")
        return key
    raw = _raw32(data)
    if raw is None:
        raise KeyFileError("signing key: expected an Ed25519 PEM private key or the base64 of its 32-byte seed")
    return Ed25519PrivateKey.from_private_bytes(raw)


def public_bytes(key) -> bytes:
    """The raw 32 bytes of an Ed25519 public key."""
    from cryptography.hazmat.primitives import serialization

    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id(public_raw: bytes) -> str:
    """First 16 hex digits of SHA-256 of the raw public key."""
    return hashlib.sha256(public_raw).hexdigest()[:16]


def load_public_keys(spec: str) -> list[bytes]:
    """Raw Ed25519 public keys from a file or ``env:NAME``: PEM blocks (SubjectPublicKeyInfo) and/or lines
    of base64 raw keys (a trusted-keys file may hold many; ``#`` starts a comment line)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    data = _read_secret(spec, "public key")
    keys: list[bytes] = []
    text = data.decode("utf-8", "replace")
    for block in text.split("-----END PUBLIC KEY-----"):
        if "-----BEGIN PUBLIC KEY-----" in block:
            pem = block[block.index("-----BEGIN PUBLIC KEY-----"):] + "-----END PUBLIC KEY-----\n"
            try:
                k = serialization.load_pem_public_key(pem.encode())
            except ValueError:
                raise KeyFileError(f"public keys {spec}: a PEM block is not a public key") from None
            if not isinstance(k, Ed25519PublicKey):
                raise KeyFileError(f"public keys {spec}: a PEM block is not an Ed25519 key")
            keys.append(public_bytes(k))
            text_rest = block[: block.index("-----BEGIN PUBLIC KEY-----")]
        else:
            text_rest = block
        for line in text_rest.splitlines():
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            raw = _raw32(line.encode())
            if raw is None:
                raise KeyFileError(f"public keys {spec}: a line is neither a PEM block nor a base64 32-byte key")
            keys.append(raw)
    if not keys:
        raise KeyFileError(f"public keys {spec}: no key found")
    return keys


# ---------------------------------------------------------------------------------------------
# sign / verify


def signing_payload(doc: dict) -> bytes:
    """RFC 8785 bytes of the sidecar object without its ``signature`` (what the signature covers)."""
    import rfc8785

    return rfc8785.dumps({k: v for k, v in doc.items() if k != "signature"})


def sign_document(doc: dict, private_key) -> dict:
    """``doc`` with a fresh ``signature`` block (Ed25519 over :func:`signing_payload`)."""
    pub = public_bytes(private_key.public_key())
    sig = private_key.sign(signing_payload(doc))
    return {**{k: v for k, v in doc.items() if k != "signature"},
            "signature": {"algorithm": "Ed25519", "key_id": key_id(pub),
                          "public_key": base64.b64encode(pub).decode("ascii"),
                          "value": base64.b64encode(sig).decode("ascii")}}


@dataclass
class SignatureCheck:
    """Outcome of :func:`check_signature`: ``valid`` (the bytes verify under the embedded key),
    ``trusted`` (that key is one of the trusted keys), ``key_id`` and a ``problem`` sentence or None."""

    valid: bool
    trusted: bool
    key_id: str | None
    problem: str | None = None


def check_signature(doc: dict, trusted: list[bytes]) -> SignatureCheck:
    """Verify the ``signature`` block of a sidecar object against its embedded public key and the trust list."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    sig = doc.get("signature")
    if not isinstance(sig, dict):
        return SignatureCheck(False, False, None, "the sidecar has no signature")
    if sig.get("algorithm") != "Ed25519":
        return SignatureCheck(False, False, None, f"unsupported signature algorithm {sig.get('algorithm')!r}")
    try:
        pub = base64.b64decode(str(sig.get("public_key", "")), validate=True)
        value = base64.b64decode(str(sig.get("value", "")), validate=True)
        key = Ed25519PublicKey.from_public_bytes(pub)
    except (binascii.Error, ValueError):
        return SignatureCheck(False, False, None, "the signature block is malformed")
    kid = key_id(pub)
    try:
        key.verify(value, signing_payload(doc))
    except InvalidSignature:
        return SignatureCheck(False, pub in trusted, kid, "the signature does not match the sidecar's content "
                                                          "(the manifest, the fields or the signature were edited)")
    if sig.get("key_id") not in (None, kid):
        return SignatureCheck(False, pub in trusted, kid, "the key_id does not match the embedded public key")
    if pub not in trusted:
        return SignatureCheck(True, False, kid, f"signed by key {kid}, which is not a trusted key")
    return SignatureCheck(True, True, kid)


def write_records(path: pathlib.Path, leaves: list[bytes], ids: list | None) -> str:
    """Write the records file (``leaf`` binary(32), ``row`` int64, ``id`` string when keyed); its SHA-256."""
    cols = {"leaf": pa.array(leaves, pa.binary(32)), "row": pa.array(np.arange(len(leaves), dtype=np.int64))}
    if ids is not None:
        cols["id"] = pa.array([None if i is None else str(i) for i in ids], pa.large_string())
    tmp = path.with_name(path.name + ".tmp")
    pq.write_table(pa.table(cols), tmp, compression="zstd")
    os.replace(tmp, path)
    return hashlib.sha256(path.read_bytes()).hexdigest()


def read_records(path: pathlib.Path) -> tuple[list[bytes], list | None, str]:
    """(leaves, ids or None, SHA-256 of the file) of a records file."""
    raw = path.read_bytes()
    t = pq.read_table(pa.BufferReader(raw))
    if "leaf" not in t.column_names:
        raise InputError(f"{path.name}: not a synthproof records file (no 'leaf' column)")
    leaves = t.column("leaf").to_pylist()
    ids = t.column("id").to_pylist() if "id" in t.column_names else None
    return leaves, ids, hashlib.sha256(raw).hexdigest()


@dataclass
class RecordDiff:
    """Records added, removed and modified between the signed manifest and the data.

    ``added`` / ``modified``: row positions in the data; ``removed``: row positions in the signed data;
    ``added_ids`` / ``removed_ids`` / ``modified_ids``: ids when keyed by an id column.
    """

    added: list[int] = field(default_factory=list)
    removed: list[int] = field(default_factory=list)
    modified: list[int] = field(default_factory=list)
    added_ids: list = field(default_factory=list)
    removed_ids: list = field(default_factory=list)
    modified_ids: list = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not (self.added or self.removed or self.modified)


def diff_records(signed: list[bytes], signed_ids: list | None, now: list[bytes], now_ids: list | None) -> RecordDiff:
    """Compare signed and current leaves: by id when both have ids, else as multisets."""
    d = RecordDiff()
    if signed_ids is not None and now_ids is not None:
        old = {str(i): (k, h) for k, (i, h) in enumerate(zip(signed_ids, signed))}
        seen = set()
        for k, (i, h) in enumerate(zip(now_ids, now)):
            key = str(i)
            if key in seen or key not in old:  # a repeated id is an added record
                d.added.append(k)
                d.added_ids.append(i)
            elif old[key][1] != h:
                d.modified.append(k)
                d.modified_ids.append(i)
            seen.add(key)
        for key, (k, _h) in old.items():
            if key not in seen:
                d.removed.append(k)
                d.removed_ids.append(signed_ids[k])
        return d
    from collections import Counter

    budget = Counter(signed)
    for k, h in enumerate(now):
        if budget.get(h, 0) > 0:
            budget[h] -= 1
        else:
            d.added.append(k)
    left = Counter({h: c for h, c in budget.items() if c > 0})
    for k, h in enumerate(signed):
        if left.get(h, 0) > 0:
            left[h] -= 1
            d.removed.append(k)
    return d
