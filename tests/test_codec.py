"""The shard-state codec (no pickle) and the pieces shard states rest on: every stored form round
trips bit for bit, unknown forms are refused, spans of any cut read exactly the whole input, scans
merged from any split equal one scan, and the priority bound keeps every row of the bottom k."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

from synthproof.errors import InputError
from synthproof.plan import codec
from synthproof.plan.columns import Chunk, ColumnScan
from synthproof.plan.shards import priority_bound, span_of
from synthproof.sampling import priorities, sample_key
from synthproof.sources import iter_batches
from synthproof.states import read_state_bytes, state_bytes, StateHeader


def _roundtrip(obj):
    tree, arrays = codec.encode(obj)
    header = StateHeader(0, 1, "c", 0, {}, meta={"tree": tree})
    h, a = read_state_bytes(state_bytes(header, arrays), "x")  # through the file format, JSON and all
    return codec.decode(h.meta["tree"], a)


def test_every_form_round_trips():
    table = pa.table({"a": [1, None, 3], "b": ["x", None, "é"], "c": pa.array([[1], [], None])})
    obj = {"f": [0.1, float("nan"), float("inf"), -0.0, 1e-310], "i": 2**63 + 5, "neg": -3, "s": "ü", "n": None,
           "b": True, "t": (1, "a", None), ("k", 1): "tuple key", 7: "int key",
           "u8": np.arange(5, dtype=np.uint8), "f32": np.array([[1.5, np.nan]], dtype=np.float32),
           "u64": np.array([2**64 - 1], dtype=np.uint64), "bool": np.array([True, False]),
           "digests": np.array([b"\x00" * 16, b"\xff" * 16], dtype="S16"), "labels": np.array(["a", None], dtype=object),
           "table": table, "cat": pd.Categorical(["b", "a", None, "b"]), "err": InputError("bad shard")}
    got = _roundtrip(obj)
    assert set(got) == set(obj)
    assert [repr(x) for x in got["f"]] == [repr(x) for x in obj["f"]]  # NaN, inf and -0.0 bit for bit
    assert got["i"] == obj["i"] and got["t"] == obj["t"] and got[("k", 1)] == "tuple key" and got[7] == "int key"
    for k in ("u8", "f32", "u64", "bool"):
        assert got[k].dtype == obj[k].dtype and np.array_equal(got[k], obj[k], equal_nan=k == "f32")
    assert got["digests"].dtype == np.dtype("S16") and (got["digests"] == obj["digests"]).all()
    assert got["labels"].tolist() == ["a", None]
    assert got["table"].equals(table)
    assert got["cat"].tolist()[:2] == ["b", "a"] and pd.isna(got["cat"][2])
    assert isinstance(got["err"], InputError) and str(got["err"]) == "bad shard"


def test_unknown_forms_refused():
    class Foreign:
        pass

    with pytest.raises(TypeError, match="cannot store"):
        codec.encode(Foreign())
    with pytest.raises(codec.CodecError, match="unknown state class"):
        codec.decode({"$o": "os.system", "f": {}}, {})
    with pytest.raises(codec.CodecError):
        codec.decode({"$zz": 1}, {})
    with pytest.raises(codec.CodecError, match="no array"):
        codec.decode({"$a": "a9"}, {})


@given(st.lists(st.integers(1, 40), min_size=1, max_size=4), st.integers(1, 9))
def test_spans_read_exactly_the_whole_input(tmp_path_factory, sizes, n):
    import pyarrow.parquet as pq

    d = tmp_path_factory.mktemp("spans")
    start = 0
    for j, k in enumerate(sizes):
        pq.write_table(pa.table({"x": np.arange(start, start + k)}), d / f"part-{j}.parquet", row_group_size=7)
        start += k
    offsets = np.concatenate([[0], np.cumsum(sizes)]).tolist()
    got = []
    for i in range(n):
        lo, hi = span_of(i, n, start)
        for _, row0, b in iter_batches(str(d), "real", batch_rows=5, span=(lo, hi), offsets=offsets):
            x = b.column("x").to_numpy()
            assert row0 >= lo and row0 + len(x) <= hi and (x == np.arange(row0, row0 + len(x))).all()
            got.append(x)
    assert np.array_equal(np.concatenate(got) if got else np.zeros(0), np.arange(start))


@given(st.lists(st.integers(0, 300), min_size=1, max_size=5), st.integers(0, 2**32 - 1))
def test_scans_merged_from_any_split_equal_one_scan(cuts, seed):
    rng = np.random.default_rng(seed)
    n = 1200
    x = np.where(rng.random(n) < 0.1, np.nan, np.round(rng.normal(size=n), 1 + seed % 3))
    c = pd.Categorical(rng.choice(["a", "b", "c", None], n))
    roles = {"x": "numeric", "c": "categorical"}

    def chunks(lo, hi):
        for side in ("real", "synthetic"):
            yield Chunk(side, lo, {"x": x[lo:hi], "c": c[lo:hi]}, hi - lo)

    one = ColumnScan(roles, ["x", "c"], seed)
    for ch in chunks(0, n):
        one.add(ch)
    bounds = sorted({0, n, *(min(k * 4, n) for k in cuts)})
    merged = None
    for lo, hi in zip(bounds, bounds[1:]):
        part = ColumnScan(roles, ["x", "c"], seed)
        for ch in chunks(lo, hi):
            part.add(ch)
        merged = part if merged is None else (merged.merge(part) or merged)
    a, b = one.plan(roles).finish(), merged.plan(roles).finish()
    for col in ("x", "c"):
        assert np.array_equal(a.maps[col].coarse, b.maps[col].coarse)
        ca, cb = a.counts[col], b.counts[col]
        assert np.array_equal(ca.real, cb.real) and np.array_equal(ca.synthetic, cb.synthetic)


def test_priority_bound_keeps_the_bottom_k():
    key = sample_key(0, "real", "pool")
    for n, k in ((10**5, 1000), (3 * 10**5, 20_000), (500, 1000)):
        t = priority_bound(k, n)
        pri = priorities(np.arange(n, dtype=np.int64), key)
        if t is None:
            assert n <= k + 8 * k ** 0.5 + 64
            continue
        kth = np.partition(pri, k - 1)[k - 1]
        assert kth < np.uint64(t)  # every row of the bottom k lies below the bound
        assert (pri < np.uint64(t)).sum() < k + 16 * k ** 0.5 + 128  # and keeps about k + 8 sqrt(k) rows


def test_content_hash_composes_per_file(tmp_path):
    """One file: the blake2b-128 of its bytes; several: of their digests in shard order — the same
    whether the input is loaded whole, streamed, or hashed file by file by shards."""
    import hashlib

    import pyarrow.parquet as pq

    from synthproof import io
    from synthproof.plan.run import _digest

    for j in range(3):
        pq.write_table(pa.table({"x": np.arange(j, j + 10)}), tmp_path / f"part-{j}.parquet")
    files = [(tmp_path / f"part-{j}.parquet").read_bytes() for j in range(3)]
    per = [hashlib.blake2b(b, digest_size=16).digest() for b in files]
    want = "blake2b:" + hashlib.blake2b(b"synthproof-files-v1\0" + b"".join(per), digest_size=16).hexdigest()
    assert io.compose_digest(per) == want
    assert io.load(str(tmp_path), "real")[1].content_hash == want == _digest(str(tmp_path), "real")
    one = tmp_path / "part-0.parquet"
    assert io.load(str(one), "real")[1].content_hash == "blake2b:" + per[0].hex() == _digest(str(one), "real")
    swapped = io.compose_digest([per[1], per[0], per[2]])
    assert swapped != want  # the order of the files counts
