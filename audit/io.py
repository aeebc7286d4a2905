"""Reading inputs: Parquet, CSV or JSONL files, folders, globs or object-store prefixes of shards,
pandas or pyarrow tables.

Where a source lives (local disk, ``s3://``, ``gs://``, ``hf://``, ``http(s)://``) and how its
shards are listed and streamed is :mod:`synthproof.sources`. Files are only ever read (never
modified). Every failure to read becomes an :class:`InputError` with one clear sentence; the
command line turns it into exit code 2.
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
import pyarrow.json as pajson
import pyarrow.parquet as pq

from . import sources
from .arrowtypes import CONVERTED_KEY, _repair_utf8, canonical_json, normalise  # noqa: F401
from .dictread import (DICTIONARY_READ_KEY, plain_strings, read_as_dictionary,  # noqa: F401
                       repair_dictionaries, small_dictionaries)
from .errors import InputError
from .sources import (CSV_SUFFIXES, DELIMITERS, JSONL_SUFFIXES, PARQUET_SUFFIXES, Shard, Source,  # noqa: F401
                      is_remote, iter_batches, resolve)

_check_encoding = sources.check_encoding
_first_line = sources.first_line


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


def _new_hasher():
    return hashlib.blake2b(digest_size=16)


class InputDigest:
    """The content hash of an input, file by file (:func:`compose_digest` of each file's
    blake2b-128), so that the files of one input can be hashed apart (by shards, workers) and
    give the same hash as one reader. ``next_file()`` before each file's bytes."""

    def __init__(self) -> None:
        self.files: list = []

    def next_file(self) -> None:
        self.files.append(_new_hasher())

    def update(self, data) -> None:
        self.files[-1].update(data)

    def hexdigest(self) -> str:
        return compose_digest([h.digest() for h in self.files]).split(":", 1)[1]


def compose_digest(file_digests: list[bytes]) -> str:
    """``blake2b:<hex>`` of an input from its files' blake2b-128 digests in shard order: the file's
    own digest for one file; for several, blake2b-128 of ``b"synthproof-files-v1\\0"`` and the
    concatenated digests (a change to any file's bytes or to their order changes it)."""
    if len(file_digests) == 1:
        return "blake2b:" + file_digests[0].hex()
    h = _new_hasher()
    h.update(b"synthproof-files-v1\0")
    for d in file_digests:
        h.update(d)
    return "blake2b:" + h.hexdigest()


def file_digest(fh) -> bytes:
    """blake2b-128 of the bytes of an open binary file (read in 4 MiB blocks)."""
    h = _new_hasher()
    for chunk in iter(lambda: fh.read(1 << 22), b""):
        h.update(chunk)
    return h.digest()


def _hash_files(paths: list[pathlib.Path]) -> str:
    """:func:`compose_digest` of local files in the order given (the source's shard order)."""
    digests = []
    for p in paths:
        with open(p, "rb") as fh:
            digests.append(file_digest(fh))
    return compose_digest(digests)


def _hash_table(table: pa.Table) -> str:
    h = _new_hasher()
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    h.update(sink.getvalue().to_pybytes())
    return "blake2b:" + h.hexdigest()


def sniff_delimiter(path: pathlib.Path, encoding: str | None = None) -> str:
    """The field delimiter of a CSV file: ``\\t`` for ``.tsv``, else :class:`csv.Sniffer` on the first
    64 KiB (one of ``, ; TAB |``), falling back to ``,``."""
    path = pathlib.Path(path)
    if sources.is_tsv(path.name):
        return "\t"
    try:
        with pa.input_stream(str(path)) as fh:
            head = fh.read(1 << 16)
    except (pa.ArrowException, OSError):
        return ","
    return sources.sniff_head(head, encoding, full=len(head) == 1 << 16)


def _buffer_delimiter(data: pa.Buffer, shard: Shard, encoding: str | None) -> str:
    if sources.is_tsv(shard.rel):
        return "\t"
    head = pa.input_stream(data, compression=sources.compression_of(shard.rel)).read(1 << 16)
    return sources.sniff_head(head, encoding, full=len(head) == 1 << 16)


def _schema_names(src: Source, encoding: str | None, delimiter: str | None) -> list[str] | None:
    """The column names of a resolved source's first shard (None for JSONL or an empty CSV)."""
    shard = src.shards[0]
    if src.format == "parquet":
        if not src.remote:
            return list(pq.read_schema(shard.path).names)
        with src.filesystem.open_input_file(shard.path) as fh:
            return list(pq.ParquetFile(fh).schema_arrow.names)
    if src.format == "csv":
        enc = _check_encoding(encoding)
        if not src.remote:
            if os.path.getsize(shard.path) == 0:
                return None
            with pacsv.open_csv(shard.path, read_options=_csv_read_options(enc),
                                parse_options=_csv_parse_options(pathlib.Path(shard.path), enc, delimiter)) as reader:
                return list(reader.schema.names)
        with sources.open_stream(src, shard, "input") as fh:
            head = fh.read(1 << 16)
        if not head:
            return None
        delim = delimiter or sources.sniff_head(head, enc, sources.is_tsv(shard.rel), full=len(head) == 1 << 16)
        with sources.open_stream(src, shard, "input") as fh, \
                pacsv.open_csv(fh, read_options=_csv_read_options(enc),
                               parse_options=pacsv.ParseOptions(delimiter=delim)) as reader:
            return list(reader.schema.names)
    return None


