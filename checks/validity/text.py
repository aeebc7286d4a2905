"""Text-column quality: documents that are missing, not strings, empty, invalid UTF-8 or cut.

Deterministic (no share of the gate's budget). Synthetic values that are not text, or invalid
UTF-8, where the real column has none, fail (a generator or pipeline defect); everything else warns.
"""

from __future__ import annotations

from synthproof.check import register
from synthproof.checks._text import TextCheck
from synthproof.findings import Finding

_WHAT = {
    "non_string": "values are not strings (numbers, lists, objects) and are not audited as text",
    "empty_text": "values are empty or whitespace-only and are not audited as text",
    "invalid_utf8": "documents hold invalid UTF-8 (replaced by U+FFFD)",
    "truncated": "documents are longer than text.max_chars and were cut for the text checks",
    "missing": "values are missing",
}
_FAIL_ON_SYNTHETIC = {"non_string", "invalid_utf8"}


@register
class TextQuality(TextCheck):
    id = "validity.text_quality"
    needs = ("corpus",)
    computation = "mergeable"
    family = "validity"
    summary = "Per text column and side: missing, non-string, empty, invalid-UTF-8 and over-long documents."
    metric = "affected_row_share"
    statistical = False
    source = "synthproof.text.clean_texts (counted chunk by chunk in synthproof.corpus)"

    def run(self, ctx) -> list[Finding]:
        out = []
        for col in self.text_columns(ctx):
            sides = {s: ctx.corpus(col, s) for s in ("real", "synthetic", "holdout")}
            for side, ts in sides.items():
                if ts is None:
                    continue
                counts = dict(ts.counts)
                for issue in ctx.data.issues:  # stray values the reader set aside (synthproof.io)
                    if issue.column == col and issue.side == side and issue.reason_code == "non_string":
                        counts["non_string"] += issue.count
                        counts["missing"] = max(counts["missing"] - issue.count, 0)
                for reason, count in counts.items():
                    if not count:
                        continue
                    real_has = sides["real"].counts.get(reason, 0) > 0 or any(
                        i.column == col and i.side == "real" and i.reason_code == reason for i in ctx.data.issues)
                    status = "fail" if side == "synthetic" and reason in _FAIL_ON_SYNTHETIC and not real_has else "warn"
                    out.append(self.finding(
                        scope="column", column=col, side=side, value=count / max(ts.n_rows, 1), status=status,
                        reason_code=reason, n_real=ts.n_rows if side == "real" else None,
                        n_synthetic=ts.n_rows if side == "synthetic" else None,
                        message=f"{side} text column {col!r}: {count} of {ts.n_rows} {_WHAT[reason]}."))
            if not sides["synthetic"].n_docs:
                out.append(self.finding(scope="column", column=col, side="synthetic", value=1.0, status="fail",
                                        reason_code="all_null", n_synthetic=sides["synthetic"].n_rows,
                                        message=f"synthetic text column {col!r} holds no document to audit."))
        if not out:
            out.append(self.finding(scope="dataset", value=0.0, status="pass",
                                    message="every text value on every side is a non-empty, valid UTF-8 string "
                                            "within text.max_chars."))
        return out
