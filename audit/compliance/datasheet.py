"""A datasheet for the audited synthetic dataset, after Gebru et al. (2021), "Datasheets for
Datasets", Communications of the ACM 64(12): its seven sections, with Composition and
Preprocessing filled from the run and the rest (Motivation, Collection process, Uses,
Distribution, Maintenance) from the reviewer's attestation file (``datasheet:`` answers).
"""

from __future__ import annotations

import math

import pandas as pd

# (key, section title, the datasheet's question in short, filled from the run?)
SECTIONS = [
    ("motivation", "Motivation", "For what purpose was the dataset created, by whom, funded by whom?", False),
    ("composition", "Composition", "What do the instances represent, how many are there, which subpopulations "
                                   "and sensitive data do they hold?", True),
    ("collection", "Collection process", "How was the data generated (model, prompts, seeds) and from which "
                                         "real data?", False),
    ("preprocessing", "Preprocessing / cleaning", "What was removed or changed (duplicates, filters)?", True),
    ("uses", "Uses", "What is the dataset for, and what should it not be used for?", False),
    ("distribution", "Distribution", "To whom, how and under which licence is it distributed?", False),
    ("maintenance", "Maintenance", "Who maintains it; how are errors corrected and versions kept?", False),
]
KEYS = [s[0] for s in SECTIONS]

_DEDUP = [  # (check_id, metric, what the count is)
    ("duplication.exact_duplicates", "duplicate_row_rate", "exact duplicate synthetic rows"),
    ("duplication.exact_copies", "real_copy_rate", "synthetic rows that copy a real row"),
    ("duplication.near_duplicates", "near_duplicate_rate", "near-duplicate synthetic rows"),
    ("duplication.text_exact_duplicates", "duplicate_text_rate", "exact duplicate documents"),
    ("duplication.text_near_duplicates", "near_duplicate_text_rate", "near-duplicate documents (MinHash)"),
    ("duplication.text_memorisation", "real_copy_rate", "documents that copy real text"),
]


def _dataset_rows(findings: pd.DataFrame) -> pd.DataFrame:
    f = findings[(findings["scope"] != "row") & findings["value"].notna()]
    return f[f["status"].isin(["pass", "warn", "fail"])]


def _count(rate: float, n) -> str:
    if n is None or (isinstance(n, float) and math.isnan(n)):
        return f"rate {rate:.4g}"
    return f"{round(rate * float(n)):,} of {int(n):,} ({rate:.2%})"


def composition(findings: pd.DataFrame, manifest: dict) -> list[str]:
    """Composition facts from the run: inputs (rows, columns), column roles, audited subgroups, privacy."""
    out = []
    for inp in manifest.get("inputs") or []:
        out.append(f"{inp.get('name')}: {int(inp.get('rows') or 0):,} rows x {int(inp.get('columns') or 0)} columns "
                   f"(content hash {inp.get('content_hash')})")
    roles: dict[str, int] = {}
    for meta in (manifest.get("columns") or {}).values():
        roles[str(meta.get("role"))] = roles.get(str(meta.get("role")), 0) + 1
    if roles:
        out.append("column roles: " + ", ".join(f"{k} {v}" for k, v in sorted(roles.items())))
    f = _dataset_rows(findings)
    bias = f[(f["family"] == "bias") & f["subgroup"].notna()]
    if len(bias):
        groups = sorted({str(s) for s in bias["subgroup"]})
        single = [g for g in groups if "&" not in g]  # one attribute each; intersections are counted
        shown = ", ".join(single[:12]) + (f" and {len(single) - 12} more" if len(single) > 12 else "")
        out.append(f"subgroups audited for bias: {len(groups)}, {len(groups) - len(single)} of them "
                   f"intersections ({shown}); "
                   f"{int((bias['status'] == 'fail').sum())} bias findings fail")
    priv = f[f["family"] == "privacy"]
    if len(priv):
        out.append(f"privacy checks run: {priv['check_id'].nunique()}; failing: "
                   + (", ".join(sorted(set(priv.loc[priv['status'] == 'fail', 'check_id']))) or "none"))
    return out


def preprocessing(findings: pd.DataFrame) -> list[str]:
    """Duplication counts from the run (what a deduplication step would remove)."""
    f = _dataset_rows(findings)
    out = []
    for cid, metric, what in _DEDUP:
        hit = f[(f["check_id"] == cid) & (f["metric"] == metric) & f["column"].isna()]
        if len(hit):
            r = hit.iloc[0]
            out.append(f"{what}: {_count(float(r['value']), r['n_synthetic'])} [{cid}, {r['status']}]")
    return out


def datasheet(findings: pd.DataFrame, manifest: dict, answers: dict | None = None) -> list[dict]:
    """The datasheet's sections.

    Parameters
    ----------
    findings : pandas.DataFrame
        The run's findings table.
    manifest : dict
        The run's manifest.
    answers : dict, optional
        ``{section key: text}`` from the attestation file's ``datasheet:`` mapping (:data:`KEYS`); for
        Composition and Preprocessing the text is added to what the run filled.

    Returns
    -------
    list of dict
        One per section of :data:`SECTIONS`: ``key``, ``title``, ``question``, ``facts`` (from the run),
        ``answer`` (the reviewer's text or None) and ``status`` (``from_run``, ``attested`` or
        ``needs_attestation``).
    """
    answers = answers or {}
    out = []
    for key, title, question, from_run in SECTIONS:
        facts = (composition(findings, manifest) if key == "composition" else preprocessing(findings)
                 if key == "preprocessing" else [])
        text = answers.get(key)
        status = "attested" if text else "from_run" if facts else "needs_attestation"
        out.append({"key": key, "title": title, "question": question, "facts": facts, "answer": text,
                    "status": status})
    return out
