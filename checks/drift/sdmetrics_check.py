"""The ``drift.sdmetrics_quality`` check: SDMetrics-compatible scores (:mod:`.sdmetrics_compat`)
reported as findings, never gated."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from synthproof.check import Check, Param, register
from synthproof.errors import IncomputableError
from synthproof.findings import Finding

from .sdmetrics_compat import (
    DEFAULT_REAL_ASSOCIATION_THRESHOLD,
    DEFAULT_REAL_CORRELATION_THRESHOLD,
    _nanmean,
    column_pair_trends,
    column_shapes,
    quality_score,
    sdtypes_from_roles,
)


def _seconds_to_ns(frame: pd.DataFrame, sdtypes: dict[str, str]) -> pd.DataFrame:
    """Prepared datetimes (float seconds) as float nanoseconds, the unit SDMetrics compares in."""
    dt = [c for c, t in sdtypes.items() if t == "datetime"]
    if not dt:
        return frame
    out = frame.copy(deep=False)
    for c in dt:
        out[c] = frame[c].to_numpy(dtype=np.float64) * 1e9
    return out


# -- the check -----------------------------------------------------------------------------------
def _f(x: float) -> float | None:
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else float(x)


@register
class SDMetricsQuality(Check):
    """SDMetrics-compatible Column Shapes, Column Pair Trends and quality score, reported only.

    SDMetrics' scores have no calibrated threshold, so this check never fails the gate: every
    finding is ``pass`` (or ``skipped`` where SDMetrics has no score), with the score as value.
    """

    id = "drift.sdmetrics_quality"
    needs = ("rows",)
    family = "drift"
    summary = ("SDMetrics-compatible scores (sdmetrics 0.32 definitions, every row): KSComplement / TVComplement "
               "per column, CorrelationSimilarity / ContingencySimilarity per pair, Column Shapes, Column Pair "
               "Trends and the quality score. Reported, never gated.")
    metric = "sdmetrics_quality_score"
    goal = "maximize"
    unit = "unitless"
    value_range = "[0, 1]"
    computation = "mergeable"  # every row: counts, min/max bin edges, moments (sorts for KSComplement)
    statistical = False
    default_severity = "warn"
    source = ("SDMetrics 0.32.0 QualityReport: KSComplement, TVComplement, CorrelationSimilarity (Pearson), "
              "ContingencySimilarity; ColumnShapes / ColumnPairTrends properties, num_rows_subsample=None")
    params = {
        "real_correlation_threshold": Param(
            "float", DEFAULT_REAL_CORRELATION_THRESHOLD,
            "Column Pair Trends averages correlation pairs with |real r| above this (SDMetrics 0.32 default)",
            low=0.0, high=1.0),
        "real_association_threshold": Param(
            "float", DEFAULT_REAL_ASSOCIATION_THRESHOLD,
            "Column Pair Trends averages contingency pairs with real Cramér's V above this (SDMetrics 0.32 default)",
            low=0.0, high=1.0),
        "max_columns": Param("int", 60, "at most this many feature columns (first in order) enter pairs", low=2),
    }

    NOTE = "SDMetrics-compatible (sdmetrics 0.32 definitions, every row); not a gate verdict."

    def run(self, ctx) -> list[Finding]:
        data = ctx.data
        sdtypes = sdtypes_from_roles(data.roles, data.features)
        if not sdtypes:
            raise IncomputableError("no_applicable_columns", "no feature column to score")
        cols = list(sdtypes)
        real = _seconds_to_ns(data.real[cols], sdtypes)
        syn = _seconds_to_ns(data.synthetic[cols], sdtypes)
        n_r, n_s = len(real), len(syn)
        shapes, shape_rows = column_shapes(real, syn, sdtypes)
        out: list[Finding] = []
        for d in shape_rows:
            metric = "ks_complement" if d["metric"] == "KSComplement" else "tv_complement"
            out.append(self._row("column", d["column"], metric, d["score"], n_r, n_s,
                                 f"column {d['column']!r}: SDMetrics {d['metric']}", None))
        pair_cols = cols[: self.max_columns]
        trends, pair_rows = (float("nan"), [])
        if len(pair_cols) >= 2:
            trends, pair_rows = column_pair_trends(
                real[pair_cols], syn[pair_cols], {c: sdtypes[c] for c in pair_cols},
                self.real_correlation_threshold, self.real_association_threshold)
        for d in pair_rows:
            metric = "correlation_similarity" if d["metric"] == "CorrelationSimilarity" else "contingency_similarity"
            ev = {"sdmetrics_metric": d["metric"], "contributes_to_column_pair_trends": bool(d["contributes"])}
            if metric == "correlation_similarity":
                ev.update(real_pearson=_f(d["real_correlation"]), synthetic_pearson=_f(d["synthetic_correlation"]))
            elif self.real_association_threshold > 0:
                ev["real_cramers_v"] = _f(d["real_association"])
            out.append(self._row("column_pair", f"{d['column_1']}|{d['column_2']}", metric, d["score"], n_r, n_s,
                                 f"pair {d['column_1']!r} × {d['column_2']!r}: SDMetrics {d['metric']}", ev,
                                 d.get("error")))
        n_contrib = sum(1 for d in pair_rows if d["contributes"])
        overall = quality_score(shapes, trends)
        all_pairs = _nanmean([d["score"] for d in pair_rows])
        out.append(self._row("dataset", None, "column_shapes", shapes, n_r, n_s,
                             f"Column Shapes (mean over {len(shape_rows)} columns)", None))
        out.append(self._row(
            "dataset", None, "column_pair_trends", trends, n_r, n_s,
            f"Column Pair Trends (mean over the {n_contrib} of {len(pair_rows)} pairs whose real association "
            f"passes SDMetrics' thresholds |r| > {self.real_correlation_threshold:g} / Cramér's V > "
            f"{self.real_association_threshold:g}; mean over every pair {_fmt(all_pairs)})",
            {"pairs": len(pair_rows), "contributing_pairs": n_contrib, "mean_over_all_pairs": _f(all_pairs)},
            None if n_contrib or not pair_rows else "no_contributing_pairs"))
        out.append(self._row("dataset", None, "sdmetrics_quality_score", overall, n_r, n_s,
                             "SDMetrics quality score (mean of Column Shapes and Column Pair Trends)",
                             {"column_shapes": _f(shapes), "column_pair_trends": _f(trends)}))
        return out

    def _row(self, scope, column, metric, score, n_r, n_s, what, evidence, error=None) -> Finding:
        if score is None or math.isnan(score):
            why, reason = {
                "ConstantInputError": ("a column is constant on one side, correlation is undefined", "constant"),
                "no_contributing_pairs": ("no pair's real association passes SDMetrics' thresholds",
                                          "no_applicable_columns"),
            }.get(error or "", ("SDMetrics gives no score: too few values on a side", "too_few_rows"))
            return self.finding(scope=scope, column=column, metric=metric, goal="maximize", n_real=n_r,
                                n_synthetic=n_s, status="skipped", reason_code=reason,
                                message=f"{what}: no score ({why}).", evidence=evidence)
        return self.finding(scope=scope, column=column, metric=metric, goal="maximize", value=float(score),
                            n_real=n_r, n_synthetic=n_s, status="pass",
                            message=f"{what} = {score:.4f} (1 = identical; higher is better). {self.NOTE}",
                            evidence=evidence)


def _fmt(x: float) -> str:
    return "n/a" if x is None or math.isnan(x) else f"{x:.4f}"
