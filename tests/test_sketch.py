"""Shard states end to end: ``sketch --shard I/N`` + ``audit --states`` give the findings of one
out-of-core run (byte for byte, run facts aside) for any shard count, and every state set that
cannot be trusted is refused with exit 2 naming the file."""

from __future__ import annotations

import io as _io
import os
import shutil
import subprocess
import sys

import numpy as np
import pyarrow.parquet as pq
import pytest
import yaml

from synthproof import api
from synthproof.cli import main
from synthproof.findings import findings_to_table
from synthproof.plan.shards import PHASES, span_of
from synthproof.states import read_state, state_bytes

#: Out of core (the states' path) with a holdout: every streamed family runs, subgroups included.
CONFIG = {"resources": {"out_of_core": "on"}, "bias": {"target": "income"}}


def findings_bytes(result) -> bytes:
    """``findings.parquet`` as written, without the run facts (run id, times) in its metadata."""
    buf = _io.BytesIO()
    pq.write_table(findings_to_table(result.finding_list), buf, compression="zstd")
    return buf.getvalue()


@pytest.fixture(scope="module")
def inputs(tmp_path_factory, adult):
    """Adult's train half as two Parquet files (a shard's span crosses the file boundary), an SDV
    synthesizer's rows as CSV, the holdout half as CSV."""
    from synthproof import datasets

    d = tmp_path_factory.mktemp("sketch")
    real = datasets.load("adult", split="train")
    (d / "real").mkdir()
    real.iloc[:9000].to_parquet(d / "real" / "part-0.parquet")
    real.iloc[9000:].to_parquet(d / "real" / "part-1.parquet")
    datasets.load("adult_sdv_gaussiancopula").to_csv(d / "syn.csv", index=False)
    datasets.load("adult", split="holdout").to_csv(d / "hold.csv", index=False)
    (d / "config.yaml").write_text(yaml.safe_dump(CONFIG))
    return d


def _sources(d):
    return str(d / "real"), str(d / "syn.csv"), str(d / "hold.csv")


def _sketch_all(d, n: int, out) -> None:
    for phase in PHASES:
        for i in range(n):
            got, path = api.sketch(*_sources(d), shard=f"{i}/{n}", out=out, config=d / "config.yaml")
            assert got == phase and path.is_file()


@pytest.fixture(scope="module")
def local(inputs):
    return api.audit(*_sources(inputs), config=inputs / "config.yaml")


@pytest.mark.parametrize("n", [1, 3, 7])
def test_states_equal_one_run(inputs, local, tmp_path, n):
    _sketch_all(inputs, n, tmp_path / "st")
    got = api.audit(config=inputs / "config.yaml", states=tmp_path / "st")
    assert findings_bytes(got) == findings_bytes(local)
    assert got.manifest["inputs"] == local.manifest["inputs"]  # the same fingerprints, composed per file
    assert got.passed == local.passed
    # Every family that streams ran: drift shapes and pairs, subgroups, duplicates, validity.
    ran = {f.check_id for f in got.finding_list if f.status in ("pass", "warn", "fail")}
    assert {"drift.ks", "drift.pair_association", "duplication.exact_copies", "validity.column_quality"} <= ran
    assert any(f.check_id.startswith("bias.") for f in got.finding_list if f.status != "skipped")
    # A shard holds only its rows: the sample states of 7 shards hold fewer rows than the whole.
    if n == 7:
        header, _ = read_state(tmp_path / "st" / "2-sample-00003-of-00007.state")
        assert header.shard == 3 and header.kind == "sample"


def test_spans_partition_the_rows():
    for rows in (0, 1, 6, 7, 8, 32561):
        for n in (1, 3, 7):
            spans = [span_of(i, n, rows) for i in range(n)]
            assert spans[0][0] == 0 and spans[-1][1] == rows
            assert all(a[1] == b[0] for a, b in zip(spans, spans[1:]))


