"""Coarse pair contingency tables, chunk by chunk: the tables of every pair of feature columns
counted as margins of three-way tables where those stay small (:func:`triple_cover`), so a
15-column table needs about a third of the bincounts of one per pair. Integer counts: the
tables are exactly those of one bincount per pair, whatever the chunking."""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable, Iterable

import numpy as np

from .columns import SIDES, Chunks, _for_columns, _pool


def pair_tables(chunks: Chunks, maps: dict, columns: list[str], threads: int | None = None,
                progress: Callable[[str], Iterable] | None = None) -> dict:
    """Real and synthetic coarse contingency tables of every pair of ``columns`` (one pass).

    Parameters
    ----------
    chunks : callable
        As for :func:`build_columns`.
    maps : dict of str -> CodeMap
        Finished code maps (:attr:`ColumnArtefacts.maps`).
    columns : list of str

    Returns
    -------
    dict of (str, str) -> (ndarray, ndarray)
        For each pair ``a < b`` in ``columns`` order: int64 tables of shape ``(k_a, k_b)``.
    """
    if len(columns) < 2:
        return {}
    pool = _pool(threads)
    try:
        return _pair_tables(chunks, maps, columns, progress or (lambda name, it: it), pool)
    finally:
        if pool is not None:
            pool.shutdown()


#: Most cells of one three-way table counted by :func:`_add_tables` (else its pairs are counted one by one).
TRIPLE_CELLS = 1 << 15


def triple_cover(pairs: list[tuple], sizes: dict) -> list[tuple[tuple, list[tuple]]]:
    """Jobs that count the tables of ``pairs``: ``(columns, claimed)`` with ``columns`` a triple
    whose three-way table holds the ``claimed`` pairs' tables as margins, or a pair counted alone
    (no third column keeps the three-way table within :data:`TRIPLE_CELLS` cells). Every pair is
    claimed by exactly one job.

    Greedy and deterministic (``pairs`` order): each triple extends the first unclaimed pair
    ``(a, b)`` with the column that claims the most other unclaimed pairs, so about a third of the
    bincounts are needed (15 columns: 105 pairs in 35-40 triples).
    """
    todo = dict.fromkeys(pairs)
    cols = list(dict.fromkeys(c for p in pairs for c in p))
    jobs: list[tuple[tuple, list[tuple]]] = []
    while todo:
        a, b = next(iter(todo))
        del todo[(a, b)]
        best, gain = None, 0
        for c in cols:
            if c in (a, b) or sizes[a] * sizes[b] * sizes[c] > TRIPLE_CELLS:
                continue
            g = sum(q in todo for q in ((a, c), (c, a), (b, c), (c, b)))
            if g > gain:
                best, gain = c, g
        if best is None:
            jobs.append(((a, b), [(a, b)]))
            continue
        claimed = [(a, b)] + [q for q in ((a, best), (best, a), (b, best), (best, b)) if q in todo]
        for q in claimed[1:]:
            del todo[q]
        jobs.append(((a, b, best), claimed))
    return jobs


def _add_tables(tables: dict, codes: dict, maps: dict, pairs: list, side: int, pool, rows: int) -> None:
    """Add one chunk's coarse pair tables: the three-way tables of :func:`triple_cover`'s triples
    (one bincount per up to three pairs), each claimed pair's margin added; integer counts, so the
    tables are exactly those of one bincount per pair."""
    sizes = {c: maps[c].n_coarse for p in pairs for c in p}

    def count(job):
        cols, claimed = job
        if len(cols) == 2:
            a, b = cols
            kb = sizes[b]
            tables[cols][side] += np.bincount(codes[a] * kb + codes[b], minlength=sizes[a] * kb).reshape(-1, kb)
            return
        a, b, c = cols
        cube = np.bincount((codes[a] * sizes[b] + codes[b]) * sizes[c] + codes[c],
                           minlength=sizes[a] * sizes[b] * sizes[c]).reshape(sizes[a], sizes[b], sizes[c])
        margins = {(a, b): cube.sum(axis=2), (a, c): cube.sum(axis=1), (b, c): cube.sum(axis=0)}
        for x, y in claimed:  # each claimed pair is one of the three, in either orientation
            tables[(x, y)][side] += margins[(x, y)] if (x, y) in margins else margins[(y, x)].T

    _for_columns(count, _cover(tuple(pairs), tuple(sizes.items())), pool, rows)


@functools.lru_cache(maxsize=16)
def _cover(pairs: tuple, sizes: tuple) -> list:
    """:func:`triple_cover`, once per pair list and sizes (not once per chunk)."""
    return triple_cover(list(pairs), dict(sizes))


def _pair_tables(chunks: Chunks, maps: dict, cols: list[str], wrap, pool) -> dict:
    pairs = list(itertools.combinations(cols, 2))
    tables = {p: np.zeros((2, maps[p[0]].n_coarse, maps[p[1]].n_coarse), np.int64) for p in pairs}
    for ch in wrap("pairs", chunks()):
        side = SIDES.index(ch.side)
        codes: dict[str, np.ndarray] = {}

        def coarse(c, ch=ch):
            codes[c] = maps[c].coarse[maps[c].fine(ch.columns[c])]

        _for_columns(coarse, cols, pool, ch.n)
        _add_tables(tables, codes, maps, pairs, side, pool, ch.n)
    return {p: (t[0], t[1]) for p, t in tables.items()}
