"""Generation lineage and model-collapse tracking: ``synthproof lineage GEN0 GEN1 ... GENk``.

GEN0 is the real data; GEN1..GENk are the data made by successive generators (each trained on the
previous generations' output, alone or mixed with real data). Each generation is measured against GEN0
and against the sampling noise of GEN0 itself at the generation's size (``n_boot`` bootstrap resamples
of GEN0, the real/real noise of this setting):

* **tail retention** (family diversity; 1 = as real, lower = tails lost): per numeric column the mass
  beyond GEN0's 1st/99th percentiles divided by GEN0's own (the tabular ``diversity.tail_retention``
  definition); per categorical column the share of GEN0's rare-category mass (categories under 1% of
  rows) still present; per text column the share of GEN0's rare word-bigram types (seen at most twice)
  still present. Each divided by its mean over the bootstrap resamples, then averaged over columns.
* **diversity** (family diversity; 1 = as real): per numeric column the standard deviation ÷ GEN0's
  (spread, the Gaussian collapse of Shumailov et al.); per categorical column the share of GEN0's
  categories present (SDMetrics CategoryCoverage); per text column distinct-2 at equal token counts;
  each divided by its bootstrap mean, averaged.
* **drift** (family drift; reported, not gated): mean KS statistic over numeric columns, total
  variation distance over categorical ones, Jensen–Shannon distance of word frequencies for text.
* **real share** of each generation's training mix (from an ``is_synthetic`` column, the sidecar field
  ``real_share``, or ``--real-share``), gated only when ``real_share_floor`` is set.

Verdicts (the gate's ``alpha``, Bonferroni over generations and metrics): a generation fails a metric
when the value lies below the bootstrap null (one-sided normal test on the null's mean and standard
deviation) *and* below ``1 - min_effect``; a metric's trend fails when the Mann–Kendall test (Kendall's
tau of value against generation index, one-sided, ``scipy.stats.kendalltau``) finds a decline over
GEN0..GENg and GENg itself fails its level test. The first generation with a failure is reported.

References: Shumailov et al. (2024), "AI models collapse when trained on recursively generated data",
Nature 631; Gerstgrasser et al. (2024), "Is model collapse inevitable? Breaking the curse of recursion
by accumulating real and synthetic data", arXiv:2404.01413; Mann (1945), Kendall (1975).
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from synthproof.findings import Finding
from synthproof.sampling import sample_rows
from synthproof.schema import TEXT_MIN_MEDIAN_WORDS
from synthproof.stats.coverage import category_coverage, missing_mass
from synthproof.stats.distances import js_distance_from_counts, ks_statistic, total_variation_distance
from synthproof.text import distinct_n, take_tokens, words

VERSION = "1"
GATED = ("tail_retention", "diversity")


@dataclass
class LineageConfig:
    """Settings of a lineage run (defaults in brackets): ``alpha`` [0.05] gate level; ``min_effect`` [0.2]
    smallest drop (1 - value) worth failing; ``n_boot`` [40] bootstrap resamples of GEN0 per generation;
    ``real_share_floor`` [None] fail a generation whose training mix holds less real data; ``seed`` [0];
    ``max_rows`` [50,000] rows per generation (seeded sample)."""

    alpha: float = 0.05
    min_effect: float = 0.2
    n_boot: int = 40
    real_share_floor: float | None = None
    seed: int = 0
    max_rows: int = 50_000


@dataclass
class Generation:
    name: str
    frame: pd.DataFrame
    real_share: float | None = None


def column_kinds(frame: pd.DataFrame) -> dict[str, str]:
    """``numeric``, ``categorical`` or ``text`` per column of GEN0 (ids and flags left out)."""
    out = {}
    for c in frame.columns:
        s = frame[c].dropna()
        if c in ("is_synthetic",) or s.empty:
            continue
        if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
            out[c] = "numeric" if s.nunique() > 20 else "categorical"
        elif s.astype(str).head(2000).str.split().str.len().median() >= TEXT_MIN_MEDIAN_WORDS:
            out[c] = "text"
        elif s.nunique() <= max(50, 0.5 * len(s)):
            out[c] = "categorical"
    return out


# ---------------------------------------------------------------- per-column statistics (pure)

def numeric_tail(ref: np.ndarray, x: np.ndarray) -> float:
    """Tail retention of a numeric sample: mass of ``x`` beyond ``ref``'s 1st/99th percentiles ÷ ``ref``'s
    own mass there (the ``diversity.tail_retention`` definition on raw samples).

    Parameters
    ----------
    ref, x : ndarray of shape (n,) and (m,), finite floats

    Returns
    -------
    float >= 0 (unitless ratio); 1 = tails as in ``ref``, lower = tails lost, above 1 heavier tails;
    NaN when ``ref`` has no mass beyond its percentiles or ``x`` is empty.

    References
    ----------
    Shumailov et al. (2024), Nature 631 (tails vanish first under recursive training).
    """
    lo, hi = np.quantile(ref, [0.01, 0.99])
    t_ref = np.mean((ref < lo) | (ref > hi))
    return float(np.mean((x < lo) | (x > hi)) / t_ref) if t_ref > 0 and x.size else float("nan")


def _aligned_counts(ref: pd.Series, x: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Counts of ``ref``'s categories in ``ref`` and in ``x`` (same order; categories only in ``x`` dropped)."""
    cr = ref.value_counts()
    return cr.to_numpy(float), x.value_counts().reindex(cr.index, fill_value=0).to_numpy(float)


