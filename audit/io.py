"""Reading inputs: Parquet, CSV or JSONL files or folders of shards, pandas or pyarrow tables.

Files are only ever read (never modified). Every failure to read becomes an :class:`InputError`
with one clear sentence; the command line turns it into exit code 2.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import json
import os
import pathlib
import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.compute as pc
import pyarrow.json as pajson
import pyarrow.parquet as pq

from .errors import InputError

PARQUET_SUFFIXES = (".parquet", ".pq", ".parq")
CSV_SUFFIXES = (".csv", ".csv.gz", ".tsv")
JSONL_SUFFIXES = (".jsonl", ".ndjson", ".json", ".jsonl.gz")


@dataclass(frozen=True)
class Fingerprint:
    """Identity of one input: where it came from, a content hash, its size."""

    name: str
    source: str
    content_hash: str
    rows: int
    columns: int
    column_names: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "source": self.source,
            "content_hash": self.content_hash,
            "rows": self.rows,
            "columns": self.columns,
        }


def _hash_files(paths: list[pathlib.Path]) -> str:
    h = hashlib.blake2b(digest_size=16)
    for p in sorted(paths):
        with open(p, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
    return "blake2b:" + h.hexdigest()


def _hash_table(table: pa.Table) -> str:
    h = hashlib.blake2b(digest_size=16)
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    h.update(sink.getvalue().to_pybytes())
    return "blake2b:" + h.hexdigest()


_REMOTE = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*)://")

#: Delimiters the CSV sniffer chooses from (in this order of preference on ties).
DELIMITERS = ",;\t|"


def check_local(source: Any, name: str) -> None:
    """Refuse ``scheme://`` paths (s3, gs, hf, http...) with a sentence saying what to do instead."""
    if isinstance(source, (str, os.PathLike)):
        m = _REMOTE.match(os.fspath(source))
        if m:
            scheme = m.group(1).lower()
            how = {"s3": "aws s3 cp", "gs": "gcloud storage cp", "gcs": "gcloud storage cp",
                   "hf": "huggingface-cli download", "http": "curl -O", "https": "curl -O"}.get(scheme, "")
            raise InputError(f"{name}: remote paths ({scheme}://...) are not supported yet: copy the data locally"
                             + (f" (e.g. `{how}`)" if how else "") + f" and pass the local path instead of {source}")


def _format_of(path: pathlib.Path) -> str | None:
    lower = path.name.lower()
    if lower.endswith(PARQUET_SUFFIXES):
        return "parquet"
    if lower.endswith(CSV_SUFFIXES):
        return "csv"
    if lower.endswith(JSONL_SUFFIXES):
        return "jsonl"
    return None


def _shards(path: pathlib.Path, name: str) -> tuple[str, list[pathlib.Path]]:
    """The data files of a folder (sorted; hidden ``.x`` and ``_x`` files such as ``_SUCCESS`` skipped)
    and their one format."""
    files = sorted(p for p in path.rglob("*") if p.is_file()
                   and not any(part.startswith((".", "_")) for part in p.relative_to(path).parts)
                   and _format_of(p) is not None)
    if not files:
        raise InputError(f"{name}: folder holds no Parquet, CSV or JSONL file: {path}")
    kinds = sorted({_format_of(p) for p in files})
    if len(kinds) > 1:
        raise InputError(f"{name}: folder {path} mixes formats ({', '.join(kinds)}); "
                         "keep the shards of one input in one format")
    return kinds[0], files


def _check_encoding(encoding: str | None) -> str | None:
    if encoding is None:
        return None
    try:
        canonical = codecs.lookup(encoding).name
    except LookupError:
        raise InputError(f"unknown encoding {encoding!r}: pass a Python codec name such as utf-8, latin-1 "
                         "or cp1252 to --encoding") from None
    return None if canonical == "utf-8" else canonical


