"""The result of an audit: findings, verdict, manifest; writers for the four contract files.

Writing is safe against concurrent runs and planted files: every file is first written to a fresh
temporary file in the output folder (``tempfile.mkstemp``: created exclusively, never through a
symlink) and then renamed over its target. The four files of a run are published as one set while
the run holds an exclusive lock on ``OUT/.synthproof.lock`` (``flock``; released by the kernel
when the process ends, so a crashed run leaves no stale lock). A second run into a folder that is
in use does not wait: it fails at once with :class:`~synthproof.errors.InputError` ("OUT is in use
by another synthproof run (pid N)"), exit code 2 on the command line, before computing anything.
"""

from __future__ import annotations

import contextlib
import json
import os
import pathlib
import tempfile
import threading
from dataclasses import dataclass
from typing import Any, Callable, Iterator

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from .errors import InputError
from .findings import Finding, findings_to_table, table_to_frame

try:  # POSIX; elsewhere the folder lock is a no-op (the writes stay atomic and exclusive)
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None

OUTPUT_FILES = ("findings.parquet", "report.html", "manifest.json", "summary.json")
LOCK_NAME = ".synthproof.lock"
TMP_PREFIX = ".synthproof-"


@dataclass
class AuditResult:
    """What :func:`synthproof.audit` returns.

    Attributes
    ----------
    passed : bool
        The gate verdict.
    findings : pandas.DataFrame
        One row per (check, scope, metric) with the columns of ``findings.SCHEMA``.
    manifest : dict
        Tool version, config as run, seed, input fingerprints, times, verdict.
    """

    passed: bool
    finding_list: list[Finding]
    manifest: dict[str, Any]

    @property
    def findings(self) -> pd.DataFrame:
        return table_to_frame(self.table())

    def table(self) -> pa.Table:
        meta = {"synthproof": json.dumps(_kv_metadata(self.manifest), sort_keys=True)}
        return findings_to_table(self.finding_list, metadata=meta)

    @property
    def summary(self) -> dict[str, Any]:
        return summarize(self.finding_list, self.passed, run_id=self.manifest.get("run_id"))

    def _parquet_writer(self) -> Callable[[Any], None]:
        table = self.table()
        return lambda fh: pq.write_table(table, fh, compression="zstd")

    def _html_bytes(self) -> bytes:
        from synthproof.reports.html import render_html

        return render_html(self.findings, self.manifest).encode("utf-8")

    def to_parquet(self, path: str | pathlib.Path) -> None:
        """Write ``findings.parquet`` (fixed schema; run facts in the key-value metadata)."""
        atomic_write(pathlib.Path(path), self._parquet_writer())

    def to_html(self, path: str | pathlib.Path) -> None:
        """Write the self-contained HTML report."""
        atomic_write(pathlib.Path(path), self._html_bytes())

    def write(self, out_dir: str | pathlib.Path, extra: dict | None = None) -> pathlib.Path:
        """Write ``findings.parquet``, ``report.html``, ``manifest.json`` and ``summary.json`` as one set
        (with ``extra``, name -> bytes or writer, e.g. ``comparison.parquet`` of ``--baseline``).

        The four files are rendered to temporary files first, then renamed into place while this
        process holds the folder's lock (see the module docstring).

        Raises
        ------
        InputError
            ``out_dir`` is not a folder or not writable, or another synthproof run is writing to it.
        """
        out = pathlib.Path(out_dir)
        with output_lock(out):
            publish(out, {
                "findings.parquet": self._parquet_writer(),
                "manifest.json": _json_bytes(self.manifest),
                "summary.json": _json_bytes(self.summary),
                "report.html": self._html_bytes(),
                **(extra or {}),
            })
        return out


def summarize(findings: list[Finding], passed: bool, run_id: str | None = None) -> dict[str, Any]:
    """Gate verdict and counts of findings by family and status (``summary.json``); ``run_id`` ties
    it to the ``manifest.json`` and ``findings.parquet`` of the same run. Waived findings keep their
    status in the counts; ``failing_checks`` leaves them out and ``waived`` / ``waived_checks``
    count them."""
    counts: dict[str, dict[str, int]] = {}
    for f in findings:
        fam = counts.setdefault(f.family, {s: 0 for s in ("pass", "warn", "fail", "error", "skipped")})
        fam[f.status] += 1
    totals = {s: sum(c[s] for c in counts.values()) for s in ("pass", "warn", "fail", "error", "skipped")}
    failing = sorted({f.check_id for f in findings if f.status == "fail" and not f.waiver})
    waived = [f for f in findings if f.waiver and f.scope != "row"]
    out = {"passed": passed, "verdict": "pass" if passed else "fail", "totals": totals,
           "by_family": dict(sorted(counts.items())), "failing_checks": failing,
           "waived": len(waived), "waived_checks": sorted({f.check_id for f in waived})}
    if run_id is not None:
        out["run_id"] = run_id
    return out


def _kv_metadata(manifest: dict[str, Any]) -> dict[str, Any]:
    keys = ("tool", "version", "run_id", "seed", "config_hash", "inputs", "verdict", "started_at", "finished_at")
    return {k: manifest.get(k) for k in keys}


def _json_bytes(data: Any) -> bytes:
    return (json.dumps(data, indent=2, sort_keys=True, default=str) + "\n").encode("utf-8")


