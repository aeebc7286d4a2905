"""Connected components of large random near-duplicate-like graphs: scipy's connected_components
against large-star/small-star (synthproof.stats.components) in 1 and 16 partitions, one process.

    python bench/components.py --nodes 10000000 --edges 20000000

Prints seconds and rounds-independent results (the labels are checked equal).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from synthproof.stats.components import scipy_labels, star_components


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--nodes", type=int, default=10_000_000)
    ap.add_argument("--edges", type=int, default=20_000_000)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    n, k = args.nodes, args.edges
    # Near-duplicate graphs are many small clusters: edges between nearby ids of a shuffled order.
    perm = rng.permutation(n)
    a = rng.integers(0, n - 8, k)
    edges = np.column_stack([perm[a], perm[a + rng.integers(1, 8, k)]]).astype(np.int64)
    t = time.perf_counter()
    g = coo_matrix((np.ones(k), (edges[:, 0], edges[:, 1])), shape=(n, n))
    want = connected_components(g, directed=False)[1]
    print(f"scipy connected_components: {time.perf_counter() - t:.1f} s, {want.max() + 1} components", flush=True)
    for parts in (1, 16):
        t = time.perf_counter()
        got = scipy_labels(star_components(edges, n, parts=parts))
        print(f"large-star/small-star, {parts} partitions: {time.perf_counter() - t:.1f} s, same labels: "
              f"{bool(np.array_equal(got, want))}", flush=True)


if __name__ == "__main__":
    main()