def rare_category_coverage(ref: pd.Series, x: pd.Series, rare: float = 0.01) -> float:
    """Share of ``ref``'s rare-category mass present in ``x``.

    Parameters
    ----------
    ref, x : pandas.Series of categories (compared as values)
    rare : float in (0, 1], default 0.01
        A category of ``ref`` is rare below this share of its rows.

    Returns
    -------
    float in [0, 1]; 1 = every rare category still occurs, 0 = all gone; NaN when ``ref`` has no rare
    category. Equals ``1 - missing_mass`` (diversity family) over the rare categories.
    """
    cr, cx = _aligned_counts(ref, x)
    keep = cr / max(cr.sum(), 1) < rare
    return float(1 - missing_mass(cr[keep], cx[keep])) if keep.any() else float("nan")


def _bigrams(docs: list[list[str]]) -> list[set]:
    return [set(zip(d, d[1:])) for d in docs]


def rare_bigram_coverage(rare: set, x_bigrams: list[set]) -> float:
    """Share of the rare word-bigram types ``rare`` (of GEN0) present in a corpus.

    Parameters
    ----------
    rare : set of (str, str)
    x_bigrams : list of set of (str, str)
        The bigram types of each document of the corpus.

    Returns
    -------
    float in [0, 1]; 1 = all still present, lower = rare n-grams lost (the text form of tail loss);
    NaN when ``rare`` is empty.
    """
    if not rare:
        return float("nan")
    seen = set().union(*x_bigrams) if x_bigrams else set()
    return len(rare & seen) / len(rare)


def distinct2(docs: list[list[str]], budget: int) -> float:
    """distinct-2 over the first ``budget`` tokens of ``docs`` (equal-size comparison):
    :func:`synthproof.text.distinct_n` of :func:`synthproof.text.take_tokens`."""
    return distinct_n(take_tokens(docs, np.arange(len(docs)), budget), 2)


def mann_kendall(values: list[float]) -> tuple[float, float]:
    """Mann–Kendall trend test for a decline: Kendall's tau of ``values`` against their index.

    Parameters
    ----------
    values : list of float, one per generation (NaN entries are left out)

    Returns
    -------
    (tau, p) : tau in [-1, 1] (-1 = strictly decreasing), one-sided p-value for a decline
    (``scipy.stats.kendalltau(alternative="less")``, exact for small samples); both NaN below 3 points.

    References
    ----------
    Mann (1945), "Nonparametric tests against trend", Econometrica 13; Kendall (1975), Rank
    Correlation Methods.
    """
    v = np.asarray(values, dtype=float)
    ok = ~np.isnan(v)
    if ok.sum() < 3:
        return float("nan"), float("nan")
    res = stats.kendalltau(np.arange(v.size)[ok], v[ok], alternative="less")
    return float(res.statistic), float(res.pvalue)


