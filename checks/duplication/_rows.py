"""Row statistics of the duplication family: nearest-neighbour distances and the real copy rate.

The row representations it shares with other families are in :mod:`synthproof.stats.hashing`
(canonical row hashes), :mod:`synthproof.stats.features` (distance features) and
:mod:`synthproof.stats.duplicates` (duplicate-row rates).
"""

from __future__ import annotations

import numpy as np


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


def leave_one_out_copy_rate(real_hashes: np.ndarray) -> float:
    """Share of real rows whose canonical form occurs again among the other real rows, shape (n,)
    -> float in [0, 1].

    This estimates, without any split, the probability that a new row from the real distribution
    copies one of ``n - 1`` real rows: the real/real copy rate an independent synthetic sample of
    any size would show against the real table (each synthetic row matches it independently).
    """
    from synthproof.stats.rowhashes import SideHashes, repeated_rows

    h = np.asarray(real_hashes)
    return float(repeated_rows(SideHashes.of(h)) / h.size) if h.size else 0.0
