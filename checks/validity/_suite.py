"""Pure statistics of the derived expectation suite: real/real calibration of GX tolerances.

Everything here is numpy in, numbers out (no Great Expectations import), so that the calibration
can be tested on its own and the export command can run without the data of a synthetic side.

Three kinds of statistical expectation are calibrated on ``R`` seeded real/real splits:

* **rates** (``expect_column_values_to_be_between`` on the real ``q``/``1-q`` quantiles,
  ``expect_column_values_to_be_in_set`` on the real categories, ``expect_column_values_to_not_be_null``):
  the unexpected fraction of a comparison part of ``m`` rows against bounds or a domain taken from
  the disjoint reference part (the other ``n - m`` rows). Its null is a binomial rate with the mean
  real/real rate ``p0`` (floored at half an event over all splits, as
  :class:`synthproof.calibration.RateNull`) and, for over-dispersed rates (a domain learnt from a
  finite reference varies from split to split), a Gamma fitted to the split rates by moments; the
  p-value is the larger of the two.
* **extremes** (``expect_column_max_to_be_between`` / ``min``): how far the comparison part's
  maximum lies beyond the reference part's maximum, in units of the real upper half-range
  ``max - median`` (lower: ``median - min``), on balanced halves. Under exchangeability the
  probability that the maximum of ``n_test`` new rows exceeds that of ``n_ref`` real rows is exactly
  ``n_test / (n_test + n_ref)`` (continuous case; ties make it smaller, so the bound is
  conservative); the size of the excess, given that it is positive, is fitted by a Gamma (moments)
  on the positive split values. This is what lets 2 far-out rows in 200 fail: a quantile-rate test
  cannot tell them from the ~2% of real rows that fall outside a 100-row reference range.

Each tolerance is set at a Bonferroni level ``alpha / K`` over the ``K`` statistical expectations
of the suite, and raised to at least ``median + min_effect``: so ``fail`` is exactly "GX's success
flag is false", and the exported suite gives the same verdict in a team's own GX pipeline.

References: Great Expectations 1.x expectation gallery (``mostly`` semantics: success iff
``(n - unexpected) / n >= mostly`` over non-missing values); Holm (1979) / Bonferroni for the
family-wise level; Good (1953) for why unseen-category rates need calibration at the reference size.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

from synthproof.calibration import fit_null

__all__ = [
    "RateRule", "ExtremeRule", "quantile_bounds", "half_ranges", "outside_count", "unseen_count",
    "calibrate", "rate_rule", "extreme_rule", "tail_fit",
]


def quantile_bounds(x: np.ndarray, q: float) -> tuple[float, float]:
    """Real ``q`` and ``1 - q`` quantiles of the non-missing values.

    Parameters
    ----------
    x : ndarray of float, shape (n,)
        Values (NaN = missing).
    q : float
        Lower tail share, in (0, 0.5).

    Returns
    -------
    (lo, hi) : floats, ``lo <= hi`` (NaN, NaN when no value is present). Linear interpolation
    (numpy's default), the same as pandas ``quantile``.
    """
    v = x[~np.isnan(x)]
    if v.size == 0:
        return float("nan"), float("nan")
    lo, hi = np.quantile(v, [q, 1.0 - q])
    return float(lo), float(hi)


def half_ranges(x: np.ndarray) -> tuple[float, float]:
    """Scales of the lower and upper tails: ``median - min`` and ``max - median``.

    A zero half-range (more than half the values at the extreme) falls back to ``max - min``, and
    a constant column to ``max(|max|, 1)``, so the scale is always positive.

    Returns
    -------
    (lower, upper) : positive floats, in the column's unit.
    """
    v = x[~np.isnan(x)]
    if v.size == 0:
        return 1.0, 1.0
    lo, med, hi = float(v.min()), float(np.median(v)), float(v.max())
    fallback = hi - lo if hi > lo else max(abs(hi), abs(lo), 1.0)
    return (med - lo if med > lo else fallback), (hi - med if hi > med else fallback)


def outside_count(x: np.ndarray, lo: float, hi: float) -> tuple[int, int]:
    """Non-missing values strictly outside ``[lo, hi]`` (GX's inclusive ``between``).

    Returns
    -------
    (unexpected, non_missing) : ints.
    """
    v = x[~np.isnan(x)]
    return int(np.count_nonzero((v < lo) | (v > hi))), int(v.size)


def unseen_count(codes: np.ndarray, known: np.ndarray) -> tuple[int, int]:
    """Non-missing category codes (``-1`` = missing) whose ``known`` flag is false.

    Returns
    -------
    (unexpected, non_missing) : ints.
    """
    c = codes[codes >= 0]
    return int(np.count_nonzero(~known[c])), int(c.size)


@dataclass(frozen=True)
class Calibration:
    """Real/real statistics per expectation key, from :func:`calibrate`.

    Attributes
    ----------
    baselines : dict of str to ndarray of shape (R,)
        ``"<col>:range"``, ``"<col>:domain"``, ``"<col>:null"`` rates in [0, 1];
        ``"<col>:max"``, ``"<col>:min"`` excesses in half-range units, ``>= 0``.
    trials : dict of str to float
        Mean number of values the rate was taken over (non-missing rows; all rows for ``null``).
    m : int
        Comparison-part size of the rate splits.
    half : int
        Size of each balanced half of the extreme splits.
    """

    baselines: dict[str, np.ndarray]
    trials: dict[str, float]
    m: int
    half: int


def calibrate(numeric: dict[str, np.ndarray], categorical: dict[str, np.ndarray], m: int, n_splits: int,
              rng: np.random.Generator, q: float) -> Calibration:
    """Real/real splits of one pool of real rows for every expectation of the derived suite.

    Parameters
    ----------
    numeric : dict of str to ndarray of float, shape (n,)
        Numeric/datetime columns of the pool (NaN = missing).
    categorical : dict of str to ndarray of int, shape (n,)
        Category codes in ``[0, K)`` of the pool, ``-1`` = missing.
    m : int
        Comparison-part size (``min(n_test, n // 2)``, see
        :func:`synthproof.encode.comparison_size`); the reference part is the other ``n - m`` rows.
    n_splits : int
        ``R``.
    rng : numpy.random.Generator
    q : float
        Quantile of the range expectation (bounds at ``q`` and ``1 - q``).

    Returns
    -------
    Calibration
        Split ``r`` uses one permutation of the pool for every column: rows ``[:m]`` compared
        against ``[m:]`` for the rates, and ``[:h]`` against ``[h:2h]`` (``h = n // 2``) for the
        extremes, whose scale is the pool's half-range (:func:`half_ranges`).
    """
    n = len(next(iter({**numeric, **categorical}.values())))
    h = n // 2
    base: dict[str, list[float]] = {}
    trials: dict[str, list[float]] = {}
    scales = {c: half_ranges(x) for c, x in numeric.items()}
    nulls = {c: np.isnan(x) for c, x in numeric.items()}
    nulls.update({c: codes < 0 for c, codes in categorical.items()})
    sizes = {c: int(codes.max()) + 1 if codes.size and codes.max() >= 0 else 0 for c, codes in categorical.items()}
    totals = {c: np.bincount(codes[codes >= 0], minlength=sizes[c]) for c, codes in categorical.items()}

    def add(key: str, value: float, n_values: float) -> None:
        base.setdefault(key, []).append(value)
        trials.setdefault(key, []).append(n_values)

    for _ in range(n_splits):
        perm = rng.permutation(n)
        b, a = perm[:m], perm[m:]
        ha, hb = perm[:h], perm[h:2 * h]
        for col, x in numeric.items():
            lo, hi = quantile_bounds(x[a], q)
            k, nn = outside_count(x[b], lo, hi) if np.isfinite(lo) else (0, 0)
            add(f"{col}:range", k / nn if nn else 0.0, nn)
            xa, xb = x[ha], x[hb]
            xa, xb = xa[~np.isnan(xa)], xb[~np.isnan(xb)]
            s_lo, s_hi = scales[col]
            if xa.size and xb.size:
                add(f"{col}:max", max(float(xb.max() - xa.max()) / s_hi, 0.0), xb.size)
                add(f"{col}:min", max(float(xa.min() - xb.min()) / s_lo, 0.0), xb.size)
        for col, codes in categorical.items():
            cb = codes[b]
            cnt_b = np.bincount(cb[cb >= 0], minlength=sizes[col])
            known = (totals[col] - cnt_b) > 0
            k, nn = unseen_count(cb, known)
            add(f"{col}:domain", k / nn if nn else 0.0, nn)
        for col, miss in nulls.items():
            add(f"{col}:null", float(np.count_nonzero(miss[b])) / max(m, 1), m)
    return Calibration({k: np.asarray(v, dtype=float) for k, v in base.items()},
                       {k: float(np.mean(v)) for k, v in trials.items()}, m, h)


@dataclass(frozen=True)
class RateRule:
    """A calibrated tolerance for an unexpected fraction.

    Attributes
    ----------
    tolerance : float
        Fail iff the observed fraction is ``> tolerance``; GX ``mostly = 1 - tolerance``.
    median : float
        Median real/real fraction.
    p0 : float
        Binomial null rate (mean real/real rate, floored at ``0.5 / (R m)``).
    mde : float
        Smallest excess over ``median`` that can be significant at this size.
    level : float
        The Bonferroni level the tolerance was set at.
    """

    tolerance: float
    median: float
    p0: float
    mde: float
    level: float
    ci_low: float
    ci_high: float
    _gamma: object = None

    _real: tuple = ()

    def p_value(self, unexpected: int, n: int) -> float:
        """``max(P(Binomial(n, p0) >= k), P(Gamma >= k / n), P(BetaBinomial >= k))`` for ``k`` unexpected
        of ``n`` (the beta-binomial term only when the real counts were given)."""
        if n <= 0 or unexpected <= 0:
            return 1.0
        p = float(special.bdtrc(unexpected - 1, n, self.p0))
        if self._gamma is not None:
            p = max(p, float(self._gamma.sf(unexpected / n)))
        if self._real:
            p = max(p, float(_betabinom_sf(n, *self._real)[unexpected - 1]))
        return float(np.clip(p, 0.0, 1.0))


def _betabinom_sf(n: int, k_real: int, n_real: int) -> np.ndarray:
    """``P(X >= k)`` for ``k = 1..n``, ``X`` beta-binomial: ``n`` new draws whose rate has the Jeffreys
    posterior ``Beta(k_real + 1/2, n_real - k_real + 1/2)`` of ``k_real`` events in ``n_real`` real rows —
    the predictive null of a rate that is itself estimated from one real sample."""
    a, b = k_real + 0.5, n_real - k_real + 0.5
    k = np.arange(n + 1)
    logpmf = (special.gammaln(n + 1) - special.gammaln(k + 1) - special.gammaln(n - k + 1)
              + special.betaln(k + a, n - k + b) - special.betaln(a, b))
    pmf = np.exp(logpmf - logpmf.max())
    pmf /= pmf.sum()
    sf = np.cumsum(pmf[::-1])[::-1]  # sf[k] = P(X >= k)
    return np.minimum(sf[1:], 1.0)


def _first_k(n: int, p0: float, level: float, real: tuple = ()) -> int:
    """Smallest count ``k`` whose binomial (and beta-binomial) tail ``P(X >= k)`` is ``<= level``."""
    k = np.arange(1, n + 1)
    sf = special.bdtrc(k - 1, n, p0)
    if real:
        sf = np.maximum(sf, _betabinom_sf(n, *real))
    ok = np.nonzero(sf <= level)[0]
    return int(k[ok[0]]) if ok.size else n + 1


def rate_rule(baseline: np.ndarray, m_cal: float, n_test: int, level: float, min_effect: float,
              real_counts: tuple[int, int] | None = None) -> RateRule:
    """The tolerance of an unexpected fraction at ``n_test`` values.

    Parameters
    ----------
    baseline : ndarray of shape (R,)
        Real/real fractions in [0, 1].
    m_cal : float
        Values per comparison part in the splits (sets the floor of ``p0``).
    n_test : int
        Values the synthetic fraction will be taken over.
    level : float
        Per-expectation level (Bonferroni share of ``alpha``), in (0, 1).
    min_effect : float
        Minimum excess fraction over the real/real median worth failing, ``>= 0``.
    real_counts : (int, int), optional
        ``(events, rows)`` of the rate in the whole real pool: adds the beta-binomial predictive null
        (for null fractions: real/real splits of a sample without a missing value never see one,
        though the population has them).

    Returns
    -------
    RateRule
        ``tolerance = max((k* - 0.5) / n_test, Gamma.ppf(1 - level), median + min_effect)`` where
        ``k*`` is the smallest significant binomial count: half-way between counts, so that float
        rounding never decides. Clipped to [0, 1].
    """
    b = np.asarray(baseline, dtype=float)
    r = max(b.size, 1)
    p0 = float(min(max(b.mean() if b.size else 0.0, 0.5 / (r * max(m_cal, 1.0))), 1.0))
    med = float(np.median(b)) if b.size else 0.0
    n_test = max(int(n_test), 1)
    real = tuple(int(v) for v in real_counts) if real_counts else ()
    k_star = _first_k(n_test, p0, level, real)
    stat = (k_star - 0.5) / n_test
    gamma = None
    if b.size >= 2 and np.any(b > 0):
        gamma = fit_null(b, "gamma")
        stat = max(stat, float(gamma.ppf(1.0 - level)))
    tol = float(min(max(stat, med + min_effect), 1.0))
    return RateRule(tolerance=tol, median=med, p0=p0, mde=max(stat - med, 0.0), level=level,
                    ci_low=float(np.quantile(b, 0.025)) if b.size else 0.0,
                    ci_high=float(np.quantile(b, 0.975)) if b.size else 0.0, _gamma=gamma, _real=real)


def tail_fit(x: np.ndarray) -> tuple[float, float, float, float, int]:
    """Generalized Pareto fit to the upper tail of the non-missing values of ``x``.

    The ``k = clip(sqrt(n), 10, 500)`` largest values are taken as exceedances ``y`` over the
    threshold ``u`` (the ``k+1``-th largest); shape and scale by the method of moments
    (Hosking & Wallis 1987): ``xi = (1 - mean^2/var) / 2``, ``sigma = mean (mean^2/var + 1) / 2``, with
    ``xi`` floored at 0 (no finite end point is assumed: conservative for bounded columns). When the
    threshold is positive, Hill's (1975) estimator ``mean(log(x / u))`` (a Pareto tail, ``sigma = xi u``)
    is used instead if it is heavier: the method of moments cannot see ``xi >= 1/2``, and zero-inflated
    money columns (capital gains) have tails that heavy at small n.

    Returns
    -------
    (u, xi, sigma, tail_share, n) : threshold, shape ``>= 0``, scale ``> 0`` (column unit),
    ``k / n`` and ``n`` non-missing values. ``sigma`` is 0 when the top values are all equal.
    """
    v = np.sort(x[~np.isnan(x)])
    n = v.size
    if n < 3:
        return (float(v[-1]) if n else 0.0), 0.0, 0.0, 1.0, n
    k = int(np.clip(np.sqrt(n), 10, 500))
    k = min(k, n - 1)
    u = float(v[n - k - 1])
    y = v[n - k:] - u
    mean, var = float(y.mean()), float(y.var(ddof=1)) if k > 1 else 0.0
    if mean <= 0:
        return u, 0.0, 0.0, k / n, n
    if var <= 0:
        return u, 0.0, mean, k / n, n
    r = mean * mean / var
    xi, sigma = max(0.5 * (1.0 - r), 0.0), 0.5 * mean * (r + 1.0)
    if u > 0:  # positive tail: Hill's estimator too, keeping the heavier of the two (conservative)
        hill = float(np.mean(np.log(v[n - k:] / u)))
        if hill > xi:
            xi, sigma = hill, max(sigma, hill * u)
    return u, xi, sigma, k / n, n


def _gpd_sf(y: float, xi: float, sigma: float) -> float:
    if y <= 0:
        return 1.0
    if sigma <= 0:
        return 0.0
    if xi < 1e-9:
        return float(np.exp(-y / sigma))
    return float((1.0 + xi * y / sigma) ** (-1.0 / xi))


def _gpd_isf(p: float, xi: float, sigma: float) -> float:
    if p >= 1.0:
        return 0.0
    if sigma <= 0:
        return 0.0
    if xi < 1e-9:
        return float(-sigma * np.log(p))
    return float(sigma / xi * (p ** (-xi) - 1.0))


@dataclass(frozen=True)
class ExtremeRule:
    """A calibrated bound on how far the synthetic extreme may lie beyond the real one.

    Two nulls for the excess ``e`` (half-range units) of the maximum of ``n_test`` new values over the
    real maximum, the larger p-value of the two is used:

    * **tail model**: a Generalized Pareto fit to the real upper tail (:func:`tail_fit`), so that
      ``P(one new value > real max + e * scale) = (k/n) * GPD.sf(max + e * scale - u)`` and
      ``P(excess > e) = 1 - (1 - that)^n_test`` — real/real splits cannot see this by themselves:
      a split's maximum never exceeds the pool's, but an independent sample's can;
    * **splits**: ``P(excess > 0) = n_test / (n_test + n_ref)`` (exact under exchangeability,
      continuous case) times a Gamma fitted by moments to the positive real/real split excesses.

    Attributes
    ----------
    tolerance : float
        Fail iff the excess is ``> tolerance``; the GX bound is ``real extreme ± tolerance * scale``.
    mde : float
        Smallest excess that can be significant.
    """

    tolerance: float
    exceed: float
    mde: float
    level: float
    median: float
    ci_low: float
    ci_high: float
    _tail: object = None
    _gpd: tuple = ()
    n_test: int = 0

    def p_value(self, excess: float) -> float:
        """Larger of the tail-model and split p-values for a positive excess; 1 otherwise."""
        if not excess > 0:
            return 1.0
        p = self.exceed * self._tail.sf(excess)
        if self._gpd:
            gap, scale, xi, sigma, share = self._gpd
            q = min(share * _gpd_sf(gap + excess * scale, xi, sigma), 1.0)
            p = max(p, float(-np.expm1(self.n_test * np.log1p(-q))) if q < 1.0 else 1.0)
        return float(np.clip(p, 0.0, 1.0))


class _NoExcess:
    """Real/real never exceeded: any positive excess is beyond the baseline."""

    def sf(self, x: float) -> float:
        return 0.0 if x > 0 else 1.0

    def ppf(self, q: float) -> float:
        return 0.0


def extreme_rule(baseline: np.ndarray, n_test: int, n_ref: int, level: float, min_effect: float,
                 tail: tuple | None = None) -> ExtremeRule:
    """The tolerance of the excess of the synthetic extreme over the real extreme.

    Parameters
    ----------
    baseline : ndarray of shape (R,)
        Real/real excesses (half-range units, ``>= 0``) on balanced halves.
    n_test, n_ref : int
        Non-missing synthetic values validated and real values the bound is taken from.
    level : float
        Per-expectation level, in (0, 1).
    min_effect : float
        Minimum excess (half-range units) worth failing.
    tail : tuple, optional
        ``(gap, scale, xi, sigma, share)``: the real extreme minus the GPD threshold, the half-range,
        and the :func:`tail_fit` shape, scale and tail share (oriented so that larger is further out).

    Returns
    -------
    ExtremeRule
        ``tolerance = max(split threshold, tail-model threshold, min_effect)`` at ``level``.
    """
    b = np.asarray(baseline, dtype=float)
    pos = b[b > 0]
    g = fit_null(pos, "gamma") if pos.size >= 2 else _NoExcess()
    exceed = float(n_test / max(n_test + n_ref, 1))
    stat = float(g.ppf(1.0 - level / exceed)) if level < exceed else 0.0
    if tail:
        gap, scale, xi, sigma, share = tail
        q_star = float(-np.expm1(np.log1p(-level) / max(n_test, 1)))  # per-value exceedance at the level
        y = _gpd_isf(min(q_star / share, 1.0), xi, sigma) if share > 0 else 0.0
        stat = max(stat, (y - gap) / scale)
    tol = max(stat, float(min_effect))
    return ExtremeRule(tolerance=tol, exceed=exceed, mde=stat, level=level,
                       median=float(np.median(b)) if b.size else 0.0,
                       ci_low=float(np.quantile(b, 0.025)) if b.size else 0.0,
                       ci_high=float(np.quantile(b, 0.975)) if b.size else 0.0, _tail=g,
                       _gpd=tuple(tail) if tail else (), n_test=int(n_test))
