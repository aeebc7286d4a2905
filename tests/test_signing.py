"""Signed provenance manifests: RFC 8785 records, RFC 6962 Merkle root, Ed25519; tamper detection."""

from __future__ import annotations

import base64
import hashlib
import json
import pathlib

import pandas as pd
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given
from hypothesis import strategies as st

from synthproof.api import audit
from synthproof.cli import main
from synthproof.provenance.manifest import (canonical_value, leaf_hash, merkle_root, record_bytes,
                                            sorted_root)

ONLY = {"suite": "listed", "checks": {"provenance.signature": None}}


def run(capsys, *argv) -> tuple[int, str]:
    try:
        main(list(argv))
        code = 0
    except SystemExit as exc:
        code = exc.code
    cap = capsys.readouterr()
    return code, cap.out + cap.err


def mth(leaves: list[bytes]) -> bytes:
    """RFC 6962 section 2.1, recursively, as written in the RFC."""
    n = len(leaves)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return leaves[0]
    k = 1
    while k * 2 < n:
        k *= 2
    return hashlib.sha256(b"\x01" + mth(leaves[:k]) + mth(leaves[k:])).digest()


@given(st.lists(st.binary(min_size=0, max_size=8), max_size=40))
def test_merkle_root_is_rfc6962(items):
    leaves = [leaf_hash(x) for x in items]
    assert merkle_root(leaves) == mth(leaves)


def test_rfc6962_leaf_and_empty_tree():
    assert merkle_root([]).hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert leaf_hash(b"") == hashlib.sha256(b"\x00").digest()
    a, b = leaf_hash(b"a"), leaf_hash(b"b")
    assert merkle_root([a, b]) == hashlib.sha256(b"\x01" + a + b).digest()
    assert sorted_root([b, a]) == sorted_root([a, b])


def test_record_canonical_form_is_rfc8785():
    # RFC 8785: keys sorted by UTF-16 code units, no whitespace, ES6 number form.
    assert record_bytes({"b": 1.0, "a": "é", "c": None}) == '{"a":"é","b":1,"c":null}'.encode()
    assert record_bytes({"x": 1e21}) == b'{"x":1e+21}'
    assert record_bytes({"a": 1, "b": 2}) == record_bytes({"b": 2, "a": 1})
    assert canonical_value(float("nan")) == {"$float": "nan"}
    assert canonical_value(2**60) == {"$int": str(2**60)}
    assert canonical_value(b"\x00\xff") == {"$bytes": "AP8="}


@pytest.fixture()
def signed(tmp_path, capsys, adult):
    data = adult.head(300).reset_index(drop=True)
    data.insert(0, "rid", [f"r{i:04d}" for i in range(len(data))])
    path = tmp_path / "syn.parquet"
    data.to_parquet(path, index=False)
    key = tmp_path / "k.pem"
    assert run(capsys, "provenance", "keygen", "--out", str(key))[0] == 0
    assert run(capsys, "provenance", "keygen", "--out", str(tmp_path / "other.pem"))[0] == 0
    code, out = run(capsys, "provenance", "sign", str(path), "--key", str(key), "--id-column", "rid",
                    "--generator", "sdv.GaussianCopula", "--generator-version", "2.0", "--seed", "7",
                    "--sampling", '{"temperature": 1.0}', "--generation", "1")
    assert code == 0, out
    return {"path": path, "data": data, "key": key, "pub": pathlib.Path(str(key) + ".pub"),
            "other": tmp_path / "other.pem", "other_pub": tmp_path / "other.pem.pub", "tmp": tmp_path}


def verify(capsys, s, *extra) -> tuple[int, str]:
    return run(capsys, "provenance", "verify", str(s["path"]), "--public-key", str(s["pub"]), *extra)


def check(s) -> list:
    cfg = {**ONLY, "provenance": {"trusted_keys": [str(s["pub"])]}}
    r = audit(s["data"].head(50), str(s["path"]), config=cfg)
    return [f for f in r.finding_list if f.check_id == "provenance.signature"]


def test_valid_signed_dataset_passes(capsys, signed):
    code, out = verify(capsys, signed)
    assert code == 0, out
    assert "0 added, 0 removed, 0 modified" in out
    fs = check(signed)
    assert {f.status for f in fs} == {"pass"} and len(fs) == 2
    doc = json.loads((signed["tmp"] / "syn.parquet.provenance.json").read_text())
    m = doc["manifest"]
    assert m["records"] == 300 and m["generation"] == 1 and m["generator"]["seed"] == 7
    assert m["generator"]["sampling"] == {"temperature": 1.0}
    assert doc["fields"]["generator"] == "sdv.GaussianCopula"


