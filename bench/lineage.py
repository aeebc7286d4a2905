"""Lineage: the gate's false alarms on real resamples, and the collapse chains' curves.

    python bench/lineage.py --part calibrate --runs 50   # GEN1..GEN4 = bootstrap resamples of GEN0
    python bench/lineage.py --part chain                 # the replace/accumulate chains of docs/lineage.md

Calibration data: a 3,000-row sample of UCI Adult and 1,500 Debian fortunes, a different sample per
run; each later generation is a bootstrap resample of GEN0 at its size (a generator that reproduces the
real data exactly), so every failure is a false alarm.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from scipy.stats import binomtest

from synthproof.apps.collapse import collapse_chain
from synthproof.apps.lineage import Generation, LineageConfig, run_lineage
from synthproof.datasets import load


def calibrate(runs: int) -> None:
    adult, fortunes = load("adult"), load("fortunes")[["text"]]
    for name, data, n in (("Adult table", adult, 3000), ("fortunes text", fortunes, 1500)):
        fails, t0 = 0, time.perf_counter()
        for seed in range(runs):
            rng = np.random.default_rng(10_000 + seed)
            base = data.iloc[rng.choice(len(data), n, replace=False)].reset_index(drop=True)
            gens = [Generation("gen0", base)] + [
                Generation(f"gen{g}", base.iloc[rng.integers(0, n, n)].reset_index(drop=True)) for g in range(1, 5)]
            fails += not run_lineage(gens, LineageConfig(seed=seed)).passed
        ci = binomtest(fails, runs).proportion_ci(method="exact")
        print(f"{name}: {fails}/{runs} gate failures = {fails / runs:.3f} (Clopper-Pearson 95% "
              f"[{ci.low:.3f}, {ci.high:.3f}]); {time.perf_counter() - t0:.0f} s", flush=True)


def chain() -> None:
    real = load("fortunes").sample(2000, random_state=0)["text"].tolist()
    for mode in ("replace", "accumulate"):
        frames = collapse_chain(real, 8, mode, seed=1)
        gens = [Generation(f"gen{g}", f[["text"]], None if g == 0 else float(f["real_share"].iloc[0]))
                for g, f in enumerate(frames)]
        r = run_lineage(gens, LineageConfig())
        t = r.table.pivot(index="metric", columns="generation", values="value")
        print(f"{mode}: first failing generation {r.first_failing}")
        print(t.loc[["tail_retention", "diversity", "drift", "real_share"]].round(3).to_string())


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--part", choices=["calibrate", "chain"], default="calibrate")
    ap.add_argument("--runs", type=int, default=50)
    a = ap.parse_args()
    calibrate(a.runs) if a.part == "calibrate" else chain()


if __name__ == "__main__":
    main()
