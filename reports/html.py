"""The self-contained HTML report, rendered only from the findings table and the manifest.

Jinja2 with autoescape and StrictUndefined; CSS and the few lines of table-sorting script are
inline; charts are inline SVG; no external ``src``/``href``. The findings table shown is capped
(``MAX_TABLE_ROWS``) so the file stays small whatever the input — the Parquet file has every row.
"""

from __future__ import annotations

import json
import math
from typing import Any

import jinja2
import pandas as pd

from . import charts, sections
from .text_section import text_section

MAX_TABLE_ROWS = 3000
FAMILY_ORDER = ("validity", "drift", "duplication", "diversity", "bias", "provenance")
STATUS_ORDER = {"fail": 0, "error": 1, "warn": 2, "skipped": 3, "pass": 4}


def _env() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("synthproof.reports", "templates"),
        autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _num(x: Any) -> str:
    if x is None:
        return ""
    try:
        f = float(x)
    except (TypeError, ValueError):
        return str(x)
    if math.isnan(f):
        return ""
    return f"{f:.4g}"


def _records(df: pd.DataFrame) -> list[dict[str, Any]]:
    out = []
    for row in df.to_dict(orient="records"):
        out.append({k: (None if (isinstance(v, float) and math.isnan(v)) else v) for k, v in row.items()})
    return out


def _problems(table: list[dict[str, Any]], per_check: int = 5) -> list[dict[str, Any]]:
    """Failing/erroring/warning rows, at most ``per_check`` per check, with a count of the rest."""
    out, seen = [], {}
    for r in table:
        if r["status"] not in ("fail", "error", "warn"):
            continue
        seen[r["check_id"]] = seen.get(r["check_id"], 0) + 1
        if seen[r["check_id"]] <= per_check:
            out.append({**r, "more": 0})
    for r in out:
        r["more"] = max(seen[r["check_id"]] - per_check, 0)
    last = {}
    for i, r in enumerate(out):
        last[r["check_id"]] = i
    for cid, i in last.items():
        out[i]["last"] = True
    return out


def render_html(findings: pd.DataFrame, manifest: dict[str, Any], max_charts: int | None = None) -> str:
    """Render the report.

    Parameters
    ----------
    findings : pandas.DataFrame
        The findings table (contract columns; ``evidence`` JSON strings are used for charts).
    manifest : dict
        The run manifest (``manifest.json``).
    max_charts : int, optional
        Distribution charts to draw (default: the manifest's ``report.max_charts``, else 12).

    Returns
    -------
    str : the HTML document.
    """
    if max_charts is None:
        max_charts = int(manifest.get("config", {}).get("report", {}).get("max_charts", 12))
    df = findings.copy()
    df["_order"] = df["status"].map(STATUS_ORDER).fillna(5)
    df = df.sort_values(["_order", "family", "check_id", "column"], kind="stable", na_position="last")
    rows = df[df["scope"] != "row"]
    row_level = df[df["scope"] == "row"]
    families = []
    for fam in FAMILY_ORDER:
        sub = df[df["family"] == fam]
        if len(sub):
            counts = sub["status"].value_counts()
            families.append({"name": fam, **{s: int(counts.get(s, 0)) for s in STATUS_ORDER}})
    charts_out = []
    dist = rows[rows["check_id"].isin(["drift.ks", "drift.tvd"]) & rows["evidence"].notna()].copy()
    if len(dist):
        dist["_excess"] = (dist["value"] - dist["baseline_value"]).fillna(0)
        dist = dist.sort_values(["_order", "_excess"], ascending=[True, False], kind="stable").head(max_charts)
        for rec in _records(dist):
            ev = json.loads(rec["evidence"])
            title = f"{rec['column']} — {rec['metric']} {_num(rec['value'])} (real/real {_num(rec['baseline_value'])})"
            charts_out.append({"status": rec["status"], **charts.bars(ev, title)})
    dcr_charts = []
    for rec in _records(rows[rows["check_id"].str.startswith("duplication.dcr") & rows["evidence"].notna()]):
        ev = json.loads(rec["evidence"])
        if ev.get("chart") == "histogram" and len(dcr_charts) < max_charts:  # bounded like every chart
            dcr_charts.append({"status": rec["status"], **charts.histogram(ev, f"{rec['check_id']}: distance to closest record")})
    table = _records(rows.head(MAX_TABLE_ROWS))
    family_sections = {
        "bias": sections.bias_section(rows, max_charts),
        "diversity": sections.diversity_section(rows),
        "validity": sections.validity_section(rows),
        "provenance": sections.provenance_section(rows),
        "text": text_section(rows, max_charts),
    }
    template = _env().get_template("report.html.j2")
    return template.render(
        manifest=manifest,
        verdict=manifest.get("verdict", "unknown"),
        closed=next(iter(rows.loc[(rows["check_id"] == "gate.evidence") & (rows["status"] == "fail"), "message"]), None),
        families=families,
        problems=_problems(table),
        table=table,
        truncated=max(len(rows) - MAX_TABLE_ROWS, 0),
        row_level=_records(row_level.head(500)),
        row_level_total=len(row_level),
        charts=charts_out,
        dcr_charts=dcr_charts,
        sec=family_sections,
        sdm=sections.sdmetrics_header(rows),
        num=_num,
        manifest_json=json.dumps(manifest, indent=2, sort_keys=True, default=str),
        statuses=list(STATUS_ORDER),
    )
