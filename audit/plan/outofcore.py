"""Out of core: audit inputs larger than the memory budget by streaming them in record batches.

When an input would not fit (``resources.out_of_core: auto``, the default) or when asked
(``on``), nothing is read whole: a first pass keeps the rows of the role-inference sample (the same
bottom-k rows the in-memory path uses) and counts rows; then the planner's passes build the
artefacts the checks declare (:mod:`synthproof.plan.needs`) chunk by chunk — today the column
counts and pair tables (:func:`synthproof.plan.columns.build_columns`), so the column and pair
checks (``drift.*`` shapes, ``drift.pair_association``, ``validity.column_quality``...) run on any
number of rows in bounded memory, with findings identical to the in-memory run. A check that
needs an artefact not yet built out of core is ``skipped`` with reason ``out_of_core`` and, when it
gates, the gate's coverage fails closed.

Memory: ``resources.memory`` / ``--memory`` (default :func:`default_memory`) sets the batch size;
the state held per column is fixed (a 200,000-value edge sample, at most 1,025 counts, coarse pair
tables), so peak memory does not grow with the row count.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from synthproof.errors import ConfigError, InputError
from synthproof.sampling import POOL_ROWS, priorities, sample_key

from .columns import SIDES, Chunk

_UNITS = {"": 1, "b": 1, "k": 1e3, "kb": 1e3, "m": 1e6, "mb": 1e6, "g": 1e9, "gb": 1e9, "t": 1e12, "tb": 1e12,
          "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}
#: Rows of the role-inference sample (as :data:`synthproof.schema._INFER_SAMPLE`).
ROLE_SAMPLE = 20_000
#: Bytes per cell that an in-memory run holds (Arrow table, pandas copy, canonical frame, codes).
IN_MEMORY_BYTES_PER_CELL = 40
#: Share of the budget an in-memory run may take before ``auto`` streams instead.
IN_MEMORY_SHARE = 0.5


def parse_memory(text: str | int) -> int:
    """Bytes of a memory size such as ``4GiB``, ``512MB``, ``3.5G`` or ``1000000`` (SI and IEC units).

    Raises
    ------
    ConfigError
        Not a size, or below 256 MiB.
    """
    if isinstance(text, int):
        value = text
    else:
        m = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*([a-zA-Z]*)\s*", str(text))
        unit = m.group(2).lower() if m else None
        if m is None or unit not in _UNITS:
            raise ConfigError(f"memory must be a size such as 4GiB, 512MB or 3.5G, got {text!r}")
        value = int(float(m.group(1)) * _UNITS[unit])
    if value < 256 * 2**20:
        raise ConfigError(f"memory must be at least 256MiB, got {text!r}")
    return value


def default_memory() -> int:
    """Half the machine's physical memory, at most 8 GiB (at least 1 GiB)."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # pragma: no cover - non-POSIX
        total = 8 * 2**30
    return int(min(max(total // 2, 2**30), 8 * 2**30))


def batch_rows(memory: int, n_columns: int) -> int:
    """Rows per record batch: about 1/16 of the budget at 64 bytes per cell (the batch as read,
    its canonical copy and codes), between 16,384 and 1,048,576 rows (3 GiB, 15 columns: 209,715)."""
    per_row = max(n_columns, 1) * 64
    return int(min(max(memory // 16 // per_row, 1 << 14), 1 << 20))


def batch_bytes(memory: int) -> int:
    """Bytes per record batch as read: a 64th of the budget (64 MiB at 4 GiB), at least 4 MiB. Wide
    rows (web-length documents) get fewer rows a batch than :func:`batch_rows` gives, so one batch
    and its Python copy stay small beside the budget."""
    return max(int(memory) // 64, 1 << 22)


def estimated_bytes(source, name: str) -> int | None:
    """What reading ``source`` whole would take (:data:`IN_MEMORY_BYTES_PER_CELL` per cell from the
    Parquet footers' row counts; 4x the file bytes for CSV/JSON Lines, 20x when compressed), or
    ``None`` for in-memory inputs."""
    import pyarrow.parquet as pq

    from synthproof.sources import resolve

    if not isinstance(source, (str, os.PathLike)):
        return None
    src = resolve(source, name)
    if src.format == "parquet":
        total = 0
        for shard in src.shards:
            try:
                with src.filesystem.open_input_file(shard.path) as fh:
                    md = pq.ParquetFile(fh).metadata
                total += md.num_rows * md.num_columns * IN_MEMORY_BYTES_PER_CELL
            except (OSError, pa.ArrowException):
                return None  # the read says what is wrong
        return total
    size = 0
    for shard in src.shards:
        n = shard.size
        if n is None:
            try:
                n = src.filesystem.get_file_info(shard.path).size
            except (OSError, pa.ArrowException):
                n = None
        if n is None:
            return None  # unknown: the read says what is wrong, or auto stays in memory
        size += int(n)
    return size * (20 if any(s.rel.lower().endswith((".gz", ".zst")) for s in src.shards) else 4)


def should_stream(mode: str, memory: int, sources: list) -> bool:
    """Whether to run out of core: ``on``, or ``auto`` and the inputs' :func:`estimated_bytes`
    exceed :data:`IN_MEMORY_SHARE` of ``memory``. In-memory inputs never stream."""
    if mode == "off" or any(not isinstance(s, (str, os.PathLike)) for s, _ in sources):
        return False
    if mode == "on":
        return True
    sizes = [estimated_bytes(s, n) for s, n in sources]
    return all(x is not None for x in sizes) and sum(sizes) > IN_MEMORY_SHARE * memory


@dataclass
class _BottomK:
    """The ``k`` rows with the smallest priorities seen so far, as Arrow rows."""

    k: int
    key: int
    pri: list = field(default_factory=list)
    ids: list = field(default_factory=list)
    parts: list = field(default_factory=list)
    held: int = 0
    bound: int | None = None
    max_bytes: int | None = None  # also compact once the held rows take this many bytes
    held_bytes: int = 0

    def add(self, row0: int, table: pa.Table) -> None:
        ids = np.arange(row0, row0 + table.num_rows, dtype=np.int64)
        pri = priorities(ids, self.key)
        keep = np.flatnonzero(pri < np.uint64(self.bound)) if self.bound is not None else np.arange(ids.size)
        if keep.size == 0:
            return
        self.pri.append(pri[keep])
        self.ids.append(ids[keep])
        part = table.take(pa.array(keep))
        self.parts.append(part)
        self.held += keep.size
        self.held_bytes += part.nbytes
        if self.held > 2 * self.k or (self.max_bytes is not None and self.held > self.k
                                      and self.held_bytes > self.max_bytes):
            self._compact()

    def _compact(self) -> None:
        pri, ids = np.concatenate(self.pri), np.concatenate(self.ids)
        sel = np.argpartition(pri, self.k - 1)[: self.k] if pri.size > self.k else np.arange(pri.size)
        sel.sort()
        self.pri, self.ids = [pri[sel]], [ids[sel]]
        # Each part gives its kept rows (no concatenated copy of every held row first: with wide
        # rows the held parts alone are twice the pool).
        bounds = np.cumsum([0] + [p.num_rows for p in self.parts])
        cut = np.searchsorted(sel, bounds)
        pieces = [p.take(pa.array(sel[cut[i]:cut[i + 1]] - bounds[i])) for i, p in enumerate(self.parts)
                  if cut[i + 1] > cut[i]]
        self.parts = [pa.concat_tables(pieces, promote_options="permissive")] if pieces else []
        self.held_bytes = sum(p.nbytes for p in self.parts)
        self.held = sel.size
        if sel.size >= self.k:
            self.bound = int(pri[sel].max())

    def result(self, schema: pa.Schema) -> pa.Table:
        """The sample's rows in row-id order."""
        if not self.parts:
            return schema.empty_table()
        self._compact()
        order = np.argsort(self.ids[0], kind="stable")
        return self.parts[0].take(pa.array(order))


def _prepared_table(batch: pa.RecordBatch, name: str, label: str) -> pa.Table:
    """A batch as :func:`synthproof.io.load` would give it (types normalised, UTF-8 repaired), but
    for columns of null type: a later batch may type them (the stream widens null to any type),
    and :func:`whole_table` converts those still null in the end, as loading the whole table does."""
    from synthproof import io

    try:
        table = pa.Table.from_batches([batch])
        nulls = [i for i, f in enumerate(table.schema) if pa.types.is_null(f.type)]
        if not nulls:
            return io._repair_utf8(io.normalise(table))
        rest = io._repair_utf8(io.normalise(table.drop_columns([table.schema.names[i] for i in nulls])))
        for i in nulls:
            rest = rest.add_column(i, table.schema.field(i), table.column(i))
        return rest
    except (pa.ArrowException, ValueError, TypeError, OverflowError) as exc:
        raise InputError(f"{name}: cannot convert the columns of {label}: {io._first_line(exc)}") from None


def whole_table(table: pa.Table, name: str, label: str) -> pa.Table:
    """A kept sample as :func:`synthproof.io.load` gives the whole input: columns of null type in
    every batch become strings (``null->string``)."""
    from synthproof import io

    try:
        return io.normalise(table)
    except (pa.ArrowException, ValueError, TypeError, OverflowError) as exc:
        raise InputError(f"{name}: cannot convert the columns of {label}: {io._first_line(exc)}") from None


@dataclass
class StreamedInput:
    """One input read as a stream: what the first pass learnt about it."""

    source: object
    name: str
    label: str
    columns: list[str]
    rows: int
    sample: pa.Table  # the role-inference bottom-k rows (or, for non-real sides, the same key's rows)
    pool: pa.Table  # the row pool (synthproof.sampling.POOL_ROWS bottom-k rows by (seed, side, "pool"))
    pool_ids: np.ndarray  # their row ids, increasing
    encoding: str | None
    delimiter: str | None
    batch_rows: int
    batch_bytes: int | None = None
    span: tuple[int, int] | None = None  # a shard's rows only (synthproof.plan.shards)
    offsets: list[int] | None = None  # with span: each file's first row id, then the total

    def batches(self, columns: list[str]) -> Iterator[tuple[int, pa.Table]]:
        """``(row0, table)`` of every batch (of :attr:`span` only, when set), types normalised,
        projected on ``columns``."""
        from synthproof.sources import iter_batches

        for _, row0, batch in iter_batches(self.source, self.name, columns, self.batch_rows, self.encoding,
                                           self.delimiter, self.batch_bytes, self.span, self.offsets):
            yield row0, _prepared_table(batch, self.name, self.label)


@dataclass
class FirstPass:
    """What the first pass over (a span of) an input keeps: the role-inference and pool bottom-k
    states, the rows read, the first batch's schema. Mergeable (:meth:`merge`) across spans."""

    keep: _BottomK
    pool: _BottomK
    rows: int
    schema: pa.Schema | None

    def merge(self, other: FirstPass) -> None:
        """Add a later span's state (``other`` holds rows after this one's)."""
        for mine, theirs in ((self.keep, other.keep), (self.pool, other.pool)):
            mine.pri += theirs.pri
            mine.ids += theirs.ids
            mine.parts += theirs.parts
            mine.held += theirs.held
            mine.held_bytes += theirs.held_bytes
            if mine.held > mine.k:
                mine._compact()
        self.rows += other.rows
        self.schema = self.schema if self.schema is not None else other.schema


def first_pass(source, name: str, columns: list[str] | None, memory: int, encoding=None, delimiter=None,
               progress=None, seed: int = 0, n_columns: int = 32) -> StreamedInput:
    """Count the rows of one input and keep its role-inference sample (bottom-k of
    :data:`ROLE_SAMPLE` rows by the seed-0 ``role_inference`` priorities, as
    :func:`synthproof.schema.prepare`) and its row pool (bottom-k of
    :data:`~synthproof.sampling.POOL_ROWS` rows by ``(seed, side, "pool")``, as
    :meth:`synthproof.context.AuditContext.pool`), in one streaming pass.

    Raises
    ------
    InputError
        Unreadable input or shard (named), or zero rows.
    """
    from synthproof.sources import resolve

    src = resolve(source, name)
    rows_per_batch = batch_rows(memory, len(columns) if columns else n_columns)
    bytes_per_batch = batch_bytes(memory)
    state = first_pass_state(source, name, columns, memory, encoding, delimiter, progress, seed, rows_per_batch,
                             bytes_per_batch)
    return finish_first_pass(state, source, name, src.label, encoding, delimiter, rows_per_batch, bytes_per_batch)


def first_pass_state(source, name: str, columns: list[str] | None, memory: int, encoding, delimiter, progress,
                     seed: int, rows_per_batch: int, bytes_per_batch: int, span=None, offsets=None,
                     bound=None) -> FirstPass:
    """The :class:`FirstPass` state of an input (of rows ``span`` only, when given; ``bound(k)``:
    a priority at or above which rows cannot enter the bottom ``k``, or ``None``)."""
    from synthproof.sources import first_line, iter_batches, resolve

    src = resolve(source, name)
    keep = _BottomK(ROLE_SAMPLE, sample_key(0, name, "role_inference"))
    # Wide rows: the held candidates are compacted past an eighth of the budget, not only at 2k rows.
    pool = _BottomK(POOL_ROWS, sample_key(seed, name, "pool"), max_bytes=memory // 8)
    if bound is not None:
        keep.bound, pool.bound = bound(keep.k), bound(pool.k)
    n, schema = 0, None

    def gen():  # chunks without columns: the progress lines count rows and bytes
        nonlocal n, schema
        for _, row0, batch in iter_batches(source, name, columns, rows_per_batch, encoding, delimiter, bytes_per_batch,
                                           span, offsets):
            table = _prepared_table(batch, name, src.label)
            schema = table.schema if schema is None else schema
            keep.add(row0, table)
            pool.add(row0, table)
            n += table.num_rows
            yield Chunk(name, row0, {}, table.num_rows, batch.nbytes)

    try:
        for _ in (progress(f"read {name}", gen()) if progress else gen()):
            pass
    except pa.ArrowException as exc:  # e.g. batches whose types cannot be joined
        raise InputError(f"{name}: cannot join the batches of {src.label}: {first_line(exc)}") from None
    return FirstPass(keep, pool, n, schema)


def finish_first_pass(state: FirstPass, source, name: str, label: str, encoding, delimiter, rows_per_batch: int,
                      bytes_per_batch: int) -> StreamedInput:
    """The :class:`StreamedInput` of a finished (merged) first pass.

    Raises
    ------
    InputError
        Zero rows, or batches whose types cannot be joined.
    """
    from synthproof.sources import first_line

    n, schema = state.rows, state.schema
    if n == 0 or schema is None:
        raise InputError(f"{name}: zero rows in {label}")
    try:
        pool_table = whole_table(state.pool.result(schema), name, label)
        sample_table = whole_table(state.keep.result(schema), name, label)
    except pa.ArrowException as exc:
        raise InputError(f"{name}: cannot join the batches of {label}: {first_line(exc)}") from None
    pool_ids = np.sort(state.pool.ids[0]) if state.pool.ids else np.empty(0, np.int64)
    return StreamedInput(source, name, label, list(schema.names), n, sample_table, pool_table, pool_ids,
                         encoding, delimiter, rows_per_batch, bytes_per_batch)


def stream_chunks(inputs: dict[str, StreamedInput], roles: dict[str, str], columns: list[str],
                  issues: dict | None = None, hashes: dict | None = None):
    """A :data:`~synthproof.plan.columns.Chunks` factory over the real and synthetic inputs: each
    batch converted to canonical columns (:func:`synthproof.schema.convert_column`). The first pass
    run through it records the conversion issues into ``issues`` (``(column, side, reason) ->
    count``) and, when ``hashes`` holds a :class:`~synthproof.stats.rowhashes.SideHashes` per
    side, the rows' canonical hashes over ``columns`` (:func:`synthproof.stats.hashing.canonical_hashes`)."""
    import pandas as pd

    from synthproof.schema import arrow_canonical, convert_column
    from synthproof.stats.hashing import canonical_hashes

    state = {"passes": 0}

    def gen() -> Iterator[Chunk]:
        record = issues is not None and state["passes"] == 0
        state["passes"] += 1
        for side in SIDES:
            inp = inputs[side]
            cols = [c for c in columns if c in inp.columns]
            for row0, table in inp.batches(cols):
                out = {}
                for c in cols:
                    fast = arrow_canonical(table.column(c), roles[c])
                    if fast is not None:
                        out[c], n_bad = fast
                        if record and n_bad:
                            issues[(c, side, "non_finite")] = issues.get((c, side, "non_finite"), 0) + n_bad
                        continue
                    arr, found = convert_column(c, side, table.column(c).to_pandas(), roles[c])
                    out[c] = arr
                    if record:
                        for f in found:
                            if f.reason_code in ("type_mismatch", "mixed_types", "non_finite"):
                                key = (c, side, f.reason_code)
                                issues[key] = issues.get(key, 0) + f.count
                if record and hashes is not None and cols:
                    frame = pd.DataFrame({c: (pd.Series(v, copy=False) if isinstance(v, pd.Categorical) else v)
                                          for c, v in out.items()})
                    hashes[side].put(row0, canonical_hashes(frame, cols, roles))
                yield Chunk(side, row0, out, table.num_rows, table.nbytes)

    return gen
