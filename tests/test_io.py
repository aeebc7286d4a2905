"""Reading inputs: formats, errors (exit-2 class), inputs never modified."""

from __future__ import annotations

import hashlib
import json

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from synthproof import io
from synthproof.errors import InputError


def _digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def frame():
    return pd.DataFrame({"a": [1, 2, 3], "b": ["x", "y", None], "c": [0.5, float("nan"), 2.0]})


def test_formats_round_trip(tmp_path, frame):
    frame.to_parquet(tmp_path / "f.parquet")
    frame.to_csv(tmp_path / "f.csv", index=False)
    frame.to_json(tmp_path / "f.jsonl", orient="records", lines=True)
    shards = tmp_path / "shards"
    shards.mkdir()
    frame.iloc[:2].to_parquet(shards / "part-0.parquet")
    frame.iloc[2:].to_parquet(shards / "part-1.parquet")
    for src in (tmp_path / "f.parquet", tmp_path / "f.csv", tmp_path / "f.jsonl", shards, frame,
                pa.Table.from_pandas(frame)):
        table, fp = io.load(src, "real")
        assert table.num_rows == 3 and set(table.column_names) == {"a", "b", "c"}
        assert fp.rows == 3 and fp.content_hash.startswith("blake2b:")


def test_fingerprint_tracks_content(tmp_path, frame):
    frame.to_parquet(tmp_path / "f.parquet")
    _, fp1 = io.load(tmp_path / "f.parquet", "real")
    frame.assign(a=[9, 9, 9]).to_parquet(tmp_path / "f.parquet")
    _, fp2 = io.load(tmp_path / "f.parquet", "real")
    assert fp1.content_hash != fp2.content_hash


@pytest.mark.parametrize("kind", ["missing", "empty_csv", "header_only", "corrupt_parquet", "empty_dir", "unsupported"])
def test_bad_inputs_raise_input_error(tmp_path, kind):
    path = {
        "missing": tmp_path / "nope.parquet",
        "empty_csv": tmp_path / "e.csv",
        "header_only": tmp_path / "h.csv",
        "corrupt_parquet": tmp_path / "c.parquet",
        "empty_dir": tmp_path / "d",
        "unsupported": tmp_path / "x.xlsx",
    }[kind]
    if kind == "empty_csv":
        path.write_text("")
    elif kind == "header_only":
        path.write_text("a,b,c\n")
    elif kind == "corrupt_parquet":
        path.write_bytes(b"PAR1 this is not parquet at all")
    elif kind == "empty_dir":
        path.mkdir()
    elif kind == "unsupported":
        path.write_text("x")
    with pytest.raises(InputError) as err:
        io.load(path, "real")
    assert "\n" not in str(err.value)
    assert str(err.value).startswith("real:")


def test_jsonl_with_mixed_types_is_read(tmp_path):
    p = tmp_path / "m.jsonl"
    p.write_text("\n".join(json.dumps({"x": v, "t": "hello"}) for v in [1, "two", 3.5, None]) + "\n")
    table, _ = io.load(p, "synthetic")
    assert table.num_rows == 4


def test_inputs_are_never_modified(tmp_path, frame):
    import synthproof

    real, syn = tmp_path / "r.parquet", tmp_path / "s.csv"
    pd.concat([frame] * 20, ignore_index=True).to_parquet(real)
    pd.concat([frame] * 20, ignore_index=True).to_csv(syn, index=False)
    before = (_digest(real), _digest(syn))
    mtimes = (real.stat().st_mtime_ns, syn.stat().st_mtime_ns)
    synthproof.audit(real, syn, config={"suite": "listed", "checks": {"drift.ks": {}, "duplication.exact_copies": {}}})
    assert (_digest(real), _digest(syn)) == before
    assert (real.stat().st_mtime_ns, syn.stat().st_mtime_ns) == mtimes
    assert pq.read_table(real).num_rows == 60


