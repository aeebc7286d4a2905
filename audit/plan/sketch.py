"""``synthproof sketch`` and ``synthproof audit --states``: the drivers of shard states
(:mod:`synthproof.plan.shards`)."""

from __future__ import annotations

import contextlib
import pathlib

from synthproof.errors import InputError
from synthproof.states import StateError

from .shards import PHASES, ShardRun, add_counts


def sketch(cfg, checks: list, sources: list, shard: tuple[int, int], out, memory: int, encoding=None,
           delimiter=None, progress=None) -> tuple[str | None, pathlib.Path | None]:
    """Write the state of the first phase that shard ``shard = (i, n)`` has none for.

    Returns
    -------
    phase : str or None
        The phase written (:data:`~synthproof.plan.shards.PHASES`), ``None`` when every phase
        of this shard is there already.
    path : pathlib.Path or None
        The state file written.

    Raises
    ------
    StateError
        The states of an earlier phase are missing (the shards listed), damaged or of another run.
    InputError
        An input cannot be read (named); text columns that a check would read.
    """
    i, n = shard
    run = ShardRun(cfg, checks, sources, memory, encoding, delimiter, out, n, progress)
    todo = next((p for p in PHASES if not run.path(p, i).exists()), None)
    if todo is None:
        return None, None
    from synthproof.result import atomic_write

    with _states_that_fit(out):
        raw = run.compute(todo, i)
    run.folder.mkdir(parents=True, exist_ok=True)
    atomic_write(run.path(todo, i), raw)
    return todo, run.path(todo, i)


@contextlib.contextmanager
def _states_that_fit(folder):
    """States whose checksums hold but whose contents do not fit together (written by hand, or by a
    bug) are refused with exit 2 rather than failing deep inside a merge."""
    try:
        yield
    except (KeyError, IndexError, TypeError, AttributeError, ValueError) as exc:
        if isinstance(exc, InputError):
            raise
        first = str(exc).splitlines()[0] if str(exc) else ""
        raise StateError(f"the states in {folder} do not merge ({type(exc).__name__}: {first[:200]}): write them "
                         "again with synthproof sketch") from None


def recorded_sources(folder) -> tuple[list, dict]:
    """The inputs ``[(source, name), ...]`` and reading options a state folder was sketched from.

    Raises
    ------
    StateError
        No state file in ``folder``, or one that cannot be read.
    """
    from synthproof.states import read_state

    folder = pathlib.Path(folder)
    if not folder.is_dir():
        raise StateError(f"--states {folder}: no such folder: pass the folder that synthproof sketch wrote into")
    paths = sorted(folder.glob("1-rows-*.state"))
    if not paths:
        raise StateError(f"--states {folder}: no rows states (1-rows-*.state): run synthproof sketch first")
    header, _ = read_state(paths[0])
    src = header.meta.get("sources", {})
    order = [name for name in ("real", "synthetic", "holdout") if name in src]
    if "real" not in src or "synthetic" not in src:
        raise StateError(f"state file {paths[0].name} names no real and synthetic input: write it again")
    return [(src[name], name) for name in order], {"encoding": header.meta.get("encoding"),
                                                   "delimiter": header.meta.get("delimiter"),
                                                   "shards": header.shards}


def streamed_from_states(cfg, checks: list, folder, memory: int, sources: list | None = None) -> tuple:
    """What :func:`synthproof.plan.run.streamed_inputs` returns, from the merged states in ``folder``.

    ``sources`` (``[(source, name), ...]``) default to the ones the states record; given, their
    listings must match the states'.

    Raises
    ------
    StateError
        A phase's states missing, damaged, duplicated or of another run (the file named).
    """
    recorded, opts = recorded_sources(folder)
    sources = sources or recorded
    if [n for _, n in sources] != [n for _, n in recorded]:
        raise StateError(f"--states {folder} holds states of the inputs {', '.join(n for _, n in recorded)}, not "
                         f"{', '.join(n for _, n in sources)}: pass the same inputs as to synthproof sketch")
    try:
        run = ShardRun(cfg, checks, sources, memory, opts["encoding"], opts["delimiter"], folder, opts["shards"])
    except InputError as exc:
        raise StateError(f"--states {folder}: the inputs the states were sketched from cannot be listed ({exc}); "
                         "audit where they can be read") from None
    with _states_that_fit(folder):
        return merged_run(run)


def merged_run(run: ShardRun, shuffle=None) -> tuple:
    """:func:`streamed_from_states` of a :class:`ShardRun` whose four phases are done; with
    ``shuffle`` (an executor's :class:`~synthproof.plan.distributed.Shuffle`) the row hashes and
    partitioned tap states stay where the scan tasks left them instead of in the scan states."""
    from synthproof import io
    from synthproof.corpus import Resources

    from .run import _row_hashes, finish_streamed

    memory = run.memory
    offsets = run.offsets()
    inputs, all_names, data, plan = run.prepared(offsets)
    for name, inp in inputs.items():
        inp.offsets = None  # audit reads whole inputs (row fetches)
    n_rows = {name: inp.rows for name, inp in inputs.items()}
    scans = run.load("scan")
    counts = run.load("count")
    streamed: dict = {}
    for p in scans:
        for c, side, reason, k in p["issues"]:
            streamed[(c, side, reason)] = streamed.get((c, side, reason), 0) + int(k)
    corpora = text_issues = None
    if plan.corpus:
        from synthproof.corpus import merge_corpora

        from .shards import tap_classes
        from .text import stray_issues

        taps = tap_classes(plan)
        for i, p in enumerate(scans if shuffle is not None else ()):
            for key, stats in p["corpora"].items():
                for k in list(stats.taps) if stats is not None else ():
                    if taps[k].partitioned:
                        stats.taps[k] = taps[k].shuffled(shuffle.slot(i, (key, k)), shuffle, stats.taps[k])
        corpora = {key: merge_corpora([p["corpora"][key] for p in scans], taps) for key in scans[0]["corpora"]}
        stray = {key: sum(p["stray"].get(key, 0) for p in scans) for key in scans[0]["stray"]}
        text_issues = stray_issues(corpora, stray)
    art = None
    count = run.merged_scan(data, plan, scans)
    if count is not None:
        for p in counts:
            add_counts(count, p)
        art = count.finish()
    res = Resources(memory)
    hashes = None
    try:
        hashes = _row_hashes(plan, n_rows, res) if shuffle is None or not plan.hashes else shuffle.hashes(n_rows)
        if hashes is not None and shuffle is None:
            from .shards import span_of

            for side, h in hashes.items():
                for i, p in enumerate(scans):
                    h.put(span_of(i, run.shards, n_rows[side])[0], p["hashes"][side])
                h.finish()
    except BaseException:
        for h in (hashes or {}).values():
            h.finish()
        res.close()  # the spill folder
        raise
    fps = [io.Fingerprint(name, inp.label, io.compose_digest(offsets[name][1]), inp.rows, len(all_names[name]),
                          tuple(all_names[name])) for name, inp in inputs.items()]
    return finish_streamed(data, inputs, n_rows, plan, streamed, art, hashes, corpora, text_issues, res, fps)
