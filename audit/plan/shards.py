"""Shard states: ``synthproof sketch --shard I/N --out DIR`` computes the mergeable states of shard
``I`` of ``N`` of the inputs; ``synthproof audit --states DIR`` merges them in shard order and
judges, with findings identical to one out-of-core run over the whole inputs.

A shard is a fixed range of row ids of each input: shard ``I`` of ``N`` holds rows
``floor(I n / N) .. floor((I + 1) n / N) - 1`` of an input of ``n`` rows (file by file in path
order; files outside the range are not opened). Nothing depends on an engine's partitions, so
any scheduler — a Slurm array, a Kubernetes indexed Job, a shell loop — gets the same findings.

The passes of an out-of-core run depend on what the passes before them found (the bin edges come
from the whole inputs' bottom-k sample, the roles from the role-inference sample), so a sketch
runs in four **phases**, each an array of ``N`` tasks whose states the next phase merges:

1. ``rows``: each file's row count, column names and content hash (file ``j`` by shard
   ``j mod N``): the row ids' offsets and the inputs' fingerprints.
2. ``sample``: the bottom-k role-inference sample and row pool of the shard's rows
   (:class:`~synthproof.plan.outofcore.FirstPass`); merged, they fix the roles and the plan.
3. ``scan``: the column scan (:class:`~synthproof.plan.columns.ColumnScan`), the conversion
   issues and the row hashes of the shard's rows.
4. ``count``: the fine-bin counts, pair and subgroup tables on the merged scan's code maps
   (:class:`~synthproof.plan.columns.ColumnCount`).

``sketch`` runs the first phase this shard has no state for (after checking that every shard's
states of the phases before it are there and agree); run the array once per phase. State files
(:mod:`synthproof.states`) are checksummed and carry the synthproof version, the config digest,
the seed and each input's listing digest (every file's path and size), and are refused by
``audit --states`` (exit 2, the file named) when any of them differs, a shard is missing or
present twice. Text columns are sketched as the scan's corpus states (each tap's mergeable state,
:func:`synthproof.plan.text.corpus_states`).

An executor (:mod:`synthproof.plan.distributed`) runs the same phases with ``keyed=True``: a scan
task then returns its row hashes split by partition (:func:`synthproof.stats.rowhashes.split`)
beside its state — the keyed shuffle — and the duplicate counts run per partition where those
parts live, never on the driver.
"""

from __future__ import annotations

import copy
import hashlib
import json
import pathlib
import re

import numpy as np

from synthproof.errors import InputError
from synthproof.states import StateError, StateHeader, check_states, read_state_bytes, state_bytes
from synthproof.stats.rowhashes import PARTITIONS, partition_bytes

from . import codec
from .columns import ColumnCount, ColumnScan, _Numeric, _pool
from .outofcore import FirstPass, _BottomK, batch_bytes, batch_rows, finish_first_pass, first_pass_state

PHASES = ("rows", "sample", "scan", "count")
codec.register(_Numeric)


def parse_shard(text: str) -> tuple[int, int]:
    """``(i, n)`` of a shard given as ``I/N``.

    Raises
    ------
    InputError
        Not ``I/N`` with ``0 <= I < N``.
    """
    m = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", str(text))
    if m is None or not 0 <= int(m.group(1)) < int(m.group(2)):
        raise InputError(f"--shard must be I/N with 0 <= I < N (e.g. 0/4 for the first of four), got {text!r}")
    return int(m.group(1)), int(m.group(2))


def priority_bound(k: int, n: int) -> int | None:
    """A priority below which a shard keeps its rows for a bottom-``k`` sample of ``n`` rows: the
    ``k`` smallest of ``n`` uniform 64-bit priorities all lie below it unless more than
    ``8 sqrt(k) + 64`` fewer than expected fall there (probability below 1e-12, Chernoff), so
    each shard's state holds about ``k`` times its share of the rows instead of ``k`` rows; the
    merge checks that ``k`` rows came. ``None`` (keep all) when ``n`` is that small."""
    want = k + 8 * k ** 0.5 + 64
    if n <= want:
        return None
    return min(int(want / n * 2.0**64), 2**64 - 1)


