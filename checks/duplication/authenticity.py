"""``duplication.authenticity``: Alaa et al.'s unauthentic synthetic rows, against the holdout.

A synthetic row is *unauthentic* when it lies nearer to its nearest real row than that real row
lies to any other real row (:func:`synthproof.stats.fidelity.unauthentic`; Alaa et al., "How
Faithful is your Synthetic Data?", ICML 2022): it sits on a real record. Real rows are unauthentic
too by chance (about 40% of Adult's rows against other Adult rows), and a generator whose rows
fall off the real data's lattice far less, so a comparison with real rows would say little. The
verdict instead counts the synthetic rows unauthentic against the TRAINING rows and, as the
control, against as many HOLDOUT rows: a generator that memorised nothing sits on training records
no more often than on records it never saw. The null relabels the pooled training and holdout
rows (:func:`synthproof.stats.fidelity.unauthentic_relabelled`), fitted normal. The privacy
family's membership inference is the sharper test of the same harm, so this check warns by default.
"""

from __future__ import annotations

import numpy as np

import dataclasses

from synthproof.calibration import Comparison, fmt, judge
from synthproof.check import Param, register
from synthproof.checks._duplicates import MIN_ROWS, feature_columns
from synthproof.checks.privacy._setup import verdict_tail
from synthproof.errors import IncomputableError
from synthproof.findings import Finding
from synthproof.stats.features import distance_features
from synthproof.stats.fidelity import unauthentic, unauthentic_relabelled

from .checks import _DistanceCheck


@register
class Authenticity(_DistanceCheck):
    id = "duplication.authenticity"
    needs = ("row_sample", "row_pool")
    default_severity = "warn"
    needs_holdout = True
    summary = ("Unauthentic share (Alaa et al.): synthetic rows nearer to their nearest training row than it is to "
               "any other, beyond the same share against as many holdout rows.")
    metric = "unauthentic_share"
    label = "Unauthentic share"
    source = ("Alaa et al. 2022, ICML (How Faithful is your Synthetic Data?: authenticity); holdout control with a "
              "relabelling null (this project)")
    params = {
        "min_effect": Param("float", 0.02, "minimum excess unauthentic share worth failing", low=0.0, high=1.0),
        "max_rows": Param("int", 5000, "training, holdout and synthetic rows compared (seeded sample)", low=20),
        "n_permutations": Param("int", 200, "relabellings of the pooled training and holdout rows", low=50,
                                high=100_000),
    }

    def run(self, ctx) -> list[Finding]:
        hold = ctx.data.holdout
        cols = [c for c in feature_columns(ctx) if c in hold.columns]
        if not cols:
            raise IncomputableError("no_applicable_columns", "the holdout shares no feature column")
        h = int(min(ctx.pool_size("real"), ctx.pool_size("holdout"), self.max_rows))
        m = int(min(ctx.pool_size("synthetic"), self.max_rows))
        if min(h, m) < MIN_ROWS:
            raise IncomputableError("too_few_rows", f"only {min(h, m)} rows")
        t_idx, h_idx = ctx.sample("real", h, self.id), ctx.sample("holdout", h, self.id)
        s_idx = ctx.sample("synthetic", m, self.id)
        xt, xh, xs = distance_features(ctx.data.real.iloc[t_idx], [hold.iloc[h_idx], ctx.data.synthetic.iloc[s_idx]],
                                       cols, ctx.data.roles)
        a, c, nt, nc = unauthentic_relabelled(np.vstack([xt, xh]), h, xs, self.n_permutations, ctx.rng(self.id))
        (v,) = judge([Comparison((a - c) / m, (nt - nc) / m, self.min_effect, null="normal")], ctx.alpha, ctx.fdr_q)
        msg = (f"{self.label} {fmt(a / m)}: {a} of {m} synthetic rows lie nearer to their nearest of {h} training rows "
               f"than it lies to any other, vs {c} against as many holdout rows (the control; excess "
               f"{fmt((a - c) / m)})" + verdict_tail(v, self.min_effect, (a - c) / m,
                                                     "synthetic rows sit on training records."))
        f = self.judged_finding(v, scope="dataset", value=a / m, matched_value=(a - c) / m, n_real=2 * h,
                                n_synthetic=m, message=msg,
                                evidence={"unauthentic_training": a, "unauthentic_control": c, "rows": m,
                                          "authenticity": round(1 - a / m, 6)})
        rows = []
        if v.status in ("fail", "warn"):
            flagged = s_idx[unauthentic(xt, xs)]
            rows = [dataclasses.replace(r, status=v.status) for r in self.rows(
                ctx, "fail", flagged, "lies nearer to a training row than any other training row does.")]
        return [f] + rows
