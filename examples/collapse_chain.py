"""A real model-collapse chain and its lineage reports (docs/example/lineage/).

Fits a word-bigram model on 2,000 Debian fortunes, samples 2,000 documents, refits on the samples, and
so on for 8 generations (``replace``, Shumailov et al. 2024); and the same with the real data kept in
every training mix (``accumulate``, Gerstgrasser et al. 2024). Writes each chain's generations as
Parquet files and runs ``synthproof lineage`` on them::

    python examples/collapse_chain.py [--out docs/example/lineage]
"""

from __future__ import annotations

import argparse
import pathlib
import subprocess
import sys

from synthproof.apps.collapse import collapse_chain
from synthproof.datasets import load


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="docs/example/lineage")
    ap.add_argument("--docs", type=int, default=2000)
    ap.add_argument("--generations", type=int, default=8)
    args = ap.parse_args()
    real = load("fortunes").sample(args.docs, random_state=0)["text"].tolist()
    for mode in ("replace", "accumulate"):
        folder = pathlib.Path(args.out) / mode
        data = folder / "data"
        data.mkdir(parents=True, exist_ok=True)
        paths = []
        for g, frame in enumerate(collapse_chain(real, args.generations, mode, seed=1)):
            p = data / f"gen{g}.parquet"
            frame.to_parquet(p, index=False)
            paths.append(str(p))
        cmd = [sys.executable, "-m", "synthproof.cli", "lineage", *paths, "--out", str(folder)]
        print("$", " ".join(["synthproof", "lineage", *paths, "--out", str(folder)]), flush=True)
        rc = subprocess.run(cmd).returncode
        print(f"{mode}: exit {rc}", flush=True)


if __name__ == "__main__":
    main()