def _cli(*args, capsys=None):
    with pytest.raises(SystemExit) as exc:
        main(list(args))
    return exc.value.code


@pytest.fixture(scope="module")
def states(inputs, tmp_path_factory):
    out = tmp_path_factory.mktemp("states") / "st"
    _sketch_all(inputs, 3, out)
    return out


def _copy(states, tmp_path):
    dst = tmp_path / "st"
    shutil.copytree(states, dst)
    return dst


def _refused(inputs, folder, capsys, *extra) -> str:
    code = _cli("audit", "--states", str(folder), "--config", str(inputs / "config.yaml"),
                "--out", str(folder.parent / "out"), *extra)
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.count("\n") == 1 and err.startswith("synthproof: error: ")
    assert not (folder.parent / "out" / "findings.parquet").exists()
    return err


def test_missing_shard_refused(inputs, states, tmp_path, capsys):
    st = _copy(states, tmp_path)
    (st / "3-scan-00001-of-00003.state").unlink()
    err = _refused(inputs, st, capsys)
    assert "1 of 3 shard state(s) missing (shard 1)" in err


def test_duplicate_shard_refused(inputs, states, tmp_path, capsys):
    st = _copy(states, tmp_path)
    shutil.copy(st / "4-count-00002-of-00003.state", st / "4-count-00002-of-00003.copy.state")
    err = _refused(inputs, st, capsys)
    assert "shard 2 of 3 is present twice" in err and "4-count-00002-of-00003.copy.state" in err


def test_truncated_and_tampered_refused(inputs, states, tmp_path, capsys):
    st = _copy(states, tmp_path)
    path = st / "3-scan-00000-of-00003.state"
    raw = path.read_bytes()
    path.write_bytes(raw[:-10])
    assert "3-scan-00000-of-00003.state is truncated" in _refused(inputs, st, capsys)
    flipped = bytearray(raw)
    flipped[-5] ^= 0xFF
    path.write_bytes(bytes(flipped))
    assert "3-scan-00000-of-00003.state fails its checksum" in _refused(inputs, st, capsys)


def test_other_version_refused_with_version_named(inputs, states, tmp_path, capsys):
    import dataclasses

    st = _copy(states, tmp_path)
    path = st / "2-sample-00001-of-00003.state"
    header, arrays = read_state(path)
    path.write_bytes(state_bytes(dataclasses.replace(header, version="0.0.1"), dict(arrays)))
    err = _refused(inputs, st, capsys)
    assert "written by synthproof 0.0.1" in err and "2-sample-00001-of-00003.state" in err


def test_other_config_seed_or_inputs_refused(inputs, states, tmp_path, capsys):
    st = _copy(states, tmp_path)
    other = tmp_path / "other.yaml"
    other.write_text(yaml.safe_dump({**CONFIG, "calibration": {"n_splits": 50}}))
    code = _cli("audit", "--states", str(st), "--config", str(other), "--out", str(tmp_path / "o1"))
    assert code == 2 and "made with another config than this run" in capsys.readouterr().err
    code = _cli("audit", "--states", str(st), "--config", str(inputs / "config.yaml"), "--seed", "7",
                "--out", str(tmp_path / "o2"))
    err = capsys.readouterr().err
    assert code == 2 and ("another config" in err or "another seed" in err)
    # An input changed after the sketch (a file's size): its listing no longer matches.
    changed = tmp_path / "syn.csv"
    changed.write_bytes((inputs / "syn.csv").read_bytes() + b"\n")
    code = _cli("audit", "--states", str(st), "--config", str(inputs / "config.yaml"), "--real",
                str(inputs / "real"), "--synthetic", str(changed), "--holdout", str(inputs / "hold.csv"),
                "--out", str(tmp_path / "o3"))
    assert code == 2 and "another input listing" in capsys.readouterr().err
    # A state of another shard count mixed in.
    header, arrays = read_state(st / "1-rows-00000-of-00003.state")
    import dataclasses

    (st / "1-rows-00000-of-00004.state").write_bytes(state_bytes(dataclasses.replace(header, shards=4), dict(arrays)))
    err = _refused(inputs, st, capsys)
    assert "another shard count" in err