def _write_json(path: pathlib.Path, data: Any) -> None:
    atomic_write(path, _json_bytes(data))


def _stage(folder: pathlib.Path, name: str, content) -> pathlib.Path:
    """Write ``content`` (bytes, or a callable given a binary file object) to a new temporary file
    in ``folder``, created exclusively (``O_EXCL``, so never through a planted symlink)."""
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=TMP_PREFIX, suffix=f".{name}.tmp")
    tmp_path = pathlib.Path(tmp)
    try:
        with os.fdopen(fd, "wb") as fh:
            if isinstance(content, (bytes, bytearray)):
                fh.write(content)
            else:
                content(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp_path, 0o666 & ~_umask())
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise
    return tmp_path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def publish(out: pathlib.Path, files: dict) -> None:
    """Stage every file of ``files`` (name -> bytes or writer) in ``out``, then rename each into place.

    Nothing is renamed unless every file was staged; the temporary files are removed on failure.
    Hold :func:`output_lock` around the call so that concurrent runs never interleave their sets.
    """
    staged: dict[str, pathlib.Path] = {}
    try:
        for name, content in files.items():
            staged[name] = _stage(out, name, content)
        for name, tmp in staged.items():
            os.replace(tmp, out / name)
    finally:
        for tmp in staged.values():
            tmp.unlink(missing_ok=True)


def atomic_write(path: pathlib.Path, content) -> None:
    """Write one file safely: a fresh exclusive temporary sibling, then a rename over ``path`` (which
    replaces a symlink at ``path`` rather than writing through it)."""
    path = pathlib.Path(path)
    check_writable_folder(path.parent, create=True)
    publish(path.parent, {path.name: content})


def check_writable_folder(out: pathlib.Path, create: bool = False) -> None:
    """Raise :class:`InputError` unless ``out`` is (or can be created as) a writable folder.

    With ``create`` the folder (and its parents) is created.
    """
    out = pathlib.Path(out)
    if out.exists() or out.is_symlink():
        if not out.is_dir():
            raise InputError(f"output folder {out} exists and is not a folder: pass a folder path to --out "
                             "(the four report files are written inside it)")
        if not os.access(out, os.W_OK | os.X_OK):
            raise InputError(f"output folder {out} is not writable: choose another --out")
        return
    parent = out.parent
    while not parent.exists():
        if parent == parent.parent:
            break
        parent = parent.parent
    if not parent.is_dir():
        raise InputError(f"cannot create output folder {out}: {parent} is not a folder; choose another --out")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise InputError(f"cannot create output folder {out}: {parent} is not writable; choose another --out")
    if create:
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise InputError(f"cannot create output folder {out}: {exc.strerror or exc}; choose another --out") from None


_HELD: dict[str, tuple[tuple[int, int], int]] = {}  # realpath -> ((pid, thread id) of the owner, depth)
_HELD_LOCK = threading.Lock()


@contextlib.contextmanager
def output_lock(out: str | pathlib.Path) -> Iterator[pathlib.Path]:
    """Hold the exclusive lock of output folder ``out`` (created if needed) for the block.

    The lock is ``flock`` on ``OUT/.synthproof.lock`` (opened with ``O_NOFOLLOW``; the file keeps the
    holder's pid). Re-entrant within one thread, so the command line can take it before computing
    and :meth:`AuditResult.write` takes it again. Another process or thread holding it: fails at
    once (no waiting).

    Raises
    ------
    InputError
        ``out`` is not a writable folder, the lock file is a symlink, or the folder is in use.
    """
    out = pathlib.Path(out)
    check_writable_folder(out, create=True)
    key = os.path.realpath(out)
    me = (os.getpid(), threading.get_ident())  # a forked child does not inherit the ownership
    with _HELD_LOCK:
        owner = _HELD.get(key)
        if owner is not None and owner[0] == me:
            _HELD[key] = (me, owner[1] + 1)
            reentered = True
        elif owner is not None and owner[0][0] == me[0]:
            raise InputError(f"{out} is in use by another synthproof run (pid {os.getpid()}): wait for it to "
                             "finish or choose another --out")
        else:
            reentered = False
    if reentered:
        try:
            yield out
        finally:
            with _HELD_LOCK:
                _HELD[key] = (me, _HELD[key][1] - 1)
        return
    lock_path = out / LOCK_NAME
    flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(lock_path, flags, 0o644)
    except OSError as exc:
        if lock_path.is_symlink():
            raise InputError(f"{lock_path} is a symlink: remove it (synthproof never writes through "
                             "symlinks)") from None
        raise InputError(f"cannot create the lock file {lock_path}: {exc.strerror or exc}; "
                         "choose another --out") from None
    try:
        if fcntl is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                pid = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "unknown"
                raise InputError(f"{out} is in use by another synthproof run (pid {pid}): wait for it to "
                                 "finish or choose another --out") from None
        os.ftruncate(fd, 0)
        os.lseek(fd, 0, os.SEEK_SET)
        os.write(fd, f"{os.getpid()}\n".encode())
        with _HELD_LOCK:
            _HELD[key] = (me, 1)
        try:
            yield out
        finally:
            with _HELD_LOCK:
                _HELD.pop(key, None)
    finally:
        os.close(fd)  # closing the only descriptor releases the flock
