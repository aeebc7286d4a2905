"""The lineage report (``lineage.html``): one page with the per-generation table and the trends as
inline SVG line charts (value per generation, the band of real resamples at the same size, the failing
level). Jinja2 with autoescape, no JavaScript, no external resources."""

from __future__ import annotations

import math
from typing import Any

from .html import _env, _num

W, H, PAD = 460, 200, 36
TITLES = {"tail_retention": "Tail retention (1 = as real)", "diversity": "Diversity (1 = as real)",
          "drift": "Drift from GEN0 (reported)", "real_share": "Real share of the training mix"}


def line_chart(metric: str, rows: list[dict], threshold: float | None) -> dict[str, Any]:
    """Geometry of one chart: points (value), band (null mean ± 2 sd), an optional threshold line."""
    vals = [r["value"] for r in rows]
    lows = [r["null_mean"] - 2 * r["null_sd"] for r in rows if not math.isnan(r["null_sd"])]
    highs = [r["null_mean"] + 2 * r["null_sd"] for r in rows if not math.isnan(r["null_sd"])]
    finite = [v for v in vals + lows + highs + ([threshold] if threshold is not None else []) if not math.isnan(v)]
    lo, hi = (min(finite), max(finite)) if finite else (0.0, 1.0)
    lo, hi = min(lo, 0.0), max(hi, 1.0 if metric != "drift" else hi) + 1e-9
    n = max(len(rows) - 1, 1)

    def xy(i: int, v: float) -> tuple[float, float]:
        return round(PAD + (W - PAD - 10) * i / n, 1), round(10 + (H - 40) * (1 - (v - lo) / (hi - lo)), 1)

    pts = [(*xy(r["generation"], r["value"]), r["status"], r["name"], r["value"]) for r in rows
           if not math.isnan(r["value"])]
    band = ""
    if len(highs) == len(rows) and rows:
        up = [xy(r["generation"], r["null_mean"] + 2 * r["null_sd"]) for r in rows]
        down = [xy(r["generation"], r["null_mean"] - 2 * r["null_sd"]) for r in rows][::-1]
        band = " ".join(f"{x},{y}" for x, y in up + down)
    return {"title": TITLES[metric], "w": W, "h": H, "points": pts, "band": band,
            "line": " ".join(f"{x},{y}" for x, y, *_ in pts),
            "threshold": None if threshold is None else xy(0, threshold)[1],
            "ticks": [(xy(0, v)[1], _num(v)) for v in (lo, (lo + hi) / 2, hi)],
            "xlabels": [(xy(r["generation"], lo)[0], str(r["generation"])) for r in rows]}


def render_lineage(result, inputs: list[dict]) -> str:
    """HTML of a :class:`synthproof.apps.lineage.LineageResult`."""
    t = result.table
    charts = []
    for metric in ("tail_retention", "diversity", "drift", "real_share"):
        rows = t[t.metric == metric].sort_values("generation").to_dict(orient="records")
        if not rows or all(math.isnan(r["value"]) for r in rows):
            continue
        thr = (1 - result.config.min_effect) if metric in ("tail_retention", "diversity") else (
            result.config.real_share_floor if metric == "real_share" else None)
        charts.append(line_chart(metric, rows, thr))
    gens = []
    for g, name in enumerate(result.names):
        sub = t[t.generation == g].set_index("metric")
        gens.append({"g": g, "name": name, "cells": [
            (_num(sub.loc[m, "value"]) if m in sub.index else "", sub.loc[m, "status"] if m in sub.index else "")
            for m in ("tail_retention", "diversity", "drift", "real_share")]})
    return _env().get_template("lineage.html.j2").render(
        verdict="pass" if result.passed else "fail", first=result.first_failing, charts=charts, gens=gens,
        trends=result.trends, cfg=result.config, inputs=inputs, findings=result.findings, num=_num)
