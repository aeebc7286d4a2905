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

from __future__ import annotations

import codecs
import csv
import fnmatch
import json
import os
import pathlib
import re
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.fs as pafs
import pyarrow.json as pajson
import pyarrow.parquet as pq

from .errors import InputError

PARQUET_SUFFIXES = (".parquet", ".pq", ".parq")
CSV_SUFFIXES = (".csv", ".csv.gz", ".csv.zst", ".tsv", ".tsv.gz", ".tsv.zst")
JSONL_SUFFIXES = (".jsonl", ".ndjson", ".json", ".jsonl.gz", ".ndjson.gz", ".jsonl.zst", ".ndjson.zst")

#: Schemes read through pyarrow's own filesystems, and through fsspec (with the package each needs).
ARROW_SCHEMES = ("s3", "gs", "gcs")
FSSPEC_SCHEMES = {"hf": "huggingface_hub", "http": "aiohttp", "https": "aiohttp"}

#: Delimiters the CSV sniffer chooses from (in this order of preference on ties).
DELIMITERS = ",;\t|"

_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*)://")
_GLOB = re.compile(r"[*?\[]")
_CHUNK = 1 << 20
#: Bytes of JSON Lines parsed at a time by :func:`iter_batches`.
JSONL_BLOCK_BYTES = 4 << 20


def scheme_of(source: Any) -> str | None:
    """The lower-case ``scheme`` of a ``scheme://...`` string (None for local paths and objects)."""
    if isinstance(source, str):
        m = _SCHEME.match(source)
        return m.group(1).lower() if m else None
    return None


def is_remote(source: Any) -> bool:
    """Whether ``source`` is a URL read over the network (any scheme but ``file://``)."""
    return scheme_of(source) not in (None, "file")


def format_of(name: str) -> str | None:
    """``parquet``, ``csv`` or ``jsonl`` from a file name's suffix (None when not a data file)."""
    lower = name.lower()
    if lower.endswith(PARQUET_SUFFIXES):
        return "parquet"
    if lower.endswith(CSV_SUFFIXES):
        return "csv"
    if lower.endswith(JSONL_SUFFIXES):
        return "jsonl"
    return None


def compression_of(name: str) -> str | None:
    """``gzip`` or ``zstd`` for a compressed text shard (``.gz``, ``.zst``), else None."""
    lower = name.lower()
    if lower.endswith(".gz"):
        return "gzip"
    if lower.endswith(".zst"):
        return "zstd"
    return None


