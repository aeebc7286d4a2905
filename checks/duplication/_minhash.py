"""MinHash signatures in bulk, bit-compatible with datasketch's ``affine32`` scheme, and near-duplicate
pairs through datasketch's ``MinHashLSH``.

datasketch hashes each shingle in Python and builds one ``MinHash`` per document; here the shingles
of a whole corpus are keyed with numpy (word codes from ``pandas.factorize``, a polynomial 64-bit
key per word n-gram, folded to 32 bits), and the permutations are applied to a block of documents
at once. The permutation parameters come from ``datasketch.MinHash(num_perm, seed)`` and the
arithmetic is datasketch's (MurmurHash3 ``fmix32`` pre-mix, ``a * h + b`` modulo 2^32, minimum per
document), so a signature equals ``datasketch.MinHash(num_perm, seed, hashfunc=int)`` fed the same
32-bit shingle hashes (tested). Candidate pairs come from ``datasketch.MinHashLSH`` (banding with
datasketch's optimal ``(b, r)`` for the threshold) and are kept when their estimated Jaccard
similarity (share of equal signature slots) reaches the threshold.

References: Broder, A. (1997) "On the resemblance and containment of documents"; Leskovec,
Rajaraman & Ullman, "Mining of Massive Datasets", ch. 3 (banding).
"""

from __future__ import annotations

import functools

import numpy as np

from synthproof.memory import release_mappings
from synthproof.stats.tokens import TokenCodes, ngram_keys

from ._text_pairs import doc_ngram_keys

_FMIX = (np.uint32(16), np.uint32(0x85EBCA6B), np.uint32(13), np.uint32(0xC2B2AE35), np.uint32(16))
EMPTY = np.uint32(0xFFFFFFFF)


def fmix32(h: np.ndarray) -> np.ndarray:
    """MurmurHash3's 32-bit finalizer (a bijection), element-wise on uint32 (wrapping arithmetic)."""
    s1, m1, s2, m2, s3 = _FMIX
    with np.errstate(over="ignore"):
        h = h ^ (h >> s1)
        h = h * m1
        h = h ^ (h >> s2)
        h = h * m2
        return h ^ (h >> s3)


