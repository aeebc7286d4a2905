"""Bias across subgroups: representation, per-subgroup drift, outcome-rate parity, utility.

Subgroups come from the sensitive columns (declared in ``bias.sensitive`` or inferred, see
:mod:`.groups`) and their intersections up to ``bias.max_depth``. A subgroup with fewer than
``bias.min_group_size`` REAL rows is ``skipped`` (reason ``min_group_size``) with its counts.
Every statistic is judged with the core rule (:func:`synthproof.calibration.judge`): matched-size
real/real splits of the subgroup's counts plus the pooled permutation null, Holm across all the
subgroups (and columns) of a check, a documented minimum effect.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from synthproof.calibration import Comparison, describe, fmt, judge
from synthproof.check import Check, Param, register
from synthproof.context import label_is_public
from synthproof.encode import permutation_counts, split_counts
from synthproof.errors import IncomputableError
from synthproof.findings import Finding
from synthproof.stats.distances import ks_from_counts, tvd_from_counts
from synthproof.subgroups import PartitionTables, SubgroupTables

from . import _stats

MIN_COMPARE_ROWS = 10
_NUMERIC = ("numeric", "datetime")


def subgroup_tables(ctx) -> SubgroupTables:
    """The run's :class:`~synthproof.subgroups.SubgroupTables` (``ValueError`` when declared columns
    cannot be used; ``IncomputableError`` without sensitive columns)."""
    tables = ctx.subgroup_tables()
    if tables.error:
        raise ValueError(tables.error)
    if not tables.sensitive:
        raise IncomputableError("no_sensitive_columns",
                                "no sensitive column declared (bias.sensitive) and none could be inferred "
                                "from names or values")
    return tables


def sensitive_columns(ctx) -> list[tuple[str, str]]:
    """``[(column, how)]``: declared (``how="declared"``), inferred (``"name"``/``"values"``) or a
    text corpus's metadata group (``"text_group"``)."""
    return [(s.column, s.how) for s in subgroup_tables(ctx).sensitive]


def subgroup_partitions(ctx) -> list[PartitionTables]:
    """The partitions of the run, with their count tables."""
    return subgroup_tables(ctx).partitions


def group_name(ctx, part: PartitionTables, g: int, real_count: int) -> str:
    """The subgroup label as it may appear in the report (real values hidden for rare groups)."""
    if label_is_public(int(real_count), ctx.show_values, part.labels[g]):
        return part.labels[g]
    return "&".join(f"{c}=(value hidden)" for c in part.columns)


def _inferred_note(ctx) -> str:
    sens = sensitive_columns(ctx)
    inferred = [c for c, how in sens if how != "declared"]
    return f" (sensitive columns inferred: {', '.join(inferred)})" if inferred else ""


class _SubgroupCheck(Check):
    family = "bias"

    def _skip(self, ctx, part: PartitionTables, g: int, rc: int, sc: int, reason: str = "min_group_size") -> Finding:
        min_size = ctx.config.bias.min_group_size
        name = group_name(ctx, part, g, rc)
        why = (f"{rc} real rows < minimum group size {min_size}" if reason == "min_group_size"
               else f"{sc} synthetic rows < {MIN_COMPARE_ROWS}")
        return self.finding(scope="subgroup", subgroup=name, status="skipped", reason_code=reason,
                            n_real=int(rc), n_synthetic=int(sc),
                            message=f"subgroup {name}: {why} (real {rc}, synthetic {sc}); not compared.")


