"""Per-family report sections (bias, diversity, validity, provenance), built from the findings table.

Everything here reads aggregates the checks already put in ``evidence`` or in the finding columns;
subgroup labels arrive masked when the real group is rare (``synthproof.subgroups``), so nothing new about
real records can appear.
"""

from __future__ import annotations

import json
import math
from typing import Any

import pandas as pd

from . import charts

MAX_SECTION_ROWS = 25
MAX_GX_ROWS = 200
STATUS_RANK = {"fail": 0, "error": 1, "warn": 2, "pass": 3, "skipped": 4}


def _ev(value: Any) -> dict[str, Any]:
    if not isinstance(value, str) or not value:
        return {}
    try:
        out = json.loads(value)
    except ValueError:
        return {}
    return out if isinstance(out, dict) else {}


def _rank(df: pd.DataFrame) -> pd.DataFrame:
    df = df.copy()
    df["_rank"] = df["status"].map(STATUS_RANK).fillna(5)
    df["_excess"] = (df["value"] - df["baseline_value"]).fillna(-math.inf)
    return df.sort_values(["_rank", "_excess"], ascending=[True, False], kind="stable")


def _clean(v: Any) -> Any:
    return None if isinstance(v, float) and math.isnan(v) else v


def bias_section(rows: pd.DataFrame, max_charts: int) -> dict[str, Any] | None:
    """Representation bars per sensitive column, the worst subgroups, parity and utility tables."""
    bias = rows[rows["family"] == "bias"]
    if bias.empty:
        return None
    rep = bias[(bias["check_id"] == "bias.representation") & bias["evidence"].notna() & (bias["scope"] == "subgroup")]
    bars = []
    for column, grp in rep.groupby("column", sort=True):
        if "|" in str(column) or len(bars) >= max_charts:
            continue
        labels, real, syn = [], [], []
        for rec in grp.sort_values("subgroup", kind="stable").to_dict(orient="records"):
            ev = _ev(rec["evidence"])
            if "real_share" not in ev:
                continue
            labels.append(str(rec["subgroup"]).split("=", 1)[-1])
            real.append(ev["real_share"])
            syn.append(ev["synthetic_share"])
        if labels:
            status = "fail" if (grp["status"] == "fail").any() else "warn" if (grp["status"] == "warn").any() else "pass"
            bars.append(charts.bars({"labels": labels, "real": real, "synthetic": syn},
                                    f"{column}: share of rows per subgroup", status))
    sub = _rank(bias[(bias["scope"] == "subgroup") & bias["status"].isin(["fail", "warn", "pass"])])
    worst = []
    for rec in sub.head(MAX_SECTION_ROWS).to_dict(orient="records"):
        ev = _ev(rec["evidence"])
        worst.append({"status": rec["status"], "check_id": rec["check_id"], "subgroup": rec["subgroup"],
                      "column": _clean(rec["column"]), "metric": rec["metric"], "value": _clean(rec["value"]),
                      "baseline": _clean(rec["baseline_value"]), "ratio": ev.get("ratio"),
                      "real_share": ev.get("real_share"), "synthetic_share": ev.get("synthetic_share")})
    parity = []
    for rec in _rank(bias[(bias["check_id"] == "bias.outcome_parity") & bias["evidence"].notna()]).to_dict(orient="records"):
        ev = _ev(rec["evidence"])
        parity.append({"status": rec["status"], "column": rec["column"], "real_dpd": ev.get("real_dpd"),
                       "synthetic_dpd": ev.get("synthetic_dpd"), "real_ratio": ev.get("real_ratio"),
                       "synthetic_ratio": ev.get("synthetic_ratio"), "value": _clean(rec["value"])})
    utility = []
    for rec in _rank(bias[(bias["check_id"] == "bias.utility") & bias["evidence"].notna()]).head(MAX_SECTION_ROWS).to_dict(orient="records"):
        ev = _ev(rec["evidence"])
        utility.append({"status": rec["status"], "subgroup": _clean(rec["subgroup"]) or "all rows",
                        "trtr": ev.get("trtr_auc"), "tstr": ev.get("tstr_auc"), "gap": _clean(rec["value"]),
                        "rows": ev.get("holdout_rows")})
    note = bias[bias["metric"] == "sensitive_columns"]["message"].tolist()
    skipped = int((bias["reason_code"] == "min_group_size").sum())
    return {"bars": bars, "worst": worst, "parity": parity, "utility": utility, "note": note[0] if note else "",
            "skipped": skipped}


