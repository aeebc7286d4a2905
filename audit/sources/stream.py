"""How shards are read: byte streams (decompressed), CSV sniffing, JSON Lines parsing with line
numbers, and record batches whose row positions never depend on the batch size. See
:mod:`synthproof.sources`."""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Iterator

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.json as pajson
import pyarrow.parquet as pq

from ..errors import InputError

from .resolve import (
    DELIMITERS,
    Shard,
    Source,
    _CHUNK,
    check_encoding,
    compression_of,
    first_line,
    remote_error,
    resolve,
)

#: Bytes of JSON Lines parsed at a time by :func:`iter_batches`.
JSONL_BLOCK_BYTES = 4 << 20


def _wrap(exc: BaseException, src: Source, shard: Shard, name: str) -> InputError:
    if src.remote:
        return remote_error(exc, name, shard.label, f"shard {shard.label}" if src.folder else shard.label)
    where = f"shard {shard.label} of {src.label}" if src.folder else shard.label
    return InputError(f"{name}: cannot read {where}: {first_line(exc)}")


def open_stream(src: Source, shard: Shard, name: str, decompress: bool = True) -> pa.NativeFile:
    """A sequential input stream of a shard, decompressed (gzip, zstd) unless ``decompress`` is False.

    Raises
    ------
    InputError
        The shard cannot be opened (missing, access denied, network).
    """
    comp = compression_of(shard.rel) if decompress else None
    try:
        return src.filesystem.open_input_stream(shard.path, compression=comp, buffer_size=_CHUNK if comp else None)
    except (OSError, pa.ArrowException) as exc:
        raise _wrap(exc, src, shard, name) from None


def read_bytes(src: Source, shard: Shard, name: str, hasher=None) -> pa.Buffer:
    """The raw bytes of a shard, streamed in 1 MiB chunks into memory and into ``hasher`` (never to disk).

    Raises
    ------
    InputError
        The shard cannot be read (missing, access denied, cut off).
    """
    chunks = []
    with open_stream(src, shard, name, decompress=False) as fh:
        try:
            while True:
                chunk = fh.read(_CHUNK)
                if not chunk:
                    break
                if hasher is not None:
                    hasher.update(chunk)
                chunks.append(chunk)
        except (OSError, pa.ArrowException) as exc:
            raise _wrap(exc, src, shard, name) from None
    if shard.size is not None and sum(len(c) for c in chunks) != shard.size:
        raise InputError(f"{name}: shard {shard.label} was cut off while reading ({sum(len(c) for c in chunks)} "
                         f"of {shard.size} bytes): read it again")
    return pa.py_buffer(b"".join(chunks))


# --- CSV helpers ------------------------------------------------------------------------------------

def sniff_head(head: bytes, encoding: str | None = None, tsv: bool = False, full: bool = False) -> str:
    """The field delimiter of CSV text from its first bytes: ``\\t`` for TSV, else :class:`csv.Sniffer`
    (one of ``, ; TAB |``), falling back to the header line's most frequent one, then ``,``.

    ``full`` says whether ``head`` is a whole 64 KiB read (its last, cut line is then dropped).
    """
    if tsv:
        return "\t"
    text = head.decode(encoding or "utf-8", errors="replace")
    if full and "\n" in text:
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


def is_tsv(name: str) -> bool:
    """Whether a file name is a TSV file (``.tsv``, ``.tsv.gz``, ``.tsv.zst``)."""
    return name.lower().endswith((".tsv", ".tsv.gz", ".tsv.zst"))


def csv_read_options(encoding: str | None, **kwargs) -> pacsv.ReadOptions:
    """pyarrow CSV read options for a text encoding (None: UTF-8)."""
    return pacsv.ReadOptions(encoding=encoding, **kwargs) if encoding else pacsv.ReadOptions(**kwargs)


def check_csv_utf8(schema: pa.Schema, name: str, label: str) -> None:
    """Refuse a CSV whose text is not UTF-8 (pyarrow reads such a column as binary).

    Raises
    ------
    InputError
        Asking for ``--encoding``.
    """
    bad = [f.name for f in schema if pa.types.is_binary(f.type)] + [n for n in schema.names if "\ufffd" in n]
    if bad:
        raise InputError(f"{name}: {label} is not UTF-8 text (column {bad[0]!r} holds bytes that are not valid "
                         "UTF-8): pass the file's encoding with --encoding (e.g. --encoding latin-1)")