def _rewrite(s, df):
    df.to_parquet(s["path"], index=False)


def test_one_changed_value_is_named(capsys, signed):
    df = signed["data"].copy()
    df.loc[123, "age"] = df.loc[123, "age"] + 1
    _rewrite(signed, df)
    code, out = verify(capsys, signed)
    assert code == 1 and "0 added, 0 removed, 1 modified" in out and "id=r0123" in out
    rows = [f for f in check(signed) if f.scope == "row"]
    assert [f.row_id for f in rows] == ["rid=r0123"] and rows[0].status == "fail"


def test_deleted_and_added_records_are_named(capsys, signed):
    df = signed["data"].drop(index=[10]).reset_index(drop=True)
    df = pd.concat([df, signed["data"].iloc[[0]].assign(rid="new-1")], ignore_index=True)
    _rewrite(signed, df)
    code, out = verify(capsys, signed)
    assert code == 1 and "1 added, 1 removed, 0 modified" in out
    assert "id=new-1" in out and "id=r0010" in out
    labels = {f.row_id for f in check(signed) if f.scope == "row"}
    assert labels == {"rid=new-1", "rid=r0010"}


def test_without_id_column_records_are_a_multiset(capsys, signed):
    df = signed["data"]
    _rewrite(signed, df)
    assert run(capsys, "provenance", "sign", str(signed["path"]), "--key", str(signed["key"]))[0] == 0
    changed = df.copy()
    changed.loc[5, "hours_per_week"] = 99
    _rewrite(signed, changed)
    code, out = verify(capsys, signed)
    assert code == 1 and "1 added, 1 removed, 0 modified" in out and "row=5" in out


def test_reordering_rows_is_not_a_change(capsys, signed):
    _rewrite(signed, signed["data"].sample(frac=1.0, random_state=1))
    code, out = verify(capsys, signed)
    assert code == 0, out


def test_edited_manifest_breaks_the_signature(capsys, signed):
    side = signed["tmp"] / "syn.parquet.provenance.json"
    doc = json.loads(side.read_text())
    doc["manifest"]["generator"]["seed"] = 8
    side.write_text(json.dumps(doc))
    code, out = verify(capsys, signed)
    assert code == 1 and "signature: invalid" in out
    fs = check(signed)
    assert any(f.reason_code == "invalid_signature" and f.status == "fail" for f in fs)


def test_edited_field_breaks_the_signature(capsys, signed):
    side = signed["tmp"] / "syn.parquet.provenance.json"
    doc = json.loads(side.read_text())
    doc["fields"]["generator"] = "something-else"
    side.write_text(json.dumps(doc))
    assert verify(capsys, signed)[0] == 1


def test_another_key_is_not_trusted(capsys, signed):
    assert run(capsys, "provenance", "sign", str(signed["path"]), "--key", str(signed["other"]),
               "--id-column", "rid")[0] == 0
    code, out = verify(capsys, signed)
    assert code == 1 and "signature: valid" in out and "key: not trusted" in out
    fs = check(signed)
    assert any(f.reason_code == "untrusted_key" and f.status == "fail" for f in fs)
    # ... and trusted when its public key is given.
    assert run(capsys, "provenance", "verify", str(signed["path"]), "--public-key", str(signed["other_pub"]))[0] == 0


def test_trusted_keys_file_with_several_keys(capsys, signed):
    other = serialization.load_pem_public_key(signed["other_pub"].read_bytes())
    raw = other.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    keys = signed["tmp"] / "trusted.txt"
    keys.write_text("# the team's keys\n" + base64.b64encode(raw).decode() + "\n" + signed["pub"].read_text())
    code, out = run(capsys, "provenance", "verify", str(signed["path"]), "--trusted-keys", str(keys))
    assert code == 0, out
    keys.write_text(base64.b64encode(raw).decode() + "\n")
    assert run(capsys, "provenance", "verify", str(signed["path"]), "--trusted-keys", str(keys))[0] == 1
    keys.write_text("not a key\n")
    code, out = run(capsys, "provenance", "verify", str(signed["path"]), "--trusted-keys", str(keys))
    assert code == 2 and "neither a PEM block nor a base64" in out


