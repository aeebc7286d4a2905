"""Waivers: known findings that do not fail the gate, each with a reason, an owner and an expiry date.

A waiver names a check id and, optionally, the scope, column and subgroup it covers (left out: any).
It applies to that check's ``fail`` and ``warn`` findings while it is in force (until the end of its
``expires`` day, UTC): the finding keeps its status and values, gains a ``waiver`` text ("owner,
until DATE: reason") and no longer fails the gate. Row-level evidence of a waived check follows its
waiver (matched on check and column). Every waived finding stays visible: in ``findings.parquet``,
``summary.json``, the report, the Markdown summary and JUnit (as ``skipped``).

``gate.waivers`` judges the waivers themselves (only when the config has some):

* ``fail`` (reason ``waiver_expired``) when a waiver has expired, whatever it matches: the finding
  it covered fails the gate again, and the stale entry must be renewed or removed;
* ``warn`` (reason ``waiver_unmatched``) when a waiver in force matches no failing or warning
  finding (the defect was fixed, or the waiver names the wrong column): remove it;
* ``pass`` otherwise, counting the findings waived.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from .findings import Finding

WAIVABLE = ("fail", "warn")


class Waiver(BaseModel):
    """One waiver (an item of the config's ``waivers:`` list).

    Attributes
    ----------
    check : str
        The check id it covers (``synthproof checks list``).
    scope, column, subgroup : str, optional
        Narrow it to findings of this scope (``dataset``, ``column``, ``column_pair``,
        ``subgroup``), column (for a pair: ``a|b`` as in the findings) or subgroup label; left
        out, any.
    reason : str
        Why the finding is accepted (shown wherever the finding is).
    owner : str
        Who accepted it (a name or address).
    expires : datetime.date
        The last day (UTC) the waiver holds; from the next day it fails the gate.
    """

    model_config = ConfigDict(extra="forbid")

    check: str = Field(min_length=1)
    scope: Literal["dataset", "column", "column_pair", "subgroup"] | None = None
    column: str | None = None
    subgroup: str | None = None
    reason: str = Field(min_length=1)
    owner: str = Field(min_length=1)
    expires: dt.date

    @field_validator("reason", "owner")
    @classmethod
    def _not_blank(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("must not be blank")
        return v.strip()

    def covers(self, f: Finding) -> bool:
        """Whether this waiver names ``f`` (its status aside)."""
        if f.check_id != self.check:
            return False
        if self.column is not None and f.column != self.column:
            return False
        if f.scope == "row":  # evidence rows follow their check (and column, and subgroup when named)
            return self.subgroup is None or f.subgroup is None or f.subgroup == self.subgroup
        return (self.scope is None or f.scope == self.scope) and (self.subgroup is None or f.subgroup == self.subgroup)

    def label(self) -> str:
        where = ", ".join(f"{k} {v}" for k, v in (("scope", self.scope), ("column", self.column),
                                                   ("subgroup", self.subgroup)) if v is not None)
        return self.check + (f" ({where})" if where else "")

    def text(self) -> str:
        return f"{self.owner}, until {self.expires.isoformat()}: {self.reason}"


def today_utc() -> dt.date:
    """The run's date (UTC), against which expiry is judged."""
    return dt.datetime.now(dt.timezone.utc).date()


def apply_waivers(findings: list[Finding], waivers: list[Waiver],
                  today: dt.date | None = None) -> tuple[list[Finding], Finding | None]:
    """Mark the findings that waivers in force cover, and judge the waivers.

    Parameters
    ----------
    findings : list of Finding
        The suite's findings (the gate's own findings not yet added).
    waivers : list of Waiver
    today : datetime.date, optional
        The date expiry is judged against [default: today, UTC].

    Returns
    -------
    findings : list of Finding
        The same findings, in order; those covered (``fail``/``warn``) carry ``waiver``.
    gate : Finding or None
        The ``gate.waivers`` finding (see the module docstring); None without waivers.
    """
    if not waivers:
        return findings, None
    today = today or today_utc()
    active = [w for w in waivers if w.expires >= today]
    in_force = {id(w) for w in active}
    expired = [w for w in waivers if w.expires < today]
    hits = {id(w): 0 for w in waivers}
    out = []
    for f in findings:
        if f.status in WAIVABLE:
            covering = [w for w in waivers if w.covers(f)]
            for w in covering:  # an expired waiver still names what it matches (for its message)
                if id(w) not in in_force and f.scope != "row":
                    hits[id(w)] += 1
            first = next((w for w in covering if id(w) in in_force), None)
            if first is not None:  # the first waiver in force covers it; a later redundant one matches nothing
                if f.scope != "row":
                    hits[id(first)] += 1
                f = dataclasses.replace(f, waiver=first.text())
        out.append(f)
    unmatched = [w for w in active if not hits[id(w)]]
    waived = sum(1 for f in out if f.waiver and f.scope != "row")
    common = dict(check_id="gate.waivers", family="validity", scope="dataset", metric="expired_waivers",
                  value=float(len(expired)), threshold=0.0, goal="minimize", unit="waivers")
    if expired:
        shown = "; ".join(f"{w.label()} expired on {w.expires.isoformat()} (owner {w.owner}"
                          f"{', still matching ' + str(hits[id(w)]) + ' finding(s)' if hits[id(w)] else ''})"
                          for w in expired[:6])
        more = f" and {len(expired) - 6} more" if len(expired) > 6 else ""
        return out, Finding(status="fail", reason_code="waiver_expired",
                            message=f"{len(expired)} waiver(s) expired, so the findings they covered count "
                                    f"again: {shown}{more}. Renew the expiry date (with a reason) or remove them.",
                            **common)
    if unmatched:
        shown = "; ".join(w.label() for w in unmatched[:6]) + (f" and {len(unmatched) - 6} more" if len(unmatched) > 6 else "")
        return out, Finding(status="warn", severity="warn", reason_code="waiver_unmatched",
                            message=f"{len(unmatched)} waiver(s) in force match no failing or warning finding "
                                    f"(fixed, or naming the wrong scope, column or subgroup): {shown}. Remove them.",
                            **common)
    return out, Finding(status="pass", message=f"{len(waivers)} waiver(s) in force cover {waived} finding(s); "
                                              "none has expired.", **common)
