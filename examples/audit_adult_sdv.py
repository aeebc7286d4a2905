"""Audit a real synthesizer's output: SDV CTGAN (and GaussianCopula) trained on UCI Adult.

Writes the bundled real train half, holdout half and synthetic sample as Parquet files, then runs
the command line exactly as a user would:

    python examples/audit_adult_sdv.py [--synthesizer ctgan|gaussiancopula] [--out docs/example]

The committed report of this run is ``docs/example/report.html``.
"""

from __future__ import annotations

import argparse
import pathlib
import subprocess
import sys
import tempfile

from synthproof import datasets


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--synthesizer", choices=["ctgan", "gaussiancopula"], default="ctgan")
    ap.add_argument("--out", default=str(pathlib.Path(__file__).resolve().parents[1] / "docs" / "example"))
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = pathlib.Path(tmp)
        datasets.load("adult", split="train").to_parquet(tmp / "adult_train.parquet")
        datasets.load("adult", split="holdout").to_parquet(tmp / "adult_holdout.parquet")
        datasets.load(f"adult_sdv_{args.synthesizer}").to_parquet(tmp / "synthetic.parquet")
        cmd = [sys.executable, "-m", "synthproof.cli", "audit", "--real", str(tmp / "adult_train.parquet"),
               "--synthetic", str(tmp / "synthetic.parquet"), "--holdout", str(tmp / "adult_holdout.parquet"),
               "--out", args.out, "--no-progress"]
        print("$ synthproof audit --real adult_train.parquet --synthetic synthetic.parquet "
              f"--holdout adult_holdout.parquet --out {args.out}")
        return subprocess.run(cmd).returncode


if __name__ == "__main__":
    sys.exit(main())
