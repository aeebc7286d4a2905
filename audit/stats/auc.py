"""ROC AUC by ranks and its exact label-permutation null (classifier two-sample tests, DCR).

Used by ``drift.detection_auc``, ``drift.text_detection_auc``, ``duplication.dcr`` and
``duplication.text_memorisation``. Lopez-Paz & Oquab (2017), "Revisiting classifier two-sample
tests", ICLR; Mann & Whitney (1947).
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def rankdata(x: np.ndarray) -> np.ndarray:
    """Average ranks (1-based, ties share their mean rank), as ``scipy.stats.rankdata``."""
    return pd.Series(x).rank(method="average").to_numpy()


def rank_auc(scores: np.ndarray, labels: np.ndarray) -> float:
    """ROC AUC of ``scores`` for ``labels`` (1 = positive) via the Mann–Whitney rank sum; ties count 1/2.

    Equals ``sklearn.metrics.roc_auc_score(labels, scores)``.
    """
    ranks = rankdata(scores)
    n1 = int(labels.sum())
    n0 = labels.size - n1
    return float((ranks[labels == 1].sum() - n1 * (n1 + 1) / 2.0) / (n1 * n0))


def permutation_auc_null(scores: np.ndarray, labels: np.ndarray, folds: np.ndarray, n_perm: int,
                         rng: np.random.Generator) -> np.ndarray:
    """AUCs of ``scores`` under ``n_perm`` label permutations within each fold, shape (n_perm,).

    Parameters
    ----------
    scores : ndarray of shape (n,)
    labels : ndarray of {0, 1}, shape (n,)
    folds : ndarray of int, shape (n,)
    """
    ranks = rankdata(scores)
    n1 = int(labels.sum())
    n0 = labels.size - n1
    total = np.zeros(n_perm)
    for f in np.unique(folds):
        idx = np.nonzero(folds == f)[0]
        lab = np.broadcast_to(labels[idx], (n_perm, idx.size))
        perm = rng.permuted(lab, axis=1)
        total += perm @ ranks[idx]
    return (total - n1 * (n1 + 1) / 2.0) / (n1 * n0)
