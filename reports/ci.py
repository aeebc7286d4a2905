"""Outputs for CI systems from a findings table: a Markdown step summary and GitHub Actions
annotations.

* :func:`markdown_summary` — the verdict, the failing checks ranked by effect (how many minimum
  effects the worst finding of each lies beyond its real/real baseline), the warnings, and a link to
  the report; what a reviewer reads first in ``$GITHUB_STEP_SUMMARY`` or a merge-request note. User
  data (column names, subgroup labels, messages) is escaped: Markdown pipes and backticks are
  neutralised and ``& < >`` become entities, so a column name cannot inject HTML or break the table.
* :func:`github_annotations` — ``::error`` / ``::warning`` workflow commands, one per check
  (grouped: its findings counted, the worst one's message shown), at most ``cap`` of each kind
  (GitHub shows 10 of each per step), the rest counted in a final ``::notice``. Values are escaped
  as the workflow-command syntax requires (``%``, CR, LF; in properties also ``:`` and ``,``).

Row-level findings never appear here (their ids stay in ``findings.parquet`` and the report).
"""

from __future__ import annotations

import pandas as pd

#: Failing checks listed in the Markdown summary (the rest counted).
MAX_ROWS = 20


def effect_size(row) -> float:
    """How far a finding lies beyond its real/real baseline, in units of its minimum effect:
    ``|value - baseline_value| / min_effect`` (``|value - baseline_value|`` without a positive
    minimum effect; 0 when either value is missing). Dimensionless, >= 0; larger is worse."""
    v, b, m = row.get("value"), row.get("baseline_value"), row.get("min_effect")
    if pd.isna(v) or pd.isna(b):
        return 0.0
    excess = abs(float(v) - float(b))
    return excess / float(m) if not pd.isna(m) and float(m) > 0 else excess


def waived_mask(findings: pd.DataFrame) -> pd.Series:
    """Which findings a waiver covers (a non-empty ``waiver``; none in a table without the column)."""
    if "waiver" not in findings:
        return pd.Series(False, index=findings.index)
    return findings["waiver"].notna() & (findings["waiver"] != "")


def ranked_checks(findings: pd.DataFrame, status: str) -> list[dict]:
    """One entry per check with findings of ``status`` (row scope left out), worst effect first:
    ``check_id, family, count, worst`` (the worst finding as a dict), ``effect``. Waived findings
    are left out, except under ``status="waived"`` (waived ``fail``/``warn`` findings only)."""
    waived = waived_mask(findings)
    if status == "waived":
        f = findings[waived & findings["status"].isin(["fail", "warn"]) & (findings["scope"] != "row")]
    else:
        f = findings[(findings["status"] == status) & (findings["scope"] != "row") & ~waived]
    out = []
    for cid, group in f.groupby("check_id", sort=True):
        rows = group.to_dict("records")
        effects = [effect_size(r) for r in rows]
        i = max(range(len(rows)), key=lambda k: effects[k])
        out.append({"check_id": cid, "family": rows[i]["family"], "count": len(rows), "worst": rows[i],
                    "effect": effects[i]})
    return sorted(out, key=lambda e: (-e["effect"], e["check_id"]))


def md_escape(text) -> str:
    """``text`` safe inside a Markdown table cell (and as inline HTML-free text)."""
    s = "" if text is None else str(text)
    s = s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    for ch in ("\\", "|", "`", "*", "_", "[", "]"):
        s = s.replace(ch, "\\" + ch)
    return " ".join(s.split())


def md_code(text) -> str:
    """``text`` as a Markdown code span inside a table cell: backticks cannot close it (they become
    ``'``), a pipe cannot split the cell (GFM's ``\\|``); nothing else is escaped, since a code span
    shows its content literally and never as HTML."""
    s = " ".join(("" if text is None else str(text)).split()).replace("`", "'").replace("|", "\\|")
    return f"`{s}`"


