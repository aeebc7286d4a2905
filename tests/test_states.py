"""Shard state files (synthproof.states): exact round trip, canonical bytes, and every refusal
names the file (issue 13 item 1)."""

from __future__ import annotations

import json
import struct

import numpy as np
import pytest

from synthproof import states as S
from synthproof.errors import InputError


def _header(shard=0, shards=3, **kw):
    base = dict(config="blake2b:cfg", seed=7, inputs={"real": "blake2b:r", "synthetic": "blake2b:s"},
                kind="column_counts", meta={"rows": 12})
    base.update(kw)
    return S.StateHeader(shard, shards, **base)


ARRAYS = {
    "counts": np.arange(12, dtype=np.int64).reshape(3, 4),
    "flags": np.array([True, False, True]),
    "pri": np.array([2**64 - 1, 0, 5], dtype=np.uint64),
    "vals": np.array([-0.0, np.nan, np.inf, 1e-300]),
    "small": np.array([-3, 4], dtype=np.int8),
    "empty": np.zeros((0, 2), dtype=np.float32),
    "big_endian": np.array([1, 2, 3], dtype=">i4"),
}


def test_round_trip_is_exact_and_bytes_are_canonical(tmp_path):
    path = tmp_path / "shard-0.state"
    S.write_state(path, _header(), ARRAYS)
    header, arrays = S.read_state(path)
    assert header == _header()
    assert sorted(arrays) == sorted(ARRAYS)
    for name, want in ARRAYS.items():
        got = arrays[name]
        assert got.shape == want.shape and got.dtype == want.dtype.newbyteorder("<")
        assert np.array_equal(got, want, equal_nan=True)
        assert not got.flags.writeable
    assert np.signbit(arrays["vals"][0])  # -0.0 kept to the bit
    again = S.state_bytes(_header(), dict(reversed(list(ARRAYS.items()))))
    assert path.read_bytes() == again  # the same states give the same bytes, whatever the dict order


def test_object_and_string_arrays_are_refused():
    for bad in (np.array(["a"], dtype=object), np.array(["a"]), np.zeros(1, dtype="V4")):
        with pytest.raises(ValueError, match="only bool, integer and float"):
            S.state_bytes(_header(), {"x": bad})
    with pytest.raises(ValueError, match="not in"):
        S.state_bytes(_header(shard=3), {})


def _write(tmp_path, name="s.state", **kw):
    path = tmp_path / name
    S.write_state(path, _header(**kw), ARRAYS)
    return path


@pytest.mark.parametrize("damage, message", [
    (lambda b: b[:-5], "truncated"),
    (lambda b: b[:20], "truncated"),
    (lambda b: b[:-1] + bytes([b[-1] ^ 1]), "checksum"),
    (lambda b: b.replace(b'"seed":7', b'"seed":8'), "checksum"),
    (lambda b: b"PAR1" + b[4:], "not a synthproof state file"),
    (lambda b: b[:len(S.MAGIC)] + struct.pack("<Q", 3) + b"{x]" , "damaged header"),
])
def test_damaged_files_are_refused_naming_the_file(tmp_path, damage, message):
    path = _write(tmp_path)
    path.write_bytes(damage(path.read_bytes()))
    with pytest.raises(S.StateError, match=message) as err:
        S.read_state(path)
    assert "s.state" in str(err.value) and isinstance(err.value, InputError)  # exit 2 at the command line


def _rewrite_header(path, **changes):
    """A header edited and its checksum recomputed: a well-formed file with other claims."""
    data = path.read_bytes()
    at = len(S.MAGIC)
    (n,) = struct.unpack("<Q", data[at:at + 8])
    head = json.loads(data[at + 8:at + 8 + n])
    payload = data[at + 8 + n:]
    head.pop("checksum")
    head.update(changes)
    head["checksum"] = S._checksum(head, payload)
    raw = json.dumps(head, sort_keys=True, separators=(",", ":")).encode()
    path.write_bytes(S.MAGIC + struct.pack("<Q", len(raw)) + raw + payload)


def test_another_version_or_format_is_refused_with_the_version_named(tmp_path):
    path = _write(tmp_path)
    _rewrite_header(path, version="0.0.9")
    with pytest.raises(S.StateError, match=r"written by synthproof 0\.0\.9 .*this is synthproof"):
        S.read_state(path)
    _rewrite_header(path, version=S.__version__, format=99)
    with pytest.raises(S.StateError, match="format 99"):
        S.read_state(path)
    _rewrite_header(path, format=S.FORMAT, shard=5)
    with pytest.raises(S.StateError, match="claims shard 5 of 3"):
        S.read_state(path)


def test_a_set_is_returned_in_shard_order(tmp_path):
    paths = [_write(tmp_path, f"z{2 - i}.state", shard=i) for i in range(3)]
    got = S.check_states(paths)
    assert [h.shard for _, h, _ in got] == [0, 1, 2]
    assert [p.name for p, _, _ in got] == ["z2.state", "z1.state", "z0.state"]


@pytest.mark.parametrize("field, value, word", [
    ("config", "blake2b:other", "config"), ("seed", 8, "seed"), ("kind", "pairs", "kind of state"),
    ("inputs", {"real": "blake2b:r", "synthetic": "blake2b:other"}, "input listing"), ("shards", 4, "shard count"),
])
def test_a_set_made_differently_is_refused(tmp_path, field, value, word):
    a = _write(tmp_path, "a.state", shard=0)
    b = _write(tmp_path, "b.state", shard=1, **{field: value})
    c = _write(tmp_path, "c.state", shard=2)
    with pytest.raises(S.StateError, match=f"b.state was made with another {word} than a.state"):
        S.check_states([a, b, c])


def test_missing_and_duplicate_shards_are_refused(tmp_path):
    a = _write(tmp_path, "a.state", shard=0)
    b = _write(tmp_path, "b.state", shard=2)
    with pytest.raises(S.StateError, match=r"1 of 3 shard state\(s\) missing \(shard 1\)"):
        S.check_states([a, b])
    c = _write(tmp_path, "c.state", shard=2)
    with pytest.raises(S.StateError, match="shard 2 of 3 is present twice: b.state and c.state"):
        S.check_states([a, b, c])
    with pytest.raises(S.StateError, match="no state files"):
        S.check_states([])


def test_a_failed_write_leaves_no_file(tmp_path, monkeypatch):
    import os

    def boom(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError):
        S.write_state(tmp_path / "x.state", _header(), ARRAYS)
    assert list(tmp_path.iterdir()) == []
