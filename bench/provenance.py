"""Signing and verification at scale: ``synthproof provenance sign`` / ``verify`` on N rows of UCI Adult
(resampled with a row id, written as Parquet), whole processes, wall time and peak RSS.

    python bench/provenance.py --rows 100000
"""

from __future__ import annotations

import argparse
import json
import pathlib
import resource
import subprocess
import sys
import tempfile
import time

import numpy as np

from synthproof.datasets import load


def timed(cmd: list[str]) -> tuple[float, int]:
    t0 = time.perf_counter()
    rc = subprocess.run(cmd, capture_output=True, text=True).returncode
    return time.perf_counter() - t0, rc


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=100_000)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        d = pathlib.Path(tmp)
        adult = load("adult")
        df = adult.iloc[np.random.default_rng(0).integers(0, len(adult), a.rows)].reset_index(drop=True)
        df.insert(0, "rid", [f"r{i:08d}" for i in range(a.rows)])
        df.to_parquet(d / "syn.parquet", index=False)
        cli = [sys.executable, "-m", "synthproof.cli", "provenance"]
        subprocess.run([*cli, "keygen", "--out", str(d / "k.pem")], check=True, capture_output=True)
        sign_s, rc1 = timed([*cli, "sign", str(d / "syn.parquet"), "--key", str(d / "k.pem"), "--id-column", "rid"])
        verify_s, rc2 = timed([*cli, "verify", str(d / "syn.parquet"), "--public-key", str(d / "k.pem.pub")])
        rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 2**20
        print(json.dumps({"rows": a.rows, "columns": df.shape[1], "sign_s": round(sign_s, 1),
                          "verify_s": round(verify_s, 1), "exit_codes": [rc1, rc2],
                          "peak_rss_gib": round(rss, 2),
                          "records_file_mb": round((d / "syn.parquet.provenance.records.parquet").stat().st_size / 2**20, 1)}))


if __name__ == "__main__":
    main()
