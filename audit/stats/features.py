"""Distance features of table rows: one float matrix per frame, on the real data's scale.

Numeric columns standardised by the real mean and robust scale (a missing value sits at the mean and
sets a 0/1 missing indicator), categorical columns one-hot over the 50 most frequent real categories
plus ``<other>`` and missing, scaled by ``1/sqrt(2)`` so that a category mismatch adds exactly 1 to
the squared Euclidean distance — "standardised numeric + categorical mismatch" as in Gower-style
mixed distances. Used by the duplication distance checks (near duplicates, DCR) and
``diversity.prdc``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from synthproof.encode import category_codes
from synthproof.stats.scale import robust_scale

_ONE_HOT_MAX = 50


def distance_features(real: pd.DataFrame, others: list[pd.DataFrame], cols: list[str],
                      roles: dict[str, str]) -> list[np.ndarray]:
    """Float64 feature matrices for ``[real] + others`` (see the module docstring); list of (n_i, d)."""
    frames = [real] + others
    blocks: list[list[np.ndarray]] = [[] for _ in frames]
    for c in cols:
        if roles[c] in ("numeric", "datetime"):
            r = real[c].to_numpy(dtype=float)
            fin = r[np.isfinite(r)]
            mu = float(fin.mean()) if fin.size else 0.0
            sd = robust_scale(fin)
            any_missing = any(np.isnan(f[c].to_numpy(dtype=float)).any() for f in frames)
            for b, f in zip(blocks, frames):
                x = f[c].to_numpy(dtype=float)
                miss = np.isnan(x)
                b.append(np.where(miss, 0.0, (x - mu) / sd)[:, None])
                if any_missing:
                    b.append(miss.astype(float)[:, None])
        else:
            _, _, labels = category_codes(real[c].to_numpy(dtype=object), np.empty(0, dtype=object), _ONE_HOT_MAX)
            top = [lab for lab in labels.tolist() if lab != "<other>"]
            k_other, k_missing = len(top), len(top) + 1
            for b, f in zip(blocks, frames):
                s = pd.Series(f[c].to_numpy(dtype=object), dtype=object)
                missing = s.isna().to_numpy()
                codes = pd.Index(top, dtype=object).get_indexer(s.astype(str).to_numpy(dtype=object))
                codes = np.where(missing, k_missing, np.where(codes < 0, k_other, codes))
                onehot = np.zeros((len(s), len(top) + 2))
                onehot[np.arange(len(s)), codes] = 1.0 / np.sqrt(2.0)
                b.append(onehot)
    return [np.hstack(b) if b else np.zeros((len(f), 0)) for b, f in zip(blocks, frames)]