# ---------------------------------------------------------------- measuring one generation

class _Measure:
    """Raw metric values of a sample against GEN0 (the same code measures GEN0's resamples, the null,
    and the generations)."""

    def __init__(self, gen0: pd.DataFrame, kinds: dict[str, str]):
        self.gen0, self.kinds = gen0, kinds
        self.cols0 = self.columns_of(gen0)  # GEN0 tokenised once

    def columns_of(self, frame: pd.DataFrame) -> dict:
        """Per-column arrays/tokens of a frame (computed once per generation)."""
        out = {}
        for c, k in self.kinds.items():
            if c not in frame.columns:
                continue
            if k == "numeric":
                out[c] = pd.to_numeric(frame[c], errors="coerce").to_numpy(float)
            elif k == "categorical":
                out[c] = frame[c].astype(str).to_numpy(object)
            else:
                out[c] = [words(str(t)) for t in frame[c].fillna("")]
        return out

    def reference(self, rows: np.ndarray) -> dict:
        """What GEN0 (its ``rows``) contributes: values, categories, rare bigrams, word counts."""
        ref = {}
        for c, k in self.kinds.items():
            if k == "numeric":
                a = pd.to_numeric(self.gen0[c].iloc[rows], errors="coerce").dropna().to_numpy(float)
                ref[c] = a
            elif k == "categorical":
                ref[c] = self.gen0[c].iloc[rows].astype(str)
            else:
                docs = [self.cols0[c][i] for i in rows]
                counts = Counter(g for d in docs for g in zip(d, d[1:]))
                ref[c] = (docs, {g for g, n in counts.items() if n <= 2}, Counter(w for d in docs for w in d))
        return ref

    def measure(self, ref: dict, cols: dict, rows: np.ndarray) -> dict:
        """``{"tail_retention": {col: v}, "diversity": {...}, "drift": {...}}`` of ``cols[...][rows]``."""
        out = {"tail_retention": {}, "diversity": {}, "drift": {}}
        for c, k in self.kinds.items():
            if c not in cols:
                continue
            if k == "numeric":
                a, b = ref[c], cols[c][rows]
                b = b[~np.isnan(b)]
                if a.size and b.size:
                    out["tail_retention"][c] = numeric_tail(a, b)
                    sd = float(np.std(a))
                    out["diversity"][c] = float(np.std(b)) / sd if sd > 0 else float("nan")
                    out["drift"][c] = ks_statistic(a, b)
            elif k == "categorical":
                ra, rb = ref[c], pd.Series(cols[c][rows])
                out["tail_retention"][c] = rare_category_coverage(ra, rb)
                out["diversity"][c] = float(category_coverage(*_aligned_counts(ra, rb)))
                out["drift"][c] = total_variation_distance(ra.to_numpy(), rb.to_numpy())
            else:
                ref_docs, rare, fa = ref[c]
                docs = [cols[c][i] for i in rows]
                out["tail_retention"][c] = rare_bigram_coverage(rare, _bigrams(docs))
                budget = min(sum(map(len, docs)), sum(map(len, ref_docs)))
                out["diversity"][c] = distinct2(docs, budget)
                fb = Counter(w for d in docs for w in d)
                vocab = list(fa.keys() | fb.keys())
                out["drift"][c] = float(js_distance_from_counts(np.array([fa[w] for w in vocab], float),
                                                                np.array([fb[w] for w in vocab], float)))
        return out


@dataclass
class LineageResult:
    """Per-generation values, verdicts and findings of a lineage run."""

    names: list[str]
    table: pd.DataFrame  # generation, name, metric, value, null_mean, null_sd, p_value, status
    trends: dict[str, dict] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    first_failing: int | None = None
    config: LineageConfig = field(default_factory=LineageConfig)

    @property
    def passed(self) -> bool:
        return self.first_failing is None


