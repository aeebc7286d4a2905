"""Pairwise drift: how much the association of each column pair differs from real.

Every feature pair gets a joint contingency table on coarse codes (numeric columns in at most 16
real-quantile bins, categorical columns in their 30 most frequent categories plus ``<other>``,
missing last). Numeric–numeric pairs use Spearman's rho on the binned ranks (missing excluded);
every other pair uses the Cramér's-V-scaled distance between the two tables' standardised residuals
(:func:`_stats.residual_structure_distance`, missing as a category). A finding's ``value`` is that
statistic between ALL real and ALL synthetic rows; ``matched_value`` (median over real-reference vs
matched-size synthetic splits) is what the verdict compares with real/real splits of the joint table
(:func:`synthproof.encode.split_counts`), Holm across pairs.
"""

from __future__ import annotations

import itertools

import numpy as np

from synthproof.calibration import Comparison, describe, judge
from synthproof.check import Check, Param, register
from synthproof.encode import permutation_counts, split_counts
from synthproof.errors import IncomputableError
from synthproof.findings import Finding

from . import _stats

_NUMERIC = ("numeric", "datetime")


def association(table: np.ndarray, numeric_pair: bool, k: int | None = None) -> np.ndarray:
    """Spearman's rho (numeric pair, missing row/column dropped) or Cramér's V (normalised by ``k``),
    shape (..., r, c) -> (...)."""
    if numeric_pair:
        return _stats.spearman_from_table(table[..., :-1, :-1])
    return _stats.cramers_v_from_table(table, k)


def _v_norm(table: np.ndarray) -> int:
    """``min(non-empty rows, non-empty columns) - 1`` of the full real table (at least 1)."""
    return max(int(min((table.sum(axis=1) > 0).sum(), (table.sum(axis=0) > 0).sum())) - 1, 1)


@register
class PairAssociationDrift(Check):
    id = "drift.pair_association"
    version = "2"  # numeric pair bins cut on the edge sample past 200k values (issue 12)
    family = "drift"
    summary = ("Change of pairwise association: |Δ Spearman rho| for numeric pairs, the Cramér's-V-scaled "
               "distance between dependence structures otherwise.")
    metric = "association_difference"
    computation = "mergeable"
    value_range = "[0, 1] (V) or [0, 2] (rho)"
    source = ("Spearman 1904; Cramér 1946. Related to, but not equal to, SDMetrics: CorrelationSimilarity "
              "(Spearman) = 1 - |rho_real - rho_syn| / 2 on the raw values, here |Δ rho| on the 16 coarse "
              "real-quantile bins (mid-ranks, missing dropped); ContingencySimilarity = 1 - TVD of the joint "
              "frequencies, here instead ||R_real - R_syn||_F / sqrt(k) of the standardised residuals "
              "(Cramér's-V scale; 0 for equal dependence even if the margins differ)")
    params = {
        "min_effect": Param("float", 0.1, "minimum absolute change of rho or V worth failing", low=0.0),
        "n_splits": Param("int", 50, "seeded real/real splits R per pair", low=20, high=10_000),
        "max_columns": Param("int", 60, "at most this many feature columns (first in order) enter pairs", low=2),
        "report_top": Param("int", 20, "passing pairs reported (the worst); failing/warning pairs always are",
                            low=0),
    }

    needs = ("pair_tables",)

    def pair_columns(self, data) -> list[str]:
        """The columns whose pairs this check reads (the planner builds their tables)."""
        return data.features[: self.max_columns]

    def _pair(self, ctx, cols, a: str, b: str) -> tuple:
        """Statistic, baselines and associations of one pair (its own seeded generators)."""
        real_t, syn_t = ctx.pair_table(a, b, cols)
        num = ctx.data.roles[a] in _NUMERIC and ctx.data.roles[b] in _NUMERIC
        sp = split_counts(real_t, syn_t, self.n_splits, ctx.rng(f"{self.id}:{a}|{b}"))
        kv = _v_norm(real_t)
        pa_, pb_ = permutation_counts(real_t, syn_t, self.n_splits, ctx.rng(f"{self.id}:{a}|{b}:perm"))

        def stat(x, y):
            if num:
                return np.abs(association(x, num, kv) - association(y, num, kv))
            return _stats.residual_structure_distance(x, y, real_t, kv)

        matched = float(np.median(stat(sp.A, sp.S)))
        value = float(stat(real_t, syn_t))  # all real vs all synthetic rows
        real_assoc = float(association(real_t, num, kv))
        syn_assoc = float(association(syn_t, num, kv))
        return (a, b, num, matched, stat(sp.A, sp.B), int(real_t.sum()), sp.m, real_assoc, syn_assoc, stat(pa_, pb_),
                value)

    def run(self, ctx) -> list[Finding]:
        cols = self.pair_columns(ctx.data)
        if len(cols) < 2:
            raise IncomputableError("no_applicable_columns", "fewer than two feature columns")
        ctx.pair_table(cols[0], cols[1], cols)  # every table in one pass
        items = ctx.map(lambda ab: self._pair(ctx, cols, *ab), list(itertools.combinations(cols, 2)))
        verdicts = judge([Comparison(i[3], i[4], self.min_effect, permutation=i[9]) for i in items],
                         ctx.alpha, ctx.fdr_q)
        order = np.argsort([-(i[3] - v.baseline_median) for i, v in zip(items, verdicts)], kind="stable")
        findings, shown = [], 0
        for idx in order:
            a, b, num, matched, _, n_r, m, ra, sa, _, value = items[idx]
            v = verdicts[idx]
            if v.status == "pass":
                if shown >= self.report_top:
                    continue
                shown += 1
            kind = "Spearman rho" if num else "Cramér's V"
            label = "|Δ Spearman rho|" if num else "Dependence distance (Cramér's V scale)"
            msg = describe(label, value, v, self.min_effect, f"pair {a!r} × {b!r}", matched=matched, m=m)
            msg += f" Real {kind} {ra:.3f}, synthetic {sa:.3f}."
            findings.append(self.judged_finding(
                v, scope="column_pair", column=f"{a}|{b}", value=value, matched_value=matched, n_real=n_r,
                n_synthetic=m,
                message=msg, evidence={"association": "spearman" if num else "cramers_v",
                                       "real": round(ra, 6), "synthetic": round(sa, 6)}))
        hidden = len(items) - len(findings)
        if hidden:
            findings.append(self.finding(
                scope="dataset", metric="pairs_within_baseline", value=float(hidden), n_real=None,
                status="pass", message=f"{hidden} further pairs of {len(items)} are within real/real variation."))
        return findings
