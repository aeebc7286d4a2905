"""The HTML report: escaping, self-containment, size bound, golden file, rebuild from Parquet."""

from __future__ import annotations

import pathlib
import re

import numpy as np
import pandas as pd

import synthproof
import synthproof.apps.defects
from synthproof.reports.html import render_html

GOLDEN = pathlib.Path(__file__).parent / "golden" / "report_small.html"
EVIL = "<script>alert(1)</script>"


def _evil_frames():
    rng = np.random.default_rng(0)
    n = 120
    real = pd.DataFrame({EVIL: rng.normal(size=n), "img": rng.choice(['<img src=x onerror="alert(2)">', "b"], n),
                         "c": rng.choice(["x", "y"], n)})
    syn = real.sample(frac=1, random_state=1).reset_index(drop=True)
    syn[EVIL] = syn[EVIL] + 3.0
    return real, syn


def test_user_strings_are_escaped(tmp_path):
    real, syn = _evil_frames()
    res = synthproof.audit(real, syn, config={"report": {"show_values": True}})
    res.to_html(tmp_path / "r.html")
    html = (tmp_path / "r.html").read_text()
    assert EVIL not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "onerror=\"alert(2)\"" not in html and "<img" not in html
    scripts = re.findall(r"<script", html)
    assert len(scripts) == 1  # only our own sorter


def test_self_contained_and_small(tmp_path):
    real, syn = _evil_frames()
    html = render_html(synthproof.audit(real, syn).findings, {"verdict": "fail"})
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html)
    assert "<link" not in html
    big = pd.concat([synthproof.audit(real, syn).findings] * 400, ignore_index=True)
    assert len(render_html(big, {"verdict": "fail"}).encode()) < 5_000_000


def _stable(html: str) -> str:
    return re.sub(r"(run [0-9a-f]{32}|started \S+|finished \S+|&#34;(run_id|started_at|finished_at)&#34;: &#34;[^&]*&#34;)",
                  "<volatile>", html)


def test_golden_report(adult):
    """Rendering is deterministic; refresh on purpose with SYNTHPROOF_REFRESH_GOLDEN=1."""
    import os

    real = adult.iloc[:400].reset_index(drop=True)
    syn = adult.iloc[400:800].reset_index(drop=True)
    config = {"suite": "listed", "checks": {c: {} for c in (
        "drift.ks", "drift.tvd", "duplication.exact_copies", "bias.representation", "bias.outcome_parity",
        "diversity.category_coverage", "diversity.tail_retention", "provenance.required_fields",
        "drift.sdmetrics_quality")},
        "bias": {"target": "income"}}
    res = synthproof.audit(real, synthproof.apps.defects.tag_provenance(syn), config=config)
    manifest = {k: v for k, v in res.manifest.items() if k not in ("platform",)}
    html = _stable(render_html(res.findings, manifest))
    if os.environ.get("SYNTHPROOF_REFRESH_GOLDEN") or not GOLDEN.exists():
        GOLDEN.parent.mkdir(exist_ok=True)
        GOLDEN.write_text(html, encoding="utf-8")
    assert html == GOLDEN.read_text(encoding="utf-8")
    for section in ("Bias across subgroups", "Worst subgroups", "Outcome-rate parity", "Diversity", "Tails",
                    "Category coverage", "Provenance", "SDMetrics Quality Score"):
        assert section in html


def test_header_shows_sdmetrics_scores():
    """The header carries the SDMetrics-compatible averages, from the findings table alone."""
    real, syn = _evil_frames()
    res = synthproof.audit(real, syn, config={"suite": "listed", "checks": {"drift.sdmetrics_quality": {}}})
    f = res.findings
    ds = f[(f["check_id"] == "drift.sdmetrics_quality") & (f["scope"] == "dataset")].set_index("metric")["value"]
    html = render_html(f, {"verdict": "pass"})
    header = html[: html.index('<h2 id="triage">')]
    assert f"SDMetrics Quality Score {ds['sdmetrics_quality_score']:.4g}" in header
    assert f"Column Shapes {ds['column_shapes']:.4g}" in header and "Column Pair Trends" in header
    assert "SDMetrics-compatible (sdmetrics 0.32 definitions, every row); not a gate verdict." in header
    # Without the check there is no SDMetrics line.
    other = f[f["check_id"] != "drift.sdmetrics_quality"]
    assert "SDMetrics Quality Score" not in render_html(other, {"verdict": "pass"})
