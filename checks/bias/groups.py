"""Sensitive columns and the subgroups they define.

Sensitive columns are declared (``bias.sensitive``) or inferred from the REAL data: by name (sex,
gender, race, ethnicity, age / age band, nationality, country, citizenship, language, religion,
disability, ...) and, for unnamed columns, by values (a column whose categories are sexes or
races). Numeric ages become fixed bands (``<25``, ``25-44``, ``45-64``, ``65+``); other numeric
sensitive columns with more than 20 distinct values are cut at the real quartiles.

A *partition* is one sensitive column or an intersection of up to ``max_depth`` of them; its groups
are the value combinations, coded per row (``-1`` where any of its columns is missing).
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

_NAME = re.compile(
    r"(^|[_\-. ])(sex|gender|race|racial|ethnic|ethnicity|hisp|hispanic|afam|age|age_?cat|age_?band|age_?group|"
    r"nationality|national_origin|country|native_country|country_of_birth|citizen|citizenship|foreign|"
    r"foreign_worker|language|lang|religion|religious|disability|disabled|handicap)($|[_\-. ])",
    re.I,
)
_AGE = re.compile(r"(^|[_\-. ])age($|[_\-. ])|^age_?(cat|band|group)$", re.I)
_SEX_VALUES = {"male", "female", "m", "f", "man", "woman", "men", "women", "non-binary", "nonbinary"}
_RACE_VALUES = {"white", "black", "asian", "caucasian", "african-american", "african american", "hispanic",
                "latino", "native american", "amer-indian-eskimo", "asian-pac-islander", "pacific islander"}
_TEXT_GROUP = re.compile(
    r"(^|[_\-. ])(topic|topics|subject|language|lang|locale|template|prompt_?id|prompt_?template|persona|"
    r"category|domain|genre|source|task|style|register)($|[_\-. ])", re.I)
AGE_EDGES = (25.0, 45.0, 65.0)
AGE_LABELS = ("<25", "25-44", "45-64", "65+")
MAX_CATEGORIES = 50


@dataclass(frozen=True)
class Sensitive:
    """A sensitive column and why it is one (``declared``, ``name`` or ``values``)."""

    column: str
    how: str


def _categories(series: pd.Series) -> set[str]:
    vals = series.dropna()
    if isinstance(series.dtype, pd.CategoricalDtype):
        return {str(c).strip().lower() for c in series.cat.categories}
    return {str(v).strip().lower() for v in vals.unique()[:200]}


def infer_sensitive(real: pd.DataFrame, roles: dict[str, str]) -> list[Sensitive]:
    """Sensitive columns of a prepared real frame, inferred from names and values.

    Parameters
    ----------
    real : pandas.DataFrame
        The prepared real data (categorical columns as ``category`` dtype).
    roles : dict
        Column -> role; only categorical/boolean columns (and numeric age-like columns) qualify.

    Returns
    -------
    list of Sensitive, in column order. A categorical age band wins over a numeric age.
    """
    found: list[Sensitive] = []
    for col in real.columns:
        role = roles.get(col)
        named = bool(_NAME.search(col))
        if role in ("categorical", "boolean"):
            cats = _categories(real[col])
            if len(cats) > MAX_CATEGORIES or len(cats) < 2:
                continue
            if named:
                found.append(Sensitive(col, "name"))
            elif len(cats & _SEX_VALUES) >= 2 or len(cats & _RACE_VALUES) >= 2:
                found.append(Sensitive(col, "values"))
        elif role == "numeric" and _AGE.search(col):
            found.append(Sensitive(col, "name"))
    has_band = any(_AGE.search(s.column) and roles.get(s.column) == "categorical" for s in found)
    if has_band:
        found = [s for s in found if not (roles.get(s.column) == "numeric" and _AGE.search(s.column))]
    return found


def infer_text_groups(real: pd.DataFrame, roles: dict[str, str]) -> list[str]:
    """Metadata columns that group a text corpus, inferred by name (topic, language, prompt template,
    persona, category, domain, genre, source, task, ...): categorical/boolean columns with 2 to
    ``MAX_CATEGORIES`` real categories."""
    out = []
    for col in real.columns:
        if roles.get(col) in ("categorical", "boolean") and _TEXT_GROUP.search(str(col)):
            if 2 <= len(_categories(real[col])) <= MAX_CATEGORIES:
                out.append(col)
    return out


@dataclass(frozen=True)
class Partition:
    """Groups defined by one sensitive column or an intersection.

    Attributes
    ----------
    columns : tuple of str
    labels : list of str
        ``"col=value"`` or ``"a=x&b=y"``, one per group code (real values: shown only when public).
    real, synthetic : ndarray of int64, shape (n_real,), (n_synthetic,)
        Group code per row, ``-1`` when a column is missing.
    holdout : ndarray of int64 or None
    parts : list of tuple of str
        The value of each column per group (for label masking).
    """

    columns: tuple[str, ...]
    labels: list[str]
    real: np.ndarray
    synthetic: np.ndarray
    holdout: np.ndarray | None
    parts: list[tuple[str, ...]]

    @property
    def n_groups(self) -> int:
        return len(self.labels)

    def counts(self, side: str = "real") -> np.ndarray:
        codes = getattr(self, side)
        return np.bincount(codes[codes >= 0], minlength=self.n_groups).astype(np.int64)


def _band(x: np.ndarray, edges: np.ndarray) -> np.ndarray:
    return np.where(np.isnan(x), -1, np.searchsorted(edges, x, side="right"))


def column_codes(real: pd.Series, others: list[pd.Series | None], role: str, column: str):
    """Codes and labels of one sensitive column on the real side and the other sides.

    Categorical: the real categories (values seen only on the other sides get ``-1``: a group
    the real data does not have cannot be compared). Numeric: age bands, quartile bands, or the
    distinct values when there are at most 20.
    """
    if role in ("numeric", "datetime"):
        r = real.to_numpy(dtype=float)
        distinct = np.unique(r[~np.isnan(r)])
        if _AGE.search(column):
            edges, labels = np.array(AGE_EDGES), list(AGE_LABELS)
            return _band(r, edges), [None if o is None else _band(o.to_numpy(dtype=float), edges) for o in others], labels
        if distinct.size <= 20:
            # Few distinct real values (a coded attribute): each value is a group, and a value on
            # another side joins the nearest real one (a generator emitting 2.0000001 for 2 stays
            # in the group; beyond the real range it joins the end value).
            labels = [f"{v:g}" for v in distinct]
            mids = (distinct[1:] + distinct[:-1]) / 2.0

            def code(x):
                return np.where(np.isnan(x), -1, np.searchsorted(mids, x, side="left")).astype(np.int64)

            return code(r), [None if o is None else code(o.to_numpy(dtype=float)) for o in others], labels
        edges = np.unique(np.quantile(distinct if distinct.size < 4 else r[~np.isnan(r)], [0.25, 0.5, 0.75]))
        labels = [f"Q{i + 1}" for i in range(edges.size + 1)]
        return _band(r, edges), [None if o is None else _band(o.to_numpy(dtype=float), edges) for o in others], labels
    cats = pd.Index(pd.Series(real).dropna().astype(str).unique()).sort_values()
    labels = [str(c) for c in cats]

    def code(s: pd.Series) -> np.ndarray:
        idx = cats.get_indexer(s.astype(object).astype(str)).astype(np.int64)
        idx[s.isna().to_numpy()] = -1
        return idx

    return code(real), [None if o is None else code(o) for o in others], labels


def partitions(real: pd.DataFrame, synthetic: pd.DataFrame, holdout: pd.DataFrame | None,
               roles: dict[str, str], sensitive: list[str], max_depth: int) -> list[Partition]:
    """Every partition of up to ``max_depth`` sensitive columns (singles first, then pairs, ...)."""
    single: dict[str, tuple] = {}
    for col in sensitive:
        h = holdout[col] if holdout is not None and col in holdout.columns else None
        r, (s, hh), labels = column_codes(real[col], [synthetic[col], h], roles.get(col, "categorical"), col)
        single[col] = (r, s, hh, labels)
    out: list[Partition] = []
    for depth in range(1, max_depth + 1):
        for combo in itertools.combinations(sensitive, depth):
            r = np.zeros(len(real), dtype=np.int64)
            s = np.zeros(len(synthetic), dtype=np.int64)
            h = None if holdout is None else np.zeros(len(holdout), dtype=np.int64)
            radix = []
            for col in combo:
                cr, cs, ch, labels = single[col]
                k = len(labels)
                radix.append(k)
                r = np.where((r < 0) | (cr < 0), -1, r * k + cr)
                s = np.where((s < 0) | (cs < 0), -1, s * k + cs)
                if h is not None:
                    h = np.where((h < 0) | (ch < 0), -1, h * k + ch) if ch is not None else None
            # Only the value combinations that occur become groups (never the full product, which
            # for two 1,000-value columns would be a million labels).
            sides = [x for x in (r, s, h) if x is not None]
            used = np.unique(np.concatenate([x[x >= 0] for x in sides]))
            r, s = _compact(r, used), _compact(s, used)
            h = _compact(h, used) if h is not None else None
            parts = []
            for u in used.tolist():
                vals = []
                for col, k in zip(reversed(combo), reversed(radix)):
                    u, j = divmod(u, k)
                    vals.append(single[col][3][j])
                parts.append(tuple(reversed(vals)))
            names = ["&".join(f"{c}={v}" for c, v in zip(combo, p)) for p in parts]
            out.append(Partition(combo, names, r, s, h, parts))
    return out


def _compact(codes: np.ndarray, used: np.ndarray) -> np.ndarray:
    """Renumber mixed-radix codes to positions in the sorted ``used`` codes (``-1`` stays)."""
    pos = np.searchsorted(used, np.maximum(codes, 0))
    return np.where(codes >= 0, pos, -1).astype(np.int64)
