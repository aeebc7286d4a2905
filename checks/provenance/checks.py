"""Provenance-tag checks: is every synthetic row labelled with where it came from?

A provenance *field* (``generator``, ``generator_version``, ``created_at``, ``source_dataset``,
``is_synthetic`` by default; ``provenance.required`` in the config) is read from a column of the
synthetic data or from the sidecar file ``<data>.provenance.json`` (:mod:`.sidecar`), whose values
apply to every row. When both exist the column wins. Columns come from
``ctx.data.synthetic_extra`` (synthetic-only tag columns, as read) and from ``ctx.data.synthetic``
(tag columns the real data has too, and any column given the role ``provenance``).

When they run: without a ``provenance:`` section in the config the field checks run only when the
synthetic data carries at least one default field (column or sidecar) and are otherwise
``skipped`` (``no_provenance_tags``); with the section they always run, and an absent required
field fails. The synthetic-share check runs only when the config declares a mixed dataset
(``provenance.mixed: true`` or ``provenance.max_synthetic_share``).

In a declared mixed dataset, rows flagged ``is_synthetic`` false are real rows: they need only the
``is_synthetic`` tag itself, not the generator fields.

These are deterministic rules, not statistics: they take no share of the gate's false-alarm
budget. Rows are named by id column or content hash, never by their values; tag values are
metadata and may be quoted (``repr``, at most 60 characters).
"""

from __future__ import annotations

import datetime as _dt
import math
import os
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from synthproof.check import Check, register
from synthproof.errors import IncomputableError
from synthproof.findings import Finding
from synthproof.schema import PROVENANCE_FIELDS

from .sidecar import Sidecar, SidecarError, default_sidecar_path, load_sidecar

#: A ``provenance.patterns`` value that marks a field as a timestamp instead of giving a regex.
TIMESTAMP_MARK = "<timestamp>"
_QUOTE_MAX = 60
_TRUE = frozenset({"true", "t", "yes", "y", "1"})
_FALSE = frozenset({"false", "f", "no", "n", "0"})
_PROV_DM = ("W3C PROV-DM (Moreau & Missier 2013): lineage as wasGeneratedBy (generator, generator_version), "
            "generatedAtTime (created_at), wasDerivedFrom (source_dataset)")

# Per-value verdicts of provenance.values, in the order the rules are tried.
_OK, _NOT_FLAG, _NOT_ALLOWED, _NO_MATCH, _NOT_TIME, _FUTURE = range(6)
_RULE_KEYS = {_NOT_FLAG: "not_boolean", _NOT_ALLOWED: "not_allowed", _NO_MATCH: "pattern_mismatch",
              _NOT_TIME: "unparseable_timestamp", _FUTURE: "future_timestamp"}


# --------------------------------------------------------------------------------------------
# values


def _is_missing(v) -> bool:
    """None, NaN, NA, NaT or a blank string (an empty tag is a missing tag)."""
    if v is None or v is pd.NA or v is pd.NaT:
        return True
    if isinstance(v, (float, np.floating)) and math.isnan(v):
        return True
    return isinstance(v, str) and not v.strip()


def _text(v) -> str:
    """The text a tag value is compared as: booleans ``true``/``false``, integral floats without
    ``.0``, timestamps in ISO-8601, anything else ``str``."""
    if isinstance(v, (bool, np.bool_)):
        return "true" if v else "false"
    if isinstance(v, (float, np.floating)) and float(v).is_integer():
        return str(int(v))
    if isinstance(v, (pd.Timestamp, np.datetime64)):
        return pd.Timestamp(v).isoformat()
    return str(v)


def _quote(v) -> str:
    """A tag value as it may appear in a message: ``repr`` of its text, at most 60 characters."""
    s = _text(v)
    return repr(s if len(s) <= _QUOTE_MAX else s[: _QUOTE_MAX - 3] + "...")


def parse_flag(v) -> int:
    """Read an ``is_synthetic`` value: 1 (true), 0 (false), -1 (unreadable), -2 (missing).

    Booleans; the numbers 1 and 0; the strings true/false, t/f, yes/no, y/n, 1/0 (any case, spaces
    stripped).
    """
    if _is_missing(v):
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


def _times(values: list) -> pd.DatetimeIndex:
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
    return [None if pd.isna(t) else t for t in _times(values)]


# --------------------------------------------------------------------------------------------
# where the tags are


