"""α-precision, β-recall and authenticity (Alaa, van Breugel, Saveliev & van der Schaar, "How
Faithful is your Synthetic Data? Sample-level Metrics for Evaluating and Auditing Generative
Models", ICML 2022), in the feature space of :func:`synthproof.stats.features.distance_features`
(standardised numbers, one-hot categories) — the paper's metrics without its learned one-class
embedding, as synthcity reports them under ``*.naive``. Euclidean distances by scikit-learn's
brute-force search (BLAS), as the duplication checks compute them; every function is pure and
deterministic on one machine (equidistant neighbours are ordered as that search orders them).

* **α-precision curve** ``P(α)``: the share of synthetic rows inside the real α-support, the
  ball around the real mean holding a share α of the real rows (radius = the α-quantile of the
  real rows' distances to their mean); faithful data give ``P(α) = α``.
* **β-recall curve** ``R(β)``: the share of real rows whose nearest synthetic row is nearer to them
  than their nearest other real row is, and lies inside the synthetic β-support (the ball around
  the synthetic mean holding a share β of those nearest synthetic rows).
* **Δ-precision**, **Δ-recall** = ``1 - Σ|α - P(α)| / Σ α`` over ``n_alphas`` evenly spaced α in
  [0, 1] (synthcity's area form); range (-inf, 1], 1 = faithful; larger is better.
* **Authenticity**: a synthetic row is *unauthentic* when it lies nearer to its nearest real row
  than that real row's own nearest other real row (a copy, or a near copy, of it); the paper's
  definition (synthcity indexes the real rows' distances by the synthetic row's neighbour index
  into the wrong array). Reported as the unauthentic share, range [0, 1], larger is worse.
"""

from __future__ import annotations

import numpy as np


def _knn(reference: np.ndarray, query: np.ndarray, k: int, exclude_self: bool = False):
    """Distances and indices of each query row's ``k`` nearest reference rows (scikit-learn brute force)."""
    from sklearn.neighbors import NearestNeighbors

    kk = min(k + int(exclude_self), reference.shape[0])
    d, i = NearestNeighbors(n_neighbors=kk, algorithm="brute").fit(reference).kneighbors(query)
    if exclude_self:
        d, i = d[:, 1:], i[:, 1:]
    return np.where(d < 1e-9, 0.0, d), i


def real_nn_distances(real: np.ndarray) -> np.ndarray:
    """Each real row's distance to its nearest OTHER real row; shape ``(n,)``."""
    return _knn(real, real, 1, exclude_self=True)[0][:, 0]


def unauthentic(real: np.ndarray, syn: np.ndarray, real_nn: np.ndarray | None = None) -> np.ndarray:
    """Boolean per synthetic row: nearer to its nearest real row ``r`` than ``r``'s nearest other
    real row (``real_nn``, default :func:`real_nn_distances`). Shapes ``(n, d)``, ``(m, d)`` -> ``(m,)``."""
    real_nn = real_nn_distances(real) if real_nn is None else real_nn
    d, i = _knn(real, syn, 1)
    return d[:, 0] < real_nn[i[:, 0]]


def alphas(n_alphas: int = 30) -> np.ndarray:
    """The α grid: ``n_alphas`` evenly spaced values in [0, 1] (synthcity's 30)."""
    return np.linspace(0.0, 1.0, n_alphas)


