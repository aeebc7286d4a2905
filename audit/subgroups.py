"""Sensitive columns, the subgroups they define, and their count tables built chunk by chunk.

Sensitive columns are declared (``bias.sensitive``) or inferred from the REAL data: by name (sex,
gender, race, ethnicity, age / age band, nationality, country, citizenship, language, religion,
disability, ...) and, for unnamed columns, by values (a column whose categories are sexes or
races). Numeric ages become fixed bands (``<25``, ``25-44``, ``45-64``, ``65+``); numeric columns
with at most 20 distinct real values are one group per value (a value on another side joins the
nearest real one); other numeric sensitive columns are cut at the real quartiles. Text corpora add
metadata groups (topic, language, prompt template, ...: ``text.groups`` or inferred by name).

A *partition* is one sensitive column or an intersection of up to ``max_depth`` of them; its groups
are the value combinations that occur in the real or synthetic data, in the order of their
mixed-radix codes. Everything the count-based bias checks read is a table of integer counts per
group (:class:`SubgroupTables`), built in the planner's counting pass
(:func:`synthproof.plan.columns.build_columns`) from code maps fixed by the scan pass, so it is the
same for any cut of the rows into chunks, in memory or streamed. The code maps use exact scan
results (labels, distinct values and their real counts while a column has at most 1,024 distinct
values) and otherwise the bottom-k edge sample's real values (quartiles exact while the two sides
hold at most 200,000 finite values, estimates beyond).
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .stats.quantiles import quantile_from_counts

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
#: Numeric columns with at most this many distinct real values get one group per value.
MAX_VALUE_GROUPS = 20
_NUMERIC = ("numeric", "datetime")


@dataclass(frozen=True)
class Sensitive:
    """A sensitive column and why it is one (``declared``, ``name``, ``values`` or ``text_group``)."""

    column: str
    how: str


def infer_sensitive_from_labels(labels: dict[str, list[str]], roles: dict[str, str]) -> list[Sensitive]:
    """Sensitive columns inferred from names and REAL labels.

    Parameters
    ----------
    labels : dict of str -> list of str
        Every categorical/boolean feature column's labels that occur in the real data (numeric
        columns need no entry).
    roles : dict of str -> str
        Column -> role, in column order; only categorical/boolean columns with 2 to
        ``MAX_CATEGORIES`` real labels (and numeric age-like columns) qualify.

    Returns
    -------
    list of Sensitive, in column order. A categorical age band wins over a numeric age.
    """
    found: list[Sensitive] = []
    for col, role in roles.items():
        named = bool(_NAME.search(col))
        if role in ("categorical", "boolean"):
            cats = {str(c).strip().lower() for c in labels.get(col, ())}
            if len(cats) > MAX_CATEGORIES or len(cats) < 2:
                continue
            if named:
                found.append(Sensitive(col, "name"))
            elif len(cats & _SEX_VALUES) >= 2 or len(cats & _RACE_VALUES) >= 2:
                found.append(Sensitive(col, "values"))
        elif role == "numeric" and _AGE.search(col):
            found.append(Sensitive(col, "name"))
    if any(_AGE.search(s.column) and roles.get(s.column) == "categorical" for s in found):
        found = [s for s in found if not (roles.get(s.column) == "numeric" and _AGE.search(s.column))]
    return found


def infer_text_groups_from_labels(labels: dict[str, list[str]], roles: dict[str, str]) -> list[str]:
    """Metadata columns that group a text corpus, inferred by name (topic, language, prompt template,
    persona, category, domain, genre, source, task, ...): categorical/boolean columns with 2 to
    ``MAX_CATEGORIES`` real labels."""
    return [c for c, role in roles.items() if role in ("categorical", "boolean") and _TEXT_GROUP.search(str(c))
            and 2 <= len({str(x).strip().lower() for x in labels.get(c, ())}) <= MAX_CATEGORIES]


def real_labels(real: pd.DataFrame, columns) -> dict[str, list[str]]:
    """The labels of categorical columns that occur in a prepared real frame."""
    out = {}
    for c in columns:
        s = real[c]
        out[c] = [str(x) for x in (s.cat.categories if isinstance(s.dtype, pd.CategoricalDtype) else s.dropna().unique())]
    return out


def infer_sensitive(real: pd.DataFrame, roles: dict[str, str]) -> list[Sensitive]:
    """:func:`infer_sensitive_from_labels` on a prepared real frame (columns in frame order)."""
    cols = [c for c in real.columns if c in roles]
    return infer_sensitive_from_labels(real_labels(real, [c for c in cols if roles[c] in ("categorical", "boolean")]),
                                       {c: roles[c] for c in cols})


# -- code maps -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class GroupMap:
    """How one sensitive column's canonical values become group codes (``-1``: missing, or a label
    the real data does not have).

    Attributes
    ----------
    kind : str
        ``labels`` (categorical: the sorted real labels), ``bands`` (numeric: ``searchsorted(edges, x,
        "right")``) or ``nearest`` (numeric: the nearest real value, ties to the lower).
    edges : ndarray of float or None
        Band edges, or the midpoints between the distinct real values.
    labels : list of str
        One per code.
    """

    kind: str
    edges: np.ndarray | None
    labels: list[str]

    def codes(self, values) -> np.ndarray:
        """Group codes (int64) of canonical values (float64, or a ``pandas.Categorical`` of strings)."""
        if self.kind == "labels":
            cat = values if isinstance(values, pd.Categorical) else pd.Categorical(pd.Series(values, dtype=object))
            lookup = pd.Index(np.asarray(self.labels, dtype=object)).get_indexer(
                pd.Index(cat.categories.astype(str), dtype=object))
            return np.append(lookup, -1).astype(np.int64)[np.asarray(cat.codes)]
        x = np.asarray(values, dtype=np.float64)
        if not self.labels:
            return np.full(x.shape, -1, np.int64)
        side = "right" if self.kind == "bands" else "left"
        return np.where(np.isnan(x), -1, np.searchsorted(self.edges, x, side=side)).astype(np.int64)


def numeric_group_map(column: str, real_distinct: np.ndarray | None, real_counts: np.ndarray | None,
                      real_sample: np.ndarray) -> GroupMap:
    """The :class:`GroupMap` of a numeric sensitive column.

    Parameters
    ----------
    column : str
        Its name (age-like names get the fixed bands ``AGE_EDGES``).
    real_distinct : ndarray of float or None
        The sorted distinct finite real values, when there are at most 1,024 (else ``None``).
    real_counts : ndarray of int or None
        Their real counts (``None`` when unknown: the quartiles then come from ``real_sample``).
    real_sample : ndarray of float
        Finite real values of the bottom-k edge sample (every value when the sides hold at most
        200,000 finite values).
    """
    if _AGE.search(column):
        return GroupMap("bands", np.array(AGE_EDGES), list(AGE_LABELS))
    if real_distinct is not None and real_distinct.size <= MAX_VALUE_GROUPS:
        mids = (real_distinct[1:] + real_distinct[:-1]) / 2.0
        return GroupMap("nearest", mids, [f"{v:g}" for v in real_distinct])
    if real_distinct is not None and real_counts is not None:
        q = quantile_from_counts(real_distinct, real_counts, [0.25, 0.5, 0.75])
    elif real_sample.size:
        q = np.quantile(real_sample, [0.25, 0.5, 0.75])
    else:
        return GroupMap("bands", np.zeros(0), [])
    edges = np.unique(q)
    return GroupMap("bands", edges, [f"Q{i + 1}" for i in range(edges.size + 1)])


def category_group_map(labels: list[str]) -> GroupMap:
    """The :class:`GroupMap` of a categorical sensitive column from its real labels (sorted)."""
    return GroupMap("labels", None, sorted(str(x) for x in labels))


# -- specification and tables -------------------------------------------------------------------------
@dataclass(frozen=True)
class SubgroupSpec:
    """What the subgroup tables are built from (the run's ``bias`` and ``text.groups`` settings)."""

    sensitive: tuple[str, ...] | None  # declared, else inferred
    text_groups: tuple[str, ...] | None  # declared, else inferred by name (text corpora only)
    has_text: bool
    target: str | None
    max_depth: int

    @classmethod
    def from_config(cls, cfg, data) -> SubgroupSpec:
        """From an :class:`~synthproof.config.AuditConfig` and the prepared data (its text role)."""
        b, t = cfg.bias, cfg.text
        return cls(None if b.sensitive is None else tuple(b.sensitive),
                   None if t.groups is None else tuple(t.groups), bool(data.by_role("text")), b.target, b.max_depth)

    def resolve(self, labels: dict[str, list[str]], roles: dict[str, str],
                features: list[str]) -> tuple[list[Sensitive], str | None]:
        """The sensitive columns (``(found, error)``; ``error`` names declared columns that are not
        feature columns of both sides, for the checks to raise)."""
        feats = {c: roles[c] for c in features}
        if self.sensitive is not None:
            missing = [c for c in self.sensitive if c not in feats]
            if missing:
                return [], (f"declared sensitive column(s) {missing} are not feature columns of both real and "
                            "synthetic data")
            found = [Sensitive(c, "declared") for c in self.sensitive]
        else:
            found = infer_sensitive_from_labels(labels, {c: r for c, r in feats.items() if c != self.target})
        if self.has_text:
            if self.text_groups is not None:
                missing = [c for c in self.text_groups if c not in feats]
                if missing:
                    return [], (f"declared text group column(s) {missing} are not feature columns of both real "
                                "and synthetic data")
                groups = list(self.text_groups)
            else:
                groups = infer_text_groups_from_labels(labels, feats)
            have = {s.column for s in found}
            found += [Sensitive(c, "text_group") for c in groups if c not in have and c != self.target]
        return found, None


@dataclass
class PartitionTables:
    """The count tables of one partition.

    Attributes
    ----------
    columns : tuple of str
    labels : list of str
        ``"col=value"`` or ``"a=x&b=y"``, one per group (real values: shown only when public).
    parts : list of tuple of str
        The value of each column per group (for label masking).
    keys : ndarray of int64, shape (G,)
        Mixed-radix codes of the groups (sorted).
    real, synthetic : ndarray of int64, shape (G,)
        Rows per group.
    tables : dict of str -> (ndarray, ndarray)
        Per feature column outside the partition: real and synthetic (G, n_coarse) tables of its
        coarse pair codes (:class:`synthproof.plan.columns.CodeMap`; the last code = missing).
    target : (ndarray, ndarray) or None
        Real and synthetic (G, k + 1) tables of the target's fine codes (the last = missing).
    """

    columns: tuple[str, ...]
    labels: list[str]
    parts: list[tuple[str, ...]]
    keys: np.ndarray
    real: np.ndarray
    synthetic: np.ndarray
    tables: dict = field(default_factory=dict)
    target: tuple | None = None

    @property
    def n_groups(self) -> int:
        return len(self.labels)

    def counts(self, side: str = "real") -> np.ndarray:
        """Rows per group on ``side`` (``real`` or ``synthetic``)."""
        return getattr(self, side)


@dataclass
class SubgroupTables:
    """The subgroup artefact of a run: the sensitive columns, their code maps, and every partition's
    count tables (``error``: why the declared columns cannot be used, raised by the checks)."""

    sensitive: list[Sensitive]
    maps: dict[str, GroupMap]
    partitions: list[PartitionTables]
    error: str | None = None

    def row_codes(self, part: PartitionTables, frame: pd.DataFrame, rows: np.ndarray | None = None) -> np.ndarray:
        """Group index (into ``part.labels``) of frame rows (all, or ``rows``); ``-1`` for a row
        with a missing value or a combination that occurs in neither the real nor the synthetic data."""
        codes = None
        for col in part.columns:
            vals = frame[col].array if isinstance(frame[col].dtype, pd.CategoricalDtype) else frame[col].to_numpy()
            if rows is not None:
                vals = vals[np.asarray(rows, dtype=np.int64)]
            c = self.maps[col].codes(vals)
            k = len(self.maps[col].labels)
            codes = c if codes is None else np.where((codes < 0) | (c < 0), -1, codes * k + c)
        pos = np.searchsorted(part.keys, np.maximum(codes, 0))
        hit = (codes >= 0) & (pos < part.keys.size)
        hit[hit] = part.keys[pos[hit]] == codes[hit]
        return np.where(hit, pos, -1).astype(np.int64)


class _Accumulator:
    """Merges per-chunk tables of one partition into tables keyed by the sorted group keys."""

    def __init__(self, columns: tuple[str, ...], widths: dict[str, int], target_width: int | None) -> None:
        self.columns = columns
        self.keys = np.zeros(0, np.int64)
        self.counts = np.zeros((2, 0), np.int64)
        self.widths = widths
        self.tables = {c: np.zeros((2, 0, w), np.int64) for c, w in widths.items()}
        self.target_width = target_width
        self.target = None if target_width is None else np.zeros((2, 0, target_width), np.int64)

    def _grow(self, new: np.ndarray) -> None:
        keys = np.union1d(self.keys, new)
        pos = np.searchsorted(keys, self.keys)

        def regrid(a: np.ndarray) -> np.ndarray:
            out = np.zeros(a.shape[:1] + (keys.size,) + a.shape[2:], np.int64)
            out[:, pos] = a
            return out

        self.counts = regrid(self.counts)
        self.tables = {c: regrid(t) for c, t in self.tables.items()}
        if self.target is not None:
            self.target = regrid(self.target)
        self.keys = keys

    def merge(self, other: _Accumulator) -> None:
        """Add ``other``'s tables (the same partition counted over other rows)."""
        if other.keys.size == 0:
            return
        if not np.isin(other.keys, self.keys, assume_unique=True).all():
            self._grow(other.keys)
        at = np.searchsorted(self.keys, other.keys)
        self.counts[:, at] += other.counts
        for c in self.widths:
            self.tables[c][:, at] += other.tables[c]
        if self.target is not None:
            self.target[:, at] += other.target

    def add(self, side: int, gid: np.ndarray, coarse: dict, target: np.ndarray | None) -> None:
        ok = gid >= 0
        local, inv = np.unique(gid[ok], return_inverse=True)
        if local.size == 0:
            return
        if not np.isin(local, self.keys, assume_unique=True).all():
            self._grow(local)
        at = np.searchsorted(self.keys, local)
        g = local.size
        self.counts[side, at] += np.bincount(inv, minlength=g)
        for c, w in self.widths.items():
            self.tables[c][side, at] += np.bincount(inv * w + coarse[c][ok], minlength=g * w).reshape(g, w)
        if self.target is not None:
            w = self.target_width
            self.target[side, at] += np.bincount(inv * w + target[ok], minlength=g * w).reshape(g, w)


class SubgroupBuilder:
    """Builds :class:`SubgroupTables` chunk by chunk (the counting pass of
    :func:`synthproof.plan.columns.build_columns`)."""

    def __init__(self, sensitive: list[Sensitive], maps: dict[str, GroupMap], features: list[str],
                 n_coarse: dict[str, int], target: str | None, target_width: int | None, max_depth: int,
                 error: str | None = None) -> None:
        self.sensitive, self.maps, self.error = sensitive, maps, error
        self.target = target if target_width is not None else None
        cols = [s.column for s in sensitive]
        self.combos = [combo for depth in range(1, max_depth + 1) for combo in itertools.combinations(cols, depth)]
        self.features = features
        self.acc = [_Accumulator(combo, {c: n_coarse[c] for c in features if c not in combo},
                                 target_width if self.target is not None and self.target not in combo else None)
                    for combo in self.combos]

    @property
    def coarse_columns(self) -> list[str]:
        """Feature columns whose coarse codes the builder reads per chunk."""
        return list(self.features) if self.combos else []

    def add(self, side: int, columns: dict, coarse: dict, target_fine: np.ndarray | None) -> None:
        """Count one chunk (``side`` 0 real, 1 synthetic) from its canonical ``columns``, the coarse
        codes of every feature column and the target's fine codes."""
        single = {s.column: self.maps[s.column].codes(columns[s.column]) for s in self.sensitive}
        for combo, acc in zip(self.combos, self.acc):
            gid = None
            for col in combo:
                c, k = single[col], len(self.maps[col].labels)
                gid = c if gid is None else np.where((gid < 0) | (c < 0), -1, gid * k + c)
            acc.add(side, gid, coarse, target_fine if acc.target is not None else None)

    def merge(self, other: SubgroupBuilder) -> None:
        """Add ``other``'s tables (a builder of the same plan over other rows)."""
        for a, b in zip(self.acc, other.acc):
            a.merge(b)

    def finish(self) -> SubgroupTables:
        """The finished tables (labels decoded from the group keys)."""
        parts = []
        for acc in self.acc:
            radix = [len(self.maps[c].labels) for c in acc.columns]
            vals_of = []
            for u in acc.keys.tolist():
                vals = []
                for col, k in zip(reversed(acc.columns), reversed(radix)):
                    u, j = divmod(u, k)
                    vals.append(self.maps[col].labels[j])
                vals_of.append(tuple(reversed(vals)))
            names = ["&".join(f"{c}={v}" for c, v in zip(acc.columns, p)) for p in vals_of]
            tables = {c: (t[0], t[1]) for c, t in acc.tables.items()}
            target = None if acc.target is None else (acc.target[0], acc.target[1])
            parts.append(PartitionTables(acc.columns, names, vals_of, acc.keys, acc.counts[0], acc.counts[1],
                                         tables, target))
        return SubgroupTables(self.sensitive, self.maps, parts, self.error)
