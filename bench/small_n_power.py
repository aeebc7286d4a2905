"""Power of the equal-size (matched) design at small n: shift and correlation defects.

For real tables split in halves (n rows per side), the synthetic half gets one seeded defect and is
audited with the checks that should catch it, each at the per-check level the DEFAULT suite gives it
(alpha / K over the gating checks that apply). Prints the detection rate per (defect, n) with its
Clopper-Pearson 95% interval and the false-alarm rate on clean halves.

    python bench/small_n_power.py [--seeds 20]

Defects: ``shift`` adds 0.5 real SD to the numeric column with the most distinct values
(drift.ks / drift.smd should fail); ``decorrelate`` permutes that column within the synthetic half,
breaking its dependence on the others (drift.pair_association should fail).
"""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd
from scipy.stats import binomtest

import synthproof
from synthproof.api import resolve_config
from synthproof.runner import gating_alpha
from synthproof.schema import prepare
from synthproof.datasets import load

CHECKS = {"shift": ("drift.ks", "drift.smd"), "decorrelate": ("drift.pair_association",)}


def per_check_alpha(real: pd.DataFrame) -> float:
    import pyarrow as pa

    cfg = resolve_config(None)
    t = pa.Table.from_pandas(real, preserve_index=False)
    return gating_alpha(cfg.build_checks(), cfg.calibration.alpha, prepare(t, t, None))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=20)
    args = ap.parse_args()
    adult = load("adult")[["age", "education_num", "hours_per_week", "fnlwgt", "sex", "race", "income"]]
    rows = []
    alpha = per_check_alpha(adult.head(400))
    print(f"per-check alpha of the default suite on this table: {alpha:.5f}")
    for n in (75, 100, 150, 200, 400, 1000):
        for defect, checks in CHECKS.items():
            cfg = {"suite": "listed", "checks": {c: {} for c in checks},
                   "calibration": {"alpha": min(alpha * len(checks), 0.5)}}
            hits = clean = 0
            for seed in range(args.seeds):
                perm = np.random.default_rng(seed).permutation(len(adult))
                real = adult.iloc[perm[:n]].reset_index(drop=True)
                syn = adult.iloc[perm[n:2 * n]].reset_index(drop=True)
                f = synthproof.audit(real, syn, config=cfg, seed=seed).findings
                clean += bool((f.status == "fail").any())
                bad = syn.copy()
                if defect == "shift":
                    bad["fnlwgt"] = bad.fnlwgt + 0.5 * real.fnlwgt.std()
                else:
                    bad["age"] = np.random.default_rng(seed).permutation(bad.age.to_numpy())
                f = synthproof.audit(real, bad, config=cfg, seed=seed).findings
                hits += bool((f.status == "fail").any())
            ci = binomtest(hits, args.seeds).proportion_ci(method="exact")
            rows.append({"n": n, "defect": defect, "detected": f"{hits}/{args.seeds}",
                         "ci95": f"[{ci.low:.2f}, {ci.high:.2f}]", "clean_fails": f"{clean}/{args.seeds}"})
            print(rows[-1], flush=True)
    print(pd.DataFrame(rows).to_string(index=False))


if __name__ == "__main__":
    main()