def column_names(source: Any, encoding: str | None = None, delimiter: str | None = None) -> list[str] | None:
    """The column names of an input without reading its data (None when unknown, e.g. JSONL).

    Parameters
    ----------
    source : path, URL, glob, pandas.DataFrame or pyarrow.Table
        See :func:`load`. For Parquet only the footer is read, for CSV the first block.
    encoding, delimiter : str, optional
        As for :func:`load`.

    Returns
    -------
    list of str or None
        None when the names cannot be known without reading the data, or the input cannot be read.
    """
    try:
        if isinstance(source, pa.Table):
            return list(source.column_names)
        if isinstance(source, pd.DataFrame):
            return [str(c) for c in source.columns]
        if isinstance(source, (str, os.PathLike)):
            return _schema_names(resolve(source, "input"), encoding, delimiter)
    except (pa.ArrowException, OSError, ValueError, TypeError, InputError):
        return None
    return None


def _csv_read_options(encoding: str | None) -> pacsv.ReadOptions:
    return sources.csv_read_options(encoding)


def _csv_parse_options(path: pathlib.Path, encoding: str | None, delimiter: str | None) -> pacsv.ParseOptions:
    return pacsv.ParseOptions(delimiter=delimiter or sniff_delimiter(path, encoding))


def _text_input(data: str | pa.Buffer, shard: Shard):
    """What pyarrow's CSV and JSON readers read: a local path (decompressed by its suffix), or a
    decompressing stream over fetched bytes."""
    return data if isinstance(data, str) else pa.input_stream(data, compression=sources.compression_of(shard.rel))


def _size(data: str | pa.Buffer) -> int:
    return os.path.getsize(data) if isinstance(data, str) else data.size


def _read_csv(data: str | pa.Buffer, shard: Shard, name: str, columns, encoding: str | None,
              delimiter: str | None) -> pa.Table:
    if _size(data) == 0:
        raise InputError(f"{name}: file is empty: {shard.label}")
    convert = pacsv.ConvertOptions(strings_can_be_null=True, include_columns=columns)
    if isinstance(data, str):
        parse = _csv_parse_options(pathlib.Path(data), encoding, delimiter)
    else:
        parse = pacsv.ParseOptions(delimiter=delimiter or _buffer_delimiter(data, shard, encoding))
    table = pacsv.read_csv(_text_input(data, shard), read_options=_csv_read_options(encoding),
                           parse_options=parse, convert_options=convert)
    if encoding is None:
        # pyarrow reads a column of invalid UTF-8 as binary (and replaces bad bytes in the header).
        sources.check_csv_utf8(table.schema, name, shard.label)
    return table


def _jsonl_lines(data: str | pa.Buffer, shard: Shard):
    comp = sources.compression_of(shard.rel)
    if isinstance(data, str) and comp is None:
        return open(data, "rb")
    with pa.input_stream(data, compression=comp) as fh:
        return _Lines(fh.read())


class _Lines(list):
    """Lines of decompressed bytes, usable like an open file (``with`` and iteration)."""

    def __init__(self, raw: bytes) -> None:
        super().__init__(raw.splitlines(keepends=True))

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        return None


def _read_jsonl(data: str | pa.Buffer, shard: Shard, name: str, encoding: str | None) -> pa.Table:
    if _size(data) == 0:
        raise InputError(f"{name}: file is empty: {shard.label}")
    if encoding is None:
        try:
            return pajson.read_json(_text_input(data, shard))
        except pa.ArrowInvalid:
            pass  # mixed types across lines, invalid UTF-8, repeated keys or broken lines: line by line
    with _jsonl_lines(data, shard) as lines:
        frame = sources.parse_jsonl_lines(lines, name, shard.label, encoding=encoding or "utf-8")
    return _frame_to_table(frame)