@dataclass
class _Field:
    """One provenance field over the synthetic rows: ``codes[i]`` indexes ``uniques`` (-1: missing)."""

    name: str
    source: str  # "column" or "sidecar"
    shadowed: bool  # a column that hides a sidecar field of the same name
    codes: np.ndarray
    uniques: list


@dataclass
class _Tags:
    n: int
    columns: dict
    sidecar: Sidecar | None
    sidecar_name: str | None
    sidecar_error: str | None

    def source(self, name: str) -> str | None:
        if name in self.columns:
            return "column"
        if self.sidecar is not None and name in self.sidecar.fields:
            return "sidecar"
        return None

    def names(self) -> set[str]:
        return set(self.columns) | (set(self.sidecar.fields) if self.sidecar is not None else set())


def _declared(ctx) -> bool:
    """Whether the config has a ``provenance:`` section (as opposed to the defaults)."""
    return "provenance" in ctx.config.model_fields_set


def _mixed(ctx) -> bool:
    cfg = ctx.config.provenance
    return _declared(ctx) and (cfg.mixed or cfg.max_synthetic_share is not None)


def _raw(series: pd.Series, role: str | None) -> pd.Series:
    if role == "datetime":  # canonical form: float seconds since the epoch
        return pd.to_datetime(series.astype(float), unit="s", utc=True)
    return series


def _tags(ctx) -> _Tags:
    key = "provenance:tags"
    if key in ctx.cache:
        return ctx.cache[key]
    cfg = ctx.config.provenance
    wanted = set(PROVENANCE_FIELDS) | set(cfg.required) | set(cfg.allowed) | set(cfg.patterns)
    syn = ctx.data.synthetic
    columns: dict = {}
    extra = getattr(ctx.data, "synthetic_extra", None)
    if extra is not None:
        for c in extra.columns:
            columns[c] = extra[c].reset_index(drop=True)
    for c in syn.columns:
        role = ctx.data.roles.get(c)
        if c not in columns and (c in wanted or role == "provenance"):
            columns[c] = _raw(syn[c].reset_index(drop=True), role)
    sidecar = name = error = None
    path = cfg.sidecar
    explicit = path is not None
    if path is None and ctx.synthetic_path:
        path = default_sidecar_path(ctx.synthetic_path)
    if path is not None:
        name = os.path.basename(str(path).rstrip("/\\")) or str(path)
        if explicit or os.path.exists(path):
            try:
                sidecar = load_sidecar(path)
            except SidecarError as exc:
                error = str(exc).replace(f"provenance sidecar {path}", f"provenance sidecar {name}", 1)
    ctx.cache[key] = _Tags(len(syn), columns, sidecar, name, error)
    return ctx.cache[key]


def _encode(values: pd.Series) -> tuple[np.ndarray, list]:
    """Factorise a tag column; missing (incl. blank strings) -> -1. Mixed Python types stay apart."""
    if values.dtype == object:
        arr = values.to_numpy()
        kinds = {type(v) for v in arr.tolist() if not _is_missing(v)}
        if len(kinds) > 1:  # True == 1 == 1.0 would merge when hashed
            keys = pd.Series([(type(v).__name__, v) if not _is_missing(v) else None for v in arr.tolist()],
                             dtype=object)
            codes, ukeys = pd.factorize(keys, use_na_sentinel=True)
            return codes.astype(np.int64), [k[1] for k in ukeys]
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    uniques = list(uniques)
    keep = np.array([not _is_missing(u) for u in uniques], dtype=bool)
    if keep.all():
        return codes.astype(np.int64), uniques
    remap = np.where(keep, np.cumsum(keep) - 1, -1)
    codes = np.where(codes >= 0, remap[np.maximum(codes, 0)] if len(remap) else -1, -1)
    return codes.astype(np.int64), [u for u, k in zip(uniques, keep) if k]


def _field(tags: _Tags, name: str, cache: dict) -> _Field:
    key = f"provenance:field:{name}"
    if key not in cache:
        if name in tags.columns:
            codes, uniques = _encode(tags.columns[name])
            shadowed = tags.sidecar is not None and name in tags.sidecar.fields
            cache[key] = _Field(name, "column", shadowed, codes, uniques)
        else:
            v = tags.sidecar.fields[name]
            miss = _is_missing(v)
            cache[key] = _Field(name, "sidecar", False, np.full(tags.n, -1 if miss else 0, dtype=np.int64),
                                [] if miss else [v])
    return cache[key]


