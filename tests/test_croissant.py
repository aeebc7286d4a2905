"""Croissant 1.1 + RAI 1.0 export of a run (issue 16) and the ``provenance.croissant_rai`` check.

The export of a real audit (bundled UCI Adult against SDV's GaussianCopula output, the synthetic file
signed with its parent recorded) validates with mlcroissant without errors, its sha256 fingerprints
are those of the files, mlcroissant reads the records back offline, and the RAI properties hold the
run's numbers. mlcroissant 1.1.1 names two RAI 1.0 properties differently; the round-trip test pins
what it does so that it fails the day mlcroissant changes.
"""

from __future__ import annotations

import hashlib
import json
import pathlib
import shutil
import socket
import subprocess
import sys

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from synthproof.compliance.croissant import CONTEXT, croissant, write_croissant
from synthproof.compliance.rai import MLCROISSANT_SPELLINGS, RAI_PROPERTIES, REVIEWER_FIELDS
from synthproof.errors import InputError

mlc = pytest.importorskip("mlcroissant")


#: mlcroissant 1.1.1's validation warnings on the export without attestations (docs/croissant.md).
EXPECTED_WARNINGS = {
    '[Metadata(synthetic.csv)] Property "http://mlcommons.org/croissant/citeAs" is recommended, but does not exist.',
    '[Metadata(synthetic.csv)] Property "https://schema.org/datePublished" is recommended, but does not exist.',
    '[Metadata(synthetic.csv)] Property "https://schema.org/license" is recommended, but does not exist.',
    '[Metadata(synthetic.csv)] Property "https://schema.org/version" is recommended, but does not exist.',
}
ATTESTED = {"uses": "Training an income classifier; not for decisions about individuals.",
            "maintenance": "Regenerated quarterly by the data team; versions kept for two years.",
            "rai:dataManipulationProtocol": "No manipulation after generation.",
            "dataCollectionTimeframe": "2026-11/2026-12", "license": "https://spdx.org/licenses/CC-BY-4.0.html",
            "version": "1.0.0", "citeAs": "synthetic Adult, 2026", "datePublished": "2026-12-07"}


def cli(*args):
    return subprocess.run([sys.executable, "-m", "synthproof.cli", *args], capture_output=True, text=True)


