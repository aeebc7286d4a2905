"""Deterministic row samples keyed by row id: the same rows whatever the chunking, shard layout,
executor or worker count.

Every bounded sample of the audit (C2ST, DCR, PRDC, near-duplicate rows, utility, the GX-derived
suite, the embedding sample, bin edges) is a **bottom-k sample**: each row gets a 64-bit priority
that depends only on ``(seed, side, purpose, row id)``, and the sample is the ``k`` rows with the
smallest priorities. A row id is the row's 0-based position in the input (files in sorted path order,
then row position), so a chunk can compute its own bottom-k without seeing the others, and the
bottom-k of a union is the bottom-k of the chunks' bottom-k's (:func:`merge_bottom_k`): the sample
does not depend on how the rows were cut. The rows in priority order are a uniformly random
permutation of the sample, so the first ``m`` and the next ``m`` of :func:`bottom_k` are two disjoint
uniform samples (how real/real splits are drawn).

The priority is the SplitMix64 finaliser (Steele, Lea & Flood, "Fast splittable pseudorandom number
generators", OOPSLA 2014) of ``row id XOR key``, where ``key`` is the first 8 bytes of
``blake2b(seed, side, purpose)``: a bijection of 64-bit integers, so distinct rows never tie. Bottom-k
(min-hash) sampling: Cohen & Kaplan, "Summarizing data using bottom-k sketches", PODC 2007.
"""

from __future__ import annotations

import functools
import hashlib

import numpy as np

#: Rows per side of the row pool every row sample of an audit draws from (``AuditContext.pool``):
#: the bottom-k by ``(seed, side, "pool")`` priorities. Out of core, the pool is what the read pass
#: keeps; in memory, samples are drawn from the same rows. 200,000 rows hold every check's largest
#: sample (50,000 per side, x4 for the PRDC/DCR reference pools) with room to spare.
POOL_ROWS = 200_000

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)


def sample_key(seed: int, side: str, purpose: str) -> int:
    """The 64-bit key of one sample: the first 8 bytes (little endian) of ``blake2b`` of
    ``"{seed}\\0{side}\\0{purpose}"``. Never Python's ``hash()``."""
    raw = f"{int(seed)}\0{side}\0{purpose}".encode()
    return int.from_bytes(hashlib.blake2b(raw, digest_size=8).digest(), "little")


def priorities(row_ids: np.ndarray, key: int) -> np.ndarray:
    """SplitMix64 priorities of row ids under a key.

    Parameters
    ----------
    row_ids : ndarray of int, shape (n,)
        Non-negative row ids.
    key : int
        A 64-bit key (:func:`sample_key`).

    Returns
    -------
    ndarray of uint64, shape (n,)
        ``splitmix64(row_id XOR key)``; a bijection, so distinct ids have distinct priorities.
    """
    z = np.asarray(row_ids).astype(np.uint64) ^ np.uint64(key & 0xFFFFFFFFFFFFFFFF)
    with np.errstate(over="ignore"):
        z = z + _GOLDEN
        z = (z ^ (z >> np.uint64(30))) * _M1
        z = (z ^ (z >> np.uint64(27))) * _M2
    return z ^ (z >> np.uint64(31))


def candidate_bound(k: int, n: int) -> np.uint64 | None:
    """A priority bound under which, for ``n`` uniform 64-bit priorities, the ``k`` smallest lie
    with overwhelming probability (``k + 6 sqrt(k) + 16`` expected below it); ``None`` when it
    would keep (nearly) everything. Only a shortcut: :func:`smallest_k` checks that at least
    ``k`` priorities fall below it and otherwise looks at all of them, so results are exact."""
    if n <= 0 or k >= n:
        return None
    frac = (k + 6.0 * np.sqrt(k) + 16.0) / n
    if frac >= 0.5:
        return None
    return np.uint64(min(int(frac * 2.0 ** 64), 2 ** 64 - 1))