@register
class Representation(_SubgroupCheck):
    """Representation ratio of every subgroup: synthetic share / real share.

    The judged statistic is ``|ln ratio|`` at matched size (:func:`._stats.log_ratio_distance`;
    unitless, range ``[0, inf)``, larger is worse): under- and over-representation by the same
    factor count the same (a group at 20% of its share and one at 5x its share are equally far). A real subgroup
    whose expected synthetic count (real share x synthetic rows) is at least ``erasure_min_expected``
    and that is absent from the synthetic data fails outright (reason ``erased``).
    """

    id = "bias.representation"
    version = "2"  # subgroup tables built chunk by chunk, out of core too (issue 12)
    needs = ("subgroup_tables",)
    summary = "Subgroup representation ratio (synthetic share / real share) for sensitive columns and intersections."
    metric = "abs_log_representation_ratio"
    computation = "mergeable"
    goal = "minimize (|ln ratio|; ratio 1 is faithful)"
    value_range = "[0, inf)"
    source = ("share ratio as in Aequitas' group size ratio (Saleiro et al. 2018); calibrated on real/real "
              "splits (this project)")
    params = {
        "min_effect": Param("float", 0.223, "minimum |ln representation ratio| worth failing (0.223: a factor "
                            "of 1.25)", low=0.0),
        "n_splits": Param("int", 100, "seeded real/real splits R per subgroup", low=20, high=10_000),
        "erasure_min_expected": Param("float", 10.0, "an absent subgroup fails when it expected this many rows",
                                      low=1.0),
    }

    def _group(self, ctx, part: PartitionTables, g: int, rc: np.ndarray, sc: np.ndarray) -> tuple:
        nr, ns = int(rc.sum()), int(sc.sum())
        real = np.array([rc[g], nr - rc[g]])
        syn = np.array([sc[g], ns - sc[g]])
        rng = ctx.rng(f"{self.id}:{part.labels[g]}")
        sp = split_counts(real, syn, self.n_splits, rng)
        pa_, pb_ = permutation_counts(real, syn, self.n_splits, rng)

        def dev(x, y):  # x: reference part, y: compared part
            return _stats.log_ratio_distance(x[..., 0], x.sum(-1), y[..., 0], y.sum(-1))

        return float(np.median(dev(sp.A, sp.S))), dev(sp.A, sp.B), dev(pa_, pb_), sp.m

    def run(self, ctx) -> list[Finding]:
        parts = subgroup_partitions(ctx)
        min_size = ctx.config.bias.min_group_size
        findings: list[Finding] = []
        todo: list[tuple] = []
        n_syn, n_real = ctx.prepared.size("synthetic"), ctx.prepared.size("real")
        for part in parts:
            rc, sc = part.counts("real"), part.counts("synthetic")
            nr, ns = int(rc.sum()), int(sc.sum())
            where = "|".join(part.columns)
            if nr and n_syn and ns < MIN_COMPARE_ROWS:
                # The synthetic column is missing or uses labels the real data never has: every
                # real subgroup of this partition is gone.
                findings.append(self.finding(
                    scope="column", column=where, value=float(ns) / n_syn, min_effect=self.min_effect, n_real=nr,
                    n_synthetic=n_syn, status="fail" if nr / n_real * n_syn >= self.erasure_min_expected
                    else "warn", reason_code="erased",
                    message=f"{where}: only {ns} of {n_syn} synthetic rows fall into a real subgroup (values missing "
                            f"or labels the real data does not have); the real subgroups are erased."))
                continue
            for g in range(part.n_groups):
                if rc[g] == 0 and sc[g] == 0:
                    continue
                if rc[g] < min_size:
                    findings.append(self._skip(ctx, part, g, int(rc[g]), int(sc[g])))
                    continue
                todo.append((part, g, rc, sc, nr, ns))
        erased = [t for t in todo if t[3][t[1]] == 0 and t[2][t[1]] / t[4] * t[5] >= self.erasure_min_expected]
        tested = [t for t in todo if t not in erased]
        for part, g, rc, sc, nr, ns in erased:
            name = group_name(ctx, part, g, rc[g])
            expected = rc[g] / nr * ns
            findings.append(self.finding(
                scope="subgroup", subgroup=name, column="|".join(part.columns), value=1.0, baseline_value=0.0,
                min_effect=self.min_effect, n_real=nr, n_synthetic=ns, status="fail", reason_code="erased",
                evidence={"real_share": round(rc[g] / nr, 6), "synthetic_share": 0.0, "ratio": 0.0},
                message=f"subgroup {name} is erased: real share {fmt(rc[g] / nr)} ({rc[g]} rows) but no synthetic "
                        f"row, where {fmt(expected)} were expected (representation ratio 0)."))
        results = ctx.map(lambda t: self._group(ctx, t[0], t[1], t[2], t[3]), tested)
        verdicts = judge([Comparison(v, b, self.min_effect, permutation=p) for v, b, p, _ in results],
                         ctx.alpha, ctx.fdr_q)
        for (part, g, rc, sc, nr, ns), (value, _, _, m), v in zip(tested, results, verdicts):
            name = group_name(ctx, part, g, rc[g])
            rs, ss = rc[g] / nr, sc[g] / max(ns, 1)
            ratio = ss / rs
            kind = "under-represented" if ratio < 1 else "over-represented" if ratio > 1 else "as real"
            findings.append(self.judged_finding(
                v, scope="subgroup", subgroup=name, column="|".join(part.columns), value=value, n_real=int(nr),
                n_synthetic=int(m),
                evidence={"real_share": round(float(rs), 6), "synthetic_share": round(float(ss), 6),
                          "ratio": round(float(ratio), 6), "real_count": int(rc[g]), "synthetic_count": int(sc[g])},
                message=f"subgroup {name}: real share {fmt(rs)}, synthetic share {fmt(ss)}, representation ratio "
                        f"{fmt(ratio)} ({kind}). " + describe("|ln ratio|", value, v, self.min_effect, "it")))
        note = _inferred_note(ctx)
        if note:
            findings.append(self.finding(scope="dataset", metric="sensitive_columns", status="pass",
                                         message="subgroups from " + ", ".join(c for c, _ in sensitive_columns(ctx))
                                         + note + "; declare bias.sensitive to choose them."))
        return findings


