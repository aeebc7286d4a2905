"""Bad input to the provenance and lineage commands: a clear error (exit 2) or a finding, never a crash."""

from __future__ import annotations

import pandas as pd

from synthproof.api import audit

from .test_signing import run


def test_sign_bad_inputs(tmp_path, capsys, adult):
    key = tmp_path / "k.pem"
    assert run(capsys, "provenance", "keygen", "--out", str(key))[0] == 0
    code, out = run(capsys, "provenance", "keygen", "--out", str(key))
    assert code == 2 and "refusing to overwrite" in out
    code, out = run(capsys, "provenance", "sign", str(tmp_path / "nope.parquet"), "--key", str(key))
    assert code == 2 and "no such file" in out
    (tmp_path / "empty.csv").write_text("")
    assert run(capsys, "provenance", "sign", str(tmp_path / "empty.csv"), "--key", str(key))[0] == 2
    p = tmp_path / "d.parquet"
    adult.head(20).assign(rid=[1] * 20).to_parquet(p, index=False)
    code, out = run(capsys, "provenance", "sign", str(p), "--key", str(key), "--id-column", "rid")
    assert code == 2 and "repeated values" in out
    code, out = run(capsys, "provenance", "sign", str(p), "--key", str(key), "--id-column", "nope")
    assert code == 2 and "not a column" in out
    code, out = run(capsys, "provenance", "sign", str(p), "--key", str(tmp_path / "missing.pem"))
    assert code == 2 and "no such file" in out
    code, out = run(capsys, "provenance", "sign", str(p), "--key", "env:SP_NOT_SET_ANYWHERE")
    assert code == 2 and "SP_NOT_SET_ANYWHERE is not set" in out
    code, out = run(capsys, "provenance", "sign", str(p), "--key", str(key), "--sampling", "{bad")
    assert code == 2 and "not JSON" in out


def test_verify_with_a_broken_sidecar_is_a_failure_not_a_crash(tmp_path, capsys, adult):
    p = tmp_path / "d.parquet"
    adult.head(20).to_parquet(p, index=False)
    (tmp_path / "d.parquet.provenance.json").write_text("{not json")
    code, out = run(capsys, "provenance", "verify", str(p))
    assert code == 1 and "invalid JSON" in out
    r = audit(adult.head(20), str(p), config={"suite": "listed", "checks": {"provenance.signature": None},
                                              "provenance": {"require_signature": True}})
    f = [x for x in r.finding_list if x.check_id == "provenance.signature"][0]
    assert f.status == "fail" and f.reason_code == "manifest_missing"


def test_lineage_bad_inputs(tmp_path, capsys, adult):
    a, b = tmp_path / "a.parquet", tmp_path / "b.parquet"
    adult.head(300).to_parquet(a, index=False)
    adult.head(300).drop(columns=["age", "workclass"]).to_parquet(b, index=False)  # schema mismatch
    code, out = run(capsys, "lineage", str(a), str(tmp_path / "missing.parquet"), "--out", str(tmp_path / "o"))
    assert code == 2 and "no such file" in out
    code, out = run(capsys, "lineage", str(a), str(b), "--out", str(tmp_path / "o"), "--n-boot", "10")
    assert code in (0, 1) and (tmp_path / "o" / "lineage.html").is_file()
    ids = tmp_path / "ids.parquet"
    pd.DataFrame({"is_synthetic": [True] * 10}).to_parquet(ids, index=False)
    code, out = run(capsys, "lineage", str(ids), str(ids), "--out", str(tmp_path / "o2"))
    assert code == 2 and "no numeric, categorical or text column" in out
    code, out = run(capsys, "lineage", str(a), str(b), "--real-share", "1,x")
    assert code == 2 and "comma-separated" in out


def test_watermark_bad_inputs(tmp_path, capsys):
    p = tmp_path / "t.parquet"
    pd.DataFrame({"body": ["one two three four five six"] * 5}).to_parquet(p, index=False)
    code, out = run(capsys, "provenance", "watermark", str(p), "--out", str(tmp_path / "s.parquet"))
    assert code == 2 and "no column 'text'" in out
    (tmp_path / "c.yaml").write_text(f"watermark:\n  tokenizer: {tmp_path / 'none'}\n")
    code, out = run(capsys, "provenance", "watermark", str(p), "--column", "body", "--config",
                    str(tmp_path / "c.yaml"), "--out", str(tmp_path / "s.parquet"))
    assert code == 2 and "no tokenizer.json" in out


def test_kgw_check_with_only_short_or_empty_documents_is_skipped():
    real = pd.DataFrame({"text": [f"a real sentence number {i} with some words" for i in range(60)]})
    syn = pd.DataFrame({"text": ["", "short text here ok fine", None] * 20})
    r = audit(real, syn, config={"suite": "listed", "checks": {"provenance.kgw_watermark": None}})
    f = [x for x in r.finding_list if x.check_id == "provenance.kgw_watermark"][0]
    assert f.status == "skipped" and f.reason_code == "too_few_tokens"
