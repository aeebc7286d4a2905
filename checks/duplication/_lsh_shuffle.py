"""MinHash near-duplicates over signatures left where the scan tasks computed them (the keyed
shuffle of LSH under an executor such as ``--executor ray``).

Each shard's signature matrix stays one object on the worker that computed it
(:class:`ShuffledSignatures`: its handle, first document and count). The functions below give the
values of their in-memory counterparts in :mod:`._minhash` (tested equal, pair for pair and bit
for bit) by maps over the blocks and reductions over :data:`PARTITIONS` key partitions, so no
signature reaches the driver:

* **signature classes** — each block's live rows as ``(row key a, row key b, document)``
  records partitioned by key a; a partition task groups equal keys (a class lives in one
  partition) and returns each class's first document and members; the driver numbers classes by
  first document (labels: 8 bytes a document, as :func:`._minhash.signature_classes`).
* **banding** — each block's selected rows (class representatives, or every live row) as
  ``(band key, id << 10 | band)`` records partitioned by band key; a partition task groups equal
  ``(band, key)`` and returns the pairs of groups of at most ``max_group`` members and the members
  of larger ones (the skew guard: a giant bucket's pairs are never enumerated, its members go to
  one task that compares their signatures in tiles, keeping only pairs at the threshold).
* **verification** — candidate pairs grouped by the block of their first row, one task per block
  fetching the blocks of their second rows one at a time (two blocks in memory).

What reaches the driver: labels, candidate pairs (16 bytes each) and their estimates.

An *engine* runs the tasks: ``map(fn, jobs, num_returns)`` (each job ``(arg, handles)`` run as
``fn(arg, *blobs)``, its ``num_returns`` outputs left as handles), ``tasks(fn, jobs)`` (the same,
results fetched) and ``lazy(fn, jobs)`` (``fn(arg, getters)``, each getter fetching one handle's
bytes when called) — :class:`synthproof.plan.distributed.Shuffle` on Ray.
"""

from __future__ import annotations

import numpy as np

from synthproof.stats.rowhashes import PARTITION_SHIFT, PARTITIONS, partition_bytes, records

from . import _minhash as mh

_BAND_BITS = 10  # bands <= num_perm <= 1024: the band index fits in 10 bits of a record's id
_CLASS_REC = np.dtype([("a", "<u8"), ("b", "<u8"), ("d", "<i8")])


class ShuffledSignatures:
    """MinHash signatures of a corpus as blocks left where they were computed.

    Parameters
    ----------
    blocks : list
        One handle per shard (the engine's; bytes of a C-ordered uint32 matrix).
    offsets : list of int
        First document of each block in the corpus.
    counts : list of int
        Documents of each block.
    num_perm : int
    engine : object
        Runs the maps and reductions (see the module docstring).
    """

    def __init__(self, blocks: list, offsets: list[int], counts: list[int], num_perm: int, engine) -> None:
        self.blocks, self.engine, self.num_perm = list(blocks), engine, int(num_perm)
        self.offsets = np.asarray(offsets, dtype=np.int64)
        self.counts = np.asarray(counts, dtype=np.int64)

    @property
    def shape(self) -> tuple[int, int]:
        return int(self.counts.sum()), self.num_perm

    def __len__(self) -> int:
        return self.shape[0]


def matrix(blob: bytes, num_perm: int) -> np.ndarray:
    """A block's signatures, shape (n, num_perm), read-only over the bytes."""
    return np.frombuffer(blob, dtype=np.uint32).reshape(-1, num_perm)


