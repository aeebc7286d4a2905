"""Column roles and real/synthetic schema reconciliation.

Roles: ``numeric``, ``categorical``, ``boolean``, ``datetime`` (the features), ``id``, ``text``,
``provenance`` and ``excluded`` (never features of multivariate, copy or distance checks).
Roles are inferred from the REAL data and can be overridden in the config.

Reconciliation coerces each synthetic column to the real column's role. Lossless retypes
(int <-> float, str <-> category, 1 <-> 1.0 as a category) pass silently; values that cannot be read as
the role become missing and are reported (``mixed_types``); a real column absent from the
synthetic side is reported (``missing_column``); synthetic-only columns are ignored.
"""

from __future__ import annotations

import os
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .dictread import plain_strings
from .sampling import sample_rows

FEATURE_ROLES = ("numeric", "categorical", "boolean", "datetime")
ROLES = FEATURE_ROLES + ("id", "text", "provenance", "excluded")
PROVENANCE_FIELDS = ("generator", "generator_version", "created_at", "source_dataset", "is_synthetic")
_ID_NAME = re.compile(r"(^|[_\-. ])(id|uuid|guid|key|pk|hash|row_?id|record_?id)$|^id[_\-]", re.I)
_INFER_SAMPLE = 20_000
#: A string column is free text (role ``text``) when its median value has at least this many words.
TEXT_MIN_MEDIAN_WORDS = 5
#: ... unless it has at most this many distinct values, each repeated (unique ratio < 0.5): then its
#: values are labels (a categorical column), however many words they have.
MAX_TEXT_LABELS = 50


@dataclass(frozen=True)
class SchemaIssue:
    """A column-level problem found while reading (becomes a ``validity`` finding)."""

    column: str
    side: str
    reason_code: str
    count: int
    total: int
    detail: str


@dataclass
class Prepared:
    """Inputs after role inference and reconciliation.

    ``real``/``synthetic``/``holdout`` hold the real columns that the synthetic side also has, in
    canonical form: numeric and datetime as float64 (datetime as seconds since the epoch, non-finite
    values as NaN); categorical and boolean as ``category`` dtype of canonical strings (missing is
    NaN); id/text/provenance columns as given.
    """

    real: pd.DataFrame
    synthetic: pd.DataFrame
    holdout: pd.DataFrame | None
    roles: dict[str, str]
    inferred: dict[str, bool]
    issues: list[SchemaIssue] = field(default_factory=list)
    synthetic_only: list[str] = field(default_factory=list)
    synthetic_extra: pd.DataFrame | None = None  # synthetic-only provenance columns, as read
    #: Out of core (:mod:`synthproof.plan.outofcore`): rows per side of the whole inputs; the frames
    #: then hold only the role-inference sample and the checks read the planner's artefacts.
    n_rows: dict[str, int] | None = None
    #: Out of core: the row ids (positions in the whole input) of the frames' rows, per side.
    row_ids: dict[str, np.ndarray] | None = None
    #: Out of core: ``fetch(side, column, rows) -> {row: value}`` reads the values of a few rows.
    fetch: object = None

    @property
    def streamed(self) -> bool:
        """Whether the frames are a sample of inputs streamed out of core."""
        return self.n_rows is not None

    def size(self, side: str) -> int:
        """Rows of ``side`` (``real``, ``synthetic`` or ``holdout``; 0 when absent) in the whole input."""
        if self.n_rows is not None:
            return int(self.n_rows.get(side, 0))
        frame = {"real": self.real, "synthetic": self.synthetic, "holdout": self.holdout}[side]
        return 0 if frame is None else len(frame)

    @property
    def features(self) -> list[str]:
        return [c for c in self.real.columns if self.roles.get(c) in FEATURE_ROLES]

    def by_role(self, *roles: str) -> list[str]:
        return [c for c in self.real.columns if self.roles.get(c) in roles]

    @property
    def id_column(self) -> str | None:
        """The synthetic column that names rows in row-level findings: a declared ``id`` column, or
        an inferred one whose NAME says id (``customer_id``, ``uuid``...). A column inferred as id
        only from its unique values (names, e-mails) is never printed: it may hold personal data."""
        ids = [c for c in self.synthetic.columns if self.roles.get(c) == "id"
               and (not self.inferred.get(c, False) or _ID_NAME.search(str(c)))]
        return ids[0] if ids else None


