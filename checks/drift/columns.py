"""Per-column drift checks on count vectors, judged against matched-size real/real splits.

A finding's ``value`` is the statistic between ALL real and ALL synthetic rows (what
``scipy.stats.ks_2samp`` etc. give on the same files); ``matched_value`` is the median over seeded
splits of the statistic between the real reference part and a synthetic part of the matched size,
which the verdict compares with the real/real baseline at that size. Both come from count vectors
over a shared support (see :mod:`synthproof.encode`); where a numeric column has more than 1024
distinct values and is binned, the full-data ``value`` of KS, |SMD|, W1, PSI and JS is computed from
the values themselves (sort-based, O(n log n)) so it stays exact.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from synthproof.calibration import Comparison, RateNull, describe, fmt, holm_levels, judge
from synthproof.check import Check, Param, register
from synthproof.context import label_is_public
from synthproof.encode import ColumnCounts, permutation_counts, split_counts
from synthproof.errors import IncomputableError
from synthproof.findings import Finding
from synthproof.stats import distances

from . import _stats

MIN_COMPARE_ROWS = 10
_N_SPLITS = Param("int", None, "seeded real/real splits R (default: calibration.n_splits)", low=20, high=10_000)


def _n_splits(check: Check, ctx) -> int:
    return int(check.config.get("n_splits") or ctx.n_splits)


def chart_evidence(cc: ColumnCounts, show_values: bool) -> dict:
    """Real vs synthetic shares for the report chart (aggregates only, never records)."""
    k = cc.support.size
    r, s = cc.real.astype(float), cc.synthetic.astype(float)
    if cc.kind == "numeric":
        groups = np.append(cc.deciles, 10)
        real = np.bincount(groups, weights=r, minlength=11)
        syn = np.bincount(groups, weights=s, minlength=11)
        labels = [f"D{i + 1}" for i in range(10)] + ["missing"]
        if show_values:
            edges = [float(cc.support[cc.deciles == g].min()) if (cc.deciles == g).any() else None for g in range(10)]
            labels = [f"≥{e:.4g}" if e is not None else f"D{i + 1}" for i, e in enumerate(edges)] + ["missing"]
    else:
        top = min(k, 12)
        shown = [str(lbl) if label_is_public(int(cc.real[i]), show_values, lbl) else f"<rare #{i + 1}>"
                 for i, lbl in enumerate(cc.support[:top])]
        real = np.concatenate([r[:top], [r[top:k].sum(), r[k]]])
        syn = np.concatenate([s[:top], [s[top:k].sum(), s[k]]])
        labels = shown + ["<other>", "missing"]
    keep = (real + syn) > 0
    rt, st = max(r.sum(), 1.0), max(s.sum(), 1.0)
    return {
        "chart": "bars",
        "labels": [lbl for lbl, k_ in zip(labels, keep) if k_],
        "real": [round(float(v) / rt, 6) for v, k_ in zip(real, keep) if k_],
        "synthetic": [round(float(v) / st, 6) for v, k_ in zip(syn, keep) if k_],
    }


class CountDriftCheck(Check):
    """Shared machinery: one statistic per applicable column, R splits, :func:`judge`."""

    family = "drift"
    computation = "mergeable"
    roles: ClassVar[tuple[str, ...]] = ("numeric", "datetime")
    null: ClassVar[str] = "gamma"
    label: ClassVar[str] = ""
    evidence: ClassVar[bool] = False

    def statistic(self, cc: ColumnCounts, p: np.ndarray, q: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def exact_null(self, baseline: np.ndarray, m: int):
        """An exact null for this column, or None to fit one to the baseline."""
        return None

    def run(self, ctx) -> list[Finding]:
        cols = [c for c in ctx.data.features if ctx.data.roles[c] in self.roles]
        if not cols:
            raise IncomputableError("no_applicable_columns", f"no {'/'.join(self.roles)} column to compare")
        findings: list[Finding] = []
        todo: list[tuple] = []
        for col in cols:
            cc = ctx.counts(col)
            k = cc.support.size
            if cc.real[:k].sum() == 0:
                findings.append(self.finding(scope="column", column=col, status="skipped", reason_code="all_null",
                                             message=f"column {col!r}: no real value to compare against."))
                continue
            p_r, p_s = self.restrict(cc, cc.real), self.restrict(cc, cc.synthetic)
            if min(p_s.sum(), p_r.sum() // 2) < MIN_COMPARE_ROWS:
                findings.append(self.finding(
                    scope="column", column=col, status="skipped", reason_code="too_few_rows",
                    n_real=int(p_r.sum()), n_synthetic=int(p_s.sum()),
                    message=f"column {col!r}: fewer than {MIN_COMPARE_ROWS} values per side after matching sizes."))
                continue
            todo.append((col, cc, p_r, p_s))
        todo = ctx.map(lambda item: self._column(ctx, *item), todo)
        comparisons = [Comparison(mv, b, self.min_effect, self.null, dist=self.exact_null(b, m), permutation=pm)
                       for _, _, _, mv, b, pm, _, m in todo]
        for (col, cc, value, matched, _, _, n_r, m), verdict in zip(todo, judge(comparisons, ctx.alpha, ctx.fdr_q)):
            findings.append(self.judged_finding(
                verdict, scope="column", column=col, value=value, matched_value=matched, n_real=n_r, n_synthetic=m,
                message=describe(self.label, value, verdict, self.min_effect, f"column {col!r}",
                                 matched=matched, m=m) + self._binned_note(ctx, cc),
                evidence=chart_evidence(cc, ctx.show_values) if self.evidence else None,
            ))
        return findings

    def _column(self, ctx, col: str, cc: ColumnCounts, p_r: np.ndarray, p_s: np.ndarray) -> tuple:
        """Full-data value, matched-size value, real/real baseline and permutation null of one
        column (its own seeded generator)."""
        rng = ctx.rng(f"{self.id}:{col}")
        sp = split_counts(p_r, p_s, _n_splits(self, ctx), rng)
        baseline = self.statistic(cc, sp.A, sp.B)
        matched = float(np.median(self.statistic(cc, sp.A, sp.S)))
        pa_, pb_ = permutation_counts(p_r, p_s, _n_splits(self, ctx), rng)
        value = self.full_value(ctx, col, cc)
        return (col, cc, value, matched, baseline, self.statistic(cc, pa_, pb_), int(p_r.sum()), sp.m)

    def full_value(self, ctx, col: str, cc: ColumnCounts) -> float:
        """The statistic on ALL real vs ALL synthetic rows (the finding's ``value``).

        From the full count vectors; a numeric statistic whose count form is not exact on a
        binned (non-exact) support overrides this with its array form on the column's values —
        when they are in memory. Out of core (:mod:`synthproof.plan.outofcore`) the value of a
        binned column is the statistic on its 1,024 fine bins of all rows (KS within the largest
        bin's mass, about 0.001, of the exact value); the verdict is computed the same way in both.
        """
        return float(self.statistic(cc, self.restrict(cc, cc.real), self.restrict(cc, cc.synthetic)))

    def _binned_note(self, ctx, cc: ColumnCounts) -> str:
        """Says so when the value comes from the fine bins where in memory it would be exact."""
        overridden = type(self).full_value is not CountDriftCheck.full_value
        if overridden and ctx.prepared.streamed and cc.kind == "numeric" and not cc.exact:
            return f" Value on the {cc.support.size:,} fine bins of all rows (out of core)."
        return ""

    def values(self, ctx, col: str) -> tuple[np.ndarray, np.ndarray]:
        """The prepared float64 values of a numeric/datetime column (real, synthetic)."""
        return (np.asarray(ctx.data.real[col].to_numpy(), dtype=float),
                np.asarray(ctx.data.synthetic[col].to_numpy(), dtype=float))

    def restrict(self, cc: ColumnCounts, counts: np.ndarray) -> np.ndarray:
        """Counts the statistic uses (default: without the missing bin)."""
        return counts[: cc.support.size]


def _min_effect(default: float, doc: str) -> Param:
    return Param("float", default, doc, low=0.0)


@register
class KSDrift(CountDriftCheck):
    id = "drift.ks"
    version = "2"  # a binned column's exact value by merging the sorted samples: scipy's floats to the bit (was within 1e-15)
    needs = ("column_counts",)
    in_memory_extras = ("rows",)  # the exact full-data value of a binned column
    summary = "Two-sample Kolmogorov–Smirnov statistic per numeric/datetime column."
    metric = "ks_statistic"
    label = "KS statistic"
    evidence = True
    source = ("Kolmogorov 1933, Smirnov 1948; value = scipy.stats.ks_2samp(real.dropna(), synthetic.dropna())"
              ".statistic on all rows (computed exactly from the values when a column has more than 1024 "
              "distinct values and is binned); matched_value on the 1024 fine bins")
    params = {"min_effect": _min_effect(0.05, "minimum KS difference worth failing"), "n_splits": _N_SPLITS}

    def statistic(self, cc, p, q):
        return distances.ks_from_counts(p, q)

    def full_value(self, ctx, col, cc):
        if cc.exact or ctx.prepared.streamed:
            return super().full_value(ctx, col, cc)
        return distances.ks_statistic(*self.values(ctx, col))


@register
class StandardizedMeanDifference(CountDriftCheck):
    id = "drift.smd"
    version = "2"  # scale from exact counts; bin means from the edge sample past 200k values (issue 12)
    needs = ("column_counts",)
    in_memory_extras = ("rows",)  # the exact full-data value of a binned column
    summary = "Absolute standardised mean difference |mean_s - mean_r| / sd_real per numeric column."
    metric = "abs_standardized_mean_difference"
    label = "|SMD|"
    unit = "real standard deviations"
    value_range = "[0, inf)"
    source = "Austin 2009, Stat. Med. 28:3083 (balance diagnostics; |SMD| < 0.1 negligible)"
    params = {"min_effect": _min_effect(0.1, "minimum |SMD| worth failing"), "n_splits": _N_SPLITS}

    def statistic(self, cc, p, q):
        return np.abs(_stats.mean_from_counts(q, cc.support) - _stats.mean_from_counts(p, cc.support)) / cc.scale

    def full_value(self, ctx, col, cc):
        if cc.exact or ctx.prepared.streamed:
            return super().full_value(ctx, col, cc)
        return abs(_stats.standardized_mean_difference(*self.values(ctx, col)))


@register
class WassersteinDrift(CountDriftCheck):
    id = "drift.wasserstein"
    version = "2"  # scale from exact counts; bin means from the edge sample past 200k values (issue 12)
    needs = ("column_counts",)
    in_memory_extras = ("rows",)  # the exact full-data value of a binned column
    summary = "First Wasserstein distance divided by the real SD (IQR if 0) per numeric column."
    metric = "normalized_wasserstein"
    label = "W1/SD"
    unit = "real standard deviations"
    value_range = "[0, inf)"
    default_severity = "warn"
    source = "Vaserstein 1969; scipy.stats.wasserstein_distance"
    params = {"min_effect": _min_effect(0.1, "minimum normalised W1 worth failing"), "n_splits": _N_SPLITS}

    def statistic(self, cc, p, q):
        return _stats.wasserstein_from_counts(p, q, cc.support) / cc.scale

    def full_value(self, ctx, col, cc):
        if cc.exact or ctx.prepared.streamed:
            return super().full_value(ctx, col, cc)
        return _stats.normalized_wasserstein(*self.values(ctx, col))


@register
class PSIDrift(CountDriftCheck):
    id = "drift.psi"
    needs = ("column_counts",)
    in_memory_extras = ("rows",)  # the exact full-data value of a binned column
    summary = ("Population stability index sum (q-p) ln(q/p) on the real-decile bins (distinct inverted-CDF "
               "real deciles, bins (e_{j-1}, e_j], ties never split) plus a missing bin; shares floored at 1e-4.")
    metric = "psi"
    label = "PSI"
    value_range = "[0, inf)"
    default_severity = "warn"
    source = ("Siddiqi 2006 (credit scoring); Yurdakul 2018 (PSI properties); value = "
              "synthproof.checks.drift._stats.population_stability_index(real, synthetic) on all rows")
    params = {"min_effect": _min_effect(0.05, "minimum PSI worth failing"), "n_splits": _N_SPLITS}

    def restrict(self, cc, counts):
        return _deciles(cc, counts)

    def statistic(self, cc, p, q):
        return _stats.psi_from_counts(p, q)

    def full_value(self, ctx, col, cc):
        if cc.exact or ctx.prepared.streamed:
            return super().full_value(ctx, col, cc)
        return _stats.population_stability_index(*self.values(ctx, col))


def _deciles(cc: ColumnCounts, counts: np.ndarray) -> np.ndarray:
    """Counts grouped into the PSI/JS bins: numeric fine bins by ``cc.deciles`` (+ missing).

    ``cc.deciles`` is ``min(floor(10 * F_real(bin-)), 9)``, ``F_real(bin-)`` the real share below
    the bin — on an exact support the same partition as :func:`_stats.decile_bin_counts` on the
    edges of :func:`_stats.decile_edges` (bins ``(e_{j-1}, e_j]`` at the distinct inverted-CDF real
    deciles), so counts here equal the pure functions' bin counts; on a binned support a decile
    edge is rounded to a fine-bin boundary (at most 1/1024 of the mass).
    """
    k = cc.support.size
    if cc.kind != "numeric":
        return counts
    out = np.bincount(cc.deciles, weights=counts[:k], minlength=10).astype(np.int64)
    return np.append(out, counts[k])


@register
class JensenShannonDrift(CountDriftCheck):
    id = "drift.jensen_shannon"
    needs = ("column_counts",)
    in_memory_extras = ("rows",)  # the exact full-data value of a binned column
    summary = ("Jensen–Shannon distance (base 2) on categories (missing a category), or for numeric columns "
               "on the PSI bins (distinct inverted-CDF real deciles, (e_{j-1}, e_j], plus a missing bin).")
    metric = "jensen_shannon_distance"
    label = "JS distance"
    roles = ("numeric", "datetime", "categorical", "boolean")
    default_severity = "warn"
    source = ("Lin 1991; Endres & Schindelin 2003; value = scipy.spatial.distance.jensenshannon(p, q, base=2) "
              "on those bin counts of all rows (numeric: _stats.jensen_shannon_numeric)")
    params = {"min_effect": _min_effect(0.05, "minimum JS distance worth failing"), "n_splits": _N_SPLITS}

    def restrict(self, cc, counts):
        return _deciles(cc, counts)

    def statistic(self, cc, p, q):
        return distances.js_distance_from_counts(p, q)

    def full_value(self, ctx, col, cc):
        if cc.kind != "numeric" or cc.exact or ctx.prepared.streamed:
            return super().full_value(ctx, col, cc)
        return _stats.jensen_shannon_numeric(*self.values(ctx, col))


@register
class TVDrift(CountDriftCheck):
    id = "drift.tvd"
    needs = ("column_counts",)
    summary = "Total variation distance 0.5 sum |p_i - q_i| of category shares, missing counted as a category."
    metric = "total_variation_distance"
    label = "TVD"
    roles = ("categorical", "boolean")
    evidence = True
    source = ("TVD as in SDMetrics TVComplement, but not equal to it: TVComplement = 1 - TVD computed after "
              "dropping missing values (and with a 1e-6 real count for synthetic-only categories); this value "
              "keeps missing as a category, so 1 - value equals TVComplement only when neither side has a "
              "missing value and every synthetic category occurs in the real data")
    params = {"min_effect": _min_effect(0.05, "minimum TVD worth failing"), "n_splits": _N_SPLITS}

    def restrict(self, cc, counts):
        return counts

    def statistic(self, cc, p, q):
        return distances.tvd_from_counts(p, q)


@register
class MissingRateDrift(CountDriftCheck):
    id = "drift.missing_rate"
    needs = ("column_counts",)
    summary = "Absolute difference of the missing-value rate per column."
    metric = "missing_rate_difference"
    label = "|missing-rate difference|"
    roles = ("numeric", "datetime", "categorical", "boolean")
    source = "-"
    params = {"min_effect": _min_effect(0.02, "minimum difference in missing share worth failing"),
              "n_splits": _N_SPLITS}

    def restrict(self, cc, counts):
        k = cc.support.size
        return np.array([counts[:k].sum(), counts[k]], dtype=np.int64)

    def exact_null(self, baseline, m):
        # Real has no missing value at all: real/real never differs, and missing values in the
        # synthetic data are judged as a rate against "almost never" (binomial), not as impossible.
        return RateNull(baseline, m) if not np.any(baseline) else None

    def statistic(self, cc, p, q):
        pm = p[..., 1] / np.maximum(p.sum(axis=-1), 1)
        qm = q[..., 1] / np.maximum(q.sum(axis=-1), 1)
        return np.abs(pm - qm)


def absent_probability(c: int, n_real: int, n_synthetic: int) -> float:
    """``C(n_real, c) / C(n_real + n_synthetic, c)``: all ``c`` pooled occurrences on the real side."""
    i = np.arange(c, dtype=float)
    return float(np.exp(np.sum(np.log((n_real - i) / (n_real + n_synthetic - i)))))


@register
class CategoryMissing(Check):
    """A real category absent from the synthetic data, when its real count makes that improbable.

    Under "real and synthetic come from one distribution" the ``c`` rows of a category in the
    pooled data are spread at random over the ``n_r`` real and ``n_s`` synthetic rows, so all of
    them fall on the real side with probability ``C(n_r, c) / C(n_r + n_s, c)`` (the exact
    permutation p-value; unlike ``(1 - c/n_r)^n_s`` it does not treat the real share as known).
    Holm across every (column, category); ``fail`` also needs the real share ``>= min_effect``.
    """

    id = "drift.category_missing"
    needs = ("column_counts",)
    family = "drift"
    summary = "Real categories missing from the synthetic data although their real share makes absence improbable."
    metric = "absent_category_real_share"
    computation = "mergeable"
    value_range = "[0, 1]"
    source = "exact permutation (hypergeometric) probability that every occurrence is real"
    params = {"min_effect": _min_effect(0.005, "minimum real share of an absent category worth failing")}

    def run(self, ctx) -> list[Finding]:
        cols = [c for c in ctx.data.features if ctx.data.roles[c] in ("categorical", "boolean")]
        if not cols:
            raise IncomputableError("no_applicable_columns", "no categorical column to compare")
        tests = []
        for col in cols:
            cc = ctx.counts(col)
            k = cc.support.size
            n_r, n_s = int(cc.real[:k].sum()), int(cc.synthetic.sum())
            for i in range(k):
                if cc.synthetic[i] == 0 and cc.real[i] > 0:
                    share = cc.real[i] / max(n_r, 1)
                    tests.append((col, i, share, absent_probability(int(cc.real[i]), n_r, n_s), n_r, n_s))
        findings = []
        if tests:
            p = np.array([t[3] for t in tests])
            holm, level = holm_levels(p, ctx.alpha)
            for (col, i, share, pv, n_r, n_s), rej, lev in zip(tests, holm, level):
                cc = ctx.counts(col)
                name = ctx.label(cc.support[i], int(cc.real[i]))
                if rej and share >= self.min_effect:
                    status, reason = "fail", "beyond_baseline"
                    tail = "its absence is improbable if the synthetic data followed the real distribution."
                elif share >= self.min_effect:
                    status, reason = "warn", "underpowered"
                    tail = f"absence is not significant at n={n_s} (probability {fmt(pv)})."
                else:
                    continue
                findings.append(self.finding(
                    scope="column", column=col, value=float(share), baseline_value=float(share),
                    threshold=float(lev), p_value=pv, min_effect=self.min_effect, n_real=n_r, n_synthetic=n_s,
                    status=status, reason_code=reason,
                    message=f"column {col!r}: category {name} (real share {fmt(share)}) is absent from "
                            f"{n_s} synthetic rows; " + tail))
        flagged = {f.column for f in findings}
        for col in cols:
            if col not in flagged:
                cc = ctx.counts(col)
                findings.append(self.finding(
                    scope="column", column=col, value=0.0, min_effect=self.min_effect,
                    n_real=int(cc.real.sum()), n_synthetic=int(cc.synthetic.sum()), status="pass",
                    message=f"column {col!r}: no real category of share >= {fmt(self.min_effect)} is missing."))
        return findings
