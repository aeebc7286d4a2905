"""The report's triage block: one card per failing, erroring or warning check, worst first.

A card names the check, its status, how far its worst finding lies beyond the real/real baseline
(in minimum effects, :func:`synthproof.reports.ci.effect_size`), how many columns and subgroups
it concerns, one line of reason, and a link to the findings table filtered to it. Subgroup findings
are aggregated ("433 subgroup findings, mostly in capital_gain (120)"), never listed one by one.
"""

from __future__ import annotations

import pandas as pd

from synthproof.findings import REASONS

from .ci import ranked_checks, waived_mask

#: Cards shown per status (the rest counted).
MAX_CARDS = 24


def _clip(text: str, n: int = 180) -> str:
    text = " ".join(str(text or "").split())
    if len(text) <= n:
        return text
    cut = text[:n].rsplit(" ", 1)[0]
    return cut + " …"


def _present(x) -> bool:
    return not (x is None or (not isinstance(x, str) and pd.isna(x)) or x == "")


def _spread(group: pd.DataFrame) -> str:
    cols = group["column"][group["column"].map(_present)]
    subs = group[group["scope"] == "subgroup"]
    parts = []
    if len(subs):
        top = subs["column"][subs["column"].map(_present)].value_counts()
        where = f", mostly in {top.index[0]} ({int(top.iloc[0])})" if len(top) > 1 else (
            f" of {top.index[0]}" if len(top) else "")
        parts.append(f"{len(subs)} subgroup finding{'s' * (len(subs) != 1)}{where}")
    others = group[group["scope"] != "subgroup"]
    if len(others):
        n_cols = others["column"][others["column"].map(_present)].nunique()
        if n_cols:
            noun = "column pair" if (others["scope"] == "column_pair").all() else "column"
            names = ", ".join(sorted(others["column"][others["column"].map(_present)].astype(str).unique())[:3])
            parts.append(f"{n_cols} {noun}{'s' * (n_cols != 1)} ({names}{', …' if n_cols > 3 else ''})")
        elif not cols.nunique():
            parts.append("dataset")
    return "; ".join(parts)


def triage_cards(rows: pd.DataFrame) -> dict:
    """The triage block of a findings table (row-level evidence excluded by the caller or here).

    Returns
    -------
    dict
        ``cards`` (list of dicts: ``check_id, family, status, count, effect, where, reason,
        worst``), ``more`` (cards left out by :data:`MAX_CARDS`), ``waived`` (dicts: ``check_id,
        count, waiver``).
    """
    rows = rows[rows["scope"] != "row"]
    cards, more = [], 0
    for status in ("fail", "error", "warn"):
        ranked = ranked_checks(rows, status)
        for e in ranked[:MAX_CARDS]:
            mask = (rows["check_id"] == e["check_id"]) & (rows["status"] == status) & ~waived_mask(rows)
            w = e["worst"]
            code = w.get("reason_code")
            reason = _clip(w.get("message")) or REASONS.get(code, "")
            cards.append({"check_id": e["check_id"], "family": e["family"], "status": status, "count": e["count"],
                          "effect": e["effect"] if status != "error" and e["effect"] > 0 else None, "where": _spread(rows[mask]),
                          "reason": reason, "code": REASONS.get(code, "") if _present(code) else ""})
        more += max(len(ranked) - MAX_CARDS, 0)
    waived = [{"check_id": e["check_id"], "count": e["count"], "waiver": e["worst"].get("waiver")}
              for e in ranked_checks(rows, "waived")]
    return {"cards": cards, "more": more, "waived": waived}
