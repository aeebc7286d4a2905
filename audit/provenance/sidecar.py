"""The provenance sidecar: one versioned JSON file next to the synthetic data.

For a synthetic file or folder ``<data>`` the sidecar is ``<data>.provenance.json``
(``synthetic.parquet`` -> ``synthetic.parquet.provenance.json``; a folder of shards ``syn/`` ->
``syn.provenance.json``), unless ``provenance.sidecar`` in the config names another path. Format
version 1::

    {
      "synthproof_provenance": 1,
      "fields": {
        "generator": "sdv.GaussianCopulaSynthesizer",
        "generator_version": "2.0.0",
        "created_at": "2026-01-01T00:00:00Z",
        "source_dataset": "uci-adult",
        "is_synthetic": true
      }
    }

Rules:

* The top level is a JSON object. ``synthproof_provenance`` (an integer, not a boolean) is the
  format version; this synthproof reads version ``1`` and rejects any other.
* ``fields`` is an object mapping a provenance field name (a non-empty string) to a JSON scalar —
  string, number, boolean — or ``null`` (declared but unknown: it counts as missing). Arrays and
  objects are rejected. The default fields are typed: ``generator``, ``generator_version``,
  ``created_at`` (ISO-8601) and ``source_dataset`` are strings, ``is_synthetic`` is a boolean.
* A sidecar field applies to every row of the synthetic data. When the data also has a column of
  that name, the column wins.
* Every other top-level key is allowed and kept, unread, in :attr:`Sidecar.extra`; the signed
  manifest work extends this same file (signatures, Merkle roots) without a version bump for
  additive keys.
* Strict JSON: UTF-8 (a byte-order mark is tolerated), no ``NaN``/``Infinity``, no duplicate key
  in any object (a signed file must have one reading), at most ``MAX_BYTES``.

:func:`load_sidecar` only reads the file (never writes or touches it) and never unpickles anything.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import pathlib
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Mapping, Union

from synthproof.errors import InputError

FORMAT_KEY = "synthproof_provenance"
FORMAT_VERSION = 1
SUFFIX = ".provenance.json"
MAX_BYTES = 16 * 2**20

#: Declared JSON types of the default fields (``null`` is always allowed and means "unknown").
FIELD_TYPES: dict[str, type] = {
    "generator": str,
    "generator_version": str,
    "created_at": str,
    "source_dataset": str,
    "is_synthetic": bool,
}

FieldValue = Union[str, int, float, bool, None]


class SidecarError(InputError):
    """The sidecar file is missing, unreadable, not JSON, of an unsupported version or mistyped."""


@dataclass(frozen=True)
class Sidecar:
    """A parsed provenance sidecar (read-only).

    Attributes
    ----------
    path : str
        The file it was read from.
    version : int
        The format version (``synthproof_provenance``).
    fields : Mapping[str, str | int | float | bool | None]
        Provenance field -> value, applied to every row.
    extra : Mapping[str, Any]
        Top-level keys other than ``synthproof_provenance`` and ``fields``, as parsed (reserved
        for signatures and Merkle roots).
    sha256 : str
        Hex SHA-256 of the file bytes as read.
    """

    path: str
    version: int
    fields: Mapping[str, FieldValue] = field(default_factory=lambda: MappingProxyType({}))
    extra: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    sha256: str = ""


def default_sidecar_path(data_path: str | os.PathLike) -> str:
    """``<data>.provenance.json`` for a synthetic file or folder (a trailing separator is ignored)."""
    return str(pathlib.Path(data_path)) + SUFFIX


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise SidecarError(f"duplicate key {key!r}")
        out[key] = value
    return out


def _no_constant(name: str) -> Any:
    raise SidecarError(f"{name} is not valid JSON (use null or a string)")


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def parse_sidecar(raw: bytes, path: str = "<bytes>") -> Sidecar:
    """Parse the bytes of a sidecar file (see the module docstring for the format).

    Parameters
    ----------
    raw : bytes
        The file content.
    path : str
        Used in error messages and kept in :attr:`Sidecar.path`.

    Returns
    -------
    Sidecar

    Raises
    ------
    SidecarError
        Not UTF-8, not strict JSON, not an object, missing/unsupported version, missing or mistyped
        ``fields``.
    """
    where = f"provenance sidecar {path}"
    if len(raw) > MAX_BYTES:
        raise SidecarError(f"{where}: larger than {MAX_BYTES} bytes")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SidecarError(f"{where}: not UTF-8 text (byte {exc.start})") from None
    try:
        doc = json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise SidecarError(f"{where}: invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}") from None
    except SidecarError as exc:
        raise SidecarError(f"{where}: {exc}") from None
    except RecursionError:
        raise SidecarError(f"{where}: JSON nested too deeply") from None
    if not isinstance(doc, dict):
        raise SidecarError(f"{where}: the top level must be a JSON object, got {_kind(doc)}")
    if FORMAT_KEY not in doc:
        raise SidecarError(f"{where}: no {FORMAT_KEY!r} version key (expected {FORMAT_KEY!r}: {FORMAT_VERSION})")
    version = doc[FORMAT_KEY]
    if isinstance(version, bool) or not isinstance(version, int):
        raise SidecarError(f"{where}: {FORMAT_KEY!r} must be an integer, got {_kind(version)}")
    if version != FORMAT_VERSION:
        raise SidecarError(f"{where}: unsupported format version {version} (this synthproof reads {FORMAT_VERSION})")
    if "fields" not in doc:
        raise SidecarError(f"{where}: no 'fields' object")
    fields = doc["fields"]
    if not isinstance(fields, dict):
        raise SidecarError(f"{where}: 'fields' must be a JSON object, got {_kind(fields)}")
    for name, value in fields.items():
        if not name.strip():
            raise SidecarError(f"{where}: a field name is empty")
        if isinstance(value, (list, dict)):
            raise SidecarError(f"{where}: field {name!r} must be a string, number, boolean or null, "
                               f"got {_kind(value)}")
        if isinstance(value, float) and not math.isfinite(value):  # e.g. 1e999 parses as inf
            raise SidecarError(f"{where}: field {name!r} is not a finite number")
        want = FIELD_TYPES.get(name)
        if value is not None and want is not None and not (
                isinstance(value, want) and (want is bool or not isinstance(value, bool))):
            raise SidecarError(f"{where}: field {name!r} must be {'a boolean' if want is bool else 'a string'} "
                               f"or null, got {_kind(value)}")
    extra = {k: v for k, v in doc.items() if k not in (FORMAT_KEY, "fields")}
    return Sidecar(path=path, version=version, fields=MappingProxyType(dict(fields)),
                   extra=MappingProxyType(extra), sha256=hashlib.sha256(raw).hexdigest())


def load_sidecar(path: str | os.PathLike) -> Sidecar:
    """Read and validate a provenance sidecar file (read-only; the file is never modified).

    Parameters
    ----------
    path : str or os.PathLike
        The ``<data>.provenance.json`` file.

    Returns
    -------
    Sidecar

    Raises
    ------
    SidecarError
        Missing or unreadable file, or content that is not a valid version-1 sidecar (the message
        says which rule is broken and where).
    """
    p = pathlib.Path(path)
    try:
        with open(p, "rb") as fh:
            raw = fh.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise SidecarError(f"provenance sidecar {p}: no such file") from None
    except IsADirectoryError:
        raise SidecarError(f"provenance sidecar {p}: is a directory, not a file") from None
    except OSError as exc:
        raise SidecarError(f"provenance sidecar {p}: cannot be read ({exc.strerror or exc})") from None
    return parse_sidecar(raw, str(p))
