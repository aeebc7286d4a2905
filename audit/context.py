"""What a check sees when it runs: the prepared data, the seed, the calibration settings, and the
named artefacts it declares (:mod:`synthproof.plan.needs`)."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .encode import ColumnCounts
from .sampling import POOL_ROWS, bottom_k, priorities, sample_key, sample_rows, smallest_k
from .schema import Prepared


MIN_PUBLIC_COUNT = 10


def label_is_public(real_count: int, show_values: bool, label=None) -> bool:
    """Whether a real category label may appear in messages and charts: when ``show_values``, or when
    at least ``MIN_PUBLIC_COUNT`` real rows share it (a rarer value could point at a person) and
    ``label``, when given, holds no personal data (:func:`synthproof.stats.pii.find_pii`: a shared
    support address is still someone's e-mail)."""
    if show_values:
        return True
    if real_count < MIN_PUBLIC_COUNT:
        return False
    if label is not None:
        from .stats.pii import find_pii

        return not find_pii(str(label))
    return True


def _values(series):
    """The column's values: a ``pandas.Categorical`` for category columns, else a numpy array."""
    return series.array if isinstance(series.dtype, pd.CategoricalDtype) else series.to_numpy()


@dataclass
class AuditContext:
    """Shared state of one audit run.

    Attributes
    ----------
    data : Prepared
    seed : int
    n_splits : int
        ``R``, the number of seeded real/real splits for count-based checks.
    alpha : float
        Family-wise level given to each gating check (the gate's budget over the gating checks).
    fdr_q : float
        Benjamini–Hochberg level for warnings.
    max_row_findings : int
        Cap on row-level findings per check.
    show_values : bool
        Whether messages may quote real values (categories, cells); off by default.
    threads : int or None
        Worker threads for :meth:`map` (default: all cores).
    settings : AuditConfig or None
        The run's config (its ``bias``, ``provenance`` and ``validity`` sections); see :attr:`config`.
    started_at : str or None
        ISO-8601 UTC start of the run (provenance timestamps must not be later).
    synthetic_path : str or None
        Path of the synthetic input when it was a file or folder (for the provenance sidecar).
    progress : bool
        Show progress bars on long work (embedding).
    """

    data: Prepared
    seed: int = 0
    n_splits: int = 100
    alpha: float = 0.05
    fdr_q: float = 0.05
    max_row_findings: int = 20
    show_values: bool = False
    threads: int | None = None
    settings: Any = None
    started_at: str | None = None
    synthetic_path: str | None = None
    progress: bool = False
    columns: Any = None  # ColumnArtefacts, built on first use or given by the planner
    pairs: dict = field(default_factory=dict)
    current: Any = None  # the running check (its ``needs`` are enforced by :meth:`use`)
    used: set = field(default_factory=set)
    built: set | None = None  # out of core: the artefacts the planner built (others raise OutOfCore)
    corpus_plan: list = field(default_factory=list)  # (Tap class, kwargs) every corpus is built with
    resources: Any = None  # synthproof.corpus.Resources of the corpus taps (memory budget, spill folder)
    _artefacts: dict = field(default_factory=dict)
    _pools: dict = field(default_factory=dict)

    @property
    def config(self):
        """The run's :class:`~synthproof.config.AuditConfig` (defaults when the context was built by hand)."""
        if self.settings is None:
            from .config import parse_config

            self.settings = parse_config({})
        return self.settings

    def rng(self, key: str) -> np.random.Generator:
        """A generator seeded from (seed, key) with a stable digest — independent of call order."""
        digest = hashlib.blake2b(key.encode(), digest_size=8).digest()
        return np.random.default_rng([self.seed, int.from_bytes(digest, "little")])

    def _side_rows(self, side: str) -> int:
        d = self.prepared
        frame = {"real": d.real, "synthetic": d.synthetic, "holdout": d.holdout}[side]
        if frame is None:
            raise ValueError(f"no {side} data")
        return len(frame)

    def pool(self, side: str) -> np.ndarray:
        """Positions (in this context's frame of ``side``) of the **row pool** every sample draws
        from: the :data:`~synthproof.sampling.POOL_ROWS` rows with the smallest ``(seed, side,
        "pool")`` priorities, sorted; every row when there are fewer. Out of core the frame holds
        exactly these rows (:mod:`synthproof.plan.outofcore`), so samples are the same rows in both."""
        if side not in self._pools:
            n = self._side_rows(side)
            self._pools[side] = (np.arange(n, dtype=np.int64) if self.prepared.streamed
                                 else sample_rows(n, POOL_ROWS, self.seed, side, "pool"))
        return self._pools[side]

    def pool_size(self, side: str) -> int:
        """Rows of the row pool of ``side`` (:meth:`pool`): what a sample may draw from."""
        return int(self.pool(side).size)

    def global_ids(self, side: str, positions: np.ndarray) -> np.ndarray:
        """Row ids (positions in the whole input) of frame positions: the same in memory; through
        the pool's ids out of core."""
        positions = np.asarray(positions, dtype=np.int64)
        ids = self.prepared.row_ids
        return positions if ids is None else np.asarray(ids[side], dtype=np.int64)[positions]

    def positions(self, side: str, row_ids) -> np.ndarray:
        """Frame positions of rows of the row pool given by row id (:meth:`global_ids` inverted)."""
        row_ids = np.asarray(row_ids, dtype=np.int64)
        ids = self.prepared.row_ids
        if ids is None:
            return row_ids
        have = np.asarray(ids[side], dtype=np.int64)
        pos = np.searchsorted(have, row_ids)
        if row_ids.size and (pos.max() >= have.size or (have[np.minimum(pos, have.size - 1)] != row_ids).any()):
            raise ValueError(f"rows outside the {side} row pool")
        return pos

    def ranked(self, side: str, k: int, purpose: str, ids: np.ndarray | None = None) -> np.ndarray:
        """A deterministic bottom-k sample of ``k`` rows of ``side`` (:mod:`synthproof.sampling`),
        **in priority order**: frame positions of pool rows (:meth:`pool`) whose priority depends
        only on (seed, side, purpose, row id), so the sample is the same whatever the chunking and
        whether the data is in memory or streamed. ``ids`` restricts it to those frame positions
        (e.g. the labelled rows). Slice it for disjoint uniform parts."""
        self.use("row_sample")
        pool = self.pool(side)
        cand = pool if ids is None else np.intersect1d(pool, np.asarray(ids, dtype=np.int64))
        pri = priorities(self.global_ids(side, cand), sample_key(self.seed, side, purpose))
        return cand[smallest_k(pri, k)]

    def sample(self, side: str, k: int, purpose: str, ids: np.ndarray | None = None) -> np.ndarray:
        """:meth:`ranked`, sorted by row position (every pool row when ``k`` is at least their number)."""
        return np.sort(self.ranked(side, k, purpose, ids))

    def map(self, fn, items: list) -> list:
        """``[fn(x) for x in items]`` on a small thread pool, in order. For work that releases the
        GIL (numpy) and draws only from its own :meth:`rng` streams, so results do not depend on
        scheduling."""
        if len(items) < 2:
            return [fn(x) for x in items]
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=min(len(items), self.threads or os.cpu_count() or 1)) as pool:
            return list(pool.map(fn, items))

    # -- artefacts ------------------------------------------------------------------------------
    def use(self, artefact: str) -> None:
        """Record that the running check reads ``artefact`` (:data:`synthproof.plan.needs.ARTEFACTS`);
        raise :class:`~synthproof.plan.needs.UndeclaredArtefact` when it did not declare it."""
        from .plan.needs import STREAMED, OutOfCore, UndeclaredArtefact

        self.used.add(artefact)
        cur = self.current
        streamed = self.prepared.streamed
        if cur is not None and artefact not in cur.needs and not (
                artefact in cur.in_memory_extras and not streamed):
            where = " (out of core, where its in-memory extras are not available)" \
                if artefact in cur.in_memory_extras else ""
            raise UndeclaredArtefact(f"{cur.id} reads the artefact {artefact!r} but does not declare it "
                                     f"in its needs {tuple(cur.needs)}{where}")
        if streamed and artefact not in (self.built if self.built is not None else STREAMED):
            raise OutOfCore(cur.id if cur is not None else "the audit", artefact)

    def artefact(self, name: str, key: str, build):
        """The artefact ``name`` (declared by the running check) for ``key``: ``build()`` on first use,
        then shared by every check that reads it."""
        self.use(name)
        slot = self._artefacts.setdefault(name, {})
        if key not in slot:
            slot[key] = build()
        return slot[key]

    @property
    def prepared(self) -> Prepared:
        """The prepared data without access recording (for the core)."""
        return getattr(self.data, "_data", self.data)

    def column_artefacts(self, subgroups: bool = False):
        """The :class:`~synthproof.plan.columns.ColumnArtefacts` of every feature column: built once
        chunk by chunk (every column at once), or given by the out-of-core planner; with
        ``subgroups``, also the subgroup tables (built again when missing: the counts are the same,
        being deterministic in the rows)."""
        if self.columns is None or (subgroups and self.columns.subgroups is None):
            from .plan.columns import build_columns, frame_chunks
            from .subgroups import SubgroupSpec

            d = self.prepared
            if d.streamed:  # the frames hold only the row pool: artefacts must come from the planner
                raise RuntimeError("column artefacts were not built by the out-of-core planner")
            cols = d.features
            spec = SubgroupSpec.from_config(self.config, d) if subgroups else None
            self.columns = build_columns(frame_chunks({"real": d.real, "synthetic": d.synthetic}, cols), d.roles,
                                         cols, self.seed, threads=self.threads, subgroups=spec)
        return self.columns

    def subgroup_tables(self):
        """The :class:`~synthproof.subgroups.SubgroupTables` of the run (artefact ``subgroup_tables``):
        built with the column artefacts in the counting pass (by the planner, or here on first use)."""
        self.use("subgroup_tables")
        return self.column_artefacts(subgroups=True).subgroups

    def counts(self, column: str) -> ColumnCounts:
        """:class:`ColumnCounts` of a feature column (artefact ``column_counts``)."""
        self.use("column_counts")
        return self.column_artefacts().counts[column]

    def pair_table(self, a: str, b: str, columns: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """Real and synthetic coarse contingency tables of the pair ``(a, b)`` (artefact
        ``pair_tables``), built for every pair of ``columns`` at once."""
        self.use("pair_tables")
        key = tuple(columns)
        if key not in self.pairs:
            from .plan.columns import frame_chunks, pair_tables

            d = self.prepared
            if d.streamed:  # the frames hold only the row pool: tables must come from the planner
                raise RuntimeError(f"pair tables of {list(key)} were not built by the out-of-core planner")
            self.pairs[key] = pair_tables(frame_chunks({"real": d.real, "synthetic": d.synthetic}, list(key)),
                                          self.column_artefacts().maps, list(key), threads=self.threads)
        return self.pairs[key][(a, b)]

    def _row_codes(self, column: str) -> tuple[np.ndarray, np.ndarray]:
        self.use("row_codes")
        d = self.prepared
        m = self.column_artefacts().maps[column]
        return self.artefact("row_codes", column, lambda: (m.fine(_values(d.real[column])),
                                                            m.fine(_values(d.synthetic[column]))))

    def fine_codes_at(self, side: str, column: str, positions: np.ndarray) -> np.ndarray:
        """Fine codes (as in :meth:`counts`) of the rows at frame ``positions`` of ``side``: pool
        rows from :meth:`sample` (artefact ``row_pool``)."""
        self.use("row_pool")
        d = self.prepared
        frame = {"real": d.real, "synthetic": d.synthetic, "holdout": d.holdout}[side]
        vals = _values(frame[column])
        return self.column_artefacts().maps[column].fine(vals[np.asarray(positions, dtype=np.int64)])

    def categories(self, column: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per-row codes of a categorical/boolean column (artefact ``row_codes``), as
        :func:`~synthproof.encode.category_codes`: ``(codes_real, codes_synthetic, labels)``."""
        cr, cs = self._row_codes(column)
        return cr, cs, self.column_artefacts().maps[column].labels.astype(str)

    def fine_codes(self, column: str):
        """Per-row fine codes of a numeric/datetime column (artefact ``row_codes``), as
        :func:`~synthproof.encode.numeric_codes`: ``(codes_real, codes_synthetic, support, exact)``."""
        cr, cs = self._row_codes(column)
        cc = self.column_artefacts().counts[column]
        return cr, cs, cc.support, cc.exact

    def pair_codes(self, column: str) -> tuple[np.ndarray, np.ndarray, int]:
        """Per-row coarse pair codes of a feature column (artefact ``row_codes``; the rule of
        :func:`~synthproof.encode.coarse_map` / :func:`~synthproof.encode.category_coarse_map`)."""
        cr, cs = self._row_codes(column)
        m = self.column_artefacts().maps[column]
        return m.coarse[cr], m.coarse[cs], m.n_coarse

    # -- text corpora -------------------------------------------------------------------------
    @property
    def text_columns(self) -> list[str]:
        """The text columns the text checks audit (``text.columns``, else every ``text`` role)."""
        declared = self.config.text.columns
        cols = self.data.by_role("text")
        return [c for c in cols if declared is None or c in declared]

    @property
    def embedder(self):
        """The run's :class:`~synthproof.embed.Embedder` (built from ``text.embedding``)."""
        from .embed import Embedder

        e = self.config.text.embedding
        return self.artefact("embeddings", "embedder", lambda: Embedder(
            e.model, e.batch_size, e.dtype, device=e.device, cache_dir=e.cache_dir, use_cache=e.cache,
            progress=self.progress))

    def _frame(self, side: str):
        d = self.prepared
        return {"real": d.real, "synthetic": d.synthetic, "holdout": d.holdout}[side]

    def corpus(self, column: str, side: str = "synthetic"):
        """:class:`~synthproof.corpus.CorpusStats` of every document of a text column on ``side``
        (artefact ``corpus``), with the taps of :attr:`corpus_plan`; ``None`` when that side has no
        such column. Built chunk by chunk — by the out-of-core planner, or here on first use."""
        self.use("corpus")
        return self._corpus(column, side)

    def _corpus(self, column: str, side: str):
        from .corpus import build_corpus, frame_values
        from .plan.needs import OutOfCore

        slot = self._artefacts.setdefault("corpus", {})
        key = f"{column}:{side}"
        if key not in slot:
            if self.prepared.streamed:
                raise OutOfCore(self.current.id if self.current is not None else "the audit", f"corpus {key}")
            frame = self._frame(side)
            slot[key] = None if frame is None or column not in frame.columns else build_corpus(
                frame_values(frame[column].to_numpy()),
                [cls(self._resources(), **kw) for cls, kw, sides in self.corpus_plan if side in sides],
                self.config.text.max_chars, capacity=len(frame))
        return slot[key]

    def _resources(self):
        if self.resources is None:
            from .corpus import Resources
            from .plan.outofcore import default_memory, parse_memory

            mem = self.config.resources.memory
            self.resources = Resources(parse_memory(mem) if mem is not None else default_memory())
        return self.resources

    def corpus_tap(self, column: str, side: str, tap, **params):
        """The finished state of the tap ``tap(resources, **params)`` (a
        :class:`~synthproof.corpus.Tap` subclass) over the corpus of ``column`` on ``side``
        (artefact ``corpus``). In memory a tap outside :attr:`corpus_plan` gets a pass of its own;
        out of core the planner built every tap the runnable checks declare."""
        from .corpus import build_corpus, frame_values
        from .plan.needs import OutOfCore

        stats = self.corpus(column, side)
        key = tap.key_of(**params)
        if key not in stats.taps:
            if self.prepared.streamed:
                # the class name only: a tap's params may hold secrets (a watermark key)
                raise OutOfCore(self.current.id if self.current is not None else "the audit",
                                f"corpus tap {tap.__name__}")
            frame = self._frame(side)
            stats.taps[key] = build_corpus(frame_values(frame[column].to_numpy()), [tap(self._resources(), **params)],
                                           self.config.text.max_chars, capacity=len(frame)).taps[key]
        return stats.taps[key]

    def documents(self, column: str, side: str, rows) -> dict[int, str]:
        """The cleaned text of documents given by row id (artefact ``corpus``): read from the frame
        in memory, in one projected pass out of core (for row-level messages)."""
        from .text import clean_texts

        self.use("corpus")
        rows = sorted({int(r) for r in rows})
        d = self.prepared
        if d.row_ids is None:
            vals = self._frame(side)[column].to_numpy()
            got = {r: vals[r] for r in rows}
        else:
            got = d.fetch(side, column, rows)
        out = {}
        for r in rows:
            ts = clean_texts([got.get(r)], self.config.text.max_chars)
            if ts.docs:
                out[r] = ts.docs[0]
        return out

    def text_sample(self, column: str, side: str = "synthetic"):
        """The **text sample** of a text column on ``side`` (artefact ``text_sample``): a
        :class:`~synthproof.text.TextSide` of the at most :data:`~synthproof.corpus.SAMPLE_DOCS`
        documents of the row pool (:meth:`pool`) with the smallest pool priorities, in row order
        (``rows``: their row ids); every document when the corpus has no more. What the sample-based
        text checks (distinct-n, compression, embeddings, language) draw from, the same rows in
        memory and out of core. ``None`` when that side has no such column."""
        from .corpus import sample_docs
        from .text import TextSide

        def build():
            frame = self._frame(side)
            if frame is None or column not in frame.columns:
                return None
            pos = self.pool(side)
            docs, at = sample_docs(frame[column].to_numpy()[pos], self.global_ids(side, pos), self.seed, side,
                                   self.config.text.max_chars)
            return TextSide(docs, self.global_ids(side, pos[at]), int(pos.size), {})

        return self.artefact("text_sample", f"{column}:{side}", build)

    def embeddings(self, column: str, side: str = "synthetic") -> tuple[np.ndarray, np.ndarray, int]:
        """Embeddings of a seeded sample of at most ``text.embedding.max_docs`` documents of the
        text sample (:meth:`text_sample`).

        Returns
        -------
        rows : ndarray of int64, shape (k,)
            Row ids of the embedded documents (increasing).
        vectors : ndarray of float32, shape (k, dim)
        truncated : int
            Sampled documents longer than the model's window (cut to it).
        """
        def build():
            ts = self.text_sample(column, side)
            cap = self.config.text.embedding.max_docs
            n = len(ts.docs)
            # Bottom-k on the documents' row ids: the same documents whatever the chunking.
            idx = np.arange(n) if n <= cap else np.sort(self.doc_sample(column, side, cap, f"embed:{column}"))
            got = self.embedder.encode([ts.docs[i] for i in idx])
            return ts.rows[idx].astype(np.int64), got.vectors, got.truncated

        return self.artefact("embeddings", f"{column}:{side}", build)

    def doc_sample(self, column: str, side: str, k: int, purpose: str) -> np.ndarray:
        """Positions in ``text_sample(column, side).docs`` of a bottom-k sample of ``k`` documents
        keyed by their row ids (see :meth:`ranked`), in priority order."""
        rows = np.asarray(self.text_sample(column, side).rows, dtype=np.int64)
        key = sample_key(self.seed, side, purpose)
        chosen = bottom_k(rows, k, key)
        return np.searchsorted(rows, chosen)  # rows are increasing (TextSide)

    def doc_ids(self, side: str, rows) -> list[str]:
        """Identifiers of documents given by row id: synthetic ones as :meth:`row_ids_of`, others
        ``"<side> row=<id>"``."""
        rows = [int(r) for r in rows]
        return self.row_ids_of(rows) if side == "synthetic" else [f"{side} row={r}" for r in rows]

    def label(self, value: str, real_count: int) -> str:
        """A category label as it may appear in a message (see :func:`label_is_public`)."""
        return repr(str(value)) if label_is_public(real_count, self.show_values, value) else "(value hidden)"

    def row_ids_of(self, rows: list[int]) -> list[str]:
        """Identifiers (as :meth:`row_id`) of synthetic rows given by their row ids in the whole
        input (keyed checks name any row, not only pool rows). Out of core, id-column values of rows
        outside the pool are read in one projected pass."""
        d = self.prepared
        if d.row_ids is None or not rows:
            return [self.row_id(r) for r in rows]
        idc = d.id_column
        if idc is None:
            return [f"row={int(r)}" for r in rows]
        values = d.fetch("synthetic", idc, [int(r) for r in rows])
        return [self._id_name(idc, values[int(r)], int(r)) for r in rows]

    def _id_name(self, idc: str, value, row: int) -> str:
        """``"<id column>=<value>"``, or ``"row=<row id>"`` when the value holds personal data (an
        e-mail used as the key) and ``show_values`` is off."""
        if not self.show_values and isinstance(value, str):
            from .stats.pii import find_pii

            if find_pii(value):
                return f"row={int(row)}"
        return f"{idc}={value}"

    def row_id(self, index: int) -> str:
        """Identifier of a synthetic row: its id column value, else its 0-based position."""
        idc = self.prepared.id_column
        if idc is not None:
            return self._id_name(idc, self.prepared.synthetic[idc].iloc[index],
                                 int(self.global_ids("synthetic", [index])[0]))
        return f"row={int(self.global_ids('synthetic', [index])[0])}"
