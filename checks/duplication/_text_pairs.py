"""Pairs of similar documents and the rates built from them (pure functions).

Every text duplication statistic is a rate over a sample of documents ("share of sampled
documents with a twin in the sample", "share with a copy in the reference"); computing the pairs
once over all documents and then evaluating the rate on many seeded samples makes the real/real
baseline at matched size cheap.
"""

from __future__ import annotations

import numpy as np

from synthproof.stats.tokens import TokenCodes, ngram_keys


def twin_rate(pairs: np.ndarray, n: int, sample: np.ndarray) -> float:
    """Share of ``sample`` items that have a partner (through ``pairs``) also in ``sample``.

    Parameters
    ----------
    pairs : ndarray of int, shape (k, 2)
        Undirected pairs of items ``0..n-1``.
    n : int
    sample : ndarray of int, shape (m,)
        Distinct items.

    Returns
    -------
    float in [0, 1] (NaN for an empty sample).
    """
    if sample.size == 0:
        return float("nan")
    inside = np.zeros(n, dtype=bool)
    inside[sample] = True
    both = inside[pairs[:, 0]] & inside[pairs[:, 1]] if len(pairs) else np.zeros(0, dtype=bool)
    has = np.zeros(n, dtype=bool)
    has[pairs[both, 0]] = True
    has[pairs[both, 1]] = True
    return float(has[sample].mean())


def class_twin_rate(labels: np.ndarray, class_pairs: np.ndarray, sample: np.ndarray) -> float:
    """Share of ``sample`` items with a twin in ``sample``, where two items are twins when they
    share a class (``labels[i] == labels[j] >= 0``) or their classes are paired.

    The exact within-sample rate of the full pair graph (every pair of every class, every pair
    across paired classes) without listing those pairs: :func:`twin_rate` on all of them gives the
    same value.

    Parameters
    ----------
    labels : ndarray of int, shape (n,)
        Class of each item; ``-1``: no class (never a twin through its class).
    class_pairs : ndarray of int, shape (k, 2)
        Undirected pairs of classes.
    sample : ndarray of int, shape (m,)
        Distinct items.

    Returns
    -------
    float in [0, 1] (NaN for an empty sample).
    """
    if sample.size == 0:
        return float("nan")
    lab = labels[sample]
    c = int(labels.max()) + 1 if labels.size else 0
    counts = np.bincount(lab[lab >= 0], minlength=c)
    has = counts >= 2
    if len(class_pairs):
        both = (counts[class_pairs[:, 0]] > 0) & (counts[class_pairs[:, 1]] > 0)
        has[class_pairs[both, 0]] = True
        has[class_pairs[both, 1]] = True
    return float(np.where(lab >= 0, has[np.maximum(lab, 0)], False).mean())


def hash_twin_rate(hashes: np.ndarray, sample: np.ndarray) -> float:
    """Share of ``sample`` items whose hash occurs at least twice within the sample."""
    if sample.size == 0:
        return float("nan")
    _, inv, counts = np.unique(hashes[sample], return_inverse=True, return_counts=True)
    return float((counts[inv] > 1).mean())


def cross_rate(pairs: np.ndarray, sample: np.ndarray, reference: np.ndarray, n_query: int, n_ref: int) -> float:
    """Share of ``sample`` query items with a partner among the ``reference`` items.

    ``pairs`` rows are ``(query item, reference item)``.
    """
    if sample.size == 0:
        return float("nan")
    in_ref = np.zeros(n_ref, dtype=bool)
    in_ref[reference] = True
    hit = np.zeros(n_query, dtype=bool)
    if len(pairs):
        hit[pairs[in_ref[pairs[:, 1]], 0]] = True
    return float(hit[sample].mean())