def _where(row) -> str:
    parts = [f"{k} {row[k]}" for k in ("column", "subgroup") if not pd.isna(row.get(k)) and row[k] != ""]
    return ", ".join(parts) or row.get("scope") or ""


def _fmt(x) -> str:
    return "" if pd.isna(x) else f"{float(x):.4g}"


def markdown_summary(findings: pd.DataFrame, passed: bool, report: str = "report.html") -> str:
    """The step summary (GitHub-flavoured Markdown) of one run.

    Parameters
    ----------
    findings : pandas.DataFrame
        The findings table (``findings.SCHEMA`` columns).
    passed : bool
        The gate verdict.
    report : str
        Where the HTML report is (a relative path or an artifact URL), linked at the end.
    """
    fails, warns = ranked_checks(findings, "fail"), ranked_checks(findings, "warn")
    errors, waived = ranked_checks(findings, "error"), ranked_checks(findings, "waived")
    lines = [f"## synthproof: {'PASS' if passed else 'FAIL'}", ""]
    lines.append(f"{len(fails)} failing check(s), {len(warns)} warning(s), {len(errors)} errored check(s)"
                 + (f", {len(waived)} waived check(s)." if waived else "."))
    lines.append("")
    if fails:
        lines += ["| check | findings | worst at | value | real/real | effect | why |",
                  "| --- | ---: | --- | ---: | ---: | ---: | --- |"]
        for e in fails[:MAX_ROWS]:
            w = e["worst"]
            lines.append(f"| {md_code(e['check_id'])} | {e['count']} | {md_escape(_where(w))} | {_fmt(w.get('value'))} "
                         f"| {_fmt(w.get('baseline_value'))} | {e['effect']:.2f} | {md_escape(str(w.get('message') or '')[:300])} |")
        if len(fails) > MAX_ROWS:
            lines.append(f"\n... and {len(fails) - MAX_ROWS} more failing check(s) in the report.")
        lines.append("")
    for title, items in (("Errored", errors), ("Warnings", warns)):
        if items:
            lines.append(f"**{title}:** " + ", ".join(f"{md_code(e['check_id'])} ({e['count']})"
                                                   for e in items[:MAX_ROWS])
                         + (f" and {len(items) - MAX_ROWS} more" if len(items) > MAX_ROWS else ""))
            lines.append("")
    if waived:
        lines.append("**Waived** (not failing the gate): " + "; ".join(
            f"{md_code(e['check_id'])} ({e['count']}): {md_escape(e['worst'].get('waiver'))}" for e in waived[:MAX_ROWS]))
        lines.append("")
    lines.append(f"Effect: how many minimum effects the worst finding lies beyond the real/real baseline. "
                 f"Full report: [{md_escape(report)}]({report.replace(' ', '%20').replace(')', '%29')})")
    return "\n".join(lines) + "\n"


def _cmd_data(s: str) -> str:
    return s.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _cmd_prop(s: str) -> str:
    return _cmd_data(s).replace(":", "%3A").replace(",", "%2C")


def github_annotations(findings: pd.DataFrame, cap: int = 10) -> list[str]:
    """GitHub Actions workflow commands for the failing (``::error``) and warning (``::warning``)
    checks, one per check, worst effect first, at most ``cap`` of each kind; a ``::notice`` counts
    what the cap left out."""
    out, left, used = [], 0, {"error": 0, "warning": 0}
    for status, cmd in (("fail", "error"), ("error", "error"), ("warn", "warning")):
        for e in ranked_checks(findings, status):
            if used[cmd] >= cap:
                left += 1
                continue
            used[cmd] += 1
            w = e["worst"]
            title = f"synthproof {e['check_id']} ({status}, {e['count']} finding(s))"
            msg = " ".join(f"{_where(w)}: {w.get('message') or ''}".split())
            out.append(f"::{cmd} title={_cmd_prop(title)}::{_cmd_data(msg[:1000])}")
    if left:
        out.append(f"::notice title=synthproof::{left} more check(s) failing or warning: see the report")
    return out


