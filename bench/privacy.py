"""The privacy family's false alarms on real/real splits, its verdicts on seeded leaks, and its cost.

    python bench/privacy.py false-alarms            # >= 40 real/real splits (Adult, COMPAS, German credit)
    python bench/privacy.py leaks                   # 5% training rows copied (exact, small noise), clean SDV

The cost at 100k x 15 rows per side: ``python bench/perf.py --rows 100000 --mode full --holdout-rows 100000``
beside ``--mode full_noprivacy`` (the suite without this family) and ``--mode privacy``.

false-alarms: for each split three disjoint seeded samples of ``n`` real rows are training, holdout
and "synthetic"; the audit runs the privacy family only (each check then gets a larger share of
the gate's alpha than in the full suite, so this is the harder test) and records whether any
privacy check failed. Prints the rate with its Clopper–Pearson 95% interval.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import pandas as pd
from scipy.stats import binomtest

import synthproof
from synthproof.apps.defects import copy_real_rows_noisy
from synthproof.datasets import load

PLAN = [("adult", 1000, 15), ("adult", 5000, 10), ("compas", 2000, 10), ("german_credit", 300, 10)]
PRIVACY = {"select": {"families": ["privacy"]}}


def false_alarms() -> None:
    rows = []
    for name, n, reps in PLAN:
        df = load(name)
        for seed in range(reps):
            perm = np.random.default_rng(20_000 + seed).permutation(len(df))
            real, syn, hold = (df.iloc[perm[i * n:(i + 1) * n]].reset_index(drop=True) for i in range(3))
            t0 = time.perf_counter()
            res = synthproof.audit(real, syn, holdout=hold, config=PRIVACY, seed=seed)
            f = res.findings
            f = f[f.family == "privacy"]
            rec = {"dataset": name, "n": n, "seed": seed, "failed": bool((f.status == "fail").any()),
                   "failing": sorted(set(f.loc[f.status == "fail", "check_id"])),
                   "errors": sorted(set(f.loc[f.status == "error", "check_id"])),
                   "judged": int(f.p_value.notna().sum()), "seconds": round(time.perf_counter() - t0, 2),
                   "mde": {f"{r.check_id}:{r.metric}": round(float(r.threshold - r.baseline_value), 5)
                           for r in f[f.p_value.notna() & f.threshold.notna()].itertuples()
                           if r.metric != "inference_risk"}}
            rows.append(rec)
            print(json.dumps(rec), flush=True)
    t = pd.DataFrame(rows)
    k = int(t.failed.sum())
    ci = binomtest(k, len(t)).proportion_ci(method="exact")
    print(t.groupby(["dataset", "n"]).agg(splits=("seed", "size"), fail_rate=("failed", "mean"),
                                          median_s=("seconds", "median")).to_string())
    mde = pd.DataFrame([{"dataset": r["dataset"], "n": r["n"], **r["mde"]} for r in rows])
    print("median detectable effect (corrected threshold - null median) per cell:")
    print(mde.groupby(["dataset", "n"]).median().T.to_string())
    print(f"privacy false-alarm rate: {k}/{len(t)} = {k / len(t):.4f}, Clopper-Pearson 95% [{ci.low:.4f}, "
          f"{ci.high:.4f}]; errors: {sorted({e for r in rows for e in r['errors']}) or 'none'}")


def leaky(train, clean, share, noise, seed=0):
    return copy_real_rows_noisy(clean, train, share, noise, np.random.default_rng(seed))


def leaks() -> None:
    train, hold = load("adult", split="train").reset_index(drop=True), load("adult", split="holdout").reset_index(drop=True)
    clean = load("adult_sdv_gaussiancopula").reset_index(drop=True)
    cases = [("SDV GaussianCopula (clean)", clean), ("5% copies, exact", leaky(train, clean, 0.05, 0.0)),
             ("5% copies, noise 0.01 SD", leaky(train, clean, 0.05, 0.01)),
             ("5% copies, noise 0.05 SD", leaky(train, clean, 0.05, 0.05)),
             ("real/real (holdout halves)", hold.iloc[8000:].reset_index(drop=True))]
    for label, syn in cases:
        h = hold.iloc[:8000].reset_index(drop=True) if label.startswith("real/real") else hold
        t0 = time.perf_counter()
        res = synthproof.audit(train, syn, holdout=h, config=PRIVACY)
        f = res.findings
        f = f[(f.family == "privacy") & f.p_value.notna()]
        print(f"== {label}: gate {'passed' if res.passed else 'FAILED'} ({time.perf_counter() - t0:.1f} s)")
        for _, r in f.iterrows():
            print(f"   {r.check_id:30s} {r.metric:34s} {str(r.column or ''):15s} {r.status:4s} value {r.value:+.4f} "
                  f"p {r.p_value:.2g}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("what", choices=["false-alarms", "leaks"])
    a = ap.parse_args()
    false_alarms() if a.what == "false-alarms" else leaks()


if __name__ == "__main__":
    main()
