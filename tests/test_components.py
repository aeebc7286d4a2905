"""Connected components by large-star/small-star: the same labels as scipy's connected_components
on any graph, whatever the number of partitions or the order the partitions run in (one Ray task
per partition included), and in clusters() past its edge limit."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from synthproof.stats.components import large_star, scipy_labels, small_star, star_components


def _scipy(edges: np.ndarray, n: int) -> np.ndarray:
    g = coo_matrix((np.ones(len(edges)), (edges[:, 0], edges[:, 1])), shape=(n, n)) if len(edges) else coo_matrix((n, n))
    return connected_components(g, directed=False)[1]


@given(st.integers(1, 60), st.lists(st.tuples(st.integers(0, 59), st.integers(0, 59)), max_size=150),
       st.sampled_from([1, 2, 3, 7]))
def test_matches_scipy_on_any_graph(n, raw, parts):
    edges = np.array([(a % n, b % n) for a, b in raw], dtype=np.int64).reshape(-1, 2)
    smallest = star_components(edges, n, parts=parts)
    want = _scipy(edges, n)
    assert np.array_equal(scipy_labels(smallest), want)
    for c in np.unique(want):  # each label is its component's smallest node
        assert (smallest[want == c] == np.flatnonzero(want == c).min()).all()


def test_long_paths_stars_and_shuffled_partitions():
    rng = np.random.default_rng(3)
    n = 5000
    perm = rng.permutation(n)
    path = np.column_stack([perm[:-1], perm[1:]])  # one component, a path through every node
    star = np.column_stack([np.full(999, 4999), np.arange(999)])  # a giant star: the skew case
    for edges in (path, star, np.vstack([path[:2000], star])):
        want = scipy_labels(star_components(edges, n, parts=1))
        backwards = lambda fn, xs: [fn(x) for x in xs[::-1]][::-1]  # noqa: E731 (partitions in another order)
        assert np.array_equal(scipy_labels(star_components(edges, n, parts=13, mapper=backwards)), want)
        assert np.array_equal(want, _scipy(edges, n))


def test_steps_are_the_papers():
    # large-star on node 2 with neighbours {1, 3, 4}: 3 and 4 link to min(2, 1, 3, 4) = 1
    e = np.array([[2, 1], [2, 3], [2, 4], [1, 2], [3, 2], [4, 2]])
    got = {tuple(x) for x in large_star(e).tolist()}
    assert got == {(3, 1), (4, 1), (2, 1)}
    # small-star on node 5 with smaller neighbours {2, 4}: 4 and 5 link to 2
    got = {tuple(x) for x in small_star(np.array([[5, 2], [5, 4]])).tolist()}
    assert got == {(4, 2), (5, 2)}


def test_ray_tasks_per_partition_give_the_same_labels():
    ray = pytest.importorskip("ray")
    rng = np.random.default_rng(0)
    n = 20_000
    edges = rng.integers(0, n, size=(15_000, 2))
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    try:
        def mapper(fn, parts):
            remote = ray.remote(num_cpus=1)(fn)
            return ray.get([remote.remote(p) for p in parts])

        got = star_components(edges, n, parts=4, mapper=mapper)
    finally:
        ray.shutdown()
    assert np.array_equal(scipy_labels(got), _scipy(edges, n))


def test_clusters_past_the_edge_limit_equal_scipy(monkeypatch):
    """clusters() switches to large-star/small-star past CLUSTER_EDGES with the same labels and sizes."""
    from synthproof.checks.duplication import _text_pairs

    rng = np.random.default_rng(1)
    n = 3000
    pairs = np.column_stack([rng.integers(0, n, 4000), rng.integers(0, n, 4000)])
    want = _text_pairs.clusters(pairs, n)
    monkeypatch.setattr(_text_pairs, "CLUSTER_EDGES", 10)
    got = _text_pairs.clusters(pairs, n)
    assert np.array_equal(got[0], want[0]) and np.array_equal(got[1], want[1])
