"""Packaging (issue 12 item 7): the built wheel ships every module and data file of the source tree,
and installs and runs in a clean virtualenv without the editable checkout.

The wheel is built from a copy of the working tree (the repository's top-level files and the
``package-dir`` roots of pyproject.toml), so in-tree ``build/`` leftovers cannot hide a missing file
and the checkout stays untouched. Expected contents are computed from the source tree, not from
setup.py: a new subpackage or data file that the build leaves out fails here.
"""

from __future__ import annotations

import os
import pathlib
import shutil
import subprocess
import sys
import sysconfig
import tomllib
import zipfile

import numpy as np
import pytest

from synthproof.datasets import load

pytestmark = pytest.mark.slow

ROOT = pathlib.Path(__file__).resolve().parents[1]
_DEV_DIRS = {"tests", "bench"}  # never packaged, at any depth
_SKIP_SUFFIXES = {".pyc", ".pyo"}


def _package_dir() -> dict[str, str]:
    with open(ROOT / "pyproject.toml", "rb") as fh:
        return dict(tomllib.load(fh)["tool"]["setuptools"]["package-dir"])


def _source_files(folder: pathlib.Path):
    """Files under ``folder`` that belong in the package (code and data), relative to it."""
    for p in sorted(folder.rglob("*")):
        rel = p.relative_to(folder)
        if not p.is_file() or p.suffix in _SKIP_SUFFIXES or p.name.endswith("~"):
            continue
        if any(part == "__pycache__" or part.startswith(".") or part in _DEV_DIRS for part in rel.parts):
            continue
        yield rel


def expected_wheel_files() -> set[str]:
    out = set()
    for name, folder in _package_dir().items():
        prefix = pathlib.PurePosixPath(*name.split("."))
        out.update((prefix / rel.as_posix()).as_posix() for rel in _source_files(ROOT / folder))
    return out


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    env.update(PYTHONNOUSERSITE="1", PIP_DISABLE_PIP_VERSION_CHECK="1", PIP_NO_INPUT="1")
    return env


def _run(cmd, cwd, timeout=180) -> subprocess.CompletedProcess:
    return subprocess.run([str(c) for c in cmd], cwd=cwd, env=_env(), capture_output=True, text=True,
                          timeout=timeout)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> pathlib.Path:
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"
    src.mkdir()
    for p in ROOT.iterdir():  # pyproject.toml, setup.py, README.md, MANIFEST.in, ...
        if p.is_file():
            shutil.copy2(p, src / p.name)
    for folder in set(_package_dir().values()):
        shutil.copytree(ROOT / folder, src / folder, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    out = tmp / "wheelhouse"
    r = _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
              "-q", "-w", out, src], cwd=tmp)
    assert r.returncode == 0, r.stdout + r.stderr
    wheels = list(out.glob("synthproof-*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


def test_wheel_ships_every_module_and_data_file(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    ours = {n for n in names if n.startswith("synthproof/")}
    expected = expected_wheel_files()
    assert any(n.endswith(".py") and n.startswith("synthproof/checks/") for n in expected)  # sanity
    assert {"synthproof/reports/templates/report.html.j2", "synthproof/datasets/data/adult.parquet",
            "synthproof/datasets/data/smollm2_tokenizer/tokenizer.json"} <= expected
    assert sorted(expected - ours) == [], "missing from the wheel"
    assert sorted(ours - expected) == [], "in the wheel but not in the source tree"
    others = {n for n in names - ours if not n.split("/")[0].endswith(".dist-info")}
    assert others == set(), "unexpected top-level entries"
    assert not any(set(n.split("/")) & _DEV_DIRS for n in names)
    entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    assert "synthproof = synthproof.cli:main" in zipfile.ZipFile(wheel).read(entry_points).decode()


def test_wheel_installs_and_audits_in_a_clean_venv(wheel, tmp_path):
    venv = tmp_path / "venv"
    r = _run([sys.executable, "-m", "venv", "--without-pip", venv], cwd=tmp_path, timeout=120)
    assert r.returncode == 0, r.stderr
    py = venv / "bin" / "python"
    # The dependencies come from the dev venv's site-packages, added as a plain path: .pth files in a
    # directory added by a .pth line are not processed, so the editable finder of the checkout isn't.
    site = pathlib.Path(_run([py, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             cwd=tmp_path).stdout.strip())
    dev = dict.fromkeys(sysconfig.get_paths()[k] for k in ("purelib", "platlib"))
    (site / "synthproof_test_deps.pth").write_text("".join(f"{d}\n" for d in dev), encoding="utf-8")

    before = _run([py, "-c", "import numpy, pandas, click, jinja2\nimport synthproof"], cwd=tmp_path)
    assert before.returncode != 0 and "No module named 'synthproof'" in before.stderr, before.stderr

    r = _run([sys.executable, "-m", "pip", "--python", py, "install", "--no-deps", "--no-index",
              "--ignore-installed", "-q", wheel], cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    where = _run([py, "-c", "import synthproof; print(synthproof.__file__)"], cwd=tmp_path)
    assert where.returncode == 0, where.stderr
    assert pathlib.Path(where.stdout.strip()).resolve().is_relative_to(venv.resolve()), where.stdout
    assert (venv / "bin" / "synthproof").is_file()

    df = load("german_credit")
    perm = np.random.default_rng(0).permutation(len(df))
    df.iloc[perm[:200]].to_csv(tmp_path / "A.csv", index=False)
    df.iloc[perm[200:400]].to_csv(tmp_path / "B.csv", index=False)
    out = tmp_path / "OUT"
    r = _run([py, "-m", "synthproof.cli", "audit", "--real", "A.csv", "--synthetic", "B.csv", "--out", out,
              "--no-progress"], cwd=tmp_path, timeout=240)
    assert r.returncode in (0, 1), r.stdout + r.stderr
    assert (out / "findings.parquet").is_file() and (out / "report.html").is_file()
