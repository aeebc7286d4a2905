"""SDMetrics-compatible quality scores (SDMetrics 0.32 definitions), on every row.

These reproduce, to floating-point rounding, what ``sdmetrics==0.32.0`` computes:

* ``KSComplement`` (``sdmetrics.single_column.KSComplement``): ``1 - D``, ``D`` the two-sample
  Kolmogorov–Smirnov statistic (``scipy.stats.ks_2samp``) after dropping missing values; datetimes
  as integer nanoseconds, numbers rounded to 14 decimals first (``sys.float_info.dig - 1``).
  NaN when a side has no value.
* ``TVComplement`` (``sdmetrics.single_column.TVComplement``): ``1 - TVD`` of the category
  frequencies after dropping missing values; a category seen only in the synthetic data gets a
  real count of ``1e-6`` (SDMetrics' regularisation), so disjoint supports give
  ``k·1e-6 / (n_real + k·1e-6)``, not exactly 0. NaN when a side has no value.
* ``CorrelationSimilarity`` (``sdmetrics.column_pairs.CorrelationSimilarity``):
  ``1 - |r_real - r_synthetic| / 2``, ``r`` Pearson's (the report's choice) or Spearman's on the
  rows where both columns are present; NaN when a column is constant on either side (SDMetrics
  raises ``ConstantInputError``), when fewer than 2 rows remain, or when ``r`` is undefined.
* ``ContingencySimilarity`` (``sdmetrics.column_pairs.ContingencySimilarity``):
  ``1 - TVD`` of the joint frequencies of the two columns, missing counted as a category
  (``groupby(dropna=False)``). Through the metric API, ``continuous`` columns are binned into 10
  equal-width bins of the REAL range with open outer edges (``sdmetrics.utils.discretize_column``).
* Column Shapes (``QualityReport`` property): the mean over columns of KSComplement
  (numerical/datetime) or TVComplement (categorical/boolean), NaN scores skipped.
* Column Pair Trends (``QualityReport`` property): over every pair of columns,
  CorrelationSimilarity (Pearson) when both are numerical/datetime, else ContingencySimilarity. The
  report bins each numerical/datetime column on EACH SIDE SEPARATELY with
  ``np.digitize(x, np.histogram_bin_edges(x.dropna()))`` — 10 equal-width bins of that side's own
  range, codes 0..11, where the side's maximum and the missing values share code 11. The average
  (0.32 defaults) takes only the pairs whose real association is strong enough: ``|r_real| > 0.5``
  for correlation pairs, real Cramér's V ``> 0.3`` for contingency pairs (``real_correlation_threshold``
  / ``real_association_threshold``; 0 gives the plain mean over all pairs).
* The quality score: the mean of the two property scores (NaN skipped).

SDMetrics' ``QualityReport`` subsamples each contingency pair to 50,000 rows when a table is
larger (``num_rows_subsample``); the values here use every row, i.e. they equal SDMetrics with
``report.num_rows_subsample = None``.

Inputs as synthproof holds them (:class:`synthproof.schema.Prepared`): numbers as float64,
datetimes as float seconds since the epoch (converted here to nanoseconds, exact for whole-second
timestamps), categories as strings with missing as NaN. Every function is pure and vectorised.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np
import pandas as pd


SDMETRICS_VERSION = "0.32.0"
#: ``sdmetrics.single_column.statistical.kscomplement.MAX_DECIMALS``.
MAX_DECIMALS = 14
#: SDMetrics' regularisation of a synthetic-only category (``sdmetrics.utils.get_frequencies``).
TV_EPSILON = 1e-6
#: ``sdmetrics.reports.utils`` defaults of the 0.32 QualityReport.
DEFAULT_REAL_CORRELATION_THRESHOLD = 0.5
DEFAULT_REAL_ASSOCIATION_THRESHOLD = 0.3
CONTINUOUS = ("numerical", "datetime")
DISCRETE = ("categorical", "boolean", "ordinal")
_ROLE_TO_SDTYPE = {"numeric": "numerical", "datetime": "datetime", "categorical": "categorical",
                   "boolean": "boolean"}


# -- conversions ---------------------------------------------------------------------------------
def _is_datetime(values: Any) -> bool:
    return pd.api.types.is_datetime64_any_dtype(getattr(values, "dtype", None))


def as_numbers(values: Any) -> np.ndarray:
    """A float64 array of a numeric or datetime column, missing as NaN (datetimes in nanoseconds,
    as ``pd.to_numeric`` gives them to SDMetrics)."""
    if _is_datetime(values):
        s = pd.Series(values)
        if isinstance(s.dtype, pd.DatetimeTZDtype):
            s = s.dt.tz_convert("UTC").dt.tz_localize(None)
        s = s.astype("datetime64[ns]")
        out = s.to_numpy().view("int64").astype(np.float64)
        out[s.isna().to_numpy()] = np.nan
        return out
    return pd.to_numeric(pd.Series(values), errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)


def _codes(real: Any, synthetic: Any) -> tuple[np.ndarray, np.ndarray, int]:
    """Shared integer codes of two discrete columns (missing = -1) and the number of values."""
    r, s = pd.Series(real), pd.Series(synthetic)
    if isinstance(r.dtype, pd.CategoricalDtype) and isinstance(s.dtype, pd.CategoricalDtype):
        cats = r.cat.categories.union(s.cat.categories)
        out = []
        for side in (r, s):
            remap = np.append(cats.get_indexer(side.cat.categories), -1).astype(np.int64)
            out.append(remap[np.asarray(side.cat.codes, dtype=np.int64)])  # code -1 -> remap[-1] = -1
        return out[0], out[1], len(cats)
    both = pd.concat([r.astype(object), s.astype(object)], ignore_index=True)
    codes, uniques = pd.factorize(both, use_na_sentinel=True)
    codes = codes.astype(np.int64)
    return codes[: len(r)], codes[len(r):], len(uniques)


# -- single columns ------------------------------------------------------------------------------
def ks_statistic(real: np.ndarray, synthetic: np.ndarray) -> float:
    """Two-sample KS ``D`` of two NaN-free float arrays, computed as ``scipy.stats.ks_2samp`` does."""
    a, b = np.sort(real), np.sort(synthetic)
    both = np.concatenate([a, b])
    cdf1 = np.searchsorted(a, both, side="right") / a.size
    cdf2 = np.searchsorted(b, both, side="right") / b.size
    diff = cdf1 - cdf2
    return float(max(np.clip(-np.min(diff), 0, 1), np.max(diff)))


def ks_complement(real: Any, synthetic: Any, datetime: bool | None = None) -> float:
    """SDMetrics ``KSComplement``: one minus the two-sample Kolmogorov–Smirnov statistic.

    Parameters
    ----------
    real, synthetic : array-like of shape (n_real,) and (n_synthetic,)
        Numbers or datetimes; missing values (NaN/NaT/None) are dropped first.
    datetime : bool, optional
        Whether the values are datetimes (default: from the dtype). Numbers are rounded to
        ``MAX_DECIMALS`` = 14 decimals as SDMetrics does; datetimes (integer nanoseconds) are not.

    Returns
    -------
    float
        In [0, 1], higher is better (1: identical empirical distributions). NaN when a side has
        no value.

    Notes
    -----
    Source: ``sdmetrics.single_column.KSComplement`` (sdmetrics 0.32.0), which calls
    ``scipy.stats.ks_2samp`` (Kolmogorov 1933, Smirnov 1948).
    """
    if datetime is None:
        datetime = _is_datetime(real)
    r, s = as_numbers(real), as_numbers(synthetic)
    r, s = r[~np.isnan(r)], s[~np.isnan(s)]
    if r.size == 0 or s.size == 0:
        return float("nan")
    if not datetime:
        r, s = np.round(r, MAX_DECIMALS), np.round(s, MAX_DECIMALS)
    return 1.0 - ks_statistic(r, s)


def _tv_from_counts(r: np.ndarray, s: np.ndarray) -> float:
    n_s = s.sum()
    if n_s == 0 or r.sum() == 0:
        return float("nan")
    present = (r > 0) | (s > 0)
    r = np.where((r == 0) & (s > 0), TV_EPSILON, r.astype(np.float64))[present]
    s = s[present].astype(np.float64)
    return float(1.0 - 0.5 * np.sum(np.abs(s / n_s - r / r.sum())))


def tv_complement(real: Any, synthetic: Any) -> float:
    """SDMetrics ``TVComplement``: one minus the total variation distance of category frequencies.

    Parameters
    ----------
    real, synthetic : array-like of shape (n_real,) and (n_synthetic,)
        Hashable values (strings, booleans, categories); missing values are dropped first.

    Returns
    -------
    float
        In [0, 1], higher is better (1: the same category shares). A category seen only in the
        synthetic data counts ``1e-6`` real rows, as in SDMetrics, so fully disjoint categories
        give ``k·1e-6 / (n_real + k·1e-6)`` (about 0). NaN when a side has no value (SDMetrics
        raises ``IncomputableMetricError``).

    Notes
    -----
    Source: ``sdmetrics.single_column.TVComplement`` and ``sdmetrics.utils.get_frequencies``
    (sdmetrics 0.32.0).
    """
    rc, sc, k = _codes(real, synthetic)
    r = np.bincount(rc[rc >= 0], minlength=k)
    s = np.bincount(sc[sc >= 0], minlength=k)
    return _tv_from_counts(r, s)


# -- column pairs --------------------------------------------------------------------------------
def _pearson(x: np.ndarray, y: np.ndarray) -> float:
    """Pearson's r as ``scipy.stats.pearsonr`` (NaN-free inputs; NaN when undefined)."""
    if x.size < 2 or np.all(x == x[0]) or np.all(y == y[0]):
        return float("nan")
    xm, ym = x - x.mean(), y - y.mean()
    xm, ym = xm / np.abs(xm).max(), ym / np.abs(ym).max()
    r = float(np.dot(xm / np.linalg.norm(xm), ym / np.linalg.norm(ym)))
    return max(min(r, 1.0), -1.0)