def span_of(i: int, n: int, rows: int) -> tuple[int, int]:
    """The row ids of shard ``i`` of ``n`` of an input of ``rows`` rows."""
    return i * rows // n, (i + 1) * rows // n


def listing(source, name: str) -> str:
    """Digest of an input's listing: every file's path below the source and its size, in path order."""
    from synthproof.sources import resolve

    src = resolve(source, name)
    h = hashlib.blake2b(digest_size=16)
    for shard in src.shards:
        size = shard.size
        if size is None:
            size = src.filesystem.get_file_info(shard.path).size
        h.update(json.dumps([shard.rel, int(size) if size is not None else None]).encode() + b"\n")
    return "blake2b:" + h.hexdigest()


class ShardRun:
    """One sketch or merge of a run's states in ``folder`` (see the module docstring)."""

    def __init__(self, cfg, checks: list, sources: list, memory: int, encoding, delimiter, folder,
                 shards: int, progress=None, blobs: dict | None = None, keyed: bool = False) -> None:
        self.cfg, self.checks, self.sources = cfg, checks, sources
        self.memory, self.encoding, self.delimiter = memory, encoding, delimiter
        self.folder = pathlib.Path(folder) if folder is not None else None
        self.shards, self.progress = int(shards), progress
        self.blobs = blobs  # phase -> state bytes (an executor's task results) instead of files
        # keyed: a scan leaves its row hashes and partitioned tap states split by partition in
        # ``self.partitions`` (the keyed shuffle of an executor) instead of in its state
        self.keyed, self.partitions, self.slots = keyed, {}, []
        self.inputs_id = {name: listing(source, name) for source, name in sources}
        register_states()

    def header(self, phase: str, shard: int) -> StateHeader:
        meta = {"sources": {name: str(source) for source, name in self.sources},
                "encoding": self.encoding, "delimiter": self.delimiter}
        return StateHeader(shard, self.shards, self.cfg.judging_digest(), self.cfg.seed, self.inputs_id, phase, meta=meta)

    def path(self, phase: str, shard: int) -> pathlib.Path:
        return self.folder / f"{PHASES.index(phase) + 1}-{phase}-{shard:05d}-of-{self.shards:05d}.state"

    def load(self, phase: str, key: str | None = None) -> list:
        """The decoded states of every shard of ``phase`` (with ``key``, only that entry of each),
        in shard order, checked (see :func:`synthproof.states.check_states`) and matched against
        this run's identity."""
        if self.blobs is not None:
            return [self.decode(*read_state_bytes(b, f"{phase} state {i}"), key) for i, b in enumerate(self.blobs[phase])]
        paths = sorted(self.folder.glob(f"{PHASES.index(phase) + 1}-{phase}-*.state"))
        if not paths:
            raise StateError(f"no {phase} states in {self.folder} (phase {PHASES.index(phase) + 1} of "
                             f"{len(PHASES)}): run synthproof sketch for every shard first")
        read = check_states(paths)
        want = self.header(phase, 0).identity()
        for path, header, _ in read[:1]:
            got = header.identity()
            for field, word in (("shards", "shard count"), ("config", "config"), ("seed", "seed"),
                                ("inputs", "input listing (files or sizes changed)"), ("kind", "kind of state")):
                if got[field] != want[field]:
                    raise StateError(f"state file {path.name} was made with another {word} than this run: "
                                     "write the states again with the same inputs, config and seed")
        out = []
        for path, header, arrays in read:
            try:
                out.append(self.decode(header, arrays, key))
            except (codec.CodecError, KeyError, TypeError, ValueError):
                raise StateError(f"state file {path.name} holds a state this version cannot read: write it "
                                 "again with synthproof sketch") from None
        return out

    @staticmethod
    def decode(header: StateHeader, arrays: dict, key: str | None = None):
        return codec.decode(header.meta["tree"], arrays, key)

    def state(self, phase: str, shard: int, state) -> bytes:
        """The bytes of a state file of ``state`` (:func:`synthproof.states.state_bytes`)."""
        tree, arrays = codec.encode(state)
        header = self.header(phase, shard)
        header.meta["tree"] = tree
        return state_bytes(header, arrays)

    def compute(self, phase: str, shard: int) -> bytes:
        """The state bytes of ``phase`` for ``shard`` (the states of the phases before it loaded)."""
        if phase == "rows":
            return self.state(phase, shard, self.rows_state(shard))
        offsets = self.offsets()
        if phase == "sample":
            return self.state(phase, shard, self.sample_state(shard, offsets))
        inputs, _, data, plan = self.prepared(offsets)
        if phase == "scan":
            return self.state(phase, shard, self.scan_state(shard, inputs, data, plan))
        return self.state(phase, shard, self.count_state(shard, inputs, data, plan))

    def merged_sample(self) -> bytes:
        """One ``sample`` state holding every shard's merged (what later phases read: a broadcast)."""
        parts = self.load("sample")
        tree = {}
        for _, name in self.sources:
            merged = None
            for p in parts:
                st = _first_pass_of(p[name])
                merged = st if merged is None else (merged.merge(st) or merged)
            tree[name] = _first_pass_tree(merged)
        return self.state("sample", 0, tree)

    def merged_scans(self) -> bytes:
        """One ``scan`` state holding every shard's merged scan (the hashes and corpora left out:
        the count phase reads only the scan)."""
        scan = _merged_scan(self.load("scan", "scan"), self.cfg.seed)
        tree = {"scan": None if scan is None else scan.state(), "issues": [], "hashes": None, "corpora": None,
                "stray": None}
        return self.state("scan", 0, tree)

    # --- phase 1: rows -------------------------------------------------------------------------
    def rows_state(self, shard: int) -> dict:
        from synthproof.io import file_digest
        from synthproof.sources import resolve, shard_batches
        from synthproof.sources.stream import open_stream

        out = {}
        first = 0  # files are dealt to shards round robin across the inputs (real's, then synthetic's...)
        for source, name in self.sources:
            src = resolve(source, name)
            files = []
            for j, f in enumerate(src.shards):
                if (first + j) % self.shards != shard:
                    continue
                n, names = 0, None
                for b in shard_batches(src, f, name, None, batch_rows(self.memory, 32), self.encoding,
                                       self.delimiter, batch_bytes(self.memory)):
                    names = list(b.schema.names) if names is None else names
                    n += b.num_rows
                with open_stream(src, f, name, decompress=False) as fh:
                    digest = file_digest(fh)
                files.append([j, n, np.frombuffer(digest, dtype=np.uint8).copy(), names])
            out[name] = files
            first += len(src.shards)
        return out

    def offsets(self) -> dict:
        """Per input: each file's first row id and the total (merged ``rows`` states), the file
        digests in order; a file whose columns differ from the first file's is refused."""
        from synthproof.sources import column_mismatch, resolve

        parts = self.load("rows")
        out = {}
        for source, name in self.sources:
            src = resolve(source, name)
            files = sorted((f for p in parts for f in p[name]), key=lambda f: f[0])
            if [f[0] for f in files] != list(range(len(src.shards))):
                raise StateError(f"the rows states do not cover every file of {name}: write them again")
            first = next((f for f in files if f[3] is not None), None)
            for f in files if src.format != "jsonl" else ():  # JSON Lines: keys are checked as read
                if first is not None and f[3] is not None and set(f[3]) != set(first[3]):
                    raise column_mismatch(name, src.shards[f[0]].label, src.shards[first[0]].rel, f[3], first[3])
            offsets = np.concatenate([[0], np.cumsum([f[1] for f in files])]).astype(np.int64).tolist()
            out[name] = (offsets, [bytes(f[2].tobytes()) for f in files], src.label)
        return out

    # --- phase 2: sample -----------------------------------------------------------------------
    def columns(self):
        from .run import input_columns

        return input_columns(self.sources, self.encoding, self.delimiter)

    def sample_state(self, shard: int, offsets: dict) -> dict:
        cols, names = self.columns()
        out = {}
        for source, name in self.sources:
            off = offsets[name][0]
            width = len(names[name]) if names[name] is not None else 32
            st = first_pass_state(source, name, cols[name], self.memory, self.encoding, self.delimiter,
                                  self.progress, self.cfg.seed, batch_rows(self.memory, len(cols[name] or []) or width),
                                  batch_bytes(self.memory), span_of(shard, self.shards, off[-1]), off,
                                  bound=lambda k, n=off[-1]: priority_bound(k, n))
            out[name] = _first_pass_tree(st)
        return out

    def prepared(self, offsets: dict):
        """The inputs (whole, from the merged ``sample`` states) and the prepared data and plan."""
        from .run import plan_passes, prepared_from

        cols, names = self.columns()
        parts = self.load("sample")
        inputs, all_names = {}, {}
        for source, name in self.sources:
            merged = None
            for p in parts:
                st = _first_pass_of(p[name])
                if merged is None:
                    merged = st
                else:
                    merged.merge(st)
            width = len(names[name]) if names[name] is not None else 32
            off, _, label = offsets[name]
            if merged.rows != off[-1]:
                raise StateError(f"the sample states of {name} hold {merged.rows} rows, its files {off[-1]}: the "
                                 "input changed between phases; write every phase again")
            for b in (merged.keep, merged.pool):
                if sum(len(x) for x in b.ids) < min(b.k, merged.rows):  # the bound cut a row of the bottom k
                    raise StateError(f"the sample states of {name} hold fewer than the {b.k} rows with the smallest "
                                     "priorities (a bound that fails with probability below 1e-12): please report it")
            inp = finish_first_pass(merged, source, name, label, self.encoding, self.delimiter,
                                    batch_rows(self.memory, len(cols[name] or []) or width), batch_bytes(self.memory))
            inp.offsets = off
            inputs[name] = inp
            all_names[name] = names[name] if names[name] is not None else inp.columns
        data = prepared_from(self.cfg, inputs, all_names)
        plan = plan_passes(self.cfg, self.checks, data)
        return inputs, all_names, data, plan

    # --- phases 3 and 4: scan, count -----------------------------------------------------------
    def _chunks(self, inputs: dict, shard: int, data, plan, streamed: dict, hashes):
        from .outofcore import stream_chunks

        spans = {}
        for name, inp in inputs.items():
            part = copy.copy(inp)
            part.span = span_of(shard, self.shards, inp.rows)
            spans[name] = part
        return stream_chunks(spans, data.roles, plan.features, streamed, hashes), spans

    def scan_state(self, shard: int, inputs: dict, data, plan) -> dict:
        streamed: dict = {}
        hashes = {side: _SpanHashes(span_of(shard, self.shards, inputs[side].rows)) for side in ("real", "synthetic")} \
            if plan.hashes else None
        chunks, _ = self._chunks(inputs, shard, data, plan, streamed, hashes)
        scan = None
        pool = _pool(self.cfg.threads) if len(plan.features) > 1 else None
        try:
            if plan.columns:
                scan = ColumnScan(data.roles, plan.features, self.cfg.seed)
                for ch in _wrap(self.progress, "scan", chunks()):
                    scan.add(ch, pool)
            elif hashes is not None:
                for _ in _wrap(self.progress, "hash", chunks()):
                    pass
        finally:
            if pool is not None:
                pool.shutdown()
        if hashes is not None and self.keyed:
            for side, h in hashes.items():
                self.partitions[side] = partition_bytes(h.lo, h.array)
        corpora = stray = None
        if plan.corpus:
            corpora, stray = self._corpora(inputs, shard, data, plan)
        self.slots = keyed_slots(data, plan, self.cfg)
        return {"scan": None if scan is None else scan.state(),
                "issues": [[c, side, reason, n] for (c, side, reason), n in streamed.items()],
                "hashes": None if hashes is None or self.keyed else {side: h.array for side, h in hashes.items()},
                "corpora": corpora, "stray": stray}

    def _corpora(self, inputs: dict, shard: int, data, plan) -> tuple[dict, dict]:
        """The corpora of the shard's span (each tap's output as it is stored), the non-string counts."""
        from synthproof.corpus import Resources

        from .text import corpus_states

        _, spans = self._chunks(inputs, shard, data, plan, None, None)
        taps = tap_classes(plan)
        res = Resources(self.memory)
        try:
            corpora, stray = corpus_states(spans, data, plan.taps, self.cfg, res, self.progress)
            for key, stats in corpora.items():
                if stats is None:
                    continue
                for k, v in stats.taps.items():  # in memory before the spill folder goes
                    if self.keyed and taps[k].partitioned:
                        self.partitions[(key, k)] = taps[k].split_state(v)
                        stats.taps[k] = taps[k].keyed_stub(v)  # the driver puts the parts' handles here
                    else:
                        stats.taps[k] = _materialised(taps[k].to_state(v))
        finally:
            res.close()
        return corpora, stray

    def merged_scan(self, data, plan, parts: list | None = None) -> ColumnCount | None:
        """The counting pass's empty state planned from every shard's merged scan (``parts``: the
        loaded ``scan`` states; default: only their column scans are read)."""
        if not plan.columns:
            return None
        scans = self.load("scan", "scan") if parts is None else [p["scan"] for p in parts]
        return _merged_scan(scans, self.cfg.seed).plan(data.roles, plan.pair_columns, plan.subgroups)

    def count_state(self, shard: int, inputs: dict, data, plan) -> dict:
        count = self.merged_scan(data, plan)
        if count is None or not count.needed:
            return {}
        chunks, _ = self._chunks(inputs, shard, data, plan, None, None)
        pool = _pool(self.cfg.threads) if len(plan.features) > 1 else None
        try:
            for ch in _wrap(self.progress, "count", chunks()):
                count.add(ch, pool)
        finally:
            if pool is not None:
                pool.shutdown()
        return _count_tree(count)