def infer_role(name: str, values: pd.Series) -> str:
    """Infer the role of one real column from its name and a sample of its values.

    Parameters
    ----------
    name : str
    values : pandas.Series
        Up to ~20k values of the real column.

    Returns
    -------
    str, one of ``ROLES``.
    """
    if name in PROVENANCE_FIELDS:
        return "provenance"
    non_null = values.dropna()
    n = len(non_null)
    if n == 0:
        return "categorical"
    nunique = int(non_null.nunique())
    unique_ratio = nunique / n
    dtype = values.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return "boolean"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "datetime"
    if pd.api.types.is_numeric_dtype(dtype):
        if _ID_NAME.search(name) and unique_ratio >= 0.95 and n > 20:
            return "id"
        if not np.isfinite(non_null.to_numpy(dtype=float)).any():
            return "numeric"  # only +-inf: non-finite numbers (validity.column_quality says so), not two labels
        if nunique <= 2:
            return "boolean"
        return "numeric"
    strings = non_null.astype(str)
    if _ID_NAME.search(name) and unique_ratio >= 0.95 and n > 20:
        return "id"
    if _looks_datetime(strings):
        return "datetime"
    words = strings.head(2000).str.split().str.len()
    # Long labels repeated across rows (German credit's decoded codes: 10 values of 5+ words in 1,000
    # rows) are categories, not a corpus: free text has mostly distinct values.
    labels = nunique <= MAX_TEXT_LABELS and unique_ratio < 0.5
    if float(words.median()) >= TEXT_MIN_MEDIAN_WORDS and not labels:
        return "text"
    numeric = pd.to_numeric(strings, errors="coerce")
    if numeric.notna().mean() >= 0.99 and nunique > 2:
        return "numeric"
    if unique_ratio >= 0.95 and nunique > 50:
        return "id"
    if nunique <= 2:
        return "boolean"
    return "categorical"


def _looks_datetime(strings: pd.Series) -> bool:
    head = strings.head(500)
    if not head.str.contains(r"^\d{4}-\d{2}-\d{2}|^\d{1,2}/\d{1,2}/\d{2,4}", regex=True).mean() >= 0.95:
        return False
    parsed = pd.to_datetime(head, errors="coerce", format="mixed", utc=True)
    return bool(parsed.notna().mean() >= 0.95)


def canonical_category(values: pd.Series) -> pd.Categorical:
    """Canonical categories: missing -> NaN, 1.0 -> '1', True -> 'True', 'true'/'false' -> 'True'/'False'.

    Values are factorised first and only the distinct values are converted, so the cost is one
    hash pass over the column whatever its length. Returns a ``pandas.Categorical`` of strings.
    """
    if values.dtype == object and _mixed_python_types(values):  # True == 1 == 1.0 would merge when hashed
        return pd.Categorical(np.array([_canonical_one(v) for v in values.tolist()], dtype=object))
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    return categorical_from_codes(codes, np.asarray(uniques, dtype=object).tolist())


def categorical_from_codes(codes: np.ndarray, uniques: list) -> pd.Categorical:
    """The canonical ``pandas.Categorical`` of values given as ``codes`` (``-1`` missing) into
    their distinct ``uniques``: only the distinct values are canonicalised (:func:`_canonical_one`),
    equal canonical labels merge, missing stays missing. Shared by :func:`canonical_category` and
    the out-of-core reader (Arrow dictionary encoding)."""
    canon = [_canonical_one(v) for v in uniques]
    labels, remap = np.unique(np.array([c if c is not None else "" for c in canon], dtype=object).astype(str),
                              return_inverse=True)
    remap = np.where(np.array([c is None for c in canon], dtype=bool), -1, remap).astype(np.int64)
    new_codes = np.where(codes < 0, -1, remap[np.maximum(codes, 0)] if len(canon) else -1)
    return pd.Categorical.from_codes(new_codes, categories=pd.Index(labels, dtype=object))