def sniff_delimiter(path: pathlib.Path, encoding: str | None = None) -> str:
    """The field delimiter of a CSV file: ``\\t`` for ``.tsv``, else :class:`csv.Sniffer` on the first
    64 KiB (one of ``, ; TAB |``), falling back to ``,``."""
    if path.name.lower().endswith(".tsv"):
        return "\t"
    try:
        with pa.input_stream(str(path)) as fh:
            head = fh.read(1 << 16)
    except (pa.ArrowException, OSError):
        return ","
    text = head.decode(encoding or "utf-8", errors="replace")
    if len(head) == 1 << 16 and "\n" in text:
        text = text[: text.rindex("\n") + 1]
    first = text.split("\n", 1)[0]
    try:
        found = csv.Sniffer().sniff(text, delimiters=DELIMITERS).delimiter
    except csv.Error:
        found = None
    if found is None or (found not in first and "," in first):
        # The sniffer found nothing consistent: the header line decides, comma first.
        counts = {d: first.count(d) for d in DELIMITERS}
        found = max(DELIMITERS, key=lambda d: (counts[d], -DELIMITERS.index(d))) if any(counts.values()) else ","
    return found


def column_names(source: Any, encoding: str | None = None, delimiter: str | None = None) -> list[str] | None:
    """The column names of an input without reading its data (None when unknown, e.g. JSONL)."""
    try:
        if isinstance(source, pa.Table):
            return list(source.column_names)
        if isinstance(source, pd.DataFrame):
            return [str(c) for c in source.columns]
        if isinstance(source, (str, os.PathLike)) and _REMOTE.match(os.fspath(source)):
            return None
        path = pathlib.Path(source)
        if path.is_dir():
            kind, files = _shards(path, "input")
            path = files[0]
        kind = _format_of(path)
        if kind == "parquet":
            return list(pq.read_schema(path).names)
        if kind == "csv" and path.stat().st_size > 0:
            enc = _check_encoding(encoding)
            with pacsv.open_csv(path, read_options=_csv_read_options(enc),
                                parse_options=_csv_parse_options(path, enc, delimiter)) as reader:
                return list(reader.schema.names)
    except (pa.ArrowException, OSError, ValueError, TypeError, InputError):
        return None
    return None


def _csv_read_options(encoding: str | None) -> pacsv.ReadOptions:
    return pacsv.ReadOptions(encoding=encoding) if encoding else pacsv.ReadOptions()


def _csv_parse_options(path: pathlib.Path, encoding: str | None, delimiter: str | None) -> pacsv.ParseOptions:
    return pacsv.ParseOptions(delimiter=delimiter or sniff_delimiter(path, encoding))


def _read_csv(path: pathlib.Path, name: str, columns, encoding: str | None, delimiter: str | None) -> pa.Table:
    if path.stat().st_size == 0:
        raise InputError(f"{name}: file is empty: {path}")
    convert = pacsv.ConvertOptions(strings_can_be_null=True, include_columns=columns)
    table = pacsv.read_csv(path, read_options=_csv_read_options(encoding),
                           parse_options=_csv_parse_options(path, encoding, delimiter), convert_options=convert)
    if encoding is None:
        # pyarrow reads a column of invalid UTF-8 as binary (and replaces bad bytes in the header).
        bad = [f.name for f in table.schema if pa.types.is_binary(f.type)] + [
            n for n in table.column_names if "\ufffd" in n]
        if bad:
            raise InputError(f"{name}: {path} is not UTF-8 text (column {bad[0]!r} holds bytes that are not valid "
                             "UTF-8): pass the file's encoding with --encoding (e.g. --encoding latin-1)")
    return table


def _read_jsonl(path: pathlib.Path, name: str, encoding: str | None) -> pa.Table:
    if path.stat().st_size == 0:
        raise InputError(f"{name}: file is empty: {path}")
    if encoding is None:
        try:
            return pajson.read_json(path)
        except pa.ArrowInvalid:
            pass  # mixed types across lines, invalid UTF-8, repeated keys or broken lines: line by line
    return _frame_to_table(read_jsonl_lines(path, name, encoding=encoding or "utf-8"))


def _read_one(kind: str, path: pathlib.Path, name: str, columns, encoding, delimiter) -> pa.Table:
    if kind == "parquet":
        return pq.read_table(path, memory_map=True, columns=columns)
    if kind == "csv":
        return _read_csv(path, name, columns, encoding, delimiter)
    table = _read_jsonl(path, name, encoding)
    return table.select([c for c in columns if c in table.column_names]) if columns is not None else table


