"""Arrow types the audit does not read, converted to ones it does at load time, and the note of
each conversion in the field metadata (:data:`CONVERTED_KEY`); invalid UTF-8 in string columns
replaced. Used by :func:`synthproof.io.load` and by the out-of-core reader per record batch (the
names are re-exported from :mod:`synthproof.io`)."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .dictread import DICTIONARY_READ_KEY, read_as_dictionary, repair_dictionaries

#: Field-metadata key: how a column was converted at load time (``list->json``, ``decimal->float64``,
#: ``timestamp[tz=Europe/Paris]->utc``, ``binary->sha256``, ``dictionary->string`` ...).
CONVERTED_KEY = b"synthproof.converted"


def _json_default(o: object) -> str:
    if isinstance(o, (bytes, bytearray, memoryview)):
        return hashlib.sha256(bytes(o)).hexdigest()
    return str(o)


def canonical_json(value: object) -> str | None:
    """Canonical JSON text of a nested value (sorted keys, compact; bytes as their SHA-256, other
    non-JSON scalars as ``str``); ``None`` stays missing."""
    if value is None:
        return None
    if isinstance(value, np.ndarray):
        value = value.tolist()
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=_json_default, ensure_ascii=False)


def _chunkwise(col: pa.ChunkedArray, fn, typ: pa.DataType) -> pa.ChunkedArray:
    return pa.chunked_array([fn(c) for c in col.chunks], type=typ)


def _to_seconds(col: pa.ChunkedArray, t: pa.DataType) -> pa.ChunkedArray:
    scale = {"s": 1.0, "ms": 1e3, "us": 1e6, "ns": 1e9}[t.unit]
    ints = pa.int32() if t.bit_width == 32 else pa.int64()
    return _chunkwise(col, lambda c: pc.divide(c.cast(ints).cast(pa.float64()), scale), pa.float64())


def _normalise_column(col: pa.ChunkedArray, t: pa.DataType) -> tuple[pa.ChunkedArray, str | None]:
    """One column in a type the rest of the audit reads, and what was done (None: nothing)."""
    types = pa.types
    if isinstance(t, pa.ExtensionType):
        storage = _chunkwise(col, lambda c: c.storage, t.storage_type)
        new, note = _normalise_column(storage, t.storage_type)
        return new, f"{t}->{note or t.storage_type}"
    if types.is_dictionary(t):
        decoded = _chunkwise(col, lambda c: c.dictionary_decode(), t.value_type)
        new, note = _normalise_column(decoded, t.value_type)
        return new, "dictionary->" + (note or str(t.value_type))
    if types.is_large_string(t) or getattr(types, "is_string_view", lambda _: False)(t):
        return col.cast(pa.string()), f"{t}->string"
    if types.is_binary(t) or types.is_large_binary(t) or types.is_fixed_size_binary(t) or \
            getattr(types, "is_binary_view", lambda _: False)(t):
        return _chunkwise(col, lambda c: pa.array([None if v is None else hashlib.sha256(v).hexdigest()
                                                   for v in c.to_pylist()], type=pa.string()), pa.string()), \
            f"{t}->sha256"
    if types.is_nested(t) or types.is_union(t):
        def to_json(c):
            return pa.array([canonical_json(v) for v in c.to_pylist(maps_as_pydicts="lossy")], type=pa.string())
        kind = "map" if types.is_map(t) else "struct" if types.is_struct(t) else \
            "union" if types.is_union(t) else "list"
        return _chunkwise(col, to_json, pa.string()), f"{kind}->json"
    if types.is_decimal(t):
        return col.cast(pa.float64()), f"{t}->float64"
    if types.is_timestamp(t) and t.tz is not None:
        return col.cast(pa.timestamp(t.unit)), f"timestamp[tz={t.tz}]->utc"
    if types.is_duration(t):
        return _to_seconds(col, t), f"{t}->seconds"
    if types.is_time(t):
        return _to_seconds(col, t), f"{t}->seconds"
    if types.is_date(t):
        return col.cast(pa.timestamp("s" if types.is_date32(t) else "ms")), f"{t}->timestamp"
    if types.is_float16(t):
        return col.cast(pa.float64()), "halffloat->float64"
    if types.is_null(t):
        return col.cast(pa.string()), "null->string"
    if types.is_interval(t):
        return _chunkwise(col, lambda c: pa.array([None if v is None else str(v) for v in c.to_pylist()],
                                                  type=pa.string()), pa.string()), f"{t}->string"
    return col, None


def normalise(table: pa.Table) -> pa.Table:
    """Convert the column types the audit does not read into ones it does, and say so in the field
    metadata (:data:`CONVERTED_KEY`): nested values (list, struct, map) become their canonical JSON
    text, decimals float64, time-zone-aware timestamps naive UTC, dictionaries their values, large
    strings strings, binary values the hex SHA-256 of their bytes (never the bytes), durations and
    times of day float seconds, dates timestamps, half floats float64, all-null columns strings."""
    for i, field in enumerate(table.schema):
        if read_as_dictionary(field):  # a string column, dictionary-encoded by load(): kept so
            meta = dict(field.metadata)
            if meta[DICTIONARY_READ_KEY] != b"string":  # the note the plain read would get (large_string->string)
                meta[CONVERTED_KEY] = meta[DICTIONARY_READ_KEY] + b"->string"
            typ = pa.dictionary(field.type.index_type, pa.string())
            table = table.set_column(i, pa.field(field.name, typ, nullable=True, metadata=meta), table.column(i).cast(typ))
            continue
        new, note = _normalise_column(table.column(i), field.type)
        if note is not None:
            meta = dict(field.metadata or {})
            meta[CONVERTED_KEY] = note.encode()
            table = table.set_column(i, pa.field(field.name, new.type, nullable=True, metadata=meta), new)
    return table


def _repair_utf8(table: pa.Table) -> pa.Table:
    """String columns holding invalid UTF-8 (pyarrow's JSON and Parquet readers do not check) get
    it replaced by U+FFFD, so every later step sees valid text; the text checks count U+FFFD."""
    for i, field in enumerate(table.schema):
        if read_as_dictionary(field):
            table = table.set_column(i, field, repair_dictionaries(table.column(i)))
            continue
        if not (pa.types.is_string(field.type) or pa.types.is_large_string(field.type)):
            continue
        col = table.column(i)
        try:
            col.validate(full=True)
        except pa.ArrowInvalid:
            raw = col.cast(pa.large_binary() if pa.types.is_large_string(field.type) else pa.binary())
            fixed = pa.array([None if v is None else v.decode("utf-8", errors="replace") for v in raw.to_pylist()],
                             type=field.type)
            table = table.set_column(i, field, fixed)
    return table
