"""The Ray executor: the passes over streamed inputs as Ray tasks (``--executor ray``).

The same four phases as shard states (:mod:`synthproof.plan.shards`), each a wave of ``N`` tasks
(shard ``I`` of ``N`` = a fixed span of row ids of each input, never a Ray Data block): a task
reads its shard's rows itself (local paths on shared storage, or object-store URLs) and returns
its state's bytes (the checksummed state file format, no pickle of data); between waves the
driver merges the states and puts the merged sample and scan in the object store once, as the
broadcast every task of the next wave reads. The driver never collects rows: it holds the merged
states (samples, counts, corpus statistics) and judges them, so the findings are those of one
local out-of-core run whatever the number of workers, shards or retries. The keyed state — row
hashes and verbatim-span keys — is not gathered at all: scan tasks return it split by partition
(:class:`Shuffle`) and the checks' counts and joins run one task per partition where it lies; the
embedding sample runs on a pool of actors (:class:`EmbedPool`, a GPU each where there are GPUs).

A task whose worker process dies is retried by Ray (``max_retries``); a task that raises (an
unreadable shard) fails the run with the shard named, and nothing is written.

Needs ``pip install 'synthproof[ray]'``; the cluster is ``executor.address`` / ``--address``, else
``RAY_ADDRESS``, else a local one started with ``executor.workers`` CPUs (default: all cores).
"""

from __future__ import annotations

import contextlib
import os
import time

from synthproof.errors import InputError, MissingDependencyError
from synthproof.stats.rowhashes import PARTITIONS

from .shards import PHASES, ShardRun

#: Retries of a task whose worker died (Ray's default for tasks is 3).
MAX_RETRIES = 3


class ExecutorError(InputError):
    """A distributed run that cannot finish (a task failed; the shard and phase named): exit 2, nothing written."""


def _ray():
    try:
        import ray
    except ImportError:
        raise MissingDependencyError("--executor ray needs Ray: pip install 'synthproof[ray]' (or pip install ray), "
                                     "or run with --executor local") from None
    return ray


def connect(address: str | None, workers: int | None):
    """Connect to the cluster at ``address`` (else ``RAY_ADDRESS``), or start a local one with
    ``workers`` CPUs; returns ``(ray, started_here, cpus)``."""
    ray = _ray()
    address = address or os.environ.get("RAY_ADDRESS") or None
    if ray.is_initialized():
        return ray, False, int(ray.cluster_resources().get("CPU", 1))
    kwargs = {"include_dashboard": False, "log_to_driver": False, "configure_logging": False}
    try:
        if address:
            ray.init(address=address, **kwargs)
        else:
            ray.init(num_cpus=workers or os.cpu_count() or 1, **kwargs)
    except (ConnectionError, ValueError, RuntimeError) as exc:
        raise ExecutorError(f"cannot reach the Ray cluster {address or '(local)'}: {str(exc).splitlines()[0]}; "
                            "check --address / RAY_ADDRESS, or run with --executor local") from None
    return ray, True, int(ray.cluster_resources().get("CPU", 1))


@contextlib.contextmanager
def ray_session(cfg):
    """The Ray cluster of a run, for its passes and its checks: connected (or started) on entry,
    the connected-components rounds of the checks mapped onto it (one task per partition), the
    embedding sample's forward passes on its actor pool (:class:`EmbedPool`), and shut down on
    exit when this run started it. Yields ``(ray, cpus)``."""
    from synthproof import embed
    from synthproof.stats import components

    ray, started, cpus = connect(cfg.executor.address, cfg.executor.workers)
    remote = ray.remote(num_cpus=1, max_retries=MAX_RETRIES)(_call)

    def mapper(fn, parts):
        return ray.get([remote.remote(fn, p) for p in parts])

    components.MAPPER[0] = mapper
    embed.POOL[0] = EmbedPool(ray, cfg.executor.workers or cpus)
    try:
        yield ray, cpus
    finally:
        components.MAPPER[0] = embed.POOL[0] = None
        if started:
            ray.shutdown()


