"""Validity checks: the synthetic table has the real table's columns, readable as the same types.

These are deterministic (not statistical) and take no share of the gate's false-alarm budget.
"""

from __future__ import annotations

from synthproof.check import Check, register
from synthproof.findings import Finding

# (reason, side) -> status. Real-side trouble is a property of the data, reported as a warning;
# synthetic-side trouble that real does not share is a defect of the synthetic data.
_SYNTHETIC_FAIL = {"type_mismatch", "all_null", "constant"}


@register
class SchemaCheck(Check):
    id = "validity.schema"
    needs = ()
    family = "validity"
    summary = "Every real feature column exists in the synthetic data; synthetic-only columns are allowed."
    metric = "missing_columns"
    computation = "mergeable"
    unit = "columns"
    value_range = "[0, n_columns]"
    statistical = False

    def run(self, ctx) -> list[Finding]:
        missing = [i for i in ctx.data.issues if i.reason_code == "missing_column"]
        out = [self.finding(scope="column", column=i.column, value=1.0, status="fail", reason_code="missing_column",
                            side="synthetic", message=f"column {i.column!r} ({ctx.data.roles.get(i.column)}) "
                                                      "is in the real data but absent from the synthetic data.")
               for i in missing]
        extra = ctx.data.synthetic_only
        out.append(self.finding(
            scope="dataset", value=float(len(missing)), status="fail" if missing else "pass",
            reason_code="missing_column" if missing else None,
            message=(f"{len(missing)} real column(s) missing from synthetic; " if missing else
                     "every real column is present in synthetic; ")
            + (f"{len(extra)} synthetic-only column(s) ignored." if extra else "no synthetic-only column.")))
        return out


@register
class ColumnQuality(Check):
    id = "validity.column_quality"
    needs = ("column_counts",)
    family = "validity"
    summary = ("All-null, constant, mixed-type and non-finite columns on either side; synthetic-only "
               "degeneracy (all-null, constant or unreadable where real is not) fails.")
    metric = "affected_value_share"
    computation = "mergeable"
    value_range = "[0, 1]"
    statistical = False

    def run(self, ctx) -> list[Finding]:
        # Stray non-strings in a text column are validity.text_quality's to report.
        issues = [i for i in ctx.data.issues if i.reason_code not in ("missing_column", "non_string")]
        real_keys = {(i.column, i.reason_code) for i in issues if i.side == "real"}
        out = []
        for i in issues:
            # Only the synthetic side can fail: holdout trouble, like real trouble, is the data's own.
            if i.reason_code == "converted":
                status = "pass"  # recorded for the reader: how the column was read
            elif (i.side == "synthetic" and i.reason_code in _SYNTHETIC_FAIL and (i.column, i.reason_code) not in real_keys
                    and not (i.reason_code == "constant" and _plausibly_constant(ctx, i.column, i.total))):
                status = "fail"
            else:
                status = "warn"
            out.append(self.finding(
                scope="column", column=i.column, side=i.side, value=i.count / max(i.total, 1),
                n_real=i.total if i.side == "real" else None, n_synthetic=i.total if i.side == "synthetic" else None,
                status=status, reason_code=i.reason_code, message=f"{i.side} column {i.column!r}: {i.detail}."))
        if not out:
            out.append(self.finding(scope="dataset", value=0.0, status="pass",
                                    message="no all-null, constant, mixed-type or non-finite column on either side."))
        return out


def _plausibly_constant(ctx, column: str, n: int, level: float = 1e-3) -> bool:
    """Whether ``n`` synthetic values all equal to the real mode is plausible for a faithful sample:
    ``share(mode) ** n >= level`` (a 95%-zeros column is constant in 100 rows 0.6% of the time)."""
    if ctx.data.roles.get(column) not in ("numeric", "datetime", "categorical", "boolean"):
        return False
    cc = ctx.counts(column)
    real = cc.real[: cc.support.size]
    if real.sum() == 0:
        return False
    return float(real.max() / real.sum()) ** max(n, 1) >= level
