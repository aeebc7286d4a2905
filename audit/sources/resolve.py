"""Where an input lives: a source string resolved into a filesystem, sorted shards and one format
(local files, folders and globs, ``file://``, ``s3://``, ``gs://``, ``hf://``, ``http(s)://``), and the
one-line errors for what cannot be reached. See :mod:`synthproof.sources`."""

from __future__ import annotations

import codecs
import csv
import fnmatch
import json
import os
import pathlib
import re
import urllib.parse
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from ..errors import InputError


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