@register
class SubgroupDrift(_SubgroupCheck):
    """Drift within each subgroup: a generator faithful overall can still be wrong for a minority.

    For every eligible subgroup and feature column (the subgroup's own columns left out): the KS
    statistic (numeric/datetime on at most 16 real-quantile bins, missing excluded) or the total
    variation distance (the 30 most frequent categories, the rest pooled, missing counted) between the subgroup's real and synthetic rows, judged against real/real
    splits of the subgroup's own counts and the permutation null; Holm across all
    (subgroup, column) comparisons. Range [0, 1], unitless, larger is worse.
    """

    id = "bias.subgroup_drift"
    version = "3"  # subgroup tables built chunk by chunk, out of core too (issue 12)
    needs = ("subgroup_tables",)
    summary = "KS (numeric) or TVD (categorical) of every column within every subgroup, real vs synthetic."
    metric = "subgroup_drift"
    computation = "mergeable"
    source = "Kolmogorov 1933 / Smirnov 1948 and total variation distance, per subgroup; SDMetrics KSComplement/TVComplement"
    params = {
        "min_effect": Param("float", 0.1, "minimum within-subgroup KS or TVD worth failing", low=0.0),
        "n_splits": Param("int", 50, "seeded real/real splits R per comparison", low=20, high=10_000),
        "report_top": Param("int", 20, "passing comparisons reported (the worst); fail/warn always are", low=0),
    }

    def _compare(self, ctx, item) -> tuple:
        name, col, kind, p_r, p_s = item
        rng = ctx.rng(f"{self.id}:{name}:{col}")
        stat = ks_from_counts if kind == "ks" else tvd_from_counts
        sp = split_counts(p_r, p_s, self.n_splits, rng)
        pa_, pb_ = permutation_counts(p_r, p_s, self.n_splits, rng)
        return float(np.median(stat(sp.A, sp.S))), stat(sp.A, sp.B), stat(pa_, pb_), sp.m

    def run(self, ctx) -> list[Finding]:
        parts = subgroup_partitions(ctx)
        min_size = ctx.config.bias.min_group_size
        feats = ctx.data.features
        findings: list[Finding] = []
        items: list[tuple] = []
        meta: list[tuple] = []
        for part in parts:
            rc, sc = part.counts("real"), part.counts("synthetic")
            groups = [g for g in range(part.n_groups) if rc[g] >= min_size and sc[g] >= MIN_COMPARE_ROWS]
            small = [g for g in range(part.n_groups) if 0 < rc[g] < min_size]
            few = [g for g in range(part.n_groups) if rc[g] >= min_size and sc[g] < MIN_COMPARE_ROWS]
            if small or few:  # one row per partition (bias.representation lists each subgroup)
                where = "|".join(part.columns)
                findings.append(self.finding(
                    scope="column", column=where, status="skipped",
                    reason_code="min_group_size" if small else "too_few_rows",
                    n_real=int(rc[small + few].sum()), n_synthetic=int(sc[small + few].sum()),
                    message=f"{where}: {len(small)} subgroup(s) with fewer than {min_size} real rows (real counts "
                            f"{int(rc[small].min()) if small else 0}-{int(rc[small].max()) if small else 0}) and "
                            f"{len(few)} with fewer than {MIN_COMPARE_ROWS} synthetic rows are not compared."))
            if not groups:
                continue
            for col in feats:
                if col in part.columns:
                    continue
                kind = "ks" if ctx.data.roles[col] in _NUMERIC else "tvd"
                tr, ts = part.tables[col]
                k = tr.shape[1] - 1  # the last coarse code is "missing"
                for g in groups:
                    p_r, p_s = (tr[g, :k], ts[g, :k]) if kind == "ks" else (tr[g], ts[g])
                    if p_s.sum() < MIN_COMPARE_ROWS or p_r.sum() // 2 < MIN_COMPARE_ROWS:
                        continue
                    name = group_name(ctx, part, g, rc[g])
                    items.append((part.labels[g], col, kind, p_r, p_s))
                    meta.append((name, col, kind, int(p_r.sum())))
        if not items and not findings:
            raise IncomputableError("too_few_rows", "no subgroup has enough rows on both sides to compare")
        results = ctx.map(lambda it: self._compare(ctx, it), items)
        verdicts = judge([Comparison(v, b, self.min_effect, permutation=p) for v, b, p, _ in results],
                         ctx.alpha, ctx.fdr_q)
        order = np.argsort([-(r[0] - v.baseline_median) for r, v in zip(results, verdicts)], kind="stable")
        shown = 0
        for idx in order:
            (name, col, kind, n_r), (value, _, _, m), v = meta[idx], results[idx], verdicts[idx]
            if v.status == "pass" and v.reason_code != "underpowered":
                if shown >= self.report_top:
                    continue
                shown += 1
            label = "KS statistic" if kind == "ks" else "TVD"
            findings.append(self.judged_finding(
                v, scope="subgroup", subgroup=name, column=col, metric="ks_statistic" if kind == "ks" else
                "total_variation_distance", value=value, n_real=n_r, n_synthetic=m,
                message=describe(label, value, v, self.min_effect, f"column {col!r} within subgroup {name}")))
        listed = sum(1 for f in findings if f.scope == "subgroup" and f.status != "skipped")
        if len(items) > listed:
            findings.append(self.finding(
                scope="dataset", metric="comparisons_within_baseline", value=float(len(items) - listed),
                status="pass", message=f"{len(items) - listed} further (subgroup, column) comparisons of "
                                       f"{len(items)} are within real/real variation."))
        return findings


