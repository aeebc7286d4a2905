"""The Ray executor on a local Ray cluster started by the test (2 CPUs): the findings of one local
out-of-core run with 1 and 2 worker processes and any shard count, a killed worker retried, a
failing task named, Ray missing -> exit 2 saying what to install."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from synthproof import api
from synthproof.cli import main
from synthproof.errors import MissingDependencyError

from .test_sketch import CONFIG, TEXT, _sources, findings_bytes, inputs, local  # noqa: F401  (fixtures)

ray = pytest.importorskip("ray")


@pytest.fixture(scope="module")
def cluster():
    """A local Ray cluster of 2 CPUs on this machine, for the module's runs (they find it initialised)."""
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    yield
    ray.shutdown()


def _ray_cfg(base: dict, **executor) -> dict:
    return {**base, "executor": {"kind": "ray", **executor}}


@pytest.mark.parametrize("workers,shards", [(1, None), (2, None), (2, 7)])
def test_ray_equals_local(cluster, inputs, local, workers, shards):
    got = api.audit(*_sources(inputs), config=_ray_cfg(CONFIG, workers=workers, shards=shards))
    assert findings_bytes(got) == findings_bytes(local)
    assert got.manifest["inputs"] == local.manifest["inputs"]


@pytest.mark.parametrize("workers", [1, 2])
def test_ray_text_equals_local(cluster, tmp_path, monkeypatch, workers):
    """Text under Ray: the verbatim-span joins of the memorisation check run on the shuffled span
    keys, one Ray task per partition; the MinHash signatures stay on the workers, one object per
    shard, and the signature classes, banding and verification run as Ray tasks over them (the
    keyed shuffle of LSH); on 2 workers, one killed by its pid during those tasks is retried; the
    findings are the local run's with 1 and 2 workers."""
    import pandas as pd

    from synthproof import datasets
    from synthproof.plan import distributed

    real, syn = datasets.load("fortunes"), datasets.load("fortunes_smollm2")
    syn = pd.concat([syn, real.iloc[:200], syn.iloc[:80]], ignore_index=True)  # memorised real documents, repeats
    real.to_parquet(tmp_path / "real.parquet")
    syn.to_json(tmp_path / "syn.jsonl", orient="records", lines=True)
    src = (str(tmp_path / "real.parquet"), str(tmp_path / "syn.jsonl"))
    one = api.audit(*src, config=TEXT)
    names, real_reduce = [], distributed.Shuffle.reduce

    def reduce(self, fn, arg, per_partition):
        names.append(fn.__name__)
        return real_reduce(self, fn, arg, per_partition)

    def spying(method):
        real_method = getattr(distributed.Shuffle, method)

        def spy(self, fn, *args):
            names.append(fn.__name__)
            return real_method(self, fn, *args)
        return spy

    monkeypatch.setattr(distributed.Shuffle, "reduce", reduce)
    for method in ("map", "tasks", "lazy"):
        monkeypatch.setattr(distributed.Shuffle, method, spying(method))
    with _killing("ray::_job_task") if workers == 2 else contextlib.nullcontext([]) as killed:
        got = api.audit(*src, config=_ray_cfg(TEXT, workers=workers, shards=5))
    assert killed or workers == 1, "no running LSH task was found to kill"
    assert {"_shared_in_partition", "_class_records", "_classes_in_partition", "_band_records", "_band_groups",
            "_estimates_of_block"} <= set(names)
    near = [f for f in got.finding_list if f.check_id == "duplication.text_near_duplicates" and f.scope == "column"]
    assert [f.status for f in near] == ["fail"]
    copies = [f for f in got.finding_list if f.check_id == "duplication.text_memorisation" and f.scope == "column"
              and f.metric == "real_copy_rate"]
    assert [f.status for f in copies] == ["fail"]
    assert findings_bytes(got) == findings_bytes(one)


def _processes(title: str) -> list[int]:
    """Pids of processes whose command line holds ``title`` (Ray titles a worker by what it runs:
    ``ray::_task``, ``ray::_EmbedWorker.encode``)."""
    out = subprocess.run(["ps", "-eo", "pid=,args="], capture_output=True, text=True).stdout
    return [int(line.split(None, 1)[0]) for line in out.splitlines() if title in line]


