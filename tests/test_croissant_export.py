"""The Croissant 1.1 + RAI 1.0 export of a run (issue 16 acceptance): it validates with mlcroissant
(no errors), its fingerprints are the SHA-256 of the files, its RAI properties carry the run's
numbers, and the two RAI 1.0 properties mlcroissant 1.1.1 spells differently are recorded."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys

import pytest

from synthproof.compliance.rai import MLCROISSANT_SPELLINGS, RAI_PROPERTIES


def cli(*args):
    return subprocess.run([sys.executable, "-m", "synthproof.cli", *args], capture_output=True, text=True)


@pytest.fixture(scope="module")
def exported(adult, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("croissant")
    real = adult.iloc[:1000].reset_index(drop=True)
    syn = adult.iloc[1000:1900].reset_index(drop=True)
    syn = __import__("pandas").concat([syn, real.iloc[:100]], ignore_index=True)  # 100 copies of real rows
    real.to_parquet(tmp / "real.parquet")
    syn.to_parquet(tmp / "syn.parquet")
    r = cli("audit", "--real", str(tmp / "real.parquet"), "--synthetic", str(tmp / "syn.parquet"), "--out",
            str(tmp / "run"), "--families", "drift,duplication,bias")
    assert r.returncode in (0, 1), r.stderr
    r = cli("compliance", str(tmp / "run"), "--croissant", str(tmp / "run" / "croissant.json"))
    assert r.returncode == 0, r.stderr
    return tmp, json.loads((tmp / "run" / "croissant.json").read_text())


def test_export_validates_with_mlcroissant(exported):
    import mlcroissant as mlc

    _, doc = exported
    ds = mlc.Dataset(jsonld=doc)  # raises ValidationError on any error
    assert ds.metadata.name and doc["conformsTo"]
    assert {rs["name"] if "name" in rs else rs["@id"] for rs in doc["recordSet"]}


def test_fingerprints_match_the_files(exported):
    tmp, doc = exported
    objs = [d for d in doc["distribution"] if d["@type"] == "cr:FileObject"]
    assert objs
    for d in objs:
        f = (tmp / "run" / d["contentUrl"]).resolve()
        assert d["sha256"] == hashlib.sha256(f.read_bytes()).hexdigest(), d["contentUrl"]
    assert {pathlib_name(d["contentUrl"]) for d in objs} >= {"real.parquet", "syn.parquet"}


def pathlib_name(url: str) -> str:
    return url.rsplit("/", 1)[-1]


def test_rai_fields_carry_the_runs_findings(exported):
    _, doc = exported
    pre = doc["rai:dataPreprocessingProtocol"]
    text = pre if isinstance(pre, str) else "\n".join(pre)
    assert "100" in text  # the 100 planted copies of real rows
    assert "rai:dataBiases" in doc and "rai:dataLimitations" in doc


def test_mlcroissant_spells_two_rai_properties_differently():
    """RAI 1.0's vocabulary names dataCollectionTimeframe and dataManipulationProtocol; mlcroissant 1.1.1
    reads dataCollectionTimeFrame and dataDataManipulationProtocol, so a file using the vocabulary's
    names loses them on a round trip. This test breaks when mlcroissant fixes its spelling."""
    from mlcroissant._src.core import constants

    assert set(MLCROISSANT_SPELLINGS) <= set(RAI_PROPERTIES)
    names = {str(v).rsplit("/", 1)[-1] for k, v in vars(constants).items() if k.startswith("ML_COMMONS_RAI_")}
    for vocab, theirs in MLCROISSANT_SPELLINGS.items():
        assert vocab not in names and theirs in names


def test_a_bad_croissant_path_exits_2(exported):
    tmp, _ = exported
    r = cli("compliance", str(tmp / "run"), "--croissant", str(tmp / "run" / "findings.parquet"))
    assert r.returncode == 2 and "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert r.stderr.count("synthproof: error") == 1