def _read_parquet(data: str | pa.Buffer, columns, dictionary: bool = False) -> pa.Table:
    source = data if isinstance(data, str) else pa.BufferReader(data)
    pf = pq.ParquetFile(source, memory_map=isinstance(data, str))
    strings = [f.name for f in pf.schema_arrow if (columns is None or f.name in columns)
               and (pa.types.is_string(f.type) or pa.types.is_large_string(f.type))
               and small_dictionaries(pf.metadata, f.name)] if dictionary else []
    was = {n: str(pf.schema_arrow.field(n).type).encode() for n in strings}
    if strings:  # decoded straight into dictionary arrays: Parquet stores them so, no string materialised
        pf = pq.ParquetFile(source if isinstance(data, str) else pa.BufferReader(data), memory_map=isinstance(data, str),
                            read_dictionary=strings)
    # One batch per row group, as pyarrow.parquet.read_table chunks its columns.
    size = max([pf.metadata.row_group(i).num_rows for i in range(pf.metadata.num_row_groups)] + [1])
    batches = list(pf.iter_batches(batch_size=size, columns=columns))
    if not batches:
        empty = pf.schema_arrow.empty_table()
        return empty.select(columns) if columns is not None else empty
    table = pa.Table.from_batches(batches)
    for name in strings:
        i = table.schema.get_field_index(name)
        fld = table.schema.field(i)
        table = table.set_column(i, fld.with_metadata({**(fld.metadata or {}), DICTIONARY_READ_KEY: was[name]}),
                                 table.column(i))
    return table


def _read_one(src: Source, shard: Shard, data: str | pa.Buffer, name: str, columns, encoding,
              delimiter, dictionary: bool = False) -> pa.Table:
    if src.format == "parquet":
        return _read_parquet(data, columns, dictionary)
    if src.format == "csv":
        return _read_csv(data, shard, name, columns, encoding, delimiter)
    table = _read_jsonl(data, shard, name, encoding)
    return table.select([c for c in columns if c in table.column_names]) if columns is not None else table


def _read_shard(src: Source, shard: Shard, name: str, columns, encoding, delimiter, hasher,
                dictionary: bool = False) -> pa.Table:
    """One shard read whole: a local file in place, a remote object streamed into memory (and into
    ``hasher``) then parsed."""
    where = f"shard {shard.label} of {src.label}" if src.folder else shard.label
    try:
        data = sources.read_bytes(src, shard, name, hasher) if src.remote else shard.path
        return _read_one(src, shard, data, name, columns, encoding, delimiter, dictionary)
    except InputError as exc:
        if src.folder and not src.remote:
            raise InputError(f"{exc} (shard {shard.rel} of {src.label})") from None
        raise
    except UnicodeError as exc:
        raise InputError(f"{name}: {'shard ' if src.folder else ''}{shard.label} is not {encoding or 'UTF-8'} text "
                         f"({_first_line(exc)}): pass the file's encoding with --encoding (e.g. --encoding latin-1)"
                         ) from None
    except (pa.ArrowException, OSError, ValueError, LookupError) as exc:
        raise InputError(f"{name}: cannot read {where}: {_first_line(exc)}") from None


def _read_source(src: Source, name: str, columns=None, encoding=None, delimiter=None, hasher=None,
                 dictionary: bool = False) -> pa.Table:
    """All shards of a source, read in order, checked to share their columns and types, concatenated."""
    tables: list[pa.Table] = []
    first: tuple[Shard, pa.Table] | None = None
    for shard in src.shards:
        if hasher is not None:
            hasher.next_file()
        t = _read_shard(src, shard, name, columns, encoding, delimiter, hasher, dictionary)
        _check_unique(t.column_names, name, shard.label)
        if first is None:
            first = (shard, t)
        elif set(t.column_names) != set(first[1].column_names):
            raise sources.column_mismatch(name, shard.label, first[0].rel.rsplit('/', 1)[-1], t.column_names,
                                          first[1].column_names)
        else:
            t = t.select(first[1].column_names)
        tables.append(t)
    if len(tables) == 1:
        return tables[0]
    if dictionary:  # a column read dictionary-encoded in some shards only is read as strings in all
        mixed = {f.name for t in tables for f in t.schema if read_as_dictionary(f)
                 and not all(read_as_dictionary(u.schema.field(f.name)) for u in tables)}
        tables = [plain_strings(t, mixed) for t in tables] if mixed else tables
    schema = tables[0].schema
    for shard, t in zip(src.shards[1:], tables[1:]):
        try:
            schema = pa.unify_schemas([schema, t.schema], promote_options="permissive")
        except (pa.ArrowException, TypeError) as exc:
            col = next((c for c in t.column_names
                        if sources.unified_type(schema.field(c).type, t.schema.field(c).type) is None), None)
            detail = (f"column {col!r} is {t.schema.field(col).type} there and {schema.field(col).type} before"
                      if col else _first_line(exc))
            raise InputError(f"{name}: shard {shard.label} does not match the other shards of {src.label}: "
                             f"{detail}") from None
    try:
        return pa.concat_tables(tables, promote_options="permissive")
    except (pa.ArrowException, TypeError) as exc:
        raise InputError(f"{name}: the shards of {src.label} do not share one schema: {_first_line(exc)}") from None


