"""Great Expectations validity checks: a suite derived from the real data, and the user's own suite.

``validity.expectations`` derives an expectation suite from the REAL data — the column set, numeric
bounds at the real ``q``/``1-q`` quantiles, how far past the real extremes a value may lie, the real
category sets, null fractions and the uniqueness of id columns — with every ``mostly`` and bound
calibrated on seeded real/real splits (:mod:`synthproof.checks.validity._suite`), and runs it on the
synthetic data with Great Expectations 1.x in process (an ephemeral context, a pandas data source, a
whole-dataframe batch; nothing is written to disk). Each expectation result is one finding.

``validity.gx_suite`` runs a suite the user wrote (GX 1.x JSON, ``validity.gx_suite`` in the config)
on the synthetic data; the user's thresholds decide (not statistical).

Great Expectations is an optional extra (``pip install 'synthproof[gx]'``), imported lazily: it
costs ~2.5 s to import. Without it both checks are ``skipped`` with reason ``missing_dependency``.

References: Great Expectations 1.x (https://docs.greatexpectations.io), expectation gallery for the
semantics of ``mostly`` and of each expectation; the calibration follows
:mod:`synthproof.calibration` (real/real splits at matched size, Bonferroni/Holm family-wise level).
"""

from __future__ import annotations

import json
import pathlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from synthproof.calibration import bh_reject, fmt
from synthproof.check import Check, Param, register
from synthproof.errors import IncomputableError
from synthproof.findings import Finding
from synthproof.sampling import POOL_ROWS, sample_rows

from ._gx_run import GX_HINT, SUITE_NAME, GXResult, import_gx, load_suite, run_expectations, suite_json  # noqa: F401
from ._suite import ExtremeRule, RateRule, calibrate, extreme_rule, half_ranges, quantile_bounds, rate_rule, tail_fit

#: An extreme expectation gates only when the real tail beyond the median holds at least this many
#: distinct values: with fewer (zero-inflated counts such as COMPAS ``juv_fel_count``, Adult
#: ``capital_gain`` in 100 rows) no tail model can bound how far a faithful sample may reach
#: (measured: 2 of ~170 calibration splits failed on such columns), so a breach only warns.
MIN_TAIL_VALUES = 10
#: A breached max/min expectation fails only when at least this many synthetic values lie beyond the
#: tolerated bound. One value, however far, is indistinguishable from a rare real data error that the
#: real sample happened to miss: by exchangeability the synthetic half of two equal independent
#: samples holds the single most extreme value half the time, and a tail model fitted to a clean
#: real sample cannot know about errors it never saw (measured: ggplot2 diamonds holds y = 58.9 and
#: z = 31.8 among ~54k rows; 3 of 10 real/real splits at 26k rows failed on one such value). Two or
#: more far values — a generator emitting out-of-domain values in 1% of 200 rows — still fail.
MIN_EXTREME_COUNT = 2

MIN_ROWS = 10
_NUMERIC = ("numeric", "datetime")
#: Weighted Bonferroni: expectation kind -> weight. Domain violations (a value beyond the real
#: extremes, a category never seen in real) get twice the share of the false-alarm budget of the rate
#: expectations (quantile range, nulls), which the drift checks (KS, missing rate) also cover. Each
#: expectation's level is ``alpha * weight / sum(weights)``, so the levels still sum to ``alpha``.
WEIGHTS = {"range": 1.0, "max": 2.0, "min": 2.0, "domain": 2.0, "null": 1.0}
_CATEGORICAL = ("categorical", "boolean")


# --------------------------------------------------------------------------- the derived suite