def _where(tags: _Tags, fld: _Field) -> str:
    if fld.source == "sidecar":
        return f"sidecar {tags.sidecar_name}, applies to every row"
    if fld.shadowed:
        return f"column, which wins over the same field in sidecar {tags.sidecar_name}"
    return "column"


def _flags(tags: _Tags, cache: dict) -> np.ndarray:
    """Per-row :func:`parse_flag` of ``is_synthetic`` (int8)."""
    fld = _field(tags, "is_synthetic", cache)
    uflag = np.array([parse_flag(u) for u in fld.uniques] + [-2], dtype=np.int8)
    return uflag[np.where(fld.codes >= 0, fld.codes, len(fld.uniques))]


def _gate(ctx, tags: _Tags) -> None:
    """Skip the field checks when nothing asks for provenance and nothing carries it."""
    # Undeclared, only tags that are metadata count: synthetic-only columns or a sidecar. A column
    # the real data has too (an event table's ``created_at``) is data, not a provenance tag.
    extra = getattr(ctx.data, "synthetic_extra", None)
    carried = set(extra.columns if extra is not None else ()) | (
        set(tags.sidecar.fields) if tags.sidecar is not None else set())
    if _declared(ctx) or tags.sidecar_error is not None or carried & set(PROVENANCE_FIELDS):
        return
    raise IncomputableError(
        "no_provenance_tags",
        "the synthetic data carries none of the provenance tags " + ", ".join(PROVENANCE_FIELDS)
        + " (as columns or in a <data>.provenance.json sidecar); declare the required tags under "
          "'provenance:' in the config (provenance.required) to check them.")


def _row_labels(ctx, rows: np.ndarray) -> list[str]:
    """Id-column value (``ctx.row_id``) or ``hash=<16 hex>`` of the row's canonical content."""
    rows = np.asarray(rows, dtype=np.int64)
    if ctx.data.id_column is not None:
        return [ctx.row_id(int(i)) for i in rows]
    feats = ctx.data.features
    if not feats or rows.size == 0:
        return [f"row={int(i)}" for i in rows]
    from synthproof.checks.duplication._rows import canonical_hashes

    h = canonical_hashes(ctx.data.synthetic.iloc[rows], feats, ctx.data.roles)
    return [f"hash={int(x):016x}" for x in h]


def _sidecar_findings(check: Check, tags: _Tags) -> list[Finding]:
    if tags.sidecar_error is None:
        return []
    return [check.finding(scope="dataset", metric="sidecar_valid", goal="maximize", unit="boolean", value=0.0,
                          status="fail", reason_code="invalid_file", side="synthetic",
                          message=f"{tags.sidecar_error}; its fields are ignored.")]


def _row_findings(check: Check, ctx, rows: np.ndarray, describe, what: str) -> list[Finding]:
    """Row-level evidence for ``rows`` (capped at ``ctx.max_row_findings``) plus a count of the rest."""
    cap = int(ctx.max_row_findings)
    shown = rows[:cap]
    out = [check.finding(scope="row", row_id=label, side="synthetic", status="fail", reason_code="row_evidence",
                         message=f"synthetic row {label} {describe(int(i))}.")
           for i, label in zip(shown, _row_labels(ctx, shown))]
    rest = len(rows) - len(shown)
    if rest:
        out.append(check.finding(scope="dataset", metric="unlisted_rows", unit="rows", goal="minimize",
                                 value=float(rest), n_synthetic=ctx.data.synthetic.shape[0], status="fail",
                                 reason_code="row_evidence",
                                 message=f"{rest} more synthetic row(s) {what} are not listed "
                                         f"(report.max_row_findings = {cap})."))
    return out


def _rows_or_skip(tags: _Tags) -> int:
    if tags.n == 0:
        raise IncomputableError("too_few_rows", "the synthetic data has no row")
    return tags.n


# --------------------------------------------------------------------------------------------
# checks