def check_encoding(encoding: str | None) -> str | None:
    """The canonical codec name of ``encoding`` (None for UTF-8 or no encoding).

    Raises
    ------
    InputError
        Unknown codec.
    """
    if encoding is None:
        return None
    try:
        canonical = codecs.lookup(encoding).name
    except LookupError:
        raise InputError(f"unknown encoding {encoding!r}: pass a Python codec name such as utf-8, latin-1 "
                         "or cp1252 to --encoding") from None
    return None if canonical == "utf-8" else canonical


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message (its type name when it has none)."""
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


@dataclass(frozen=True)
class Shard:
    """One data file of a source.

    ``path`` is its path in the source's filesystem, ``label`` how messages name it (the local
    path, or the URL), ``rel`` its path below the source's root (its name for a single file).
    """

    path: str
    label: str
    rel: str
    size: int | None = None


@dataclass(frozen=True)
class Source:
    """A resolved input: filesystem, shards in read order, their one format.

    ``folder`` is true when the source names a folder, prefix or glob (messages then name the
    shard); ``remote`` when the shards are read over the network.
    """

    given: str
    label: str
    filesystem: pafs.FileSystem
    shards: tuple[Shard, ...]
    format: str
    remote: bool
    folder: bool

    @property
    def local_paths(self) -> list[pathlib.Path]:
        """The shards as local paths (only for local sources)."""
        return [pathlib.Path(s.path) for s in self.shards]


def _skipped(rel: str) -> bool:
    return any(part.startswith((".", "_")) for part in rel.split("/"))


def _sort_key(rel: str) -> tuple[str, ...]:
    # The order of pathlib paths (part by part), so that a prefix lists as its local copy does.
    return tuple(rel.split("/"))


def _match(parts: list[str], pattern: list[str]) -> bool:
    if not pattern:
        return not parts
    if pattern[0] == "**":
        return any(_match(parts[i:], pattern[1:]) for i in range(len(parts) + 1))
    return bool(parts) and fnmatch.fnmatchcase(parts[0], pattern[0]) and _match(parts[1:], pattern[1:])


def _one_format(files: list[Shard], name: str, where: str) -> str:
    kinds = sorted({format_of(s.rel) for s in files})
    if len(kinds) > 1:
        raise InputError(f"{name}: folder {where} mixes formats ({', '.join(kinds)}); "
                         "keep the shards of one input in one format")
    return kinds[0]


# --- local ------------------------------------------------------------------------------------------

def _local_folder(path: pathlib.Path, name: str) -> list[Shard]:
    files = sorted(p for p in path.rglob("*") if p.is_file()
                   and not any(part.startswith((".", "_")) for part in p.relative_to(path).parts)
                   and format_of(p.name) is not None)
    if not files:
        raise InputError(f"{name}: folder holds no Parquet, CSV or JSONL file: {path}")
    return [Shard(str(p), str(p), p.relative_to(path).as_posix()) for p in files]


def _local_glob(pattern: str, name: str) -> list[Shard]:
    parts = pathlib.PurePath(pattern).parts
    cut = next(i for i, p in enumerate(parts) if _GLOB.search(p))
    base = pathlib.Path(*parts[:cut]) if cut else pathlib.Path(".")
    found = []
    if base.is_dir():
        for p in base.glob("/".join(parts[cut:])):
            rel = p.relative_to(base).as_posix()
            if p.is_file() and not _skipped(rel) and format_of(p.name) is not None:
                found.append((_sort_key(rel), Shard(str(p), str(p), rel)))
    if not found:
        raise InputError(f"{name}: no Parquet, CSV or JSONL file matches {pattern}")
    return [s for _, s in sorted(found)]


def _resolve_local(given: str, path: pathlib.Path, name: str) -> Source:
    fs = pafs.LocalFileSystem()
    if not path.exists() and _GLOB.search(str(path)):
        shards = _local_glob(str(path), name)
        return Source(given, str(path), fs, tuple(shards), _one_format(shards, name, str(path)), False, True)
    if not path.exists():
        raise InputError(f"{name}: no such file or directory: {path}")
    if not os.access(path, os.R_OK):
        raise InputError(f"{name}: file is not readable: {path}")
    if path.is_dir():
        shards = _local_folder(path, name)
        return Source(given, str(path), fs, tuple(shards), _one_format(shards, name, str(path)), False, True)
    kind = format_of(path.name)
    if kind is None:
        raise InputError(
            f"{name}: unsupported file type {path.suffix or path.name!r} "
            "(expected .parquet, .csv, .tsv, .jsonl, .jsonl.gz, .jsonl.zst, or a folder of shards of one of these)"
        )
    return Source(given, str(path), fs, (Shard(str(path), str(path), path.name),), kind, False, False)


# --- remote -----------------------------------------------------------------------------------------

def _env(*names: str) -> str | None:
    return next((os.environ[n] for n in names if os.environ.get(n)), None)


def s3_filesystem() -> pafs.S3FileSystem:
    """An S3 filesystem configured as the AWS SDKs are.

    The endpoint comes from ``AWS_ENDPOINT_URL_S3``, else ``AWS_ENDPOINT_URL`` (as boto3 reads them),
    the region from ``AWS_REGION``, else ``AWS_DEFAULT_REGION``; credentials from the AWS SDK's
    standard chain (environment variables, ``AWS_PROFILE`` and the shared config files, the
    instance's role).

    Returns
    -------
    pyarrow.fs.S3FileSystem
    """
    kwargs: dict[str, Any] = {}
    endpoint = _env("AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL")
    if endpoint:
        kwargs["endpoint_override"] = endpoint
    region = _env("AWS_REGION", "AWS_DEFAULT_REGION")
    if region:
        kwargs["region"] = region
    return pafs.S3FileSystem(**kwargs)


def _filesystem(scheme: str, name: str, source: str) -> tuple[pafs.FileSystem, str]:
    """The filesystem of a URL and the path in it."""
    rest = source[len(scheme) + 3:]
    if scheme == "s3":
        return s3_filesystem(), rest
    if scheme in ("gs", "gcs"):
        return pafs.GcsFileSystem(), rest
    if scheme in FSSPEC_SCHEMES:
        import fsspec
        from pyarrow.fs import FSSpecHandler, PyFileSystem

        try:
            fs = fsspec.filesystem(scheme)
        except (ImportError, ValueError):
            pkg = FSSPEC_SCHEMES[scheme]
            raise InputError(f"{name}: reading {scheme}:// paths needs the {pkg} package: "
                             f"pip install {pkg}") from None
        return PyFileSystem(FSSpecHandler(fs)), (source if scheme in ("http", "https") else rest)
    raise InputError(f"{name}: unsupported scheme {scheme}:// in {source}: pass a local path, a glob, or a "
                     "file://, s3://, gs://, hf:// or http(s):// URL")


def _what_to_set(scheme: str) -> str:
    if scheme == "s3":
        return ("set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE) to credentials that may read "
                "it, and AWS_ENDPOINT_URL for a store other than AWS")
    if scheme in ("gs", "gcs"):
        return "set GOOGLE_APPLICATION_CREDENTIALS to a service-account key file that may read it"
    if scheme == "hf":
        return "set HF_TOKEN to a Hugging Face token that may read it"
    return "check that the URL is public or pass a local copy"


def remote_error(exc: BaseException, name: str, url: str, what: str = "") -> InputError:
    """An :class:`InputError` for a failed request on ``url``: missing bucket or key, access denied,
    no network, or the first line of the error."""
    scheme = scheme_of(url) or ""
    text = str(exc)
    detail = first_line(exc)
    bucket, _, key = url[len(scheme) + 3:].partition("/")
    lower = text.lower()
    if not isinstance(exc, OSError):  # a parse error, not a failed request
        return InputError(f"{name}: cannot read {what or url}: {detail}")
    if "no_such_bucket" in lower or "nosuchbucket" in lower or "bucket does not exist" in lower:
        return InputError(f"{name}: no such bucket {bucket!r} ({url}): check the bucket name"
                          + (" and AWS_ENDPOINT_URL" if scheme == "s3" else ""))
    if isinstance(exc, FileNotFoundError) or "no_such_key" in lower or "nosuchkey" in lower \
            or re.search(r"\b404\b", text):
        return InputError(f"{name}: no such key {key!r} in bucket {bucket!r} ({url})" if scheme in ("s3", "gs", "gcs")
                          else f"{name}: no such file: {url}")
    if re.search(r"\b40[13]\b", text) or any(s in lower for s in (
            "access_denied", "accessdenied", "forbidden", "invalidaccesskeyid", "signaturedoesnotmatch",
            "credential", "unauthorized", "permission")):
        return InputError(f"{name}: access denied to {url} ({detail}): {_what_to_set(scheme)}")
    if any(s in lower for s in ("network_connection", "couldn't connect", "could not resolve", "connection refused",
                                "timed out", "timeout")):
        return InputError(f"{name}: cannot reach the server for {url} ({detail}): check the network"
                          + (" and AWS_ENDPOINT_URL" if scheme == "s3" else ""))
    return InputError(f"{name}: cannot read {what or url}: {detail}")


def _remote_info(fs: pafs.FileSystem, path: str, name: str, url: str) -> pafs.FileInfo:
    try:
        return fs.get_file_info(path)
    except (OSError, pa.ArrowException) as exc:
        raise remote_error(exc, name, url) from None


def _remote_list(fs: pafs.FileSystem, path: str, name: str, url: str) -> list[pafs.FileInfo]:
    try:
        return [i for i in fs.get_file_info(pafs.FileSelector(path, recursive=True)) if i.type == pafs.FileType.File]
    except FileNotFoundError:
        return []
    except (OSError, pa.ArrowException) as exc:
        raise remote_error(exc, name, url) from None


def _missing(fs: pafs.FileSystem, scheme: str, path: str, name: str, url: str) -> InputError:
    bucket, _, key = path.partition("/")
    if scheme in ("s3", "gs", "gcs"):
        if not key or _remote_info(fs, bucket, name, url).type == pafs.FileType.NotFound:
            return InputError(f"{name}: no such bucket {bucket!r} ({url}): check the bucket name"
                              + (" and AWS_ENDPOINT_URL" if scheme == "s3" else ""))
        return InputError(f"{name}: no such key {key!r} in bucket {bucket!r} ({url})")
    return InputError(f"{name}: no such file or folder: {url}")


def _resolve_remote(source: str, scheme: str, name: str) -> Source:
    fs, path = _filesystem(scheme, name, source)
    prefix = source[: len(source) - len(path)] if scheme not in ("http", "https") else ""
    path = path.rstrip("/") if scheme not in ("http", "https") else path

    def shard(info: pafs.FileInfo, rel: str) -> Shard:
        return Shard(info.path, prefix + info.path, rel, info.size)

    if scheme not in ("http", "https") and _GLOB.search(path):
        parts = path.split("/")
        cut = next(i for i, p in enumerate(parts) if _GLOB.search(p))
        if cut == 0:
            raise InputError(f"{name}: a glob cannot stand in the bucket name: {source}")
        base = "/".join(parts[:cut])
        found = []
        for info in _remote_list(fs, base, name, source):
            rel = info.path[len(base) + 1:]
            if not _skipped(rel) and format_of(rel) is not None and _match(rel.split("/"), parts[cut:]):
                found.append((_sort_key(rel), shard(info, rel)))
        if not found:
            if _remote_info(fs, base, name, source).type == pafs.FileType.NotFound:
                raise _missing(fs, scheme, base, name, source)
            raise InputError(f"{name}: no Parquet, CSV or JSONL file matches {source}")
        shards = [s for _, s in sorted(found)]
        return Source(source, source, fs, tuple(shards), _one_format(shards, name, source), True, True)
    info = _remote_info(fs, path, name, source) if path else pafs.FileInfo(path, pafs.FileType.Directory)
    if info.type == pafs.FileType.File:
        kind = format_of(path)
        if kind is None:
            raise InputError(f"{name}: unsupported file type of {source} (expected .parquet, .csv, .tsv, .jsonl, "
                             ".jsonl.gz, .jsonl.zst, or a prefix of shards of one of these)")
        return Source(source, source, fs, (shard(info, path.rsplit("/", 1)[-1]),), kind, True, False)
    if info.type == pafs.FileType.NotFound:
        raise _missing(fs, scheme, path, name, source)
    found = []
    for f in _remote_list(fs, path, name, source):
        rel = f.path[len(path) + 1:] if path else f.path
        if not _skipped(rel) and format_of(rel) is not None:
            found.append((_sort_key(rel), shard(f, rel)))
    if not found:
        raise InputError(f"{name}: {source} holds no Parquet, CSV or JSONL file")
    shards = [s for _, s in sorted(found)]
    return Source(source, source, fs, tuple(shards), _one_format(shards, name, source), True, True)


def resolve(source: str | os.PathLike, name: str) -> Source:
    """Resolve a source string into a filesystem, its shards (sorted by path) and their format.

    Hidden (``.x``) and ``_``-prefixed files and folders below a folder, prefix or glob are skipped
    (``_SUCCESS``, ``.crc``), and so are files of no known format.

    Parameters
    ----------
    source : str or os.PathLike
        A local file, folder or glob, or a ``file://``, ``s3://``, ``gs://``, ``hf://`` or
        ``http(s)://`` URL (a file, or for object stores a prefix or glob).
    name : str
        The input's role (``real``, ``synthetic`` ...), for messages.

    Returns
    -------
    Source

    Raises
    ------
    InputError
        Missing file, folder, bucket or key; access denied; no data file; shards of mixed formats;
        unsupported file type or scheme; a filesystem whose package is not installed.
    """
    given = os.fspath(source)
    scheme = scheme_of(given)
    if scheme is None:
        return _resolve_local(given, pathlib.Path(given), name)
    if scheme == "file":
        parsed = urllib.parse.urlparse(given)
        return _resolve_local(given, pathlib.Path(urllib.parse.unquote(parsed.netloc + parsed.path)), name)
    return _resolve_remote(given, scheme, name)


# --- opening shards ---------------------------------------------------------------------------------

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
    table = pa.concat_tables([pa.Table.from_batches([b]) for b in parts], promote_options="permissive")
    return table.combine_chunks().to_batches()[0]


def _rebatch(parts: Iterator[pa.RecordBatch], rows: int) -> Iterator[pa.RecordBatch]:
    """Batches of exactly ``rows`` rows (the last one shorter) from batches of any size."""
    buf: list[pa.RecordBatch] = []
    n = 0
    for b in parts:
        while b.num_rows:
            take = min(rows - n, b.num_rows)
            buf.append(b.slice(0, take))
            n += take
            b = b.slice(take)
            if n == rows:
                yield _combine(buf)
                buf, n = [], 0
    if n:
        yield _combine(buf)


def _parquet_batches(src: Source, shard: Shard, name: str, columns, rows: int) -> Iterator[pa.RecordBatch]:
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
    from .io import _frame_to_table

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
                  encoding: str | None = None, delimiter: str | None = None) -> Iterator[pa.RecordBatch]:
    """The record batches of one shard, streamed (at most ``batch_rows`` rows each, in row order).

    Raises
    ------
    InputError
        The shard cannot be read, is cut off or corrupt (named, with the line for JSON Lines).
    """
    if src.format == "parquet":
        parts = _parquet_batches(src, shard, name, columns, batch_rows)
    elif src.format == "csv":
        parts = _csv_batches(src, shard, name, columns, encoding, delimiter)
    else:
        parts = _jsonl_batches(src, shard, name, columns, encoding)
    return _rebatch(parts, batch_rows)


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
            missing = sorted(set(ref.names) - set(batch.schema.names))
            extra = sorted(set(batch.schema.names) - set(ref.names))
            raise InputError(f"{name}: shard {shard.label} has other columns than {first.rel}"
                             + (f" (missing {', '.join(missing)})" if missing else "")
                             + (f" (extra {', '.join(extra)})" if extra else "")
                             + "; every shard of a folder must have the same columns")
        batch = batch.select(ref.names)
    arrays = []
    for field, col in zip(ref, batch.columns):
        if col.type != field.type:
            try:
                wide = pa.unify_schemas([pa.schema([field]), pa.schema([(field.name, col.type)])],
                                        promote_options="permissive").field(0).type
            except (pa.ArrowException, TypeError):
                raise InputError(f"{name}: shard {shard.label} does not match the shards before it: column "
                                 f"{field.name!r} is {col.type} there and {field.type} before") from None
            if wide == field.type:
                col = col.cast(field.type)
        arrays.append(col)
    return pa.RecordBatch.from_arrays(arrays, names=ref.names)


def iter_batches(source: str | os.PathLike, name: str, columns: list[str] | None = None, batch_rows: int = 65536,
                 encoding: str | None = None, delimiter: str | None = None
                 ) -> Iterator[tuple[int, int, pa.RecordBatch]]:
    """Stream the rows of a file, folder, glob or URL as Arrow record batches.

    Shards are read one after the other in path order, each in row order; no shard is held whole
    in memory (Parquet is read by row group from a random-access file, CSV by blocks, JSON Lines
    in blocks of :data:`JSONL_BLOCK_BYTES`). The global position of a row (``row0`` plus its
    offset in the batch) does not depend on ``batch_rows``: every batch has ``batch_rows`` rows
    but the last of each shard, and no batch spans two shards.

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
    encoding : str, optional
        Text encoding of CSV and JSON Lines shards [default: UTF-8].
    delimiter : str, optional
        CSV field delimiter [default: sniffed from each shard's first 64 KiB].

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
    ref: pa.Schema | None = None
    row0 = 0
    for i, shard in enumerate(src.shards):
        for batch in shard_batches(src, shard, name, columns, batch_rows, encoding, delimiter):
            if ref is None:
                ref = batch.schema
            else:
                batch = _align(batch, ref, shard, src.shards[0], name, src.format == "jsonl")
                ref = pa.schema([f if f.type == t else f.with_type(t) for f, t in zip(ref, batch.schema.types)],
                                metadata=ref.metadata)
            yield i, row0, batch
            row0 += batch.num_rows