def permutations(num_perm: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """datasketch's ``affine32`` permutation parameters ``(a, b)``, each of shape (num_perm,)."""
    from datasketch import MinHash

    a, b = MinHash(num_perm=num_perm, seed=seed, scheme="affine32").permutations
    return np.asarray(a, dtype=np.uint32), np.asarray(b, dtype=np.uint32)


def shingle_hashes(corpus: TokenCodes, n: int) -> tuple[np.ndarray, np.ndarray]:
    """32-bit hashes of the distinct word n-grams of each document.

    Returns
    -------
    hashes : ndarray of uint32, shape (total,)
    starts : ndarray of int64, shape (n_docs + 1,)
        Document ``i`` owns ``hashes[starts[i]:starts[i + 1]]``. A document shorter than ``n``
        words has one shingle: its whole word sequence.
    """
    lens = corpus.lengths
    keys, owner = doc_ngram_keys(corpus, n)
    short = np.nonzero((lens < n) & (lens > 0))[0]
    if short.size:  # whole-document key for documents shorter than n
        codes = corpus.codes
        extra = np.array([ngram_keys(codes[corpus.starts[i]:corpus.starts[i + 1]],
                                     np.zeros(lens[i], dtype=np.int64), int(lens[i]))[0] for i in short],
                         dtype=np.uint64)
        keys, owner = np.concatenate([keys, extra]), np.concatenate([owner, short])
    h32 = (keys ^ (keys >> np.uint64(32))).astype(np.uint32)
    order = np.lexsort((h32, owner))
    owner, h32 = owner[order], h32[order]
    keep = np.ones(h32.size, dtype=bool)
    keep[1:] = (owner[1:] != owner[:-1]) | (h32[1:] != h32[:-1])
    owner, h32 = owner[keep], h32[keep]
    starts = np.searchsorted(owner, np.arange(lens.size + 1), side="left").astype(np.int64)
    return h32, starts


def signatures(hashes: np.ndarray, starts: np.ndarray, num_perm: int = 128, seed: int = 1,
               block: int = 1 << 12) -> np.ndarray:
    """MinHash signatures of many sets at once.

    Parameters
    ----------
    hashes : ndarray of uint32, shape (total,)
        32-bit hashes of every set's elements, sets one after another.
    starts : ndarray of int64, shape (n_sets + 1,)
    num_perm : int, default 128
    seed : int, default 1
        datasketch's permutation seed.
    block : int
        Elements per block (bounds memory at ``block * num_perm * 4`` bytes).

    Returns
    -------
    ndarray of uint32, shape (n_sets, num_perm); an empty set's row is all ``0xFFFFFFFF`` (as
    datasketch's empty MinHash).
    """
    a, b = permutations(num_perm, seed)
    n = starts.size - 1
    out = np.full((n, num_perm), EMPTY, dtype=np.uint32)
    lo = 0
    while lo < n:
        hi = int(np.searchsorted(starts, starts[lo] + block, side="right")) - 1
        hi = max(hi, lo + 1)
        seg = hashes[starts[lo]:starts[hi]]
        if seg.size:
            with np.errstate(over="ignore"):
                phv = fmix32(seg)[:, None] * a[None, :]
                phv += b[None, :]
            local = starts[lo:hi] - starts[lo]
            nonempty = starts[lo + 1:hi + 1] > starts[lo:hi]
            red = np.minimum.reduceat(phv, local[nonempty], axis=0)
            out[lo:hi][nonempty] = red
        lo = hi
    return out


def optimal_bands(threshold: float, num_perm: int, fp_weight: float = 0.5,
                  fn_weight: float = 0.5) -> tuple[int, int]:
    """Bands ``b`` and rows ``r`` (``b * r <= num_perm``) minimising the weighted false-positive and
    false-negative areas under the S-curve ``P(candidate | J) = 1 - (1 - J^r)^b`` around
    ``threshold`` — the criterion of datasketch's ``MinHashLSH`` (same defaults)."""
    grid = np.linspace(0.0, 1.0, 2001)
    best, best_err = (1, 1), np.inf
    for b in range(1, num_perm + 1):
        for r in range(1, num_perm // b + 1):
            p = 1.0 - (1.0 - grid**r) ** b
            fp = np.trapezoid(np.where(grid < threshold, p, 0.0), grid)
            fn = np.trapezoid(np.where(grid >= threshold, 1.0 - p, 0.0), grid)
            err = fp_weight * fp + fn_weight * fn
            if err < best_err - 1e-15:
                best, best_err = (b, r), err
    return best


def band_candidates(sig: np.ndarray, bands: int, rows: int, side: np.ndarray | None = None,
                    max_group: int = 64, threshold: float | None = None) -> np.ndarray:
    """Candidate pairs: sets whose signatures agree on every row of at least one band.

    Parameters
    ----------
    sig : ndarray of uint32, shape (n, num_perm)
    bands, rows : int
        ``bands * rows <= num_perm``.
    side : ndarray of bool, shape (n,), optional
        When given, only pairs across sides (``side[i] != side[j]``) are returned.
    max_group : int, default 64
        Sets sharing one band key form a group. A group of at most this many sets contributes all
        its pairs; a larger one contributes, block by block, only its pairs whose estimated Jaccard
        similarity is ``>= threshold`` (all of them when ``threshold`` is None), so memory follows
        the pairs kept, not the square of the group. No candidate pair that reaches ``threshold``
        is ever dropped: rates computed from the pairs do not depend on ``max_group``.
    threshold : float, optional

    Returns
    -------
    ndarray of int64, shape (k, 2), unique rows ``(i, j)`` with ``i < j``. Empty sets never pair.
    """
    live = live_rows(sig)
    return _candidates(lambda lo, hi: _row_keys(sig[:, lo:hi]), lambda idx: sig[idx], live, bands, rows, side,
                       max_group, threshold)


def _candidates(band_keys, gather, live: np.ndarray, bands: int, rows: int, side: np.ndarray | None,
                max_group: int, threshold: float | None) -> np.ndarray:
    """:func:`band_candidates` over a signature matrix given by ``band_keys(lo, hi)`` (the row keys
    of columns ``lo:hi``) and ``gather(idx)`` (its rows ``idx``), so two matrices can be banded as
    one without stacking them."""
    if live.size == 0:
        return np.zeros((0, 2), dtype=np.int64)
    out = []
    idx = np.nonzero(live)[0]
    for band in range(bands):
        key = band_keys(band * rows, (band + 1) * rows)
        release_mappings()  # the band's columns were read across every page of a mapped matrix
        order = idx[np.lexsort((idx, key[idx]))]
        k = key[order]
        brk = np.nonzero(np.diff(k))[0] + 1
        starts = np.concatenate([[0], brk])
        ends = np.concatenate([brk, [k.size]])
        sizes = ends - starts
        s2 = starts[sizes == 2]  # most groups are pairs: taken in one step
        if s2.size:
            out.append(np.column_stack([order[s2], order[s2 + 1]]))
        for s0, e0 in zip(starts[sizes > 2], ends[sizes > 2]):
            members = order[s0:e0]
            if members.size <= max_group:
                i, j = _triu(members.size)
                out.append(np.column_stack([members[i], members[j]]))
            else:
                out.extend(_group_pairs(gather(members), members, threshold, side))
    if not out:
        return np.zeros((0, 2), dtype=np.int64)
    pairs = np.sort(np.concatenate(out).astype(np.int64), axis=1)
    if side is not None:
        pairs = pairs[side[pairs[:, 0]] != side[pairs[:, 1]]]
    from ._text_pairs import unique_pairs

    return unique_pairs(pairs)


@functools.lru_cache(maxsize=None)
def _triu(n: int) -> tuple[np.ndarray, np.ndarray]:
    """``np.triu_indices(n, k=1)``, once per group size (read only)."""
    i, j = np.triu_indices(n, k=1)
    i.flags.writeable = j.flags.writeable = False
    return i, j


def _group_pairs(sm: np.ndarray, members: np.ndarray, threshold: float | None, side: np.ndarray | None,
                 block: int = 256) -> list[np.ndarray]:
    """Pairs ``i < j`` (positions in ``members``; ``sm``: their signatures) of a large band group
    with estimated Jaccard ``>= threshold``, in ``block x 4 block`` tiles (memory
    ``16 block^2 num_perm`` bytes)."""
    out = []
    g = members.size
    for lo in range(0, g, block):
        a = sm[lo:lo + block]
        for lo2 in range(lo, g, 4 * block):
            b = sm[lo2:lo2 + 4 * block]
            sim = (a[:, None, :] == b[None, :, :]).mean(axis=2)
            ii, jj = np.nonzero(sim >= threshold) if threshold is not None else np.nonzero(np.ones(sim.shape, bool))
            ii, jj = ii + lo, jj + lo2
            keep = ii < jj
            p = np.column_stack([members[ii[keep]], members[jj[keep]]])
            if side is not None:
                p = p[side[p[:, 0]] != side[p[:, 1]]]
            out.append(p)
    return out


def cross_pairs(sig_a: np.ndarray, sig_b: np.ndarray, threshold: float,
                bands: tuple[int, int] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """:func:`near_pairs` of ``vstack([sig_a, sig_b])`` across the two sides, without the stacked
    copy: pairs ``(i, j)`` of a row ``i`` of ``sig_a`` and a row ``j`` of ``sig_b`` with estimated
    Jaccard ``>= threshold``, and their estimates (equal to the stacked computation; tested)."""
    if _shuffled(sig_a, sig_b):
        from . import _lsh_shuffle

        return _lsh_shuffle.cross_pairs(sig_a, sig_b, threshold, bands)
    na = sig_a.shape[0]
    b, r = bands or optimal_bands(threshold, sig_a.shape[1])
    live = np.concatenate([live_rows(sig_a), live_rows(sig_b)])
    side = np.arange(live.size) >= na

    def band_keys(lo, hi):
        return np.concatenate([_row_keys(sig_a[:, lo:hi]), _row_keys(sig_b[:, lo:hi])])

    def gather(idx):
        return np.concatenate([sig_a[idx[idx < na]], sig_b[idx[idx >= na] - na]])  # idx increasing: a rows first

    pairs = _candidates(band_keys, gather, live, b, r, side, 64, threshold)
    pairs = np.column_stack([pairs[:, 0], pairs[:, 1] - na]) if len(pairs) else np.zeros((0, 2), dtype=np.int64)
    return _above(pairs, pair_jaccard(sig_a, sig_b, pairs), threshold)


def live_rows(sig: np.ndarray) -> np.ndarray:
    """Rows that are not an empty set's signature (all ``0xFFFFFFFF``), read in row blocks (a
    mapped matrix's pages dropped after each).

    Parameters
    ----------
    sig : ndarray of uint32, shape (n, num_perm); may be memory-mapped

    Returns
    -------
    ndarray of bool, shape (n,): True where the row has at least one shingle.
    """
    out = np.empty(sig.shape[0], dtype=bool)
    for lo in range(0, sig.shape[0], _ROW_BLOCK):
        out[lo:lo + _ROW_BLOCK] = ~(np.asarray(sig[lo:lo + _ROW_BLOCK]) == EMPTY).all(axis=1)
        release_mappings()
    return out


def signature_classes(sig: np.ndarray) -> np.ndarray:
    """Label of each row's signature: rows with identical signatures share a label.

    Parameters
    ----------
    sig : ndarray of uint32, shape (n, num_perm)

    Returns
    -------
    ndarray of int64, shape (n,): labels ``0..c-1`` (every one used) numbered in order of first
    occurrence, so they depend only on the signatures and the row order (not on blocks or
    chunking); ``-1`` for an empty set's row (all ``0xFFFFFFFF``), which has no twin.
    """
    n = sig.shape[0]
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    labels = np.full(n, -1, dtype=np.int64)
    # Rows compared by a 128-bit key (two polynomial row hashes) instead of their 4·num_perm bytes:
    # no copy of the matrix; two distinct signatures share a key with probability ~n^2 / 2^129.
    # Read in row blocks, a mapped matrix's pages dropped after each.
    mask, key_a, key_b = np.empty(n, dtype=bool), np.empty(n, dtype=np.uint64), np.empty(n, dtype=np.uint64)
    for lo in range(0, n, _ROW_BLOCK):
        block = np.asarray(sig[lo:lo + _ROW_BLOCK])
        mask[lo:lo + len(block)] = ~(block == EMPTY).all(axis=1)
        key_a[lo:lo + len(block)] = _row_keys(block)
        key_b[lo:lo + len(block)] = _row_keys(block, _MULT2)
        release_mappings()
    live = np.nonzero(mask)[0]
    if not live.size:
        return labels
    rows = np.empty(live.size, dtype=[("a", "<u8"), ("b", "<u8")])
    rows["a"] = key_a[live]
    rows["b"] = key_b[live]
    del key_a, key_b
    _, first, inv = np.unique(rows, return_index=True, return_inverse=True)
    rank = np.empty(first.size, dtype=np.int64)
    rank[np.argsort(first, kind="stable")] = np.arange(first.size)
    labels[live] = rank[inv.ravel()]
    return labels


def near_graph(sig: np.ndarray, threshold: float, bands: tuple[int, int] | None = None,
               max_group: int = 64) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Near-duplicate structure of one corpus without the square of its exact-copy clusters.

    Rows with identical signatures form a class (estimated Jaccard 1, so every two members are
    twins); banding runs on one representative per class and keeps class pairs whose estimate is
    ``>= threshold``. Two rows are near-duplicates (as :func:`near_pairs` would pair them, with no
    pruning) iff they share a class or their classes are paired.

    Returns
    -------
    labels : ndarray of int64, shape (n,)
        :func:`signature_classes` (``-1``: empty set).
    class_pairs : ndarray of int64, shape (k, 2), ``a < b``
    similarity : ndarray of float64, shape (k,)
    """
    if _shuffled(sig):
        from . import _lsh_shuffle

        return _lsh_shuffle.near_graph(sig, threshold, bands, max_group)
    labels = signature_classes(sig)
    reps = _first_members(labels)
    b, r = bands or optimal_bands(threshold, sig.shape[1])
    # banding on the representatives' rows, gathered band by band (no copy of their matrix)
    pairs = _candidates(lambda lo, hi: _row_keys(sig[reps, lo:hi]), lambda idx: sig[reps[idx]],
                        np.ones(reps.size, dtype=bool), b, r, None, max_group, threshold)
    kept, sim = _above(pairs, pair_jaccard(sig, sig, reps[pairs]), threshold)
    return labels, kept, sim


def graph_edges(labels: np.ndarray, class_pairs: np.ndarray) -> np.ndarray:
    """Row pairs with the connected components of the full near-duplicate graph of
    :func:`near_graph`: a star per class (its first row to each other member) and one edge per
    class pair between first rows. ``n - 1`` edges per class, not ``n^2``."""
    live = np.nonzero(labels >= 0)[0]
    if not live.size:
        return np.zeros((0, 2), dtype=np.int64)
    reps = _first_members(labels)
    hub = reps[labels[live]]
    star = np.column_stack([hub, live])[hub != live]
    return np.vstack([star, reps[class_pairs]]).astype(np.int64) if len(class_pairs) else star.astype(np.int64)


def _first_members(labels: np.ndarray) -> np.ndarray:
    """First row of each class ``0..c-1`` (classes are numbered by first occurrence, every number
    used)."""
    live = np.nonzero(labels >= 0)[0]
    _, first = np.unique(labels[live], return_index=True)
    return live[first].astype(np.int64)


def near_pair_count(labels: np.ndarray, class_pairs: np.ndarray) -> int:
    """Number of row pairs the graph of :func:`near_graph` stands for (what all pairs would give)."""
    sizes = np.bincount(labels[labels >= 0]) if (labels >= 0).any() else np.zeros(0, dtype=np.int64)
    within = int((sizes * (sizes - 1) // 2).sum())
    return within + int((sizes[class_pairs[:, 0]] * sizes[class_pairs[:, 1]]).sum()) if len(class_pairs) else within


_ROW_BLOCK = 1 << 16  # rows per block where a whole matrix is read
_MULT1 = np.uint64(0x9E3779B97F4A7C15)
_MULT2 = np.uint64(0xC2B2AE3D27D4EB4F)


def _row_keys(block: np.ndarray, mult: np.uint64 = _MULT1) -> np.ndarray:
    """A 64-bit key per row of a uint32 matrix (polynomial hash of its values)."""
    key = np.zeros(block.shape[0], dtype=np.uint64)
    with np.errstate(over="ignore"):
        for j in range(block.shape[1]):
            key = key * mult + block[:, j].astype(np.uint64)
    return key


def estimated_jaccard(sig_a: np.ndarray, sig_b: np.ndarray) -> np.ndarray:
    """Share of equal signature slots per row pair (the MinHash estimate of Jaccard similarity)."""
    return (sig_a == sig_b).mean(axis=1)


def pair_jaccard(sig_a: np.ndarray, sig_b: np.ndarray, pairs: np.ndarray, block: int = 1 << 16) -> np.ndarray:
    """:func:`estimated_jaccard` of ``sig_a[pairs[:, 0]]`` against ``sig_b[pairs[:, 1]]``, gathered
    ``block`` pairs at a time.

    The unblocked gather copies ``2 * k * num_perm * 4`` bytes plus a ``k * num_perm`` boolean matrix
    for ``k`` candidate pairs (at 128 permutations 1.1 KiB a pair: 1 GiB per million candidates);
    blocks bound that to ``block * num_perm * 9`` bytes (72 MiB at the defaults) and give the same
    values (tested). A mapped matrix's pages are dropped after each block.

    Parameters
    ----------
    sig_a, sig_b : ndarray of uint32, shape (n_a, num_perm) and (n_b, num_perm)
        May be memory-mapped; may be the same array.
    pairs : ndarray of int, shape (k, 2)
        Row of ``sig_a``, row of ``sig_b``.
    block : int, default 65536
        Pairs per gather.

    Returns
    -------
    ndarray of float64, shape (k,), in [0, 1]: share of equal slots; higher is more similar.
    """
    if _shuffled(sig_a, sig_b):
        from . import _lsh_shuffle

        return _lsh_shuffle.pair_jaccard(sig_a, sig_b, pairs)
    sim = np.empty(len(pairs), dtype=np.float64)
    for lo in range(0, len(pairs), block):
        p = pairs[lo:lo + block]
        sim[lo:lo + block] = estimated_jaccard(sig_a[p[:, 0]], sig_b[p[:, 1]])
        release_mappings()
    return sim


def _shuffled(*sigs) -> bool:
    """Whether the signatures are left on an executor's workers
    (:class:`._lsh_shuffle.ShuffledSignatures`); mixed with in-memory ones is an error.

    Raises
    ------
    ValueError
        If some are shuffled and some are not.
    """
    from ._lsh_shuffle import ShuffledSignatures  # imports this module: imported here

    kinds = {isinstance(s, ShuffledSignatures) for s in sigs}
    if len(kinds) > 1:
        raise ValueError("signatures must all be shuffled or all in memory (their blocks pair up)")
    return kinds == {True}


def _above(pairs: np.ndarray, sim: np.ndarray, threshold: float) -> tuple[np.ndarray, np.ndarray]:
    keep = sim >= threshold
    return pairs[keep], sim[keep]


def near_pairs(sig: np.ndarray, threshold: float, side: np.ndarray | None = None,
               bands: tuple[int, int] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Pairs with estimated Jaccard similarity ``>= threshold`` (banding, then the estimate).

    Parameters
    ----------
    sig : ndarray of uint32, shape (n, num_perm)
    threshold : float in (0, 1)
    side : ndarray of bool, shape (n,), optional
        Only pairs across sides (e.g. synthetic vs real stacked in one matrix).
    bands : (b, r), optional
        Default: :func:`optimal_bands` for ``threshold``.

    Returns
    -------
    pairs : ndarray of int64, shape (k, 2), ``i < j``
    similarity : ndarray of float64, shape (k,)
    """
    if _shuffled(sig):
        if side is not None:
            raise ValueError("near_pairs of shuffled signatures takes no side (use cross_pairs)")
        from . import _lsh_shuffle

        return _lsh_shuffle.near_pairs(sig, threshold, bands)
    b, r = bands or optimal_bands(threshold, sig.shape[1])
    pairs = band_candidates(sig, b, r, side, threshold=threshold)
    return _above(pairs, pair_jaccard(sig, sig, pairs), threshold)