def run_lineage(generations: list[Generation], config: LineageConfig | None = None,
                progress=None) -> LineageResult:
    """Measure every generation against GEN0 and judge tails, diversity, their trends and the real share.

    Parameters
    ----------
    generations : list of Generation
        GEN0 (real) first; at least 2.
    config : LineageConfig, optional
    progress : callable, optional
        Wraps the iterable of generations (e.g. ``tqdm``).

    Returns
    -------
    LineageResult

    Raises
    ------
    ValueError
        Fewer than two generations, or GEN0 with no column to measure.
    """
    cfg = config or LineageConfig()
    if len(generations) < 2:
        raise ValueError("lineage needs GEN0 (the real data) and at least one later generation")
    rng = np.random.default_rng(cfg.seed)
    gens = [Generation(g.name, _cap(g.frame, cfg.max_rows, cfg.seed, f"generation{i}"), g.real_share)
            for i, g in enumerate(generations)]
    kinds = column_kinds(gens[0].frame)
    if not kinds:
        raise ValueError(f"{gens[0].name}: no numeric, categorical or text column to measure")
    gen0 = gens[0].frame.reset_index(drop=True)
    m = _Measure(gen0, kinds)
    k = len(gens) - 1
    level_alpha = cfg.alpha / (len(GATED) * k + len(GATED))  # levels and trends share the budget
    ref = m.reference(np.arange(len(gen0)))
    cols0 = m.cols0
    rows, nulls = [], {}
    steps = range(len(gens))
    for g in (progress(steps) if progress is not None else steps):
        gen = gens[g]
        size = len(gen.frame)
        if size not in nulls:  # GEN0's sampling noise: bootstrap resamples of GEN0 at the generation's size
            nulls[size] = [m.measure(ref, cols0, rng.integers(0, len(gen0), size))
                           for _ in range(cfg.n_boot)]
        null = nulls[size]
        obs = null if g == 0 else [m.measure(ref, m.columns_of(gen.frame), np.arange(size))]
        for metric in ("tail_retention", "diversity", "drift"):
            norm_obs, norm_null = _normalise(metric, [o[metric] for o in obs], [b[metric] for b in null])
            if norm_obs is None:
                continue
            mu, sd = float(np.mean(norm_null)), float(np.std(norm_null, ddof=1))
            value = 1.0 if g == 0 and metric in GATED else norm_obs
            p = float(stats.norm.cdf((value - mu) / sd)) if sd > 0 else float(value < mu)
            rows.append({"generation": g, "name": gen.name, "metric": metric, "value": value, "null_mean": mu,
                         "null_sd": sd, "p_value": p if g else float("nan"),
                         "columns": {c: _r(float(_nanmean([o[metric].get(c, np.nan) for o in obs])))
                                     for c in obs[0][metric]}})
        rows.append({"generation": g, "name": gen.name, "metric": "real_share",
                     "value": float("nan") if gen.real_share is None else gen.real_share, "null_mean": float("nan"),
                     "null_sd": float("nan"), "p_value": float("nan"), "columns": {}})
    table = pd.DataFrame(rows)
    table["status"] = "pass"
    trends = {}
    for metric in GATED:
        sub = table[table.metric == metric].sort_values("generation")
        for i, r in sub.iterrows():
            if r.generation and r.p_value <= level_alpha and r.value <= 1 - cfg.min_effect:
                table.loc[i, "status"] = "fail"
        vals = sub.value.tolist()
        tau, p = mann_kendall(vals)
        trend_first = None
        for g in range(3, len(vals) + 1):
            _, pg = mann_kendall(vals[:g])
            if pg <= level_alpha and (table.loc[sub.index[g - 1], "status"] == "fail"):
                trend_first = g - 1
                break
        trends[metric] = {"tau": tau, "p_value": p, "first_failing": trend_first,
                          "status": "fail" if trend_first is not None else "pass"}
    if cfg.real_share_floor is not None:
        rs = table.metric == "real_share"
        bad = rs & (table.generation > 0) & (table.value < cfg.real_share_floor)
        table.loc[bad, "status"] = "fail"
    table.loc[table.metric == "drift", "status"] = "pass"  # reported, not gated
    fails = table[table.status == "fail"].generation.tolist()
    fails += [t["first_failing"] for t in trends.values() if t["first_failing"] is not None]
    first = min(fails) if fails else None
    res = LineageResult([g.name for g in gens], table, trends, [], first, cfg)
    res.findings = _findings(res, level_alpha)
    return res


