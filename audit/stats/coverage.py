"""Category coverage of a compared sample against a reference, from counts (diversity, lineage)."""

from __future__ import annotations

import numpy as np


def missing_mass(reference_counts: np.ndarray, compared_counts: np.ndarray) -> np.ndarray:
    """Share of the reference's mass in categories absent from the compared sample.

    Shapes (..., k) -> (...); range [0, 1]; 0 is full coverage. ``1 - missing_mass`` is the
    category mass coverage; compare SDMetrics ``CategoryCoverage`` (share of categories, not mass).
    """
    r = np.asarray(reference_counts, dtype=float)
    q = np.asarray(compared_counts, dtype=float)
    return (r * (q == 0)).sum(-1) / np.maximum(r.sum(-1), 1)


def category_coverage(reference_counts: np.ndarray, compared_counts: np.ndarray) -> np.ndarray:
    """Share of the reference's categories (count > 0) present in the compared sample; SDMetrics
    ``CategoryCoverage``. Shapes (..., k) -> (...), range [0, 1], 1 is full coverage."""
    r = np.asarray(reference_counts) > 0
    q = np.asarray(compared_counts) > 0
    return (r & q).sum(-1) / np.maximum(r.sum(-1), 1)
