"""Connected components of an edge list by alternating large-star and small-star rounds
(Kiveris, Lattanzi, Mirrokni, Rastogi, Vassilvitskii, "Connected Components in MapReduce and
Beyond", SoCC 2014): each round is a map over edges keyed by one endpoint and a reduce per key (the
minimum of a node's neighbourhood), so it runs over hash partitions of the edges — on one worker,
or one task per partition — in ``O(log n)`` rounds, with memory per task a partition's edges.

The result does not depend on the partitioning: every node ends labelled by the smallest node of
its component. :func:`scipy_labels` renumbers those as :func:`scipy.sparse.csgraph.connected_components`
numbers components (by their smallest node), so either algorithm gives the same labels.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

_MIX = np.uint64(0x9E3779B97F4A7C15)

#: The mapper :func:`star_components` uses when given none: set by an executor for the length of a
#: run (the Ray executor: one task per partition), ``None`` for this process. A plain global, not a
#: context variable: the checks may run on a thread pool.
MAPPER: list = [None]


def _partition(keys: np.ndarray, parts: int) -> np.ndarray:
    """Partition of each key: a multiplicative hash of the node id (never Python ``hash()``)."""
    return ((keys.astype(np.uint64) * _MIX) >> np.uint64(40)).astype(np.int64) % parts


def _group_min(keys: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(unique keys, min of values per key)``."""
    order = np.argsort(keys, kind="stable")
    k, v = keys[order], values[order]
    starts = np.flatnonzero(np.r_[True, k[1:] != k[:-1]]) if k.size else np.zeros(0, np.int64)
    return k[starts], np.minimum.reduceat(v, starts) if k.size else v


def large_star(edges: np.ndarray) -> np.ndarray:
    """One large-star step on the edges of one key partition (every edge of a key ``u`` present,
    both orientations): for each ``u``, ``m = min(u, neighbours)``; each neighbour ``v > u`` is
    linked to ``m``. Returns the new edges ``(v, m)`` (shape (k, 2), int64, no self-loops)."""
    u, v = edges[:, 0], edges[:, 1]
    keys, low = _group_min(u, v)
    m = np.minimum(keys, low)
    mu = m[np.searchsorted(keys, u)]
    keep = v > u
    out = np.column_stack([v[keep], mu[keep]])
    return out[out[:, 0] != out[:, 1]]


def small_star(edges: np.ndarray) -> np.ndarray:
    """One small-star step on the edges of one key partition, each oriented ``(u, v)`` with
    ``v < u``: for each ``u``, ``m = min(u, its smaller neighbours)``; ``u`` and each smaller
    neighbour are linked to ``m``. Returns the new edges (no self-loops)."""
    u, v = edges[:, 0], edges[:, 1]
    keys, m = _group_min(u, v)
    mu = m[np.searchsorted(keys, u)]
    out = np.vstack([np.column_stack([v, mu]), np.column_stack([keys, m])])
    return out[out[:, 0] != out[:, 1]]


def _canonical(edges: np.ndarray) -> np.ndarray:
    """Undirected edges as unique ``(max, min)`` rows, sorted."""
    if not len(edges):
        return np.zeros((0, 2), np.int64)
    hi, lo = np.maximum(edges[:, 0], edges[:, 1]), np.minimum(edges[:, 0], edges[:, 1])
    keep = hi != lo
    code = np.unique(hi[keep].astype(np.int64) * (int(hi.max()) + 1) + lo[keep])
    width = int(hi.max()) + 1
    return np.column_stack([code // width, code % width]).astype(np.int64)


def star_components(edges: np.ndarray, n: int, parts: int = 1,
                    mapper: Callable[[Callable, list], list] | None = None, max_rounds: int = 200) -> np.ndarray:
    """The smallest node of each node's component.

    Parameters
    ----------
    edges : ndarray of int, shape (k, 2)
        Undirected edges between nodes ``0 .. n-1`` (duplicates and self-loops allowed).
    n : int
        Number of nodes.
    parts : int, default 1
        Hash partitions of the edges per step (by the key node).
    mapper : callable, optional
        ``mapper(fn, partitions) -> [fn(p) for p in partitions]`` in any order of execution
        (e.g. one Ray task per partition); default: the run's executor's (:data:`MAPPER`), else
        in this process.
    max_rounds : int, default 200
        A bound on the rounds (they are ``O(log n)`` in the paper's analysis, ~10-20 in practice;
        reaching the bound would be a bug, which raises). ``n`` below ``2**31``.

    Returns
    -------
    ndarray of int64, shape (n,)
        ``labels[v]`` = the smallest node of ``v``'s component (``v`` for an isolated node).

    Raises
    ------
    RuntimeError
        No convergence within ``max_rounds``.
    """
    run = mapper or MAPPER[0] or (lambda fn, xs: [fn(x) for x in xs])
    e = _canonical(np.asarray(edges, dtype=np.int64).reshape(-1, 2))
    for _ in range(max_rounds):
        # large-star: keyed by either endpoint (both orientations of every edge)
        both = np.vstack([e, e[:, ::-1]])
        p = _partition(both[:, 0], parts)
        nxt = _canonical(np.vstack(run(large_star, [both[p == i] for i in range(parts)]) or [np.zeros((0, 2), np.int64)]))
        # small-star: keyed by the larger endpoint
        p = _partition(nxt[:, 0], parts)
        nxt = _canonical(np.vstack(run(small_star, [nxt[p == i] for i in range(parts)]) or [np.zeros((0, 2), np.int64)]))
        if nxt.shape == e.shape and np.array_equal(nxt, e):
            break
        e = nxt
    else:
        raise RuntimeError(f"large-star/small-star did not converge in {max_rounds} rounds")
    labels = np.arange(n, dtype=np.int64)
    if len(e):  # converged: stars, each edge (node, its component's smallest node)
        labels[e[:, 0]] = e[:, 1]
    return labels


def scipy_labels(smallest: np.ndarray) -> np.ndarray:
    """Component numbers ``0 .. c-1`` in the order of their smallest node (as scipy numbers them)."""
    _, inverse = np.unique(smallest, return_inverse=True)
    return inverse.astype(np.int32)
