"""Provenance-tag checks: is every synthetic row labelled with where it came from?

A provenance *field* (``generator``, ``generator_version``, ``created_at``, ``source_dataset``,
``is_synthetic`` by default; ``provenance.required`` in the config) is read from a column of the
synthetic data or from the sidecar file ``<data>.provenance.json`` (:mod:`synthproof.provenance.sidecar`), whose values
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

import math
import re

import numpy as np
import pandas as pd

from synthproof.check import Check, register
from synthproof.errors import IncomputableError
from synthproof.findings import Finding
from synthproof.provenance.tags import parse_flag, parse_timestamp_index

from ._tags import (TIMESTAMP_MARK, _FUTURE, _NOT_ALLOWED, _NOT_FLAG, _NOT_TIME, _NO_MATCH, _OK, _PROV_DM, _RULE_KEYS,
                    _field, _flags, _gate, _mixed, _quote, _row_findings, _rows_or_skip,
                    _sidecar_findings, _tags, _text, _where)

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
    needs = ("rows", "tags")
    family = "provenance"
    summary = ("Each required provenance field (generator, generator_version, created_at, source_dataset, "
               "is_synthetic) is a synthetic column or a <data>.provenance.json sidecar field, set in at "
               "least provenance.min_non_null_rate of the rows; rows lacking it are named by id or hash.")
    metric = "non_null_rate"
    computation = "mergeable"
    goal = "maximize"
    unit = "share of rows"
    value_range = "[0, 1]"
    statistical = False
    source = _PROV_DM

    def run(self, ctx) -> list[Finding]:
        _gate(ctx)
        tags = _tags(ctx)
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
            real_rows = _flags(tags, ctx) == 0
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
            fld = _field(tags, name, ctx)
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
    needs = ("rows", "tags")
    family = "provenance"
    summary = ("Provenance tags take allowed values and match their patterns (full match); created_at and "
               "other *_at timestamps parse and are not later than the run's start; is_synthetic reads as a "
               "boolean.")
    metric = "invalid_value_rate"
    computation = "mergeable"
    goal = "minimize"
    unit = "share of tagged rows"
    value_range = "[0, 1]"
    statistical = False
    source = _PROV_DM

    def run(self, ctx) -> list[Finding]:
        _gate(ctx)
        tags = _tags(ctx)
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
            fld = _field(tags, name, ctx)
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
                times = parse_timestamp_index(fld.uniques)
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
    needs = ("rows", "tags")
    family = "provenance"
    summary = ("In a declared mixed dataset (provenance.mixed or provenance.max_synthetic_share), the share of "
               "rows flagged is_synthetic, with a Clopper-Pearson interval, is at most "
               "provenance.max_synthetic_share; skipped otherwise.")
    metric = "synthetic_share"
    computation = "mergeable"
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
        fld = _field(tags, "is_synthetic", ctx)
        flags = _flags(tags, ctx)
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