def _target(ctx) -> tuple[str, str, str, int]:
    """The declared target, its positive label as it may be shown (hidden when inferred and rare),
    the label itself and its fine code (:meth:`AuditContext.counts`: labels ordered by real count).
    The positive label is ``bias.positive``, else the real minority class of a binary target (equal
    counts: the label that sorts first)."""
    cfg = ctx.config.bias
    if not cfg.target:
        raise IncomputableError("no_target", "no target column declared (bias.target)")
    col = cfg.target
    if col not in ctx.data.features or ctx.data.roles.get(col) not in ("categorical", "boolean"):
        raise ValueError(f"target {col!r} must be a categorical or boolean column present in real and synthetic data")
    cc = ctx.counts(col)
    labels = [str(x) for x in cc.support]
    real = {lab: int(n) for lab, n in zip(labels, cc.real[:-1]) if n > 0}
    if cfg.positive is not None:
        positive = str(cfg.positive)
        if positive not in real:
            raise ValueError(f"positive label {positive!r} does not occur in the real target {col!r}")
    elif len(real) == 2:
        positive = min(sorted(real), key=lambda lab: real[lab])  # the real minority class
    else:
        raise IncomputableError("target_not_binary", f"target {col!r} has {len(real)} classes; declare "
                                "bias.positive to name the positive one")
    shown = repr(positive) if cfg.positive is not None else ctx.label(positive, real[positive])
    return col, shown, positive, labels.index(positive)


