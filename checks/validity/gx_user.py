"""``validity.gx_suite``: the user's own Great Expectations 1.x suite, run on the synthetic data.

The derived, calibrated suite is in :mod:`.gx`; this module shares its GX plumbing (ephemeral
context, suite loading, result reading).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from synthproof.calibration import fmt
from synthproof.check import Check, Param, register
from synthproof.errors import IncomputableError
from synthproof.findings import Finding

from .gx import _CATEGORICAL, _bounded, _pct, import_gx, load_suite, run_expectations


def user_frame(data, max_rows: int | None, seed: int, purpose: str) -> pd.DataFrame:
    """The synthetic data as a user's suite sees it: canonical columns with datetime columns restored
    to timestamps and categories as strings, plus synthetic-only provenance columns."""
    frame = data.synthetic.copy()
    for c in frame.columns:
        role = data.roles.get(c)
        if role == "datetime":
            frame[c] = pd.to_datetime(frame[c], unit="s")
        elif role in _CATEGORICAL:
            frame[c] = frame[c].astype(object).where(frame[c].notna(), None)
    extra = data.synthetic_extra
    if extra is not None and len(extra) == len(frame):
        for c in extra.columns:
            if c not in frame.columns:
                frame[c] = extra[c].to_numpy()
    return _bounded(frame, max_rows, seed, "synthetic", purpose)


@register
class UserExpectationSuite(Check):
    """Run the user's Great Expectations 1.x suite (``validity.gx_suite``: a JSON file as
    ``ExpectationSuite.to_json_dict()`` writes it, read with ``json``) on the synthetic data.

    Each expectation result is one finding (``metric`` = its type; ``value`` = the unexpected
    fraction, or the observed value when numeric); GX's ``success: false`` is ``fail`` — the
    user's own thresholds decide, so the check is not statistical and takes no share of the
    gate's false-alarm budget. An expectation GX cannot evaluate (e.g. a column that does not exist)
    is an ``error`` finding. Without a configured suite: ``skipped`` (``not_configured``); a missing
    or invalid file: one ``error`` finding (``invalid_suite``), the run goes on.

    The batch is synthproof's canonical synthetic frame: numeric columns as float64, datetime
    columns as timestamps, categorical/boolean columns as strings, plus synthetic-only provenance
    columns; at most ``max_rows`` rows (all by default — table-level expectations such as row counts
    see the sample otherwise).
    """

    id = "validity.gx_suite"
    needs = ("rows",)
    version = "2"  # bottom-k samples keyed by row id (issue 12)
    family = "validity"
    summary = "Runs the user's Great Expectations 1.x suite (validity.gx_suite) on the synthetic data."
    metric = "unexpected_fraction"
    unit = "fraction of values (or the expectation's observed value)"
    value_range = "[0, 1] or the observed value"
    computation = "whole"
    computation_note = ("the user's expectations see every synthetic row; max_rows (unset by default) validates a "
                        "seeded sample instead, and table-level expectations then see the sample")
    statistical = False
    source = "Great Expectations 1.x (docs.greatexpectations.io); the user's own expectations and thresholds"
    params = {"max_rows": Param("int", None, "validate a seeded sample of at most this many rows (default: all)",
                                low=1)}

    def run(self, ctx) -> list[Finding]:
        path = ctx.config.validity.gx_suite
        if not path:
            raise IncomputableError("not_configured", "no user suite configured (validity.gx_suite); "
                                                      "nothing to run.")
        import_gx()
        try:
            name, expectations = load_suite(path)
        except ValueError as exc:
            return [self.finding(scope="dataset", status="error", reason_code="invalid_suite",
                                 message=f"user suite not run: {exc}.")]
        frame = user_frame(ctx.data, self.max_rows, ctx.seed, self.id)
        results = run_expectations(expectations, frame, name)
        out = []
        for i, (e, r) in enumerate(zip(expectations, results)):
            col = e["kwargs"].get("column")
            col = col if isinstance(col, str) else None
            what = f"expectation #{i + 1} {e['type']}" + (f" on column {col!r}" if col else "")
            value, detail = _user_value(r.result)
            if r.exception:
                first = (r.exception.strip().splitlines() or ["error"])[0]
                status, reason, msg = "error", "expectation_error", f"{what}: GX could not evaluate it ({first[:200]})."
            elif r.success:
                status, reason, msg = "pass", None, f"{what}: met{detail}."
            else:
                status, reason, msg = "fail", "expectation_failed", f"{what}: not met{detail}."
            mostly = e["kwargs"].get("mostly")
            out.append(self.finding(
                scope="column" if col else "dataset", column=col, metric=e["type"], value=value,
                threshold=(1.0 - float(mostly)) if isinstance(mostly, (int, float)) else None,
                n_synthetic=int(r.result.get("element_count") or len(frame)), status=status, reason_code=reason,
                message=msg))
        if not out:
            out.append(self.finding(scope="dataset", status="pass", value=0.0,
                                    message=f"user suite {name!r} holds no expectation."))
        return out


def _user_value(res: dict) -> tuple[float | None, str]:
    """The value of a user expectation's result and a short deterministic phrase (no values quoted)."""
    if res.get("unexpected_percent") is not None and res.get("element_count") is not None:
        frac = float(res["unexpected_percent"]) / 100.0
        return frac, f" ({_pct(frac)} of non-missing values unexpected)"
    obs = res.get("observed_value")
    if isinstance(obs, (bool, np.bool_)):
        return float(obs), ""
    if isinstance(obs, (int, float, np.integer, np.floating)) and np.isfinite(float(obs)):
        return float(obs), f" (observed {fmt(float(obs))})"
    return None, ""
