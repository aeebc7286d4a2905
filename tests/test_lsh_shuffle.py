"""The keyed shuffle of LSH (``checks/duplication/_lsh_shuffle.py``): signatures left in blocks
give the in-memory near-duplicate structure exactly, whatever the blocks."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from synthproof.checks.duplication import _lsh_shuffle as LS
from synthproof.checks.duplication import _minhash as mh


class InProcess:
    """The engine protocol run in this process; every argument must pickle (as Ray would send it),
    and jobs run in reverse order (results must not depend on it)."""

    def __init__(self) -> None:
        self.calls = {"map": 0, "tasks": 0, "lazy": 0}

    def _run(self, jobs, call):
        for arg, _ in jobs:
            pickle.dumps(arg)
        out = [call(arg, hs) for arg, hs in reversed(jobs)]
        return out[::-1]

    def map(self, fn, jobs, num_returns):
        self.calls["map"] += len(jobs)
        out = self._run(jobs, lambda arg, hs: list(fn(arg, *hs)))
        assert all(len(o) == num_returns for o in out)
        return out

    def tasks(self, fn, jobs):
        self.calls["tasks"] += len(jobs)
        return self._run(jobs, lambda arg, hs: fn(arg, *hs))

    def lazy(self, fn, jobs):
        self.calls["lazy"] += len(jobs)
        return self._run(jobs, lambda arg, hs: fn(arg, [lambda h=h: h for h in hs]))


def blocks(sig: np.ndarray, cuts: list[int], engine) -> LS.ShuffledSignatures:
    """``sig`` cut at ``cuts`` (sorted, repeats = empty blocks) into blocks of bytes."""
    edges = [0] + list(cuts) + [len(sig)]
    parts = [np.ascontiguousarray(sig[a:b]) for a, b in zip(edges[:-1], edges[1:])]
    return LS.ShuffledSignatures([p.tobytes() for p in parts], edges[:-1], [len(p) for p in parts], sig.shape[1],
                                 engine)


def corpus(seed: int, n: int, num_perm: int = 16, big: int = 0) -> np.ndarray:
    """Signatures with exact twins, near-duplicates (a few slots changed), empty sets and, with
    ``big``, a group of ``big`` rows sharing their first half of the slots (estimated Jaccard
    0.5 between any two; a giant bucket in every band of that half)."""
    rng = np.random.default_rng(seed)
    sig = rng.integers(0, 2**32 - 1, size=(n, num_perm), dtype=np.uint32)
    for i in range(1, n):
        r = rng.random()
        src = int(rng.integers(0, i))
        if r < 0.15:
            sig[i] = sig[src]
        elif r < 0.4:
            sig[i] = sig[src]
            k = int(rng.integers(1, num_perm))
            cols = rng.choice(num_perm, size=k, replace=False)
            sig[i, cols] = rng.integers(0, 2**32 - 1, size=k, dtype=np.uint32)
        elif r < 0.45:
            sig[i] = mh.EMPTY
    if big:
        rows = rng.choice(n, size=min(big, n), replace=False)
        sig[rows] = rng.integers(0, 2**32 - 1, size=(len(rows), num_perm), dtype=np.uint32)
        sig[rows, : num_perm // 2] = sig[rows[0], : num_perm // 2]
    return sig


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(0, 120), data=st.data(),
       threshold=st.sampled_from([0.3, 0.5, 0.8]), max_group=st.sampled_from([2, 3, 64]))
def test_near_graph_equals_in_memory(seed, n, data, threshold, max_group):
    sig = corpus(seed, n)
    cuts = sorted(data.draw(st.lists(st.integers(0, n), max_size=6)))
    want = mh.near_graph(sig, threshold, bands=(4, 4), max_group=max_group)
    got = mh.near_graph(blocks(sig, cuts, InProcess()), threshold, bands=(4, 4), max_group=max_group)
    for w, g in zip(want, got):
        assert w.dtype == g.dtype and w.shape == g.shape
        np.testing.assert_array_equal(w, g)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), na=st.integers(0, 80), nb=st.integers(0, 80), data=st.data(),
       threshold=st.sampled_from([0.3, 0.5, 0.8]))
def test_cross_pairs_and_pair_jaccard_equal_in_memory(seed, na, nb, data, threshold):
    both = corpus(seed, na + nb)
    a, b = both[:na], both[na:]
    eng = InProcess()
    sa = blocks(a, sorted(data.draw(st.lists(st.integers(0, na), max_size=4))), eng)
    sb = blocks(b, sorted(data.draw(st.lists(st.integers(0, nb), max_size=4))), eng)
    want = mh.cross_pairs(a, b, threshold, bands=(4, 4))
    got = mh.cross_pairs(sa, sb, threshold, bands=(4, 4))
    np.testing.assert_array_equal(want[0], got[0])
    np.testing.assert_array_equal(want[1], got[1])
    if na and nb:
        rng = np.random.default_rng(seed)
        pairs = np.column_stack([rng.integers(0, na, 50), rng.integers(0, nb, 50)])
        np.testing.assert_array_equal(mh.pair_jaccard(a, b, pairs), mh.pair_jaccard(sa, sb, pairs))


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(0, 120), data=st.data())
def test_near_pairs_equal_in_memory(seed, n, data):
    sig = corpus(seed, n)
    s = blocks(sig, sorted(data.draw(st.lists(st.integers(0, n), max_size=5))), InProcess())
    for w, g in zip(mh.near_pairs(sig, 0.5, bands=(4, 4)), mh.near_pairs(s, 0.5, bands=(4, 4))):
        np.testing.assert_array_equal(w, g)


def test_signature_classes_equal_in_memory_at_default_size():
    sig = corpus(7, 3000, num_perm=128)
    labels, firsts = LS.signature_classes(blocks(sig, [500, 500, 1700, 2999], InProcess()))
    want = mh.signature_classes(sig)
    np.testing.assert_array_equal(labels, want)
    np.testing.assert_array_equal(firsts, mh._first_members(want))
    assert (labels == -1).sum() > 0 and labels.max() < len(sig) - 100  # empty sets and twins present


@pytest.mark.parametrize("cuts", [[], [90], [10, 150, 151, 299]])
def test_giant_bucket_goes_to_one_tiled_task_and_gives_the_same_pairs(cuts):
    """A band bucket of 200 rows (> 64) is never expanded into its 19,900 pairs: its members go to
    one task that keeps only the pairs at the threshold (the skew guard)."""
    sig = corpus(3, 300, num_perm=128, big=200)
    eng = InProcess()
    s = blocks(sig, cuts, eng)
    want = mh.near_graph(sig, 0.5)
    for w, g in zip(want, mh.near_graph(s, 0.5)):
        np.testing.assert_array_equal(w, g)
    assert len(want[1]) >= 200 * 199 // 2  # every pair of the bucket, found only by comparing signatures
    na = 120
    sa = blocks(sig[:na], [c for c in cuts if c < na], eng)
    sb = blocks(sig[na:], [c - na for c in cuts if c >= na], eng)
    for w, g in zip(mh.cross_pairs(sig[:na], sig[na:], 0.5), mh.cross_pairs(sa, sb, 0.5)):
        np.testing.assert_array_equal(w, g)
    assert eng.calls["lazy"] > 0


def test_large_group_tasks_see_only_their_blocks():
    """A verification task is handed the blocks its rows lie in, not every block."""
    sig = corpus(11, 400, num_perm=32)
    handed = []

    class Counting(InProcess):
        def lazy(self, fn, jobs):
            handed.extend(len(hs) for _, hs in jobs)
            return super().lazy(fn, jobs)

    s = blocks(sig, list(range(40, 400, 40)), Counting())
    mh.near_graph(s, 0.5, bands=(8, 4))
    assert handed and max(handed) <= len(s.blocks) + 1 and min(handed) < len(s.blocks)


def test_mixed_kinds_refused():
    sig = corpus(1, 20)
    s = blocks(sig, [5], InProcess())
    with pytest.raises(ValueError, match="all be shuffled or all in memory"):
        mh.cross_pairs(s, sig, 0.5)
    with pytest.raises(ValueError, match="takes no side"):
        mh.near_pairs(s, 0.5, side=np.zeros(20, bool))


def test_minhash_tap_shards_left_as_blocks_give_the_corpus_near_duplicates(fortunes):
    """Real text: the MinHash tap of shards (split_state -> shuffled -> merge, as a Ray scan and
    the driver's merge do it) gives the near-duplicate structure of the whole corpus's tap."""
    from synthproof.checks.duplication._taps import MinHashTap
    from synthproof.corpus import Resources, build_corpus, frame_values

    text = fortunes.text.to_numpy(dtype=object)
    real = text[:3000]
    syn = np.concatenate([real[:150], real[:40], text[4000:5200]])  # copies and twins
    res = Resources(1 << 34)
    eng = InProcess()
    key = MinHashTap.key_of(ngram=2, num_perm=128)

    def tap(values):
        return build_corpus(frame_values(values, 400), [MinHashTap(res, ngram=2, num_perm=128)]).taps[key]

    def sharded(values, cuts):
        parts, offsets, lo = [], [], 0
        for hi in [*cuts, len(values)]:
            out = tap(values[lo:hi])
            (blob,) = MinHashTap.split_state(out)
            parts.append(MinHashTap.shuffled([blob], eng, MinHashTap.keyed_stub(out)))
            offsets.append(lo)
            lo = hi
        return MinHashTap.merge(parts, offsets)

    r, s = tap(real), tap(syn)
    rs, ss = sharded(real, [1000, 1000, 2999]), sharded(syn, [700])
    assert isinstance(rs, LS.ShuffledSignatures) and rs.shape == r.shape and list(rs.counts) == [1000, 0, 1999, 1]
    want = mh.near_graph(s, 0.5)
    assert len(want[1]) or (want[0] >= 0).sum() > len(np.unique(want[0][want[0] >= 0]))
    for w, g in zip(want, mh.near_graph(ss, 0.5)):
        np.testing.assert_array_equal(w, g)
    want = mh.cross_pairs(s, r, 0.5)
    assert len(want[0]) >= 150
    for w, g in zip(want, mh.cross_pairs(ss, rs, 0.5)):
        np.testing.assert_array_equal(w, g)
    for w, g in zip(mh.near_pairs(r, 0.5), mh.near_pairs(rs, 0.5)):
        np.testing.assert_array_equal(w, g)