def _outcome_table(fine: np.ndarray, positive: int) -> np.ndarray:
    """(G, 2) counts of (negative, positive) target values per group from a (G, k + 1) table of the
    target's fine codes (the last column: missing, left out)."""
    pos = fine[:, positive]
    return np.column_stack([fine[:, :-1].sum(axis=1) - pos, pos]).astype(np.int64)


def _indicator(ctx, side: str, col: str, positive: str, rows: np.ndarray) -> np.ndarray:
    """1 (positive), 0 (other label) or -1 (missing) of the target at frame positions ``rows``."""
    s = getattr(ctx.data, side)[col]
    values = s.array
    rows = np.asarray(rows, dtype=np.int64)
    if isinstance(values, pd.Categorical):  # compare the few categories, then map the codes
        hit = np.append((values.categories.astype(str) == positive).astype(np.int64), -1)
        return hit[np.asarray(values.codes)[rows]]
    picked = s.iloc[rows]
    out = (picked.astype(object).astype(str) == positive).to_numpy().astype(np.int64)
    out[picked.isna().to_numpy()] = -1
    return out


def _round(x: float) -> float | None:
    """Rounded for evidence JSON; None for NaN (fairlearn's ratio is NaN when every rate is 0)."""
    return round(float(x), 6) if np.isfinite(x) else None


def fairlearn_parity(table: np.ndarray) -> tuple[float, float, dict[int, float]]:
    """Demographic-parity difference and ratio with fairlearn's ``MetricFrame(selection_rate)``.

    Parameters
    ----------
    table : ndarray of int, shape (G, 2)
        [negative, positive] counts of the outcome per subgroup (the data's own outcome is the
        "prediction": the positive rate per group). Empty groups are left out.

    Returns
    -------
    (difference, ratio, rate_by_group) — fairlearn's ``difference()`` / ``ratio()``; the rows are
    aggregated into one weighted row per (group, outcome) (``sample_weight``), which is exact and
    keeps the cost independent of the number of rows.
    """
    from fairlearn.metrics import MetricFrame, selection_rate

    groups = np.nonzero(table.sum(axis=1) > 0)[0]
    if groups.size == 0:
        return float("nan"), float("nan"), {}
    g = np.repeat(groups, 2)
    y = np.tile([0, 1], groups.size)
    w = table[groups].ravel().astype(float)
    keep = w > 0
    mf = MetricFrame(metrics=selection_rate, y_true=y[keep], y_pred=y[keep], sensitive_features=g[keep],
                     sample_params={"sample_weight": w[keep]})
    return float(mf.difference()), float(mf.ratio()), {int(k): float(v) for k, v in mf.by_group.items()}


