"""The gate's fail-closed rule: no verdict is not a pass.

The gate passes only when the audit had the evidence to judge. :func:`evidence_finding` adds the
``gate.evidence`` finding, which fails (reason ``insufficient_evidence``, exit code 1) when

* the synthetic side has fewer than ``gate.min_synthetic_rows`` rows, or the real side fewer than
  ``gate.min_real_rows`` (the count-based drift checks need ``MIN_COMPARE_ROWS`` = 10 values per
  side after matching sizes: a real/real split of 20 rows has halves of 10, and a synthetic side of
  20 rows is compared at 10 or more);
* no feature column (numeric, categorical, boolean, datetime) and no text column is left to audit
  (every shared column is an id, provenance, excluded or text-free column — e.g. a ``;``-delimited
  CSV read as one column);
* fail-severity checks are in the suite but none applies to the data, or of those that apply fewer
  than ``gate.min_judged_share`` produced a verdict (``pass``, ``warn`` or ``fail``), or none did. A
  report-only suite (no check of severity ``fail``) cannot fail the gate and is not failed for it. A check that does not apply
  (reason ``no_applicable_columns``, ``no_holdout``, ``no_sensitive_columns``, ``no_target``,
  ``not_configured``, ``no_manifest``, ``no_provenance_tags``, ``disabled``, ``missing_dependency``,
  ``target_not_binary``) is not counted; one skipped because the data is too small
  (``too_few_rows``, ``min_group_size``, ``undefined_at_size``, ``all_null``, ...) counts as a
  check without a verdict. Errors count as no verdict too (``gate.coverage`` names them).

The thresholds live in the config's ``gate:`` section (:class:`synthproof.config.GateConfig`).
"""

from __future__ import annotations

from typing import Any

from .findings import Finding

#: Skip reasons meaning "nothing here for this check to judge": such a check is not relied on.
NOT_APPLICABLE = frozenset({
    "no_applicable_columns", "no_holdout", "no_sensitive_columns", "no_target", "not_configured",
    "no_manifest", "no_provenance_tags", "disabled", "missing_dependency", "target_not_binary",
})
VERDICTS = frozenset({"pass", "warn", "fail"})
GATE_CHECKS = ("gate.coverage", "gate.evidence")


def judged_checks(checks: list[Any], findings: list[Finding]) -> tuple[list[str], list[str]]:
    """The ``fail``-severity checks the gate relies on, and those of them that produced a verdict.

    Parameters
    ----------
    checks : list of Check
        The suite as run.
    findings : list of Finding
        Every finding of the run (row-level evidence is ignored).

    Returns
    -------
    relied : list of str
        Ids of the fail-severity checks that apply to the data (not skipped only for a
        not-applicable reason, see :data:`NOT_APPLICABLE`).
    judged : list of str
        The subset with at least one ``pass``/``warn``/``fail`` finding.
    """
    by_check: dict[str, list[Finding]] = {}
    for f in findings:
        if f.scope != "row":
            by_check.setdefault(f.check_id, []).append(f)
    relied, judged = [], []
    for check in checks:
        if check.severity != "fail" or check.id in GATE_CHECKS:
            continue
        rows = by_check.get(check.id, [])
        statuses = {f.status for f in rows}
        if statuses & VERDICTS:
            relied.append(check.id)
            judged.append(check.id)
        elif rows and statuses == {"skipped"} and all(f.reason_code in NOT_APPLICABLE for f in rows):
            continue
        else:
            relied.append(check.id)
    return relied, judged


def evidence_finding(checks: list[Any], findings: list[Finding], data: Any, text_columns: list[str],
                     gate: Any) -> Finding:
    """``gate.evidence``: fails closed when the audit could not judge (see the module docstring).

    Parameters
    ----------
    checks : list of Check
    findings : list of Finding
    data : synthproof.schema.Prepared
        The prepared inputs (row counts, feature columns).
    text_columns : list of str
        The text columns the text checks audit.
    gate : synthproof.config.GateConfig
        ``min_synthetic_rows``, ``min_real_rows``, ``min_judged_share``.

    Returns
    -------
    Finding
        ``status`` ``fail`` with reason ``insufficient_evidence`` and a message listing every
        missing piece of evidence, else ``pass``; ``value`` is the share of relied-on checks that
        produced a verdict, ``threshold`` the configured minimum share.
    """
    n_syn, n_real = data.size("synthetic"), data.size("real")
    relied, judged = judged_checks(checks, findings)
    share = len(judged) / len(relied) if relied else 0.0
    problems = []
    if n_syn < gate.min_synthetic_rows:
        problems.append(f"the synthetic data has {n_syn} row{'s' * (n_syn != 1)} and the gate needs at least "
                        f"{gate.min_synthetic_rows} (gate.min_synthetic_rows)")
    if n_real < gate.min_real_rows:
        problems.append(f"the real data has {n_real} row{'s' * (n_real != 1)} and the gate needs at least "
                        f"{gate.min_real_rows} (gate.min_real_rows)")
    if not data.features and not text_columns:
        problems.append("no feature or text column is left to audit (every shared column is an id, provenance "
                        "or excluded column; check the delimiter, the column roles and columns.exclude)")
    gating = [c for c in checks if c.severity == "fail" and c.id not in GATE_CHECKS]
    if not gating:
        pass  # a report-only suite (every check warn or off): nothing can fail the gate, nothing to judge
    elif not relied:
        problems.append("none of the fail-severity checks applies to this data")
    elif not judged:
        problems.append("none of the fail-severity checks that apply produced a verdict")
    elif share < gate.min_judged_share:
        missing = sorted(set(relied) - set(judged))
        shown = ", ".join(missing[:6]) + (f" and {len(missing) - 6} more" if len(missing) > 6 else "")
        problems.append(f"only {len(judged)} of {len(relied)} fail-severity checks that apply produced a verdict "
                        f"(gate.min_judged_share {gate.min_judged_share:g}; no verdict: {shown})")
    common = dict(check_id="gate.evidence", family="validity", scope="dataset", metric="judged_check_share",
                  value=float(share), threshold=float(gate.min_judged_share), n_real=n_real, n_synthetic=n_syn,
                  goal="maximize", unit="share of checks")
    if not gating and not problems:
        return Finding(status="pass", message="no check has severity fail (a report-only suite): the gate judges "
                                              "nothing beyond the input size.", **common)
    if problems:
        return Finding(status="fail", reason_code="insufficient_evidence",
                       message="the gate cannot judge this data, so it fails closed: " + "; ".join(problems) + ".",
                       **common)
    return Finding(status="pass", message=f"{len(judged)} of {len(relied)} fail-severity checks that apply produced "
                                          f"a verdict on {n_real} real and {n_syn} synthetic rows.", **common)
