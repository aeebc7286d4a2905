"""Geometry of the report's figures, drawn as inline SVG by the templates (no script, no CDN).

* :func:`small_multiple` — one compact chart per column, real vs synthetic share per bin (deciles of
  the real data for numeric columns: the real bin edges where ``report.show_values`` allows, else
  decile labels; categories for categorical ones), with a y axis in percent and x labels thinned
  and clipped so they never overlap. The legend is shared by the grid.
* :func:`heatmaps` — association matrices of the real and synthetic data and their difference
  (synthetic - real), from ``drift.pair_association``'s evidence.
* :func:`scatter` — a 2-D map of points of two sets (the text embedding sample).

Functions return plain dicts of numbers and labels; templates escape every label.
"""

from __future__ import annotations

import math
from typing import Any

SM_W = 262  # one small multiple (four to a row in the report's 1,160 px column)
CHAR_W = 5.4  # px per character at font-size 9
LEFT, RIGHT_PAD, PLOT_H = 36, 6, 88


def _pct(v: float) -> str:
    return f"{100 * v:.0f}%" if v >= 0.1 or v == 0 else f"{100 * v:.1f}%"


def grouped_bars(labels: list, real: list, syn: list, title: str, status: str, width: int = SM_W,
                 legend: tuple[str, str] | None = None) -> dict[str, Any] | None:
    """Geometry of a grouped bar chart of two share series (``real`` blue, ``syn`` orange) over
    ``labels``: a y axis in percent (0, half, top), x labels thinned (every k-th) and clipped so
    they never overlap, rotated when they do not fit flat, and, with ``legend``, a legend row
    above the plot. None when every share is zero (nothing to show)."""
    n = min(len(labels), len(real), len(syn))
    top = max(max(real[:n], default=0.0), max(syn[:n], default=0.0))
    if n == 0 or top <= 0:
        return None
    t = 22 if legend else 8
    b = t + PLOT_H
    left, right = LEFT, width - RIGHT_PAD
    slot = (right - left) / n
    longest = max(len(str(x)) for x in labels[:n])
    rotate = longest * CHAR_W > slot * 0.95
    if rotate:  # room on the left for the first label, which slants down to the left of its bar
        left = LEFT + 12
        slot = (right - left) / n
    # Labels rotated by 40 degrees lie stride * slot * sin(40) apart: >= 10 px for 9 px text.
    stride = max(1, math.ceil(16 / slot)) if rotate else 1
    clip = 12 if rotate else max(int(slot * stride / CHAR_W), 3)
    items = []
    for i in range(n):
        x = left + i * slot
        hr, hs = PLOT_H * real[i] / top, PLOT_H * syn[i] / top
        lab = str(labels[i])
        shown = (lab if len(lab) <= clip else lab[:clip - 1] + "…") if i % stride == 0 else ""
        items.append({"x": round(x + slot * 0.1, 1), "w": round(slot * 0.4, 1), "yr": round(b - hr, 1),
                      "hr": round(hr, 1), "xs": round(x + slot * 0.5, 1), "ys": round(b - hs, 1),
                      "hs": round(hs, 1), "lx": round(x + slot / 2, 1), "label": shown, "full": lab,
                      "r": real[i], "s": syn[i]})
    shown_len = max((len(it["label"]) for it in items), default=0)
    height = b + (round(10 + 0.65 * shown_len * CHAR_W + 4) if rotate else 18)
    ticks = [{"y": round(b - PLOT_H * f, 1), "label": _pct(top * f)} for f in (0.0, 0.5, 1.0)]
    return {"title": title, "status": status, "items": items, "ticks": ticks, "rotate": rotate,
            "w": width, "h": height, "l": left, "r": right, "t": t, "b": b,
            "legend": list(legend) if legend else None}