@register
class RequiredFields(Check):
    """Every required provenance field is present and filled in enough rows.

    For each field of ``provenance.required`` (default ``generator``, ``generator_version``,
    ``created_at``, ``source_dataset``, ``is_synthetic``): is it a synthetic column or a sidecar
    field, and what share of rows hold a value (not null, not blank)? One column-scope finding per
    field; failing fields name the rows that lack them (id or content hash), at most
    ``report.max_row_findings``, plus a count of the rest.

    Notes
    -----
    * Metric: ``non_null_rate``, the share of rows with a value; unit: share of rows; range
      [0, 1]; higher is better. An absent field scores 0. A sidecar value counts for every row.
      In a declared mixed dataset (``provenance.mixed`` or ``provenance.max_synthetic_share``)
      rows flagged ``is_synthetic`` false are exempt, except for ``is_synthetic`` itself.
    * Rule: fail when the rate is below ``provenance.min_non_null_rate`` (default 1.0: every row).
      Deterministic; no false-alarm budget.
    * Runs when the config has a ``provenance:`` section, or (without one) when the synthetic data
      carries any default field; otherwise skipped with ``no_provenance_tags``.

    Raises
    ------
    IncomputableError
        ``no_provenance_tags`` (see above); ``too_few_rows`` for zero synthetic rows. An invalid
        sidecar is a failing ``invalid_file`` finding, not an error.

    References
    ----------
    W3C PROV-DM, "PROV-DM: The PROV Data Model", W3C Recommendation, 2013 (Moreau & Missier):
    an entity's generating activity and agent (``generator``, ``generator_version``), generation
    time (``created_at``) and derivation (``source_dataset``).
    """

    id = "provenance.required_fields"
    family = "provenance"
    summary = ("Each required provenance field (generator, generator_version, created_at, source_dataset, "
               "is_synthetic) is a synthetic column or a <data>.provenance.json sidecar field, set in at "
               "least provenance.min_non_null_rate of the rows; rows lacking it are named by id or hash.")
    metric = "non_null_rate"
    goal = "maximize"
    unit = "share of rows"
    value_range = "[0, 1]"
    statistical = False
    source = _PROV_DM

    def run(self, ctx) -> list[Finding]:
        tags = _tags(ctx)
        _gate(ctx, tags)
        n = _rows_or_skip(tags)
        cfg = ctx.config.provenance
        out = _sidecar_findings(self, tags)
        required = list(dict.fromkeys(cfg.required))
        if not required:
            out.append(self.finding(scope="dataset", status="pass", n_synthetic=n,
                                    message="no provenance field is required (provenance.required is empty)."))
            return out
        thr = float(cfg.min_non_null_rate)
        real_rows = None
        if _mixed(ctx) and tags.source("is_synthetic") is not None:
            real_rows = _flags(tags, ctx.cache) == 0
        failing: list[tuple[str, np.ndarray]] = []
        for name in required:
            src = tags.source(name)
            if src is None:
                out.append(self.finding(
                    scope="column", column=name, value=0.0, threshold=thr, n_synthetic=n, status="fail",
                    reason_code="missing_tag", side="synthetic",
                    message=f"required provenance field {name!r} is absent: no synthetic column and no "
                            f"sidecar field of that name."))
                continue
            fld = _field(tags, name, ctx.cache)
            scope = np.ones(n, dtype=bool) if real_rows is None or name == "is_synthetic" else ~real_rows
            present = fld.codes >= 0
            k_scope = int(scope.sum())
            k_ok = int((present & scope).sum())
            rate = k_ok / k_scope if k_scope else 1.0
            ok = k_ok >= math.ceil(thr * k_scope - 1e-9)
            rows_word = "rows" if real_rows is None or name == "is_synthetic" else "synthetic-flagged rows"
            message = (f"provenance field {name!r} ({_where(tags, fld)}) is set in {k_ok} of {k_scope} {rows_word} "
                       f"({rate:.1%}), {'at or above' if ok else 'below'} the required {thr:.1%}.")
            out.append(self.finding(scope="column", column=name, value=rate, threshold=thr, n_synthetic=k_scope,
                                    status="pass" if ok else "fail", reason_code=None if ok else "missing_tag",
                                    side="synthetic", message=message,
                                    evidence={"source": fld.source, "set": k_ok, "rows": k_scope}))
            if not ok and fld.source == "column":
                failing.append((name, scope & ~present))
        if failing:
            bad = np.logical_or.reduce([m for _, m in failing])
            rows = np.flatnonzero(bad)

            def describe(i: int) -> str:
                names = ", ".join(repr(nm) for nm, m in failing if m[i])
                return f"lacks required provenance tag(s) {names}"

            out += _row_findings(self, ctx, rows, describe, "lacking required provenance tags")
        return out


