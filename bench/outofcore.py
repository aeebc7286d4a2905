"""Out-of-core runs: wall time per pass and peak RSS of ``synthproof audit --memory BUDGET`` on
Adult-like tables of any size, written as Parquet shards of ``--shard-rows`` rows (bench/perf.py's
generator, one seed per shard, so a side of 100M rows is never held in memory).

    python bench/outofcore.py --rows 10000000 --mode shapes_pairs --memory 3GiB
    python bench/outofcore.py --rows 100000000 --mode shapes_pairs --memory 3GiB --data /tmp/ooc100m
    python bench/outofcore.py --rows 10000000 --mode full --holdout-rows 1000000 --memory 3GiB
    python bench/outofcore.py --rows 10000000 --mode keyed --memory 1GiB   # row hashes spilled

Prints one JSON line: rows per side, wall seconds, peak RSS (GiB, ``getrusage`` of the child), the
per-pass lines the run printed, and the gate verdict. ``--data DIR`` keeps (and reuses) the data.
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

import pyarrow as pa
import pyarrow.parquet as pq
import yaml

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from perf import MODES, adult_like  # noqa: E402


def write_side(folder: pathlib.Path, rows: int, shard_rows: int, seed: int) -> None:
    """``rows`` Adult-like rows as shards ``part-00000.parquet`` ...; skipped when complete."""
    folder.mkdir(parents=True, exist_ok=True)
    done = folder / "_complete"
    if done.exists() and done.read_text() == f"{rows}:{shard_rows}:{seed}":
        return
    for i, start in enumerate(range(0, rows, shard_rows)):
        n = min(shard_rows, rows - start)
        pq.write_table(pa.Table.from_pandas(adult_like(n, seed * 100_003 + i), preserve_index=False),
                       folder / f"part-{i:05d}.parquet", row_group_size=min(n, 1 << 20))
    done.write_text(f"{rows}:{shard_rows}:{seed}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--shard-rows", type=int, default=1_000_000)
    ap.add_argument("--mode", choices=sorted(MODES), default="shapes_pairs")
    ap.add_argument("--memory", default="3GiB")
    ap.add_argument("--data", help="folder to keep the data in (reused when complete)")
    ap.add_argument("--holdout-rows", type=int, default=0, help="also pass a holdout of this many rows")
    args = ap.parse_args()
    tmp = tempfile.TemporaryDirectory()
    base = pathlib.Path(args.data) if args.data else pathlib.Path(tmp.name)
    t0 = time.perf_counter()
    write_side(base / "real", args.rows, args.shard_rows, 1)
    write_side(base / "synthetic", args.rows, args.shard_rows, 2)
    if args.holdout_rows:
        write_side(base / "holdout", args.holdout_rows, args.shard_rows, 3)
    gen_s = time.perf_counter() - t0
    cfg = base / f"cfg-{args.mode}.yaml"
    cfg.write_text(yaml.safe_dump(MODES[args.mode]))
    out = pathlib.Path(tmp.name) / "out"
    cmd = [sys.executable, "-m", "synthproof.cli", "audit", "--real", str(base / "real"), "--synthetic",
           str(base / "synthetic"), "--config", str(cfg), "--out", str(out), "--memory", args.memory]
    if args.holdout_rows:
        cmd += ["--holdout", str(base / "holdout")]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    stdout, stderr = proc.communicate()
    wall = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 2**20  # KiB -> GiB
    passes = [ln for ln in stderr.splitlines() if ln.endswith(", done")]
    print(json.dumps({"rows_per_side": args.rows, "mode": args.mode, "memory": args.memory,
                      "wall_s": round(wall, 1), "peak_rss_gib": round(peak, 3), "exit": proc.returncode,
                      "data_gen_s": round(gen_s, 1), "passes": passes,
                      "stdout": stdout.strip().splitlines()}, indent=1))
    if proc.returncode not in (0, 1):
        print(stderr[-2000:], file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