def test_sketch_refuses_a_phase_before_the_last_is_complete(inputs, tmp_path, capsys):
    st = tmp_path / "st"
    for i in range(2):  # phase 1 of shards 0 and 1 only
        assert _cli("sketch", "--real", str(inputs / "real"), "--synthetic", str(inputs / "syn.csv"), "--holdout",
                    str(inputs / "hold.csv"), "--config", str(inputs / "config.yaml"), "--shard", f"{i}/3",
                    "--out", str(st)) == 0
        assert f"shard {i}/3: wrote phase 1 of 4 (rows)" in capsys.readouterr().out
    code = _cli("sketch", "--real", str(inputs / "real"), "--synthetic", str(inputs / "syn.csv"), "--holdout",
                str(inputs / "hold.csv"), "--config", str(inputs / "config.yaml"), "--shard", "0/3", "--out", str(st))
    err = capsys.readouterr().err
    assert code == 2 and "1 of 3 shard state(s) missing (shard 2)" in err
    assert _cli("sketch", "--real", "x", "--synthetic", "y", "--shard", "3/3", "--out", str(st)) == 2
    assert "--shard must be I/N with 0 <= I < N" in capsys.readouterr().err


#: The text checks that read the corpus pass (every corpus tap: MinHash, spans, seq-rep, eval hits,
#: hidden markers, KGW scores), without the embedding checks (their sample comes from the pool).
TEXT = {"resources": {"out_of_core": "on"}, "suite": "listed", "checks": {
    c: {} for c in ("duplication.text_exact_duplicates", "duplication.text_near_duplicates",
                    "duplication.text_memorisation", "duplication.contamination", "diversity.text_repetition",
                    "diversity.text_distinct_n", "drift.text_descriptors", "provenance.hidden_markers",
                    "provenance.kgw_watermark", "validity.column_quality")}}


@pytest.fixture(scope="module")
def text_inputs(tmp_path_factory):
    """Debian fortunes against SmolLM2's texts (JSON Lines in two files), with planted copies and an
    eval set drawn from the real texts; the config path, the sources and the one local run."""
    import pandas as pd

    from synthproof import datasets

    tmp_path = tmp_path_factory.mktemp("text")
    real = datasets.load("fortunes")
    syn = datasets.load("fortunes_smollm2")
    syn = pd.concat([syn, real.iloc[:40][syn.columns.intersection(real.columns)]], ignore_index=True)
    real.to_parquet(tmp_path / "real.parquet")
    (tmp_path / "syn").mkdir()
    half = len(syn) // 2
    syn.iloc[:half].to_json(tmp_path / "syn" / "a.jsonl", orient="records", lines=True)
    syn.iloc[half:].to_json(tmp_path / "syn" / "b.jsonl", orient="records", lines=True)
    real.iloc[:25][["text"]].to_json(tmp_path / "eval.jsonl", orient="records", lines=True)
    cfg = {**TEXT, "text": {"eval_sets": [str(tmp_path / "eval.jsonl")]}}
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(cfg))
    src = (str(tmp_path / "real.parquet"), str(tmp_path / "syn"))
    return tmp_path / "c.yaml", src, api.audit(*src, config=tmp_path / "c.yaml")