def precision_curve(real: np.ndarray, syn: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """``P(α)`` for each α of ``grid`` (see the module docstring)."""
    center = real.mean(axis=0)
    radii = np.quantile(np.linalg.norm(real - center, axis=1), grid)
    return (np.linalg.norm(syn - center, axis=1)[None, :] <= radii[:, None]).mean(axis=1)


def recall_curve(real: np.ndarray, syn: np.ndarray, grid: np.ndarray, real_nn: np.ndarray | None = None) -> np.ndarray:
    """``R(β)`` for each β of ``grid`` (see the module docstring)."""
    real_nn = real_nn_distances(real) if real_nn is None else real_nn
    d, i = _knn(syn, real, 1)
    return _recall(d[:, 0], syn[i[:, 0]], syn.mean(axis=0), real_nn, grid)


def _recall(d_rs: np.ndarray, closest: np.ndarray, syn_center: np.ndarray, real_nn: np.ndarray,
            grid: np.ndarray) -> np.ndarray:
    to_center = np.linalg.norm(closest - syn_center, axis=1)
    radii = np.quantile(to_center, grid)
    covered = d_rs <= real_nn
    return (covered[None, :] & (to_center[None, :] <= radii[:, None])).mean(axis=1)


def delta(curve: np.ndarray, grid: np.ndarray) -> float:
    """``1 - Σ|α - curve(α)| / Σ α``: Δ-precision or Δ-recall, 1 = faithful."""
    return float(1.0 - np.abs(grid - curve).sum() / grid.sum())


def relabelled_deltas(real: np.ndarray, pooled: np.ndarray, m: int, n_permutations: int, rng: np.random.Generator,
                      grid: np.ndarray, k: int = 32) -> tuple[np.ndarray, np.ndarray]:
    """Δ-precision and Δ-recall of ``m`` rows drawn at random from ``pooled`` (the compared real
    part and the synthetic rows together) against ``real``, ``n_permutations`` times: their null
    when both parts come from one distribution. Each real row's nearest row of a random part is
    the first of its ``k`` nearest pooled rows in that part (all ``k`` fall outside with chance
    ``2**-k`` at equal halves; then the ``k``-th is used)."""
    real_nn = real_nn_distances(real)
    center = real.mean(axis=0)
    radii = np.quantile(np.linalg.norm(real - center, axis=1), grid)
    to_real_center = np.linalg.norm(pooled - center, axis=1)
    d, idx = _knn(pooled, real, k)
    dp, dr = np.empty(n_permutations), np.empty(n_permutations)
    for r in range(n_permutations):
        member = np.zeros(len(pooled), dtype=bool)
        member[rng.choice(len(pooled), m, replace=False)] = True
        inside = member[idx]
        first = np.where(inside.any(axis=1), inside.argmax(axis=1), k - 1)
        rows = np.arange(len(real))
        part = pooled[member]
        dp[r] = delta((to_real_center[member][None, :] <= radii[:, None]).mean(axis=1), grid)
        dr[r] = delta(_recall(d[rows, first], pooled[idx[rows, first]], part.mean(axis=0), real_nn, grid), grid)
    return dp, dr


def _first_in(member: np.ndarray, idx: np.ndarray, want: np.ndarray) -> np.ndarray:
    """Per row of ``idx`` (neighbour lists, nearest first), the column of the first neighbour whose
    ``member`` equals ``want`` (the row's half); the last column when none does."""
    hit = member[idx] == want[:, None]
    return np.where(hit.any(axis=1), hit.argmax(axis=1), idx.shape[1] - 1)


def unauthentic_relabelled(pooled: np.ndarray, n_train: int, syn: np.ndarray, n_permutations: int,
                           rng: np.random.Generator, k: int = 32) -> tuple[int, int, np.ndarray, np.ndarray]:
    """Unauthentic synthetic rows against the training rows and, as the control, against as many
    holdout rows; with both counts when the pooled rows (training first, ``n_train`` of them, then
    the holdout) are split at random into two halves, ``n_permutations`` times — exact when the
    generator depends on no particular training row (the two reference sets are exchangeable).
    Neighbours within a half are the first of each row's ``k`` nearest pooled rows in that half
    (all ``k`` fall in the other half with chance ``2**-k``; then the ``k``-th is used).

    Returns
    -------
    (training count, control count, null training counts, null control counts); int and int64
    arrays of shape ``(n_permutations,)``.
    """
    dpp, ipp = _knn(pooled, pooled, k, exclude_self=True)
    dsp, isp = _knn(pooled, syn, k)
    rows_p, rows_s = np.arange(len(pooled)), np.arange(len(syn))

    def counts(member: np.ndarray) -> tuple[int, int]:
        own = dpp[rows_p, _first_in(member, ipp, member)]  # each pooled row's NN distance within its half
        out = []
        for half in (True, False):
            want = np.full(len(syn), half)
            j = _first_in(member, isp, want)
            out.append(int((dsp[rows_s, j] < own[isp[rows_s, j]]).sum()))
        return out[0], out[1]
    member = np.zeros(len(pooled), dtype=bool)
    member[:n_train] = True
    a, c = counts(member)
    null_t, null_c = np.empty(n_permutations, dtype=np.int64), np.empty(n_permutations, dtype=np.int64)
    for r in range(n_permutations):
        null_t[r], null_c[r] = counts(rng.permutation(member))
    return a, c, null_t, null_c