def doc_ngram_keys(corpus: TokenCodes, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Distinct (key, document) rows of the word n-grams of every document (documents shorter than
    ``n`` words have none). Returns ``(keys, docs)`` sorted by key."""
    lens = corpus.lengths
    doc = np.repeat(np.arange(lens.size), lens)
    keys = ngram_keys(corpus.codes, doc, n)
    m = max(corpus.codes.size - n + 1, 0)
    owner = doc[:m][doc[:m] == doc[n - 1:]] if m else np.zeros(0, dtype=np.int64)
    if not keys.size:
        return np.zeros(0, dtype=np.uint64), np.zeros(0, dtype=np.int64)
    owner = owner.astype(np.int64)
    order = np.lexsort((owner, keys))
    keys, owner = keys[order], owner[order]
    keep = np.ones(keys.size, dtype=bool)
    keep[1:] = (keys[1:] != keys[:-1]) | (owner[1:] != owner[:-1])
    return keys[keep], owner[keep]


def shared_ngram_pairs(query: tuple[np.ndarray, np.ndarray], ref: tuple[np.ndarray, np.ndarray],
                       same: bool = False, max_fanout: int = 1000, prefilter: bool | None = None) -> np.ndarray:
    """(query document, reference document) pairs that share at least one n-gram.

    Parameters
    ----------
    query, ref : (keys, docs) from :func:`doc_ngram_keys` of corpora coded over one vocabulary.
    same : bool, default False
        Query and reference are one corpus: drop self pairs and keep each pair once (``i < j``).
    max_fanout : int, default 1000
        An n-gram found in more reference documents than this is boilerplate (a licence line, a
        template) and is ignored.
    prefilter : bool or None, default None
        First keep only the rows whose key both sides hold (:func:`common_keys`, found by sorting
        both key arrays), so the join proper runs on the few shared n-grams instead of
        binary-searching every query key in the whole reference (cache misses: ~10x slower on
        tens of millions of keys). None: when both sides hold more than 65,536 rows. The pairs are
        the same either way.

    Returns
    -------
    ndarray of int64, shape (k, 2), unique rows.
    """
    qk, qd = query
    rk, rd = ref
    if qk.size == 0 or rk.size == 0:
        return np.zeros((0, 2), dtype=np.int64)
    if prefilter is None:
        prefilter = min(qk.size, rk.size) > _PREFILTER_ROWS
    if prefilter:
        common = common_keys(qk, rk, same)
        keep = in_sorted(qk, common)
        qk, qd = qk[keep], qd[keep]
        if same:
            rk, rd = qk, qd
        else:
            keep = in_sorted(rk, common)
            rk, rd = rk[keep], rd[keep]
        if qk.size == 0:
            return np.zeros((0, 2), dtype=np.int64)
    order = np.argsort(rk, kind="stable")
    rk, rd = rk[order], rd[order]
    lo = np.searchsorted(rk, qk, side="left")
    hi = np.searchsorted(rk, qk, side="right")
    cnt = hi - lo
    ok = (cnt > 0) & (cnt <= max_fanout)
    if not ok.any():
        return np.zeros((0, 2), dtype=np.int64)
    lo, cnt, qd = lo[ok], cnt[ok], qd[ok]
    ends = np.cumsum(cnt)
    # The (query row, reference row) expansion is deduplicated in blocks of about _JOIN_BLOCK rows:
    # n-grams that many documents share make it quadratic, and memory follows the distinct pairs.
    cuts = np.searchsorted(ends, np.arange(_JOIN_BLOCK, int(ends[-1]), _JOIN_BLOCK), side="left") + 1
    bounds = np.unique(np.concatenate([[0], cuts, [cnt.size]]))
    blocks = [_expand(qd[a:b], lo[a:b], cnt[a:b], rd, same) for a, b in zip(bounds[:-1], bounds[1:])]
    return blocks[0] if len(blocks) == 1 else unique_pairs(np.concatenate(blocks))


_JOIN_BLOCK = 1 << 22


def _expand(qd: np.ndarray, lo: np.ndarray, cnt: np.ndarray, rd: np.ndarray, same: bool) -> np.ndarray:
    """Unique ``(qd[i], rd[lo[i] + t])`` pairs for ``t < cnt[i]`` (``same``: ordered, no self pairs)."""
    left = np.repeat(qd, cnt).astype(np.int64)
    right = rd[np.repeat(lo, cnt) + (np.arange(int(cnt.sum())) - np.repeat(np.cumsum(cnt) - cnt, cnt))].astype(np.int64)
    if same:
        left, right = np.minimum(left, right), np.maximum(left, right)
        keep = left != right
        left, right = left[keep], right[keep]
    return unique_pairs(np.column_stack([left, right]))


_PREFILTER_ROWS = 1 << 16


def common_keys(qk: np.ndarray, rk: np.ndarray, same: bool = False) -> np.ndarray:
    """Sorted distinct keys found in both ``qk`` and ``rk`` (``same``: found in two or more rows
    of ``rk``, the one corpus's distinct (key, document) rows, i.e. in two or more documents).

    Both arrays are sorted (numpy's vectorised sort) and the sorted query keys searched in the
    sorted reference, so the cost is two sorts and one cache-friendly pass.
    """
    sr = np.sort(rk)
    if same:
        return np.unique(sr[1:][sr[1:] == sr[:-1]])
    sq = np.sort(qk)
    i = np.minimum(np.searchsorted(sr, sq), sr.size - 1)
    return np.unique(sq[sr[i] == sq])


def in_sorted(keys: np.ndarray, common: np.ndarray) -> np.ndarray:
    """Boolean mask of the ``keys`` (uint64 hashes) found in the sorted array ``common``.

    A direct-mapped table on the keys' low bits (sized ~64 slots per common key, at most 2**26)
    rejects almost every absent key with one lookup; only the survivors are binary-searched.
    """
    out = np.zeros(keys.size, dtype=bool)
    if common.size == 0 or keys.size == 0:
        return out
    bits = int(min(26, max(16, np.ceil(np.log2(common.size)) + 6)))
    low = np.uint64((1 << bits) - 1)
    table = np.zeros(1 << bits, dtype=bool)
    table[(common & low).astype(np.intp)] = True
    cand = np.flatnonzero(table[(keys & low).astype(np.intp)])
    if cand.size:
        j = np.minimum(np.searchsorted(common, keys[cand]), common.size - 1)
        out[cand[common[j] == keys[cand]]] = True
    return out


def unique_pairs(pairs: np.ndarray) -> np.ndarray:
    """Unique rows of an (k, 2) array of non-negative int pairs, sorted (a 1-D sort of one code per
    row: much faster than ``np.unique(axis=0)`` on millions of rows)."""
    if not len(pairs):
        return np.zeros((0, 2), dtype=np.int64)
    pairs = pairs.astype(np.int64)
    width = int(pairs[:, 1].max()) + 1
    code = np.unique(pairs[:, 0] * width + pairs[:, 1])
    return np.column_stack([code // width, code % width])


#: Edges up to which :func:`clusters` builds one sparse graph (scipy: ~16 bytes an edge twice over);
#: beyond, large-star/small-star rounds over hash partitions of the edges (a 16th of them at a time).
CLUSTER_EDGES = 1 << 27


def clusters(pairs: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Connected components of the pair graph over ``n`` items: scipy.sparse.csgraph up to
    :data:`CLUSTER_EDGES` edges, else :func:`synthproof.stats.components.star_components`
    (Kiveris et al., SoCC 2014) in 16 partitions — the same labels either way (components
    numbered by their smallest item).

    Returns ``(labels, sizes)``: the component of each item and each component's size.
    """
    if len(pairs) > CLUSTER_EDGES:
        from synthproof.stats.components import scipy_labels, star_components

        labels = scipy_labels(star_components(pairs, n, parts=16))
        return labels, np.bincount(labels, minlength=labels.max() + 1 if n else 0)
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    g = coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(n, n)) if len(pairs) else \
        coo_matrix((n, n))
    _, labels = connected_components(g, directed=False)
    return labels, np.bincount(labels, minlength=labels.max() + 1 if n else 0)
