"""synthproof.stats.rowhashes: the keyed counts on spilled partitions equal the whole-array ones."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from synthproof.stats import rowhashes as RH
from synthproof.stats.duplicates import expected_duplicate_rate

# a few distinct values spread over the whole 64-bit range (so over many partitions), drawn with repeats
_VALUES = np.random.default_rng(7).integers(0, 2**64 - 1, size=40, dtype=np.uint64, endpoint=True)


def _side(h: np.ndarray, spill_dir, chunk: int) -> RH.SideHashes:
    if spill_dir is None:
        return RH.SideHashes.of(h)
    side = RH.SideHashes(len(h), str(spill_dir))
    for lo in range(0, len(h), chunk):
        side.put(lo, h[lo:lo + chunk])
    side.finish()
    return side


def _local_reduce(fn, arg, parts):
    return [fn(arg, *sides) for sides in parts]


def _shuffled(h: np.ndarray, chunk: int) -> RH.ShuffledHashes:
    """The side as a keyed shuffle leaves it: shards of ``chunk`` rows, each split by partition."""
    parts = [[] for _ in range(RH.PARTITIONS)]
    for lo in range(0, len(h), chunk):
        got = dict(RH.split(lo, h[lo:lo + chunk]))
        for p in range(RH.PARTITIONS):
            parts[p].append(got[p].tobytes() if p in got else b"")
    return RH.ShuffledHashes(len(h), parts, _local_reduce)


hashes = st.lists(st.integers(0, len(_VALUES) - 1), min_size=1, max_size=300).map(lambda ix: _VALUES[ix])


@settings(max_examples=60, deadline=None)
@given(hashes, hashes, st.integers(1, 97), st.integers(0, 2**32 - 1))
def test_spilled_counts_equal_the_whole_array(tmp_path_factory, hq, hr, chunk, seed):
    d = tmp_path_factory.mktemp("spill")
    mask = np.random.default_rng(seed).random(len(hq)) < 0.5
    picked = np.nonzero(mask)[0]
    uq, inv, cnt = np.unique(hq, return_inverse=True, return_counts=True)
    want_top = np.nonzero(cnt[inv] > 1)[0]
    want_top = want_top[np.lexsort((want_top, -cnt[inv][want_top]))]
    hit = np.isin(hq, hr)
    mults = np.unique(hr, return_counts=True)[1]
    for spill in (None, d, "shuffled"):
        q, r = (_shuffled(hq, chunk), _shuffled(hr, chunk)) if spill == "shuffled" else \
            (_side(hq, spill, chunk), _side(hr, spill, chunk))
        assert q.spilled == (spill is not None)
        assert RH.distinct(q) == uq.size
        assert RH.distinct(q, picked) == np.unique(hq[mask]).size
        assert RH.distinct_among(q, [picked, None, picked[:1]]) == [np.unique(hq[mask]).size, uq.size,
                                                                      np.unique(hq[picked[:1]]).size]
        assert RH.repeated_rows(q) == int((cnt[inv] > 1).sum())
        for k in (1, 5, 1000):
            assert RH.top_repeats(q, k).tolist() == want_top[:k].tolist()
        for k in (0, 2, 1000):
            n, rec, first = RH.copied_rows(q, r, k)
            assert n == int(hit.sum()) and rec == np.unique(hq[hit]).size
            assert first.tolist() == np.nonzero(hit)[0][:k].tolist()
        c, w = RH.multiplicity_histogram(r)
        assert np.repeat(c, w).tolist() == sorted(mults.tolist())
        for draw in {1, len(hr) // 2 or 1, len(hr)}:
            assert expected_duplicate_rate(c, draw, weights=w) == pytest.approx(
                expected_duplicate_rate(mults, draw), rel=1e-12, abs=1e-15)
        q.remove()
        r.remove()


def test_spilled_rows_must_arrive_in_order(tmp_path):
    side = RH.SideHashes(10, str(tmp_path))
    side.put(0, _VALUES[:4])
    with pytest.raises(ValueError, match="row order"):
        side.put(6, _VALUES[:4])
    side.remove()
    assert not list(tmp_path.iterdir())


def test_sides_must_both_spill_or_neither(tmp_path):
    with pytest.raises(ValueError, match="both sides"):
        RH.copied_rows(RH.SideHashes.of(_VALUES[:3]), _side(_VALUES[:3], tmp_path, 2), 1)
    with pytest.raises(ValueError, match="both sides"):
        RH.copied_rows(_shuffled(_VALUES[:3], 2), _side(_VALUES[:3], tmp_path, 2), 1)