@register
class OutcomeParity(_SubgroupCheck):
    """Bias amplification: does the synthetic data change the outcome-rate gap between subgroups?

    For each sensitive column and intersection, the demographic-parity difference (max - min of
    the positive rate of the declared target over the eligible subgroups; fairlearn's definition)
    in real and in synthetic data. The judged statistic is ``|DPD(synthetic) - DPD(real)|`` at
    matched size (unitless, range [0, 1], larger is worse) against real/real splits of the
    (subgroup x outcome) table; both differences and ratios are reported.
    """

    id = "bias.outcome_parity"
    version = "2"  # subgroup tables built chunk by chunk, out of core too (issue 12)
    needs = ("column_counts", "subgroup_tables")
    summary = "Change of the demographic-parity difference of the target across subgroups (bias amplification)."
    metric = "demographic_parity_difference_change"
    computation = "mergeable"
    source = "fairlearn MetricFrame / demographic_parity_difference & _ratio (Bird et al. 2020); Dwork et al. 2012"
    params = {
        "min_effect": Param("float", 0.05, "minimum change of the parity difference worth failing", low=0.0, high=1.0),
        "n_splits": Param("int", 100, "seeded real/real splits R per partition", low=20, high=10_000),
    }

    def run(self, ctx) -> list[Finding]:
        col, positive, _, code = _target(ctx)
        parts = [p for p in subgroup_partitions(ctx) if col not in p.columns]
        min_size = ctx.config.bias.min_group_size
        findings, todo = [], []
        for part in parts:
            tr, ts = (_outcome_table(t, code) for t in part.target)
            ok = np.nonzero(tr.sum(1) >= min_size)[0]
            where = "|".join(part.columns)
            if ok.size < 2:
                findings.append(self.finding(
                    scope="column", column=where, status="skipped", reason_code="min_group_size",
                    n_real=int(tr.sum()), n_synthetic=int(ts.sum()),
                    message=f"{where}: fewer than two subgroups with {min_size} real rows with a target value "
                            f"(largest: {int(tr.sum(1).max()) if tr.size else 0}); parity not compared."))
                continue
            if ts[ok].sum() < MIN_COMPARE_ROWS:
                findings.append(self.finding(
                    scope="column", column=where, status="skipped", reason_code="too_few_rows",
                    n_real=int(tr[ok].sum()), n_synthetic=int(ts[ok].sum()),
                    message=f"{where}: only {int(ts[ok].sum())} synthetic rows with a target value fall into the "
                            f"compared subgroups; parity not compared (see bias.representation)."))
                continue
            todo.append((part, ok, tr[ok], ts[ok]))

        def one(item):
            part, ok, tr, ts = item
            rng = ctx.rng(f"{self.id}:{'|'.join(part.columns)}")
            sp = split_counts(tr, ts, self.n_splits, rng)
            pa_, pb_ = permutation_counts(tr, ts, self.n_splits, rng)

            def stat(x, y):
                return np.abs(_stats.demographic_parity(_stats.group_rates(y))[0]
                              - _stats.demographic_parity(_stats.group_rates(x))[0])

            val = stat(sp.A, sp.S)
            return float(np.median(np.nan_to_num(val, nan=1.0))), stat(sp.A, sp.B), stat(pa_, pb_), sp.m

        results = ctx.map(one, todo)
        verdicts = judge([Comparison(v, b, self.min_effect, permutation=p) for v, b, p, _ in results],
                         ctx.alpha, ctx.fdr_q)
        for (part, ok, tr, ts), (value, _, _, m), v in zip(todo, results, verdicts):
            where = "|".join(part.columns)
            d_r, q_r, by_r = fairlearn_parity(tr)
            d_s, q_s, by_s = fairlearn_parity(ts)
            groups = []
            for i, g in enumerate(ok):
                groups.append({"subgroup": group_name(ctx, part, g, tr[i].sum()),
                               "real_rate": round(by_r[i], 6) if i in by_r else None,
                               "synthetic_rate": round(by_s[i], 6) if i in by_s else None,
                               "real_count": int(tr[i].sum()), "synthetic_count": int(ts[i].sum())})
            amplified = ("amplified" if d_s > d_r else "reduced") if np.isfinite(d_s) else "not measurable"
            findings.append(self.judged_finding(
                v, scope="column", column=where, value=value, n_real=int(tr.sum()), n_synthetic=int(m),
                evidence={"target": col, "real_dpd": _round(d_r), "synthetic_dpd": _round(d_s),
                          "real_ratio": _round(q_r), "synthetic_ratio": _round(q_s),
                          "groups": groups},
                message=f"{where}: demographic-parity difference of {col}={positive}: real {fmt(d_r)} (ratio "
                        f"{fmt(q_r)}), synthetic {fmt(d_s)} (ratio {fmt(q_s)}) — the gap is {amplified}. "
                        + describe("|Δ parity difference|", value, v, self.min_effect, "it")))
        return findings


def _encode(ctx, side: str, rows: np.ndarray, cols: list[str]) -> np.ndarray:
    """Float design matrix of pool ``rows`` (frame positions) of one side (``real``/``synthetic``/
    ``holdout``): numeric values, and categories as their fine codes (:meth:`AuditContext.fine_codes_at`,
    shared by the three sides; unseen or missing -> NaN). Only the sampled rows are encoded."""
    frame = getattr(ctx.data, side)
    out = []
    for c in cols:
        if ctx.data.roles[c] in _NUMERIC:
            out.append(frame[c].to_numpy(dtype=float)[rows])
            continue
        codes = ctx.fine_codes_at(side, c, rows).astype(float)
        codes[codes >= len(ctx.counts(c).support)] = np.nan
        out.append(codes)
    return np.column_stack(out) if out else np.zeros((len(rows), 0))


