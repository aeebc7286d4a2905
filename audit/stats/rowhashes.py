"""Canonical row hashes of a side, in memory or spilled to partition files, and the keyed counts
the duplicate and copy checks read from them.

Past a sixteenth of the memory budget the hashes of a side go, as they stream, to
:data:`PARTITIONS` files split by the hash's top bits (16 bytes a row: hash and row number). A
value's every occurrence on both sides lands in the same partition, and partitions in number order
are hash ranges in increasing order, so every count below is computed one partition pair at a
time — memory ``16 n / PARTITIONS`` bytes a side — and equals the whole-array computation
(tested): distinct counts and multiplicities are sums over partitions, the real multiplicities in
sorted-value order are the partitions' concatenated, and row lists are merged by row number. In
memory the side is one partition.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator

import numpy as np

PARTITIONS = 64  #: partition files per spilled side (the span keys of the text checks use the same split)
PARTITION_SHIFT = np.uint64(64 - 6)  #: a 64-bit key's partition is ``key >> PARTITION_SHIFT``
_REC = np.dtype([("h", "<u8"), ("r", "<i8")])
_ids = itertools.count()


def split(row0: int, hashes: np.ndarray, ids: np.ndarray | None = None) -> list[tuple[int, np.ndarray]]:
    """The records of ``hashes`` by partition (the key's top 6 bits).

    Parameters
    ----------
    row0 : int
        Row number of ``hashes[0]`` (the ids when ``ids`` is not given).
    hashes : ndarray of uint64, shape (n,)
    ids : ndarray of int64, shape (n,), optional
        The id of each key instead of its row number (e.g. a document number).

    Returns
    -------
    list of (int, ndarray)
        ``(p, records)`` for each non-empty partition ``p`` in increasing order; ``records`` is a
        structured array (``h``: uint64 key, ``r``: int64 id), in input order.
    """
    h = np.asarray(hashes, dtype=np.uint64)
    part = (h >> PARTITION_SHIFT).astype(np.intp)
    order = np.argsort(part, kind="stable")
    rec = np.empty(len(h), dtype=_REC)
    rec["h"], rec["r"] = h[order], (row0 + order) if ids is None else np.asarray(ids, dtype=np.int64)[order]
    bounds = np.searchsorted(part[order], np.arange(PARTITIONS + 1))
    return [(int(p), rec[bounds[p]:bounds[p + 1]]) for p in np.nonzero(np.diff(bounds))[0]]


def partition_bytes(row0: int, hashes: np.ndarray, ids: np.ndarray | None = None) -> list[bytes]:
    """:func:`split`'s records as bytes, one entry per partition in order (``b""`` where empty):
    what a scan task returns for the keyed shuffle."""
    got = dict(split(row0, hashes, ids))
    return [got[p].tobytes() if p in got else b"" for p in range(PARTITIONS)]


def records(blobs: list[bytes], offsets: list[int] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``(keys, ids)`` of a partition from its records' bytes (:func:`partition_bytes`), part after
    part; ``offsets[i]`` is added to the ids of part ``i`` (documents numbered within a shard)."""
    recs = [np.frombuffer(b, dtype=_REC) for b in blobs]
    keys = np.concatenate([np.zeros(0, np.uint64)] + [r["h"] for r in recs])
    if offsets is None:
        return keys, np.concatenate([np.zeros(0, np.int64)] + [r["r"] for r in recs])
    return keys, np.concatenate([np.zeros(0, np.int64)] + [r["r"] + off for r, off in zip(recs, offsets)])


class SideHashes:
    """The canonical hashes of one side's ``n`` rows, filled by :meth:`put` in any order of row
    blocks (in memory) or in increasing row order (spilled).

    Parameters
    ----------
    n : int
        Rows of the side.
    spill_dir : str, optional
        Spill the hashes to :data:`PARTITIONS` files created (exclusively) in this folder; default:
        a uint64 array of ``n`` slots.
    """

    def __init__(self, n: int, spill_dir: str | None = None) -> None:
        self.n = int(n)
        self.array = np.zeros(self.n, dtype=np.uint64) if spill_dir is None else None
        self.paths: list[str] = []
        self._fh: list = []
        if spill_dir is not None:
            tag = f"rowhash-{os.getpid()}-{next(_ids)}"
            self.paths = [os.path.join(spill_dir, f"{tag}-{p:02d}.bin") for p in range(PARTITIONS)]
            self._fh = [open(p, "xb") for p in self.paths]
        self._next = 0

    @classmethod
    def of(cls, hashes: np.ndarray) -> SideHashes:
        """An in-memory side holding ``hashes`` (uint64, shape (n,)) as they are (no copy)."""
        out = cls(0)
        out.n, out.array = len(hashes), np.asarray(hashes, dtype=np.uint64)
        return out

    @property
    def spilled(self) -> bool:
        return self.array is None

    def put(self, row0: int, hashes: np.ndarray) -> None:
        """Hashes of rows ``row0 .. row0 + len(hashes) - 1``."""
        h = np.asarray(hashes, dtype=np.uint64)
        if self.array is not None:
            self.array[row0:row0 + len(h)] = h
            return
        if row0 != self._next:
            raise ValueError(f"spilled row hashes must arrive in row order: rows from {row0}, expected {self._next}")
        self._next += len(h)
        for p, rec in split(row0, h):
            rec.tofile(self._fh[p])

    def finish(self) -> None:
        """Close the partition files (spilled); idempotent."""
        for fh in self._fh:
            fh.close()
        self._fh = []

    def parts(self) -> Iterator[tuple[np.ndarray, np.ndarray | None]]:
        """``(hashes, rows)`` of each partition in order (``rows`` increasing; ``None`` in memory,
        where the one partition is every row in order)."""
        if self.array is not None:
            yield self.array, None
            return
        self.finish()
        for path in self.paths:
            rec = np.fromfile(path, dtype=_REC)
            yield rec["h"], rec["r"]

    def remove(self) -> None:
        """Delete the partition files (spilled)."""
        self.finish()
        for path in self.paths:
            if os.path.exists(path):
                os.remove(path)


class ShuffledHashes:
    """The hashes of one side's ``n`` rows as they lie after a keyed shuffle: for each of the
    :data:`PARTITIONS` partitions, the records' bytes (:func:`split`) of every shard in shard order
    (shards are increasing row spans, so a partition's rows increase), held where ``reduce``
    reads them (a Ray object store: :mod:`synthproof.plan.distributed`).

    Parameters
    ----------
    n : int
        Rows of the side.
    parts : list of list, length PARTITIONS
        ``parts[p]``: one handle per shard on the bytes of partition ``p``'s records.
    reduce : callable
        ``reduce(fn, arg, per_partition)``: for each partition ``[[handles of side 1], ...]`` of
        ``per_partition``, ``fn(arg, [bytes of side 1], ...)`` run where the handles live; the
        results in partition order.
    """

    spilled = True  # partitions pair up with another shuffled side's

    def __init__(self, n: int, parts: list, reduce) -> None:
        if len(parts) != PARTITIONS:
            raise ValueError(f"a shuffled side has {PARTITIONS} partitions, not {len(parts)}")
        self.n, self.parts_of, self.reduce = int(n), parts, reduce

    def finish(self) -> None:
        """Nothing to close (as :meth:`SideHashes.finish`)."""

    def remove(self) -> None:
        """Nothing to delete here (the object store frees the partitions with their handles)."""


def _each(fn, sides: tuple, arg=None) -> list:
    """``fn(arg, (h, rows), ...)`` for each partition of ``sides`` (paired), in partition order;
    ``rows`` is ``None`` for an in-memory side (its one partition is every row in order).

    Raises
    ------
    ValueError
        If the sides are not all in memory, all spilled or all shuffled (their partitions would not
        pair up).
    """
    kinds = {"shuffled" if isinstance(s, ShuffledHashes) else "spilled" if s.spilled else "memory" for s in sides}
    if len(kinds) > 1:
        raise ValueError("both sides must be in memory or both spilled (their partitions pair up)")
    if kinds == {"shuffled"}:
        return sides[0].reduce(_on_records, (fn, arg), [[s.parts_of[p] for s in sides] for p in range(PARTITIONS)])
    return [fn(arg, *parts) for parts in zip(*(s.parts() for s in sides))]


def _on_records(fn_arg, *blob_lists):
    fn, arg = fn_arg
    return fn(arg, *(records(blobs) for blobs in blob_lists))


def _rows(rows: np.ndarray | None, h: np.ndarray) -> np.ndarray:
    return np.arange(len(h), dtype=np.int64) if rows is None else rows


def _selected(rows: np.ndarray, sel: np.ndarray) -> np.ndarray:
    """Which of ``rows`` (increasing) are in ``sel`` (increasing): a binary search each."""
    pos = np.searchsorted(sel, rows)
    hit = pos < sel.size
    hit[hit] = sel[pos[hit]] == rows[hit]
    return hit


def _distinct(selections, part) -> list[int]:
    h, rows = part
    out = []
    for sel in selections:
        if sel is None:
            out.append(int(np.unique(h).size))
        else:
            out.append(int(np.unique(h[sel] if rows is None else h[_selected(rows, sel)]).size))
    return out


def distinct(side, rows: np.ndarray | None = None) -> int:
    """Number of distinct hashes among the side's rows (as ``np.unique(h).size``).

    Parameters
    ----------
    side : SideHashes or ShuffledHashes
    rows : ndarray of int64, optional
        Count only these rows (distinct row numbers in ``[0, side.n)``, increasing).

    Returns
    -------
    int in [0, side.n]; ``1 - distinct / n`` is the duplicate-row rate (larger: more repeats).
    """
    return distinct_among(side, [rows])[0]


def distinct_among(side, selections: list) -> list[int]:
    """:func:`distinct` of each selection in one pass over the partitions.

    Parameters
    ----------
    side : SideHashes or ShuffledHashes
    selections : list of (ndarray of int64, increasing, or None)
        Row numbers to count among; ``None``: every row.

    Returns
    -------
    list of int, one per selection, each in [0, len(selection)] (``side.n`` for ``None``).
    """
    per = _each(_distinct, (side,), [None if s is None else np.asarray(s, dtype=np.int64) for s in selections])
    return [int(sum(p[i] for p in per)) for i in range(len(selections))]


def _histogram(_, part) -> tuple[np.ndarray, np.ndarray]:
    return np.unique(np.unique(part[0], return_counts=True)[1], return_counts=True)


def multiplicity_histogram(side) -> tuple[np.ndarray, np.ndarray]:
    """Histogram of the side's multiplicities, for
    :func:`synthproof.stats.duplicates.expected_duplicate_rate` (``weights=how_many``).

    Returns
    -------
    multiplicity : ndarray of int64, shape (k,)
        Each count ``c >= 1`` that some distinct hash has, increasing.
    how_many : ndarray of int64, shape (k,)
        Distinct hashes with that count; ``sum(multiplicity * how_many) == side.n``.
    """
    acc: dict[int, int] = {}
    for c, k in _each(_histogram, (side,)):
        for ci, ki in zip(c.tolist(), k.tolist()):
            acc[ci] = acc.get(ci, 0) + ki
    keys = sorted(acc)
    return np.array(keys, dtype=np.int64), np.array([acc[c] for c in keys], dtype=np.int64)


def _repeated(_, part) -> int:
    _, inv, cnt = np.unique(part[0], return_inverse=True, return_counts=True)
    return int(np.count_nonzero(cnt[inv] > 1))


def repeated_rows(side) -> int:
    """Rows whose hash occurs more than once on the side: int in [0, side.n] (``/ n`` is the
    leave-one-out copy rate of :func:`synthproof.checks.duplication._rows.leave_one_out_copy_rate`)."""
    return int(sum(_each(_repeated, (side,))))


def _top(k, part) -> tuple[np.ndarray, np.ndarray]:
    h, rows = part
    _, inv, cnt = np.unique(h, return_inverse=True, return_counts=True)
    c = cnt[inv]
    dup = np.nonzero(c > 1)[0]
    r, c = _rows(rows, h)[dup], c[dup]
    order = np.lexsort((r, -c))[:k]
    return r[order], c[order]


def top_repeats(side, k: int) -> np.ndarray:
    """The first ``k`` rows whose hash occurs more than once on the side, most repeated hash first,
    then by row number.

    Parameters
    ----------
    side : SideHashes or ShuffledHashes
    k : int >= 0

    Returns
    -------
    ndarray of int64, shape (min(k, repeated_rows(side)),): row numbers of the side.
    """
    per = _each(_top, (side,), int(k))
    r = np.concatenate([np.zeros(0, np.int64)] + [p[0] for p in per])
    c = np.concatenate([np.zeros(0, np.int64)] + [p[1] for p in per])
    return r[np.lexsort((r, -c))][:k].astype(np.int64)


def _copied(k, q, ref) -> tuple[int, int, np.ndarray]:
    (hq, rq), (hr, _) = q, ref
    hit = np.isin(hq, hr)
    return int(np.count_nonzero(hit)), int(np.unique(hq[hit]).size), np.sort(_rows(rq, hq)[hit])[:k]


def copied_rows(query, ref, k: int) -> tuple[int, int, np.ndarray]:
    """The rows of ``query`` whose hash occurs in ``ref``: how many, the distinct hashes they
    carry, and the first ``k`` of them.

    Parameters
    ----------
    query, ref : SideHashes or ShuffledHashes
        Both in memory, both spilled or both shuffled.
    k : int >= 0

    Returns
    -------
    copies : int in [0, query.n]
        Rows of ``query`` that copy a ``ref`` row (``/ query.n`` is the copy rate).
    records : int in [0, copies]
        Distinct hashes among the copying rows (the distinct ``ref`` records reproduced).
    first : ndarray of int64, shape (min(k, copies),)
        The smallest row numbers among the copying rows, increasing.

    Raises
    ------
    ValueError
        If the sides are not both in memory, both spilled or both shuffled.
    """
    per = _each(_copied, (query, ref), int(k))
    first = np.sort(np.concatenate([np.zeros(0, np.int64)] + [p[2] for p in per]))[:k]
    return int(sum(p[0] for p in per)), int(sum(p[1] for p in per)), first.astype(np.int64)