@dataclass
class Spec:
    """One derived expectation: its GX form and how to read its result.

    ``kind`` is ``columns``, ``unique`` (deterministic), or ``range``, ``max``, ``min``, ``domain``,
    ``null`` (statistical, with a calibrated ``rule``).
    """

    kind: str
    type: str
    column: str | None
    kwargs: dict
    rule: RateRule | ExtremeRule | None = None
    ref: float = 0.0  # the real extreme (max/min kinds)
    scale: float = 1.0  # the real half-range (max/min kinds)
    n_real: int = 0
    meta: dict = field(default_factory=dict)

    @property
    def statistical(self) -> bool:
        return self.rule is not None

    def expectation(self) -> dict:
        return {"type": self.type, "kwargs": self.kwargs, "meta": {"synthproof": self.meta}}


def _codes(values: pd.Series) -> tuple[np.ndarray, list[str]]:
    cat = pd.Categorical(values.astype(object).where(values.notna(), None))
    return np.asarray(cat.codes, dtype=np.int64), [str(c) for c in cat.categories]


def derive(real: pd.DataFrame, roles: dict[str, str], columns: list[str], id_columns: list[str],
           expected: list[str], n_values: dict[str, int], n_rows: int, n_splits: int, rng: np.random.Generator,
           alpha: float, quantile: float, min_effect: float, min_extreme_effect: float) -> tuple[list[Spec], int]:
    """Derive and calibrate the expectation suite from real rows.

    Parameters
    ----------
    real : pandas.DataFrame
        Real rows in canonical form (the pool: bounds, domains and splits all come from it).
    roles : dict
        Column roles.
    columns : list of str
        Feature columns.
    id_columns : list of str
        Id columns (uniqueness, when the real ids are unique).
    expected : list of str
        The real column set (``expect_table_columns_to_match_set``, ``exact_match=False``).
    n_values : dict of str to int
        Non-missing values per column that will be validated (the binomial trials of rates).
    n_rows : int
        Rows that will be validated; the comparison part of the splits has
        ``m = min(n_rows, len(real) // 2)`` rows (:func:`synthproof.encode.comparison_size`).
    n_splits : int
        ``R`` real/real splits.
    rng : numpy.random.Generator
    alpha : float
        Family-wise false-alarm level of the whole suite; each of the ``K`` statistical expectations
        gets ``alpha / K`` (Bonferroni).
    quantile, min_effect, min_extreme_effect : float
        See :class:`DerivedExpectations`.

    Returns
    -------
    specs : list of Spec
    m : int
    """
    n = len(real)
    m = int(min(n_rows, n // 2))
    numeric, categorical, labels, null_share = {}, {}, {}, {}
    for c in columns:
        s = real[c]
        null_share[c] = float(s.isna().mean()) if n else 1.0
        if not s.notna().any():
            continue
        if roles[c] in _NUMERIC:
            numeric[c] = s.to_numpy(dtype=float, na_value=np.nan)
        elif roles[c] in _CATEGORICAL:
            categorical[c], labels[c] = _codes(s)
    null_cols = [c for c in columns if null_share[c] <= 0.5]
    cal = calibrate(numeric, categorical, m, n_splits, rng, quantile) if (numeric or categorical) else None
    weight = WEIGHTS["range"] * len(numeric) + (WEIGHTS["max"] + WEIGHTS["min"]) * len(numeric) \
        + WEIGHTS["domain"] * len(categorical) + WEIGHTS["null"] * len(null_cols)
    unit = alpha / max(weight, 1.0)
    specs = [Spec("columns", "expect_table_columns_to_match_set", None,
                  {"column_set": list(expected), "exact_match": False})]
    qlab = f"{quantile * 100:g}–{(1 - quantile) * 100:g}%"
    for c in columns:
        if c in numeric:
            x = numeric[c]
            nn = int(np.count_nonzero(~np.isnan(x)))
            lo, hi = quantile_bounds(x, quantile)
            r = rate_rule(cal.baselines[f"{c}:range"], cal.trials[f"{c}:range"], n_values.get(c, 0),
                          WEIGHTS["range"] * unit, min_effect)
            specs.append(Spec("range", "expect_column_values_to_be_between", c,
                              {"column": c, "min_value": lo, "max_value": hi, "mostly": _mostly(r.tolerance)},
                              rule=r, n_real=nn, meta={"range": qlab}))
            s_lo, s_hi = half_ranges(x)
            vmin, vmax = float(np.nanmin(x)), float(np.nanmax(x))
            for kind, ref, scale, sign in (("max", vmax, s_hi, 1.0), ("min", vmin, s_lo, -1.0)):
                u, xi, sigma, share, _ = tail_fit(sign * x)
                e = extreme_rule(cal.baselines.get(f"{c}:{kind}", np.zeros(0)), n_values.get(c, 0), nn,
                                 WEIGHTS[kind] * unit, min_extreme_effect, (sign * ref - u, scale, xi, sigma, share))
                bound = ref + sign * e.tolerance * scale
                key = "max_value" if kind == "max" else "min_value"
                fin = x[~np.isnan(x)]
                beyond = np.unique(fin[sign * fin > sign * np.median(fin)]) if fin.size else fin
                specs.append(Spec(kind, f"expect_column_{kind}_to_be_between", c, {"column": c, key: bound},
                                  rule=e, ref=ref, scale=scale, n_real=nn,
                                  meta={"gating": bool(beyond.size >= MIN_TAIL_VALUES)}))
        elif c in categorical:
            codes = categorical[c]
            counts = np.bincount(codes[codes >= 0], minlength=len(labels[c]))
            present = counts > 0
            r = rate_rule(cal.baselines[f"{c}:domain"], cal.trials[f"{c}:domain"], n_values.get(c, 0),
                          WEIGHTS["domain"] * unit, min_effect, real_counts=unseen_prior(counts))
            specs.append(Spec("domain", "expect_column_values_to_be_in_set", c,
                              {"column": c, "value_set": [lab for lab, p in zip(labels[c], present) if p],
                               "mostly": _mostly(r.tolerance)},
                              rule=r, n_real=int(np.count_nonzero(codes >= 0))))
        if c in null_cols:
            base = cal.baselines[f"{c}:null"] if cal is not None else np.zeros(max(n_splits, 2))
            r = rate_rule(base, float(m), n_rows, WEIGHTS["null"] * unit, min_effect,
                          real_counts=(int(real[c].isna().sum()), n))
            specs.append(Spec("null", "expect_column_values_to_not_be_null", c,
                              {"column": c, "mostly": _mostly(r.tolerance)}, rule=r, n_real=n))
    for c in id_columns:
        s = real[c]
        if s.notna().all() and not s.duplicated().any():
            specs.append(Spec("unique", "expect_column_values_to_be_unique", c, {"column": c}, n_real=n))
    for s in specs:
        if s.rule is not None:
            s.meta = {**s.meta, "kind": s.kind, "tolerance": s.rule.tolerance, "level": s.rule.level,
                      "n_splits": n_splits,
                      "m": m}
        else:
            s.meta = {**s.meta, "kind": s.kind}
    return specs, m


def _mostly(tolerance: float) -> float:
    return float(min(max(1.0 - tolerance, 0.0), 1.0))


def _bounded(frame: pd.DataFrame, max_rows: int | None, seed: int, side: str, purpose: str) -> pd.DataFrame:
    """At most ``max_rows`` rows of ``frame``: a bottom-k sample keyed by row id (the same rows
    whatever the chunking; :mod:`synthproof.sampling`)."""
    if max_rows is None or len(frame) <= max_rows:
        return frame
    idx = sample_rows(len(frame), max_rows, seed, side, purpose)
    return frame.iloc[idx].reset_index(drop=True)


def unseen_prior(counts: np.ndarray) -> tuple[int, int] | None:
    """``(events, rows)`` for the predictive null of "a value the real sample never showed".

    Real/real splits of one sample never show a category that sample lacks, yet the population
    may hold categories the sample missed (COMPAS ``race`` at 200 rows usually lacks Asian and
    Native American, 0.7% of the population; German credit ``job`` at 100 rows lacks a 2.2%
    category 11% of the time). Good–Turing estimates the unseen mass by the singletons ``N1 / n``;
    its Jeffreys posterior ``Beta(N1 + 1/2, n - N1 + 1/2)`` (see :func:`._suite.rate_rule`) is the
    predictive null, so even ``N1 = 0`` leaves room for a rare category. Consequence, measured: 2
    never-seen values in 200 rows are not distinguishable from a rare real category (p ~ 0.07);
    1% of 30,000 rows are (p < 1e-100). Source: Good (1953), "The population frequencies of
    species", Biometrika 40:237.
    """
    seen = counts[counts > 0]
    n = int(seen.sum())
    return (int((seen == 1).sum()), n) if n else None


def _sampled(ctx, frame: pd.DataFrame, side: str, k: int, purpose: str) -> pd.DataFrame:
    """The rows of a bottom-k sample of ``k`` rows of ``side`` from the row pool (``ctx.sample``:
    the same rows in memory and out of core)."""
    return frame.iloc[ctx.sample(side, k, purpose)].reset_index(drop=True)


def prepare_derivation(ctx, max_rows: int, purpose: str, synthetic: pd.DataFrame | None,
                       rows: int | None = None) -> dict[str, Any]:
    """The pool of real rows (at most ``2 * max_rows``), the validated synthetic sample (at most
    ``max_rows``) and the sizes the calibration is matched to; ``synthetic=None`` (export) matches
    ``rows`` (default ``n_real // 2``) instead. Both are samples of the row pool."""
    data = ctx.data
    ids = [c for c in data.real.columns if data.roles.get(c) == "id"]
    cols = [c for c in data.features]
    keep = cols + ids
    pool = _sampled(ctx, data.real[keep], "real", 2 * max_rows, purpose)
    expected = list(data.real.columns) + [i.column for i in data.issues if i.reason_code == "missing_column"]
    if synthetic is not None:
        # Every real column the synthetic side has (text, provenance, excluded columns too): the
        # column-set expectation must see them even though no other expectation reads them.
        present = [c for c in dict.fromkeys(keep + list(data.real.columns)) if c in synthetic.columns]
        syn = _sampled(ctx, synthetic[present], "synthetic", max_rows, purpose)
        n_values = {c: int(syn[c].notna().sum()) for c in cols if c in syn.columns}
        n_rows = len(syn)
    else:
        syn = None
        n_rows = int(rows if rows is not None else len(pool) // 2)
        n_rows = min(n_rows, len(pool) // 2)
        n_values = {c: int(round(n_rows * float(pool[c].notna().mean()))) for c in cols}
    return {"pool": pool, "synthetic": syn, "columns": cols, "ids": ids, "expected": list(dict.fromkeys(expected)),
            "n_values": n_values, "n_rows": n_rows}


def _pct(x: float) -> str:
    return f"{fmt(100.0 * x)}%"


@register
class DerivedExpectations(Check):
    """An expectation suite derived from the real data, calibrated on real/real splits, run with GX.

    Expectations (one finding each, ``metric`` = the GX expectation type):

    * ``expect_table_columns_to_match_set`` (real columns, ``exact_match=False``; synthetic-only
      columns are allowed) — deterministic; value = number of real columns missing.
    * per numeric/datetime column (datetime in epoch seconds, synthproof's canonical form):
      ``expect_column_values_to_be_between`` the real ``quantile``/``1 - quantile`` quantiles with a
      calibrated ``mostly`` (value = fraction of non-missing values outside, in [0, 1]); and
      ``expect_column_max_to_be_between`` / ``expect_column_min_to_be_between`` with the bound
      ``real max + t * (max - median)`` (``real min - t * (median - min)``), ``t`` calibrated
      (value = excess of the synthetic extreme beyond the real one, in real half-ranges, ``>= 0`` worse).
    * per categorical/boolean column: ``expect_column_values_to_be_in_set`` the real categories with
      a calibrated ``mostly`` (value = fraction of non-missing values never seen in real).
    * per column with at most half its real values missing: ``expect_column_values_to_not_be_null``
      with a calibrated ``mostly`` (value = missing fraction).
    * per id column whose real values are unique and complete: ``expect_column_values_to_be_unique``
      — deterministic (value = fraction of duplicated synthetic ids).

    Calibration (see :mod:`synthproof.checks.validity._suite`): ``R = n_splits`` seeded real/real
    splits at matched size ``m = min(n_validated, n_real // 2)``; each of the ``K`` statistical
    expectations gets the Bonferroni level ``ctx.alpha / K`` so that
    P(any expectation fails | real vs real) <= ``ctx.alpha``; every tolerance is at least the
    real/real median plus ``min_effect`` (rates) or ``min_extreme_effect`` (extremes), so trivial
    deviations can at most warn. ``fail`` is exactly GX's ``success: false``; the exported suite
    (``validity.export_suite``) therefore gives the same verdicts in a team's own GX pipeline at the
    same batch size (rate tolerances are binomial at the validated size: a much larger batch is
    judged slightly more strictly, a smaller one more leniently). Holm's step-down is not used:
    its levels depend on the other expectations' outcomes, which a fixed suite cannot encode.
    Warnings use Benjamini–Hochberg at ``ctx.fdr_q`` on the same p-values.

    Bounded computation: at most ``max_rows`` synthetic rows are validated and at most
    ``2 * max_rows`` real rows form the pool (seeded samples); calibration is at that size.
    """

    id = "validity.expectations"
    needs = ("row_sample", "row_pool")
    version = "3"  # samples from the row pool; 100,000 validated rows by default (issue 12)
    family = "validity"
    summary = ("Great Expectations suite derived from the real data (columns, quantile bounds, extremes, category "
               "sets, nulls, id uniqueness) with real/real-calibrated tolerances, run on the synthetic data.")
    metric = "unexpected_fraction"
    unit = "fraction of values (extremes: real half-ranges)"
    value_range = "[0, 1] (extremes: [0, inf))"
    computation = "sample"
    statistical = True
    source = ("Great Expectations 1.x (docs.greatexpectations.io); tolerances from real/real splits with a binomial/"
              "Gamma null (synthproof.calibration.RateNull) at a Bonferroni level")
    params = {
        "min_effect": Param("float", 0.005, "minimum excess unexpected fraction (out of range, unseen category, "
                            "missing) over real/real worth failing", low=0.0, high=1.0),
        "min_extreme_effect": Param("float", 8.0, "minimum excess of a synthetic extreme beyond the real one, in "
                                    "real half-ranges (max - median), worth failing", low=0.0),
        "quantile": Param("float", 0.001, "lower quantile of the range expectation (bounds at q and 1-q)",
                          low=0.0, high=0.5, open_low=True, open_high=True),
        "max_rows": Param("int", 100_000, "synthetic rows validated (seeded sample of the row pool); real pool 2x "
                          f"that, both at most the pool ({POOL_ROWS:,} rows)", low=20),
        "n_splits": Param("int", None, "seeded real/real splits R (default: calibration.n_splits)", low=20,
                          high=10_000),
    }

    def derive(self, ctx, synthetic: pd.DataFrame | None, alpha: float, rows: int | None = None):
        """Prepared pool/sample and the calibrated specs (``synthetic=None``: for export)."""
        prep = prepare_derivation(ctx, self.max_rows, self.id, synthetic, rows)
        if min(prep["n_rows"], len(prep["pool"]) // 2) < MIN_ROWS:
            raise IncomputableError("too_few_rows", f"only {min(prep['n_rows'], len(prep['pool']) // 2)} rows "
                                                    f"per side after matching sizes (needs {MIN_ROWS})")
        specs, m = derive(prep["pool"], ctx.data.roles, prep["columns"], prep["ids"], prep["expected"],
                          prep["n_values"], prep["n_rows"], int(self.n_splits or ctx.n_splits),
                          ctx.rng(f"{self.id}:splits"), alpha, self.quantile, self.min_effect,
                          self.min_extreme_effect)
        return prep, specs, m

    def run(self, ctx) -> list[Finding]:
        import_gx()
        if not ctx.data.features:
            raise IncomputableError("no_applicable_columns", "no feature column to derive expectations from")
        prep, specs, m = self.derive(ctx, ctx.data.synthetic, ctx.alpha)
        syn = prep["synthetic"]
        results = run_expectations([s.expectation() for s in specs], syn)
        findings = self._findings(ctx, specs, results, prep, m)
        path = ctx.config.validity.export_suite
        if path:
            findings.append(self._export(specs, path, len(prep["pool"]), m))
        return findings

    def _export(self, specs: list[Spec], path: str, n_pool: int, m: int) -> Finding:
        try:
            p = pathlib.Path(path)
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_text(json.dumps(suite_json([s.expectation() for s in specs], meta=_suite_meta(self, n_pool, m)),
                                    indent=2, sort_keys=True) + "\n", encoding="utf-8")
        except (OSError, ValueError) as exc:
            return self.finding(scope="dataset", metric="exported_expectations", status="error",
                                reason_code="exception",
                                message=f"could not write the derived suite to {path}: {type(exc).__name__}.")
        return self.finding(scope="dataset", metric="exported_expectations", value=float(len(specs)), status="pass",
                            message=f"wrote the derived suite ({len(specs)} expectations) to {path}.")

    def _findings(self, ctx, specs: list[Spec], results: list[GXResult], prep: dict, m: int) -> list[Finding]:
        rows: list[dict] = []
        for s, r in zip(specs, results):
            rows.append(self._read(ctx, s, r, prep))
        stat = [i for i, s in enumerate(specs) if s.statistical and rows[i]["p"] is not None]
        fdr = np.zeros(len(specs), dtype=bool)
        if stat:
            fdr[stat] = bh_reject(np.array([rows[i]["p"] for i in stat]), ctx.fdr_q)
        out = []
        n_fail = 0
        for i, (s, row) in enumerate(zip(specs, rows)):
            status, reason = row["status"], row["reason"]
            if status == "fail" and not s.meta.get("gating", True):
                status, reason = "warn", "underpowered"
            elif status == "fail" and s.kind in ("max", "min") and _beyond(prep, s) < MIN_EXTREME_COUNT:
                status, reason = "warn", "single_extreme"
            if status == "pass" and s.statistical:
                rule = s.rule
                effect = row["value"] - rule.median > (self.min_effect if s.kind not in ("max", "min")
                                                       else self.min_extreme_effect)
                if fdr[i]:
                    status, reason = "warn", ("fdr_only" if effect else "below_min_effect")
                elif s.kind not in ("max", "min") and rule.mde > self.min_effect:
                    # (extremes: a wide tolerance reflects the real tail's weight, not the sample size)
                    reason = "underpowered"
            n_fail += status == "fail"
            msg = row["msg"] + _tail(status, reason, s, self)
            rule = s.rule
            out.append(self.finding(
                scope="dataset" if s.column is None else "column", column=s.column, metric=s.type,
                value=row["value"], threshold=row["threshold"],
                baseline_value=None if rule is None else rule.median,
                ci_low=None if rule is None else rule.ci_low, ci_high=None if rule is None else rule.ci_high,
                p_value=row["p"], min_effect=None if rule is None else (
                    self.min_extreme_effect if s.kind in ("max", "min") else self.min_effect),
                n_real=s.n_real or len(prep["pool"]), n_synthetic=row["n"], status=status, reason_code=reason,
                unit="real half-ranges" if s.kind in ("max", "min") else (
                    "columns" if s.kind == "columns" else "fraction of values"),
                message=msg))
        out.append(self.finding(
            scope="dataset", metric="unsuccessful_expectations", value=float(n_fail), unit="expectations",
            n_real=len(prep["pool"]), n_synthetic=len(prep["synthetic"]),
            status="fail" if n_fail else "pass", reason_code="expectation_failed" if n_fail else None,
            message=f"{n_fail} of {len(specs)} derived expectations failed on {len(prep['synthetic'])} synthetic rows "
                    f"(tolerances calibrated on {int(self.n_splits or ctx.n_splits)} real/real splits of "
                    f"{m} rows)."))
        return out

    def _read(self, ctx, s: Spec, r: GXResult, prep: dict) -> dict:
        res = r.result
        n_rows = len(prep["synthetic"])
        what = f"column {s.column!r}" if s.column is not None else "the synthetic data"
        base = {"p": None, "threshold": None, "n": n_rows, "status": "pass" if r.success else "fail",
                "reason": None if r.success else "beyond_baseline"}
        if r.exception:
            first = (r.exception.strip().splitlines() or ["error"])[0]
            return {**base, "value": None, "status": "error", "reason": "expectation_error",
                    "msg": f"{what}: Great Expectations could not evaluate {s.type} ({first[:200]})"}
        if s.kind == "columns":
            missing = [c for c in s.kwargs["column_set"] if c not in prep["synthetic"].columns
                       and c not in ctx.data.synthetic.columns]
            shown = ", ".join(repr(c) for c in missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
            return {**base, "value": float(len(missing)), "threshold": 0.0,
                    "reason": "missing_column" if not r.success else None,
                    "msg": (f"{len(missing)} real column(s) missing from the synthetic data ({shown})" if missing
                            else f"the synthetic data has all {len(s.kwargs['column_set'])} real columns")}
        if s.kind == "unique":
            n_el = int(res.get("element_count") or 0)
            k = int(res.get("unexpected_count") or 0)
            return {**base, "value": k / n_el if n_el else 0.0, "threshold": 0.0, "n": n_el,
                    "reason": None if r.success else "expectation_failed",
                    "msg": f"id column {s.column!r}: {k} of {n_el} synthetic ids are repeated (real ids are unique)"}
        rule = s.rule
        if s.kind in ("max", "min"):
            obs = res.get("observed_value")
            obs = float(obs) if obs is not None and np.isfinite(float(obs)) else None
            sign = 1.0 if s.kind == "max" else -1.0
            excess = 0.0 if obs is None else max(sign * (obs - s.ref) / s.scale, 0.0)
            n_el = int(prep["synthetic"][s.column].notna().sum())
            side = "maximum" if s.kind == "max" else "minimum"
            shown = (f" (synthetic {fmt(obs)}, real {fmt(s.ref)}, bound {fmt(s.kwargs.get(s.kind + '_value'))})"
                     if ctx.show_values and obs is not None else "")
            msg = (f"{what}: the synthetic {side} lies {fmt(excess)} real half-ranges "
                   f"({'max - median' if s.kind == 'max' else 'median - min'}) beyond the real {side}{shown} "
                   f"(tolerated {fmt(rule.tolerance)})")
            if obs is None:  # nothing to judge: skipped, never a verdict that speaks of values past the bound
                return {**base, "value": None, "threshold": rule.tolerance, "p": None, "n": n_el, "status": "skipped",
                        "reason": "all_null", "msg": f"{what}: no finite synthetic value to compare with the real {side}"}
            return {**base, "value": excess, "threshold": rule.tolerance, "p": rule.p_value(excess), "n": n_el,
                    "msg": msg}
        n_el = int(res.get("element_count") or 0)
        k = int(res.get("unexpected_count") or 0)
        n_t = n_el if s.kind == "null" else n_el - int(res.get("missing_count") or 0)
        value = k / n_t if n_t else 0.0
        p = rule.p_value(k, n_t)
        if s.kind == "range":
            where = f"the real {s.meta.get('range', '')} range"
            if ctx.show_values:
                where += f" [{fmt(s.kwargs['min_value'])}, {fmt(s.kwargs['max_value'])}]"
            what_is = f"of {n_t} non-missing synthetic values lie outside {where}"
        elif s.kind == "domain":
            what_is = f"of {n_t} non-missing synthetic values are categories never seen in the real data"
        else:
            what_is = f"of {n_t} synthetic values are missing"
        msg = (f"{what}: {_pct(value)} {what_is} (tolerated up to {_pct(rule.tolerance)}; real/real median "
               f"{_pct(rule.median)}, p={fmt(p)})")
        return {**base, "value": value, "threshold": rule.tolerance, "p": p, "n": n_t, "msg": msg}


def _tail(status: str, reason: str | None, s: Spec, check: DerivedExpectations) -> str:
    eff = check.min_extreme_effect if s.kind in ("max", "min") else check.min_effect
    if status in ("error", "skipped"):
        return "."
    if s.rule is None:
        return ": the synthetic data breaks a rule every real row keeps." if status == "fail" else "."
    if status == "warn" and reason == "single_extreme":
        return (": beyond the tolerance, but only one synthetic value lies past the tolerated bound — as likely "
                "a rare real value the real sample missed as a defect, so this only warns.")
    if status == "warn" and reason == "underpowered" and not s.meta.get("gating", True):
        return (f": beyond the tolerance, but the real tail holds fewer than {MIN_TAIL_VALUES} distinct values — "
                "too few to bound how far a faithful sample reaches, so this only warns.")
    return {
        "beyond_baseline": ": beyond the calibrated tolerance — the synthetic data breaks a rule the real data keeps.",
        "fdr_only": f": above the minimum effect {fmt(eff)} and significant at the FDR level, within the tolerance.",
        "below_min_effect": f": statistically detectable but within the minimum effect {fmt(eff)}.",
        "underpowered": f": within tolerance; at this size only excesses above {fmt(s.rule.mde)} are detectable "
                        f"(minimum effect {fmt(eff)}).",
        None: ": within real/real variation.",
    }.get(reason, ".")


def _beyond(prep: dict, s: Spec) -> int:
    """Synthetic values past the tolerated bound of a max/min expectation."""
    x = pd.to_numeric(prep["synthetic"][s.column], errors="coerce").to_numpy(dtype=float)
    if s.kind == "max":
        return int((x > float(s.kwargs["max_value"])).sum())
    return int((x < float(s.kwargs["min_value"])).sum())


def _suite_meta(check: Check, n_pool: int, m: int) -> dict:
    from synthproof._version import __version__

    return {"synthproof": {"version": __version__, "check": check.id, "params": check.get_params(),
                           "n_real": n_pool, "m": m,
                           "note": "derived from real data: value sets and bounds are aggregates of real values; "
                                   "datetime columns are in epoch seconds (synthproof's canonical form)"}}


def export_derived_suite(ctx, check: DerivedExpectations | None = None, rows: int | None = None,
                         alpha: float | None = None) -> dict:
    """The derived suite from the real data only (``ctx.data.real``), as GX 1.x JSON.

    Parameters
    ----------
    ctx : AuditContext
        Its ``data.real`` is used; ``data.synthetic`` is ignored.
    check : DerivedExpectations, optional
        Parameters (defaults otherwise).
    rows : int, optional
        Batch size the tolerances are matched to (default ``n_real // 2``).
    alpha : float, optional
        Family-wise level of the suite (default ``ctx.alpha``).
    """
    check = check or DerivedExpectations()
    import_gx()
    prep, specs, m = check.derive(ctx, None, ctx.alpha if alpha is None else alpha, rows)
    return suite_json([s.expectation() for s in specs], meta=_suite_meta(check, len(prep["pool"]), m))
