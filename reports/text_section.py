"""The text-corpus section of the report, built from the findings table: aggregates and ids, a 2-D
map of the embedding sample, and, for each failing text check, a few example *synthetic* documents
(clipped by the check; the template escapes them). Real documents are never quoted."""

from __future__ import annotations

from typing import Any

import pandas as pd

from . import charts, figures
from .sections import MAX_SECTION_ROWS, _clean, _ev, _rank

TEXT_CHECKS = ("drift.text_mmd", "drift.text_detection_auc", "drift.text_descriptors", "diversity.text_distinct_n",
               "diversity.text_compression", "diversity.text_repetition", "diversity.text_self_similarity",
               "diversity.text_vendi", "diversity.text_prdc", "duplication.text_exact_duplicates",
               "duplication.text_near_duplicates", "duplication.text_semantic_duplicates",
               "duplication.text_memorisation", "duplication.contamination", "bias.text_subgroups",
               "validity.text_quality")


def text_section(rows: pd.DataFrame, max_charts: int) -> dict[str, Any] | None:
    """Summary of every text statistic, descriptor charts, near-duplicate clusters, contamination and
    text quality; ``None`` when no text check ran."""
    text = rows[rows["check_id"].isin(TEXT_CHECKS)]
    if text.empty or text["status"].eq("skipped").all():
        return None
    judged = text[text["scope"].isin(["column", "subgroup"]) & text["status"].isin(["fail", "warn", "pass"])
                  & ~text["check_id"].isin(["validity.text_quality", "duplication.contamination"])]
    stats = [{"status": r["status"], "check_id": r["check_id"], "column": _clean(r["column"]),
              "subgroup": _clean(r["subgroup"]), "metric": r["metric"], "value": _clean(r["value"]),
              "baseline": _clean(r["baseline_value"]), "threshold": _clean(r["threshold"])}
             for r in _rank(judged[judged["check_id"] != "bias.text_subgroups"]).to_dict(orient="records")]
    groups = [{"status": r["status"], "subgroup": r["subgroup"], "column": r["column"], "metric": r["metric"],
               "value": _clean(r["value"]), "baseline": _clean(r["baseline_value"])}
              for r in _rank(judged[judged["check_id"] == "bias.text_subgroups"]).head(MAX_SECTION_ROWS)
              .to_dict(orient="records")]
    bars = []
    desc = _rank(text[(text["check_id"] == "drift.text_descriptors") & text["evidence"].notna()])
    for rec in desc.head(max_charts).to_dict(orient="records"):
        ev = _ev(rec["evidence"])
        if ev.get("chart") == "bars":
            bars.append(charts.bars(ev, f"{rec['column']}: share of documents", rec["status"]))
    clusters = []
    for rec in text[(text["check_id"] == "duplication.text_near_duplicates") & (text["scope"] == "column")].to_dict(orient="records"):
        for c in _ev(rec["evidence"]).get("largest_clusters", []):
            clusters.append({"column": rec["column"], "size": c["size"], "rows": ", ".join(c["rows"])})
    contamination = [{"status": r["status"], "column": r["column"], "eval_set": _ev(r["evidence"]).get("eval_set"),
                      "documents": _clean(r["value"]), "items": _ev(r["evidence"]).get("items_found"),
                      "of": _ev(r["evidence"]).get("eval_items")}
                     for r in text[(text["check_id"] == "duplication.contamination") & (text["scope"] == "column")]
                     .to_dict(orient="records")]
    quality = [{"status": r["status"], "column": r["column"], "side": r.get("side"), "reason": r["reason_code"],
                "share": _clean(r["value"]), "message": r["message"]}
               for r in text[(text["check_id"] == "validity.text_quality") & (text["scope"] == "column")]
               .to_dict(orient="records")]
    maps = []
    for rec in text[(text["check_id"] == "drift.text_mmd") & text["evidence"].notna()].to_dict(orient="records"):
        pts = _ev(rec["evidence"]).get("map")
        chart = figures.scatter(pts, f"{rec['column']}: embedding sample, first two principal axes") if pts else None
        if chart:
            maps.append({"status": rec["status"], **chart})
    examples = []
    for rec in _rank(text[(text["status"] == "fail") & text["evidence"].notna()]).to_dict(orient="records"):
        docs = [d for d in _ev(rec["evidence"]).get("examples", []) if isinstance(d, str)]
        if docs and len(examples) < MAX_SECTION_ROWS and all(e["check_id"] != rec["check_id"] for e in examples):
            examples.append({"check_id": rec["check_id"], "column": rec["column"], "docs": docs[:3]})
    return {"stats": stats, "groups": groups, "bars": bars, "clusters": clusters[:MAX_SECTION_ROWS],
            "contamination": contamination, "quality": quality, "maps": maps[:max_charts], "examples": examples}
