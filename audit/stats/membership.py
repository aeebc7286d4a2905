"""Membership inference from the distance to the closest synthetic record (the DCR attack).

An attacker holding the synthetic data scores a candidate record by how close its nearest
synthetic record is: a generator that memorised its training records puts synthetic records
closer to them than to records it never saw. Scored on training members (label 1) and on holdout
non-members (label 0), the attack is summarised as MIA papers report it (Carlini et al.,
"Membership Inference Attacks From First Principles", IEEE S&P 2022): the ROC AUC with its null
(0.5: no better than chance; one-sided Mann–Whitney U test, scipy) and the true-positive rate at
low false-positive rates (1%, 0.1%), where a useful attack lives. The distance is the Gower-style
one of :mod:`synthproof.stats.privacy`, so the same encoding serves every privacy attack.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import mannwhitneyu

from .privacy import Encoded, gower_distances


def closest_distances(records: Encoded, syn: Encoded, chunk: int = 512) -> np.ndarray:
    """Distance of each record to its closest synthetic record; shape ``(len(records),)``, float64,
    in [0, number of columns]."""
    out = np.empty(len(records))
    for s in range(0, len(records), chunk):
        out[s:s + chunk] = gower_distances(records.take(slice(s, s + chunk)), syn).min(axis=1)
    return out


def membership_scores(members: Encoded, non_members: Encoded, syn: Encoded) -> tuple[np.ndarray, np.ndarray]:
    """The DCR attack's scores (``-`` distance to the closest synthetic record: larger = more likely
    a member) and labels (1 member, 0 non-member), members first."""
    scores = -np.concatenate([closest_distances(members, syn), closest_distances(non_members, syn)])
    labels = np.concatenate([np.ones(len(members), dtype=np.int64), np.zeros(len(non_members), dtype=np.int64)])
    return scores, labels


def membership_auc(scores: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    """ROC AUC of ``scores`` for ``labels`` (ties count one half) and the one-sided p-value of
    "members score higher" (Mann–Whitney U, scipy's ``mannwhitneyu``, asymptotic with tie
    correction). AUC range [0, 1], 0.5 = chance; larger is worse for privacy.

    Raises
    ------
    ValueError
        When either label is absent.
    """
    pos, neg = scores[labels == 1], scores[labels == 0]
    if not len(pos) or not len(neg):
        raise ValueError("membership AUC needs members and non-members")
    res = mannwhitneyu(pos, neg, alternative="greater", method="asymptotic")
    return float(res.statistic) / (len(pos) * len(neg)), float(res.pvalue)


def tpr_at_fpr(scores: np.ndarray, labels: np.ndarray, fpr: float) -> float:
    """The highest true-positive rate among thresholds on ``scores`` whose false-positive rate is at
    most ``fpr``: a point of the ROC curve (a threshold admits every record scoring at or above it,
    so tied scores enter together; no interpolation), as read off scikit-learn's ``roc_curve``.
    Range [0, 1]; with fewer than ``1/fpr`` non-members only thresholds above every non-member
    qualify."""
    pos, neg = np.sort(scores[labels == 1]), np.sort(scores[labels == 0])
    if not len(pos):
        return 0.0
    t = np.append(np.unique(scores), np.inf)
    fp = (len(neg) - np.searchsorted(neg, t, side="left")) / max(len(neg), 1)
    tp = (len(pos) - np.searchsorted(pos, t, side="left")) / len(pos)
    return float(tp[fp <= fpr + 1e-12].max())
