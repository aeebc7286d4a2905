"""Diversity of tabular synthetic data: category coverage, tails, unique rows, PRDC.

Mode collapse and tail loss — the signature of model collapse (Shumailov et al. 2024, "AI models
collapse when trained on recursively generated data", Nature 631:755) — fail here: a generator
that keeps the bulk but loses the rare categories and the extremes.
"""

from __future__ import annotations

import numpy as np

from synthproof.calibration import Comparison, RateNull, describe, fmt, judge
from synthproof.check import Check, Param, register
from synthproof.checks._duplicates import duplicate_rates, null_rates, row_hashes
from synthproof.encode import permutation_counts, split_counts
from synthproof.errors import IncomputableError
from synthproof.findings import Finding
from synthproof.stats.coverage import category_coverage, missing_mass
from synthproof.stats.features import distance_features
from synthproof.stats.quantiles import quantile_from_counts

from . import _stats

_NUMERIC = ("numeric", "datetime")
MIN_ROWS = 20
#: The real reference of a tail comparison needs this many values: below 1 / 0.01 = 100, no single
#: value lies wholly beyond the 1st/99th percentiles, so the real tail mass is 0 and the ratio undefined.
MIN_TAIL_REFERENCE = 100
#: Fewer expected real tail rows than this in the compared part and tail loss cannot be judged.
MIN_EXPECTED_TAIL_ROWS = 1.0