def small_multiple(evidence: dict[str, Any], title: str, status: str) -> dict[str, Any] | None:
    """One column's chart from ``drift.ks`` / ``drift.tvd`` evidence (``labels``, ``real``,
    ``synthetic`` shares); None when every share is zero."""
    return grouped_bars(evidence.get("labels") or [], evidence.get("real") or [], evidence.get("synthetic") or [],
                        title, status)


def _color(v: float, signed: bool) -> str:
    """White -> blue for |v| in [0, 1]; signed: blue for negative, red for positive."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "#eeeeee"
    a = min(abs(float(v)), 1.0)
    if signed and v > 0:
        r, g, b = 255, round(255 - 175 * a), round(255 - 190 * a)
    else:
        r, g, b = round(255 - 200 * a), round(255 - 140 * a), round(255 - 60 * a)
    return f"#{r:02x}{g:02x}{b:02x}"


def heatmaps(pairs: list[dict[str, Any]], max_columns: int = 40) -> dict[str, Any] | None:
    """Three association matrices from ``pairs`` (dicts: ``a``, ``b``, ``real``, ``synthetic``,
    ``association``, ``status``): real, synthetic, synthetic - real. Columns past ``max_columns``
    (in first-seen order) are left out and counted."""
    cols: list[str] = []
    for p in pairs:
        for c in (p["a"], p["b"]):
            if c not in cols:
                cols.append(c)
    if len(cols) < 2:
        return None
    dropped = max(len(cols) - max_columns, 0)
    cols = cols[:max_columns]
    idx = {c: i for i, c in enumerate(cols)}
    cell = max(8, min(20, 300 // len(cols)))
    label_w = min(max(len(c) for c in cols), 14) * CHAR_W + 6
    size = cell * len(cols)
    panels = []
    for name, key, signed in (("real", "real", False), ("synthetic", "synthetic", False),
                              ("difference (synthetic - real)", "diff", True)):
        cells = []
        for p in pairs:
            if p["a"] not in idx or p["b"] not in idx:
                continue
            v = p["synthetic"] - p["real"] if key == "diff" else p[key]
            for i, j in ((idx[p["a"]], idx[p["b"]]), (idx[p["b"]], idx[p["a"]])):
                cells.append({"x": round(label_w + j * cell, 1), "y": round(label_w + i * cell, 1), "fill": _color(v, signed),
                              "fail": p["status"] == "fail",
                              "tip": f"{p['a']} × {p['b']} ({p['association']}): real {p['real']:.3f}, "
                                     f"synthetic {p['synthetic']:.3f}"})
        cells += [{"x": round(label_w + i * cell, 1), "y": round(label_w + i * cell, 1), "fill": "#d9dde3",
                   "fail": False, "tip": f"{c} (itself)"} for c, i in idx.items()]
        panels.append({"title": name, "cells": cells})
    labels = [{"text": c if len(c) <= 14 else c[:13] + "…", "full": c, "pos": round(label_w + (i + 0.5) * cell, 1)}
              for i, c in enumerate(cols)]
    return {"panels": panels, "labels": labels, "cell": cell, "offset": round(label_w, 1),
            "size": round(label_w + size + 4, 1), "dropped": dropped}


def scatter(points: dict[str, list[list[float]]], title: str, width: int = 520, height: int = 360) -> dict[str, Any] | None:
    """A 2-D map of named point sets (``{"real": [[x, y], ...], "synthetic": [...]}``), scaled to fit."""
    allp = [p for v in points.values() for p in v]
    if len(allp) < 3:
        return None
    xs, ys = [p[0] for p in allp], [p[1] for p in allp]
    x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
    sx = (width - 20) / ((x1 - x0) or 1.0)
    sy = (height - 40) / ((y1 - y0) or 1.0)
    series = []
    for name, color in zip(points, ("#4a78b5", "#e08a2c", "#2c8a4a")):
        series.append({"name": name, "color": color,
                       "dots": [{"x": round(10 + (p[0] - x0) * sx, 1), "y": round(30 + (y1 - p[1]) * sy, 1)}
                                for p in points[name]]})
    return {"title": title, "series": series, "w": width, "h": height}