def arrow_canonical(col: pa.ChunkedArray, role: str) -> tuple[object, int] | None:
    """The canonical form :func:`convert_column` gives, computed in Arrow for the common typed
    cases (numbers as numeric; strings, booleans and integers as categories, by Arrow's dictionary
    encoding: no pandas strings, no hash factorisation), with the count of non-finite values;
    ``None`` when the slow path must decide. Shared by :func:`prepare` and the out-of-core reader."""
    t = col.type
    if role in ("categorical", "boolean") and pa.types.is_dictionary(t) and pa.types.is_string(t.value_type):
        enc = col.unify_dictionaries().combine_chunks() if col.num_chunks else pa.array([], t)
        codes = pc.fill_null(enc.indices, -1).to_numpy(zero_copy_only=False).astype(np.int64)
        labels = enc.dictionary.to_pylist()
        used = np.bincount(codes[codes >= 0], minlength=len(labels)) > 0
        if not used.all():  # values no row holds (a row group's dictionary) are no categories
            remap = np.cumsum(used) - 1
            codes = np.where(codes >= 0, remap[np.maximum(codes, 0)], -1)
            labels = [v for v, u in zip(labels, used.tolist()) if u]
        return categorical_from_codes(codes, labels), 0
    if role == "numeric" and (pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_boolean(t)):
        x = col.cast(pa.float64(), safe=False).to_numpy()  # nulls -> NaN; |ints| > 2^53 round, as pandas
        bad = ~np.isfinite(x) & ~np.isnan(x)
        n_bad = int(bad.sum())
        if n_bad:
            x = np.where(bad, np.nan, x)
        return x, n_bad
    if role in ("categorical", "boolean") and (pa.types.is_string(t) or pa.types.is_large_string(t)
                                               or pa.types.is_boolean(t) or pa.types.is_integer(t)):
        enc = pc.dictionary_encode(col).combine_chunks()
        codes = enc.indices.to_numpy(zero_copy_only=False)
        codes = np.where(enc.indices.is_null().to_numpy(zero_copy_only=False), -1, codes).astype(np.int64)
        return categorical_from_codes(codes, enc.dictionary.to_pylist()), 0
    return None


def _canonical_one(v: object) -> object:
    if v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float) and np.isnan(v)):
        return None
    if isinstance(v, (bool, np.bool_)):
        return "True" if v else "False"
    if isinstance(v, (float, np.floating)) and float(v).is_integer():
        return str(int(v))
    s = str(v)
    return {"true": "True", "false": "False"}.get(s.lower(), s)


def _to_numeric(values: pd.Series, role: str) -> tuple[np.ndarray, int, int]:
    """Float64 view of a column for ``numeric``/``datetime``; returns (array, unreadable, non_finite)."""
    non_null = values.notna()
    if role == "datetime":
        if pd.api.types.is_datetime64_any_dtype(values.dtype):
            parsed = values
        else:
            parsed = pd.to_datetime(values, errors="coerce", format="mixed", utc=True)
        if isinstance(parsed.dtype, pd.DatetimeTZDtype):
            parsed = parsed.dt.tz_convert("UTC").dt.tz_localize(None)
        arr = parsed.astype("datetime64[ns]").to_numpy().astype("int64").astype(float) / 1e9
        arr[parsed.isna().to_numpy()] = np.nan
    elif pd.api.types.is_bool_dtype(values.dtype):
        arr = values.astype(float).to_numpy()
    else:
        arr = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    unreadable = int((non_null.to_numpy() & np.isnan(arr)).sum())
    non_finite = int(np.isinf(arr).sum())
    arr = np.where(np.isfinite(arr), arr, np.nan)
    return arr, unreadable, non_finite


