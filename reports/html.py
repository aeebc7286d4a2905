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

from . import charts, figures, sections
from .privacy_section import privacy_section
from .text_section import text_section
from .ci import waived_mask
from .triage import triage_cards

#: Rows of the findings table in the report: every fail/warn/error/waived row up to the first
#: bound, passing and skipped rows up to the second (hidden until asked for); the Parquet file has all.
MAX_PROBLEM_ROWS = 600
MAX_PASS_ROWS = 200
MAX_ROW_LEVEL = 200
MAX_SMALL_MULTIPLES = 120
FAMILY_ORDER = ("validity", "drift", "duplication", "privacy", "diversity", "bias", "provenance")
STATUS_ORDER = {"fail": 0, "error": 1, "warn": 2, "skipped": 3, "pass": 4}
DISTRIBUTION_CHECKS = ("drift.tvd", "drift.ks")  # categorical shares first, then numeric deciles


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


def _shown_status(r: dict[str, Any]) -> str:
    return "waived" if r.get("waiver") and r["status"] in ("fail", "warn") else r["status"]


def _small_multiples(rows: pd.DataFrame) -> list[dict[str, Any]]:
    """One chart per column (its ``drift.tvd`` or ``drift.ks`` evidence), failing columns first."""
    dist = rows[rows["check_id"].isin(DISTRIBUTION_CHECKS) & rows["evidence"].notna() & (rows["scope"] == "column")]
    out, seen = [], set()
    for rec in _records(dist.sort_values(["_order"], kind="stable")):
        if rec["column"] in seen or len(out) >= MAX_SMALL_MULTIPLES:
            continue
        ev = sections._ev(rec["evidence"])
        chart = figures.small_multiple(ev, f"{rec['column']}", _shown_status(rec))
        if chart is not None:
            seen.add(rec["column"])
            chart["stat"] = f"{rec['metric'].replace('_', ' ')} {_num(rec['value'])} (real/real {_num(rec['baseline_value'])})"
            out.append(chart)
    return out


def _heatmaps(rows: pd.DataFrame) -> dict[str, Any] | None:
    pairs = []
    for rec in _records(rows[(rows["check_id"] == "drift.pair_association") & rows["evidence"].notna()]):
        ev = sections._ev(rec["evidence"])
        cols = str(rec["column"]).split("|")
        if len(cols) == 2 and isinstance(ev.get("real"), (int, float)) and isinstance(ev.get("synthetic"), (int, float)):
            pairs.append({"a": cols[0], "b": cols[1], "real": float(ev["real"]), "synthetic": float(ev["synthetic"]),
                          "association": ev.get("association", ""), "status": rec["status"]})
    return figures.heatmaps(pairs)


def _histograms(rows: pd.DataFrame, max_charts: int) -> list[dict[str, Any]]:
    """Score and distance distributions: the detection classifiers' out-of-fold scores and the DCRs."""
    out = []
    pick = rows[(rows["check_id"].str.contains("detection_auc") | rows["check_id"].str.startswith("duplication.dcr")
                 | (rows["check_id"] == "privacy.membership_inference")) & rows["evidence"].notna()]
    for rec in _records(pick):
        ev = sections._ev(rec["evidence"])
        if ev.get("chart") == "histogram" and len(out) < max_charts:
            unit = ev.get("unit")
            what = ("out-of-fold classifier score (" + ("probability of synthetic" if unit == "probability"
                                                        else "log-odds of synthetic") + ")") \
                if "detection" in rec["check_id"] else "distance to closest record" if "dcr" in rec["check_id"] \
                else "distance of training and holdout records to the closest synthetic record"
            out.append(charts.histogram(ev, f"{rec['check_id']}: {what}", _shown_status(rec)))
    return out


def _table(rows: pd.DataFrame) -> tuple[list[dict[str, Any]], int]:
    """The findings table's rows: fail/error/warn first (up to MAX_PROBLEM_ROWS), then passes and
    skips (up to MAX_PASS_ROWS and half that); within each, dataset and column findings before pair and
    subgroup ones, which can number thousands."""
    scope_rank = {"dataset": 0, "column": 1, "column_pair": 2, "subgroup": 3}
    ranked = rows.assign(_scope=rows["scope"].map(scope_rank).fillna(4)).sort_values(
        ["_order", "_scope"], kind="stable")
    bad = ranked[ranked["status"].isin(["fail", "warn", "error"])].head(MAX_PROBLEM_ROWS)
    good = ranked[ranked["status"] == "pass"].head(MAX_PASS_ROWS)
    skipped = ranked[ranked["status"] == "skipped"].head(MAX_PASS_ROWS // 2)
    shown = pd.concat([bad, good, skipped]).drop(columns=["_scope"])
    out = _records(shown)
    for r in out:
        r["shown_status"] = _shown_status(r)
    return out, len(rows) - len(shown)


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
    if "waiver" not in df:
        df["waiver"] = None
    df["_order"] = df["status"].map(STATUS_ORDER).fillna(5)
    df = df.sort_values(["_order", "family", "check_id", "column"], kind="stable", na_position="last")
    rows = df[df["scope"] != "row"]
    row_level = df[df["scope"] == "row"]
    families = []
    for fam in FAMILY_ORDER:
        sub = rows[rows["family"] == fam]
        if len(sub):
            waived = waived_mask(sub) & sub["status"].isin(["fail", "warn"])
            counts = sub.loc[~waived, "status"].value_counts()
            families.append({"name": fam, **{st: int(counts.get(st, 0)) for st in STATUS_ORDER},
                             "waived": int(waived.sum())})
    table, truncated = _table(rows)
    family_sections = {
        "bias": sections.bias_section(rows, max_charts),
        "diversity": sections.diversity_section(rows),
        "privacy": privacy_section(rows),
        "validity": sections.validity_section(rows),
        "provenance": sections.provenance_section(rows),
        "text": text_section(rows, max_charts),
    }
    small, heat, hists = _small_multiples(rows), _heatmaps(rows), _histograms(rows, max_charts)
    toc = [("verdict", "Verdict"), ("triage", "What failed"), ("inputs", "Inputs")]
    toc += [("columns", "Columns")] if small else []
    toc += [("associations", "Associations")] if heat else []
    toc += [("distributions", "Scores and distances")] if hists else []
    for key, title in (("privacy", "Privacy"), ("bias", "Bias"), ("diversity", "Diversity"), ("text", "Text corpus"),
                       ("validity", "Validity"), ("provenance", "Provenance")):
        if family_sections[key]:
            toc.append((f"fam-{key}", title))
    toc.append(("findings", "All findings"))
    toc += [("rows", "Row-level evidence")] if len(row_level) else []
    toc.append(("manifest", "Manifest"))
    template = _env().get_template("report.html.j2")
    return template.render(
        manifest=manifest,
        verdict=manifest.get("verdict", "unknown"),
        closed=next(iter(rows.loc[(rows["check_id"] == "gate.evidence") & (rows["status"] == "fail"), "message"]), None),
        families=families,
        triage=triage_cards(rows),
        table=table,
        truncated=truncated,
        total=len(rows),
        filter_families=sorted(rows["family"].unique()),
        filter_checks=sorted(rows["check_id"].unique()),
        row_level=_records(row_level.head(MAX_ROW_LEVEL)),
        row_level_total=len(row_level),
        small=small,
        heat=heat,
        hists=hists,
        sec=family_sections,
        sdm=sections.sdmetrics_header(rows),
        num=_num,
        toc=toc,
        manifest_json=json.dumps(manifest, indent=2, sort_keys=True, default=str),
        statuses=list(STATUS_ORDER),
    )
