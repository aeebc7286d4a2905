"""The ready-made CI integrations run as written on bundled data (UCI Adult): the GitHub Action's
audit step, the pre-commit hook's command, the GitLab job's script and the Makefile target. What
each installs (pip) is the project already installed here."""

from __future__ import annotations

import os
import pathlib
import shlex
import shutil
import subprocess
import sys

import pytest
import yaml

from .test_cli import ONLY, files  # noqa: F401  (fixture)
from .test_junit import XSD

ROOT = pathlib.Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", "")}


def _substitute(value: str, inputs: dict) -> str:
    """GitHub's ``${{ inputs.NAME }}`` substitution (the only expression the step's env uses)."""
    for name, v in inputs.items():
        value = value.replace("${{ inputs.%s }}" % name, v)
    assert "${{" not in value, value
    return value


def _action_step(tmp_path, given: dict):
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    inputs = {k: str(v.get("default", "")) for k, v in action["inputs"].items()} | given
    step = next(s for s in action["runs"]["steps"] if s.get("id") == "audit")
    env = {k: _substitute(v, inputs) for k, v in step["env"].items()}
    out_file, summary = tmp_path / "github_output", tmp_path / "step_summary"
    out_file.write_text("")
    summary.write_text("")
    r = subprocess.run(["bash", "-e", "-c", step["run"]], cwd=tmp_path, capture_output=True, text=True, timeout=600,
                       env={**ENV, **env, "GITHUB_OUTPUT": str(out_file), "GITHUB_STEP_SUMMARY": str(summary)})
    outputs = dict(line.split("=", 1) for line in out_file.read_text().splitlines())
    return r, outputs, summary.read_text(), action


def test_github_action_gates_and_reports(files, tmp_path):  # noqa: F811
    common = {"real": str(files / "real.parquet"), "config": str(files / "only.yaml")}
    r, outputs, summary, action = _action_step(tmp_path, {**common, "synthetic": str(files / "bad.csv")})
    assert r.returncode == 1, r.stderr
    assert outputs == {"verdict": "fail", "report": "synthproof-report/report.html"}
    assert (tmp_path / "synthproof-report" / "report.html").is_file()
    XSD.validate(str(tmp_path / "synthproof-report.junit.xml"))
    assert summary.startswith("## synthproof: FAIL") and "drift.ks" in summary
    assert any(line.startswith("::error title=synthproof drift.ks") for line in r.stdout.splitlines())
    (tmp_path / "again").mkdir()
    r, outputs, _, _ = _action_step(tmp_path / "again", {**common, "synthetic": str(files / "syn.csv")})
    assert r.returncode == 0 and outputs["verdict"] == "pass", r.stderr
    r, outputs, _, _ = _action_step(tmp_path, {**common, "synthetic": str(tmp_path / "missing.csv"), "out": "e"})
    assert r.returncode == 2 and outputs["verdict"] == "error"
    # Declared outputs come from the audit step; no run: script expands an input inline (injection).
    assert action["outputs"]["verdict"]["value"] == "${{ steps.audit.outputs.verdict }}"
    for step in action["runs"]["steps"]:
        assert "${{" not in step.get("run", "")
    upload = action["runs"]["steps"][-1]
    assert upload["uses"].startswith("actions/upload-artifact@") and "always()" in upload["if"]


def _config(tmp_path, files, synthetic):  # noqa: F811
    cfg = tmp_path / "synthproof.yaml"
    cfg.write_text(yaml.safe_dump({**ONLY, "real": str(files / "real.parquet"), "synthetic": str(files / synthetic)}))
    return cfg


@pytest.mark.parametrize("synthetic, code", [("bad.csv", 1), ("syn.csv", 0)])
def test_pre_commit_hook_command(files, tmp_path, synthetic, code):  # noqa: F811
    (hook,) = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert hook["language"] == "python" and hook["pass_filenames"] is False
    _config(tmp_path, files, synthetic)
    r = subprocess.run(shlex.split(hook["entry"]) + hook["args"], cwd=tmp_path, capture_output=True, text=True,
                       timeout=600, env=ENV)
    assert r.returncode == code, r.stderr
    assert ("gate FAILED" if code else "gate PASSED") in r.stdout


@pytest.mark.parametrize("synthetic, code", [("bad.csv", 1), ("syn.csv", 0)])
def test_gitlab_job_script(files, tmp_path, synthetic, code):  # noqa: F811
    job = yaml.safe_load((ROOT / "examples" / "ci" / "gitlab-ci.yml").read_text())["synthproof"]
    assert job["artifacts"]["when"] == "always" and job["artifacts"]["reports"]["junit"] == "synthproof-report.junit.xml"
    assert all("$" not in p for p in job["artifacts"]["paths"])  # expose_as needs literal paths
    cfg = _config(tmp_path, files, synthetic)
    variables = {**job["variables"], "SYNTHPROOF_REAL": str(files / "real.parquet"),
                 "SYNTHPROOF_SYNTHETIC": str(files / synthetic), "SYNTHPROOF_CONFIG": str(cfg)}
    for line in job["script"]:
        r = subprocess.run(["bash", "-e", "-c", line], cwd=tmp_path, capture_output=True, text=True, timeout=600,
                           env={**ENV, **variables})
        assert r.returncode == code, r.stderr
    XSD.validate(str(tmp_path / "synthproof-report.junit.xml"))
    assert (tmp_path / "synthproof-report" / "findings.parquet").is_file()


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
@pytest.mark.parametrize("synthetic, code", [("bad.csv", 2), ("syn.csv", 0)])
def test_makefile_target(files, tmp_path, synthetic, code):  # noqa: F811
    r = subprocess.run(["make", "-f", str(ROOT / "examples" / "ci" / "Makefile"), "synthproof-gate",
                        f"REAL={files / 'real.parquet'}", f"SYNTHETIC={files / synthetic}",
                        f"CONFIG={files / 'only.yaml'}", f"OUT={tmp_path / 'o'}"],
                       cwd=tmp_path, capture_output=True, text=True, timeout=600, env=ENV)
    assert r.returncode == code, r.stdout + r.stderr  # make exits 2 when its command fails
    assert ("gate FAILED" if synthetic == "bad.csv" else "gate PASSED") in r.stdout
    XSD.validate(str(tmp_path / "o.junit.xml"))