def _read_folder(path: pathlib.Path, name: str, columns, encoding, delimiter) -> tuple[pa.Table, list[pathlib.Path]]:
    kind, files = _shards(path, name)
    tables, first = [], None
    for f in files:
        try:
            if kind == "parquet":
                pq.read_schema(f)
            t = _read_one(kind, f, name, columns, encoding, delimiter)
        except InputError as exc:
            raise InputError(f"{exc} (shard {f.relative_to(path)} of {path})") from None
        except UnicodeError as exc:
            raise InputError(f"{name}: shard {f} is not {encoding or 'UTF-8'} text ({_first_line(exc)}): pass the "
                             "file's encoding with --encoding (e.g. --encoding latin-1)") from None
        except (pa.ArrowException, OSError, ValueError) as exc:
            raise InputError(f"{name}: cannot read shard {f} of {path}: {_first_line(exc)}") from None
        _check_unique(t.column_names, name, str(f))
        if first is None:
            first = (f, t)
        elif set(t.column_names) != set(first[1].column_names):
            missing = sorted(set(first[1].column_names) - set(t.column_names))
            extra = sorted(set(t.column_names) - set(first[1].column_names))
            raise InputError(f"{name}: shard {f} has other columns than {first[0].name}"
                             + (f" (missing {', '.join(missing)})" if missing else "")
                             + (f" (extra {', '.join(extra)})" if extra else "")
                             + "; every shard of a folder must have the same columns")
        else:
            t = t.select(first[1].column_names)
        tables.append(t)
    schema = tables[0].schema
    for f, t in zip(files[1:], tables[1:]):
        try:
            schema = pa.unify_schemas([schema, t.schema], promote_options="permissive")
        except (pa.ArrowException, TypeError) as exc:
            col = next((c for c in t.column_names if not _compatible(schema.field(c).type, t.schema.field(c).type)),
                       None)
            detail = (f"column {col!r} is {t.schema.field(col).type} there and {schema.field(col).type} before"
                      if col else _first_line(exc))
            raise InputError(f"{name}: shard {f} does not match the other shards of {path}: {detail}") from None
    try:
        table = pa.concat_tables(tables, promote_options="permissive")
    except (pa.ArrowException, TypeError) as exc:
        raise InputError(f"{name}: the shards of {path} do not share one schema: {_first_line(exc)}") from None
    return table, files


def _compatible(a: pa.DataType, b: pa.DataType) -> bool:
    try:
        pa.unify_schemas([pa.schema([("x", a)]), pa.schema([("x", b)])], promote_options="permissive")
        return True
    except (pa.ArrowException, TypeError):
        return False


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def _read_path(path: pathlib.Path, name: str, columns: list[str] | None = None, encoding: str | None = None,
               delimiter: str | None = None) -> tuple[pa.Table, list[pathlib.Path]]:
    if not path.exists():
        raise InputError(f"{name}: no such file or directory: {path}")
    if not os.access(path, os.R_OK):
        raise InputError(f"{name}: file is not readable: {path}")
    try:
        if path.is_dir():
            return _read_folder(path, name, columns, encoding, delimiter)
        kind = _format_of(path)
        if kind is not None:
            return _read_one(kind, path, name, columns, encoding, delimiter), [path]
    except InputError:
        raise
    except UnicodeError as exc:
        raise InputError(f"{name}: {path} is not {encoding or 'UTF-8'} text ({_first_line(exc)}): pass the file's "
                         "encoding with --encoding (e.g. --encoding latin-1)") from None
    except (pa.ArrowException, OSError, ValueError, LookupError) as exc:
        raise InputError(f"{name}: cannot read {path}: {_first_line(exc)}") from None
    raise InputError(
        f"{name}: unsupported file type {path.suffix or path.name!r} "
        "(expected .parquet, .csv, .tsv, .jsonl, or a folder of shards of one of these)"
    )


