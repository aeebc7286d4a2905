"""Canonical row hashes: equal rows (after a CSV round trip) get equal 64-bit hashes.

Canonical row form: numeric values rounded to 12 significant digits (so a CSV round trip cannot
hide a copy), ``-0.0 == 0.0``, NaN equal to NaN, categories as canonical strings. A row's hash is
pandas' ``hash_pandas_object`` (SipHash with a fixed key, stable across processes) of that form.
Used by the duplication checks, ``diversity.unique_rows`` and the provenance checks (rows named by
content hash).
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def round_significant(x: np.ndarray, digits: int = 12) -> np.ndarray:
    """Round floats to ``digits`` significant digits; NaN made canonical, ``-0.0`` -> ``0.0``."""
    x = np.asarray(x, dtype=float)
    out = x + 0.0
    ok = np.isfinite(x) & (x != 0) & (np.abs(x) > 1e-250) & (np.abs(x) < 1e250)
    mag = np.floor(np.log10(np.abs(x[ok])))
    scale = 10.0 ** (digits - 1 - mag)
    out[ok] = np.round(x[ok] * scale) / scale
    out = np.where(np.isnan(out), np.nan, out) + 0.0
    return out


def canonical_hashes(df: pd.DataFrame, cols: list[str], roles: dict[str, str]) -> np.ndarray:
    """uint64 hash per row of the canonical form of ``cols``; shape (n_rows,)."""
    if not cols:
        raise ValueError("no column to hash")
    parts = {}
    for c in cols:
        if roles[c] in ("numeric", "datetime"):
            parts[c] = round_significant(df[c].to_numpy(dtype=float)).view(np.int64)
        else:
            # hash_pandas_object hashes a Categorical by its category VALUES, so equal strings get
            # equal hashes whatever the two sides' category sets are.
            cat = pd.Categorical(df[c])
            parts[c] = cat.add_categories(["\x00<NA>"]).fillna("\x00<NA>") if cat.isna().any() else cat
    frame = pd.DataFrame(parts, index=pd.RangeIndex(len(df)))
    return pd.util.hash_pandas_object(frame, index=False).to_numpy()
