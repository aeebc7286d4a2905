"""Pure statistics of the bias family (counts in, numbers out; a leading split axis broadcasts)."""

from __future__ import annotations

import numpy as np


def representation_ratio(real_group: np.ndarray, real_total: np.ndarray, syn_group: np.ndarray,
                         syn_total: np.ndarray) -> np.ndarray:
    """Representation ratio of a subgroup: synthetic share / real share.

    Parameters
    ----------
    real_group, real_total, syn_group, syn_total : array-like, broadcastable
        Row counts of the group and of the whole table on each side.

    Returns
    -------
    ndarray of float, range ``[0, inf)``; 1.0 is faithful, below 1 under-representation (0 is
    erasure), above 1 over-representation. NaN where the real share is 0.

    Notes
    -----
    The ratio of shares is the "representation rate" of dataset-bias audits (e.g. Aequitas'
    group size ratio; Jiang et al. 2022, "Generating and evaluating synthetic data for
    fairness"); unitless.
    """
    rs = np.asarray(real_group, dtype=float) / np.maximum(np.asarray(real_total, dtype=float), 1)
    ss = np.asarray(syn_group, dtype=float) / np.maximum(np.asarray(syn_total, dtype=float), 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(rs > 0, ss / np.where(rs > 0, rs, 1.0), np.nan)


def log_ratio_distance(real_group: np.ndarray, real_total: np.ndarray, syn_group: np.ndarray,
                       syn_total: np.ndarray) -> np.ndarray:
    """``|ln representation ratio|`` with half a row added to each count (so that an absent group
    gives a finite, large value): ``|ln(((s + 0.5) / (n_s + 1)) / ((r + 0.5) / (n_r + 1)))|``.

    Symmetric in under- and over-representation; unitless, range ``[0, inf)``, 0 is faithful,
    larger is worse. Broadcasts over a leading split axis.
    """
    rs = (np.asarray(real_group, dtype=float) + 0.5) / (np.asarray(real_total, dtype=float) + 1.0)
    ss = (np.asarray(syn_group, dtype=float) + 0.5) / (np.asarray(syn_total, dtype=float) + 1.0)
    return np.abs(np.log(ss / rs))


def group_rates(table: np.ndarray, min_count: int = 1) -> np.ndarray:
    """Positive rate per group from a (..., G, 2) table of [negative, positive] counts.

    Groups with fewer than ``min_count`` rows get NaN. Returns shape (..., G), range [0, 1].
    """
    t = np.asarray(table, dtype=float)
    n = t.sum(axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(n >= max(min_count, 1), t[..., 1] / np.where(n > 0, n, 1.0), np.nan)


def demographic_parity(rates: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Demographic-parity difference and ratio over groups, ignoring NaN groups.

    Parameters
    ----------
    rates : ndarray of shape (..., G)
        Positive (selection) rate per group in [0, 1]; NaN for groups left out.

    Returns
    -------
    difference : ndarray (...)
        ``max - min`` of the rates, range [0, 1], larger is more disparity.
    ratio : ndarray (...)
        ``min / max`` of the rates, range [0, 1], 1 is parity (1 when every rate is 0).

    Notes
    -----
    Fairlearn's ``demographic_parity_difference`` / ``demographic_parity_ratio`` (between-group
    "difference()"/"ratio()" of ``MetricFrame(selection_rate)``), computed from counts so that a
    leading axis of real/real splits is vectorised. Tested against fairlearn.
    """
    r = np.asarray(rates, dtype=float)
    hi = np.fmax.reduce(r, axis=-1)  # NaN-ignoring, all-NaN -> NaN without a warning
    lo = np.fmin.reduce(r, axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(hi > 0, lo / np.where(hi > 0, hi, 1.0), 1.0)
    return hi - lo, ratio
