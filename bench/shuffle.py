"""The keyed shuffle under Ray (docs/scale.md): the duplicate and copy counts of the table checks
on the row hashes left partitioned on the workers, one Ray task per partition, against the same
counts on one in-memory array in this process; and the bytes the shuffle holds.

    python bench/perf.py --rows 1000000 --data-only /work/bench-data/adult_like_1m
    python bench/shuffle.py --table /work/bench-data/adult_like_1m [--text /tmp/text20k --docs 20000 [--text-only]]

The counts are those `duplication.exact_duplicates`, `duplication.exact_copies` and
`diversity.unique_rows` run: distinct rows, 20 seeded selections' distinct rows, the real
multiplicity histogram, repeated real rows, the 100 most repeated synthetic rows and the copies
of real rows (count, records, first 100). With ``--text``, also the span joins and the MinHash
stages of the text checks (signature classes, banding and verification on the signatures left on
the workers). The values must agree exactly (checked).
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import sys
import time

import numpy as np
import pyarrow.parquet as pq

from synthproof.api import resolve_config
from synthproof.stats import rowhashes as RH

MEMORY = 4 * 2**30


def counts(hr, hs) -> tuple:
    rng = np.random.default_rng(0)
    m = min(hr.n, hs.n)
    picks = [np.sort(rng.choice(hs.n, m // 2, replace=False)) for _ in range(20)]
    c, w = RH.multiplicity_histogram(hr)
    n, rec, first = RH.copied_rows(hs, hr, 100)
    return (RH.distinct(hs), tuple(RH.distinct_among(hs, picks)), tuple(c.tolist()), tuple(w.tolist()),
            RH.repeated_rows(hr), tuple(RH.top_repeats(hs, 100).tolist()), n, rec, tuple(first.tolist()))


def timed(fn, repeat: int = 3) -> tuple[float, object]:
    best, out = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def gathered(ray, side: RH.ShuffledHashes) -> RH.SideHashes:
    """The side's hashes as one array in row order (what the driver would otherwise hold)."""
    h = np.zeros(side.n, dtype=np.uint64)
    for refs in side.parts_of:
        hp, rp = RH.records(ray.get(refs))
        h[rp] = hp
    return RH.SideHashes.of(h)


def run(table: pathlib.Path, workers: int, shards: int) -> dict:
    import ray

    from synthproof.plan.distributed import run_waves

    sources = [(str(table / "real.parquet"), "real"), (str(table / "synthetic.parquet"), "synthetic")]
    n_rows = {n: pq.read_metadata(s).num_rows for s, n in sources}
    cfg = resolve_config({"resources": {"out_of_core": "on"}, "threads": 1, "suite": "listed",
                          "checks": {"duplication.exact_duplicates": {}, "duplication.exact_copies": {}}})
    ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False, configure_logging=False)
    try:
        _, waves, shuffle = run_waves(ray, cfg, cfg.build_checks(), sources, MEMORY, None, None, shards, workers)
        sides = shuffle.hashes(n_rows)
        t_shuffled, got = timed(lambda: counts(sides["real"], sides["synthetic"]))
        t0 = time.perf_counter()
        here = {k: gathered(ray, v) for k, v in sides.items()}
        t_gather = time.perf_counter() - t0
        t_local, want = timed(lambda: counts(here["real"], here["synthetic"]))
    finally:
        ray.shutdown()
    if got != want:
        sys.exit("the shuffled counts differ from the in-memory ones")
    out = {"workers": workers, "shards": shards, "rows": n_rows, "scan_wave_s": round(waves["scan"], 2),
           "shuffled_counts_s": round(t_shuffled, 2), "driver_counts_s": round(t_local, 2),
           "gather_to_driver_s": round(t_gather, 2), "shuffle_bytes": 16 * sum(n_rows.values()),
           "partition_tasks_per_count": RH.PARTITIONS}
    print(json.dumps(out), flush=True)
    return out


