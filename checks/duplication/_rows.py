"""Row representations for duplication and memorisation: canonical hashes and distance features.

Canonical row form: numeric values rounded to 12 significant digits (so a CSV round trip cannot
hide a copy), ``-0.0 == 0.0``, NaN equal to NaN, categories as canonical strings. A row's hash is
pandas' ``hash_pandas_object`` (SipHash with a fixed key, stable across processes) of that form.

Distance features: numeric columns standardised by the real mean and robust scale (a missing value
sits at the mean and sets a 0/1 missing indicator), categorical columns one-hot over the 50 most
frequent real categories plus ``<other>`` and missing, scaled by ``1/sqrt(2)`` so that a category
mismatch adds exactly 1 to the squared Euclidean distance — "standardised numeric + categorical
mismatch" as in Gower-style mixed distances.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from synthproof.checks.drift._stats import robust_scale
from synthproof.encode import category_codes

_ONE_HOT_MAX = 50


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


def distance_features(real: pd.DataFrame, others: list[pd.DataFrame], cols: list[str],
                      roles: dict[str, str]) -> list[np.ndarray]:
    """Float64 feature matrices for ``[real] + others`` (see module docstring); list of (n_i, d)."""
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


def nearest(reference: np.ndarray, query: np.ndarray, k: int = 1, exclude_self: bool = False) -> np.ndarray:
    """Euclidean distances from each query row to its ``k`` nearest reference rows, shape (n_query, k).

    With ``exclude_self`` (query is reference) the row itself is skipped. Distances below 1e-9
    are set to exactly 0 so that copies tie. Uses scikit-learn's brute-force (BLAS) search.
    """
    from sklearn.neighbors import NearestNeighbors

    kk = k + 1 if exclude_self else k
    kk = min(kk, reference.shape[0])
    nn = NearestNeighbors(n_neighbors=kk, algorithm="brute", metric="euclidean")
    nn.fit(reference)
    d, _ = nn.kneighbors(query, return_distance=True)
    if exclude_self:
        d = d[:, 1:]
    d = np.where(d < 1e-9, 0.0, d)
    return d


def multiplicities(hashes: np.ndarray) -> np.ndarray:
    """Count of each distinct value of ``hashes`` (n,), shape (n_distinct,), in sorted-value order."""
    return np.unique(np.asarray(hashes), return_counts=True)[1]


def duplicate_row_rate(hashes: np.ndarray) -> float:
    """Duplicate-row rate ``1 - distinct / n`` of a set of row hashes (n,): the share of rows that
    repeat an earlier row. Range [0, 1 - 1/n]; 0 means every row is distinct; larger is worse."""
    h = np.asarray(hashes)
    return 1.0 - np.unique(h).size / h.size if h.size else 0.0


def expected_duplicate_rate(counts: np.ndarray, m: int) -> float:
    """Expected duplicate-row rate of ``m`` rows drawn without replacement from a table whose rows
    occur with the multiplicities ``counts`` (shape (k,), summing to ``n >= m``).

    ``E[distinct] = sum_v 1 - C(n - c_v, m) / C(n, m)`` (the hypergeometric probability that a draw
    misses every copy of ``v``), so the rate is ``1 - E[distinct] / m``: exact, with no random
    split, and equal to the table's own rate ``1 - k / n`` at ``m = n``.

    Raises
    ------
    ValueError
        If ``m`` is not in ``[1, n]``.
    """
    from scipy.special import gammaln

    c = np.asarray(counts, dtype=float)
    n = float(c.sum())
    if not 1 <= m <= n:
        raise ValueError(f"m must be in [1, {int(n)}], got {m}")
    miss = np.zeros_like(c)
    ok = n - c >= m  # otherwise every draw of m rows holds a copy of v
    nc = n - c[ok]
    miss[ok] = np.exp(gammaln(nc + 1) - gammaln(nc - m + 1) - gammaln(n + 1) + gammaln(n - m + 1))
    return float(1.0 - (1.0 - miss).sum() / m)


def leave_one_out_copy_rate(real_hashes: np.ndarray) -> float:
    """Share of real rows whose canonical form occurs again among the other real rows, shape (n,)
    -> float in [0, 1].

    This estimates, without any split, the probability that a new row from the real distribution
    copies one of ``n - 1`` real rows: the real/real copy rate an independent synthetic sample of
    any size would show against the real table (each synthetic row matches it independently).
    """
    h = np.asarray(real_hashes)
    if h.size == 0:
        return 0.0
    _, inv, cnt = np.unique(h, return_inverse=True, return_counts=True)
    return float(np.count_nonzero(cnt[inv] > 1) / h.size)