def _merged_scan(states: list, seed: int) -> ColumnScan | None:
    """One :class:`ColumnScan` from the shards' scan states (``None`` entries skipped)."""
    scan = None
    for st in states:
        if st is not None:
            one = ColumnScan.of_state(st, seed)
            scan = one if scan is None else (scan.merge(one) or scan)
    return scan


def keyed_slots(data, plan, cfg) -> list[tuple[tuple[str, str], int]]:
    """The ``((corpus key, tap key), parts)`` of every partitioned tap state
    (:attr:`synthproof.corpus.Tap.partitioned`, :attr:`~synthproof.corpus.Tap.state_parts`) a scan
    computes, in the order its task returns them; a slot whose corpus is absent returns empty
    parts."""
    if not plan.corpus:
        return []
    declared = cfg.text.columns
    cols = [c for c in data.by_role("text") if declared is None or c in declared]
    return [((f"{c}:{side}", tap.key_of(**params)), tap.state_parts) for c in cols
            for side in ("real", "synthetic", "holdout") for tap, params, sides in plan.taps
            if tap.partitioned and side in sides]


def keyed_parts(run: ShardRun) -> list[bytes]:
    """What a scan task returns after its state (``keyed``): each side's row-hash partitions, then
    each :func:`keyed_slots` slot's partitions (empty where the scan had none)."""
    empty = [b""] * PARTITIONS
    out = list(run.partitions.get("real", empty)) + list(run.partitions.get("synthetic", empty))
    for slot, parts in run.slots:
        out += run.partitions.get(slot, [b""] * parts)
    return out