class _EmbedWorker:
    """A Ray actor holding one embedding model (:class:`synthproof.embed.Embedder`, no cache)."""

    def __init__(self, spec: dict) -> None:
        from synthproof.embed import Embedder

        self.embedder = Embedder(spec["model"], None, spec["dtype"], normalize=spec["normalize"], use_cache=False,
                                 device=spec["device"])

    def encode(self, batches: list) -> list:
        return [self.embedder.encode_batch(b) for b in batches]


def _resolve_task(spec: dict) -> tuple[str, str]:
    from synthproof.embed import Embedder

    e = Embedder(spec["model"], None, spec["dtype"], normalize=spec["normalize"], use_cache=False,
                 device=spec["device"])
    return e.device, e.dtype


class EmbedPool:
    """The embedding sample's forward passes as a pool of Ray actors, one model each: a GPU per
    actor when the cluster has GPUs (one actor per GPU), else a CPU each (``workers`` actors).
    The actors live for one :meth:`encode` (they would otherwise hold the CPUs the checks' other
    tasks wait for); batches keep their order, so the vectors are those of one local ``encode``
    (:meth:`synthproof.embed.Embedder._forward`). An actor whose process dies is restarted and its
    batches retried (``MAX_RETRIES``)."""

    def __init__(self, ray, workers: int) -> None:
        self.ray, self.workers = ray, max(1, int(workers))

    def _options(self) -> tuple[dict, int]:
        gpus = int(self.ray.cluster_resources().get("GPU", 0))
        return ({"num_gpus": 1, "num_cpus": 1} if gpus else {"num_cpus": 1}), (gpus or self.workers)

    def resolve(self, spec: dict) -> tuple[str, str]:
        """The device and dtype the actors compute in (``auto`` resolved where they run)."""
        opts, _ = self._options()
        return tuple(self.ray.get(self.ray.remote(**opts)(_resolve_task).remote(spec)))

    def encode(self, spec: dict, batches: list) -> list:
        """Each batch's vectors, in order (batches dealt to the actors in runs of consecutive ones)."""
        from ray.util import ActorPool

        ray = self.ray
        opts, n = self._options()
        n = min(n, len(batches))
        cls = ray.remote(max_restarts=MAX_RETRIES, max_task_retries=MAX_RETRIES, **opts)(_EmbedWorker)
        actors = [cls.remote(spec) for _ in range(n)]
        try:
            per = max(1, -(-len(batches) // (4 * n)))
            runs = [batches[i:i + per] for i in range(0, len(batches), per)]
            out = []
            for got in ActorPool(actors).map(lambda a, run: a.encode.remote(run), runs):
                out.extend(got)
            return out
        finally:
            for a in actors:
                ray.kill(a)


def _call(fn, arg):
    return fn(arg)


def _task(args: tuple, phase: str, shard: int, blobs: dict):
    """One phase of one shard, on a worker (the config travels as JSON: no pickle of user data):
    the state's bytes, and for a scan its keyed partitions after it (:func:`~.shards.keyed_parts`)."""
    from synthproof.config import AuditConfig

    from .shards import keyed_parts

    cfg_json, sources, memory, encoding, delimiter, shards = args
    cfg = AuditConfig.model_validate_json(cfg_json)
    run = ShardRun(cfg, cfg.build_checks(), sources, memory, encoding, delimiter, None, shards, blobs=blobs,
                   keyed=True)
    out = run.compute(phase, shard)
    return (out, *keyed_parts(run)) if phase == "scan" else out


def _job_task(fn, arg, *blobs):
    return fn(arg, *blobs)


def _lazy_task(fn, arg, handles: list):
    """``fn(arg, getters)``: the handles travel inside a list, so Ray does not fetch them first."""
    import functools

    import ray

    return fn(arg, [functools.partial(ray.get, h) for h in handles])


def _reduce_task(fn, arg, sizes: list, *blobs):
    """``fn(arg, [bytes of side 1], ...)`` on one partition (each side's parts, shard after shard)."""
    sides, i = [], 0
    for k in sizes:
        sides.append(list(blobs[i:i + k]))
        i += k
    return fn(arg, *sides)


class Shuffle:
    """The keyed shuffle of a scan wave: each scan task returned, after its state, its row hashes
    and partitioned tap states split into :data:`PARTITIONS` partitions (Ray objects owned by the
    driver, left on the workers' object stores); a reduction runs one Ray task per partition that
    reads that partition's parts of every shard, so no keyed state is gathered on the driver.

    Parameters
    ----------
    ray : module
    parts : dict
        Shard -> the handles its scan task returned after its state.
    slots : list
        :func:`synthproof.plan.shards.keyed_slots` of the run (the order of the handles past the
        row hashes).
    """

    def __init__(self, ray, parts: dict, slots: list) -> None:
        self.ray, self.parts, self.slots = ray, parts, list(slots)
        self.remote = ray.remote(num_cpus=1, max_retries=MAX_RETRIES)(_reduce_task)
        self.remote_job = ray.remote(num_cpus=1, max_retries=MAX_RETRIES)(_job_task)
        self.remote_lazy = ray.remote(num_cpus=1, max_retries=MAX_RETRIES)(_lazy_task)

    def reduce(self, fn, arg, per_partition: list) -> list:
        """``fn(arg, [bytes], ...)`` of each partition's sides, as Ray tasks; results in order."""
        ray = self.ray
        arg_ref = ray.put(arg)  # one copy for every partition's task (e.g. the seeded row selections)
        return ray.get([self.remote.remote(fn, arg_ref, [len(s) for s in sides], *[r for s in sides for r in s])
                        for sides in per_partition])

    def hashes(self, n_rows: dict) -> dict:
        """Each side's row hashes as :class:`synthproof.stats.rowhashes.ShuffledHashes`."""
        from synthproof.stats.rowhashes import ShuffledHashes

        out = {}
        for j, side in enumerate(("real", "synthetic")):
            lo = j * PARTITIONS
            out[side] = ShuffledHashes(n_rows[side], [[self.parts[i][lo + p] for i in range(len(self.parts))]
                                                      for p in range(PARTITIONS)], self.reduce)
        return out

    def slot(self, shard: int, slot: tuple) -> list:
        """The part handles of ``slot`` (corpus key, tap key) in ``shard``'s scan."""
        lo = 2 * PARTITIONS
        for s, parts in self.slots:
            if s == slot:
                return self.parts[shard][lo:lo + parts]
            lo += parts
        raise KeyError(slot)

    def map(self, fn, jobs: list, num_returns: int) -> list:
        """``fn(arg, *bytes)`` of each job ``(arg, handles)`` as a Ray task whose ``num_returns``
        outputs (at least 2) stay where it ran: their handles, job by job."""
        if num_returns < 2:
            raise ValueError("map returns at least 2 objects per job")
        remote = self.remote_job.options(num_returns=num_returns)
        return [list(remote.remote(fn, arg, *handles)) for arg, handles in jobs]

    def tasks(self, fn, jobs: list) -> list:
        """``fn(arg, *bytes)`` of each job ``(arg, handles)`` as a Ray task; the results in order."""
        return self.ray.get([self.remote_job.remote(fn, arg, *handles) for arg, handles in jobs])

    def lazy(self, fn, jobs: list) -> list:
        """``fn(arg, getters)`` of each job ``(arg, handles)`` as a Ray task, ``getters[i]()``
        fetching handle ``i`` only when called (a task holds the blocks it reads one at a time)."""
        return self.ray.get([self.remote_lazy.remote(fn, arg, handles) for arg, handles in jobs])


def ray_streamed_inputs(cfg, checks: list, sources: list, memory: int, encoding, delimiter, progress: bool,
                        session: tuple):
    """What :func:`synthproof.plan.run.streamed_inputs` returns, with the passes run as Ray tasks
    on ``session`` (:func:`ray_session`).

    Raises
    ------
    MissingDependencyError
        Ray is not installed (exit 2, saying what to install).
    ExecutorError
        The cluster cannot be reached, or a task failed (its phase and shard named).
    InputError
        What a task raised reading its shard.
    """
    sources = [(str(s), n) for s, n in sources]  # paths or URLs (the caller refuses in-memory frames)
    ex = cfg.executor
    ray, cpus = session
    workers = ex.workers or cpus
    shards = ex.shards or 2 * workers
    from .sketch import merged_run

    kept, timings, shuffle = run_waves(ray, cfg, checks, sources, memory, encoding, delimiter, shards, workers)
    final = ShardRun(cfg, checks, sources, memory, encoding, delimiter, None, shards, blobs=kept)
    out = merged_run(final, shuffle)
    if progress:
        import sys

        print("ray: " + ", ".join(f"{p} {t:.1f} s" for p, t in timings.items()) + f" ({shards} shards, {workers} "
              "workers)", file=sys.stderr)
    return out


def run_waves(ray, cfg, checks: list, sources: list, memory: int, encoding, delimiter, shards: int,
              workers: int) -> tuple[dict, dict, Shuffle]:
    """The four waves of tasks: ``(states, seconds, shuffle)``, the states' bytes per phase as the
    final merge reads them (the sample merged), each wave's wall time (its tasks and the driver's
    merge of their states) and the scan wave's :class:`Shuffle`."""
    from .shards import keyed_slots

    remote = ray.remote(num_cpus=1, max_retries=MAX_RETRIES, retry_exceptions=False)(_task)
    args = (cfg.model_dump_json(), sources, memory, encoding, delimiter, shards)
    blobs: dict = {}
    kept: dict = {}
    timings: dict = {}
    parts: dict = {}
    slots: list = []
    # The driver's merges read ``kept`` as it fills (one listing of the inputs for the whole run).
    run = ShardRun(cfg, checks, sources, memory, encoding, delimiter, None, shards, blobs=kept)
    for phase in PHASES:
        t0 = time.perf_counter()
        wave = ray.put(dict(blobs))  # the broadcast: every task of the wave reads the same object
        kept[phase], got = _wave(ray, remote, args, phase, shards, workers, wave,
                                 1 + 2 * PARTITIONS + sum(parts for _, parts in slots))
        parts.update(got)
        if phase == "rows":
            blobs["rows"] = kept["rows"]
        elif phase == "sample":
            blobs["sample"] = kept["sample"] = [run.merged_sample()]
            _, _, data, plan = run.prepared(run.offsets())
            slots = keyed_slots(data, plan, cfg)  # what the scan tasks return past the row hashes
        elif phase == "scan":
            blobs["scan"] = [run.merged_scans()]
        timings[phase] = time.perf_counter() - t0
    return kept, timings, Shuffle(ray, parts, slots)


def _wave(ray, remote, args, phase: str, shards: int, workers: int, wave,
          scan_returns: int) -> tuple[list[bytes], dict]:
    """Run ``phase`` for every shard, at most ``workers`` tasks at once: the states in shard order,
    and (scan) each shard's partition handles, left where the tasks put them."""
    from ray.exceptions import RayError, RayTaskError

    pending, results, parts, nxt = {}, {}, {}, 0
    while nxt < shards or pending:
        while nxt < shards and len(pending) < workers:
            if phase == "scan":
                refs = remote.options(num_returns=scan_returns).remote(args, phase, nxt, wave)
                parts[nxt] = refs[1:]
                pending[refs[0]] = nxt
            else:
                pending[remote.remote(args, phase, nxt, wave)] = nxt
            nxt += 1
        done, _ = ray.wait(list(pending), num_returns=1)
        for ref in done:
            shard = pending.pop(ref)
            try:
                results[shard] = ray.get(ref)
            except RayTaskError as exc:
                cause = exc.cause if isinstance(getattr(exc, "cause", None), BaseException) else None
                for r in pending:
                    ray.cancel(r, force=True)
                if isinstance(cause, InputError):
                    raise InputError(f"{cause} (Ray task: phase {phase}, shard {shard}/{shards})") from None
                raise ExecutorError(f"Ray task of phase {phase}, shard {shard}/{shards} failed: "
                                    f"{type(cause or exc).__name__}: {str(cause or exc).splitlines()[0]}; nothing "
                                    "was written") from None
            except RayError as exc:  # e.g. the worker died more than MAX_RETRIES times
                for r in pending:
                    ray.cancel(r, force=True)
                raise ExecutorError(f"Ray task of phase {phase}, shard {shard}/{shards} failed after {MAX_RETRIES} "
                                    f"retries: {type(exc).__name__}: {str(exc).splitlines()[0]}; nothing was "
                                    "written") from None
    return [results[i] for i in range(shards)], parts
