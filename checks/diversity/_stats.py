"""Pure statistics of the diversity family."""

from __future__ import annotations

import numpy as np



def prdc(real: np.ndarray, fake: np.ndarray, k: int = 5) -> dict[str, float]:
    """Precision, recall, density and coverage of ``fake`` against ``real`` with k-NN balls.

    Parameters
    ----------
    real : ndarray of shape (n, d)
    fake : ndarray of shape (m, d)
        Feature matrices on one standardised scale (Euclidean distance).
    k : int, default 5
        Neighbour rank defining each point's ball radius (distance to its k-th nearest
        neighbour within its own set, itself excluded). Needs ``n, m > k``.

    Returns
    -------
    dict with

    * ``precision``: share of fake points inside some real ball (fidelity), [0, 1];
    * ``recall``: share of real points inside some fake ball (diversity), [0, 1];
    * ``density``: mean number of real balls holding a fake point, divided by ``k``; [0, n/k],
      about 1 when fake ~ real;
    * ``coverage``: share of real points whose own ball holds a fake point, [0, 1].

    Larger is better for all four. A point counts as inside a ball when its distance is ``<=``
    the radius, so identical sets give precision = recall = coverage = 1.

    References
    ----------
    Kynkäänniemi et al. (2019), "Improved precision and recall metric for assessing generative
    models", NeurIPS; Naeem et al. (2020), "Reliable fidelity and diversity metrics for generative
    models", ICML (the ``prdc`` reference implementation, which uses ``<``).
    """
    real = np.asarray(real, dtype=float)
    fake = np.asarray(fake, dtype=float)
    if real.shape[0] <= k or fake.shape[0] <= k:
        raise ValueError(f"PRDC needs more than k={k} points per set (got {real.shape[0]} and {fake.shape[0]})")
    if real.shape[1] != fake.shape[1]:
        raise ValueError("real and fake must have the same number of features")
    from sklearn.metrics import pairwise_distances

    return prdc_from_distances(knn_radius(real, k), knn_radius(fake, k), pairwise_distances(real, fake), k)


def knn_radius(x: np.ndarray, k: int) -> np.ndarray:
    """Distance of each row of ``x`` (n, d) to its k-th nearest other row, shape (n,)."""
    from sklearn.metrics import pairwise_distances

    return np.partition(pairwise_distances(x, x), k, axis=1)[:, k]  # self (0) is the 0-th smallest


def prdc_from_distances(r_real: np.ndarray, r_fake: np.ndarray, d_rf: np.ndarray, k: int) -> dict[str, float]:
    """:func:`prdc` from the ball radii (n,), (m,) and the real-fake distance matrix (n, m)."""
    tol = 1e-9
    inside_real = d_rf <= r_real[:, None] + tol  # fake j inside real ball i
    inside_fake = d_rf <= r_fake[None, :] + tol  # real i inside fake ball j
    return {
        "precision": float(inside_real.any(axis=0).mean()),
        "recall": float(inside_fake.any(axis=1).mean()),
        "density": float(inside_real.sum(axis=0).mean() / k),
        "coverage": float((d_rf.min(axis=1) <= r_real + tol).mean()),
    }


def tail_bins(reference_counts: np.ndarray, low: float = 0.01, high: float = 0.99) -> np.ndarray:
    """Which ordered bins lie strictly beyond the reference's ``low``/``high`` quantiles.

    Parameters
    ----------
    reference_counts : ndarray of shape (..., k)
        Counts over ordered bins (missing excluded).

    Returns
    -------
    ndarray of bool, shape (..., k): bins lying wholly within the lowest ``low`` or the highest
    ``1 - high`` of the reference mass (a bin straddling the quantile is not a tail bin).
    """
    c = np.asarray(reference_counts, dtype=float)
    n = np.maximum(c.sum(axis=-1, keepdims=True), 1)
    cum = np.cumsum(c, axis=-1) / n
    below = cum <= low + 1e-12  # every value in the bin lies in the lowest ``low`` of the mass
    above = (cum - c / n) >= high  # every value in the bin lies above the high quantile
    return below | above


def tail_retention(reference_counts: np.ndarray, compared_counts: np.ndarray, low: float = 0.01,
                   high: float = 0.99) -> np.ndarray:
    """Tail retention: the compared sample's mass beyond the reference's ``low``/``high`` quantiles,
    divided by the reference's own mass there.

    Parameters
    ----------
    reference_counts, compared_counts : ndarray of shape (..., k)
        Counts over the same ordered bins (missing excluded).

    Returns
    -------
    ndarray of shape (...): 1.0 is faithful, 0 means the tails are gone (clipping, mode
    collapse), above 1 heavier tails. For a continuous column the reference's tail mass is
    ``low + 1 - high`` (0.02 by default), so this is "mass beyond the 1st/99th percentiles ÷ 0.02";
    dividing by the reference's own tail mass keeps 1.0 faithful for columns with ties. NaN where
    the reference has no tail mass.
    """
    tails = tail_bins(reference_counts, low, high)
    r = np.asarray(reference_counts, dtype=float)
    q = np.asarray(compared_counts, dtype=float)
    t_r = (r * tails).sum(-1) / np.maximum(r.sum(-1), 1)
    t_q = (q * tails).sum(-1) / np.maximum(q.sum(-1), 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(t_r > 0, t_q / np.where(t_r > 0, t_r, 1.0), np.nan)