def run_text(base: pathlib.Path, workers: int, shards: int) -> dict:
    """The verbatim-span joins of ``duplication.text_memorisation`` (synthetic x real, real x real)
    on the shuffled span keys, against the same joins on the keys gathered into the driver."""
    import ray

    from synthproof.checks.duplication._taps import SpanKeys, span_pairs
    from synthproof.plan.distributed import run_waves
    from synthproof.plan.shards import ShardRun
    from synthproof.plan.sketch import merged_run

    sources = [(str(base / "real"), "real"), (str(base / "synthetic"), "synthetic")]
    cfg = resolve_config({"resources": {"out_of_core": "on"}, "threads": 1, "suite": "listed",
                          "checks": {"duplication.text_memorisation": {}, "duplication.text_near_duplicates": {}}})
    checks = cfg.build_checks()
    ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False, configure_logging=False)
    try:
        kept, waves, shuffle = run_waves(ray, cfg, checks, sources, MEMORY, None, None, shards, workers)
        final = ShardRun(cfg, checks, sources, MEMORY, None, None, None, shards, blobs=kept)
        _, _, (_, _, _, seeded, (_, res)) = merged_run(final, shuffle)
        corpora = seeded["corpus"]
        key = next(k for k in corpora["text:real"].taps if k.startswith("SpanTap"))
        r, s = corpora["text:real"].taps[key], corpora["text:synthetic"].taps[key]

        def joins(a, b):
            return span_pairs(a, b).tolist(), span_pairs(b, b, same=True).tolist()

        t_shuffled, got = timed(lambda: joins(s, r), 1)

        def gathered_keys(side) -> SpanKeys:
            parts = [RH.records(ray.get(h), side.offsets) for h in side.parts]
            return SpanKeys(np.concatenate([k for k, _ in parts]), np.concatenate([d for _, d in parts]))

        t0 = time.perf_counter()
        hr, hs = gathered_keys(r), gathered_keys(s)
        t_gather = time.perf_counter() - t0
        t_local, want = timed(lambda: joins(hs, hr), 1)
        lsh = _lsh(ray, corpora)
        res.close()
    finally:
        ray.shutdown()
    if got != want:
        sys.exit("the shuffled span joins differ from the gathered ones")
    out = {"workers": workers, "shards": shards, "scan_wave_s": round(waves["scan"], 2),
           "shuffled_joins_s": round(t_shuffled, 2), "driver_joins_s": round(t_local, 2),
           "gather_to_driver_s": round(t_gather, 2), "span_key_rows": int(hr.keys.size + hs.keys.size),
           "shuffle_bytes": 16 * int(hr.keys.size + hs.keys.size), "pairs": [len(got[0]), len(got[1])], **lsh}
    print("text: " + json.dumps(out), flush=True)
    return out


def _lsh(ray, corpora) -> dict:
    """The MinHash stages of the text checks (signature classes + banding + verification of each
    side, and the synthetic x real pairs) on the signatures left on the workers, against the same
    on the signatures gathered into the driver."""
    from synthproof.checks.duplication import _minhash as mh

    key = next(k for k in corpora["text:real"].taps if k.startswith("MinHashTap"))
    r, s = corpora["text:real"].taps[key], corpora["text:synthetic"].taps[key]

    def stages(a, b):
        out = [mh.near_graph(x, 0.5) for x in (a, b)] + [mh.cross_pairs(a, b, 0.5)]
        return [[v.tolist() for v in o] for o in out]

    t_shuffled, got = timed(lambda: stages(s, r), 1)
    t0 = time.perf_counter()
    gs, gr = (np.concatenate([np.frombuffer(ray.get(h), np.uint32).reshape(-1, x.num_perm) for h in x.blocks])
              for x in (s, r))
    t_gather = time.perf_counter() - t0
    t_local, want = timed(lambda: stages(gs, gr), 1)
    if got != want:
        sys.exit("the shuffled LSH stages differ from the gathered ones")
    return {"lsh_shuffled_s": round(t_shuffled, 2), "lsh_driver_s": round(t_local, 2),
            "signatures_gather_s": round(t_gather, 2), "signature_bytes": int(gs.nbytes + gr.nbytes),
            "near_pairs": [len(got[0][1]), len(got[1][1]), len(got[2][0])]}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--table", required=True, help="folder with real.parquet and synthetic.parquet (bench/perf.py)")
    ap.add_argument("--shards", type=int, default=4)
    ap.add_argument("--text", default=None, help="folder of bench/text_outofcore.py's corpus: also the span joins")
    ap.add_argument("--text-only", action="store_true", help="skip the table counts")
    ap.add_argument("--docs", type=int, default=20_000, help="documents a side of that corpus (built when missing)")
    args = ap.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    if args.text:
        sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
        from text_outofcore import build

        build(pathlib.Path(args.text), args.docs)
        t1, t2 = (run_text(pathlib.Path(args.text), w, args.shards) for w in (1, 2))
        eff = t1["shuffled_joins_s"] / (2 * t2["shuffled_joins_s"])
        print(f"span joins on the shuffled partitions: {t1['shuffled_joins_s']} s on 1 worker, "
              f"{t2['shuffled_joins_s']} s on 2 (efficiency {eff:.2f}); on the driver {t2['driver_joins_s']} s",
              flush=True)
        eff = t1["lsh_shuffled_s"] / (2 * t2["lsh_shuffled_s"])
        print(f"LSH stages on the signatures left on the workers: {t1['lsh_shuffled_s']} s on 1 worker, "
              f"{t2['lsh_shuffled_s']} s on 2 (efficiency {eff:.2f}); on the driver {t2['lsh_driver_s']} s",
              flush=True)
    if args.text_only:
        return
    one, two = (run(pathlib.Path(args.table), w, args.shards) for w in (1, 2))
    eff = one["shuffled_counts_s"] / (2 * two["shuffled_counts_s"])
    print(f"keyed counts on the shuffled partitions: {one['shuffled_counts_s']} s on 1 worker, "
          f"{two['shuffled_counts_s']} s on 2 (efficiency {eff:.2f}); on one driver array {two['driver_counts_s']} s",
          flush=True)


if __name__ == "__main__":
    main()