def _mixed_python_types(values: pd.Series) -> bool:
    if values.dtype != object:
        return False
    kinds = {type(v).__name__ for v in values.dropna().head(5000).tolist()}
    kinds -= {"str"} if len(kinds) == 1 else set()
    return len({k for k in kinds if k in ("str", "int", "float", "bool", "bytes", "dict", "list")}) > 1


def convert_column(col: str, side: str, s: pd.Series, role: str) -> tuple[object, list[SchemaIssue]]:
    """Canonical form of one column (or of one batch of it) on one side, and the issues found on
    the way: float64 for numeric/datetime, a ``pandas.Categorical`` of canonical strings for
    categorical/boolean, the values as given otherwise."""
    n = len(s)
    found: list[SchemaIssue] = []
    if role in ("numeric", "datetime"):
        arr, unreadable, non_finite = _to_numeric(s, role)
        if unreadable:
            code = "type_mismatch" if unreadable == int(s.notna().sum()) else "mixed_types"
            found.append(SchemaIssue(col, side, code, unreadable, n,
                                     f"{unreadable} of {n} values are not {role}; read as missing"))
        if non_finite:
            found.append(SchemaIssue(col, side, "non_finite", non_finite, n,
                                     f"{non_finite} of {n} values are infinite; read as missing"))
    elif role in ("categorical", "boolean"):
        if _mixed_python_types(s):
            found.append(SchemaIssue(col, side, "mixed_types", int(s.notna().sum()), n,
                                     "values of several types; compared as text"))
        arr = canonical_category(s)
    else:
        return s.to_numpy(), found
    return arr, found + _value_issues(col, side, arr)


def _value_issues(col: str, side: str, arr) -> list[SchemaIssue]:
    """``all_null`` / ``constant`` of a canonical numeric array or ``Categorical``."""
    n = len(arr)
    valid = arr.codes[arr.codes >= 0] if isinstance(arr, pd.Categorical) else arr[~np.isnan(arr)]
    if valid.size == 0:
        return [SchemaIssue(col, side, "all_null", n, n, "every value is missing")]
    if n > 1 and not np.any(valid != valid[0]):
        return [SchemaIssue(col, side, "constant", n, n, "a single distinct value")]
    return []


def convert_table_column(col: str, side: str, table: pa.Table, role: str) -> tuple[object, list[SchemaIssue]]:
    """:func:`convert_column` of column ``col`` of an Arrow table, in Arrow where
    :func:`arrow_canonical` can (the same values and issues), else through pandas (the table's
    pandas metadata applied, as ``table.to_pandas()`` would)."""
    fast = arrow_canonical(table.column(col), role)
    if fast is None:
        one = plain_strings(table.select([table.column_names.index(col)]))
        return convert_column(col, side, one.to_pandas()[col], role)
    arr, non_finite = fast
    n = table.num_rows
    found = [SchemaIssue(col, side, "non_finite", non_finite, n,
                         f"{non_finite} of {n} values are infinite; read as missing")] if non_finite else []
    return arr, found + _value_issues(col, side, arr)


def _frame(columns: dict[str, np.ndarray], n: int) -> pd.DataFrame:
    """A DataFrame that keeps object arrays as object dtype (pandas 3 would make them Arrow strings,
    and every later ``to_numpy`` would convert them back), one block per column (``copy=False``:
    no consolidation copying the float columns into one 2-D block)."""
    return pd.DataFrame({c: (pd.Series(a, copy=False) if isinstance(a, pd.Categorical) else
                             pd.Series(a, dtype=a.dtype if a.dtype != object else object, copy=False))
                         for c, a in columns.items()}, index=pd.RangeIndex(n), copy=False)


