"""MinHash accuracy on real text: the signature estimate against exact Jaccard similarity of the
same shingle sets, per Jaccard bucket; and near-duplicate rates on samples against brute force."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from synthproof.checks.duplication import _minhash as MH
from synthproof.checks.duplication import _text_pairs as P
from synthproof.datasets import load
from synthproof.stats.tokens import encode_corpora
from synthproof.text import words

BUCKETS = [(0.1, 0.3), (0.3, 0.5), (0.5, 0.7), (0.7, 0.95)]


def _edited_pairs(n_pairs: int = 3200, seed: int = 0):
    """Real documents (fortunes and the SmolLM2 corpus, 15-200 words) paired with a copy in which
    2-45% of the words are replaced by vocabulary words: exact Jaccard spread over (0, 1)."""
    docs = [words(t) for t in list(load("fortunes").text) + list(load("fortunes_smollm2").text)]
    docs = [d for d in docs if 15 <= len(d) <= 200]
    rng = np.random.default_rng(seed)
    vocab = sorted({w for d in docs for w in d})
    base, edited = [], []
    for i in rng.choice(len(docs), n_pairs, replace=False):
        d, e = docs[i], list(docs[i])
        k = max(1, int(round(rng.uniform(0.02, 0.45) * len(e))))
        for p in rng.choice(len(e), k, replace=False):
            e[p] = vocab[int(rng.integers(len(vocab)))]
        base.append(d)
        edited.append(e)
    return base, edited


def _bias(h32: np.ndarray, starts: np.ndarray, exact: np.ndarray, n: int) -> dict:
    sig = MH.signatures(h32, starts, num_perm=128, seed=1)
    est = MH.estimated_jaccard(sig[:n], sig[n:])
    out = {}
    for lo, hi in BUCKETS:
        m = (exact >= lo) & (exact < hi)
        out[(lo, hi)] = (int(m.sum()), float(np.mean(est[m] - exact[m])))
    return out


def _exact(h32, starts, n):
    sets = [set(h32[starts[i]:starts[i + 1]].tolist()) for i in range(2 * n)]
    return np.array([len(sets[i] & sets[n + i]) / len(sets[i] | sets[n + i]) for i in range(n)])


def test_minhash_estimate_is_unbiased_per_jaccard_bucket():
    base, edited = _edited_pairs()
    n = len(base)
    (codes,) = encode_corpora(base + edited)
    h32, starts = MH.shingle_hashes(codes, 2)
    for (lo, hi), (count, bias) in _bias(h32, starts, _exact(h32, starts, n), n).items():
        assert count >= 200, (lo, hi, count)
        assert abs(bias) <= 0.01, (lo, hi, bias)


def test_the_bias_check_catches_a_badly_mixed_key():
    """The same measurement fails on keys that collide (the top 6 bits of the polynomial key: 64
    values, so distinct 2-grams collide), so the test above can fail."""
    base, edited = _edited_pairs(1200, seed=1)
    n = len(base)
    (codes,) = encode_corpora(base + edited)
    keys, owner = P.doc_ngram_keys(codes, 2)
    h32, starts = MH.shingle_hashes(codes, 2)
    exact = _exact(h32, starts, n)
    bad = (keys >> np.uint64(58)).astype(np.uint32)
    order = np.lexsort((bad, owner))
    o, v = owner[order], bad[order]
    keep = np.ones(v.size, dtype=bool)
    keep[1:] = (o[1:] != o[:-1]) | (v[1:] != v[:-1])
    st = np.searchsorted(o[keep], np.arange(2 * n + 1)).astype(np.int64)
    assert max(abs(b) for _, b in _bias(v[keep], st, exact, n).values()) > 0.05


def _clustered_corpus(seed: int = 0):
    """Fortunes plus 3 x 200 near-copies (3 words replaced) of three 30+-word fortunes: band
    groups far above ``max_group``."""
    docs = [words(t) for t in load("fortunes").text]
    rng = np.random.default_rng(seed)
    for src in rng.choice([i for i, d in enumerate(docs) if len(d) >= 30], 3, replace=False):
        for _ in range(200):
            d = list(docs[src])
            for p in rng.choice(len(d), 3, replace=False):
                d[p] = f"zz{int(rng.integers(10**6))}"
            docs.append(d)
    (codes,) = encode_corpora(docs)
    return MH.signatures(*MH.shingle_hashes(codes, 2))


def _brute_twin_rate(sig: np.ndarray, sample: np.ndarray, threshold: float) -> float:
    """Share of the sample with another sampled document at estimated Jaccard >= threshold among
    the banding candidates of the sample (every pair of every band group, no pruning)."""
    b, r = MH.optimal_bands(threshold, sig.shape[1])
    sub = sig[sample]
    pairs = MH.band_candidates(sub, b, r, max_group=10**9)
    sim = MH.estimated_jaccard(sub[pairs[:, 0]], sub[pairs[:, 1]])
    return P.twin_rate(pairs[sim >= threshold], sample.size, np.arange(sample.size))


def test_sample_twin_rate_equals_brute_force_within_the_sample():
    sig = _clustered_corpus()
    n = len(sig)
    b, r = MH.optimal_bands(0.5, 128)
    sizes = [np.unique(MH._row_keys(sig[:, k * r:(k + 1) * r]), return_counts=True)[1].max() for k in range(b)]
    assert max(sizes) > 64  # the pruning regime of band_candidates
    labels, cpairs, _ = MH.near_graph(sig, 0.5)
    rng = np.random.default_rng(7)
    for m in (300, 1000):
        for _ in range(3):
            s = rng.permutation(n)[:m]
            assert P.class_twin_rate(labels, cpairs, s) == _brute_twin_rate(sig, s, 0.5)
    full = np.arange(n)
    for mg in (2, 64, 10**9):
        lab, cp, _ = MH.near_graph(sig, 0.5, max_group=mg)
        assert P.class_twin_rate(lab, cp, full) == P.class_twin_rate(labels, cpairs, full)
    pairs, _ = MH.near_pairs(sig, 0.5)
    assert MH.near_pair_count(labels, cpairs) == len(pairs)
    assert P.twin_rate(pairs, n, full) == P.class_twin_rate(labels, cpairs, full)


def test_near_pairs_do_not_depend_on_max_group():
    sig = _clustered_corpus(1)
    b, r = MH.optimal_bands(0.5, 128)
    got = [MH.band_candidates(sig, b, r, max_group=mg, threshold=0.5) for mg in (8, 64, 10**9)]
    sims = [MH.estimated_jaccard(sig[p[:, 0]], sig[p[:, 1]]) for p in got]
    kept = [set(map(tuple, p[s >= 0.5].tolist())) for p, s in zip(got, sims)]
    assert kept[0] == kept[1] == kept[2]


def test_class_twin_rate_against_pairs():
    labels = np.array([0, 0, 1, 2, 3, -1, 3])
    cp = np.array([[1, 2]])
    assert P.class_twin_rate(labels, cp, np.array([0, 1, 2, 5])) == pytest.approx(0.5)
    assert P.class_twin_rate(labels, cp, np.array([0, 2, 3, 4])) == pytest.approx(0.5)
    assert P.class_twin_rate(labels, cp, np.array([4, 6, 5])) == pytest.approx(2 / 3)
    assert np.isnan(P.class_twin_rate(labels, cp, np.array([], dtype=int)))
    sig = np.array([[1, 2], [1, 2], [0xFFFFFFFF] * 2, [0xFFFFFFFF] * 2, [3, 2]], dtype=np.uint32)
    lab = MH.signature_classes(sig)
    assert lab.tolist() == [0, 0, -1, -1, 1]
    assert MH.graph_edges(lab, np.array([[0, 1]])).tolist() == [[0, 1], [0, 4]]
    assert MH.near_pair_count(lab, np.array([[0, 1]])) == 3


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 300), st.integers(1, 70), st.integers(0, 2**32 - 1))
def test_blockwise_pair_jaccard_equals_the_whole_gather(k, block, seed):
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 4, size=(40, 16), dtype=np.uint32)
    b = rng.integers(0, 4, size=(25, 16), dtype=np.uint32)
    pairs = np.column_stack([rng.integers(0, 40, k), rng.integers(0, 25, k)]).astype(np.int64)
    whole = MH.estimated_jaccard(a[pairs[:, 0]], b[pairs[:, 1]])
    got = MH.pair_jaccard(a, b, pairs, block=block)
    assert got.dtype == np.float64 and got.shape == (k,)
    assert np.array_equal(got, whole)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(0, 9), min_size=0, max_size=200), st.integers(0, 2**32 - 1))
def test_cluster_members_in_cluster_order_then_row_order(labels, seed):
    from synthproof.checks.duplication.text import _cluster_members

    labels = np.array(labels, dtype=np.int64)
    present = np.unique(labels)
    order = np.random.default_rng(seed).permutation(present)[: max(1, present.size // 2)] if present.size \
        else np.zeros(0, dtype=np.int64)
    want = np.concatenate([np.nonzero(labels == c)[0] for c in order]) if order.size else np.zeros(0, int)
    assert _cluster_members(labels, order).tolist() == want.tolist()


@settings(max_examples=40, deadline=None)
@given(st.integers(2, 60), st.integers(0, 2**32 - 1), st.booleans())
def test_band_candidates_are_the_pairs_sharing_a_band(n, seed, with_side):
    rng = np.random.default_rng(seed)
    sig = rng.integers(0, 3, size=(n, 8), dtype=np.uint32)  # 4 bands of 2: many groups of 2 and more
    side = rng.random(n) < 0.5 if with_side else None
    got = MH.band_candidates(sig, 4, 2, side, max_group=10**9)
    want = sorted((i, j) for i in range(n) for j in range(i + 1, n)
                  if any((sig[i, b * 2:b * 2 + 2] == sig[j, b * 2:b * 2 + 2]).all() for b in range(4))
                  and (side is None or side[i] != side[j]))
    assert [tuple(p) for p in got.tolist()] == want