@register
class TagValues(Check):
    """Provenance tag values follow the configured rules; timestamps parse and are not in the future.

    Rules per field, tried in this order on each non-missing value (a value counts once, under the
    first rule it breaks):

    1. ``is_synthetic`` must read as a boolean (bool, 0/1, true/false, yes/no, t/f, y/n);
    2. ``provenance.allowed[field]``: the value's text is one of the listed strings (booleans
       compare as ``true``/``false``);
    3. ``provenance.patterns[field]``: the text matches the regular expression in full
       (``re.fullmatch``);
    4. timestamp fields — ``created_at``, names ending ``_at``, and fields whose pattern is
       ``"<timestamp>"`` — must parse with ``pandas.to_datetime(..., utc=True)`` (naive = UTC)
       and be no later than the run's recorded start (``ctx.started_at``, to the second; the
       current time when unknown).

    Notes
    -----
    * Metric: ``invalid_value_rate``, invalid values over non-missing values of the field; unit:
      share of tagged rows; range [0, 1]; lower is better; threshold 0 (any invalid value fails).
      A sidecar value counts for every row. Missing values are ``provenance.required_fields``'
      business. One column-scope finding per field that has a rule, with the counts per rule in
      ``evidence``; rows with invalid column values are named by id or hash (capped).
    * Runs under the same condition as ``provenance.required_fields``. Deterministic.

    Raises
    ------
    IncomputableError
        ``no_provenance_tags``; ``too_few_rows`` for zero synthetic rows.

    References
    ----------
    W3C PROV-DM (2013), ``prov:generatedAtTime``: an entity cannot be used before it was generated,
    so a generation time after the audit started is an error in the record.
    """

    id = "provenance.values"
    family = "provenance"
    summary = ("Provenance tags take allowed values and match their patterns (full match); created_at and "
               "other *_at timestamps parse and are not later than the run's start; is_synthetic reads as a "
               "boolean.")
    metric = "invalid_value_rate"
    goal = "minimize"
    unit = "share of tagged rows"
    value_range = "[0, 1]"
    statistical = False
    source = _PROV_DM

    def run(self, ctx) -> list[Finding]:
        tags = _tags(ctx)
        _gate(ctx, tags)
        n = _rows_or_skip(tags)
        cfg = ctx.config.provenance
        out = _sidecar_findings(self, tags)
        if ctx.started_at:
            start, start_label = pd.Timestamp(ctx.started_at), "the run start"
            start = start.tz_localize("UTC") if start.tzinfo is None else start.tz_convert("UTC")
        else:
            start, start_label = pd.Timestamp.now(tz="UTC"), "the current time"
        configured = list(dict.fromkeys([*cfg.required, *cfg.allowed, *cfg.patterns]))
        others = sorted(nm for nm in tags.names() - set(configured) if nm == "is_synthetic" or nm.endswith("_at"))
        failing: list[tuple[str, np.ndarray]] = []
        for name in configured + others:
            pattern = cfg.patterns.get(name)
            is_time = name == "created_at" or name.endswith("_at") or pattern == TIMESTAMP_MARK
            regex = re.compile(pattern) if pattern is not None and pattern != TIMESTAMP_MARK else None
            allowed = set(cfg.allowed[name]) if name in cfg.allowed else None
            is_flag = name == "is_synthetic"
            if not (is_time or regex is not None or allowed is not None or is_flag):
                continue
            if tags.source(name) is None:
                if name in cfg.allowed or name in cfg.patterns:
                    out.append(self.finding(scope="column", column=name, n_synthetic=n, status="skipped",
                                            reason_code="missing_tag", side="synthetic",
                                            message=f"provenance field {name!r} is absent, so its values cannot "
                                                    f"be validated (provenance.required_fields reports absence)."))
                continue
            fld = _field(tags, name, ctx.cache)
            k = len(fld.uniques)
            verdict = np.zeros(k + 1, dtype=np.int8)  # last slot: missing
            head = verdict[:k]  # a view: each rule marks only values no earlier rule marked
            if is_flag:
                bad_flag = np.fromiter((parse_flag(u) < 0 for u in fld.uniques), dtype=bool, count=k)
                head[bad_flag & (head == _OK)] = _NOT_FLAG
            if allowed is not None or regex is not None:
                texts = [_text(u) for u in fld.uniques]
                if allowed is not None:
                    hit = np.fromiter((t not in allowed for t in texts), dtype=bool, count=k)
                    head[hit & (head == _OK)] = _NOT_ALLOWED
                if regex is not None:
                    hit = np.fromiter((regex.fullmatch(t) is None for t in texts), dtype=bool, count=k)
                    head[hit & (head == _OK)] = _NO_MATCH
            if is_time:
                times = _times(fld.uniques)
                nat = np.asarray(times.isna())
                head[nat & (head == _OK)] = _NOT_TIME
                later = np.asarray(times.floor("s") > start) & ~nat
                head[later & (head == _OK)] = _FUTURE
            per_row = verdict[np.where(fld.codes >= 0, fld.codes, len(fld.uniques))]
            counts = np.bincount(per_row, minlength=6)
            tagged = int((fld.codes >= 0).sum())
            bad = int(counts[_OK + 1:].sum())  # missing rows map to the _OK slot
            where = _where(tags, fld)
            if tagged == 0:
                out.append(self.finding(scope="column", column=name, n_synthetic=n, status="skipped",
                                        reason_code="missing_tag", side="synthetic",
                                        message=f"provenance field {name!r} ({where}) holds no value to validate."))
                continue
            evidence = {key: int(counts[code]) for code, key in _RULE_KEYS.items()}
            evidence.update(source=fld.source, tagged=tagged)
            if bad:
                per_unique = np.bincount(fld.codes[fld.codes >= 0], minlength=len(fld.uniques))
                bad_idx = np.flatnonzero(head != _OK)
                worst = int(bad_idx[np.argmax(per_unique[bad_idx])])  # most frequent; ties: first seen
                what = {_NOT_FLAG: "not a boolean flag", _NOT_ALLOWED: "not an allowed value",
                        _NO_MATCH: f"not matching the pattern {_quote(pattern)}",
                        _NOT_TIME: "not a timestamp", _FUTURE: f"later than {start_label}"}
                parts = ", ".join(f"{int(counts[c])} {what[c]}" for c in _RULE_KEYS if counts[c])
                message = (f"provenance field {name!r} ({where}) has {bad} invalid value(s) of {tagged} ({parts}), "
                           f"e.g. {_quote(fld.uniques[worst])}.")
            else:
                rules = ((["read as booleans"] if is_flag else []) + (["are allowed"] if allowed is not None else [])
                         + ([f"match {_quote(pattern)}"] if regex is not None else [])
                         + ([f"are timestamps no later than {start_label}"] if is_time else []))
                message = f"provenance field {name!r} ({where}): all {tagged} value(s) {' and '.join(rules)}."
            out.append(self.finding(scope="column", column=name, value=bad / tagged, threshold=0.0, n_synthetic=tagged,
                                    status="fail" if bad else "pass", reason_code="invalid_value" if bad else None,
                                    side="synthetic", message=message, evidence=evidence))
            if bad and fld.source == "column":
                failing.append((name, per_row))
        if failing:
            words = {_NOT_FLAG: "not a boolean", _NOT_ALLOWED: "not allowed", _NO_MATCH: "not matching its pattern",
                     _NOT_TIME: "not a timestamp", _FUTURE: f"later than {start_label}"}
            rows = np.flatnonzero(np.logical_or.reduce([r > 0 for _, r in failing]))

            def describe(i: int) -> str:
                return "has invalid provenance tag(s): " + ", ".join(
                    f"{nm!r} {words[int(r[i])]}" for nm, r in failing if r[i] > 0)

            out += _row_findings(self, ctx, rows, describe, "with invalid provenance tags")
        if not out:
            out.append(self.finding(scope="dataset", status="pass", n_synthetic=n,
                                    message="no provenance field has a value rule (provenance.allowed, "
                                            "provenance.patterns, timestamps or is_synthetic)."))
        return out


