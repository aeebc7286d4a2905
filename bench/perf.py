"""Wall time and peak memory of whole ``synthproof audit`` processes (median of 3).

Data: "Adult-like" tables of any size — UCI Adult rows resampled with a seed and every numeric
value jittered by 5% of its column's SD (kept as float), so rows stay distinct (plain bootstrap
copies would make the copy and DCR paths degenerate). Real and synthetic use different seeds.

    python bench/perf.py --rows 1000000 --mode shapes_pairs   # like-for-like with SDMetrics QualityReport
    python bench/perf.py --rows 1000000 --mode full           # the default suite
    python bench/perf.py --rows 32000 --mode dcr              # DCR alone
    python bench/perf.py --rows 100000 --mode full
    python bench/perf.py --rows 100000 --mode full_noprivacy --holdout-rows 100000   # the privacy family's cost

Each run is a fresh ``synthproof audit`` process (imports, reading Parquet, all checks, writing the
four files); peak RSS comes from ``getrusage`` of the child.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np
import pandas as pd
import yaml

from synthproof.datasets import load

MODES = {
    "shapes_pairs": {"suite": "listed", "checks": {"drift.ks": {}, "drift.tvd": {}, "drift.pair_association": {}}},
    "full": {"bias": {"target": "income"}},  # every family; a holdout of rows/10 is passed too
    "full_noprivacy": {"bias": {"target": "income"}, "select": {"skip": ["privacy"]}},  # the suite before issue 15
    "privacy": {"bias": {"target": "income"}, "select": {"families": ["privacy"]}},
    "dcr": {"suite": "listed", "checks": {"duplication.dcr": {}}},
    "keyed": {"suite": "listed", "checks": {"duplication.exact_duplicates": {}, "duplication.exact_copies": {},
                                            "diversity.unique_rows": {}}},  # the row-hash group-bys
}


def adult_like(n: int, seed: int) -> pd.DataFrame:
    adult = load("adult")
    rng = np.random.default_rng(seed)
    out = adult.iloc[rng.integers(0, len(adult), n)].reset_index(drop=True)
    for c in out.columns:
        if pd.api.types.is_numeric_dtype(out[c]):
            sd = float(adult[c].std())
            out[c] = out[c].astype(float) + rng.normal(0, 0.05 * sd, n)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--mode", choices=sorted(MODES), default="full")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--holdout-rows", type=int, default=None, help="holdout rows [default: rows / 10]")
    ap.add_argument("--data-only", metavar="DIR", help="only write real.parquet/synthetic.parquet to DIR (for peers)")
    args = ap.parse_args()
    if args.data_only:
        out = pathlib.Path(args.data_only)
        out.mkdir(parents=True, exist_ok=True)
        adult_like(args.rows, 1).to_parquet(out / "real.parquet")
        adult_like(args.rows, 2).to_parquet(out / "synthetic.parquet")
        print(out)
        return
    with tempfile.TemporaryDirectory() as tmp:
        tmp = pathlib.Path(tmp)
        adult_like(args.rows, 1).to_parquet(tmp / "real.parquet")
        adult_like(args.rows, 2).to_parquet(tmp / "synthetic.parquet")
        adult_like(args.holdout_rows or max(args.rows // 10, 100), 3).to_parquet(tmp / "holdout.parquet")
        (tmp / "cfg.yaml").write_text(yaml.safe_dump(MODES[args.mode]))
        cmd = [sys.executable, "-m", "synthproof.cli", "audit", "--real", str(tmp / "real.parquet"),
               "--synthetic", str(tmp / "synthetic.parquet"), "--config", str(tmp / "cfg.yaml"),
               "--out", str(tmp / "out"), "--no-progress"]
        if args.mode in ("full", "full_noprivacy", "privacy"):
            cmd += ["--holdout", str(tmp / "holdout.parquet")]
        walls, rss = [], []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            _, status, usage = os.wait4(proc.pid, 0)
            walls.append(time.perf_counter() - t0)
            rss.append(usage.ru_maxrss / 1024**2)  # KiB -> GiB
            err = proc.stderr.read().decode()
            if status not in (0, 256):
                raise SystemExit(f"audit failed ({status}): {err}")
        findings = pd.read_parquet(tmp / "out" / "findings.parquet")
        used = (findings[findings.scope != "row"].groupby("check_id")[["n_real", "n_synthetic"]].max()
                .astype("Int64").to_dict(orient="index"))
    print(json.dumps({"mode": args.mode, "rows_per_side": args.rows, "holdout_rows": args.holdout_rows or max(args.rows // 10, 100), "wall_s_median": round(statistics.median(walls), 2),
                      "wall_s_all": [round(w, 2) for w in walls], "peak_rss_gib_max": round(max(rss), 3),
                      "rows_used_per_check": {k: {kk: (None if pd.isna(vv) else int(vv)) for kk, vv in v.items()}
                                              for k, v in used.items()}}, indent=1))


if __name__ == "__main__":
    main()