def append_text(path, text: str) -> None:
    """Append ``text`` to the file at ``path`` (created when missing; GitHub's
    ``$GITHUB_STEP_SUMMARY`` is appended to), never through a symbolic link.

    Raises
    ------
    synthproof.errors.InputError
        The path is a folder, a symbolic link, or cannot be written (exit 2).
    """
    import os

    from synthproof.errors import InputError

    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o644)
    except OSError as exc:
        raise InputError(f"cannot write {path}: {exc.strerror or exc} (pass a file path that is not a folder "
                         "or a symbolic link)") from None
    with os.fdopen(fd, "a", encoding="utf-8") as fh:
        fh.write(text)


def check_target(path) -> None:
    """Refuse, before a run computes anything, a ``--markdown`` path that :func:`append_text`
    would refuse: a folder, a symbolic link, or one in a folder that does not exist.

    Raises
    ------
    synthproof.errors.InputError
    """
    import os

    from synthproof.errors import InputError

    if os.path.islink(path) or os.path.isdir(path):
        raise InputError(f"cannot write {path}: it is a {'symbolic link' if os.path.islink(path) else 'folder'} "
                         "(pass a file path that is not a folder or a symbolic link)")
    parent = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(parent):
        raise InputError(f"cannot write {path}: no such folder {parent}")


def comparison_markdown(table: pd.DataFrame, old: str, new: str) -> str:
    """The step summary of ``synthproof compare``: the verdict, then the regressions (new failures
    first), then the other changes counted. ``table`` is :func:`synthproof.compare.compare_findings`."""
    reg = table[table["regression"].astype(bool)]
    lines = [f"## synthproof compare: {'REGRESSED' if len(reg) else 'NO REGRESSION'}", "",
             f"Old run: {md_code(old)} · new run: {md_code(new)}", ""]
    counts = table["change"].value_counts()
    lines.append(", ".join(f"{int(counts[c])} {c.replace('_', ' ')}" for c in counts.index if c != "unchanged")
                 + f"{', ' if len(counts.drop('unchanged', errors='ignore')) else ''}"
                   f"{int(counts.get('unchanged', 0))} unchanged.")
    lines.append("")
    if len(reg):
        lines += ["| change | check | where | old | new | worse by | noise | min effect |",
                  "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: |"]
        for r in reg.head(MAX_ROWS).to_dict("records"):
            lines.append(f"| {r['change'].replace('_', ' ')} | {md_code(r['check_id'])} | {md_escape(_where(r))} "
                         f"| {_fmt(r['old_value']) or md_escape(r['old_status'])} | {_fmt(r['new_value']) or md_escape(r['new_status'])} "
                         f"| {_fmt(r['worse_by'])} | {_fmt(r['noise'])} | {_fmt(r['min_effect'])} |")
        if len(reg) > MAX_ROWS:
            lines.append(f"\n... and {len(reg) - MAX_ROWS} more regression(s) in comparison.parquet.")
        lines.append("")
    lines.append("A regression: a new failure worse than the old run by more than the calibrated real/real noise and "
                 "at least the check's minimum effect (or with no noise to judge it by), a waived finding worse by "
                 "those margins, or a check no longer judged.")
    return "\n".join(lines) + "\n"


def comparison_annotations(table: pd.DataFrame, cap: int = 10) -> list[str]:
    """``::error`` lines for the regressions of a comparison (at most ``cap``; a ``::notice`` counts the rest)."""
    reg = table[table["regression"].astype(bool)]
    out = [f"::error title={_cmd_prop('synthproof compare: ' + r['change'].replace('_', ' ') + ' ' + r['check_id'])}"
           f"::{_cmd_data(' '.join(str(r['message']).split())[:1000])}" for r in reg.head(cap).to_dict("records")]
    if len(reg) > cap:
        out.append(f"::notice title=synthproof compare::{len(reg) - cap} more regression(s): see comparison.parquet")
    return out
