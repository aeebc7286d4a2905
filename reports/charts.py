"""Charts of the family sections, as :func:`synthproof.reports.figures.grouped_bars` geometry
drawn by the ``chart.svg.j2`` template (inline SVG, no script, no CDN; labels escaped)."""

from __future__ import annotations

from typing import Any

from .figures import grouped_bars

WIDTH = 460


def bars(evidence: dict[str, Any], title: str, status: str = "pass") -> dict[str, Any]:
    """Grouped bars, real vs synthetic share per bin/category (``labels``, ``real``, ``synthetic``)."""
    out = grouped_bars(evidence.get("labels") or [], evidence.get("real") or [], evidence.get("synthetic") or [],
                       title, status, width=WIDTH, legend=("real", "synthetic"))
    return out or {"title": title, "status": status, "items": [], "empty": True}


def histogram(evidence: dict[str, Any], title: str, status: str = "pass") -> dict[str, Any]:
    """Two histograms over shared ``edges`` (``series``: name -> counts), as shares of each series;
    bins labelled by their left edge."""
    edges = evidence["edges"]
    names = list(evidence["series"])
    a, b = (evidence["series"][k] for k in names[:2])
    ta, tb = max(sum(a), 1), max(sum(b), 1)
    labels = [f"{e:.3g}" for e in edges[:len(a)]]
    out = grouped_bars(labels, [v / ta for v in a], [v / tb for v in b], title, status, width=WIDTH,
                       legend=(names[0], names[1]))
    return out or {"title": title, "status": status, "items": [], "empty": True}
