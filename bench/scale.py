"""Scaling figures for docs/scale.md: per-core throughput of each pass, the Ray executor's
scaling from 1 to 2 workers, Ray's fixed overhead, and the bytes of each phase's states.

    python bench/perf.py --rows 1000000 --data-only /work/bench-data/adult_like_1m
    python bench/scale.py --table /work/bench-data/adult_like_1m --docs 100000 --text-data /tmp/text100k

Passes (the shard phases of synthproof.plan.shards, each timed in this process on one core as one
shard, then as Ray waves of 4 shards on 1 and on 2 worker processes):
rows (count rows, hash files), sample (bottom-k pools), scan (column scan, row hashes, corpus
pass), count (fine bins, pairs, subgroups). Scaling efficiency = T(1 worker) / (2 T(2 workers)).
Ray's overhead: ray.init, a wave of empty tasks (scheduling), a wave of phases on 1,000 rows.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import sys
import tempfile
import time

import pandas as pd

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

from synthproof.api import resolve_config  # noqa: E402
from synthproof.plan.shards import PHASES, ShardRun  # noqa: E402

MEMORY = 4 * 2**30


def _bytes(paths) -> int:
    return sum(p.stat().st_size for x in paths for p in (pathlib.Path(x).rglob("*") if pathlib.Path(x).is_dir()
                                                          else [pathlib.Path(x)]) if p.is_file())


def one_core(cfg, sources, rows: int, label: str) -> dict:
    """Each phase of one shard holding every row, in this process (one core: threads=1)."""
    checks = cfg.build_checks()
    blobs: dict = {}
    out = {}
    for phase in PHASES:
        run = ShardRun(cfg, checks, sources, MEMORY, None, None, None, 1, blobs=blobs)
        t0 = time.perf_counter()
        blob = run.compute(phase, 0)
        dt = time.perf_counter() - t0
        blobs[phase] = [blob]
        out[phase] = {"seconds": round(dt, 2), "rows_per_s": round(rows / dt), "state_bytes": len(blob)}
    run = ShardRun(cfg, checks, sources, MEMORY, None, None, None, 1, blobs=blobs)
    t0 = time.perf_counter()
    run.prepared(run.offsets())
    out["fixed_per_task_s"] = round(time.perf_counter() - t0, 2)  # what phases 3-4 redo per task
    mb = _bytes([s for s, _ in sources]) / 1e6
    for phase in PHASES:
        out[phase]["MB_per_s"] = round(mb / out[phase]["seconds"], 1)
    print(f"{label}: one core, one shard: " + json.dumps(out), flush=True)
    return out


def ray_waves(cfg, sources, workers: int, shards: int, label: str) -> dict:
    import ray

    from synthproof.plan.distributed import run_waves

    t0 = time.perf_counter()
    ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False, configure_logging=False)
    init = time.perf_counter() - t0
    try:
        # Scheduling: a wave of empty tasks (after one to start the workers).
        noop = ray.remote(num_cpus=1)(lambda: None)
        ray.get([noop.remote() for _ in range(workers)])
        t0 = time.perf_counter()
        ray.get([noop.remote() for _ in range(100)])
        per_task = (time.perf_counter() - t0) / 100
        checks = cfg.build_checks()
        kept, timings, _ = run_waves(ray, cfg, checks, sources, MEMORY, None, None, shards, workers)
        sizes = {p: sum(len(b) for b in kept[p]) for p in PHASES}
    finally:
        ray.shutdown()
    out = {"ray_init_s": round(init, 2), "empty_task_ms": round(per_task * 1e3, 2),
           "wave_s": {p: round(t, 2) for p, t in timings.items()}, "state_bytes": sizes}
    print(f"{label}: ray, {workers} worker(s), {shards} shards: " + json.dumps(out), flush=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--table", required=True, help="folder with real.parquet and synthetic.parquet (bench/perf.py)")
    ap.add_argument("--docs", type=int, default=100_000)
    ap.add_argument("--text-data", default=None, help="folder for the text corpus (bench/text_outofcore.py)")
    ap.add_argument("--shards", type=int, default=4)
    ap.add_argument("--skip-table", action="store_true", help="only the text figures")
    ap.add_argument("--only-ray2", action="store_true",
                    help="the table on Ray with 2 workers only (to check the cost model at a larger size)")
    ap.add_argument("--no-kgw", action="store_true",
                    help="text without provenance.kgw_watermark (its green lists are a per-worker fixed cost)")
    args = ap.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    table = pathlib.Path(args.table)
    tsrc = [(str(table / "real.parquet"), "real"), (str(table / "synthetic.parquet"), "synthetic")]
    rows = sum(pd.read_parquet(s, columns=[]).shape[0] for s, _ in tsrc)
    tcfg = resolve_config({"resources": {"out_of_core": "on"}, "threads": 1})
    results = {"table_rows": rows, "table": {}, "text": {}}
    if args.only_ray2:
        t0 = time.perf_counter()
        results["table"]["ray2"] = ray_waves(tcfg, tsrc, 2, args.shards, "table")
        print(f"table: {rows} rows, ray 2 workers, {args.shards} shards: {time.perf_counter() - t0:.1f} s in all "
              "(init, scheduling probe, waves)", flush=True)
        return
    if not args.skip_table:
        results["table"]["one_core"] = one_core(tcfg, tsrc, rows, "table")
        results["table"]["ray1"] = ray_waves(tcfg, tsrc, 1, args.shards, "table")
        results["table"]["ray2"] = ray_waves(tcfg, tsrc, 2, args.shards, "table")
    # Ray's fixed cost per wave: the phases on 1,000 rows.
    with tempfile.TemporaryDirectory() as tmp:
        for s, name in tsrc:
            pd.read_parquet(s).iloc[:500].to_parquet(pathlib.Path(tmp) / f"{name}.parquet")
        tiny = [(str(pathlib.Path(tmp) / f"{n}.parquet"), n) for _, n in tsrc]
        results["table"]["ray2_tiny"] = ray_waves(tcfg, tiny, 2, args.shards, "1,000 rows")
    if args.docs:
        from text_outofcore import build

        base = pathlib.Path(args.text_data or tempfile.mkdtemp())
        build(base, args.docs)
        xsrc = [(str(base / "real"), "real"), (str(base / "synthetic"), "synthetic")]
        xcfg = resolve_config({"resources": {"out_of_core": "on"}, "threads": 1,
                               "text": {"eval_sets": [str(base / "eval.jsonl")]},
                               "checks": {"provenance.kgw_watermark": {"severity": "off"}} if args.no_kgw else {}})
        results["text"]["one_core"] = one_core(xcfg, xsrc, 2 * args.docs, "text")
        results["text"]["ray1"] = ray_waves(xcfg, xsrc, 1, args.shards, "text")
        results["text"]["ray2"] = ray_waves(xcfg, xsrc, 2, args.shards, "text")
    for kind in ("table", "text"):
        r = results[kind]
        if "ray1" in r:
            eff = {p: round(r["ray1"]["wave_s"][p] / (2 * r["ray2"]["wave_s"][p]), 2) for p in PHASES}
            t1 = sum(r["ray1"]["wave_s"][p] for p in ("scan", "count"))
            t2 = sum(r["ray2"]["wave_s"][p] for p in ("scan", "count"))
            print(f"{kind}: scaling efficiency per wave {json.dumps(eff)}; mergeable passes (scan + count) "
                  f"{t1 / (2 * t2):.2f}", flush=True)
    print(json.dumps(results))


if __name__ == "__main__":
    main()
