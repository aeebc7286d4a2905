"""The finding record and the fixed Arrow schema of ``findings.parquet``.

One row per (check, scope, metric); the schema never varies with content (contract.md).
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import pyarrow as pa

STATUSES = ("pass", "warn", "fail", "error", "skipped")
FAMILIES = ("drift", "diversity", "bias", "duplication", "privacy", "provenance", "validity")
SCOPES = ("dataset", "column", "column_pair", "subgroup", "row")

#: Reason codes (an enum of strings, never parsed text).
REASONS = {
    "beyond_baseline": "beyond the real/real baseline and above the minimum effect",
    "below_min_effect": "statistically detectable but smaller than the minimum effect",
    "fdr_only": "significant at the false-discovery level but not after Holm correction",
    "underpowered": "the sample is too small to detect the minimum effect",
    "no_holdout": "needs a holdout set of real rows the generator never saw",
    "out_of_core": "reads artefacts that are not yet built when the inputs stream out of core",
    "no_applicable_columns": "no column of the roles this check needs",
    "too_few_rows": "too few rows to compute the statistic",
    "missing_column": "a real column is absent from the synthetic data",
    "type_mismatch": "the synthetic column cannot be read as the real column's type",
    "all_null": "the column holds no value",
    "constant": "the column holds a single value",
    "mixed_types": "some values could not be read as the column's type",
    "non_finite": "the column holds NaN or infinite values",
    "exception": "the check raised an exception",
    "timeout": "the check ran past its time limit",
    "required_check_missing": "a check the gate requires did not produce a verdict",
    "disabled": "the check is switched off in the config",
    "row_evidence": "a row named as evidence for a failing dataset-level finding",
    "min_group_size": "the subgroup has fewer real rows than the configured minimum",
    "erased": "a real subgroup large enough to be expected is absent from the synthetic data",
    "no_sensitive_columns": "no sensitive column was declared or could be inferred",
    "no_target": "needs a declared target (outcome) column",
    "target_not_binary": "the target column is not binary and no positive label was declared",
    "not_configured": "runs only when configured",
    "missing_dependency": "an optional dependency is not installed",
    "no_provenance_tags": "the data carries no provenance tag and none was declared",
    "missing_tag": "a required provenance tag is absent or empty",
    "invalid_value": "a value breaks a declared rule (allowed values, pattern, timestamp)",
    "invalid_file": "a file could not be read or does not follow its format",
    "expectation_failed": "a data expectation did not hold",
    "expectation_error": "Great Expectations could not evaluate the expectation",
    "invalid_suite": "the expectation suite file is missing, unreadable or not a valid GX 1.x suite",
    "above_max_share": "the share of synthetic rows exceeds the configured maximum",
    "missing": "values are missing",
    "single_extreme": "a single synthetic value past a tolerated extreme (indistinguishable from a rare real value)",
    "non_string": "text-column values that are not strings",
    "empty_text": "text-column values that are empty or whitespace-only",
    "invalid_utf8": "text that held invalid UTF-8 (replaced by U+FFFD)",
    "truncated": "documents cut at the configured maximum length",
    "no_manifest": "the data has no signed provenance manifest and none is required",
    "manifest_missing": "a signed provenance manifest is required but absent",
    "manifest_mismatch": "the manifest's records file or Merkle root does not match what was signed",
    "invalid_signature": "the manifest's signature does not verify (edited, or signed with another key)",
    "untrusted_key": "the manifest is validly signed, but by a key that is not trusted",
    "too_few_tokens": "no document has enough tokens to score",
    "other_scheme": "the configured watermark scheme (watermark.scheme) is another one",
    "insufficient_evidence": "the gate could not judge: too few synthetic rows, no feature left, or no verdict from the checks it relies on",
    "undefined_at_size": "the statistic is not defined at this sample size",
    "waiver_expired": "a waiver in the config has expired: the findings it covered count again",
    "waiver_unmatched": "a waiver in force matches no failing or warning finding",
    "converted": "the column's Arrow type was converted to be audited (nested -> JSON text, binary -> SHA-256, ...)",
}

SCHEMA = pa.schema(
    [
        pa.field("check_id", pa.string(), nullable=False),
        pa.field("check_version", pa.string(), nullable=False),
        pa.field("family", pa.string(), nullable=False),
        pa.field("scope", pa.string(), nullable=False),
        pa.field("column", pa.string()),
        pa.field("subgroup", pa.string()),
        pa.field("metric", pa.string(), nullable=False),
        pa.field("value", pa.float64()),
        pa.field("baseline_value", pa.float64()),
        pa.field("matched_value", pa.float64()),
        pa.field("threshold", pa.float64()),
        pa.field("ci_low", pa.float64()),
        pa.field("ci_high", pa.float64()),
        pa.field("p_value", pa.float64()),
        pa.field("min_effect", pa.float64()),
        pa.field("n_real", pa.int64()),
        pa.field("n_synthetic", pa.int64()),
        pa.field("status", pa.string(), nullable=False),
        pa.field("severity", pa.string(), nullable=False),
        pa.field("reason_code", pa.string()),
        pa.field("goal", pa.string()),
        pa.field("unit", pa.string()),
        pa.field("row_id", pa.string()),
        pa.field("side", pa.string()),
        pa.field("message", pa.string(), nullable=False),
        pa.field("evidence", pa.string()),
        pa.field("waiver", pa.string()),
    ]
)
COLUMNS = tuple(SCHEMA.names)


@dataclass(frozen=True)
class Finding:
    """One row of the findings table.

    Attributes follow ``SCHEMA``; ``evidence`` is a small JSON-able dict of aggregates
    (bin shares, histogram counts) used by the report; it never holds real record values.
    """

    check_id: str
    family: str
    scope: str
    metric: str
    status: str
    message: str
    check_version: str = "1"
    severity: str = "fail"
    column: str | None = None
    subgroup: str | None = None
    value: float | None = None
    baseline_value: float | None = None
    #: The statistic the verdict compares with ``baseline_value``: real vs synthetic at the matched
    #: size of the real/real comparison (median over the seeded splits). ``value`` is the statistic
    #: on the full data (what a user recomputes with the reference implementation).
    matched_value: float | None = None
    threshold: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    p_value: float | None = None
    min_effect: float | None = None
    n_real: int | None = None
    n_synthetic: int | None = None
    reason_code: str | None = None
    goal: str | None = None
    unit: str | None = None
    row_id: str | None = None
    side: str | None = None
    evidence: dict[str, Any] | None = field(default=None, compare=False)
    #: Set when a waiver in force covers this ``fail``/``warn`` finding: "owner, until DATE:
    #: reason" (:mod:`synthproof.waivers`); the status is kept and the gate ignores the finding.
    waiver: str | None = None

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}, got {self.status!r}")
        if self.family not in FAMILIES:
            raise ValueError(f"family must be one of {FAMILIES}, got {self.family!r}")
        if self.scope not in SCOPES:
            raise ValueError(f"scope must be one of {SCOPES}, got {self.scope!r}")
        if self.reason_code is not None and self.reason_code not in REASONS:
            raise ValueError(f"unknown reason_code {self.reason_code!r}")

    def to_row(self) -> dict[str, Any]:
        row = dataclasses.asdict(self)
        for key in ("value", "baseline_value", "matched_value", "threshold", "ci_low", "ci_high", "p_value", "min_effect"):
            v = row[key]
            row[key] = None if v is None or (isinstance(v, float) and math.isnan(v)) else float(v)
        for key in ("n_real", "n_synthetic"):
            row[key] = None if row[key] is None else int(row[key])
        row["evidence"] = None if self.evidence is None else json.dumps(self.evidence, sort_keys=True)
        return row


def findings_to_table(findings: list[Finding], metadata: dict[str, str] | None = None) -> pa.Table:
    """Build the findings Arrow table with the fixed ``SCHEMA`` (empty input gives zero rows)."""
    rows = [f.to_row() for f in findings]
    arrays = {name: [r[name] for r in rows] for name in COLUMNS}
    table = pa.Table.from_pydict(arrays, schema=SCHEMA)
    if metadata:
        table = table.replace_schema_metadata({k.encode(): v.encode() for k, v in metadata.items()})
    return table


def table_to_frame(table: pa.Table) -> pd.DataFrame:
    """The findings table as a pandas DataFrame (nullable columns keep ``None``/``NaN``)."""
    return table.to_pandas()