@pytest.mark.parametrize("shards", [1, 3, 7])
def test_text_states_equal_one_run(text_inputs, shards, tmp_path):
    """Every tap's output of the corpus merges from shard states to the one run's findings."""
    config, src, one = text_inputs
    for phase in PHASES:
        for i in range(shards):
            assert api.sketch(*src, shard=f"{i}/{shards}", out=tmp_path / "st", config=config)[0] == phase
    got = api.audit(config=config, states=tmp_path / "st")
    assert findings_bytes(got) == findings_bytes(one)
    judged = {f.check_id for f in got.finding_list if f.status in ("pass", "warn", "fail")}
    assert set(TEXT["checks"]) - {"validity.column_quality"} <= judged
    copied = [f for f in got.finding_list if f.check_id == "duplication.text_memorisation" and f.scope == "row"]
    assert len(copied) == 20  # the planted real texts, named up to report.max_row_findings
    hits = [f for f in got.finding_list if f.check_id == "duplication.contamination" and f.scope == "column"]
    assert hits and hits[0].status == "fail"  # the eval items are among the planted copies


def test_text_hash_seed_does_not_change_the_findings(text_inputs, tmp_path):
    """The corpus run from the command line under two PYTHONHASHSEEDs: the in-process run's findings."""
    config, src, one = text_inputs
    outs = []
    for seed in ("0", "4242"):
        out = tmp_path / f"out{seed}"
        r = subprocess.run([sys.executable, "-m", "synthproof.cli", "audit", "--real", src[0], "--synthetic", src[1],
                            "--config", str(config), "--out", str(out)], capture_output=True, text=True,
                           env={**os.environ, "PYTHONHASHSEED": seed}, timeout=900)
        assert r.returncode in (0, 1), r.stderr
        outs.append(pq.read_table(out / "findings.parquet").replace_schema_metadata(None))
    assert outs[0].equals(outs[1])
    assert outs[0].equals(findings_to_table(one.finding_list).replace_schema_metadata(None))


def test_hash_seed_does_not_change_the_findings(inputs, states, local, tmp_path):
    outs = []
    for seed in ("0", "4242"):
        out = tmp_path / f"out{seed}"
        env = {**os.environ, "PYTHONHASHSEED": seed}
        r = subprocess.run([sys.executable, "-m", "synthproof.cli", "audit", "--states", str(states), "--config",
                            str(inputs / "config.yaml"), "--out", str(out)], capture_output=True, text=True,
                           env=env, timeout=600)
        assert r.returncode in (0, 1), r.stderr
        outs.append(pq.read_table(out / "findings.parquet").replace_schema_metadata(None))
    assert outs[0].equals(outs[1])
    ref = findings_to_table(local.finding_list).replace_schema_metadata(None)
    assert outs[0].equals(ref)
    assert np.array_equal(outs[0].column("value").to_numpy(zero_copy_only=False),
                          ref.column("value").to_numpy(zero_copy_only=False), equal_nan=True)


def test_states_with_valid_checksums_that_do_not_fit_are_refused(inputs, states, tmp_path, capsys):
    """A state rewritten with a fresh checksum but a tree that is not a count state (by hand, or a
    bug) is exit 2 naming the folder, not an internal error."""
    st = _copy(states, tmp_path)
    path = st / "4-count-00001-of-00003.state"
    header, arrays = read_state(path)
    header.meta["tree"] = {"$k": [["fine", {"$k": [["no_such_column", 1]]}]]}
    path.write_bytes(state_bytes(header, dict(arrays)))
    err = _refused(inputs, st, capsys)
    assert "do not merge" in err and str(st) in err


def test_relative_paths_are_recorded_absolute(inputs, tmp_path, monkeypatch):
    """Shards sketched from one folder with relative paths, audited from another."""
    monkeypatch.chdir(inputs)
    for phase in PHASES:
        api.sketch("real", "syn.csv", shard="0/1", out=tmp_path / "st", config="config.yaml")
    monkeypatch.chdir(tmp_path)
    header, _ = read_state(tmp_path / "st" / "1-rows-00000-of-00001.state")
    assert header.meta["sources"] == {"real": str(inputs / "real"), "synthetic": str(inputs / "syn.csv")}
    got = api.audit(config=inputs / "config.yaml", states=tmp_path / "st")
    assert got.manifest["inputs"][0]["source"] == str(inputs / "real")