def smallest_k(priority: np.ndarray, k: int, ordered: bool = True) -> np.ndarray:
    """Positions of the ``k`` smallest priorities, in increasing priority (exact; in no particular
    order when not ``ordered``).

    Parameters
    ----------
    priority : ndarray of uint64, shape (n,)
    k : int
        ``0 <= k``; all positions when ``k >= n``.
    ordered : bool, default True
        Sort the result by priority (skip it when only the set matters).

    Returns
    -------
    ndarray of int64, shape (min(k, n),)
    """
    n = priority.size
    if k <= 0:
        return np.empty(0, dtype=np.int64)
    if k >= n:
        return np.argsort(priority, kind="stable").astype(np.int64) if ordered else np.arange(n, dtype=np.int64)
    bound = candidate_bound(k, n)
    cand = np.flatnonzero(priority < bound) if bound is not None else None
    if cand is None or cand.size < k:  # no shortcut (or unlucky): look at every priority
        cand = np.arange(n)
    sel = cand[np.argpartition(priority[cand], k - 1)[:k]]
    return (sel[np.argsort(priority[sel], kind="stable")] if ordered else sel).astype(np.int64)


def bottom_k(row_ids: np.ndarray, k: int, key: int, priority: np.ndarray | None = None) -> np.ndarray:
    """The ``k`` row ids with the smallest priorities, in increasing priority.

    Parameters
    ----------
    row_ids : ndarray of int, shape (n,)
    k : int
        Sample size, ``>= 0``; all ``n`` rows (in priority order) when ``k >= n``.
    key : int
        The sample's key (:func:`sample_key`).
    priority : ndarray of uint64, shape (n,), optional
        Precomputed :func:`priorities` of ``row_ids`` under ``key``.

    Returns
    -------
    ndarray of int64, shape (min(k, n),)
        Row ids ordered by priority (a uniformly random order of a uniformly random sample).

    Raises
    ------
    ValueError
        ``k < 0``.
    """
    if k < 0:
        raise ValueError(f"k must be >= 0, got {k}")
    ids = np.asarray(row_ids, dtype=np.int64)
    pri = priorities(ids, key) if priority is None else priority
    return ids[smallest_k(pri, k)]


def merge_bottom_k(parts: list[np.ndarray], k: int, key: int) -> np.ndarray:
    """The bottom-k of a union from the bottom-k's of its disjoint parts (equal to
    :func:`bottom_k` on the concatenated ids, whatever the cut)."""
    ids = np.concatenate([np.asarray(p, dtype=np.int64) for p in parts]) if parts else np.empty(0, np.int64)
    return bottom_k(ids, k, key)


@functools.lru_cache(maxsize=6)
def _row_priorities(seed: int, side: str, purpose: str, n: int) -> np.ndarray:
    pri = priorities(np.arange(n, dtype=np.int64), sample_key(seed, side, purpose))
    pri.flags.writeable = False
    return pri


def row_priorities(seed: int, side: str, n: int, purpose: str = "bin_edges") -> np.ndarray:
    """Read-only :func:`priorities` of row ids ``0..n-1`` of one side (cached: every column of a
    side shares them)."""
    return _row_priorities(int(seed), side, purpose, int(n))


def sample_rows(n: int, k: int, seed: int, side: str, purpose: str) -> np.ndarray:
    """Positions of a bottom-k sample of ``k`` of ``n`` rows (row ids ``0..n-1``), **sorted**.

    Parameters
    ----------
    n : int
        Rows on this side.
    k : int
        Sample size; every row when ``k >= n``.
    seed : int
        The run's seed.
    side : str
        ``real``, ``synthetic`` or ``holdout`` (each side has its own priorities).
    purpose : str
        What the sample is for (e.g. the check id): different purposes draw independent samples.

    Returns
    -------
    ndarray of int64, shape (min(k, n),)
        Sorted row positions.
    """
    if k >= n:
        return np.arange(n, dtype=np.int64)
    return np.sort(bottom_k(np.arange(n, dtype=np.int64), k, sample_key(seed, side, purpose)))
