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