# --- JSON Lines helpers -----------------------------------------------------------------------------

def parse_jsonl_lines(lines, name: str, label: str, encoding: str = "utf-8", first_line_no: int = 1,
                      allow_empty: bool = False) -> pd.DataFrame:
    """Parse JSON Lines one line at a time (the slow path when pyarrow's reader refuses the text).

    Bytes that are not valid in ``encoding`` are replaced by U+FFFD (the text checks count it); blank
    lines are skipped; a line that is not a JSON object is an error naming its line number(s), and
    so is an object that repeats a key.

    Parameters
    ----------
    lines : iterable of bytes
        The raw lines.
    name, label : str
        The input's role and the file's name, for messages.
    encoding : str, default "utf-8"
    first_line_no : int, default 1
        The line number of the first line (for blocks of a longer file).
    allow_empty : bool, default False
        Return an empty frame for no record instead of raising.

    Returns
    -------
    pandas.DataFrame

    Raises
    ------
    InputError
        Broken lines (the first five line numbers and the count), a repeated key, or no record at all.
    """
    records, bad, n_lines = [], [], first_line_no - 1
    repeated: list[str] = []

    def pairs(items):
        obj = dict(items)
        if len(obj) != len(items) and not repeated:
            seen: set[str] = set()
            repeated.append(next(k for k, _ in items if k in seen or seen.add(k)))
        return obj

    for n_lines, raw in enumerate(lines, start=first_line_no):
        line = raw.decode(encoding, errors="replace").strip()
        if not line:
            continue
        try:
            obj = json.loads(line, object_pairs_hook=pairs)
        except ValueError:
            obj = None
        if repeated:
            raise InputError(f"{name}: {label}: line {n_lines} repeats the key {repeated[0]!r}; "
                             "each column name must appear once per record")
        if not isinstance(obj, dict):
            bad.append(n_lines)
            continue
        records.append(obj)
    if bad:
        shown = ", ".join(str(b) for b in bad[:5]) + (" ..." if len(bad) > 5 else "")
        total = n_lines - first_line_no + 1
        raise InputError(f"{name}: {label}: {len(bad)} of {total} lines are not JSON objects (line {shown})")
    if not records and not allow_empty:
        raise InputError(f"{name}: zero rows in {label}")
    return pd.DataFrame.from_records(records)


# --- streaming --------------------------------------------------------------------------------------

def _combine(parts: list[pa.RecordBatch]) -> pa.RecordBatch:
    if len(parts) == 1:
        return parts[0]
    if parts[0].num_columns == 0:  # a projection on no column (row counts only): Arrow keeps no batch
        return pa.record_batch([pa.nulls(sum(b.num_rows for b in parts))], names=["_"]).select([])
    table = pa.concat_tables([pa.Table.from_batches([b]) for b in parts], promote_options="permissive")
    return table.combine_chunks().to_batches()[0]


