"""The Slurm array and Kubernetes indexed Job examples (examples/slurm, examples/kubernetes), run
as written with stand-ins for ``sbatch`` and ``kubectl`` (tests/fakes) that start each array or
indexed Job as N local processes: the report's findings equal one local out-of-core run's."""

from __future__ import annotations

import os
import pathlib
import shutil
import subprocess
import sys

import pyarrow.parquet as pq

from synthproof.findings import findings_to_table

from .test_sketch import CONFIG, inputs, local  # noqa: F401  (fixtures)

ROOT = pathlib.Path(__file__).resolve().parents[1]
FAKES = pathlib.Path(__file__).resolve().parent / "fakes"


def _env(**extra) -> dict:
    # The fakes and `synthproof` from this environment first (python3 is this interpreter).
    path = os.pathsep.join([str(FAKES), os.path.dirname(sys.executable), os.environ.get("PATH", "")])
    return {**os.environ, "PATH": path, **extra}


def _same_findings(report: pathlib.Path, local) -> None:  # noqa: F811
    got = pq.read_table(report / "findings.parquet").replace_schema_metadata(None)
    assert got.equals(findings_to_table(local.finding_list).replace_schema_metadata(None))


def test_slurm_array_example(inputs, local, tmp_path):  # noqa: F811
    env = _env(REAL=str(inputs / "real"), SYNTHETIC=str(inputs / "syn.csv"), HOLDOUT=str(inputs / "hold.csv"),
               CONFIG=str(inputs / "config.yaml"), STATES=str(tmp_path / "states"), OUT=str(tmp_path / "report"),
               SHARDS="3", FAKE_SLURM_DIR=str(tmp_path / "slurm"))
    r = subprocess.run(["bash", str(ROOT / "examples" / "slurm" / "submit.sh")], env=env, capture_output=True,
                       text=True, timeout=900)
    assert r.returncode == 0, r.stderr
    jobs = sorted((tmp_path / "slurm").iterdir())
    assert len(jobs) == 5 and [j.read_text() for j in jobs[:4]] == ["0"] * 4  # four phases, then the audit
    assert jobs[4].read_text() == ("0" if local.passed else "1")
    assert len(list((tmp_path / "states").glob("*.state"))) == 4 * 3
    _same_findings(tmp_path / "report", local)


def test_kubernetes_indexed_job_example(inputs, local, tmp_path):  # noqa: F811
    data = tmp_path / "data"
    shutil.copytree(inputs / "real", data / "real")
    shutil.copy(inputs / "syn.csv", data / "synthetic.csv")
    shutil.copy(inputs / "hold.csv", data / "holdout.csv")
    shutil.copy(inputs / "config.yaml", data / "audit.yaml")
    env = _env(SHARDS="2", FAKE_K8S_DATA=str(data), FAKE_K8S_STATE=str(tmp_path / "k8s"))
    r = subprocess.run(["bash", str(ROOT / "examples" / "kubernetes" / "run.sh")], env=env, capture_output=True,
                       text=True, timeout=900)
    assert r.returncode == (0 if local.passed else 1), r.stderr
    assert sorted(p.name for p in (tmp_path / "k8s").iterdir()) == [
        "synthproof-audit", *(f"synthproof-sketch-{k}" for k in range(1, 5))]
    assert len(list((data / "states").glob("*.state"))) == 4 * 2
    _same_findings(data / "report", local)
