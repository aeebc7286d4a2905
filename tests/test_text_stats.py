"""Pure text statistics against reference implementations and brute force (no embedding model)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from synthproof import text as T
from synthproof.calibration import Empirical
from synthproof.checks.bias.text import centroid_shift
from synthproof.checks.diversity import _text_stats as D
from synthproof.checks.drift import _text_stats as M
from synthproof.checks.duplication import _minhash as MH
from synthproof.checks.duplication import _text_pairs as P
from synthproof.stats import similarity, tokens

WORDS = st.lists(st.sampled_from(list("abcdefg")), min_size=0, max_size=12)


def test_normalise_words_and_hash():
    assert T.normalise("  Ｃafé\tIS\n nice ") == "café is nice"
    assert T.words("Hello, WORLD! it's 2026") == ["hello", "world", "it", "s", "2026"]
    assert T.doc_hash("A  b") == T.doc_hash("a b") != T.doc_hash("a c")
    assert T.ngrams(["a", "b", "c"], 2) == [("a", "b"), ("b", "c")] and T.ngrams(["a"], 2) == []


def test_clean_texts_counts_every_kind_of_bad_value():
    values = ["good text here", None, float("nan"), "", "   ", 42, ["x"], b"caf\xe9 bytes", "bad \ufffd utf",
              "x" * 50]
    ts = T.clean_texts(values, max_chars=20)
    assert ts.counts == {"missing": 2, "non_string": 2, "empty_text": 2, "invalid_utf8": 2, "truncated": 1}
    assert ts.rows.tolist() == [0, 7, 8, 9] and ts.docs[-1] == "x" * 20 and ts.n_rows == 10


@given(st.lists(st.one_of(st.none(), st.text(max_size=30), st.integers()), max_size=40))
def test_clean_texts_partitions_the_rows(values):
    ts = T.clean_texts(values)
    c = ts.counts
    assert len(ts.docs) + c["missing"] + c["non_string"] + c["empty_text"] == len(values)
    assert all(d.strip() for d in ts.docs)


@given(st.lists(WORDS, min_size=1, max_size=8), st.integers(1, 4))
def test_vectorised_distinct_n_equals_reference(corpus, n):
    (codes,) = tokens.encode_corpora(corpus)
    c, doc = codes.take(np.arange(len(corpus)), codes.codes.size)
    ref = T.distinct_n(corpus, n)
    got = D.distinct_n_codes(c, doc, n)
    assert (np.isnan(ref) and np.isnan(got)) or got == pytest.approx(ref)


@given(st.lists(WORDS, min_size=1, max_size=8), st.integers(0, 40))
def test_take_tokens_takes_exactly_the_budget(corpus, budget):
    (codes,) = tokens.encode_corpora(corpus)
    order = np.arange(len(corpus))[::-1]
    c, doc = codes.take(order, budget)
    expected = T.take_tokens(corpus, order, budget)
    assert c.size == min(budget, sum(len(d) for d in corpus)) == sum(len(d) for d in expected)


def test_compression_ratio_orders_repetitive_text():
    varied = [" ".join(np.random.default_rng(i).choice(list("abcdefghijklmnop"), 30)) for i in range(200)]
    assert T.compression_ratio(["the same line again"] * 200, 4000) > 3 * T.compression_ratio(varied, 4000)
    assert T.compression_ratio(varied, 4000) == T.compression_ratio(varied, 4000)
    assert np.isnan(T.compression_ratio([], 100))


def test_repetition_rate_and_descriptors():
    assert T.repetition_rate(list("abcabcabc"), 3) == pytest.approx(1 - 3 / 7)
    assert T.repetition_rate(list("abcdef"), 3) == 0.0 and np.isnan(T.repetition_rate(["a"], 3))
    d = T.descriptors(["Hi there, you!", "!!!"], [["hi", "there", "you"], []])
    assert d.n_chars.tolist() == [14, 3] and d.n_words.tolist() == [3, 0]
    assert d.type_token_ratio[0] == 1.0 and np.isnan(d.type_token_ratio[1])
    assert d.non_alpha_share.tolist() == pytest.approx([2 / 12, 1.0])


def test_vendi_score_matches_the_primal_form():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, 8))
    u = x / np.linalg.norm(x, axis=1, keepdims=True)
    lam = np.linalg.eigvalsh(u @ u.T / 60)
    lam = lam[lam > 1e-12]
    assert D.vendi_score(x) == pytest.approx(np.exp(-(lam * np.log(lam)).sum()), rel=1e-9)
    assert D.vendi_score(np.ones((10, 4))) == pytest.approx(1.0)
    assert D.vendi_score(np.eye(6)) == pytest.approx(6.0)


def test_mean_pairwise_cosine_matches_brute_force():
    x = np.random.default_rng(1).normal(size=(30, 5))
    u = x / np.linalg.norm(x, axis=1, keepdims=True)
    s = u @ u.T
    assert similarity.mean_pairwise_cosine(x) == pytest.approx((s.sum() - 30) / (30 * 29))


def test_mmd_matches_sklearn_rbf_and_permutation_null():
    from scipy.spatial.distance import pdist
    from sklearn.metrics.pairwise import rbf_kernel

    rng = np.random.default_rng(2)
    x, y = rng.normal(size=(40, 3)), rng.normal(0.5, 1, size=(30, 3))
    z = np.vstack([x, y])
    assert M.median_bandwidth(z) == pytest.approx(np.median(pdist(z)))
    bw = 1.3
    g = 1 / (2 * bw * bw)
    ref = rbf_kernel(x, x, gamma=g).mean() + rbf_kernel(y, y, gamma=g).mean() - 2 * rbf_kernel(x, y, gamma=g).mean()
    assert M.mmd2(x, y, bw) == pytest.approx(ref)
    obs, null, used = M.mmd2_permutation_test(x, y, 300, np.random.default_rng(0), bandwidth=bw, chunk=64)
    assert obs == pytest.approx(ref) and used == bw and null.shape == (300,)
    # every permutation statistic is an MMD of a relabelled split
    perm_rng = np.random.default_rng(0)
    w = np.concatenate([np.full(40, 1 / 40), np.full(30, -1 / 30)])
    first = w[perm_rng.permutation(70)]
    assert null[0] == pytest.approx(M.mmd2(z[first > 0], z[first < 0], bw))
    assert M.mmd2(x, x, bw) == pytest.approx(0.0, abs=1e-12)


def test_empirical_null_counts_the_observed_statistic():
    null = Empirical(np.arange(99.0))
    assert null.sf(1000.0) == pytest.approx(1 / 100) and null.sf(98.0) == pytest.approx(2 / 100)
    assert null.sf(-1.0) == 1.0 and null.ppf(0.5) == pytest.approx(49.0)


def test_minhash_signatures_equal_datasketch():
    from datasketch import MinHash

    corpus = [["a", "b", "c", "d"], ["a", "b", "c", "e"], [], ["x"]]
    (codes,) = tokens.encode_corpora(corpus)
    h, starts = MH.shingle_hashes(codes, 2)
    sig = MH.signatures(h, starts, num_perm=64, seed=1)
    for i in range(len(corpus)):
        m = MinHash(num_perm=64, seed=1, hashfunc=int, scheme="affine32")
        m.update_batch(h[starts[i]:starts[i + 1]].tolist())
        assert np.array_equal(np.asarray(m.hashvalues, dtype=np.uint32), sig[i]), i
    assert (sig[2] == MH.EMPTY).all() and starts[4] - starts[3] == 1  # a 1-word text is one shingle


def test_optimal_bands_match_datasketch():
    from datasketch.lsh import _optimal_param

    for threshold, num_perm in [(0.5, 128), (0.8, 128), (0.7, 64)]:
        assert MH.optimal_bands(threshold, num_perm) == _optimal_param(threshold, num_perm, 0.5, 0.5)


def test_near_pairs_find_small_edits_and_not_strangers(fortunes):
    rng = np.random.default_rng(3)
    docs = [T.words(t) for t in fortunes.text if 25 <= len(T.words(t)) <= 45][:400]
    edited = []
    for d in docs[:100]:
        d = list(d)
        for p in rng.choice(len(d), 2, replace=False):
            d[p] = "zzedit" + str(p)
        edited.append(d)
    (codes,) = tokens.encode_corpora(docs + edited)
    sig = MH.signatures(*MH.shingle_hashes(codes, 2))
    side = np.arange(len(docs) + len(edited)) >= len(docs)
    pairs, sim = MH.near_pairs(sig, 0.5, side=side)
    planted = {(i, len(docs) + i) for i in range(100)}
    found = set(map(tuple, pairs.tolist()))
    assert len(planted & found) >= 97 and (sim >= 0.5).all()
    assert len(found - planted) <= 3  # fortunes has a few real repeats
    assert MH.near_pairs(sig[:0], 0.5)[0].shape == (0, 2)


def test_pair_rates_against_brute_force():
    pairs = np.array([[0, 1], [2, 5], [3, 4]])
    assert P.twin_rate(pairs, 6, np.array([0, 1, 2, 3])) == pytest.approx(0.5)
    assert P.hash_twin_rate(np.array([b"a", b"b", b"a", b"c"]), np.array([0, 1, 2])) == pytest.approx(2 / 3)
    cross = np.array([[0, 2], [1, 3], [1, 0]])
    assert P.cross_rate(cross, np.array([0, 1]), np.array([2]), 2, 4) == 0.5
    assert P.cross_rate(cross, np.array([0, 1]), np.array([0, 3]), 2, 4) == 0.5
    assert np.isnan(P.twin_rate(pairs, 6, np.array([], dtype=int)))


@given(st.lists(WORDS, min_size=1, max_size=6), st.lists(WORDS, min_size=1, max_size=6), st.integers(1, 3))
def test_shared_ngram_pairs_against_brute_force(q, r, n):
    cq, cr = tokens.encode_corpora(q, r)
    expected = {(i, j) for i, a in enumerate(q) for j, b in enumerate(r) if set(T.ngrams(a, n)) & set(T.ngrams(b, n))}
    within = {(i, j) for i, a in enumerate(r) for j, b in enumerate(r) if i < j and set(T.ngrams(a, n)) & set(T.ngrams(b, n))}
    for prefilter in (False, True):
        got = P.shared_ngram_pairs(P.doc_ngram_keys(cq, n), P.doc_ngram_keys(cr, n), prefilter=prefilter)
        assert set(map(tuple, got.tolist())) == expected
        kr = P.doc_ngram_keys(cr, n)
        got = P.shared_ngram_pairs(kr, kr, same=True, prefilter=prefilter)
        assert set(map(tuple, got.tolist())) == within


@pytest.mark.parametrize("same", [False, True])
def test_shared_ngram_pairs_prefilter_equals_direct_join(same):
    """Many keys, few shared (some past the fan-out limit): the sorted prefilter gives the direct join's pairs."""
    rng = np.random.default_rng(3)
    rk = rng.integers(0, 2**63, 200_000, dtype=np.int64).astype(np.uint64)
    rd = rng.integers(0, 5_000, rk.size)
    shared = rk[rng.integers(0, rk.size, 3_000)]
    rk = np.concatenate([rk, shared, np.repeat(shared[:5], 40)])  # five boilerplate keys in 41+ documents
    rd = np.concatenate([rd, rng.integers(0, 5_000, shared.size + 200)])
    qk = rk if same else np.concatenate([rng.integers(0, 2**63, 150_000, dtype=np.int64).astype(np.uint64), shared])
    qd = rd if same else rng.integers(0, 4_000, qk.size)
    direct = P.shared_ngram_pairs((qk, qd), (rk, rd), same=same, max_fanout=30, prefilter=False)
    fast = P.shared_ngram_pairs((qk, qd), (rk, rd), same=same, max_fanout=30, prefilter=True)
    assert len(direct) > 1_000 and np.array_equal(fast, direct)
    with pytest.MonkeyPatch.context() as mp:  # the expansion deduplicated in blocks of 97 rows
        mp.setattr(P, "_JOIN_BLOCK", 97)
        assert np.array_equal(P.shared_ngram_pairs((qk, qd), (rk, rd), same=same, max_fanout=30), direct)


def test_common_keys_and_in_sorted():
    rng = np.random.default_rng(4)
    a = rng.integers(0, 2**63, 50_000, dtype=np.int64).astype(np.uint64)
    b = np.concatenate([rng.integers(0, 2**63, 50_000, dtype=np.int64).astype(np.uint64), a[:700], a[:10]])
    common = P.common_keys(a, b)
    assert np.array_equal(common, np.intersect1d(a, b))
    assert np.array_equal(P.common_keys(b, b, same=True), np.unique(a[:10]))
    assert np.array_equal(P.in_sorted(b, common), np.isin(b, common))
    assert not P.in_sorted(b, common[:0]).any()


def test_clusters_and_centroid_shift():
    labels, sizes = P.clusters(np.array([[0, 1], [1, 2], [4, 5]]), 6)
    assert labels[0] == labels[2] != labels[4] and sorted(sizes.tolist()) == [1, 2, 3]
    x = np.eye(3)
    assert centroid_shift(x, x) == 0.0 and centroid_shift(x[:1], x[1:2]) == pytest.approx(2.0)