def _rebatch(parts: Iterator[pa.RecordBatch], rows: int, max_bytes: int | None = None) -> Iterator[pa.RecordBatch]:
    """Batches of exactly ``rows`` rows (the last one shorter) from batches of any size; with
    ``max_bytes``, a batch also ends once it holds about that many bytes (wide rows such as
    web-length documents: 10^6 rows of 1.7 kB would be 1.7 GB), and at least one row."""
    buf: list[pa.RecordBatch] = []
    n = held = 0
    for b in parts:
        per_row = b.nbytes / b.num_rows if max_bytes is not None and b.num_rows else 0.0
        while b.num_rows:
            take = min(rows - n, b.num_rows)
            if per_row:
                take = max(min(take, int((max_bytes - held) // per_row)), 1)
            buf.append(b.slice(0, take))
            n += take
            held += take * per_row
            b = b.slice(take)
            if n == rows or (per_row and held + per_row > max_bytes):
                yield _combine(buf)
                buf, n, held = [], 0, 0
    if n:
        yield _combine(buf)


def _parquet_batches(src: Source, shard: Shard, name: str, columns, rows: int,
                     max_bytes: int | None = None) -> Iterator[pa.RecordBatch]:
    try:
        fh = src.filesystem.open_input_file(shard.path)
    except (OSError, pa.ArrowException) as exc:
        raise _wrap(exc, src, shard, name) from None
    with fh:
        try:
            pf = pq.ParquetFile(fh)
            if columns is not None:
                missing = [c for c in columns if c not in pf.schema_arrow.names]
                if missing:
                    raise InputError(f"{name}: shard {shard.label} has no column {missing[0]!r}")
            if max_bytes is not None and pf.metadata.num_rows:  # the footer's uncompressed bytes per row
                total = sum(pf.metadata.row_group(i).total_byte_size for i in range(pf.metadata.num_row_groups))
                rows = max(min(rows, int(max_bytes * pf.metadata.num_rows // max(total, 1))), 1)
            yield from pf.iter_batches(batch_size=rows, columns=columns)
        except (OSError, pa.ArrowException, ValueError) as exc:
            raise _wrap(exc, src, shard, name) from None


def _csv_batches(src: Source, shard: Shard, name: str, columns, encoding, delimiter) -> Iterator[pa.RecordBatch]:
    if delimiter is None:
        with open_stream(src, shard, name) as fh:
            try:
                head = fh.read(1 << 16)
            except (OSError, pa.ArrowException) as exc:
                raise _wrap(exc, src, shard, name) from None
        if not head:
            raise InputError(f"{name}: file is empty: {shard.label}")
        delimiter = sniff_head(head, encoding, is_tsv(shard.rel), full=len(head) == 1 << 16)
    stream = open_stream(src, shard, name)
    with stream:
        try:
            reader = pacsv.open_csv(stream, read_options=csv_read_options(encoding),
                                    parse_options=pacsv.ParseOptions(delimiter=delimiter),
                                    convert_options=pacsv.ConvertOptions(strings_can_be_null=True,
                                                                         include_columns=columns))
            if encoding is None:
                check_csv_utf8(reader.schema, name, shard.label)
            for batch in reader:
                if encoding is None:
                    check_csv_utf8(batch.schema, name, shard.label)
                yield batch
        except InputError:
            raise
        except UnicodeError as exc:
            raise InputError(f"{name}: shard {shard.label} is not {encoding or 'UTF-8'} text ({first_line(exc)}): "
                             "pass the file's encoding with --encoding (e.g. --encoding latin-1)") from None
        except (OSError, pa.ArrowException, ValueError) as exc:
            if "empty" in str(exc).lower():
                raise InputError(f"{name}: file is empty: {shard.label}") from None
            raise _wrap(exc, src, shard, name) from None


def _jsonl_block(block: bytes, name: str, label: str, encoding: str | None, line0: int) -> pa.Table:
    if encoding is None:
        try:
            return pajson.read_json(pa.BufferReader(block),
                                    read_options=pajson.ReadOptions(block_size=max(len(block), 1 << 16)))
        except pa.ArrowInvalid:
            pass  # mixed types, invalid UTF-8, repeated keys or broken lines: line by line
    from ..io import _frame_to_table

    frame = parse_jsonl_lines(block.splitlines(), name, label, encoding or "utf-8", line0, allow_empty=True)
    return _frame_to_table(frame) if len(frame.columns) else pa.table({})


def _jsonl_batches(src: Source, shard: Shard, name: str, columns, encoding) -> Iterator[pa.RecordBatch]:
    line = 1  # the number of the first line of the next block
    rest = b""
    records = 0
    with open_stream(src, shard, name) as fh:
        while True:
            try:
                chunk = fh.read(JSONL_BLOCK_BYTES)
            except (OSError, pa.ArrowException) as exc:
                err = _wrap(exc, src, shard, name)
                raise InputError(f"{err} (at line {line})") from None
            data = rest + chunk
            if chunk:
                cut = data.rfind(b"\n") + 1
                if cut == 0:
                    rest = data
                    continue
                block, rest = data[:cut], data[cut:]
            else:
                block, rest = data, b""
            if block.strip():
                table = _jsonl_block(block, name, shard.label, encoding, line)
                if table.num_rows:
                    records += table.num_rows
                    if columns is not None:
                        table = pa.table({c: table.column(c) if c in table.column_names
                                          else pa.nulls(table.num_rows) for c in columns})
                    yield from table.to_batches()
            line += block.count(b"\n")
            if not chunk:
                break
    if records == 0:
        raise InputError(f"{name}: zero rows in {shard.label}" if block.strip() or line > 1
                         else f"{name}: file is empty: {shard.label}")


def shard_batches(src: Source, shard: Shard, name: str, columns=None, batch_rows: int = 65536,
                  encoding: str | None = None, delimiter: str | None = None,
                  batch_bytes: int | None = None) -> Iterator[pa.RecordBatch]:
    """The record batches of one shard, streamed (at most ``batch_rows`` rows and about
    ``batch_bytes`` bytes each, in row order).

    Raises
    ------
    InputError
        The shard cannot be read, is cut off or corrupt (named, with the line for JSON Lines).
    """
    if src.format == "parquet":
        parts = _parquet_batches(src, shard, name, columns, batch_rows, batch_bytes)
    elif src.format == "csv":
        parts = _csv_batches(src, shard, name, columns, encoding, delimiter)
    else:
        parts = _jsonl_batches(src, shard, name, columns, encoding)
    return _rebatch(parts, batch_rows, batch_bytes)


def unified_type(a: pa.DataType, b: pa.DataType) -> pa.DataType | None:
    """The type two shards' columns of types ``a`` and ``b`` concatenate to (Arrow's permissive
    promotion: null -> any, int -> wider int or float, ...); ``None`` when they cannot."""
    try:
        return pa.unify_schemas([pa.schema([("x", a)]), pa.schema([("x", b)])],
                                promote_options="permissive").field(0).type
    except (pa.ArrowException, TypeError):
        return None


def column_mismatch(name: str, shard: str, first: str, have, want) -> InputError:
    """The error for a shard whose column set ``have`` differs from the first shard's ``want``."""
    missing, extra = sorted(set(want) - set(have)), sorted(set(have) - set(want))
    return InputError(f"{name}: shard {shard} has other columns than {first}"
                      + (f" (missing {', '.join(missing)})" if missing else "")
                      + (f" (extra {', '.join(extra)})" if extra else "")
                      + "; every shard of a folder must have the same columns")


def _align(batch: pa.RecordBatch, ref: pa.Schema, shard: Shard, first: Shard, name: str,
           sparse: bool) -> pa.RecordBatch:
    """A batch with the reference column order; types cast to the reference's where that loses nothing.
    For JSON Lines (``sparse``) a column no record of the batch has comes back as nulls."""
    if sparse and set(batch.schema.names) < set(ref.names):
        have = set(batch.schema.names)
        batch = pa.RecordBatch.from_arrays(
            [batch.column(c) if c in have else pa.nulls(batch.num_rows, ref.field(c).type) for c in ref.names],
            names=ref.names)
    if sparse and set(batch.schema.names) - set(ref.names):
        extra = sorted(set(batch.schema.names) - set(ref.names))
        raise InputError(f"{name}: shard {shard.label} has keys that the records before it lack "
                         f"({', '.join(extra[:5])}): pass columns=[...] to read a fixed set of columns")
    if batch.schema.names != ref.names:
        if set(batch.schema.names) != set(ref.names):
            raise column_mismatch(name, shard.label, first.rel, batch.schema.names, ref.names)
        batch = batch.select(ref.names)
    arrays = []
    for field, col in zip(ref, batch.columns):
        if col.type != field.type:
            wide = unified_type(field.type, col.type)
            if wide is None:
                raise InputError(f"{name}: shard {shard.label} does not match the shards before it: column "
                                 f"{field.name!r} is {col.type} there and {field.type} before")
            if wide == field.type:
                col = col.cast(field.type)
        arrays.append(col)
    return pa.RecordBatch.from_arrays(arrays, names=ref.names)


def iter_batches(source: str | os.PathLike, name: str, columns: list[str] | None = None, batch_rows: int = 65536,
                 encoding: str | None = None, delimiter: str | None = None, batch_bytes: int | None = None,
                 span: tuple[int, int] | None = None, offsets: list[int] | None = None
                 ) -> Iterator[tuple[int, int, pa.RecordBatch]]:
    """Stream the rows of a file, folder, glob or URL as Arrow record batches.

    Shards are read one after the other in path order, each in row order; no shard is held whole
    in memory (Parquet is read by row group from a random-access file, CSV by blocks, JSON Lines
    in blocks of :data:`JSONL_BLOCK_BYTES`). The global position of a row (``row0`` plus its
    offset in the batch) does not depend on ``batch_rows`` or ``batch_bytes``: every batch has
    ``batch_rows`` rows but the last of each shard and those cut by ``batch_bytes``, and no batch
    spans two shards.

    Parameters
    ----------
    source : str or os.PathLike
        See :func:`resolve`.
    name : str
        The input's role, for messages.
    columns : list of str, optional
        Read only these columns, in this order [default: all, in the first shard's order]. For
        JSON Lines, a column no record of a block has comes back as nulls.
    batch_rows : int, default 65536
        Rows per batch.
    batch_bytes : int, optional
        Bytes per batch at most (about; at least one row): wide rows get fewer rows a batch.
    encoding : str, optional
        Text encoding of CSV and JSON Lines shards [default: UTF-8].
    delimiter : str, optional
        CSV field delimiter [default: sniffed from each shard's first 64 KiB].
    span : (int, int), optional
        Only the rows ``lo <= row < hi`` (global positions): shards outside it are not opened, a
        shard is read no further than ``hi``, and batches are cut to it. Needs ``offsets``.
    offsets : list of int, optional
        The global position of each shard's first row, and the total rows last (``len(shards) + 1``
        values, from a counting pass: :mod:`synthproof.plan.shards`).

    Yields
    ------
    shard_index : int
        Index of the shard in :attr:`Source.shards`.
    row0 : int
        Global position (over all shards) of the batch's first row.
    batch : pyarrow.RecordBatch
        The rows as read (no type conversion, unlike :func:`synthproof.io.load`). Columns keep the
        first shard's order; a type may widen from one batch to the next where pyarrow's permissive
        promotion allows it (null to any type, integer to float), so join them with
        ``pyarrow.concat_tables(..., promote_options="permissive")``.

    Raises
    ------
    InputError
        See :func:`resolve`; also a shard that fails mid-read (named, and for JSON Lines the line),
        a shard whose columns or types differ from the shards before it (named), a requested
        column that a Parquet or CSV shard lacks, text that is not in the encoding.
    """
    if batch_rows < 1:
        raise ValueError(f"batch_rows must be at least 1, got {batch_rows}")
    encoding = check_encoding(encoding)
    src = resolve(source, name)
    if span is not None and (offsets is None or len(offsets) != len(src.shards) + 1):
        raise ValueError("span needs the offsets of every shard (and the total) of the source")
    ref: pa.Schema | None = None
    row0 = 0
    for i, shard in enumerate(src.shards):
        if span is not None:
            if offsets[i + 1] <= span[0] or offsets[i] >= span[1]:
                continue
            row0 = offsets[i]
        for batch in shard_batches(src, shard, name, columns, batch_rows, encoding, delimiter, batch_bytes):
            if ref is None:
                ref = batch.schema
            else:
                batch = _align(batch, ref, shard, src.shards[0], name, src.format == "jsonl")
                ref = pa.schema([f if f.type == t else f.with_type(t) for f, t in zip(ref, batch.schema.types)],
                                metadata=ref.metadata)
            n = batch.num_rows
            if span is not None:
                a, b = max(span[0] - row0, 0), min(span[1] - row0, n)
                if b > a:
                    yield i, row0 + a, (batch if (a, b) == (0, n) else batch.slice(a, b - a))
                row0 += n
                if row0 >= span[1]:
                    break
                continue
            yield i, row0, batch
            row0 += n