@register
class SubgroupUtility(_SubgroupCheck):
    """Train-on-synthetic/test-on-real (TSTR) against train-on-real/test-on-real (TRTR), overall and
    per subgroup, scored on the holdout.

    A gradient-boosting classifier predicts the declared target from the other features. For each
    of ``n_splits`` seeded splits it is trained on ``m`` real rows (TRTR), on ``m`` synthetic rows
    (TSTR) and on ``m`` other real rows (the real/real baseline); every model is scored by ROC AUC
    on the holdout, overall and within each subgroup with enough holdout rows of both classes.
    The judged statistic is the utility gap ``AUC(TRTR) - AUC(TSTR)`` (AUC points, range [-1, 1],
    larger is worse), against the gap between the two real models (normal null, spread widened by
    sqrt(2) for the synthetic sample's own sampling variation). Below ``min_train_rows`` training rows
    per model the check is skipped; subgroups need ``min_holdout_rows`` holdout rows.
    """

    id = "bias.utility"
    needs = ("column_counts", "row_pool", "row_sample", "subgroup_tables")
    version = "4"  # subgroup tables and target labels of pool rows, out of core too (issue 12)
    summary = "TSTR vs TRTR ROC AUC gap on the holdout, overall and per subgroup."
    metric = "tstr_auc_gap"
    unit = "AUC points"
    value_range = "[-1, 1]"
    computation = "sample"
    needs_holdout = True
    source = "Esteban et al. 2017 (TSTR); Jordon et al. 2022 'Synthetic data: what, why and how?'; sklearn roc_auc_score"
    params = {
        "min_effect": Param("float", 0.05, "minimum AUC gap worth failing", low=0.0, high=1.0),
        "n_splits": Param("int", 10, "seeded training splits (3 models each)", low=3, high=200),
        "max_rows": Param("int", 5000, "training rows per model (seeded sample)", low=50),
        "max_holdout": Param("int", 20000, "holdout rows scored (seeded sample)", low=50),
        "max_iter": Param("int", 100, "boosting iterations", low=1),
        "min_train_rows": Param("int", 200, "fewer training rows per model than this: skipped (TSTR on tens of "
                                "rows is noise)", low=20),
        "min_holdout_rows": Param("int", 100, "holdout rows a subgroup needs to be scored", low=20),
    }

    def run(self, ctx) -> list[Finding]:
        from sklearn.ensemble import HistGradientBoostingClassifier
        from sklearn.metrics import roc_auc_score
        from threadpoolctl import threadpool_limits

        col, positive, label, code = _target(ctx)
        hold = ctx.data.holdout
        if hold is None or col not in hold.columns:
            raise IncomputableError("no_holdout", f"the holdout has no target column {col!r}")
        tables = subgroup_tables(ctx)
        parts = [p for p in tables.partitions if col not in p.columns and all(c in hold.columns for c in p.columns)]
        min_size = ctx.config.bias.min_group_size
        feats = [c for c in ctx.data.features if c != col and c in hold.columns]
        if not feats:
            raise IncomputableError("no_applicable_columns", "no feature besides the target")
        rng = ctx.rng(self.id)
        # Labelled rows: counted exactly over the whole inputs, drawn from the row pools.
        cc = ctx.counts(col)
        n_r, pos_r = int(cc.real[:-1].sum()), int(cc.real[code])

        sides = ("real", "synthetic", "holdout")
        pools = {side: ctx.pool(side) for side in sides}
        y_pool = {side: _indicator(ctx, side, col, label, pools[side]) for side in sides}

        def y_at(side, rows):  # the target indicator of pool rows given by frame position
            return y_pool[side][np.searchsorted(pools[side], rows)]

        ir, is_, ih = (pools[side][y_pool[side] >= 0] for side in sides)
        yh_pool = y_pool["holdout"]
        m = int(min(len(ir) // 2, len(is_), self.max_rows))  # the pools hold every row up to 200k
        if (m < self.min_train_rows or len(ih) < self.min_holdout_rows or pos_r in (0, n_r)
                or len(np.unique(yh_pool[yh_pool >= 0])) < 2):
            raise IncomputableError("too_few_rows", f"too few labelled rows (train {m} per model, holdout "
                                    f"{len(ih)}; needs {self.min_train_rows} and {self.min_holdout_rows})")
        ih = ctx.sample("holdout", self.max_holdout, self.id, ids=ih)
        yhold = y_at("holdout", ih)
        if len(np.unique(yhold)) < 2:
            raise IncomputableError("too_few_rows", "the sampled holdout rows hold a single outcome class")
        # Bounded pools of labelled rows to train from (every split draws from them).
        ir = ctx.sample("real", 4 * m, self.id, ids=ir)
        is_ = ctx.sample("synthetic", 2 * m, self.id, ids=is_)
        Xr, Xs, Xh = _encode(ctx, "real", ir, feats), _encode(ctx, "synthetic", is_, feats), \
            _encode(ctx, "holdout", ih, feats)
        yr, ys = y_at("real", ir), y_at("synthetic", is_)
        cat = np.array([ctx.data.roles[c] not in _NUMERIC and len(ctx.counts(c).support) <= 250 for c in feats])
        # Subgroups scored on the holdout: enough rows and both classes.
        scored = [("overall", None, np.ones(len(ih), dtype=bool), len(ih))]
        for part in parts:
            gh = tables.row_codes(part, hold, ih)
            rc = part.counts("real")
            for g in range(part.n_groups):
                mask = gh == g
                n_g = int(mask.sum())
                if rc[g] < min_size or n_g < max(min_size, self.min_holdout_rows) or len(np.unique(yhold[mask])) < 2:
                    continue
                scored.append((group_name(ctx, part, g, rc[g]), "|".join(part.columns), mask, n_g))

        def fit_score(X, y):
            if len(np.unique(y)) < 2:
                return np.full(len(scored), 0.5)
            clf = HistGradientBoostingClassifier(max_iter=self.max_iter, early_stopping=False,
                                                 categorical_features=cat if cat.any() else None,
                                                 random_state=int(rng.integers(2**31 - 1)))
            clf.fit(X, y)
            p = clf.predict_proba(Xh)[:, 1]
            return np.array([roc_auc_score(yhold[mask], p[mask]) for _, _, mask, _ in scored])

        gaps, base, trtr, tstr = [], [], [], []
        with threadpool_limits(limits=1, user_api="openmp"):
            for _ in range(self.n_splits):
                perm = rng.permutation(len(ir))
                a, b = perm[:m], perm[m:2 * m]
                s = rng.choice(len(is_), m, replace=False)
                auc_a, auc_b, auc_s = fit_score(Xr[a], yr[a]), fit_score(Xr[b], yr[b]), fit_score(Xs[s], ys[s])
                gaps.append(auc_a - auc_s)
                base.append(auc_a - auc_b)
                trtr.append(auc_a)
                tstr.append(auc_s)
        gaps, base, trtr, tstr = map(np.array, (gaps, base, trtr, tstr))
        values = np.median(gaps, axis=0)
        # The real/real gap compares two halves of ONE real sample; the synthetic sample brings its
        # own sampling luck, which those splits cannot see (the reason count checks add a
        # permutation null). Its variance is about that of the baseline's, so the baseline's spread
        # is widened by sqrt(2) around its median (measured: 2 of 30 100-row German credit splits
        # failed without it).
        med = np.median(base, axis=0)
        wide = med + (base - med) * np.sqrt(2.0)
        verdicts = judge([Comparison(float(values[j]), wide[:, j], self.min_effect, null="normal")
                          for j in range(len(scored))], ctx.alpha, ctx.fdr_q)
        findings = []
        for j, ((name, where, _, n_g), v) in enumerate(zip(scored, verdicts)):
            a_r, a_s = float(np.median(trtr[:, j])), float(np.median(tstr[:, j]))
            what = "all holdout rows" if where is None else f"subgroup {name}"
            findings.append(self.judged_finding(
                v, scope="dataset" if where is None else "subgroup", subgroup=None if where is None else name,
                column=where, value=float(values[j]), n_real=m, n_synthetic=m,
                evidence={"trtr_auc": round(a_r, 6), "tstr_auc": round(a_s, 6), "holdout_rows": int(n_g)},
                message=f"{what}: ROC AUC for {col}={positive} trained on real {fmt(a_r)}, on synthetic "
                        f"{fmt(a_s)} ({n_g} holdout rows). "
                        + describe("TRTR - TSTR gap", float(values[j]), v, self.min_effect, "it")))
        return findings
