"""Where an input lives and how its shards are streamed.

A source string is resolved into a filesystem, a sorted list of shards and one format
(:func:`resolve`): a local file, a local folder of shards, a glob (``data/*.parquet``,
``data/**/part-*.csv``), a ``file://`` URL, ``s3://bucket/prefix`` (:class:`pyarrow.fs.S3FileSystem`),
``gs://bucket/prefix`` (:class:`pyarrow.fs.GcsFileSystem`), or ``hf://`` and ``http(s)://`` through
fsspec. Formats: Parquet, CSV/TSV, JSON Lines, and JSON Lines (or CSV) compressed with gzip or zstd.

:func:`iter_batches` streams the rows of a source as Arrow record batches, in file order (by path,
then row position), with column projection; the position of a row never depends on the batch size.
Objects are only ever read, never written.
"""


from .resolve import (
    ARROW_SCHEMES,
    CSV_SUFFIXES,
    DELIMITERS,
    FSSPEC_SCHEMES,
    JSONL_SUFFIXES,
    PARQUET_SUFFIXES,
    Shard,
    Source,
    check_encoding,
    compression_of,
    first_line,
    format_of,
    is_remote,
    remote_error,
    resolve,
    s3_filesystem,
    scheme_of,
)
from .stream import (
    column_mismatch,
    unified_type,
    JSONL_BLOCK_BYTES,
    check_csv_utf8,
    csv_read_options,
    is_tsv,
    iter_batches,
    open_stream,
    parse_jsonl_lines,
    read_bytes,
    shard_batches,
    sniff_head,
)

__all__ = [
    "column_mismatch",
    "unified_type",
    "ARROW_SCHEMES",
    "CSV_SUFFIXES",
    "DELIMITERS",
    "FSSPEC_SCHEMES",
    "JSONL_BLOCK_BYTES",
    "JSONL_SUFFIXES",
    "PARQUET_SUFFIXES",
    "Shard",
    "Source",
    "check_encoding",
    "compression_of",
    "first_line",
    "format_of",
    "is_remote",
    "remote_error",
    "resolve",
    "s3_filesystem",
    "scheme_of",
    "check_csv_utf8",
    "csv_read_options",
    "is_tsv",
    "iter_batches",
    "open_stream",
    "parse_jsonl_lines",
    "read_bytes",
    "shard_batches",
    "sniff_head",
]
