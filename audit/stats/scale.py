"""The robust scale that standardises a numeric column (encodings, drift statistics, row distances)."""

from __future__ import annotations

import numpy as np


def robust_scale(x: np.ndarray) -> float:
    """Population SD of ``x``; the IQR if the SD is 0; 1.0 if both are 0 (constant data)."""
    x = np.asarray(x, dtype=float)
    if x.size == 0:
        return 1.0
    sd = float(np.std(x))
    if sd > 0:
        return sd
    q75, q25 = np.quantile(x, [0.75, 0.25])
    return float(q75 - q25) or 1.0