def diversity_section(rows: pd.DataFrame) -> dict[str, Any] | None:
    """PRDC, category coverage and tail retention tables."""
    div = rows[rows["family"] == "diversity"]
    if div.empty:
        return None
    prdc = []
    for rec in div[div["check_id"] == "diversity.prdc"].to_dict(orient="records"):
        ev = _ev(rec["evidence"])
        if "metric" in ev:
            prdc.append({"status": rec["status"], "metric": ev["metric"], "real": ev.get("real"),
                         "synthetic": ev.get("synthetic")})
    cats = []
    for rec in _rank(div[div["check_id"] == "diversity.category_coverage"]).head(MAX_SECTION_ROWS).to_dict(orient="records"):
        ev = _ev(rec["evidence"])
        cats.append({"status": rec["status"], "column": rec["column"], "coverage": ev.get("category_coverage"),
                     "mass": ev.get("mass_coverage"), "n": ev.get("real_categories")})
    tails = []
    for rec in _rank(div[(div["check_id"] == "diversity.tail_retention") & div["evidence"].notna()]).head(MAX_SECTION_ROWS).to_dict(orient="records"):
        ev = _ev(rec["evidence"])
        tails.append({"status": rec["status"], "column": _clean(rec["column"]) or "all numeric columns",
                      "retention": ev.get("tail_retention"), "beyond": ev.get("real_mass_beyond_synthetic"),
                      "range": ev.get("range_coverage")})
    uniq = div[div["check_id"] == "diversity.unique_rows"]
    unique = None
    if len(uniq) and uniq["evidence"].notna().any():
        ev = _ev(uniq["evidence"].dropna().iloc[0])
        unique = {"status": uniq["status"].iloc[0], "synthetic": ev.get("synthetic_unique_ratio"),
                  "real": ev.get("real_unique_ratio")}
    return {"prdc": prdc, "categories": cats, "tails": tails, "unique": unique}


def validity_section(rows: pd.DataFrame) -> dict[str, Any] | None:
    """The Great Expectations results (derived and user suites), failing first."""
    gx = rows[rows["check_id"].isin(["validity.expectations", "validity.gx_suite"]) & (rows["scope"] != "dataset")]
    if gx.empty:
        return None
    gx = _rank(gx)
    out = [{"status": r["status"], "check_id": r["check_id"], "column": _clean(r["column"]), "metric": r["metric"],
            "value": _clean(r["value"]), "threshold": _clean(r["threshold"]), "message": r["message"]}
           for r in gx.head(MAX_GX_ROWS).to_dict(orient="records")]
    return {"rows": out, "more": max(len(gx) - MAX_GX_ROWS, 0),
            "failed": int((gx["status"] == "fail").sum()), "total": len(gx)}


def provenance_section(rows: pd.DataFrame) -> dict[str, Any] | None:
    """Completeness per required tag, value rules and the synthetic share."""
    prov = rows[rows["family"] == "provenance"]
    if prov.empty or prov["status"].eq("skipped").all():
        return None
    fields = []
    for rec in prov[(prov["check_id"] == "provenance.required_fields") & (prov["scope"] == "column")].to_dict(orient="records"):
        ev = _ev(rec["evidence"])
        fields.append({"status": rec["status"], "field": rec["column"], "rate": _clean(rec["value"]),
                       "threshold": _clean(rec["threshold"]), "source": ev.get("source", "")})
    other = [{"status": r["status"], "check_id": r["check_id"], "column": _clean(r["column"]), "message": r["message"]}
             for r in prov[(prov["check_id"] != "provenance.required_fields") & (prov["scope"] != "row")].to_dict(orient="records")]
    return {"fields": fields, "other": other}


SDMETRICS_CHECK = "drift.sdmetrics_quality"
SDMETRICS_NOTE = "SDMetrics-compatible (sdmetrics 0.32 definitions, every row); not a gate verdict."


def sdmetrics_header(rows: pd.DataFrame) -> dict[str, Any] | None:
    """The SDMetrics-compatible averages for the report header (``drift.sdmetrics_quality``'s
    dataset rows): Column Shapes, Column Pair Trends and their mean, the SDMetrics quality score."""
    sdm = rows[(rows["check_id"] == SDMETRICS_CHECK) & (rows["scope"] == "dataset")]
    if sdm.empty:
        return None
    values = {m: _clean(v) for m, v in zip(sdm["metric"], sdm["value"])}
    if not any(m in values for m in ("column_shapes", "column_pair_trends", "sdmetrics_quality_score")):
        return None  # the check was skipped or errored: nothing to show
    trends = sdm[sdm["metric"] == "column_pair_trends"]
    ev = _ev(trends["evidence"].iloc[0]) if len(trends) else {}
    return {"shapes": values.get("column_shapes"), "trends": values.get("column_pair_trends"),
            "score": values.get("sdmetrics_quality_score"), "pairs": ev.get("pairs"),
            "contributing": ev.get("contributing_pairs"), "note": SDMETRICS_NOTE}
