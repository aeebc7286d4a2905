"""What the privacy attacks share: the training, control and synthetic samples and their Gower
encoding, the exact test of "training vs control", and the findings' wording.

Every attack runs twice with the same synthetic data: against **training** records (the real
input, which the generator was fitted on) and against **control** records (the holdout, which it
never saw). When the synthetic data leak nothing about their training records the two are
exchangeable — any record could have been the one left out — so an attack's successes split
between training and control targets like a random relabelling: Fisher's exact (hypergeometric)
test of the training successes given the total is the null, and the permutation of record labels
for attacks whose success depends on a whole set (singling out).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import hypergeom

from synthproof.calibration import Discrete, Verdict, fmt
from synthproof.errors import IncomputableError
from synthproof.stats.privacy import Encoded, Risk, bounded, encode, success_rate, residual_risk

MIN_RECORDS = 50  # training and control records each, after deduplication
PURPOSE = "privacy"  # one sample key: every privacy check attacks the same records


@dataclass(frozen=True)
class AttackSets:
    """Deduplicated training and control records (equal numbers, in seeded priority order: any
    prefix is a uniform sample) and the synthetic sample, encoded on shared scales.

    ``frames`` holds the rows as read (``train``, ``control``, ``synthetic``) for secrets' raw
    values; ``positions`` their frame positions; ``numeric``/``categorical`` the encoded columns."""

    train: Encoded
    control: Encoded
    synthetic: Encoded
    frames: dict
    positions: dict
    numeric: list[str]
    categorical: list[str]

    @property
    def n(self) -> int:
        return len(self.train)

    def index(self, column: str) -> tuple[str, int]:
        """``("num", j)`` or ``("cat", j)`` of an encoded column."""
        if column in self.numeric:
            return "num", self.numeric.index(column)
        return "cat", self.categorical.index(column)


def attack_columns(ctx) -> tuple[list[str], list[str]]:
    """Feature columns of all three sides: ``(numeric and datetime, categorical and boolean)``.

    Raises
    ------
    IncomputableError
        No such column (``no_applicable_columns``).
    """
    roles = ctx.data.roles
    hold = ctx.data.holdout
    cols = [c for c in ctx.data.features if c in hold.columns and c in ctx.data.synthetic.columns]
    num = [c for c in cols if roles[c] in ("numeric", "datetime")]
    cat = [c for c in cols if roles[c] in ("categorical", "boolean")]
    if not num and not cat:
        raise IncomputableError("no_applicable_columns", "the holdout shares no feature column with the inputs")
    return num, cat


def _distinct(frame: pd.DataFrame, positions: np.ndarray) -> np.ndarray:
    keep = ~frame.iloc[positions].reset_index(drop=True).duplicated().to_numpy()
    return positions[keep]


def attack_sets(ctx, max_records: int, max_synthetic: int) -> AttackSets:
    """The records every privacy check attacks (see :class:`AttackSets`): up to ``max_records``
    distinct training and as many distinct control records, up to ``max_synthetic`` synthetic rows.

    Raises
    ------
    IncomputableError
        Fewer than :data:`MIN_RECORDS` distinct records on a side (``too_few_rows``).
    """
    num, cat = attack_columns(ctx)
    cols = num + cat
    d = ctx.data
    h = int(min(ctx.pool_size("real"), ctx.pool_size("holdout"), max_records))
    t = _distinct(d.real[cols], ctx.ranked("real", h, PURPOSE))
    c = _distinct(d.holdout[cols], ctx.ranked("holdout", h, PURPOSE))
    n = min(len(t), len(c))
    s = ctx.sample("synthetic", int(min(ctx.pool_size("synthetic"), max_synthetic)), PURPOSE)
    if min(n, len(s)) < MIN_RECORDS:
        raise IncomputableError("too_few_rows", f"only {min(n, len(s))} distinct records on a side "
                                                f"(the attacks need {MIN_RECORDS} training, control and synthetic)")
    t, c = t[:n], c[:n]
    frames = {"train": d.real.iloc[t][cols].reset_index(drop=True),
              "control": d.holdout.iloc[c][cols].reset_index(drop=True),
              "synthetic": d.synthetic.iloc[s][cols].reset_index(drop=True)}
    et, ec, es = encode([frames["train"], frames["control"], frames["synthetic"]], num, cat)
    return AttackSets(et, ec, es, frames, {"train": t, "control": c, "synthetic": s}, num, cat)


# -- the exact test ---------------------------------------------------------------------------------

def raw_risk(a, c, n: int):
    """``(a - c) / max(n - c, 1)``: the risk of raw success rates ``a/n`` (training) and ``c/n``
    (control); where the control succeeded every time, ``a - n <= 0`` (nothing left to gain; the
    floor of 1 keeps the risk increasing in ``a`` at a fixed ``a + c``). Range [-n, 1]; larger is worse."""
    a, c = np.asarray(a, dtype=float), np.asarray(c, dtype=float)
    return (a - c) / np.maximum(n - c, 1.0)


def fisher_null(n: int, total: int) -> Discrete:
    """Null of :func:`raw_risk` for ``n`` training and ``n`` control targets with ``total``
    successes in all: the training successes are hypergeometric (Fisher's exact test, one-sided),
    since under "the synthetic data do not depend on which records were training" each success is
    as likely to be a training as a control target's. ``raw_risk`` increases with the training
    successes at a fixed total, so ``P(risk >= r)`` is the exact one-sided p-value."""
    a = np.arange(max(0, total - n), min(total, n) + 1)
    return Discrete(raw_risk(a, total - a, n), hypergeom.pmf(a, 2 * n, total, n))


def null_grid(dist) -> np.ndarray:
    """The null's central quantiles (0.5% ... 99.5%): the ``baseline`` a comparison reports."""
    return np.array([dist.ppf(q) for q in np.linspace(0.005, 0.995, 199)])


def anonymeter_risk(n: int, hits_train: float, hits_control: float) -> Risk:
    """Anonymeter's risk with its 95% error (Wilson rates; :func:`~synthproof.stats.privacy.residual_risk`),
    the control's rate capped just below 1 so that a control that always succeeds gives risk 0."""
    a = success_rate(n, hits_train)
    c = success_rate(n, hits_control)
    if c.value >= 1.0:
        c = type(c)(1.0 - 1e-12, c.error)
    return Risk(a, c, residual_risk(a, c), n)


def risk_evidence(risk: Risk, hits_train: float, hits_control: float) -> dict:
    """The numbers a reviewer reads: rates and risk with their 95% intervals (Anonymeter's)."""
    value, lo, hi = bounded(risk.risk.value, risk.risk.error)
    return {"chart": "risk", "n_attacks": int(risk.n_attacks), "successes_training": float(hits_train),
            "successes_control": float(hits_control),
            "attack_rate": [round(x, 6) for x in bounded(risk.attack.value, risk.attack.error)],
            "control_rate": [round(x, 6) for x in bounded(risk.control.value, risk.control.error)],
            "risk": [round(value, 6), round(lo, 6), round(hi, 6)]}


def verdict_tail(v: Verdict, min_effect: float, value: float, harm: str) -> str:
    """The end of a privacy finding's sentence: what the verdict means."""
    p = f"p={fmt(v.p_value)}"
    return {
        "beyond_baseline": f" ({p}): beyond the corrected threshold {fmt(v.threshold)} and more than the minimum "
                           f"effect {fmt(min_effect)} — {harm}",
        "fdr_only": f" ({p}): above the minimum effect {fmt(min_effect)} and significant at the FDR level, but "
                    f"below the corrected threshold {fmt(v.threshold)}.",
        "below_min_effect": f" ({p}): statistically detectable but within the minimum effect {fmt(min_effect)}.",
        "underpowered": f" ({p}): at this number of attacks only effects above {fmt(v.mde)} are detectable "
                        f"(minimum effect {fmt(min_effect)}).",
        None: f" ({p}): no more than against records the generator never saw.",
    }[v.reason_code] if not (v.reason_code == "underpowered" and value - v.baseline_median > min_effect) else (
        f" ({p}): above the minimum effect {fmt(min_effect)} but not significant; at this number of attacks only "
        f"effects above {fmt(v.mde)} are detectable (underpowered).")


def risk_sentence(label: str, risk: Risk, a: float, c: float, what: str) -> str:
    """``"<label> 0.036 (95% interval [0.027, 0.045]): 74 of 2000 training vs 2 of 2000 control ..."``."""
    value, lo, hi = bounded(risk.risk.value, risk.risk.error)
    return (f"{label} {fmt(value)} (95% interval [{fmt(lo)}, {fmt(hi)}]): the attack succeeded on "
            f"{fmt(a)} of {risk.n_attacks} training records and {fmt(c)} of {risk.n_attacks} holdout (control) "
            f"records {what}")
