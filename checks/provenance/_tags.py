"""Provenance tags as the field checks read them: the tag columns and the sidecar of one run, tag
values as messages quote them, and the row-level evidence the checks share (see :mod:`.checks` for
the rules; tag values are parsed by :mod:`synthproof.provenance.tags`)."""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import pandas as pd

from synthproof.check import Check
from synthproof.errors import IncomputableError
from synthproof.findings import Finding
from synthproof.provenance.sidecar import Sidecar, SidecarError, default_sidecar_path, load_sidecar
from synthproof.provenance.tags import is_missing_tag, parse_flag
from synthproof.schema import PROVENANCE_FIELDS
from synthproof.stats.hashing import canonical_hashes

#: A ``provenance.patterns`` value that marks a field as a timestamp instead of giving a regex.
TIMESTAMP_MARK = "<timestamp>"
_QUOTE_MAX = 60
_PROV_DM = ("W3C PROV-DM (Moreau & Missier 2013): lineage as wasGeneratedBy (generator, generator_version), "
            "generatedAtTime (created_at), wasDerivedFrom (source_dataset)")

# Per-value verdicts of provenance.values, in the order the rules are tried.
_OK, _NOT_FLAG, _NOT_ALLOWED, _NO_MATCH, _NOT_TIME, _FUTURE = range(6)
_RULE_KEYS = {_NOT_FLAG: "not_boolean", _NOT_ALLOWED: "not_allowed", _NO_MATCH: "pattern_mismatch",
              _NOT_TIME: "unparseable_timestamp", _FUTURE: "future_timestamp"}


# --------------------------------------------------------------------------------------------
# tag values in messages


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
    """The synthetic rows' provenance tags and the sidecar (artefact ``tags``)."""
    return ctx.artefact("tags", "tags", lambda: _build_tags(ctx))


def _build_tags(ctx) -> _Tags:
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
    sidecar, name, error = _sidecar(ctx)
    return _Tags(len(syn), columns, sidecar, name, error)


def _sidecar(ctx) -> tuple[Sidecar | None, str | None, str | None]:
    """The run's provenance sidecar (``provenance.sidecar``, else ``<synthetic>.provenance.json``
    when it exists): ``(sidecar, file name, error)``. A small metadata file, not the rows."""
    cfg = ctx.config.provenance
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
    return sidecar, name, error


def _encode(values: pd.Series) -> tuple[np.ndarray, list]:
    """Factorise a tag column; missing (incl. blank strings) -> -1. Mixed Python types stay apart."""
    if values.dtype == object:
        arr = values.to_numpy()
        kinds = {type(v) for v in arr.tolist() if not is_missing_tag(v)}
        if len(kinds) > 1:  # True == 1 == 1.0 would merge when hashed
            keys = pd.Series([(type(v).__name__, v) if not is_missing_tag(v) else None for v in arr.tolist()],
                             dtype=object)
            codes, ukeys = pd.factorize(keys, use_na_sentinel=True)
            return codes.astype(np.int64), [k[1] for k in ukeys]
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    uniques = list(uniques)
    keep = np.array([not is_missing_tag(u) for u in uniques], dtype=bool)
    if keep.all():
        return codes.astype(np.int64), uniques
    remap = np.where(keep, np.cumsum(keep) - 1, -1)
    codes = np.where(codes >= 0, remap[np.maximum(codes, 0)] if len(remap) else -1, -1)
    return codes.astype(np.int64), [u for u, k in zip(uniques, keep) if k]


def _field(tags: _Tags, name: str, ctx) -> _Field:
    """The encoded tag ``name`` (artefact ``tags``)."""
    def build() -> _Field:
        if name in tags.columns:
            codes, uniques = _encode(tags.columns[name])
            shadowed = tags.sidecar is not None and name in tags.sidecar.fields
            return _Field(name, "column", shadowed, codes, uniques)
        v = tags.sidecar.fields[name]
        miss = is_missing_tag(v)
        return _Field(name, "sidecar", False, np.full(tags.n, -1 if miss else 0, dtype=np.int64),
                      [] if miss else [v])

    return ctx.artefact("tags", f"field:{name}", build)


def _where(tags: _Tags, fld: _Field) -> str:
    if fld.source == "sidecar":
        return f"sidecar {tags.sidecar_name}, applies to every row"
    if fld.shadowed:
        return f"column, which wins over the same field in sidecar {tags.sidecar_name}"
    return "column"


def _flags(tags: _Tags, ctx) -> np.ndarray:
    """Per-row :func:`parse_flag` of ``is_synthetic`` (int8)."""
    fld = _field(tags, "is_synthetic", ctx)
    uflag = np.array([parse_flag(u) for u in fld.uniques] + [-2], dtype=np.int8)
    return uflag[np.where(fld.codes >= 0, fld.codes, len(fld.uniques))]


def _gate(ctx) -> None:
    """Skip the field checks when nothing asks for provenance and nothing carries it — decided
    from the config, the column names and the sidecar alone, before any row is read (so it is the
    same out of core)."""
    # Undeclared, only tags that are metadata count: synthetic-only columns or a sidecar. A column
    # the real data has too (an event table's ``created_at``) is data, not a provenance tag.
    if _declared(ctx):
        return
    sidecar, _, error = _sidecar(ctx)
    carried = set(ctx.prepared.synthetic_only) | (set(sidecar.fields) if sidecar is not None else set())
    if error is not None or carried & set(PROVENANCE_FIELDS):
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