@register
class SyntheticShare(Check):
    """Share of synthetic rows in a declared mixed real+synthetic dataset, against a maximum.

    The share is the rows whose ``is_synthetic`` reads true over the rows whose flag reads at all
    (bool, 0/1, true/false, yes/no, t/f, y/n); unreadable and missing flags are counted and
    reported, not guessed. A sidecar ``is_synthetic`` applies to every row (share 0 or 1).

    Notes
    -----
    * Metric: ``synthetic_share``; unit: share of rows; range [0, 1]; lower is better (more real
      data kept in the mix). ``ci_low``/``ci_high``: the 95% Clopper–Pearson interval
      (``scipy.stats.binomtest(...).proportion_ci(method="exact")``).
    * Rule: fail when the share exceeds ``provenance.max_synthetic_share`` (deterministic; the
      interval is reported, not used). With ``provenance.mixed: true`` and no maximum it reports
      the share and passes. A declared mixed dataset without an ``is_synthetic`` tag fails.
    * Runs only when ``provenance.max_synthetic_share`` is set or ``provenance.mixed`` is true;
      otherwise skipped with ``not_configured`` (an all-synthetic file is not a failure).

    Raises
    ------
    IncomputableError
        ``not_configured``; ``too_few_rows`` for zero rows.

    References
    ----------
    Shumailov et al., "AI models collapse when trained on recursively generated data", Nature 631
    (2024); Gerstgrasser et al., "Is Model Collapse Inevitable? Breaking the Curse of Recursion by
    Accumulating Real and Synthetic Data", arXiv:2404.01413 (2024): keeping real data in the
    training mix is what prevents collapse, so its share is worth bounding.
    """

    id = "provenance.synthetic_share"
    family = "provenance"
    summary = ("In a declared mixed dataset (provenance.mixed or provenance.max_synthetic_share), the share of "
               "rows flagged is_synthetic, with a Clopper-Pearson interval, is at most "
               "provenance.max_synthetic_share; skipped otherwise.")
    metric = "synthetic_share"
    goal = "minimize"
    unit = "share of rows"
    value_range = "[0, 1]"
    statistical = False
    source = ("Shumailov et al. 2024 (Nature 631); Gerstgrasser et al. 2024, 'Is Model Collapse Inevitable?' "
              "(arXiv:2404.01413): accumulate real data alongside synthetic")

    def run(self, ctx) -> list[Finding]:
        cfg = ctx.config.provenance
        if not _mixed(ctx):
            raise IncomputableError(
                "not_configured",
                "the synthetic share is checked only for a dataset declared mixed: set "
                "provenance.max_synthetic_share (or provenance.mixed: true); an all-synthetic file is not a failure.")
        tags = _tags(ctx)
        n = _rows_or_skip(tags)
        limit = cfg.max_synthetic_share
        if tags.source("is_synthetic") is None:
            return _sidecar_findings(self, tags) + [self.finding(
                scope="column", column="is_synthetic", threshold=limit, n_synthetic=n, status="fail",
                reason_code="missing_tag", side="synthetic",
                message="the dataset is declared mixed but has no is_synthetic column or sidecar field, so the "
                        "synthetic share cannot be measured.")]
        fld = _field(tags, "is_synthetic", ctx.cache)
        flags = _flags(tags, ctx.cache)
        k, m = int((flags == 1).sum()), int((flags >= 0).sum())
        unread, missing = int((flags == -1).sum()), int((flags == -2).sum())
        evidence = {"true": k, "false": m - k, "unreadable": unread, "missing": missing, "source": fld.source}
        tail = (f"; {unread} row(s) with an unreadable flag and {missing} without one are left out"
                if unread or missing else "")
        if m == 0:
            return [self.finding(scope="column", column="is_synthetic", threshold=limit, n_synthetic=n,
                                 status="fail", reason_code="missing_tag", side="synthetic", evidence=evidence,
                                 message=f"no row has a readable is_synthetic flag ({unread} unreadable, "
                                         f"{missing} missing), so the synthetic share cannot be measured.")]
        from scipy.stats import binomtest

        ci = binomtest(k, m).proportion_ci(confidence_level=0.95, method="exact")
        share = k / m
        fail = limit is not None and share > limit
        origin = ("the is_synthetic column" if fld.source == "column"
                  else f"is_synthetic of sidecar {tags.sidecar_name}, which applies to every row")
        head = (f"synthetic share {share:.3f} (95% CI [{ci.low:.3f}, {ci.high:.3f}]; {k} of {m} rows flagged "
                f"true by {origin})")
        if limit is None:
            verdict = " with no maximum configured (provenance.max_synthetic_share)"
        else:
            verdict = f" is {'above' if fail else 'at or below'} the maximum {limit:g}"
        return [self.finding(scope="dataset", column="is_synthetic", value=share, threshold=limit,
                             ci_low=float(ci.low), ci_high=float(ci.high), n_synthetic=m,
                             status="fail" if fail else "pass", reason_code="above_max_share" if fail else None,
                             side="synthetic", evidence=evidence, message=f"{head}{verdict}{tail}.")]