def _constant(values: np.ndarray) -> bool:
    v = values[~np.isnan(values)]
    return v.size > 0 and bool(np.all(v == v[0]))


def correlation_similarity(real: Any, synthetic: Any, coefficient: str = "pearson") -> float:
    """SDMetrics ``CorrelationSimilarity``: ``1 - |corr(real) - corr(synthetic)| / 2``.

    Parameters
    ----------
    real, synthetic : array-like of shape (n_real, 2) and (n_synthetic, 2)
        Two numeric/datetime columns (a DataFrame or an array); rows with a missing value in
        either column are dropped on each side.
    coefficient : {"pearson", "spearman"}
        SDMetrics' ``coefficient`` (its QualityReport uses Pearson).

    Returns
    -------
    float
        In [0, 1], higher is better. NaN when a column is constant on either side (SDMetrics
        raises ``ConstantInputError``), when fewer than 2 complete rows remain, or when a
        correlation is undefined.

    Notes
    -----
    Source: ``sdmetrics.column_pairs.CorrelationSimilarity`` (sdmetrics 0.32.0), which calls
    ``scipy.stats.pearsonr`` / ``spearmanr``.
    """
    coefficient = coefficient.lower()
    if coefficient not in ("pearson", "spearman"):
        raise ValueError(f"coefficient must be 'pearson' or 'spearman', got {coefficient!r}")
    corr = []
    sides = [_two_columns(real), _two_columns(synthetic)]
    if any(_constant(c) for side in sides for c in side):
        return float("nan")
    for x, y in sides:
        keep = ~(np.isnan(x) | np.isnan(y))
        x, y = x[keep], y[keep]
        if coefficient == "spearman":
            from scipy.stats import rankdata

            x, y = rankdata(x), rankdata(y)
        corr.append(_pearson(x, y))
    if any(math.isnan(c) for c in corr):
        return float("nan")
    return 1.0 - abs(corr[0] - corr[1]) / 2.0