def tap_classes(plan) -> dict:
    """Tap key -> Tap subclass of a plan's corpus taps."""
    return {tap.key_of(**params): tap for tap, params, _ in plan.taps}


def _materialised(x):
    """``x`` with every memory-mapped array read into memory."""
    if isinstance(x, np.memmap):
        return np.array(x)
    if isinstance(x, tuple):
        return tuple(_materialised(v) for v in x)
    if isinstance(x, dict):
        return {k: _materialised(v) for k, v in x.items()}
    return x


def register_states() -> None:
    """Allow the state classes of the corpus taps in states (imported late: checks import plan)."""
    from synthproof.checks.duplication._taps import SpanKeys
    from synthproof.corpus import CorpusStats

    for cls in (CorpusStats, SpanKeys):
        if f"{cls.__module__}.{cls.__qualname__}" not in codec.TYPES:
            codec.register(cls)


class _SpanHashes:
    """The row hashes of one shard's span of a side (``put`` as :class:`SideHashes`)."""

    def __init__(self, span: tuple[int, int]) -> None:
        self.lo = span[0]
        self.array = np.zeros(span[1] - span[0], dtype=np.uint64)

    def put(self, row0: int, hashes: np.ndarray) -> None:
        self.array[row0 - self.lo:row0 - self.lo + len(hashes)] = hashes


