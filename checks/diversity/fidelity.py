"""``diversity.alpha_precision``: Alaa et al.'s Δ-precision (fidelity) and Δ-recall (coverage)
curves of the synthetic rows against real rows (:mod:`synthproof.stats.fidelity`), each judged by
relabelling the compared real part and the synthetic rows (the null of "one distribution").

The curves summarise what ``drift.detection_auc`` (fidelity) and ``diversity.prdc`` (coverage)
already judge, so the check warns by default rather than taking a share of the gate's alpha.
"""

from __future__ import annotations

import numpy as np

from synthproof.calibration import Comparison, describe, judge
from synthproof.check import Check, Param, register
from synthproof.checks._duplicates import MIN_ROWS, feature_columns
from synthproof.errors import IncomputableError
from synthproof.findings import Finding
from synthproof.stats.features import distance_features
from synthproof.stats.fidelity import alphas, delta, precision_curve, recall_curve, relabelled_deltas


@register
class AlphaPrecisionBetaRecall(Check):
    id = "diversity.alpha_precision"
    family = "diversity"
    needs = ("row_sample", "row_pool")
    computation = "sample"
    default_severity = "warn"
    summary = ("α-precision and β-recall (Alaa et al.): losses 1 - Δ of the fidelity and coverage curves of the "
               "synthetic rows against real rows, vs relabelled real and synthetic rows.")
    metric = "alpha_precision_loss"
    goal = "minimize (1 - Δ-precision; 1 - Δ-recall)"
    value_range = "[0, inf)"
    source = ("Alaa et al. 2022, ICML (How Faithful is your Synthetic Data?); synthcity AlphaPrecision (naive: no "
              "one-class embedding)")
    params = {
        "min_effect": Param("float", 0.05, "minimum excess loss worth failing", low=0.0, high=1.0),
        "max_rows": Param("int", 5000, "rows per compared part and in the reference (seeded sample)", low=20),
        "n_permutations": Param("int", 100, "relabellings for the null", low=20, high=10_000),
    }

    def run(self, ctx) -> list[Finding]:
        n_r, n_s = ctx.pool_size("real"), ctx.pool_size("synthetic")
        m = int(min(n_s, n_r // 2, self.max_rows))
        if m < MIN_ROWS:
            raise IncomputableError("too_few_rows", f"only {m} rows per part (needs two real parts)")
        perm = ctx.ranked("real", m + min(n_r - m, self.max_rows), self.id)
        b_idx, a_idx = np.sort(perm[:m]), np.sort(perm[m:])
        s_idx = ctx.sample("synthetic", m, self.id)
        xa, xb, xs = distance_features(ctx.data.real.iloc[a_idx], [ctx.data.real.iloc[b_idx],
                                                                    ctx.data.synthetic.iloc[s_idx]],
                                       feature_columns(ctx), ctx.data.roles)
        grid = alphas()
        pc, rc = precision_curve(xa, xs, grid), recall_curve(xa, xs, grid)
        dp, dr = relabelled_deltas(xa, np.vstack([xb, xs]), m, self.n_permutations, ctx.rng(self.id), grid)
        losses = [1.0 - delta(pc, grid), 1.0 - delta(rc, grid)]
        comps = [Comparison(loss, 1.0 - null, self.min_effect, null="normal") for loss, null in zip(losses, (dp, dr))]
        out = []
        for (metric, label, curve), loss, v in zip(
                (("alpha_precision_loss", "1 - Δ-precision", pc), ("beta_recall_loss", "1 - Δ-recall", rc)),
                losses, judge(comps, ctx.alpha, ctx.fdr_q)):
            out.append(self.judged_finding(
                v, scope="dataset", metric=metric, value=loss, n_real=len(a_idx) + m, n_synthetic=m,
                evidence={"alphas": [round(float(x), 6) for x in grid], "curve": [round(float(x), 6) for x in curve]},
                message=describe(label, loss, v, self.min_effect, f"{m} synthetic rows vs {len(a_idx)} real rows")
                .replace("real/real", "relabelled")))
        return out
