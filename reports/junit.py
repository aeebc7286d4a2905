"""JUnit XML from a findings table, for the test-report views of Jenkins, GitLab, Azure and others.

One ``<testcase>`` per check x scope (``classname`` = ``synthproof.<family>``, ``name`` =
``<check id> [<scope>]``), in one ``<testsuite name="synthproof">``:

* ``<failure>`` when a finding of that check and scope fails (the ``type`` is its reason code, the
  message is the worst finding's, the text lists each failing finding, at most :data:`MAX_LINES`);
* ``<error>`` when the check raised or timed out (and nothing failed);
* ``<skipped>`` when every failing or warning finding left is waived (the waiver's owner, expiry
  and reason; unwaived warnings in ``system-out``) or every finding is skipped (the skip reason);
  a waived failure is never reported as a pass;
* otherwise a passing testcase, whose ``system-out`` names any warnings.

Row-level evidence is not a testcase (its count appears in the dataset testcase's output). The XML
is written with the ``junit-xml`` package, which escapes user data and drops characters XML cannot
hold; it validates against the Jenkins JUnit schema (``tests/fixtures/junit.xsd``).
"""

from __future__ import annotations

import pandas as pd
from junit_xml import TestCase, TestSuite, to_xml_report_string

from .ci import effect_size

#: Findings listed in one testcase's failure text (the rest counted).
MAX_LINES = 50


def _text(x) -> str:
    return "" if x is None or (not isinstance(x, str) and pd.isna(x)) else str(x)


def _line(row) -> str:
    where = ", ".join(f"{k}={_text(row.get(k))}" for k in ("column", "subgroup") if _text(row.get(k)))
    val = row.get("value")
    shown = "" if pd.isna(val) else f" {row.get('metric')}={float(val):.6g}"
    base = row.get("baseline_value")
    shown += "" if pd.isna(base) else f" (real/real {float(base):.6g})"
    return f"{row['status']}{' [' + where + ']' if where else ''}{shown}: {' '.join(_text(row.get('message')).split())}"


def _waived(row) -> bool:
    return bool(_text(row.get("waiver")))


def testcases(findings: pd.DataFrame) -> list[TestCase]:
    """The testcases of a findings table (see the module docstring), ordered by check id and scope."""
    rows = findings[findings["scope"] != "row"]
    n_rows = findings[findings["scope"] == "row"].groupby("check_id").size().to_dict()
    out = []
    for (cid, scope), group in rows.groupby(["check_id", "scope"], sort=True):
        recs = group.to_dict("records")
        fam = recs[0]["family"]
        case = TestCase(name=f"{cid} [{scope}]", classname=f"synthproof.{fam}", elapsed_sec=0.0)
        live = [r for r in recs if not _waived(r)]
        fails = [r for r in live if r["status"] == "fail"]
        errors = [r for r in live if r["status"] == "error"]
        warns = [r for r in live if r["status"] == "warn"]
        waived = [r for r in recs if _waived(r) and r["status"] in ("fail", "warn")]
        extra = [f"{n_rows[cid]} row-level evidence finding(s) in findings.parquet"] if scope == "dataset" and n_rows.get(cid) else []
        if fails:
            worst = max(fails, key=effect_size)
            lines = [_line(r) for r in sorted(fails, key=effect_size, reverse=True)]
            text = "\n".join(lines[:MAX_LINES] + ([f"... and {len(lines) - MAX_LINES} more"] if len(lines) > MAX_LINES else []))
            case.add_failure_info(message=f"{len(fails)} failing finding(s); worst: {_line(worst)}"[:2000],
                                  output=text, failure_type=_text(worst.get("reason_code")) or "fail")
        elif errors:
            case.add_error_info(message=_line(errors[0])[:2000], output="\n".join(_line(r) for r in errors[:MAX_LINES]),
                                error_type=_text(errors[0].get("reason_code")) or "error")
        elif waived:  # every failing finding is waived: skipped with the waiver, never a pass
            w = waived[0]
            case.add_skipped_info(message=f"waived: {_text(w.get('waiver'))}"[:2000],
                                  output="\n".join(_line(r) for r in waived[:MAX_LINES]))
        elif recs and all(r["status"] == "skipped" for r in recs):
            case.add_skipped_info(message=_line(recs[0])[:2000])
        out_lines = [f"waived: {_line(r)} ({_text(r.get('waiver'))})" for r in waived] if (fails or errors) else []
        out_lines += [f"warning: {_line(r)}" for r in warns[:MAX_LINES]] + extra
        if out_lines:
            case.stdout = "\n".join(out_lines)
        out.append(case)
    return out


def comparison_suite(table: pd.DataFrame) -> TestSuite:
    """A ``synthproof-compare`` suite: one testcase per compared check x scope, failing with its
    regressions (:func:`synthproof.compare.compare_findings`)."""
    cases = []
    for (cid, scope), group in table.groupby(["check_id", "scope"], sort=True):
        case = TestCase(name=f"{cid} [{scope}]", classname="synthproof.compare", elapsed_sec=0.0)
        reg = group[group["regression"].astype(bool)]
        if len(reg):
            msgs = [f"{r['change']}: {r['message']}" for r in reg.to_dict("records")]
            case.add_failure_info(message=f"{len(reg)} regression(s); first: {msgs[0]}"[:2000],
                                  output="\n".join(msgs[:MAX_LINES]), failure_type=str(reg.iloc[0]["change"]))
        cases.append(case)
    return TestSuite("synthproof-compare", cases)


def junit_xml(findings: pd.DataFrame | None, passed: bool | None, run_id: str | None = None,
              extra: list[TestSuite] | None = None) -> str:
    """The JUnit XML document (a ``<testsuites>`` root) of one run's findings.

    Parameters
    ----------
    findings : pandas.DataFrame or None
        The findings table (``findings.SCHEMA`` columns); None: only the ``extra`` suites.
    passed : bool
        The gate verdict (a ``gate_verdict`` property of the suite).
    run_id : str, optional
        The run's id (a property).
    extra : list of junit_xml.TestSuite, optional
        Further suites, e.g. :func:`comparison_suite`.

    Returns
    -------
    str
        UTF-8 XML text.
    """
    suites = []
    if findings is not None:
        props = {"gate_verdict": "pass" if passed else "fail"}
        if run_id:
            props["run_id"] = run_id
        suites.append(TestSuite("synthproof", testcases(findings), properties=props))
    return to_xml_report_string(suites + list(extra or []), prettyprint=True, encoding="utf-8")