def _check_unique(names, name: str, label: str) -> None:
    seen: dict[str, int] = {}
    for n in names:
        seen[str(n)] = seen.get(str(n), 0) + 1
    dup = [n for n, k in seen.items() if k > 1]
    if dup:
        raise InputError(f"{name}: column name {dup[0]!r} appears {seen[dup[0]]} times in {label}"
                         + (f" (also {', '.join(repr(d) for d in dup[1:4])})" if len(dup) > 1 else "")
                         + "; rename the columns so that each name is unique")
def read_jsonl_lines(path: pathlib.Path, name: str, encoding: str = "utf-8") -> pd.DataFrame:
    """Parse a JSON Lines file one line at a time (the slow path when pyarrow's reader refuses it).

    See :func:`synthproof.sources.parse_jsonl_lines`; ``.gz`` and ``.zst`` files are decompressed.

    Raises
    ------
    InputError
        Broken lines (the first five line numbers and the count), a repeated key, or no record at all.
    """
    path = pathlib.Path(path)
    with _jsonl_lines(str(path), Shard(str(path), str(path), path.name)) as lines:
        return sources.parse_jsonl_lines(lines, name, str(path), encoding=encoding)


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
         delimiter: str | None = None, dictionary_strings: bool = False) -> tuple[pa.Table, Fingerprint]:
    """Read one input into an Arrow table.

    Parameters
    ----------
    source : str, os.PathLike, pandas.DataFrame or pyarrow.Table
        A Parquet, CSV/TSV or JSONL (also ``.jsonl.gz``, ``.jsonl.zst``) file, a folder or glob of
        shards of one of these formats (read in sorted path order), a ``file://``, ``s3://``,
        ``gs://``, ``hf://`` or ``http(s)://`` URL of such a file, prefix or glob (see
        :func:`synthproof.sources.resolve`), or an in-memory table.
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
    dictionary_strings : bool, default False
        Read the string columns of Parquet files dictionary-encoded, as Parquet stores them (several
        times faster than materialising every string); they are marked
        (:func:`read_as_dictionary`) and :func:`plain_strings` gives the plain table back.

    Returns
    -------
    table : pyarrow.Table
        Column types the audit does not read are converted (see :func:`normalise`); the field
        metadata key :data:`CONVERTED_KEY` says how.
    fingerprint : Fingerprint
        Content hash (blake2b of the file bytes in shard order, the same for an object in a bucket
        as for its local copy, or of the Arrow IPC stream for in-memory tables), row and column
        counts.

    Raises
    ------
    InputError
        Missing, unreadable, corrupt or unsupported file; missing bucket or key; access denied;
        unsupported scheme; file that is not in the given encoding; repeated column name; shards
        of mixed formats or schemas; zero rows; zero columns.
    """
    encoding = _check_encoding(encoding)
    delimiter = {"tab": "\t", "\\t": "\t"}.get(delimiter, delimiter) if delimiter is not None else None
    if delimiter is not None and len(delimiter) != 1:
        raise InputError(f"delimiter must be one character, got {delimiter!r} (for a tab pass $'\\t' or 'tab')")
    src = resolve(source, name) if isinstance(source, (str, os.PathLike)) else None
    all_names = None
    if src is not None:
        try:
            all_names = _schema_names(src, encoding, delimiter)
        except (pa.ArrowException, OSError, ValueError, TypeError, InputError):
            all_names = None  # the read below says what is wrong
    if all_names is not None:
        _check_unique(all_names, name, str(source) if src is None or not src.remote else src.label)
    columns = keep(all_names) if (keep is not None and all_names is not None) else None
    hasher = InputDigest() if src is not None and src.remote else None
    if isinstance(source, pa.Table):
        _check_unique(source.column_names, name, "<pyarrow.Table>")
        table, label = source, "<pyarrow.Table>"
    elif isinstance(source, pd.DataFrame):
        _check_unique(source.columns, name, "<pandas.DataFrame>")
        table, label = _frame_to_table(source), "<pandas.DataFrame>"
    elif src is not None:
        table, label = _read_source(src, name, columns, encoding, delimiter, hasher, dictionary_strings), src.label
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
    if table.num_rows == 0 and (table.num_columns or src is None):
        raise InputError(f"{name}: zero rows in {label}")
    if src is not None and table.num_columns == 0:  # nothing kept: count rows from the metadata
        n_rows = _read_source(src, name, list(names[:1]), encoding, delimiter).num_rows
        if n_rows == 0:
            raise InputError(f"{name}: zero rows in {label}")
    if hasher is not None:
        digest = "blake2b:" + hasher.hexdigest()
    else:
        digest = _hash_files(src.local_paths) if src is not None else _hash_table(table)
    return table, Fingerprint(name, label, digest, n_rows, len(names), names)
