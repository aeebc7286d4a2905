"""Audit a real synthesizer's output: SDV CTGAN (and GaussianCopula) trained on UCI Adult.

Writes the bundled real train half, holdout half and synthetic sample as Parquet files, then runs
the command line exactly as a user would:

    python examples/audit_adult_sdv.py [--synthesizer ctgan|gaussiancopula] [--out docs/example]

The committed report of this run is ``docs/example/report.html``.
"""

from __future__ import annotations

import argparse
import json
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
        # The generator's provenance, as a sidecar beside the synthetic file (docs/provenance.md).
        versions = json.loads((pathlib.Path(datasets.__file__).parent / "data" / "sdv_fixtures.json").read_text())
        name = {"ctgan": "CTGANSynthesizer", "gaussiancopula": "GaussianCopulaSynthesizer"}[args.synthesizer]
        (tmp / "synthetic.parquet.provenance.json").write_text(json.dumps({
            "synthproof_provenance": 1,
            "fields": {"generator": f"sdv.{name}", "generator_version": versions["versions"]["sdv"],
                       "created_at": "2026-11-21T00:00:00Z", "source_dataset": "uci-adult/train-half",
                       "is_synthetic": True}}))
        (tmp / "audit.yaml").write_text("version: 1\nbias:\n  target: income\n")
        cmd = [sys.executable, "-m", "synthproof.cli", "audit", "--real", str(tmp / "adult_train.parquet"),
               "--synthetic", str(tmp / "synthetic.parquet"), "--holdout", str(tmp / "adult_holdout.parquet"),
               "--config", str(tmp / "audit.yaml"), "--out", args.out, "--no-progress"]
        print("$ synthproof audit --real adult_train.parquet --synthetic synthetic.parquet "
              f"--holdout adult_holdout.parquet --config audit.yaml --out {args.out}")
        print("  (audit.yaml: bias.target = income; synthetic.parquet.provenance.json beside the data)")
        return subprocess.run(cmd).returncode


if __name__ == "__main__":
    sys.exit(main())
