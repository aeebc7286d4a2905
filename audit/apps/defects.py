"""Seeded defects to inject into a synthetic table — to prove a gate catches what it should.

Each function takes the synthetic (or real) DataFrame and returns a new one; inputs are never
modified. They are the acceptance defects of the tabular audit and are used by the tests and
``bench/calibrate.py``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def shift_numeric(df: pd.DataFrame, column: str, sd: float = 0.5, reference: pd.DataFrame | None = None) -> pd.DataFrame:
    """Add ``sd`` standard deviations (of ``reference[column]``, default ``df``) to a numeric column."""
    out = df.copy()
    ref = (reference if reference is not None else df)[column].astype(float)
    out[column] = out[column].astype(float) + sd * float(ref.std())
    return out


def drop_category(df: pd.DataFrame, column: str, value) -> pd.DataFrame:
    """Remove every row whose ``column`` equals ``value`` (the table shrinks by that category's rows)."""
    return df[df[column] != value].reset_index(drop=True)


def decorrelate(df: pd.DataFrame, column: str, rng: np.random.Generator) -> pd.DataFrame:
    """Permute one column, destroying its association with every other column (marginal kept)."""
    out = df.copy()
    out[column] = out[column].to_numpy()[rng.permutation(len(out))]
    return out


def copy_real_rows(df: pd.DataFrame, real: pd.DataFrame, share: float, rng: np.random.Generator) -> pd.DataFrame:
    """Replace ``share`` of the synthetic rows by verbatim copies of distinct real rows."""
    out = df.copy().reset_index(drop=True)
    k = int(round(share * len(out)))
    pos = rng.choice(len(out), k, replace=False)
    src = rng.choice(len(real), k, replace=False)
    out.iloc[pos] = real[out.columns].iloc[src].to_numpy()
    return out.astype(df.dtypes.to_dict())


def copy_real_rows_noisy(df: pd.DataFrame, real: pd.DataFrame, share: float, noise: float,
                         rng: np.random.Generator) -> pd.DataFrame:
    """Replace ``share`` of the synthetic rows by copies of distinct real rows whose numeric values
    are jittered by ``noise`` standard deviations of the real column (a memorising generator's
    output as released; numeric columns become float). The privacy family's acceptance defect."""
    numeric = [c for c in df.columns if pd.api.types.is_numeric_dtype(real[c]) and not pd.api.types.is_bool_dtype(real[c])]
    out = df.astype({c: "float64" for c in numeric}).reset_index(drop=True)
    k = int(round(share * len(out)))
    pos = rng.choice(len(out), k, replace=False)
    src = real[out.columns].iloc[rng.choice(len(real), k, replace=False)].reset_index(drop=True)
    for c in out.columns:
        v = src[c].to_numpy()
        if c in numeric:
            v = v.astype(float) + rng.normal(0.0, noise, k) * float(real[c].astype(float).std())
        out.loc[pos, c] = v
    return out


def duplicate_rows(df: pd.DataFrame, share: float, rng: np.random.Generator) -> pd.DataFrame:
    """Replace ``share`` of the rows by exact duplicates of other rows of the same table."""
    out = df.copy().reset_index(drop=True)
    k = int(round(share * len(out)))
    pos = rng.choice(len(out), k, replace=False)
    rest = np.setdiff1d(np.arange(len(out)), pos)
    src = rng.choice(rest, k, replace=True)
    out.iloc[pos] = out.iloc[src].to_numpy()
    return out.astype(df.dtypes.to_dict())


def jittered_mode_collapse(real: pd.DataFrame, n: int, rng: np.random.Generator, keep: float = 0.1,
                           noise: float = 0.01) -> pd.DataFrame:
    """``n`` rows drawn from only ``keep`` of the real rows, numeric columns jittered by ``noise`` SD."""
    base = real.iloc[rng.choice(len(real), max(1, int(keep * len(real))), replace=False)]
    out = base.iloc[rng.choice(len(base), n, replace=True)].reset_index(drop=True).copy()
    for c in out.columns:
        if pd.api.types.is_numeric_dtype(out[c]) and not pd.api.types.is_bool_dtype(out[c]):
            sd = float(real[c].astype(float).std()) or 1.0
            out[c] = out[c].astype(float) + rng.normal(0.0, noise * sd, n)
    return out


def subsample_group(df: pd.DataFrame, column: str, value, keep: float, rng: np.random.Generator) -> pd.DataFrame:
    """Keep only ``keep`` of the rows whose ``column`` equals ``value`` (the group falls to about
    ``keep`` times its share; other rows untouched, the table shrinks)."""
    hit = (df[column] == value).to_numpy()
    drop = hit & (rng.random(len(df)) >= keep)
    return df[~drop].reset_index(drop=True)


def shift_in_group(df: pd.DataFrame, column: str, sd: float, group_column: str, value,
                   reference: pd.DataFrame | None = None) -> pd.DataFrame:
    """Add ``sd`` standard deviations (of ``reference[column]``, default ``df``) to ``column`` only in
    the rows where ``group_column == value``: faithful overall, wrong for one subgroup."""
    out = df.copy()
    ref = (reference if reference is not None else df)[column].astype(float)
    hit = (out[group_column] == value).to_numpy()
    vals = out[column].astype(float).to_numpy().copy()
    vals[hit] += sd * float(ref.std())
    out[column] = vals
    return out


def clip_tails(df: pd.DataFrame, columns: list[str], low: float = 0.05, high: float = 0.95) -> pd.DataFrame:
    """Clip numeric ``columns`` at their own ``low``/``high`` quantiles (tail loss)."""
    out = df.copy()
    for c in columns:
        x = out[c].astype(float)
        out[c] = x.clip(float(x.quantile(low)), float(x.quantile(high)))
    return out


def out_of_domain(df: pd.DataFrame, column: str, share: float, rng: np.random.Generator,
                  value=None) -> pd.DataFrame:
    """Put a value outside the real domain into ``share`` of the rows of ``column``: ``value`` if
    given, else ``10 * max(|x|) + 1`` for numeric columns and ``"<out-of-domain>"`` otherwise."""
    out = df.copy()
    k = max(1, int(round(share * len(out))))
    pos = rng.choice(len(out), k, replace=False)
    if value is None:
        if pd.api.types.is_numeric_dtype(out[column]) and not pd.api.types.is_bool_dtype(out[column]):
            value = 10.0 * float(out[column].abs().max()) + 1.0
            out[column] = out[column].astype(float)
        else:
            value = "<out-of-domain>"
            out[column] = out[column].astype(object)
    vals = out[column].to_numpy().copy()
    vals[pos] = value
    out[column] = vals
    return out


def tag_provenance(df: pd.DataFrame, generator: str = "sdv.GaussianCopulaSynthesizer",
                   version: str = "2.0.0", created_at: str = "2026-01-01T00:00:00Z",
                   source: str = "uci-adult", is_synthetic: bool = True) -> pd.DataFrame:
    """Add the default provenance columns (``generator``, ``generator_version``, ``created_at``,
    ``source_dataset``, ``is_synthetic``) with constant, valid values."""
    out = df.copy()
    out["generator"], out["generator_version"], out["created_at"] = generator, version, created_at
    out["source_dataset"], out["is_synthetic"] = source, is_synthetic
    return out


def drop_tag(df: pd.DataFrame, column: str, share: float, rng: np.random.Generator) -> pd.DataFrame:
    """Blank the provenance column ``column`` (set it to missing) in ``share`` of the rows."""
    out = df.copy()
    k = max(1, int(round(share * len(out))))
    vals = out[column].astype(object).to_numpy().copy()
    vals[rng.choice(len(out), k, replace=False)] = None
    out[column] = vals
    return out


def mix_real(synthetic: pd.DataFrame, real: pd.DataFrame, synthetic_share: float,
             rng: np.random.Generator) -> pd.DataFrame:
    """A mixed table flagged by ``is_synthetic``: all synthetic rows plus enough real rows (sampled
    without replacement) that synthetic rows make up ``synthetic_share`` of the result."""
    n_real = int(round(len(synthetic) * (1 - synthetic_share) / max(synthetic_share, 1e-9)))
    n_real = min(n_real, len(real))
    r = real.iloc[rng.choice(len(real), n_real, replace=False)].copy()
    s = synthetic.copy()
    r["is_synthetic"], s["is_synthetic"] = False, True
    return pd.concat([s, r[s.columns]], ignore_index=True)