@contextlib.contextmanager
def _killing(title: str):
    """SIGKILL the first process seen running ``title`` while the block runs; yields the killed pids."""
    killed: list[int] = []
    stop = threading.Event()

    def killer():
        while not stop.is_set() and not killed:
            pids = _processes(title)
            if pids:
                os.kill(pids[0], signal.SIGKILL)
                killed.append(pids[0])
            time.sleep(0.01)

    t = threading.Thread(target=killer)
    t.start()
    try:
        yield killed
    finally:
        stop.set()
        t.join()


def test_killed_worker_is_retried_and_findings_unchanged(cluster, inputs, local):
    with _killing("ray::_task") as killed:
        got = api.audit(*_sources(inputs), config=_ray_cfg(CONFIG, workers=2, shards=16))
    assert killed, "no running task was found to kill"
    assert findings_bytes(got) == findings_bytes(local)


def test_failing_task_names_its_shard_and_writes_nothing(cluster, inputs, tmp_path, capsys):
    import shutil

    bad = tmp_path / "real"
    shutil.copytree(inputs / "real", bad)
    raw = (bad / "part-1.parquet").read_bytes()
    (bad / "part-1.parquet").write_bytes(raw[: len(raw) // 2])
    (tmp_path / "c.yaml").write_text(__import__("yaml").safe_dump(_ray_cfg(CONFIG, workers=2, shards=4)))
    with pytest.raises(SystemExit) as exc:
        main(["audit", "--real", str(bad), "--synthetic", str(inputs / "syn.csv"), "--config",
              str(tmp_path / "c.yaml"), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert exc.value.code == 2 and err.count("\n") == 1
    assert "part-1.parquet" in err and "(Ray task: phase rows, shard 1/4)" in err
    assert not (tmp_path / "out").exists()


def test_without_ray_exit_2_says_what_to_install(inputs, tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray -> ImportError
    with pytest.raises(MissingDependencyError, match=r"pip install 'synthproof\[ray\]'"):
        api.audit(*_sources(inputs), config=CONFIG, executor="ray")
    with pytest.raises(SystemExit) as exc:
        main(["audit", "--real", str(inputs / "real"), "--synthetic", str(inputs / "syn.csv"), "--executor", "ray",
              "--out", str(tmp_path / "out")])
    assert exc.value.code == 2
    assert "synthproof[ray]" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_interrupted_run_publishes_nothing(inputs, tmp_path):
    """A run killed mid-way leaves no output that looks complete (the four files are published
    together at the end), and a killed sketch leaves no state file (written whole, then renamed)."""
    out = tmp_path / "out"
    p = subprocess.Popen([sys.executable, "-m", "synthproof.cli", "audit", "--real", str(inputs / "real"),
                          "--synthetic", str(inputs / "syn.csv"), "--config", str(inputs / "config.yaml"),
                          "--out", str(out)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(8)
    p.kill()
    assert p.wait() == -signal.SIGKILL, "the run ended before it could be interrupted"
    for name in ("findings.parquet", "report.html", "manifest.json", "summary.json"):
        assert not (out / name).exists()


def test_components_past_the_edge_limit_run_as_ray_tasks(cluster, tmp_path, monkeypatch):
    """Under the Ray executor the checks' near-duplicate components, past CLUSTER_EDGES, run one Ray
    task per partition, with the local run's findings."""
    from synthproof import datasets
    from synthproof.checks.duplication import _text_pairs
    from synthproof.stats import components

    real, syn = datasets.load("fortunes"), datasets.load("fortunes_smollm2")
    syn = __import__("pandas").concat([syn, syn.iloc[:60]], ignore_index=True)  # exact copies: clusters
    real.to_parquet(tmp_path / "real.parquet")
    syn.to_parquet(tmp_path / "syn.parquet")
    src = (str(tmp_path / "real.parquet"), str(tmp_path / "syn.parquet"))
    cfg = {"resources": {"out_of_core": "on"}, "suite": "listed",
           "checks": {"duplication.text_near_duplicates": {}, "duplication.near_duplicates": {}}}
    one = api.audit(*src, config=cfg)
    seen = []
    real_star = components.star_components

    def spy(edges, n, parts=1, mapper=None, max_rounds=200):
        seen.append(components.MAPPER[0] is not None)
        return real_star(edges, n, parts, mapper, max_rounds)

    monkeypatch.setattr(_text_pairs, "CLUSTER_EDGES", 0)
    monkeypatch.setattr(components, "star_components", spy)
    got = api.audit(*src, config=_ray_cfg(cfg, workers=2))
    assert seen and all(seen)  # the rounds went to the cluster
    assert components.MAPPER[0] is None  # and the mapper is gone after the run
    assert findings_bytes(got) == findings_bytes(one)


def test_duplicate_counts_run_on_the_shuffled_partitions(cluster, adult, tmp_path, monkeypatch):
    """The keyed shuffle: scan tasks leave their row hashes split by partition in the object store
    (no scan state carries them), the duplicate and copy counts run as one Ray task per partition,
    and the findings — failing checks with their row evidence — are the local run's."""
    import pandas as pd

    from synthproof import datasets
    from synthproof.plan import distributed
    from synthproof.stats import rowhashes

    real = datasets.load("adult", split="train")
    syn = datasets.load("adult_sdv_gaussiancopula")
    syn = pd.concat([syn, real.iloc[:400], syn.iloc[:300]], ignore_index=True)  # copies of real, repeats
    real.to_parquet(tmp_path / "real.parquet")
    syn.to_parquet(tmp_path / "syn.parquet")
    src = (str(tmp_path / "real.parquet"), str(tmp_path / "syn.parquet"))
    cfg = {"resources": {"out_of_core": "on"}, "suite": "listed",
           "checks": {"duplication.exact_duplicates": {}, "duplication.exact_copies": {}, "diversity.unique_rows": {}}}
    one = api.audit(*src, config=cfg)
    sides, reduced = [], []
    real_hashes, real_reduce = distributed.Shuffle.hashes, distributed.Shuffle.reduce

    def hashes(self, n_rows):
        sides.append(real_hashes(self, n_rows))
        return sides[-1]

    def reduce(self, fn, arg, per_partition):
        reduced.append(len(per_partition))
        return real_reduce(self, fn, arg, per_partition)

    monkeypatch.setattr(distributed.Shuffle, "hashes", hashes)
    monkeypatch.setattr(distributed.Shuffle, "reduce", reduce)
    got = api.audit(*src, config=_ray_cfg(cfg, workers=2, shards=3))
    assert sides and all(isinstance(s, rowhashes.ShuffledHashes) for s in sides[0].values())
    assert reduced and set(reduced) == {rowhashes.PARTITIONS}
    status = {f.check_id: f.status for f in got.finding_list if f.scope == "dataset"}
    assert status["duplication.exact_duplicates"] == "fail" and status["duplication.exact_copies"] == "fail"
    assert sum(f.scope == "row" for f in got.finding_list) > 0
    assert findings_bytes(got) == findings_bytes(one)


def test_embedding_sample_runs_on_the_actor_pool(cluster, tmp_path, monkeypatch):
    """Under Ray the embedding sample's forward passes run on an actor pool (a CPU each here, a GPU
    each where the cluster has GPUs) in sentence-transformers' own batches: the findings are the
    local run's — also when an actor is killed by its pid mid-encode (restarted, its batches
    retried) — and the pool is gone after the run."""
    from synthproof import datasets, embed
    from synthproof.plan import distributed

    real, syn = datasets.load("fortunes").iloc[:700], datasets.load("fortunes_smollm2").iloc[:300]
    real.to_parquet(tmp_path / "real.parquet")
    syn.to_parquet(tmp_path / "syn.parquet")
    src = (str(tmp_path / "real.parquet"), str(tmp_path / "syn.parquet"))
    cfg = {"resources": {"out_of_core": "on"}, "suite": "listed", "text": {"embedding": {"cache": False}},
           "checks": {"duplication.text_memorisation": {"max_docs": 200}}}
    one = api.audit(*src, config=cfg)
    batches, real_encode = [], distributed.EmbedPool.encode

    def encode(self, spec, chunk):
        batches.extend(len(b) for b in chunk)
        return real_encode(self, spec, chunk)

    monkeypatch.setattr(distributed.EmbedPool, "encode", encode)
    with _killing("ray::_EmbedWorker.encode") as killed:  # the first actor seen running an encode
        got = api.audit(*src, config=_ray_cfg(cfg, workers=2))
    assert killed, "no running embedding actor was found to kill"
    assert batches and max(batches) == 16  # the CPU batch size
    assert embed.POOL[0] is None
    assert any(f.metric == "text_dcr_auc" and f.scope == "column" for f in got.finding_list)
    assert findings_bytes(got) == findings_bytes(one)
