"""``privacy.membership_inference``: the distance-to-closest-record membership-inference attack.

An attacker holding the synthetic data scores a candidate record by minus the Gower distance to
its closest synthetic record (:mod:`synthproof.stats.membership`); training records (members) and
holdout records (non-members) are scored alike. Reported as membership-inference papers report it
(Carlini et al., "Membership Inference Attacks From First Principles", IEEE S&P 2022): the ROC AUC
with its exact null (under "the synthetic data do not depend on membership" the labels are
exchangeable: the Mann–Whitney null, normal with the tie correction) and the true-positive rate
at 1% and 0.1% false-positive rate with their label-permutation nulls (Gamma fitted), the three
judged together (Holm). A generator that memorised a few records barely moves the AUC (5% of
copied records lift it by at most 0.025) but lifts the TPR at low FPR by their share: that is
where the attack lives.
"""

from __future__ import annotations

import numpy as np

from synthproof.calibration import Comparison, Normal, fmt, judge
from synthproof.check import Check, Param, register
from synthproof.checks.duplication.checks import _histogram
from synthproof.findings import Finding
from synthproof.stats.membership import closest_distances, membership_auc, tpr_at_fpr
from synthproof.stats.privacy import gower_neighbours

from ._setup import attack_sets, null_grid, verdict_tail

FPRS = (0.01, 0.001)
HARM = "an attacker holding the synthetic data can tell training records from others."


def auc_null(scores: np.ndarray, n_pos: int, n_neg: int) -> Normal:
    """Exact mean and variance of the ROC AUC under exchangeable labels (the Mann–Whitney U null
    with the tie correction), as a normal: ``mean 0.5``, ``var = ((N+1) - sum(t^3-t)/(N(N-1))) / (12 n1 n2)``."""
    n = n_pos + n_neg
    _, t = np.unique(scores, return_counts=True)
    ties = float(np.sum(t.astype(float) ** 3 - t)) / (n * (n - 1)) if n > 1 else 0.0
    var = ((n + 1) - ties) / (12.0 * n_pos * n_neg)
    return Normal(0.5, float(np.sqrt(max(var, 1e-18))))


@register
class MembershipInference(Check):
    id = "privacy.membership_inference"
    family = "privacy"
    needs = ("row_sample", "row_pool")
    needs_holdout = True
    computation = "sample"
    summary = ("Membership inference (distance to the closest synthetic record): ROC AUC and TPR at 1% / 0.1% FPR "
               "of telling training records from holdout records, vs their exact nulls.")
    metric = "membership_auc"
    goal = "minimize (0.5 = chance)"
    source = ("Carlini et al. 2022, IEEE S&P (membership inference from first principles: TPR at low FPR); DCR attack "
              "as in Chen et al. 2020 (GAN-Leaks, CCS); Mann–Whitney 1947")
    params = {
        "min_effect": Param("float", 0.01, "minimum excess AUC above 0.5 worth failing", low=0.0, high=0.5),
        "min_effect_tpr": Param("float", 0.01, "minimum excess TPR at the low FPRs worth failing", low=0.0, high=1.0),
        "n_members": Param("int", 5000, "training (member) and holdout (non-member) records scored", low=50),
        "max_records": Param("int", 20_000, "distinct training and control records (seeded sample)", low=50),
        "max_synthetic": Param("int", 20_000, "synthetic rows the attacker uses (seeded sample)", low=50),
        "n_permutations": Param("int", 500, "label permutations for the TPR nulls", low=50, high=100_000),
    }

    def run(self, ctx) -> list[Finding]:
        sets = attack_sets(ctx, self.max_records, self.max_synthetic)
        n = min(self.n_members, sets.n)
        members, others = sets.train.take(slice(0, n)), sets.control.take(slice(0, n))
        dm, do = ctx.map(lambda e: closest_distances(e, sets.synthetic), [members, others])
        scores = -np.concatenate([dm, do])
        labels = np.concatenate([np.ones(n, dtype=np.int64), np.zeros(n, dtype=np.int64)])
        auc, _ = membership_auc(scores, labels)
        rng = ctx.rng(self.id)
        perms = [rng.permutation(labels) for _ in range(self.n_permutations)]
        tprs = [tpr_at_fpr(scores, labels, f) for f in FPRS]
        nulls = [np.array([tpr_at_fpr(scores, p, f) for p in perms]) for f in FPRS]
        dist = auc_null(scores, n, n)
        comps = [Comparison(auc, null_grid(dist), self.min_effect, dist=dist)]
        comps += [Comparison(t, null, self.min_effect_tpr) for t, null in zip(tprs, nulls)]
        verdicts = judge(comps, ctx.alpha, ctx.fdr_q)
        what = (f"({n} training vs {n} holdout records scored by their distance to the closest of "
                f"{len(sets.synthetic)} synthetic rows)")
        evidence = {**_histogram(dm, do, ("training → synthetic", "holdout → synthetic")),
                    "tpr_at_fpr": dict(zip(map(str, FPRS), tprs))}
        out = [self.judged_finding(
            verdicts[0], scope="dataset", value=auc, n_real=2 * n, n_synthetic=len(sets.synthetic), evidence=evidence,
            message=(f"Membership-inference AUC {fmt(auc)} {what}; TPR {fmt(tprs[0])} at 1% FPR, {fmt(tprs[1])} at "
                     f"0.1% FPR") + verdict_tail(verdicts[0], self.min_effect, auc, HARM))]
        for f, t, v in zip(FPRS, tprs, verdicts[1:]):
            out.append(self.judged_finding(
                v, scope="dataset", metric=f"tpr_at_fpr_{f:g}", goal="minimize", value=t, n_real=2 * n,
                n_synthetic=len(sets.synthetic), min_effect=self.min_effect_tpr,
                message=(f"Membership-inference TPR {fmt(t)} at {f:.1%} FPR {what}, vs {fmt(v.baseline_median)} under "
                         f"permuted labels") + verdict_tail(v, self.min_effect_tpr, t, HARM)))
        if any(f.status == "fail" for f in out):
            cut = np.sort(do)[min(int(np.floor(FPRS[1] * n)), n - 1)]  # closer than all but 0.1% of non-members
            exposed = np.flatnonzero(dm < cut)
            if exposed.size:
                near = gower_neighbours(members.take(exposed), sets.synthetic, 1)[:, 0]
                for i in sorted({int(x) for x in near})[: ctx.max_row_findings]:
                    rid = ctx.row_id(int(sets.positions["synthetic"][i]))
                    out.append(self.finding(scope="row", row_id=rid, side="synthetic", status="fail",
                                            reason_code="row_evidence",
                                            message=f"synthetic {rid}: closer to a training record than all but "
                                                    f"{FPRS[1]:.1%} of holdout records are to any synthetic row."))
        return out

