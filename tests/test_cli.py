"""The command line: exit codes, one-line errors, the four files, checks/config/render commands."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pandas as pd
import pyarrow.parquet as pq
import pytest
import yaml

from synthproof.findings import SCHEMA

from .conftest import real_real

FILES = ("findings.parquet", "report.html", "manifest.json", "summary.json")
ONLY = {"suite": "listed", "checks": {"drift.ks": {}, "drift.tvd": {}, "duplication.exact_copies": {}}}


def cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "synthproof.cli", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=600)


@pytest.fixture(scope="module")
def files(tmp_path_factory, adult):
    d = tmp_path_factory.mktemp("cli")
    real, syn = real_real(adult, 1000, seed=1)
    real.to_parquet(d / "real.parquet")
    syn.to_csv(d / "syn.csv", index=False)
    shifted = syn.assign(age=syn.age + 10)
    shifted.to_csv(d / "bad.csv", index=False)
    (d / "only.yaml").write_text(yaml.safe_dump(ONLY))
    return d


def test_audit_pass_writes_contract_files(files):
    out = files / "out_pass"
    r = cli("audit", "--real", str(files / "real.parquet"), "--synthetic", str(files / "syn.csv"),
            "--config", str(files / "only.yaml"), "--out", str(out))
    assert r.returncode == 0, r.stderr
    for name in FILES:
        assert (out / name).is_file()
    table = pq.read_table(out / "findings.parquet")
    assert table.schema.remove_metadata().equals(SCHEMA)
    assert b"synthproof" in table.schema.metadata
    summary = json.loads((out / "summary.json").read_text())
    assert summary["passed"] is True and summary["verdict"] == "pass"
    manifest = json.loads((out / "manifest.json").read_text())
    assert {i["name"] for i in manifest["inputs"]} == {"real", "synthetic"}
    assert manifest["seed"] == 0 and manifest["config"]["suite"] == "listed"
    assert re.search(r"^(PASS|WARN) +drift.ks ", r.stdout, re.M)


def test_audit_fail_exit_1_and_fail_on_warn(files):
    out = files / "out_fail"
    r = cli("audit", "--real", str(files / "real.parquet"), "--synthetic", str(files / "bad.csv"),
            "--config", str(files / "only.yaml"), "--out", str(out))
    assert r.returncode == 1, r.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert "drift.ks" in summary["failing_checks"]


@pytest.mark.parametrize("case", ["missing", "empty", "header_only", "corrupt", "no_shared", "bad_config", "bad_flag"])
def test_usage_errors_exit_2_one_line_nothing_written(files, case, tmp_path):
    real = str(files / "real.parquet")
    syn = tmp_path / "syn.csv"
    args = ["audit", "--real", real, "--synthetic", str(syn), "--out", str(tmp_path / "out")]
    if case == "missing":
        pass
    elif case == "empty":
        syn.write_text("")
    elif case == "header_only":
        syn.write_text("age,workclass\n")
    elif case == "corrupt":
        syn = tmp_path / "syn.parquet"
        syn.write_bytes(b"PAR1garbage")
        args[4] = str(syn)
    elif case == "no_shared":
        pd.DataFrame({"zzz": [1, 2, 3]}).to_csv(syn, index=False)
    elif case == "bad_config":
        pd.read_csv(files / "syn.csv").to_csv(syn, index=False)
        cfg = tmp_path / "c.yaml"
        cfg.write_text("checks:\n  drift.ks: {min_effect: -1}\n")
        args += ["--config", str(cfg)]
    elif case == "bad_flag":
        args += ["--fail-on", "sometimes"]
    r = cli(*args)
    assert r.returncode == 2, (r.stdout, r.stderr)
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("synthproof: error:"), r.stderr
    assert "Traceback" not in r.stderr
    assert not (tmp_path / "out" / "findings.parquet").exists()


def test_config_validate_and_path_precise_errors(tmp_path):
    good = tmp_path / "good.yaml"
    good.write_text("version: 1\ncalibration: {n_splits: 50}\nchecks:\n  drift.psi: {severity: off}\n")
    r = cli("config", "validate", str(good))
    assert r.returncode == 0 and "valid" in r.stdout
    cases = {
        "calibration: {n_splits: 5}\n": "calibration.n_splits",
        "checks:\n  drift.kss: {}\n": "did you mean 'drift.ks'",
        "checks:\n  drift.ks: {min_effect: 2, bogus: 1}\n": "checks.drift.ks",
        "colums: {}\n": "colums: unknown key",
        "version: 7\n": "version: unsupported schema version",
        "a: [1, 2\n": "invalid YAML at line",
    }
    for text, expected in cases.items():
        bad = tmp_path / "bad.yaml"
        bad.write_text(text)
        r = cli("config", "validate", str(bad))
        assert r.returncode == 2 and expected in r.stderr, (text, r.stderr)


def test_checks_list_and_explain():
    r = cli("checks", "list")
    assert r.returncode == 0 and "drift.ks" in r.stdout and "duplication.dcr" in r.stdout
    r = cli("checks", "explain", "drift.ks")
    assert r.returncode == 0 and "ks_statistic" in r.stdout and "min_effect" in r.stdout
    r = cli("checks", "explain", "drift.kss")
    assert r.returncode == 2 and "did you mean" in r.stderr


def test_render_rebuilds_report(files, tmp_path):
    out = files / "out_pass"
    if not (out / "findings.parquet").exists():
        pytest.skip("depends on test_audit_pass_writes_contract_files")
    target = tmp_path / "again.html"
    r = cli("render", str(out / "findings.parquet"), "--out", str(target))
    assert r.returncode == 0, r.stderr
    html = target.read_text()
    assert "Gate: PASS" in html and "drift.ks" in html
    assert cli("render", str(tmp_path / "nope.parquet")).returncode == 2


def test_checks_list_aligned_and_json():
    r = cli("checks", "list")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    width = max(len(ln.split()[0]) for ln in lines)
    assert all(ln[width:width + 2] == "  " and ln[width + 2] != " " for ln in lines), "family column misaligned"
    r = cli("checks", "list", "--json")
    assert r.returncode == 0, r.stderr
    rows = json.loads(r.stdout)
    assert {"id", "family", "default_severity", "metric", "goal", "unit", "range", "summary", "source"} <= set(rows[0])
    assert [row["id"] for row in rows] == [ln.split()[0] for ln in lines]
    assert next(row for row in rows if row["id"] == "drift.ks")["family"] == "drift"


def test_summary_line_prints_normalised_paths(files, tmp_path):
    (tmp_path / "sub").mkdir()
    r = cli("audit", "--real", str(files / "real.parquet"), "--synthetic", str(files / "syn.csv"),
            "--config", str(files / "only.yaml"), "--out", "./sub/../out//", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    last = r.stdout.strip().splitlines()[-1]
    assert f"report: {tmp_path / 'out' / 'report.html'} · findings: {tmp_path / 'out' / 'findings.parquet'}" in last
    assert "/./" not in last and "/../" not in last