def _check_unique(names, name: str, label: str) -> None:
    seen: dict[str, int] = {}
    for n in names:
        seen[str(n)] = seen.get(str(n), 0) + 1
    dup = [n for n, k in seen.items() if k > 1]
    if dup:
        raise InputError(f"{name}: column name {dup[0]!r} appears {seen[dup[0]]} times in {label}"
                         + (f" (also {', '.join(repr(d) for d in dup[1:4])})" if len(dup) > 1 else "")
                         + "; rename the columns so that each name is unique")


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


def read_jsonl_lines(path: pathlib.Path, name: str, encoding: str = "utf-8") -> pd.DataFrame:
    """Parse JSON Lines one line at a time (the slow path when pyarrow's reader refuses the file).

    Bytes that are not valid in ``encoding`` are replaced by U+FFFD (the text checks count it); blank
    lines are skipped; a line that is not a JSON object is an error naming its line number(s), and
    so is an object that repeats a key.

    Raises
    ------
    InputError
        Broken lines (the first five line numbers and the count), a repeated key, or no record at all.
    """
    records, bad, n_lines = [], [], 0
    repeated: list[str] = []

    def pairs(items):
        obj = dict(items)
        if len(obj) != len(items) and not repeated:
            seen: set[str] = set()
            repeated.append(next(k for k, _ in items if k in seen or seen.add(k)))
        return obj

    with path.open("rb") as fh:
        for n_lines, raw in enumerate(fh, start=1):
            line = raw.decode(encoding, errors="replace").strip()
            if not line:
                continue
            try:
                obj = json.loads(line, object_pairs_hook=pairs)
            except ValueError:
                obj = None
            if repeated:
                raise InputError(f"{name}: {path}: line {n_lines} repeats the key {repeated[0]!r}; "
                                 "each column name must appear once per record")
            if not isinstance(obj, dict):
                bad.append(n_lines)
                continue
            records.append(obj)
    if bad:
        shown = ", ".join(str(b) for b in bad[:5]) + (" ..." if len(bad) > 5 else "")
        raise InputError(f"{name}: {path}: {len(bad)} of {n_lines} lines are not JSON objects (line {shown})")
    if not records:
        raise InputError(f"{name}: zero rows in {path}")
    return pd.DataFrame.from_records(records)


def _frame_to_table(frame: pd.DataFrame) -> pa.Table:
    frame = frame.reset_index(drop=True)
    frame.columns = [str(c) for c in frame.columns]
    try:
        return pa.Table.from_pandas(frame, preserve_index=False)
    except (pa.ArrowException, TypeError, ValueError):
        fields, arrays = [], []
        for col in frame.columns:
            s = frame[col]
            meta = None
            try:
                arr = pa.array(s, from_pandas=True)
            except (pa.ArrowException, TypeError, ValueError):
                vals = s.tolist()
                strings = [v for v in vals if isinstance(v, str)]
                others = sum(1 for v in vals if not isinstance(v, str) and not _missing(v))
                if strings and others and _looks_like_text(strings):
                    # Free text with stray numbers/objects: those are not documents. They become
                    # missing, and the count travels in the field metadata to the text checks.
                    arr = pa.array([v if isinstance(v, str) else None for v in vals], type=pa.string())
                    meta = {NON_STRING_KEY: str(others).encode()}
                else:
                    arr = pa.array([None if _missing(v) else _cell_text(v) for v in vals], type=pa.string())
                    if any(isinstance(v, (dict, list, tuple, np.ndarray, bytes, bytearray)) for v in vals):
                        meta = {CONVERTED_KEY: b"mixed->json"}
            fields.append(pa.field(col, arr.type, metadata=meta))
            arrays.append(arr)
        return pa.Table.from_arrays(arrays, schema=pa.schema(fields))


def _looks_like_text(strings: list[str]) -> bool:
    """Whether string values are free text, by the rule of the ``text`` role (:mod:`synthproof.schema`)."""
    from .schema import TEXT_MIN_MEDIAN_WORDS

    return float(np.median([len(v.split()) for v in strings[:2000]])) >= TEXT_MIN_MEDIAN_WORDS


#: Field-metadata key: how many values of a text column were not strings (read as missing).
NON_STRING_KEY = b"synthproof.non_string"


def _cell_text(v: object) -> str:
    if isinstance(v, (dict, list, tuple, np.ndarray)):
        return canonical_json(v)
    if isinstance(v, (bytes, bytearray)):
        return hashlib.sha256(bytes(v)).hexdigest()
    return str(v)