def test_swapped_public_key_is_an_invalid_signature(capsys, signed):
    side = signed["tmp"] / "syn.parquet.provenance.json"
    doc = json.loads(side.read_text())
    other = serialization.load_pem_public_key(signed["other_pub"].read_bytes())
    raw = other.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    doc["signature"]["public_key"] = base64.b64encode(raw).decode()
    side.write_text(json.dumps(doc))
    code, out = run(capsys, "provenance", "verify", str(signed["path"]), "--public-key", str(signed["other_pub"]))
    assert code == 1 and "signature: invalid" in out


def test_edited_records_file_is_detected(capsys, signed):
    rec = signed["tmp"] / "syn.parquet.provenance.records.parquet"
    t = pd.read_parquet(rec)
    t.loc[0, "leaf"] = b"\x00" * 32
    t.to_parquet(rec, index=False)
    code, out = verify(capsys, signed)
    assert code == 1 and "does not match the signed manifest" in out


def test_missing_manifest(capsys, tmp_path, adult):
    p = tmp_path / "plain.parquet"
    adult.head(50).to_parquet(p, index=False)
    code, out = run(capsys, "provenance", "verify", str(p))
    assert code == 1 and "manifest is missing" in out
    r = audit(adult.head(50), str(p), config={**ONLY, "provenance": {"require_signature": True}})
    fs = [f for f in r.finding_list if f.check_id == "provenance.signature"]
    assert fs[0].status == "fail" and fs[0].reason_code == "manifest_missing"
    r = audit(adult.head(50), str(p), config=ONLY)
    fs = [f for f in r.finding_list if f.check_id == "provenance.signature"]
    assert fs[0].status == "skipped" and fs[0].reason_code == "no_manifest"


def test_signing_does_not_modify_the_data(capsys, signed):
    before = signed["path"].read_bytes()
    assert run(capsys, "provenance", "sign", str(signed["path"]), "--key", str(signed["key"]))[0] == 0
    assert signed["path"].read_bytes() == before


def test_keys_never_appear_in_any_output(capsys, tmp_path, adult, monkeypatch):
    key = Ed25519PrivateKey.generate()
    seed = key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                             serialization.NoEncryption())
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    monkeypatch.setenv("SP_TEST_SIGNING_KEY", base64.b64encode(seed).decode())
    pem_file = tmp_path / "keys" / "k.pem"
    pem_file.parent.mkdir()
    pem_file.write_bytes(pem)
    pub = tmp_path / "keys" / "k.pub"
    pub.write_bytes(key.public_key().public_bytes(serialization.Encoding.PEM,
                                                  serialization.PublicFormat.SubjectPublicKeyInfo))
    data = tmp_path / "data" / "syn.parquet"
    data.parent.mkdir()
    adult.head(100).to_parquet(data, index=False)
    printed = []
    for spec in ("env:SP_TEST_SIGNING_KEY", str(pem_file)):
        code, out = run(capsys, "provenance", "sign", str(data), "--key", spec)
        printed.append(out)
        assert code == 0
        code, out = run(capsys, "provenance", "verify", str(data), "--public-key", str(pub))
        printed.append(out)
        assert code == 0
    # A bad key file: the error names the file, never its content.
    bad = tmp_path / "keys" / "bad.pem"
    bad.write_bytes(pem[:-40] + b"garbage-" + base64.b64encode(seed))
    code, out = run(capsys, "provenance", "sign", str(data), "--key", str(bad))
    printed.append(out)
    assert code == 2
    out_dir = tmp_path / "report"
    code, out = run(capsys, "audit", "--real", str(data), "--synthetic", str(data), "--out", str(out_dir),
                    "--config", str(_config(tmp_path, pub)))
    printed.append(out)
    secrets = [seed, pem, pem.strip().splitlines()[1], base64.b64encode(seed), seed.hex().encode(),
               base64.urlsafe_b64encode(seed).rstrip(b"=")]
    outputs = [p for p in (tmp_path / "data").iterdir()] + [p for p in out_dir.iterdir()]
    assert any(p.name == "report.html" for p in outputs)
    blobs = [p.read_bytes() for p in outputs] + [o.encode() for o in printed]
    for blob in blobs:
        for s in secrets:
            assert s not in blob


def _config(tmp_path, pub) -> pathlib.Path:
    p = tmp_path / "cfg.yaml"
    p.write_text(f"suite: listed\nchecks:\n  provenance.signature:\n  drift.ks:\n"
                 f"provenance:\n  trusted_keys: ['{pub}']\n")
    return p