def _nanmean(values) -> float:
    """Mean of the non-NaN values; NaN (no warning) when there is none."""
    a = np.asarray(list(values), dtype=float)
    a = a[~np.isnan(a)]
    return float(a.mean()) if a.size else float("nan")


def _r(v: float) -> float | None:
    return None if v is None or (isinstance(v, float) and math.isnan(v)) else round(float(v), 6)


def _normalise(metric: str, obs: list[dict], null: list[dict]):
    """(value, null distribution) averaged over columns. Tails and diversity: the generation's value divided
    by the mean over GEN0's resamples, per column; each resample divided the same way. Drift: raw means."""
    cols = [c for c in null[0] if not all(math.isnan(b.get(c, np.nan)) for b in null)
            and not all(math.isnan(o.get(c, np.nan)) for o in obs)]
    if not cols:
        return None, None
    mean = lambda rows, c: float(_nanmean([r.get(c, np.nan) for r in rows]))  # noqa: E731
    if metric == "drift":
        return (float(np.mean([mean(obs, c) for c in cols])),
                [float(_nanmean([b.get(c, np.nan) for c in cols])) for b in null])
    base = {c: mean(null, c) for c in cols}
    cols = [c for c in cols if base[c] > 0]
    if not cols:
        return None, None
    return (float(np.mean([mean(obs, c) / base[c] for c in cols])),
            [float(_nanmean([b.get(c, np.nan) / base[c] for c in cols])) for b in null])


def _cap(frame: pd.DataFrame, cap: int, seed: int, name: str) -> pd.DataFrame:
    """At most ``cap`` rows: a bottom-k sample keyed by row id (:mod:`synthproof.sampling`)."""
    if len(frame) <= cap:
        return frame.reset_index(drop=True)
    return frame.iloc[sample_rows(len(frame), cap, seed, name, "lineage")].reset_index(drop=True)


def _findings(res: LineageResult, level_alpha: float) -> list[Finding]:
    fam = {"tail_retention": "diversity", "diversity": "diversity", "drift": "drift", "real_share": "provenance"}
    out = []
    for r in res.table.itertuples():
        if r.generation == 0 or (r.metric == "real_share" and math.isnan(r.value)):
            continue
        lo = r.null_mean - 2 * r.null_sd if not math.isnan(r.null_sd) else None
        out.append(Finding(
            check_id=f"lineage.{r.metric}", check_version=VERSION, family=fam[r.metric], severity="fail",
            scope="dataset", subgroup=f"generation {r.generation}: {r.name}", metric=r.metric,
            value=float(r.value), baseline_value=None if math.isnan(r.null_mean) else float(r.null_mean),
            threshold=(1 - res.config.min_effect) if r.metric in GATED else res.config.real_share_floor,
            ci_low=lo, p_value=None if math.isnan(r.p_value) else float(r.p_value), status=r.status,
            goal="minimize" if r.metric == "drift" else "maximize",
            unit="ratio to real" if r.metric in GATED else ("share" if r.metric == "real_share" else "statistic"),
            message=_message(r, res.config, level_alpha)))
    for metric, t in res.trends.items():
        out.append(Finding(
            check_id="lineage.trend", check_version=VERSION, family="diversity", severity="fail", scope="dataset",
            column=None, subgroup=metric, metric="kendall_tau", value=_r(t["tau"]),
            p_value=_r(t["p_value"]), status=t["status"], goal="maximize", unit="tau",
            message=(f"{metric}: Mann–Kendall tau {t['tau']:.2f} over {len(res.names)} generations "
                     f"(one-sided p {t['p_value']:.3g}); "
                     + (f"a significant decline reaching a failing level by generation {t['first_failing']}."
                        if t["status"] == "fail" else "no significant decline to a failing level."))))
    return out