def sha256(path) -> str:
    return hashlib.sha256(pathlib.Path(path).read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def audited(tmp_path_factory):
    """A CLI audit of files: 3,000 real Adult rows (Parquet), 3,000 of SDV GaussianCopula's (CSV, signed
    with its parent and generator recorded, the key trusted), a 1,500-row holdout."""
    from synthproof import datasets

    base = tmp_path_factory.mktemp("croissant")
    data = base / "data"
    data.mkdir()
    datasets.load("adult", split="train").iloc[:3000].to_parquet(data / "real.parquet")
    datasets.load("adult", split="holdout").iloc[:1500].to_parquet(data / "holdout.parquet")
    datasets.load("adult_sdv_gaussiancopula").iloc[:3000].to_csv(data / "synthetic.csv", index=False)
    assert cli("provenance", "keygen", "--out", str(base / "k.pem")).returncode == 0
    r = cli("provenance", "sign", str(data / "synthetic.csv"), "--key", str(base / "k.pem"), "--generator",
            "sdv-gaussiancopula", "--generator-version", "1.24", "--seed", "7", "--parent", str(data / "real.parquet"),
            "--generation", "1")
    assert r.returncode == 0, r.stderr
    cfg = base / "audit.yaml"
    cfg.write_text(f"bias: {{target: income}}\nprovenance: {{trusted_keys: ['{base / 'k.pem.pub'}']}}\n")
    r = cli("audit", "--real", str(data / "real.parquet"), "--synthetic", str(data / "synthetic.csv"), "--holdout",
            str(data / "holdout.parquet"), "--config", str(cfg), "--out", str(base / "run"),
            "--skip", "drift.detection_auc,drift.sdmetrics_quality")
    assert r.returncode in (0, 1), r.stderr
    hashes = {p: sha256(p) for p in sorted(base.rglob("*")) if p.is_file()}
    out = base / "export" / "synthetic.croissant.json"
    warnings = write_croissant(base / "run", out)
    findings = pd.read_parquet(base / "run" / "findings.parquet")
    manifest = json.loads((base / "run" / "manifest.json").read_text())
    return {"base": base, "data": data, "run": base / "run", "out": out, "doc": json.loads(out.read_text()),
            "warnings": warnings, "findings": findings, "manifest": manifest, "hashes": hashes}


def _issues(doc):
    ds = mlc.Dataset(jsonld=doc)
    return ds, ds.metadata.ctx.issues


def test_export_validates_with_mlcroissant(audited):
    _, issues = _issues(audited["doc"])
    assert issues.errors == set()
    assert issues.warnings == EXPECTED_WARNINGS
    from mlcroissant._src.core.context import Context, CroissantVersion
    from mlcroissant._src.core.rdf import make_context

    assert set(make_context(Context(conforms_to=CroissantVersion.V_1_1))) <= set(CONTEXT)  # a standard context
    assert audited["doc"]["conformsTo"] == ["http://mlcommons.org/croissant/1.1",
                                            "http://mlcommons.org/croissant/RAI/1.0"]
    attested, _ = croissant(audited["run"], base=audited["out"].parent, attestations=ATTESTED)
    _, issues = _issues(attested)
    assert issues.errors == set() and issues.warnings == set()  # the reviewer's answers silence them


def test_fingerprints_match_the_files_and_mlcroissant_reads_them_offline(audited, monkeypatch):
    doc, folder = audited["doc"], audited["out"].parent
    files = {f["@id"]: f for f in doc["distribution"] if f["@type"] == "cr:FileObject"}
    assert sorted(files) == ["holdout-data", "real-data", "synthetic-data"]
    for name, fmt in (("synthetic", "text/csv"), ("real", "application/x-parquet"),
                      ("holdout", "application/x-parquet")):
        f = files[f"{name}-data"]
        path = (folder / f["contentUrl"]).resolve()
        assert path == (audited["data"] / f["name"]).resolve()
        assert f["sha256"] == sha256(path) and f["contentSize"] == f"{path.stat().st_size} B"
        assert f["encodingFormat"] == fmt

    def offline(*args, **kwargs):
        raise AssertionError("mlcroissant tried to use the network")
    monkeypatch.setattr(socket.socket, "connect", offline)
    ds = mlc.Dataset(jsonld=str(audited["out"]))
    rows = list(ds.records("synthetic"))
    syn = pd.read_csv(audited["data"] / "synthetic.csv")
    assert len(rows) == len(syn) == 3000
    assert rows[0]["synthetic/age"] == syn["age"].iloc[0]
    assert rows[0]["synthetic/workclass"].decode() == syn["workclass"].iloc[0]
    assert len(list(ds.records("holdout"))) == 1500


def test_record_sets_follow_the_schema(audited):
    doc, manifest = audited["doc"], audited["manifest"]
    sets = {r["@id"]: r for r in doc["recordSet"]}
    assert sorted(sets) == ["holdout", "real", "synthetic"]
    real = pd.read_parquet(audited["data"] / "real.parquet")
    fields = {f["name"]: f for f in sets["real"]["field"]}
    assert list(fields) == list(real.columns)
    for col, f in fields.items():
        want = "sc:Integer" if pd.api.types.is_integer_dtype(real[col]) else (
            "sc:Float" if pd.api.types.is_float_dtype(real[col]) else "sc:Text")
        assert f["dataType"] == want, col
        assert f["source"] == {"fileObject": {"@id": "real-data"}, "extract": {"column": col}}
        assert f"role {manifest['columns'][col]['role']}" in f["description"]
    assert fields["age"]["dataType"] == "sc:Integer" and fields["income"]["dataType"] == "sc:Text"
    assert [f["@id"] for f in sets["synthetic"]["field"]][:2] == ["synthetic/age", "synthetic/workclass"]


def _lines(value):
    return value if isinstance(value, list) else value.split("\n")


def test_rai_fields_hold_the_runs_numbers(audited):
    doc, f, manifest = audited["doc"], audited["findings"], audited["manifest"]
    live = f[f["scope"] != "row"]
    dup = live[(live["check_id"] == "duplication.exact_duplicates") & live["value"].notna()].iloc[0]
    n = int(dup["n_synthetic"])
    assert f"exact duplicate synthetic rows: {round(dup['value'] * n):,} of {n:,}" in " ".join(
        doc["rai:dataPreprocessingProtocol"])
    bias = live[(live["family"] == "bias") & live["status"].isin(["pass", "warn", "fail"])]
    first = _lines(doc["rai:dataBiases"])[0]
    assert f"{int((bias['status'] == 'fail').sum())} fail, {int((bias['status'] == 'warn').sum())} warn" in first
    parity = live[(live["check_id"] == "bias.outcome_parity") & (live["status"] == "fail")]
    assert len(parity) and f"[bias.outcome_parity fail] {parity['message'].iloc[0]}" in doc["rai:dataBiases"]
    skipped = live[(live["check_id"] == "bias.representation") & (live["reason_code"] == "min_group_size")]
    assert any(line.startswith(f"[bias.representation] {len(skipped)} subgroups not compared")
               for line in doc["rai:dataLimitations"])
    assert f"the gate {'passed' if manifest['verdict'] == 'pass' else 'failed'}" in doc["rai:dataLimitations"][0]
    assert "(value hidden)" not in json.dumps(doc)  # small subgroups stay unnamed
    pii = " ".join(_lines(doc["rai:personalSensitiveInformation"]))
    assert "audited for bias: age, native_country, race, sex" in pii and "[privacy.membership_inference" in pii
    real = next(i for i in manifest["inputs"] if i["name"] == "real")
    assert real["content_hash"] in doc["rai:dataCollectionRawData"]
    side = json.loads((audited["data"] / "synthetic.csv.provenance.json").read_text())
    assert doc["rai:dataCollection"].startswith("Synthetic data generated by sdv-gaussiancopula 1.24 (seed 7) from "
                                                "real.parquet, generation 1")
    assert f"key {side['signature']['key_id']}; provenance.signature in this run: pass" in doc["rai:dataCollection"]
    parent = side["manifest"]["parents"][0]
    assert doc["prov:wasDerivedFrom"] == [{
        "@type": "prov:Entity", "prov:label": "real.parquet", "sc:identifier": f"merkle-root:{parent['merkle_root']}",
        "sc:description": "3,000 records; RFC 6962 Merkle root as recorded in a signed synthproof provenance manifest "
                          "(synthproof-manifest/1)."}]
    assert doc["prov:wasGeneratedBy"]["prov:label"] == "generation by sdv-gaussiancopula 1.24"
    assert doc["prov:generatedAtTime"] == side["fields"]["created_at"]
    assert not any(k.startswith("rai:") and k[4:] not in RAI_PROPERTIES for k in doc)
    assert audited["warnings"] == [f"rai:{p} is not filled from the run; the reviewer's attestation must answer it"
                                   for p in ("dataUseCases", "dataReleaseMaintenancePlan", "dataManipulationProtocol")]


def test_export_is_deterministic_and_leaves_the_inputs_alone(audited, tmp_path):
    again = tmp_path / "again.json"
    write_croissant(audited["run"], again)
    moved = json.loads(again.read_text())
    assert moved["distribution"][0]["contentUrl"] != audited["doc"]["distribution"][0]["contentUrl"]
    for d in (moved, audited["doc"]):
        for f in d["distribution"]:
            f.pop("contentUrl")
    assert moved == audited["doc"]
    write_croissant(audited["run"], tmp_path / "twice.json")
    write_croissant(audited["run"], tmp_path / "twice2.json")
    assert (tmp_path / "twice.json").read_bytes() == (tmp_path / "twice2.json").read_bytes()
    assert {p: sha256(p) for p in audited["hashes"]} == audited["hashes"]
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temporary left


def test_bad_inputs_are_one_line_input_errors(audited, tmp_path):
    with pytest.raises(InputError, match="no such run folder"):
        croissant(tmp_path / "nowhere")
    broken = tmp_path / "broken"
    shutil.copytree(audited["run"], broken)
    (broken / "findings.parquet").write_bytes(b"not parquet")
    with pytest.raises(InputError, match="cannot read"):
        croissant(broken)
    (tmp_path / "other.csv").write_text("a,b\n1,2\n")
    with pytest.raises(InputError, match="is not the data the run audited"):
        croissant(audited["run"], inputs={"synthetic": str(tmp_path / "other.csv")})
    with pytest.raises(InputError, match="is a folder"):
        write_croissant(audited["run"], tmp_path)
    target = audited["data"] / "synthetic.csv"
    before = sha256(target)
    with pytest.raises(InputError, match="an input or a file of the run"):
        write_croissant(audited["run"], target)
    assert sha256(target) == before
    with pytest.raises(InputError, match="unknown key 'datsheet'"):
        croissant(audited["run"], attestations={"datsheet": "x"})
    with pytest.raises(InputError) as exc:
        croissant(broken)
    assert "\n" not in str(exc.value)


def test_round_trip_mlcroissant_misspells_and_drops_two_rai_properties(audited):
    """mlcroissant 1.1.1 maps its RAI attributes to ``rai:dataCollectionTimeFrame`` and
    ``rai:dataDataManipulationProtocol``, where the RAI 1.0 vocabulary has ``dataCollectionTimeframe``
    and ``dataManipulationProtocol``: loading the export leaves those two attributes empty (the values
    survive only as unrecognised extra properties) and mlcroissant writes its own spellings."""
    import datetime

    from mlcroissant._src.core import constants

    theirs = {str(getattr(constants, n)).rsplit("/", 1)[-1] for n in dir(constants) if n.startswith("ML_COMMONS_RAI_")}
    assert sorted(set(RAI_PROPERTIES) - theirs) == sorted(MLCROISSANT_SPELLINGS)
    assert sorted(theirs - set(RAI_PROPERTIES)) == sorted(MLCROISSANT_SPELLINGS.values())
    doc, _ = croissant(audited["run"], base=audited["out"].parent, attestations=ATTESTED)
    assert doc["rai:dataManipulationProtocol"] and doc["rai:dataCollectionTimeframe"]
    meta = mlc.Dataset(jsonld=doc).metadata
    assert meta.data_manipulation_protocol is None and meta.data_collection_timeframe is None  # dropped
    assert meta.data_use_cases == [f"Reviewer's attestation: {ATTESTED['uses']}"]  # the others load
    assert meta.data_limitations == doc["rai:dataLimitations"]
    back = meta.to_json()
    assert back["rai:dataManipulationProtocol"] == doc["rai:dataManipulationProtocol"]  # kept as an extra property
    written = mlc.Metadata(name="x", description="d", url="https://example.org", license=["https://x"], cite_as="c",
                           version="1.0.0", date_published=datetime.datetime(2026, 1, 1),
                           data_collection_timeframe=[datetime.datetime(2020, 1, 1), datetime.datetime(2022, 1, 1)],
                           data_manipulation_protocol="none").to_json()
    assert {k for k in written if k.startswith("rai:")} == {"rai:dataCollectionTimeFrame",
                                                            "rai:dataDataManipulationProtocol"}
    from synthproof.checks.provenance.croissant_rai import rai_fields

    found = rai_fields(written)
    assert found["misplaced"] == {"dataCollectionTimeframe": "rai:dataCollectionTimeFrame",
                                  "dataManipulationProtocol": "rai:dataDataManipulationProtocol"}
    assert "dataManipulationProtocol" not in found["present"]


def test_sharded_input_is_a_file_set(tmp_path, adult):
    syn = tmp_path / "data" / "syn"
    syn.mkdir(parents=True)
    adult.iloc[:300].to_parquet(syn / "part-0.parquet")
    adult.iloc[300:600].to_parquet(syn / "part-1.parquet")
    adult.iloc[600:1200].to_parquet(tmp_path / "data" / "real.parquet")
    r = cli("audit", "--real", str(tmp_path / "data" / "real.parquet"), "--synthetic", str(syn), "--out",
            str(tmp_path / "run"), "--families", "validity")
    assert r.returncode in (0, 1), r.stderr
    out = tmp_path / "c.json"
    warnings = write_croissant(tmp_path / "run", out)
    doc = json.loads(out.read_text())
    fs = next(f for f in doc["distribution"] if f["@type"] == "cr:FileSet")
    assert fs["includes"] == ["data/syn/part-0.parquet", "data/syn/part-1.parquet"]
    shards = [f for f in doc["distribution"] if f["@id"].startswith("synthetic-data/")]
    assert [f["sha256"] for f in shards] == [sha256(syn / "part-0.parquet"), sha256(syn / "part-1.parquet")]
    ds = mlc.Dataset(jsonld=str(out))
    assert ds.metadata.ctx.issues.errors == set() and len(list(ds.records("synthetic"))) == 600
    assert not any("FileSet" in w for w in warnings)
    below = write_croissant(tmp_path / "run", tmp_path / "elsewhere" / "c.json")
    assert any("only below the Croissant file's folder" in w for w in below)


# ------------------------------------------------------------------------------------ the check

def _check(path=None):
    from synthproof.check import registry
    from synthproof.config import parse_config
    from synthproof.context import AuditContext
    from synthproof.runner import run_check
    from synthproof.schema import prepare

    frame = pa.table({"x": np.arange(40.0)})
    cfg = parse_config({"provenance": {"croissant": str(path)}} if path else {})
    ctx = AuditContext(data=prepare(frame, frame, None), seed=0, n_splits=20, alpha=0.05, settings=cfg)
    return run_check(registry()["provenance.croissant_rai"](), ctx)


def _doc(**rai):
    return {"@context": {"@vocab": "https://schema.org/", "rai": "http://mlcommons.org/croissant/RAI/",
                         "cr": "http://mlcommons.org/croissant/", "dct": "http://purl.org/dc/terms/",
                         "conformsTo": "dct:conformsTo", "biases": "rai:dataBiases"},
            "@type": "sc:Dataset", "name": "x", "conformsTo": "http://mlcommons.org/croissant/RAI/1.0", **rai}


def _write(tmp_path, doc, name="c.json"):
    p = tmp_path / name
    p.write_text(doc if isinstance(doc, str) else json.dumps(doc))
    return p


def test_check_skips_without_a_file_and_errors_on_a_bad_one(tmp_path):
    (f,) = _check()
    assert (f.status, f.reason_code) == ("skipped", "not_configured")
    for content, why in (("{not json", "Expecting property name"), ("[1, 2]", "not a JSON object"),
                         (json.dumps({"@type": "sc:Organization"}), "no sc:Dataset node")):
        (f,) = _check(_write(tmp_path, content))
        assert (f.status, f.reason_code) == ("error", "invalid_file") and why in f.message, f.message
    (f,) = _check(tmp_path / "missing.json")
    assert f.status == "error" and "No such file" in f.message


def test_check_fails_on_missing_empty_or_misplaced_fields_and_passes_when_filled(tmp_path, audited):
    full = {f"rai:{p}": f"answer for {p}" for p in REVIEWER_FIELDS}
    (f,) = _check(_write(tmp_path, _doc(**full)))
    assert f.status == "pass" and f.value == 0 and "all 7 RAI fields" in f.message
    alias = {**full, "biases": [{"@value": "aliased term"}]}
    del alias["rai:dataBiases"]
    alias["http://mlcommons.org/croissant/RAI/dataUseCases"] = alias.pop("rai:dataUseCases")
    (f,) = _check(_write(tmp_path, _doc(**alias)))
    assert f.status == "pass", f.message  # a term alias and a full IRI count
    bad = {**full, "rai:dataLimitations": "  ", "cr:dataBiases": "wrong namespace"}
    del bad["rai:dataBiases"]
    (f,) = _check(_write(tmp_path, _doc(**bad)))
    assert f.status == "fail" and f.value == 2 and f.reason_code == "missing_tag"
    ev = f.evidence
    assert ev["missing"] == ["dataLimitations", "dataBiases"] and ev["misplaced"] == {"dataBiases": "cr:dataBiases"}
    assert "rai:dataBiases is given as 'cr:dataBiases', which is another IRI" in f.message
    assert "rai:dataLimitations is empty" in f.message
    # The export itself: the run fills four of the seven; the reviewer's answers the rest.
    (f,) = _check(audited["out"])
    assert f.status == "fail" and f.evidence["missing"] == [
        "dataUseCases", "dataReleaseMaintenancePlan", "dataManipulationProtocol"]
    answered = tmp_path / "answered.json"
    assert write_croissant(audited["run"], answered, attestations=ATTESTED) == []
    (f,) = _check(answered)
    assert f.status == "pass", f.message


def test_attestation_file_answers_fill_rai_properties(audited):
    from synthproof.compliance.record import Attestations

    att = Attestations({"Art. 10(2)(h)": "Rare occupations are under-sampled.", "Art. 10(2)(a)": "design"},
                       {"uses": "Model pre-training only.", "motivation": "why"})
    doc, warnings = croissant(audited["run"], attestations=att)
    assert doc["rai:dataLimitations"][-1] == "Reviewer's attestation: Rare occupations are under-sampled."
    assert doc["rai:dataUseCases"] == "Reviewer's attestation: Model pre-training only."
    assert "design" not in json.dumps(doc) and "why" not in json.dumps(doc)  # no RAI property for these
    assert not any("dataUseCases" in w for w in warnings)
