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
        part = (h >> PARTITION_SHIFT).astype(np.intp)
        order = np.argsort(part, kind="stable")
        rec = np.empty(len(h), dtype=_REC)
        rec["h"], rec["r"] = h[order], row0 + order
        bounds = np.searchsorted(part[order], np.arange(PARTITIONS + 1))
        for p in np.nonzero(np.diff(bounds))[0]:
            rec[bounds[p]:bounds[p + 1]].tofile(self._fh[p])

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


def _rows(rows: np.ndarray | None, h: np.ndarray) -> np.ndarray:
    return np.arange(len(h), dtype=np.int64) if rows is None else rows


def distinct(side: SideHashes, mask: np.ndarray | None = None) -> int:
    """Number of distinct hashes among the side's rows (as ``np.unique(h).size``).

    Parameters
    ----------
    side : SideHashes
    mask : ndarray of bool, shape (side.n,), optional
        Count only the rows where it is True.

    Returns
    -------
    int in [0, side.n]; ``1 - distinct / n`` is the duplicate-row rate (larger: more repeats).
    """
    total = 0
    for h, rows in side.parts():
        if mask is not None:
            h = h[mask if rows is None else mask[rows]]
        total += int(np.unique(h).size)
    return total


def multiplicity_histogram(side: SideHashes) -> tuple[np.ndarray, np.ndarray]:
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
    for h, _ in side.parts():
        c, k = np.unique(np.unique(h, return_counts=True)[1], return_counts=True)
        for ci, ki in zip(c.tolist(), k.tolist()):
            acc[ci] = acc.get(ci, 0) + ki
    keys = sorted(acc)
    return np.array(keys, dtype=np.int64), np.array([acc[c] for c in keys], dtype=np.int64)


def repeated_rows(side: SideHashes) -> int:
    """Rows whose hash occurs more than once on the side: int in [0, side.n] (``/ n`` is the
    leave-one-out copy rate of :func:`synthproof.checks.duplication._rows.leave_one_out_copy_rate`)."""
    total = 0
    for h, _ in side.parts():
        _, inv, cnt = np.unique(h, return_inverse=True, return_counts=True)
        total += int(np.count_nonzero(cnt[inv] > 1))
    return total


def top_repeats(side: SideHashes, k: int) -> np.ndarray:
    """The first ``k`` rows whose hash occurs more than once on the side, most repeated hash first,
    then by row number.

    Parameters
    ----------
    side : SideHashes
    k : int >= 0

    Returns
    -------
    ndarray of int64, shape (min(k, repeated_rows(side)),): row numbers of the side.
    """
    best_rows, best_counts = [np.zeros(0, dtype=np.int64)], [np.zeros(0, dtype=np.int64)]
    for h, rows in side.parts():
        _, inv, cnt = np.unique(h, return_inverse=True, return_counts=True)
        c = cnt[inv]
        dup = np.nonzero(c > 1)[0]
        r, c = _rows(rows, h)[dup], c[dup]
        order = np.lexsort((r, -c))[:k]
        best_rows.append(r[order])
        best_counts.append(c[order])
    r, c = np.concatenate(best_rows), np.concatenate(best_counts)
    return r[np.lexsort((r, -c))][:k].astype(np.int64)


def copied_rows(query: SideHashes, ref: SideHashes) -> tuple[np.ndarray, int]:
    """Rows of ``query`` whose hash occurs in ``ref``, and the distinct hashes they carry.

    Returns
    -------
    mask : ndarray of bool, shape (query.n,)
    records : int
        Distinct hashes among the copying rows (the distinct ``ref`` records reproduced).

    Raises
    ------
    ValueError
        If one side is spilled and the other is not (their partitions would not pair up).
    """
    if query.spilled != ref.spilled:
        raise ValueError("both sides must be in memory or both spilled (their partitions pair up)")
    mask = np.zeros(query.n, dtype=bool)
    records = 0
    for (hq, rq), (hr, _) in zip(query.parts(), ref.parts()):
        hit = np.isin(hq, hr)
        mask[hit if rq is None else rq[hit]] = True
        records += int(np.unique(hq[hit]).size)
    return mask, records