def _two_columns(data: Any) -> tuple[np.ndarray, np.ndarray]:
    if isinstance(data, pd.DataFrame):
        return as_numbers(data.iloc[:, 0]), as_numbers(data.iloc[:, 1])
    arr = np.asarray(data)
    return as_numbers(arr[:, 0]), as_numbers(arr[:, 1])


def metric_bins(real: np.ndarray, synthetic: np.ndarray, num_discrete_bins: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """``sdmetrics.utils.discretize_column``: equal-width bins of the real range, outer edges open."""
    edges = np.histogram_bin_edges(real[~np.isnan(real)], bins=num_discrete_bins)
    edges[0], edges[-1] = -np.inf, np.inf
    return np.digitize(real, bins=edges), np.digitize(synthetic, bins=edges)


def report_bins(values: np.ndarray) -> np.ndarray:
    """The QualityReport's discretisation of one side's numeric column
    (``ColumnPairTrends._discretize_column``): ``np.digitize(x, np.histogram_bin_edges(x[~nan]))``,
    codes 0..11 (the side's maximum and missing values share 11)."""
    return np.digitize(values, bins=np.histogram_bin_edges(values[~np.isnan(values)]))


def _contingency_tables(a_r, a_s, b_r, b_s):
    """Joint count tables (real, synthetic) over a shared support; missing is code -1 -> row/col 0."""
    ka = int(max(a_r.max(initial=-1), a_s.max(initial=-1))) + 2
    kb = int(max(b_r.max(initial=-1), b_s.max(initial=-1))) + 2
    real = np.bincount((a_r + 1) * kb + (b_r + 1), minlength=ka * kb).reshape(ka, kb)
    syn = np.bincount((a_s + 1) * kb + (b_s + 1), minlength=ka * kb).reshape(ka, kb)
    return real, syn


def _contingency_score(real_t: np.ndarray, syn_t: np.ndarray) -> float:
    n_r, n_s = real_t.sum(), syn_t.sum()
    if n_r == 0 or n_s == 0:
        return float("nan")
    return float(1.0 - np.abs(real_t / n_r - syn_t / n_s).sum() / 2.0)


def cramers_v(table: np.ndarray) -> float:
    """Cramér's V of a count table, as ``scipy.stats.contingency.association(method="cramer")``
    on the rows/columns that occur (no continuity correction); NaN when fewer than 2 of either."""
    t = table[table.sum(axis=1) > 0][:, table.sum(axis=0) > 0].astype(np.float64)
    if t.size == 0 or min(t.shape) < 2:
        return float("nan")
    n = t.sum()
    expected = np.outer(t.sum(axis=1), t.sum(axis=0)) / n
    chi2 = float(((t - expected) ** 2 / expected).sum())
    return math.sqrt(chi2 / n / (min(t.shape) - 1))


def _discrete_codes(real: Any, synthetic: Any) -> tuple[np.ndarray, np.ndarray]:
    """Codes of a discrete column on both sides: shared category codes, missing -1."""
    r, s, _ = _codes(real, synthetic)
    return r, s


def contingency_similarity(real: Any, synthetic: Any, continuous: tuple[int, ...] | list = (),
                           num_discrete_bins: int = 10) -> float:
    """SDMetrics ``ContingencySimilarity``: one minus the TVD of the two columns' joint frequencies.

    Parameters
    ----------
    real, synthetic : DataFrame or array-like of shape (n_real, 2) and (n_synthetic, 2)
        Two columns; missing values are a category of their own.
    continuous : sequence of int or str
        Columns (positions, or names for DataFrames) to bin first, as SDMetrics'
        ``continuous_column_names``: ``num_discrete_bins`` equal-width bins of the real range with
        open outer edges, missing values in a bin of their own.
    num_discrete_bins : int

    Returns
    -------
    float
        In [0, 1], higher is better (1: the same joint distribution).

    Notes
    -----
    Source: ``sdmetrics.column_pairs.ContingencySimilarity`` (sdmetrics 0.32.0) with
    ``num_rows_subsample=None`` and ``real_association_threshold=0`` (its defaults).
    """
    rf, sf = _frame2(real), _frame2(synthetic)
    cont = {rf.columns.get_loc(c) if not isinstance(c, int) else c for c in continuous}
    codes = []
    for i in range(2):
        if i in cont:
            r, s = metric_bins(as_numbers(rf.iloc[:, i]), as_numbers(sf.iloc[:, i]), num_discrete_bins)
            codes.append((r.astype(np.int64), s.astype(np.int64)))
        else:
            codes.append(_discrete_codes(rf.iloc[:, i], sf.iloc[:, i]))
    real_t, syn_t = _contingency_tables(codes[0][0], codes[0][1], codes[1][0], codes[1][1])
    return _contingency_score(real_t, syn_t)


def _frame2(data: Any) -> pd.DataFrame:
    if isinstance(data, pd.DataFrame):
        return data.iloc[:, :2]
    return pd.DataFrame(np.asarray(data, dtype=object)[:, :2])


# -- the QualityReport properties ----------------------------------------------------------------
def _sdtypes(columns, sdtypes: dict[str, str]) -> dict[str, str]:
    out = {}
    for c in columns:
        t = sdtypes.get(c)
        if t in CONTINUOUS or t in DISCRETE:
            out[c] = t
    return out


def column_shapes(real: pd.DataFrame, synthetic: pd.DataFrame, sdtypes: dict[str, str]) -> tuple[float, list[dict]]:
    """SDMetrics QualityReport "Column Shapes": the mean of KSComplement / TVComplement per column.

    Parameters
    ----------
    real, synthetic : pandas.DataFrame
        The tables (same column names).
    sdtypes : dict
        Column -> SDMetrics sdtype (``numerical``, ``datetime``, ``categorical``, ``boolean``,
        ``ordinal``); other columns are ignored, as SDMetrics ignores other sdtypes.

    Returns
    -------
    score : float
        In [0, 1], higher is better: the mean of the per-column scores, NaN ones skipped.
    details : list of dict
        ``{"column", "metric", "score"}`` per column, in column order.

    Notes
    -----
    Source: ``sdmetrics.reports.single_table._properties.ColumnShapes`` (sdmetrics 0.32.0).
    """
    details = []
    for col, t in _sdtypes(real.columns, sdtypes).items():
        if t in CONTINUOUS:
            score = ks_complement(real[col], synthetic[col], datetime=t == "datetime")
            details.append({"column": col, "metric": "KSComplement", "score": score})
        else:
            details.append({"column": col, "metric": "TVComplement", "score": tv_complement(real[col], synthetic[col])})
    return _nanmean([d["score"] for d in details]), details


def _nanmean(values) -> float:
    v = np.array([x for x in values if x is not None], dtype=np.float64)
    v = v[~np.isnan(v)]
    return float(v.mean()) if v.size else float("nan")


def pairwise_pearson(x: np.ndarray) -> np.ndarray:
    """Pearson's r of every column pair of ``x`` (n, p) on the rows where both are present.

    Vectorised (two matrix products after centring each column); NaN where a pair has fewer than
    2 complete rows or a constant column on them. Returns a (p, p) array.
    """
    n, p = x.shape
    m = ~np.isnan(x)
    mu = np.array([x[m[:, j], j].mean() if m[:, j].any() else 0.0 for j in range(p)])
    xc = np.where(m, x - mu, 0.0)
    mf = m.astype(np.float64)
    cnt = mf.T @ mf
    sx = xc.T @ mf                      # sx[i, j]: sum of centred x_i over rows where i and j are present
    sxx = (xc * xc).T @ mf
    sxy = xc.T @ xc
    with np.errstate(divide="ignore", invalid="ignore"):
        cov = sxy - sx * sx.T / cnt
        vx = sxx - sx * sx / cnt
        r = cov / np.sqrt(vx * vx.T)
    r = np.clip(r, -1.0, 1.0)
    # Exact constancy on the complete rows (where the formula's variance is not reliable).
    tiny = (vx <= 1e-12 * np.maximum(sxx, np.finfo(float).tiny)) | (cnt < 2)
    for i, j in zip(*np.nonzero(tiny | tiny.T)):
        if i == j:
            continue
        keep = m[:, i] & m[:, j]
        xi, xj = x[keep, i], x[keep, j]
        r[i, j] = _pearson(xi, xj) if xi.size >= 2 else np.nan
    return r


def column_pair_trends(real: pd.DataFrame, synthetic: pd.DataFrame, sdtypes: dict[str, str],
                       real_correlation_threshold: float = DEFAULT_REAL_CORRELATION_THRESHOLD,
                       real_association_threshold: float = DEFAULT_REAL_ASSOCIATION_THRESHOLD,
                       ) -> tuple[float, list[dict]]:
    """SDMetrics QualityReport "Column Pair Trends" over every column pair, on every row.

    Parameters
    ----------
    real, synthetic : pandas.DataFrame
    sdtypes : dict
        Column -> SDMetrics sdtype (see :func:`column_shapes`).
    real_correlation_threshold, real_association_threshold : float
        The 0.32 QualityReport's contribution rule: a correlation pair counts in the average only
        when ``|r_real| >`` the first, a contingency pair only when the real Cramér's V ``>`` the
        second (defaults 0.5 and 0.3); 0 counts every pair with a score.

    Returns
    -------
    score : float
        In [0, 1], higher is better: the mean score of the contributing pairs (NaN if none).
    details : list of dict
        Per pair, in ``itertools.combinations`` order: ``column_1``, ``column_2``, ``metric``
        (``CorrelationSimilarity`` or ``ContingencySimilarity``), ``score`` (the metric with no
        threshold), ``real_correlation``, ``synthetic_correlation`` (Pearson, correlation pairs),
        ``real_association`` (Cramér's V of the real table, contingency pairs), ``contributes``
        and ``error`` (why the score is NaN, else None).

    Notes
    -----
    Source: ``sdmetrics.reports.single_table._properties.ColumnPairTrends`` (sdmetrics 0.32.0)
    with ``num_rows_subsample=None``. Numeric/datetime columns are binned per side on that side's
    own range (:func:`report_bins`) for contingency pairs, as the report does.
    """
    types = _sdtypes(real.columns, sdtypes)
    cols = list(types)
    cont = [c for c in cols if types[c] in CONTINUOUS]
    num_r = {c: as_numbers(real[c]) for c in cont}
    num_s = {c: as_numbers(synthetic[c]) for c in cont}
    codes: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for c in cols:
        if c in num_r:
            codes[c] = (report_bins(num_r[c]).astype(np.int64), report_bins(num_s[c]).astype(np.int64))
        else:
            codes[c] = _discrete_codes(real[c], synthetic[c])
    corr_r = corr_s = None
    if len(cont) >= 2:
        corr_r = pairwise_pearson(np.column_stack([num_r[c] for c in cont]))
        corr_s = pairwise_pearson(np.column_stack([num_s[c] for c in cont]))
    const = {c: _constant(num_r[c]) or _constant(num_s[c]) for c in cont}
    pos = {c: i for i, c in enumerate(cont)}
    details = []
    for a, b in itertools.combinations(cols, 2):
        row = {"column_1": a, "column_2": b, "real_correlation": float("nan"),
               "synthetic_correlation": float("nan"), "real_association": float("nan"), "error": None}
        if a in pos and b in pos:
            row["metric"] = "CorrelationSimilarity"
            if const[a] or const[b]:
                row["score"], row["contributes"] = float("nan"), False
                row["error"] = "ConstantInputError"
            else:
                rr, rs = float(corr_r[pos[a], pos[b]]), float(corr_s[pos[a], pos[b]])
                row["real_correlation"], row["synthetic_correlation"] = rr, rs
                row["score"] = 1.0 - abs(rr - rs) / 2.0 if not (math.isnan(rr) or math.isnan(rs)) else float("nan")
                row["contributes"] = (not math.isnan(row["score"]) and
                                      (real_correlation_threshold <= 0 or abs(rr) > real_correlation_threshold))
        else:
            row["metric"] = "ContingencySimilarity"
            real_t, syn_t = _contingency_tables(codes[a][0], codes[a][1], codes[b][0], codes[b][1])
            row["score"] = _contingency_score(real_t, syn_t)
            if real_association_threshold > 0:
                v = cramers_v(real_t)
                row["real_association"] = v
                row["contributes"] = not math.isnan(v) and v > real_association_threshold
            else:
                row["contributes"] = not math.isnan(row["score"])
        details.append(row)
    score = _nanmean([d["score"] for d in details if d["contributes"]])
    return score, details


def quality_score(shapes: float, trends: float) -> float:
    """SDMetrics' overall QualityReport score: the mean of the property scores, NaN skipped."""
    return _nanmean([shapes, trends])


def sdtypes_from_roles(roles: dict[str, str], columns) -> dict[str, str]:
    """SDMetrics sdtypes of synthproof feature roles (numeric -> numerical; others by name)."""
    return {c: _ROLE_TO_SDTYPE[roles[c]] for c in columns if roles.get(c) in _ROLE_TO_SDTYPE}