def _message(r, cfg: LineageConfig, level_alpha: float) -> str:
    if r.metric == "real_share":
        floor = "" if cfg.real_share_floor is None else f" (floor {cfg.real_share_floor:g})"
        return f"generation {r.generation}: the training mix is {r.value:.1%} real data{floor}."
    if r.metric == "drift":
        return (f"generation {r.generation}: drift from GEN0 {r.value:.3f} (real resamples: "
                f"{r.null_mean:.3f} ± {r.null_sd:.3f}); reported, not gated.")
    verdict = ("fails: below the real resamples (p ≤ {:.2g}) and below {:.2f}".format(level_alpha, 1 - cfg.min_effect)
               if r.status == "fail" else "passes")
    return (f"generation {r.generation}: {r.metric.replace('_', ' ')} {r.value:.3f} of real (real resamples at "
            f"the same size: {r.null_mean:.3f} ± {r.null_sd:.3f}); {verdict}.")


# ---------------------------------------------------------------- files in, files out

def load_generations(sources: list, real_shares: list[float | None] | None = None) -> tuple[list[Generation], list]:
    """Read GEN0..GENk (paths, DataFrames or Arrow tables) as the audit reads its inputs.

    The real share of a generation's training mix comes, in order, from ``real_shares``, a constant
    ``real_share`` column (dropped from the measured columns), an ``is_synthetic`` column (1 - its
    share of true flags, when every flag is readable), or the sidecar field ``real_share``; else it
    is unknown (not judged).
    """
    import os

    from synthproof.io import load
    from synthproof.provenance.sidecar import SidecarError, default_sidecar_path, load_sidecar
    from synthproof.provenance.tags import parse_flag

    gens, inputs = [], []
    for i, src in enumerate(sources):
        name = f"GEN{i}"
        table, fp = load(src, name)
        frame = table.to_pandas()
        share = real_shares[i] if real_shares is not None and i < len(real_shares) else None
        if "real_share" in frame.columns:
            if share is None:
                share = float(pd.to_numeric(frame["real_share"], errors="coerce").mean())
            frame = frame.drop(columns=["real_share"])
        if share is None and "is_synthetic" in frame.columns:
            flags = np.array([parse_flag(v) for v in frame["is_synthetic"].tolist()])
            share = float(1 - (flags == 1).mean()) if (flags >= 0).all() else None
        if share is None and isinstance(src, (str, os.PathLike)) and os.path.exists(default_sidecar_path(src)):
            try:
                v = load_sidecar(default_sidecar_path(src)).fields.get("real_share")
                share = float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None
            except SidecarError:
                share = None
        label = os.path.basename(str(src).rstrip("/\\")) if isinstance(src, (str, os.PathLike)) else name
        gens.append(Generation(label, frame, None if i == 0 else share))
        inputs.append({"name": name, "source": fp.source, "rows": fp.rows, "content_hash": fp.content_hash})
    return gens, inputs


def write_lineage(result: LineageResult, inputs: list[dict], out_dir) -> None:
    """Write ``lineage.parquet`` (the findings schema), ``lineage.html`` and ``summary.json``."""
    import json
    import pathlib

    import pyarrow.parquet as pq
    from synthproof.findings import findings_to_table
    from synthproof.reports.lineage import render_lineage

    out = pathlib.Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    pq.write_table(findings_to_table(result.findings), out / "lineage.parquet", compression="zstd")
    (out / "lineage.html").write_text(render_lineage(result, inputs), encoding="utf-8")
    t = result.table.drop(columns=["columns"])
    summary = {"passed": result.passed, "verdict": "pass" if result.passed else "fail",
               "first_failing_generation": result.first_failing, "inputs": inputs,
               "trends": result.trends, "config": result.config.__dict__,
               "generations": json.loads(t.to_json(orient="records"))}
    (out / "summary.json").write_text(json.dumps(summary, indent=2, sort_keys=True, default=str) + "\n",
                                      encoding="utf-8")
