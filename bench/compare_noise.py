"""False alarms and power of ``synthproof compare`` on real data.

Each of ``--pairs`` seeded pairs audits UCI Adult (train half, with the holdout half) against two
disjoint random halves of the bundled SDV GaussianCopula sample, i.e. two runs of the same generator
(different synthetic rows) with different audit seeds, under the default suite, then compares them:
a regression is a false alarm. The seeded regression replays pair 0's second half with 5% of its rows
replaced by copies of real training rows and the ``age`` column shifted by +5 years, which must
regress. Prints the false-alarm rate with its Clopper-Pearson 95% interval and the regressing
findings of any false alarm.

    python bench/compare_noise.py [--pairs 40] [--keep DIR]   # then --keep DIR --reuse to re-judge
"""

from __future__ import annotations

import argparse
import pathlib
import time

import numpy as np
from scipy.stats import binomtest

import synthproof
from synthproof.compare import compare_findings, regressions
from synthproof.datasets import load


def halves(syn, seed: int):
    idx = np.random.default_rng(seed).permutation(len(syn))
    h = len(syn) // 2
    return syn.iloc[idx[:h]].reset_index(drop=True), syn.iloc[idx[h:2 * h]].reset_index(drop=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pairs", type=int, default=40)
    ap.add_argument("--keep", type=str, default=None, help="Folder to keep each run's findings in (Parquet).")
    ap.add_argument("--reuse", action="store_true", help="Compare the findings kept in --keep; audit nothing.")
    args = ap.parse_args()
    if args.reuse:
        return rejudge(args)
    real, holdout = load("adult", split="train"), load("adult", split="holdout")
    syn = load("adult_sdv_gaussiancopula")
    cfg = {"bias": {"target": "income"}}
    alarms, t0 = 0, time.perf_counter()
    first = None
    for i in range(args.pairs):
        a, b = halves(syn, 1000 + i)
        ra = synthproof.audit(real, a, holdout, config=cfg, seed=2 * i)
        rb = synthproof.audit(real, b, holdout, config=cfg, seed=2 * i + 1)
        if i == 0:
            first = (ra, b)
        if args.keep:
            pathlib.Path(args.keep).mkdir(parents=True, exist_ok=True)
            ra.findings.to_parquet(f"{args.keep}/pair{i:02d}_a.parquet")
            rb.findings.to_parquet(f"{args.keep}/pair{i:02d}_b.parquet")
        reg = regressions(compare_findings(ra.findings, rb.findings))
        alarms += bool(len(reg))
        print(f"pair {i:2d}: {len(reg)} regression(s) "
              f"({time.perf_counter() - t0:.0f} s){'' if not len(reg) else ': ' + '; '.join(reg['message'].head(3))}",
              flush=True)
    ci = binomtest(alarms, args.pairs).proportion_ci(0.95, method="exact")
    print(f"false alarms: {alarms}/{args.pairs} = {alarms / args.pairs:.3f} "
          f"(Clopper-Pearson 95% [{ci.low:.3f}, {ci.high:.3f}])")
    ra, b = first
    rng = np.random.default_rng(7)
    k = int(0.05 * len(b))
    bad = b.copy()
    bad.iloc[rng.choice(len(b), k, replace=False)] = real.iloc[rng.choice(len(real), k, replace=False)].to_numpy()
    bad["age"] = bad["age"] + 5
    rbad = synthproof.audit(real, bad, holdout, config=cfg, seed=1)
    if args.keep:
        rbad.findings.to_parquet(f"{args.keep}/seeded_bad.parquet")
    reg = regressions(compare_findings(ra.findings, rbad.findings))
    print(f"seeded regression (5% real copies + age +5): {len(reg)} regression(s), detected: {bool(len(reg))}")
    for m in reg["message"].head(8):
        print("  " + m)


def rejudge(args) -> None:
    """Re-run only the comparisons on kept findings (after a change of the comparison rule)."""
    import pandas as pd

    alarms = 0
    for i in range(args.pairs):
        a, b = (pd.read_parquet(f"{args.keep}/pair{i:02d}_{s}.parquet") for s in "ab")
        reg = regressions(compare_findings(a, b))
        alarms += bool(len(reg))
        print(f"pair {i:2d}: {len(reg)} regression(s){'' if not len(reg) else ': ' + '; '.join(reg['message'].head(3))}")
    ci = binomtest(alarms, args.pairs).proportion_ci(0.95, method="exact")
    print(f"false alarms: {alarms}/{args.pairs} = {alarms / args.pairs:.3f} "
          f"(Clopper-Pearson 95% [{ci.low:.3f}, {ci.high:.3f}])")
    bad = pathlib.Path(f"{args.keep}/seeded_bad.parquet")
    if bad.exists():
        reg = regressions(compare_findings(pd.read_parquet(f"{args.keep}/pair00_a.parquet"), pd.read_parquet(bad)))
        print(f"seeded regression (5% real copies + age +5): {len(reg)} regression(s), detected: {bool(len(reg))}")


if __name__ == "__main__":
    main()
