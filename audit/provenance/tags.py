"""Reading provenance tag values: missing tags, ``is_synthetic`` flags and timestamps.

Used by the provenance checks (``synthproof.checks.provenance``) and by ``synthproof lineage`` (the
real share of a generation from its ``is_synthetic`` flags).
"""

from __future__ import annotations

import datetime as _dt
import math

import numpy as np
import pandas as pd

_TRUE = frozenset({"true", "t", "yes", "y", "1"})
_FALSE = frozenset({"false", "f", "no", "n", "0"})


def is_missing_tag(v) -> bool:
    """None, NaN, NA, NaT or a blank string (an empty tag is a missing tag)."""
    if v is None or v is pd.NA or v is pd.NaT:
        return True
    if isinstance(v, (float, np.floating)) and math.isnan(v):
        return True
    return isinstance(v, str) and not v.strip()


def parse_flag(v) -> int:
    """Read an ``is_synthetic`` value: 1 (true), 0 (false), -1 (unreadable), -2 (missing).

    Booleans; the numbers 1 and 0; the strings true/false, t/f, yes/no, y/n, 1/0 (any case, spaces
    stripped).
    """
    if is_missing_tag(v):
        return -2
    if isinstance(v, (bool, np.bool_)):
        return int(bool(v))
    if isinstance(v, (int, float, np.integer, np.floating)):
        return int(v) if v in (0, 1) else -1
    if isinstance(v, str):
        s = v.strip().lower()
        return 1 if s in _TRUE else 0 if s in _FALSE else -1
    return -1


def _utc_micros(values: np.ndarray, fmt: str | None) -> np.ndarray:
    """``pandas.to_datetime(values, utc=True, errors="coerce")`` as naive-UTC ``datetime64[us]``."""
    kw = {"format": fmt} if fmt else {}
    parsed = pd.to_datetime(pd.Series(values, dtype=object), utc=True, errors="coerce", **kw)
    if not isinstance(parsed.dtype, pd.DatetimeTZDtype):  # every value unreadable
        return np.full(len(values), np.datetime64("NaT", "us"))
    return parsed.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy(dtype="datetime64[us]", copy=True)


def parse_timestamp_index(values: list) -> pd.DatetimeIndex:
    """Vectorised :func:`parse_timestamps`: a UTC ``DatetimeIndex``, ``NaT`` where not a timestamp."""
    n = len(values)
    arr = np.empty(n, dtype=object)
    arr[:] = values
    out = np.full(n, np.datetime64("NaT", "us"))  # microseconds: years 2999 and 1000 fit
    is_str = np.fromiter((isinstance(v, str) for v in values), dtype=bool, count=n)
    is_dt = np.fromiter((isinstance(v, (pd.Timestamp, np.datetime64, _dt.date)) for v in values), dtype=bool, count=n)
    for mask, fmt in ((is_str, "ISO8601"), (is_dt, None)):
        if not mask.any():
            continue
        vals = arr[mask]
        got = _utc_micros(vals, fmt)
        if fmt is not None and np.isnat(got).any():  # not ISO-8601: any format pandas recognises
            miss = np.isnat(got)
            got[miss] = _utc_micros(vals[miss], "mixed")
        out[mask] = got
    return pd.DatetimeIndex(out).tz_localize("UTC")


def parse_timestamps(values: list) -> list:
    """UTC ``pandas.Timestamp`` per value, ``None`` when it is not a timestamp.

    Strings are read by ``pandas.to_datetime(..., utc=True)`` (ISO-8601 first, then any format
    pandas recognises); naive times are taken as UTC; datetime objects are used as they are;
    numbers and booleans are not timestamps (an epoch offset carries no unit).
    """
    return [None if pd.isna(t) else t for t in parse_timestamp_index(values)]