def _wrap(progress, name, it):
    return progress(name, it) if progress is not None else it


def _first_pass_tree(st: FirstPass) -> dict:
    out = {"rows": st.rows, "schema": None if st.schema is None else st.schema.empty_table()}
    for key, b in (("keep", st.keep), ("pool", st.pool)):
        if b.held > b.k or len(b.parts) > 1:
            b._compact()
        out[key] = {"k": b.k, "key": b.key, "pri": b.pri[0] if b.pri else np.zeros(0, np.uint64),
                    "ids": b.ids[0] if b.ids else np.zeros(0, np.int64), "table": b.parts[0] if b.parts else None}
    return out


def _first_pass_of(tree: dict) -> FirstPass:
    parts = []
    for key in ("keep", "pool"):
        t = tree[key]
        b = _BottomK(int(t["k"]), int(t["key"]))
        if t["table"] is not None:
            b.pri, b.ids, b.parts = [t["pri"]], [t["ids"]], [t["table"]]
            b.held, b.held_bytes = int(t["table"].num_rows), int(t["table"].nbytes)
        parts.append(b)
    schema = tree["schema"].schema if tree["schema"] is not None else None
    return FirstPass(parts[0], parts[1], int(tree["rows"]), schema)


def _count_tree(count: ColumnCount) -> dict:
    acc = []
    if count.builder is not None:
        acc = [{"keys": a.keys, "counts": a.counts, "tables": a.tables, "target": a.target} for a in count.builder.acc]
    return {"fine": {c: count.fine[c] for c in count.extra}, "tables": [[p[0], p[1], t] for p, t in count.tables.items()],
            "acc": acc}


class _Counts:
    """A decoded accumulator (what :meth:`synthproof.subgroups._Accumulator.merge` reads)."""

    def __init__(self, tree: dict) -> None:
        self.keys, self.counts, self.tables, self.target = tree["keys"], tree["counts"], tree["tables"], tree["target"]


def add_counts(count: ColumnCount, tree: dict) -> None:
    """Add one shard's ``count`` state to ``count`` (planned from the same merged scan)."""
    if not tree:
        return
    for c, a in tree["fine"].items():
        count.fine[c] += a
    for a, b, t in tree["tables"]:
        count.tables[(a, b)] += t
    if count.builder is not None:
        for acc, t in zip(count.builder.acc, tree["acc"]):
            acc.merge(_Counts(t))