class _Layout:
    """Where the rows of stacked signature sets lie: each block's first stacked row (picklable:
    what a task needs to find its rows in the blocks it fetches)."""

    def __init__(self, starts: np.ndarray, num_perm: int) -> None:
        self.starts, self.num_perm = starts, num_perm

    def locate(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Block of each stacked row and its row within the block (an empty block is never chosen:
        the last block starting at or before the row is the one holding it)."""
        blk = np.searchsorted(self.starts, rows, side="right") - 1
        return blk, rows - self.starts[blk]


class _Space:
    """Rows of one or two signature sets stacked (the second's rows after the first's), as blocks."""

    def __init__(self, sigs: list[ShuffledSignatures]) -> None:
        _check(*sigs)
        self.engine = sigs[0].engine
        self.num_perm = sigs[0].num_perm
        base = np.cumsum([0] + [len(s) for s in sigs])[:-1]
        self.handles = [h for s in sigs for h in s.blocks]
        self.layout = _Layout(np.concatenate([s.offsets + b for s, b in zip(sigs, base)]), self.num_perm)


def _check(*sigs) -> None:
    if not all(isinstance(s, ShuffledSignatures) for s in sigs):
        raise ValueError("signatures must all be shuffled or all in memory")
    if len({s.num_perm for s in sigs}) != 1:
        raise ValueError("signatures of different num_perm cannot be compared")


# ---- signature classes ----------------------------------------------------------------------

def _class_records(arg, blob: bytes) -> list[bytes]:
    num_perm, doc0 = arg
    m = matrix(blob, num_perm)
    live = np.nonzero(~(m == mh.EMPTY).all(axis=1))[0]
    rec = np.empty(live.size, dtype=_CLASS_REC)
    rec["a"], rec["b"], rec["d"] = mh._row_keys(m[live]), mh._row_keys(m[live], mh._MULT2), doc0 + live
    part = (rec["a"] >> PARTITION_SHIFT).astype(np.intp)
    order = np.argsort(part, kind="stable")
    rec = rec[order]
    bounds = np.searchsorted(part[order], np.arange(PARTITIONS + 1))
    return [rec[bounds[p]:bounds[p + 1]].tobytes() for p in range(PARTITIONS)]


def _classes_in_partition(_arg, *blobs: bytes) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(first document of each class, member documents, each member's class first document)``."""
    rec = np.concatenate([np.zeros(0, _CLASS_REC)] + [np.frombuffer(b, dtype=_CLASS_REC) for b in blobs])
    if not rec.size:
        z = np.zeros(0, dtype=np.int64)
        return z, z, z
    order = np.lexsort((rec["d"], rec["b"], rec["a"]))
    a, b, d = rec["a"][order], rec["b"][order], rec["d"][order]
    new = np.ones(d.size, dtype=bool)
    new[1:] = (a[1:] != a[:-1]) | (b[1:] != b[:-1])
    firsts = d[new]
    return firsts, d, firsts[np.cumsum(new) - 1]


def signature_classes(sig: ShuffledSignatures) -> tuple[np.ndarray, np.ndarray]:
    """:func:`._minhash.signature_classes` of shuffled signatures, and each class's first row.

    Returns
    -------
    labels : ndarray of int64, shape (n,)
        Equal to the in-memory labels (classes numbered by first document; -1: an empty set).
    firsts : ndarray of int64, shape (c,)
        First document of each class, increasing (``firsts[label]``).
    """
    eng = sig.engine
    jobs = [((sig.num_perm, int(off)), [h]) for h, off in zip(sig.blocks, sig.offsets)]
    parts = eng.map(_class_records, jobs, PARTITIONS)
    got = eng.tasks(_classes_in_partition, [(None, [p[i] for p in parts]) for i in range(PARTITIONS)])
    firsts = np.sort(np.concatenate([np.zeros(0, np.int64)] + [g[0] for g in got]))
    labels = np.full(len(sig), -1, dtype=np.int64)
    for _, members, first in got:
        labels[members] = np.searchsorted(firsts, first)
    return labels, firsts


# ---- banding --------------------------------------------------------------------------------

def _band_records(arg, blob: bytes) -> list[bytes]:
    """Records ``(band key, id << 10 | band)`` of a block's selected rows, by partition."""
    num_perm, bands, rows_per_band, rows, ids = arg
    m = matrix(blob, num_perm)
    if rows is None:  # every live row; ``ids`` is the first row's id
        rows = np.nonzero(~(m == mh.EMPTY).all(axis=1))[0]
        ids = ids + rows
    sel = m[rows]
    keys = np.concatenate([np.zeros(0, np.uint64)] + [mh._row_keys(sel[:, b * rows_per_band:(b + 1) * rows_per_band])
                                                      for b in range(bands)])
    rid = np.concatenate([np.zeros(0, np.int64)] + [(np.asarray(ids, np.int64) << _BAND_BITS) | b
                                                    for b in range(bands)])
    return partition_bytes(0, keys, rid)


def _band_groups(arg, *blobs: bytes) -> tuple[np.ndarray, list[np.ndarray]]:
    """A partition's candidate pairs (groups of at most ``max_group``) and its larger groups."""
    max_group, split = arg
    keys, rid = records(list(blobs))
    band, ids = rid & ((1 << _BAND_BITS) - 1), rid >> _BAND_BITS
    order = np.lexsort((ids, keys, band))
    k, bd, ids = keys[order], band[order], ids[order]
    brk = np.nonzero((k[1:] != k[:-1]) | (bd[1:] != bd[:-1]))[0] + 1
    starts = np.concatenate([[0], brk]).astype(np.int64)
    ends = np.concatenate([brk, [k.size]]).astype(np.int64)
    sizes = ends - starts
    out, large = [], []
    s2 = starts[sizes == 2]
    if s2.size:
        out.append(np.column_stack([ids[s2], ids[s2 + 1]]))
    for s0, e0 in zip(starts[sizes > 2], ends[sizes > 2]):
        members = ids[s0:e0]
        if members.size <= max_group:
            i, j = mh._triu(members.size)
            out.append(np.column_stack([members[i], members[j]]))
        else:
            large.append(members)
    pairs = np.concatenate(out).astype(np.int64) if out else np.zeros((0, 2), dtype=np.int64)
    if split is not None:
        pairs = pairs[(pairs[:, 0] >= split) != (pairs[:, 1] >= split)]
    from ._text_pairs import unique_pairs

    return unique_pairs(pairs), large


class _Across:
    """``side[i]`` of stacked rows (True past ``split``), without an n-long array."""

    def __init__(self, split: int) -> None:
        self.split = split

    def __getitem__(self, idx):
        return np.asarray(idx) >= self.split


def _blocks_of(layout: _Layout, rows: np.ndarray) -> np.ndarray:
    """The blocks holding ``rows``, increasing (the order a lazy task's getters come in)."""
    return np.unique(layout.locate(rows)[0])


def _gather(layout: _Layout, rows: np.ndarray, getters: list) -> np.ndarray:
    """Signatures of stacked ``rows`` (any order), each block they touch fetched once, in the
    order of :func:`_blocks_of`."""
    blk, local = layout.locate(rows)
    out = np.empty((rows.size, layout.num_perm), dtype=np.uint32)
    for i, b in enumerate(np.unique(blk)):
        at = np.nonzero(blk == b)[0]
        out[at] = matrix(getters[i](), layout.num_perm)[local[at]]
    return out


def _large_group(arg, getters: list) -> np.ndarray:
    """Pairs of a large band group at or above the threshold (signatures compared in tiles)."""
    layout, members, rows, threshold, split = arg
    got = mh._group_pairs(_gather(layout, rows, getters), members, threshold, None if split is None else _Across(split))
    return np.concatenate(got).astype(np.int64) if got else np.zeros((0, 2), dtype=np.int64)


def _candidates(space: _Space, selections: list, bands: int, rows_per_band: int, max_group: int,
                threshold: float | None, split: int | None, row_of) -> np.ndarray:
    """:func:`._minhash._candidates` over ``space``: ``selections[i]`` = (rows of block ``i``, or
    None for its live rows; their ids, or the id of the block's first row); ``row_of(ids)``: the
    stacked rows of ids. Returns unique pairs of ids, ``i < j``."""
    from ._text_pairs import unique_pairs

    eng = space.engine
    jobs = [((space.num_perm, bands, rows_per_band, rows, ids), [h])
            for h, (rows, ids) in zip(space.handles, selections)]
    parts = eng.map(_band_records, jobs, PARTITIONS)
    got = eng.tasks(_band_groups, [((max_group, split), [p[i] for p in parts]) for i in range(PARTITIONS)])
    out = [g[0] for g in got]
    jobs = []
    for members in (m for g in got for m in g[1]):
        rows = row_of(members)
        jobs.append(((space.layout, members, rows, threshold, split),
                     [space.handles[b] for b in _blocks_of(space.layout, rows)]))
    out.extend(eng.lazy(_large_group, jobs) if jobs else [])
    if not out:
        return np.zeros((0, 2), dtype=np.int64)
    return unique_pairs(np.sort(np.concatenate(out).astype(np.int64), axis=1))


# ---- verification ---------------------------------------------------------------------------

def _estimates_of_block(arg, getters: list) -> np.ndarray:
    """Estimated Jaccard of pairs whose first rows lie in one block (``getters[0]``) and whose
    second rows lie in the blocks of ``getters[1:]``, fetched one at a time."""
    layout, first_local, second_rows = arg
    a = matrix(getters[0](), layout.num_perm)
    blk, local = layout.locate(second_rows)
    sim = np.empty(first_local.size, dtype=np.float64)
    for i, b in enumerate(np.unique(blk)):
        at = np.nonzero(blk == b)[0]
        sim[at] = mh.pair_jaccard(a, matrix(getters[1 + i](), layout.num_perm),
                                  np.column_stack([first_local[at], local[at]]))
    return sim


def estimates(space: _Space, pairs: np.ndarray) -> np.ndarray:
    """:func:`._minhash.pair_jaccard` of stacked row pairs, shape (k,), float64 in [0, 1]: one
    task per block of the pairs' first rows."""
    sim = np.empty(len(pairs), dtype=np.float64)
    if not len(pairs):
        return sim
    blk, local = space.layout.locate(pairs[:, 0])
    groups = [np.nonzero(blk == b)[0] for b in np.unique(blk)]
    jobs = [((space.layout, local[g], pairs[g, 1]),
             [space.handles[blk[g[0]]]] + [space.handles[b] for b in _blocks_of(space.layout, pairs[g, 1])])
            for g in groups]
    for g, got in zip(groups, space.engine.lazy(_estimates_of_block, jobs)):
        sim[g] = got
    return sim


# ---- the in-memory functions' counterparts ---------------------------------------------------

def _live_selections(space: _Space, sigs: list[ShuffledSignatures]) -> list:
    base = np.cumsum([0] + [len(s) for s in sigs])[:-1]
    return [(None, int(off + b)) for s, b in zip(sigs, base) for off in s.offsets]


def near_graph(sig: ShuffledSignatures, threshold: float, bands: tuple[int, int] | None = None,
               max_group: int = 64) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`._minhash.near_graph` of shuffled signatures (same labels, class pairs, estimates)."""
    space = _Space([sig])
    labels, reps = signature_classes(sig)
    b, r = bands or mh.optimal_bands(threshold, sig.num_perm)
    blk, local = space.layout.locate(reps)
    cuts = np.searchsorted(blk, np.arange(len(space.handles) + 1))
    selections = [(local[cuts[i]:cuts[i + 1]], np.arange(cuts[i], cuts[i + 1], dtype=np.int64))
                  for i in range(len(space.handles))]
    pairs = _candidates(space, selections, b, r, max_group, threshold, None, lambda ids: reps[ids])
    kept, sim = mh._above(pairs, estimates(space, reps[pairs]), threshold)
    return labels, kept, sim


def near_pairs(sig: ShuffledSignatures, threshold: float, bands: tuple[int, int] | None = None,
               max_group: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """:func:`._minhash.near_pairs` of shuffled signatures (no ``side``)."""
    space = _Space([sig])
    b, r = bands or mh.optimal_bands(threshold, sig.num_perm)
    pairs = _candidates(space, _live_selections(space, [sig]), b, r, max_group, threshold, None, lambda ids: ids)
    return mh._above(pairs, estimates(space, pairs), threshold)


def cross_pairs(sig_a: ShuffledSignatures, sig_b: ShuffledSignatures, threshold: float,
                bands: tuple[int, int] | None = None, max_group: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """:func:`._minhash.cross_pairs` of shuffled signatures: ``(row of a, row of b)`` pairs."""
    space = _Space([sig_a, sig_b])
    na = len(sig_a)
    b, r = bands or mh.optimal_bands(threshold, sig_a.num_perm)
    pairs = _candidates(space, _live_selections(space, [sig_a, sig_b]), b, r, max_group, threshold, na,
                        lambda ids: ids)
    kept, sim = mh._above(pairs, estimates(space, pairs), threshold)
    return (np.column_stack([kept[:, 0], kept[:, 1] - na]) if len(kept) else np.zeros((0, 2), dtype=np.int64)), sim


def pair_jaccard(sig_a: ShuffledSignatures, sig_b: ShuffledSignatures, pairs: np.ndarray) -> np.ndarray:
    """:func:`._minhash.pair_jaccard` of shuffled signatures."""
    space = _Space([sig_a, sig_b])
    pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    return estimates(space, np.column_stack([pairs[:, 0], pairs[:, 1] + len(sig_a)]))
