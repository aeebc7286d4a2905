"""Reading inputs: Parquet file or directory of shards, CSV, JSONL, pandas or pyarrow tables.

Files are only ever read (never modified). Every failure to read becomes an :class:`InputError`
with one clear sentence; the command line turns it into exit code 2.
"""

from __future__ import annotations

import hashlib
import os
import pathlib
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.dataset as pads
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


def column_names(source: Any) -> list[str] | None:
    """The column names of an input without reading its data (None when unknown, e.g. JSONL)."""
    try:
        if isinstance(source, pa.Table):
            return list(source.column_names)
        if isinstance(source, pd.DataFrame):
            return [str(c) for c in source.columns]
        path = pathlib.Path(source)
        lower = path.name.lower()
        if path.is_dir():
            files = sorted(p for p in path.rglob("*") if p.is_file() and p.name.lower().endswith(PARQUET_SUFFIXES))
            return list(pads.dataset([str(f) for f in files], format="parquet").schema.names) if files else None
        if lower.endswith(PARQUET_SUFFIXES):
            return list(pq.read_schema(path).names)
        if lower.endswith(CSV_SUFFIXES) and path.stat().st_size > 0:
            parse = pacsv.ParseOptions(delimiter="\t" if lower.endswith(".tsv") else ",")
            with pacsv.open_csv(path, parse_options=parse) as reader:
                return list(reader.schema.names)
    except (pa.ArrowException, OSError, ValueError, TypeError):
        return None
    return None


def _read_path(path: pathlib.Path, name: str, columns: list[str] | None = None) -> tuple[pa.Table, list[pathlib.Path]]:
    if not path.exists():
        raise InputError(f"{name}: no such file or directory: {path}")
    if not os.access(path, os.R_OK):
        raise InputError(f"{name}: file is not readable: {path}")
    lower = path.name.lower()
    try:
        if path.is_dir():
            files = sorted(p for p in path.rglob("*") if p.is_file() and p.name.lower().endswith(PARQUET_SUFFIXES))
            if not files:
                raise InputError(f"{name}: directory holds no Parquet file: {path}")
            return pads.dataset([str(f) for f in files], format="parquet").to_table(columns=columns), files
        if lower.endswith(PARQUET_SUFFIXES):
            return pq.read_table(path, memory_map=True, columns=columns), [path]
        if lower.endswith(CSV_SUFFIXES):
            if path.stat().st_size == 0:
                raise InputError(f"{name}: file is empty: {path}")
            parse = pacsv.ParseOptions(delimiter="\t" if lower.endswith(".tsv") else ",")
            convert = pacsv.ConvertOptions(strings_can_be_null=True, include_columns=columns)
            return pacsv.read_csv(path, parse_options=parse, convert_options=convert), [path]
        if lower.endswith(JSONL_SUFFIXES):
            if path.stat().st_size == 0:
                raise InputError(f"{name}: file is empty: {path}")
            try:
                return pajson.read_json(path), [path]
            except pa.ArrowInvalid:
                # Mixed types across lines, invalid UTF-8 or broken lines: parse line by line.
                return _frame_to_table(read_jsonl_lines(path, name)), [path]
    except InputError:
        raise
    except (pa.ArrowException, OSError, ValueError, UnicodeDecodeError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(f"{name}: cannot read {path}: {first}") from None
    raise InputError(
        f"{name}: unsupported file type {path.suffix or path.name!r} "
        "(expected .parquet, a directory of Parquet shards, .csv or .jsonl)"
    )


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


def read_jsonl_lines(path: pathlib.Path, name: str) -> pd.DataFrame:
    """Parse JSON Lines one line at a time (the slow path when pyarrow's reader refuses the file).

    Invalid UTF-8 is replaced by U+FFFD (the text checks count it); blank lines are skipped; a line
    that is not a JSON object is an error naming its line number(s).

    Raises
    ------
    InputError
        Broken lines (the first five line numbers and the count), or no record at all.
    """
    import json

    records, bad, n_lines = [], [], 0
    with path.open("rb") as fh:
        for n_lines, raw in enumerate(fh, start=1):
            line = raw.decode("utf-8", errors="replace").strip()
            if not line:
                continue
            try:
                obj = json.loads(line)
            except ValueError:
                obj = None
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
                    arr = pa.array([None if _missing(v) else str(v) for v in vals], type=pa.string())
            fields.append(pa.field(col, arr.type, metadata=meta))
            arrays.append(arr)
        return pa.Table.from_arrays(arrays, schema=pa.schema(fields))


def _looks_like_text(strings: list[str]) -> bool:
    """Whether string values are free text, by the rule of the ``text`` role (:mod:`synthproof.schema`)."""
    from .schema import TEXT_MIN_MEDIAN_WORDS

    return float(np.median([len(v.split()) for v in strings[:2000]])) >= TEXT_MIN_MEDIAN_WORDS


#: Field-metadata key: how many values of a text column were not strings (read as missing).
NON_STRING_KEY = b"synthproof.non_string"


def _missing(v: object) -> bool:
    if v is None:
        return True
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def load(source: Any, name: str, keep=None) -> tuple[pa.Table, Fingerprint]:
    """Read one input into an Arrow table.

    Parameters
    ----------
    source : str, os.PathLike, pandas.DataFrame or pyarrow.Table
        A Parquet file, a directory of Parquet shards, a CSV/TSV file, a JSONL file, or an
        in-memory table.
    name : str
        ``real``, ``synthetic`` or ``holdout`` (used in messages).
    keep : callable, optional
        Column projection for files whose schema can be read first (Parquet, CSV): given the
        column names, returns those to decode. ``Fingerprint.column_names`` lists every column.

    Returns
    -------
    table : pyarrow.Table
    fingerprint : Fingerprint
        Content hash (blake2b of the file bytes, or of the Arrow IPC stream for in-memory
        tables), row and column counts.

    Raises
    ------
    InputError
        Missing, unreadable, corrupt or unsupported file; zero rows; zero columns.
    """
    all_names = column_names(source) if isinstance(source, (str, os.PathLike)) else None
    columns = keep(all_names) if (keep is not None and all_names is not None) else None
    if isinstance(source, pa.Table):
        table, files, label = source, None, "<pyarrow.Table>"
    elif isinstance(source, pd.DataFrame):
        table, files, label = _frame_to_table(source), None, "<pandas.DataFrame>"
    elif isinstance(source, (str, os.PathLike)):
        path = pathlib.Path(source)
        table, files = _read_path(path, name, columns)
        label = str(path)
    else:
        raise InputError(f"{name}: expected a path, pandas.DataFrame or pyarrow.Table, got {type(source).__name__}")
    table = _repair_utf8(table)
    names = tuple(all_names) if all_names is not None else tuple(table.column_names)
    n_rows = table.num_rows
    if len(names) == 0:
        raise InputError(f"{name}: no columns in {label}")
    if table.num_rows == 0 and (table.num_columns or files is None):
        raise InputError(f"{name}: zero rows in {label}")
    if files and table.num_columns == 0:  # nothing kept: count rows from the metadata
        n_rows = _read_path(pathlib.Path(source), name, list(names[:1]))[0].num_rows
        if n_rows == 0:
            raise InputError(f"{name}: zero rows in {label}")
    digest = _hash_files(files) if files else _hash_table(table)
    return table, Fingerprint(name, label, digest, n_rows, len(names), names)