@register
class CategoryCoverage(Check):
    """Share of the real category mass (and of the real categories) present in the synthetic data.

    The judged statistic is the real mass in categories the synthetic sample lacks (at matched
    size; unitless, [0, 1], larger is worse), against real/real splits and the permutation null.
    Missing values do not count as a category here.
    """

    id = "diversity.category_coverage"
    needs = ("column_counts",)
    family = "diversity"
    summary = "Real category mass (and share of categories) missing from the synthetic data, per categorical column."
    metric = "missing_category_mass"
    computation = "mergeable"
    source = "SDMetrics CategoryCoverage (share of categories); mass-weighted variant calibrated on real/real splits"
    params = {
        "min_effect": Param("float", 0.01, "minimum real mass in missing categories worth failing", low=0.0, high=1.0),
        "n_splits": Param("int", 100, "seeded real/real splits R", low=20, high=10_000),
    }

    def _column(self, ctx, col: str):
        cc = ctx.counts(col)
        k = cc.support.size
        p_r, p_s = cc.real[:k], cc.synthetic[:k]
        rng = ctx.rng(f"{self.id}:{col}")
        sp = split_counts(p_r, p_s, self.n_splits, rng)
        pa_, pb_ = permutation_counts(p_r, p_s, self.n_splits, rng)
        value = float(np.median(missing_mass(sp.A, sp.S)))
        return (value, missing_mass(sp.A, sp.B), missing_mass(pa_, pb_), sp.m,
                float(category_coverage(p_r, p_s)), float(1 - missing_mass(p_r, p_s)),
                int((p_r > 0).sum()), int(p_r.sum()))

    def run(self, ctx) -> list[Finding]:
        cols = [c for c in ctx.data.features if ctx.data.roles[c] in ("categorical", "boolean")]
        if not cols:
            raise IncomputableError("no_applicable_columns", "no categorical column")
        findings, todo = [], []
        for col in cols:
            cc = ctx.counts(col)
            k = cc.support.size
            if min(int(cc.synthetic[:k].sum()), int(cc.real[:k].sum()) // 2) < MIN_ROWS:
                findings.append(self.finding(scope="column", column=col, status="skipped", reason_code="too_few_rows",
                                             message=f"column {col!r}: fewer than {MIN_ROWS} values per side."))
            else:
                todo.append(col)
        results = ctx.map(lambda c: self._column(ctx, c), todo)
        verdicts = judge([Comparison(r[0], r[1], self.min_effect, permutation=r[2]) for r in results],
                         ctx.alpha, ctx.fdr_q)
        for col, (matched, _, _, m, cov, mass, n_cat, n_r), v in zip(todo, results, verdicts):
            value = 1.0 - mass  # the real mass missing from ALL synthetic rows (the statistic on the full data)
            findings.append(self.judged_finding(
                v, scope="column", column=col, value=value, matched_value=matched, n_real=n_r, n_synthetic=m,
                evidence={"category_coverage": round(cov, 6), "mass_coverage": round(mass, 6), "real_categories": n_cat},
                message=f"column {col!r}: synthetic data has {fmt(cov)} of the {n_cat} real categories, "
                        f"{fmt(mass)} of the real mass. "
                        + describe(f"Missing real category mass at the matched size of {m} rows", matched, v,
                                   self.min_effect, "it")))
        return findings


@register
class TailRetention(Check):
    """Tail retention and quantile coverage of numeric columns, and of all of them pooled.

    Tail retention = synthetic mass beyond the real 1st/99th percentiles ÷ the real mass there
    (0.02 for a continuous column; :func:`._stats.tail_retention`); 1.0 is faithful, 0 means the
    tails are gone. The judged statistic is the tail loss ``1 - retention`` (unitless, larger is
    worse), per column and pooled over every numeric column (the pooled rate has power at small n,
    where a single column's tail holds a row or two). Calibration: row-level real/real splits of a
    bounded seeded sample (so the pooled statistic keeps the rows' dependence), plus the pooled
    permutation null. Also reported: the real mass beyond the synthetic 1st/99th percentiles and
    the range coverage (SDMetrics RangeCoverage).
    """

    id = "diversity.tail_retention"
    needs = ("column_counts", "row_sample", "row_pool")
    version = "3"  # samples from the row pool; bin means from the edge sample past 200k values (issue 12)
    family = "diversity"
    summary = "Synthetic mass beyond the real 1st/99th percentiles ÷ the real mass there (1 = faithful), per column and pooled."
    metric = "tail_loss"
    goal = "minimize (1 - tail retention)"
    value_range = "(-inf, 1]"
    computation = "sample"
    source = "Shumailov et al. 2024 (tails vanish first in model collapse); SDMetrics RangeCoverage"
    params = {
        "min_effect": Param("float", 0.5, "minimum tail loss (1 - retention) worth failing", low=0.0, high=1.0),
        "n_splits": Param("int", 100, "seeded real/real splits R", low=20, high=10_000),
        "max_rows": Param("int", 50_000, "rows per side in the seeded sample", low=100),
    }

    def run(self, ctx) -> list[Finding]:
        cols = [c for c in ctx.data.features if ctx.data.roles[c] in _NUMERIC]
        if not cols:
            raise IncomputableError("no_applicable_columns", "no numeric column")
        rng = ctx.rng(self.id)
        n_r, n_s = ctx.pool_size("real"), ctx.pool_size("synthetic")
        nr_s = min(n_r, 2 * self.max_rows)
        # The compared parts have m rows; the real reference keeps the other nr_s - m, and at least
        # MIN_TAIL_REFERENCE of them (a smaller m when the real table is small: fewer tail rows to
        # count, but a reference whose percentiles bound some values).
        m = int(min(n_s, nr_s // 2, self.max_rows, nr_s - MIN_TAIL_REFERENCE))
        if m < MIN_ROWS:
            raise IncomputableError(
                "undefined_at_size",
                f"tail retention needs a real reference of at least {MIN_TAIL_REFERENCE} rows (the 1st/99th "
                f"percentiles of fewer values bound none of them) beside compared parts of at least {MIN_ROWS} "
                f"rows; the data has {n_r} real and {n_s} synthetic rows.")
        ir, is_ = ctx.sample("real", nr_s, self.id), ctx.sample("synthetic", self.max_rows, self.id)
        codes, ks, fulls = [], [], []
        findings = []
        for col in list(cols):
            cc = ctx.counts(col)  # every row's fine-bin counts; codes of the sampled rows below
            k = cc.support.size
            full = cc.real[:k]
            if not _stats.tail_bins(full).any():
                findings.append(self.finding(scope="column", column=col, status="skipped",
                                             reason_code="undefined_at_size",
                                             message=f"column {col!r}: no real mass beyond its 1st/99th percentiles "
                                                     f"(too few distinct values); tails not compared."))
                cols.remove(col)
                continue
            codes.append((ctx.fine_codes_at("real", col, ir), ctx.fine_codes_at("synthetic", col, is_)))
            ks.append(k)
            fulls.append((full, cc.synthetic[:k]))
        if not cols:
            return findings
        R = self.n_splits
        # Per split and column: the reference tail rate (A; permutation A') and the tail hits of
        # the m-row compared parts (real B, synthetic S, permutation B').
        tA, hB, hS, pA, pB = (np.zeros((R, len(cols))) for _ in range(5))
        nB, nS, nPB = (np.zeros((R, len(cols))) for _ in range(3))  # non-missing rows of each part
        for r in range(R):
            perm = rng.permutation(nr_s)
            a, b = perm[m:], perm[:m]
            s = rng.choice(len(is_), m, replace=False) if len(is_) > m else np.arange(len(is_))
            pooled_perm = rng.permutation(nr_s + len(is_))
            pa, pb = pooled_perm[m:nr_s], pooled_perm[:m]
            for j, ((cr, cs), k) in enumerate(zip(codes, ks)):
                pool = np.concatenate([cr, cs])
                for ref, parts, rate_out, hit_outs, n_outs in ((cr[a], (cr[b], cs[s]), tA, (hB, hS), (nB, nS)),
                                                               (pool[pa], (pool[pb],), pA, (pB,), (nPB,))):
                    ref = ref[ref < k]
                    tails = np.append(_stats.tail_bins(np.bincount(ref, minlength=k)), False)  # missing: no tail
                    rate_out[r, j] = tails[ref].mean() if ref.size else 0.0
                    for part, out, n_out in zip(parts, hit_outs, n_outs):
                        out[r, j] = tails[part].sum()
                        n_out[r, j] = np.count_nonzero(part < k)
        # Expected tail hits of a part = the reference tail rate x the part's NON-MISSING rows (a
        # column with missing values must not read as lost tails). The synthetic hits are rescaled
        # to the real part's non-missing count so that one null (counts at the real part's size)
        # judges them.
        comps, labels, kept = [], [], []
        for j, col in enumerate(cols):
            mu = float(np.median(tA[:, j] * nB[:, j]))
            if np.median(tA[:, j]) > 0:
                kept.append(j)  # pooled whenever its reference has tail mass
            if mu < MIN_EXPECTED_TAIL_ROWS:
                findings.append(self._too_small(col, mu, nr_s - m, m, pooled=j in kept))
                continue
            comps.append((mu, np.median(hS[:, j] / np.maximum(nS[:, j], 1)) * np.median(nB[:, j]),
                          hB[:, j], pB[:, j], self._full_loss([fulls[j]])))
            labels.append(col)
        tk, nBk, nSk = tA[:, kept], nB[:, kept], nS[:, kept]
        pooled_mu = float(np.median((tk * nBk).sum(1))) if kept else 0.0
        if kept and pooled_mu < MIN_EXPECTED_TAIL_ROWS:
            findings.append(self._too_small(None, pooled_mu, nr_s - m, m, pooled=False))
        elif kept:
            comps.append((pooled_mu,
                          np.median(hS[:, kept].sum(1) / np.maximum((tk * nSk).sum(1), 1e-12) * (tk * nBk).sum(1)),
                          hB[:, kept].sum(1), pB[:, kept].sum(1), self._full_loss([fulls[j] for j in kept])))
            labels.append(None)
        values, nulls = [], []
        for mu, hs_, hb_, pb_, _ in comps:
            values.append(float(1 - hs_ / mu))
            nulls.append(_DeficitNull([hb_, pb_], mu))
        verdicts = judge([Comparison(val, 1 - hb_ / mu, self.min_effect, dist=null)
                          for val, null, (mu, _, hb_, _, _) in zip(values, nulls, comps)], ctx.alpha, ctx.fdr_q)
        for j, (col, matched, v) in enumerate(zip(labels, values, verdicts)):
            what = f"column {col!r}" if col else f"all {len(kept)} numeric columns pooled"
            value = comps[j][4]
            ev = {"tail_retention": round(1 - value, 6), "matched_tail_retention": round(1 - matched, 6),
                  "expected_tail_rows": round(float(comps[j][0]), 3)}
            extra = ""
            if col is not None:
                ev.update(self._coverage(ctx, col))
                extra = (f" Real mass beyond the synthetic 1st/99th percentiles {fmt(ev['real_mass_beyond_synthetic'])}"
                         f" (0.02 is faithful); range coverage {fmt(ev['range_coverage'])}.")
            findings.append(self.judged_finding(
                v, scope="column" if col else "dataset", column=col, value=value, matched_value=matched,
                n_real=nr_s - m, n_synthetic=m, evidence=ev,
                message=f"{what}: tail retention {fmt(1 - value)} on the full data, {fmt(1 - matched)} at the "
                        f"matched size of {m} rows (1 is faithful). "
                        + describe("Tail loss", matched, v, self.min_effect, "it") + extra))
        return findings

    def _too_small(self, col: str | None, mu: float, n_ref: int, m: int, pooled: bool) -> Finding:
        """A column (or the pool, ``col=None``) whose compared part expects fewer than one real tail
        row: tail loss is not defined at this size, so it is skipped rather than judged."""
        what = f"column {col!r}" if col else "the numeric columns pooled"
        tail = " It is judged within the pooled tail loss." if pooled else ""
        return self.finding(
            scope="column" if col else "dataset", column=col, status="skipped", reason_code="undefined_at_size",
            n_real=n_ref, n_synthetic=m,
            message=f"{what}: a compared part of {m} rows expects {fmt(mu)} real rows beyond the real 1st/99th "
                    f"percentiles (fewer than {MIN_EXPECTED_TAIL_ROWS:g}); tail loss is not defined at this size." + tail)

    @staticmethod
    def _full_loss(pairs: list[tuple[np.ndarray, np.ndarray]]) -> float:
        """Tail loss on the full data, pooled over columns: ``1 - sum(synthetic tail rows) /
        sum(real tail rate x synthetic non-missing rows)`` (one column: ``1 - tail_retention``)."""
        hits = expected = 0.0
        for real, syn in pairs:
            tails = _stats.tail_bins(real)
            hits += float(syn[tails].sum())
            expected += float(real[tails].sum()) / max(float(real.sum()), 1.0) * float(syn.sum())
        return float(1 - hits / expected) if expected > 0 else float("nan")

    @staticmethod
    def _coverage(ctx, col: str) -> dict:
        """Real mass beyond the synthetic 1st/99th percentiles and the synthetic share of the real
        range, from the column's counts (exact on an exact support; a binned column's values stand
        at their bins' representatives) and its exact minima and maxima."""
        cc = ctx.counts(col)
        k = cc.support.size
        rc, sc = cc.real[:k], cc.synthetic[:k]
        if rc.sum() == 0 or sc.sum() == 0:
            return {"real_mass_beyond_synthetic": float("nan"), "range_coverage": float("nan")}
        lo, hi = quantile_from_counts(cc.support, sc, [0.01, 0.99])
        support = np.asarray(cc.support, dtype=float)
        beyond = float(rc[(support < lo) | (support > hi)].sum() / rc.sum())
        (rmin, rmax), (smin, smax) = cc.bounds
        width = rmax - rmin
        overlap = max(0.0, min(rmax, smax) - max(rmin, smin))
        return {"real_mass_beyond_synthetic": round(beyond, 6),
                "range_coverage": round(float(overlap / width) if width > 0 else 1.0, 6)}


class _DeficitNull:
    """Null of a tail loss ``1 - H / mu`` where ``H`` counts tail hits of an ``m``-row part and ``mu``
    is the expected count: ``H`` follows a negative binomial fitted by moments to the real/real
    (and permutation) hit counts — Poisson when they are not over-dispersed — and the p-value is
    the larger lower tail ``P(H <= h)`` over the fitted nulls. Exact enough where the normal or
    Gamma fits fail: ``H`` is a small count bounded below by 0."""

    def __init__(self, samples: list[np.ndarray], mu: float) -> None:
        from scipy import stats

        self.mu = mu
        self.dists = []
        for x in samples:
            mean, var = float(np.mean(x)), float(np.var(x, ddof=1)) if len(x) > 1 else 0.0
            if mean <= 0:
                self.dists.append(None)
            elif var <= mean * 1.0001:
                self.dists.append(stats.poisson(mean))
            else:
                n = mean * mean / (var - mean)
                self.dists.append(stats.nbinom(n, n / (n + mean)))

    def _cdf(self, h: float) -> float:
        if h < 0:
            return 0.0
        return max(1.0 if d is None else float(d.cdf(np.floor(h + 1e-9))) for d in self.dists)

    def sf(self, loss: float) -> float:
        return self._cdf(self.mu * (1.0 - loss))

    def ppf(self, q: float) -> float:
        level = 1.0 - q
        h = -1
        while h + 1 <= 10 * self.mu + 10 and self._cdf(h + 1) <= level:
            h += 1
        return float(1.0 - max(h, 0) / self.mu) if h >= 0 else 1.0


@register
class UniqueRows(Check):
    """Unique-row ratio: distinct synthetic rows / synthetic rows (canonical form), against real at
    the same size. Reported as a warning only by default: the same defect gates through
    ``duplication.exact_duplicates`` (duplicate-row rate = 1 - unique-row ratio)."""

    id = "diversity.unique_rows"
    needs = ("row_hashes",)
    family = "diversity"
    summary = "Unique-row ratio of the synthetic data vs real at equal size (warns; duplication.exact_duplicates gates)."
    metric = "unique_row_deficit"
    computation = "keyed"
    goal = "minimize (real minus synthetic unique-row ratio)"
    default_severity = "warn"
    source = "distinct rows / rows; canonical hashing as duplication.exact_duplicates"
    version = "2"  # real null from the multiplicity histogram, as duplication.exact_duplicates v3
    params = {
        "min_effect": Param("float", 0.01, "minimum drop of the unique-row ratio worth flagging", low=0.0, high=1.0),
        "n_splits": Param("int", 20, "seeded real/real splits R", low=20, high=10_000),
    }

    def run(self, ctx) -> list[Finding]:
        hr, hs = row_hashes(ctx)
        full, matched, null_rate, m, floor = duplicate_rates(ctx, self.n_splits)
        null = RateNull(null_rate, m, floor=floor)
        (v,) = judge([Comparison(matched, null_rates(null), self.min_effect, dist=null)], ctx.alpha, ctx.fdr_q)
        return [self.judged_finding(
            v, scope="dataset", value=full - null_rate, matched_value=matched - null_rate, baseline_value=0.0,
            threshold=v.threshold - null_rate, ci_low=v.ci_low - null_rate, ci_high=v.ci_high - null_rate,
            n_real=hr.n, n_synthetic=m,
            evidence={"synthetic_unique_ratio": round(1 - full, 6), "real_unique_ratio": round(1 - null_rate, 6)},
            message=f"unique-row ratio {fmt(1 - full)} in {hs.n} synthetic rows vs {fmt(1 - null_rate)} expected "
                    f"of {m} real rows. " + describe("Duplicate-row rate", matched, v, self.min_effect, "it"))]


#: PRDC needs at least this many distinct real feature rows per neighbour rank k.
MIN_DISTINCT_PER_K = 10
POOL_FACTOR = 4  # PRDC draws its per-split samples from 4m sampled rows per side


@register
class PRDC(Check):
    """Precision, recall, density and coverage (k-NN balls, k = 5) on standardised features.

    Equal-size seeded samples: a real reference ``A`` of ``m`` rows against ``m`` synthetic rows,
    and against ``m`` other real rows for the baseline (``n_splits`` times). The judged statistic
    per metric is its deficit ``1 - metric`` (unitless; larger is worse) against the real/real
    deficits (normal null). Features: numeric columns standardised by the real mean and robust
    scale, categories one-hot scaled so a mismatch adds 1 to the squared distance (as the
    duplication checks). Recall and coverage measure diversity (mode collapse lowers them);
    precision and density measure fidelity.
    """

    id = "diversity.prdc"
    needs = ("row_sample", "row_pool")
    version = "3"  # samples from the row pool (issue 12)
    family = "diversity"
    summary = "Precision / recall / density / coverage (Naeem et al. 2020) with k = 5 on equal-size seeded samples."
    metric = "prdc_deficit"
    goal = "minimize (1 - metric)"
    value_range = "(-inf, 1]"
    computation = "sample"
    source = ("Kynkäänniemi et al. 2019 (NeurIPS); Naeem et al. 2020 (ICML); equals the prdc reference "
              "implementation except on ties: a point on a ball's boundary is inside here (<=, 1e-9 tolerance, so "
              "identical sets give 1), outside in prdc (<)")
    params = {
        "min_effect": Param("float", 0.1, "minimum drop of a PRDC metric below real/real worth failing", low=0.0),
        "k": Param("int", 5, "nearest-neighbour rank defining the balls", low=1, high=100),
        "n_splits": Param("int", 10, "seeded equal-size samples", low=3, high=1000),
        "max_rows": Param("int", 2000, "rows per sample", low=20),
    }

    def run(self, ctx) -> list[Finding]:
        from sklearn.metrics import pairwise_distances

        cols = ctx.data.features
        if not cols:
            raise IncomputableError("no_applicable_columns", "no feature column")
        n_r, n_s = ctx.pool_size("real"), ctx.pool_size("synthetic")
        m = int(min(self.max_rows, n_s, n_r // 2))
        if m <= max(2 * self.k, MIN_ROWS):
            raise IncomputableError("too_few_rows", f"only {m} rows per sample; PRDC needs more than {2 * self.k}")
        rng = ctx.rng(self.id)
        names = ("precision", "recall", "density", "coverage")
        # Bounded pools chosen by row-id priority (bottom-k: the same rows whatever the chunking);
        # every split draws its disjoint equal-size samples from them.
        pool_r = ctx.sample("real", POOL_FACTOR * m, self.id)
        pool_s = ctx.sample("synthetic", POOL_FACTOR * m, self.id)
        val, base = [], []
        for _ in range(self.n_splits):
            perm = pool_r[rng.permutation(len(pool_r))]
            a, b = np.sort(perm[:m]), np.sort(perm[m:2 * m])
            s = np.sort(pool_s[rng.choice(len(pool_s), m, replace=False)])
            xa, xb, xs = distance_features(ctx.data.real.iloc[a], [ctx.data.real.iloc[b], ctx.data.synthetic.iloc[s]],
                                           cols, ctx.data.roles)
            if not val:
                distinct = np.unique(xa, axis=0).shape[0]
                if distinct < MIN_DISTINCT_PER_K * self.k:
                    # k-NN balls of tied points have radius 0: PRDC then counts exact matches of a few
                    # feature values and its real/real spread says nothing (measured: 2 of 7 gate false
                    # alarms on text corpora whose only feature was a 2-valued label).
                    raise IncomputableError("too_few_rows", f"only {distinct} distinct feature rows in {m}; PRDC's "
                                            f"k-NN balls need at least {MIN_DISTINCT_PER_K * self.k}")
            ra = _stats.knn_radius(xa, self.k)
            got = []
            for x in (xb, xs):
                got.append(_stats.prdc_from_distances(ra, _stats.knn_radius(x, self.k), pairwise_distances(xa, x), self.k))
            base.append([1 - got[0][n] for n in names])
            val.append([1 - got[1][n] for n in names])
        val, base = np.array(val), np.array(base)
        values = np.median(val, axis=0)
        verdicts = judge([Comparison(float(values[j]), base[:, j], self.min_effect, null="normal")
                          for j in range(4)], ctx.alpha, ctx.fdr_q)
        findings = []
        for j, (name, v) in enumerate(zip(names, verdicts)):
            findings.append(self.judged_finding(
                v, scope="dataset", metric=f"{name}_deficit", value=float(values[j]), n_real=m, n_synthetic=m,
                evidence={"metric": name, "synthetic": round(1 - float(values[j]), 6),
                          "real": round(1 - v.baseline_median, 6)},
                message=f"{name} {fmt(1 - values[j])} for synthetic vs {fmt(1 - v.baseline_median)} for real "
                        f"(k={self.k}, {m} rows per sample). "
                        + describe(f"{name.capitalize()} deficit", float(values[j]), v, self.min_effect, "it")))
        return findings
