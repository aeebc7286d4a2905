"""Chart geometry for the report, drawn as inline SVG by the template (no JavaScript, no CDN).

Functions return plain dicts of numbers and labels; the Jinja2 template (autoescape on) turns them
into ``<svg>`` elements, so user-supplied labels are always escaped.
"""

from __future__ import annotations

from typing import Any

WIDTH = 460
BAR_AREA = 150


def bars(evidence: dict[str, Any], title: str) -> dict[str, Any]:
    """Grouped bars, real vs synthetic share per bin/category (evidence of drift.ks / drift.tvd)."""
    labels = evidence["labels"]
    real, syn = evidence["real"], evidence["synthetic"]
    n = max(len(labels), 1)
    top = max(max(real, default=0), max(syn, default=0), 1e-9)
    slot = (WIDTH - 40) / n
    items = []
    for i, (lab, r, s) in enumerate(zip(labels, real, syn)):
        x = 30 + i * slot
        hr, hs = BAR_AREA * r / top, BAR_AREA * s / top
        items.append({"label": str(lab)[:18], "x": round(x, 1), "w": round(slot * 0.4, 1),
                      "yr": round(10 + BAR_AREA - hr, 1), "hr": round(hr, 1),
                      "ys": round(10 + BAR_AREA - hs, 1), "hs": round(hs, 1),
                      "tx": round(x + slot * 0.4, 1), "r": r, "s": s})
    return {"title": title, "items": items, "height": BAR_AREA + 70, "width": WIDTH, "top": top,
            "legend": ("real", "synthetic")}


def histogram(evidence: dict[str, Any], title: str) -> dict[str, Any]:
    """Two overlaid histograms (e.g. DCR of synthetic rows vs real rows)."""
    edges = evidence["edges"]
    names = list(evidence["series"])
    a, b = (evidence["series"][k] for k in names)
    ta, tb = max(sum(a), 1), max(sum(b), 1)
    sa, sb = [v / ta for v in a], [v / tb for v in b]
    top = max(max(sa, default=0), max(sb, default=0), 1e-9)
    n = max(len(a), 1)
    slot = (WIDTH - 40) / n
    items = []
    for i in range(len(a)):
        x = 30 + i * slot
        ha, hb = BAR_AREA * sa[i] / top, BAR_AREA * sb[i] / top
        items.append({"label": f"{edges[i]:.3g}" if i % 4 == 0 else "", "x": round(x, 1), "w": round(slot * 0.45, 1),
                      "yr": round(10 + BAR_AREA - hb, 1), "hr": round(hb, 1),
                      "ys": round(10 + BAR_AREA - ha, 1), "hs": round(ha, 1),
                      "tx": round(x + slot * 0.45, 1), "r": sb[i], "s": sa[i]})
    return {"title": title, "items": items, "height": BAR_AREA + 70, "width": WIDTH, "top": top,
            "legend": (names[1], names[0])}