def _missing(v: object) -> bool:
    if isinstance(v, (list, tuple, dict, np.ndarray)):
        return False
    if v is None:
        return True
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def load(source: Any, name: str, keep=None, encoding: str | None = None,
         delimiter: str | None = None) -> tuple[pa.Table, Fingerprint]:
    """Read one input into an Arrow table.

    Parameters
    ----------
    source : str, os.PathLike, pandas.DataFrame or pyarrow.Table
        A Parquet, CSV/TSV or JSONL file, a folder of shards of one of these formats (read in
        sorted path order), or an in-memory table. ``scheme://`` paths are refused.
    name : str
        ``real``, ``synthetic`` or ``holdout`` (used in messages).
    keep : callable, optional
        Column projection for files whose schema can be read first (Parquet, CSV): given the
        column names, returns those to decode. ``Fingerprint.column_names`` lists every column.
    encoding : str, optional
        Text encoding of CSV and JSONL files (any Python codec name) [default: UTF-8; a CSV that
        is not valid UTF-8 is an error asking for this].
    delimiter : str, optional
        CSV field delimiter [default: sniffed from the first 64 KiB among ``, ; TAB |``].

    Returns
    -------
    table : pyarrow.Table
        Column types the audit does not read are converted (see :func:`normalise`); the field
        metadata key :data:`CONVERTED_KEY` says how.
    fingerprint : Fingerprint
        Content hash (blake2b of the file bytes, or of the Arrow IPC stream for in-memory
        tables), row and column counts.

    Raises
    ------
    InputError
        Missing, unreadable, corrupt or unsupported file; remote path; file that is not in the
        given encoding; repeated column name; shards of mixed formats or schemas; zero rows;
        zero columns.
    """
    check_local(source, name)
    encoding = _check_encoding(encoding)
    delimiter = {"tab": "\t", "\\t": "\t"}.get(delimiter, delimiter) if delimiter is not None else None
    if delimiter is not None and len(delimiter) != 1:
        raise InputError(f"delimiter must be one character, got {delimiter!r} (for a tab pass $'\\t' or 'tab')")
    all_names = column_names(source, encoding, delimiter) if isinstance(source, (str, os.PathLike)) else None
    if all_names is not None:
        _check_unique(all_names, name, str(source))
    columns = keep(all_names) if (keep is not None and all_names is not None) else None
    if isinstance(source, pa.Table):
        _check_unique(source.column_names, name, "<pyarrow.Table>")
        table, files, label = source, None, "<pyarrow.Table>"
    elif isinstance(source, pd.DataFrame):
        _check_unique(source.columns, name, "<pandas.DataFrame>")
        table, files, label = _frame_to_table(source), None, "<pandas.DataFrame>"
    elif isinstance(source, (str, os.PathLike)):
        path = pathlib.Path(source)
        table, files = _read_path(path, name, columns, encoding, delimiter)
        label = str(path)
    else:
        raise InputError(f"{name}: expected a path, pandas.DataFrame or pyarrow.Table, got {type(source).__name__}")
    _check_unique(table.column_names, name, label)
    try:
        table = _repair_utf8(normalise(table))
    except (pa.ArrowException, ValueError, TypeError, OverflowError) as exc:
        raise InputError(f"{name}: cannot convert the columns of {label}: {_first_line(exc)}") from None
    names = tuple(all_names) if all_names is not None else tuple(table.column_names)
    n_rows = table.num_rows
    if len(names) == 0:
        raise InputError(f"{name}: no columns in {label}")
    if table.num_rows == 0 and (table.num_columns or files is None):
        raise InputError(f"{name}: zero rows in {label}")
    if files and table.num_columns == 0:  # nothing kept: count rows from the metadata
        n_rows = _read_path(pathlib.Path(source), name, list(names[:1]), encoding, delimiter)[0].num_rows
        if n_rows == 0:
            raise InputError(f"{name}: zero rows in {label}")
    digest = _hash_files(files) if files else _hash_table(table)
    return table, Fingerprint(name, label, digest, n_rows, len(names), names)
