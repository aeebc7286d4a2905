"""Pure statistics of embedding-space drift: the kernel two-sample test (MMD)."""

from __future__ import annotations

import numpy as np


def median_bandwidth(z: np.ndarray) -> float:
    """Median heuristic: the median Euclidean distance between distinct points of ``z``.

    Parameters
    ----------
    z : ndarray of shape (n, d)
        The pooled sample.

    Returns
    -------
    float > 0 (1.0 when every point is identical).

    References
    ----------
    Gretton, A. et al. (2012) "A kernel two-sample test", JMLR 13:723–773, section 8.
    """
    sq = _sq_dists(z, z)
    iu = np.triu_indices(z.shape[0], k=1)
    med = float(np.sqrt(np.median(sq[iu]))) if iu[0].size else 0.0
    return med if med > 0 else 1.0


def _sq_dists(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    d = (x * x).sum(1)[:, None] + (y * y).sum(1)[None, :] - 2.0 * (x @ y.T)
    return np.maximum(d, 0.0)


def gaussian_kernel(x: np.ndarray, y: np.ndarray, bandwidth: float) -> np.ndarray:
    """``exp(-||x - y||^2 / (2 bandwidth^2))``, shape (len(x), len(y)); equals scikit-learn's
    ``rbf_kernel(x, y, gamma=1 / (2 bandwidth^2))``."""
    return np.exp(-_sq_dists(x, y) / (2.0 * bandwidth * bandwidth))


def mmd2(x: np.ndarray, y: np.ndarray, bandwidth: float) -> float:
    """Squared maximum mean discrepancy (biased V-statistic) with a Gaussian kernel.

    Parameters
    ----------
    x : ndarray of shape (n, d)
    y : ndarray of shape (m, d)
    bandwidth : float > 0

    Returns
    -------
    float in [0, 2]: ``mean k(x, x') + mean k(y, y') - 2 mean k(x, y)``; 0 for identical samples,
    larger is more different.

    References
    ----------
    Gretton, A. et al. (2012) "A kernel two-sample test", JMLR 13:723–773, eq. (5).
    """
    return float(gaussian_kernel(x, x, bandwidth).mean() + gaussian_kernel(y, y, bandwidth).mean()
                 - 2.0 * gaussian_kernel(x, y, bandwidth).mean())


def mmd2_permutation_test(x: np.ndarray, y: np.ndarray, n_permutations: int, rng: np.random.Generator,
                          bandwidth: float | None = None, chunk: int = 256) -> tuple[float, np.ndarray, float]:
    """MMD² with its permutation null, all permutations as matrix products.

    With the pooled kernel matrix ``K`` (N x N) and a label-weight vector ``w`` (``1/n`` on x,
    ``-1/m`` on y), ``MMD² = wᵀ K w``; a permutation permutes ``w``. For a block of permutations
    ``W`` (N x B), the statistics are the column sums of ``W ∘ (K W)``: one matrix product per block.

    Parameters
    ----------
    x : ndarray of shape (n, d)
    y : ndarray of shape (m, d)
    n_permutations : int
        ``P``; the p-value ``(1 + #{null >= observed}) / (P + 1)`` is at least ``1 / (P + 1)``.
    rng : numpy.random.Generator
    bandwidth : float, optional
        Default: :func:`median_bandwidth` of the pooled sample.
    chunk : int, default 256
        Permutations per matrix product (bounds memory at ``N * chunk`` floats).

    Returns
    -------
    observed : float
        MMD² (biased), as :func:`mmd2`.
    null : ndarray of shape (P,)
        MMD² under label permutations.
    bandwidth : float
    """
    z = np.vstack([np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)])
    n, m = len(x), len(y)
    if bandwidth is None:
        bandwidth = median_bandwidth(z)
    k = gaussian_kernel(z, z, bandwidth)
    w = np.concatenate([np.full(n, 1.0 / n), np.full(m, -1.0 / m)])
    observed = float(w @ k @ w)
    null = np.empty(n_permutations)
    for start in range(0, n_permutations, chunk):
        b = min(chunk, n_permutations - start)
        W = np.stack([w[rng.permutation(n + m)] for _ in range(b)], axis=1)
        null[start:start + b] = np.einsum("ij,ij->j", W, k @ W)
    return observed, null, float(bandwidth)