def test_synthetic_only_columns_are_listed_not_decoded(tmp_path, adult):
    import synthproof

    real = adult.iloc[:300]
    syn = adult.iloc[300:600].assign(generator="sdv", row_uuid=[f"u{i}" for i in range(300)])
    real.to_parquet(tmp_path / "r.parquet")
    syn.to_parquet(tmp_path / "s.parquet")
    _, fp = io.load(tmp_path / "s.parquet", "synthetic", keep=lambda names: [n for n in names if n in real.columns])
    assert "generator" in fp.column_names and fp.columns == 17 and fp.rows == 300
    res = synthproof.audit(tmp_path / "r.parquet", tmp_path / "s.parquet",
                           config={"suite": "listed", "checks": {"validity.schema": {}}})
    assert res.manifest["synthetic_only_columns"] == ["generator", "row_uuid"]
    assert res.passed
    with pytest.raises(InputError, match="share no column"):
        pd.DataFrame({"zzz": [1, 2]}).to_parquet(tmp_path / "z.parquet")
        synthproof.audit(tmp_path / "r.parquet", tmp_path / "z.parquet")


def test_dictionary_strings_read_equals_the_plain_read(tmp_path):
    """load(dictionary_strings=True) reads low-cardinality Parquet strings as dictionaries: decoded
    back, the table (types, values, nulls, conversion notes) is the plain read's; invalid UTF-8 in a
    dictionary is repaired as in a plain column; free text (a dictionary page past 64 KiB) stays plain."""
    rng = __import__("numpy").random.default_rng(0)
    bad = pa.array([b"caf\xe9", b"ok"], pa.binary()).view(pa.string())  # not UTF-8, unchecked
    n = 20_000
    t = pa.table({
        "cat": pa.array(rng.choice(["a", "b", None, "c"], n).tolist(), pa.large_string()),
        "small": pa.array(rng.choice(["x", "y"], n).tolist(), pa.string()),
        "bad": pa.chunked_array([bad.take(pa.array(rng.integers(0, 2, n)))]),
        "free": pa.array([rng.bytes(32).hex() for _ in range(n)], pa.string()),  # ids, hashes, text
        "num": pa.array(rng.normal(size=n)),
    })
    pq.write_table(t, tmp_path / "t.parquet", row_group_size=7_000)
    plain, fp1 = io.load(tmp_path / "t.parquet", "real")
    dic, fp2 = io.load(tmp_path / "t.parquet", "real", dictionary_strings=True)
    kinds = {f.name: io.read_as_dictionary(f) for f in dic.schema}
    assert kinds == {"cat": True, "small": True, "bad": True, "free": False, "num": False}
    back = io.plain_strings(dic)
    assert back.schema == plain.schema and back.equals(plain)
    assert [f.metadata for f in back.schema] == [f.metadata for f in plain.schema]  # large_string->string note
    assert set(back.column("bad").to_pylist()) == {"caf\ufffd", "ok"} and fp1 == fp2


def test_dictionary_strings_across_shards_of_mixed_cardinality(tmp_path):
    """A column with few distinct values in one shard and many in the next is read as strings in
    both (no false 'shards do not match'); the other columns stay dictionary-encoded."""
    import numpy as np

    rng = np.random.default_rng(1)
    folder = tmp_path / "shards"
    folder.mkdir()
    pq.write_table(pa.table({"x": ["a", "b"] * 5000, "k": ["u", "v"] * 5000}), folder / "part-0.parquet")
    pq.write_table(pa.table({"x": [rng.bytes(32).hex() for _ in range(10000)], "k": ["v", "w"] * 5000}),
                   folder / "part-1.parquet")
    plain, _ = io.load(folder, "real")
    dic, _ = io.load(folder, "real", dictionary_strings=True)
    assert not io.read_as_dictionary(dic.schema.field("x")) and io.read_as_dictionary(dic.schema.field("k"))
    assert io.plain_strings(dic).equals(plain)