def prepare(
    real: pa.Table,
    synthetic: pa.Table,
    holdout: pa.Table | None,
    roles: dict[str, str] | None = None,
    include: list[str] | None = None,
    exclude: list[str] | None = None,
) -> Prepared:
    """Infer roles, reconcile schemas and convert to the canonical working form.

    Parameters
    ----------
    real, synthetic : pyarrow.Table
    holdout : pyarrow.Table or None
    roles : dict, optional
        Column -> role overrides (roles in ``ROLES``).
    include, exclude : list of str, optional
        Columns to keep (all when ``None``) or to mark ``excluded``.

    Returns
    -------
    Prepared
    """
    roles = dict(roles or {})
    include_set = set(include) if include else None
    exclude_set = set(exclude or ())
    syn_names = set(synthetic.column_names)
    hold_names = set(holdout.column_names) if holdout is not None else set()
    out_roles: dict[str, str] = {}
    inferred: dict[str, bool] = {}
    issues: list[SchemaIssue] = []
    cols_r, cols_s, cols_h = {}, {}, {}
    # A bottom-k sample keyed by row id (seed 0: roles do not depend on the run's seed); only these
    # rows go through pandas for role inference.
    sample_idx = sample_rows(real.num_rows, _INFER_SAMPLE, 0, "real", "role_inference")
    sample = plain_strings(real.take(pa.array(sample_idx, type=pa.int64()))).to_pandas() if real.num_columns else None
    jobs: list[tuple] = []
    for col in real.column_names:
        if include_set is not None and col not in include_set:
            continue
        if col in exclude_set:
            role, was_inferred = "excluded", False
        elif col in roles:
            role, was_inferred = roles[col], False
        else:
            role, was_inferred = infer_role(col, sample[col].reset_index(drop=True)), True
        if col not in syn_names:
            if role in FEATURE_ROLES or role == "text":
                issues.append(SchemaIssue(col, "synthetic", "missing_column", synthetic.num_rows, synthetic.num_rows,
                                          "present in real, absent from synthetic"))
            out_roles[col], inferred[col] = role, was_inferred
            continue
        out_roles[col], inferred[col] = role, was_inferred
        sides = [("real", real, cols_r), ("synthetic", synthetic, cols_s)]
        if col in hold_names:
            sides.append(("holdout", holdout, cols_h))
        jobs.extend((col, side, table, role, store) for side, table, store in sides)
    # Column conversions are independent and mostly GIL-free (pyarrow, numpy): run them on threads,
    # collecting results in job order so the output never depends on scheduling.
    with ThreadPoolExecutor(max_workers=max(1, min(len(jobs), os.cpu_count() or 1))) as pool:
        results = list(pool.map(lambda job: convert_table_column(*job[:4]), jobs))
    for (col, _, _, _, store), (arr, found) in zip(jobs, results):
        store[col] = arr
        issues.extend(found)
    for side, table in (("real", real), ("synthetic", synthetic), ("holdout", holdout)):
        if table is None:
            continue
        for fld in table.schema:
            count = (fld.metadata or {}).get(b"synthproof.non_string")
            if count and fld.name in out_roles:
                issues.append(SchemaIssue(fld.name, side, "non_string", int(count), table.num_rows,
                                          f"{int(count)} of {table.num_rows} values are not strings; read as missing"))
            how = (fld.metadata or {}).get(b"synthproof.converted")  # set by synthproof.io on load
            if how and fld.name in out_roles:
                issues.append(SchemaIssue(fld.name, side, "converted", table.num_rows, table.num_rows,
                                          f"Arrow type converted to be audited ({how.decode(errors='replace')})"))
    real_out = _frame(cols_r, real.num_rows)
    syn_out = _frame(cols_s, synthetic.num_rows)
    hold_out = _frame(cols_h, holdout.num_rows) if holdout is not None else None
    real_names = set(real.column_names)
    synthetic_only = [c for c in synthetic.column_names if c not in real_names]
    return Prepared(real_out, syn_out, hold_out, out_roles, inferred, issues, synthetic_only)
