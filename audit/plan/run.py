"""The planner of an out-of-core run: read the inputs as streams, decide the roles on the same
sample as the in-memory path, and build every streamed artefact the runnable checks declare, in as
few passes as they allow (:mod:`synthproof.plan.outofcore`)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from synthproof.corpus import Resources
from synthproof.memory import release_memory
from synthproof.errors import InputError

from .columns import build_columns
from .needs import STREAMED
from .outofcore import first_pass, stream_chunks
from .progress import PassProgress
from .text import corpus_plan, streamed_corpora


def runs_out_of_core(check) -> bool:
    """Whether ``check`` reads only artefacts that are built out of core."""
    return check.needs is not None and set(check.needs) <= STREAMED


def _digest(source, name: str) -> str:
    """The input's content hash (:func:`synthproof.io.compose_digest` of its files' digests in shard
    order, as :class:`synthproof.io.Fingerprint`), streamed."""
    from synthproof.io import compose_digest, file_digest
    from synthproof.sources import resolve
    from synthproof.sources.stream import open_stream

    src = resolve(source, name)
    digests = []
    for shard in src.shards:
        with open_stream(src, shard, name, decompress=False) as fh:
            digests.append(file_digest(fh))
    return compose_digest(digests)


def _issues(data, streamed: dict, art, n_rows: dict) -> list:
    """Schema issues of the whole inputs, in the order :func:`synthproof.schema.prepare` gives them:
    missing columns; per feature column and side, unreadable values (summed over batches;
    ``type_mismatch`` when no value of the side could be read, else ``mixed_types``), infinite values,
    then ``all_null`` or ``constant`` from the exact counts; ``converted`` from the field metadata."""
    from synthproof.schema import SchemaIssue

    out = [i for i in data.issues if i.reason_code == "missing_column"]
    for col, cc in art.counts.items():
        role = data.roles[col]
        for side, counts in (("real", cc.real), ("synthetic", cc.synthetic)):
            n = n_rows[side]
            valid = counts[:-1]
            bad = streamed.get((col, side, "type_mismatch"), 0) + streamed.get((col, side, "mixed_types"), 0)
            inf = streamed.get((col, side, "non_finite"), 0)
            if bad and cc.kind == "categorical":
                out.append(SchemaIssue(col, side, "mixed_types", bad, n, "values of several types; compared as text"))
            elif bad:  # type_mismatch when every non-null value is unreadable (as prepare decides)
                code = "mixed_types" if int(valid.sum()) + inf else "type_mismatch"
                out.append(SchemaIssue(col, side, code, bad, n, f"{bad} of {n} values are not {role}; read as missing"))
            if inf:
                out.append(SchemaIssue(col, side, "non_finite", inf, n, f"{inf} of {n} values are infinite; read as missing"))
            if int(valid.sum()) == 0:
                out.append(SchemaIssue(col, side, "all_null", n, n, "every value is missing"))
            elif n > 1 and int((valid > 0).sum()) == 1 and (cc.exact or cc.kind == "categorical"):
                out.append(SchemaIssue(col, side, "constant", n, n, "a single distinct value"))
    for i in data.issues:
        if i.reason_code == "converted":
            out.append(SchemaIssue(i.column, i.side, "converted", n_rows[i.side], n_rows[i.side], i.detail))
    return out


def pair_columns(checks: list, data) -> list[str]:
    """The feature columns whose pair tables the runnable checks read (union, in feature order)."""
    want: list[str] = []
    for c in checks:
        if c.needs is not None and "pair_tables" in c.needs and hasattr(c, "pair_columns") \
                and c.severity != "off" and c.applicable(data):
            want += [x for x in c.pair_columns(data) if x not in want]
    return [c for c in data.features if c in want]


def _subgroup_spec(cfg, checks: list, data):
    """The subgroup tables' spec when a runnable check reads them, else ``None``."""
    from synthproof.subgroups import SubgroupSpec

    if any("subgroup_tables" in c.needs for c in checks):
        return SubgroupSpec.from_config(cfg, data)
    return None


def in_memory_artefacts(checks: list, data, cfg):
    """The column artefacts and pair tables of in-memory frames, in the same two passes as out of
    core (the pair tables in the counting pass), when a check reads them; else ``(None, {})`` and
    the context builds them on first use."""
    from .columns import frame_chunks

    wanted = [c for c in checks if c.needs is not None and c.severity != "off" and c.applicable(data)]
    if not any(set(c.needs) & {"column_counts", "pair_tables", "subgroup_tables"} for c in wanted):
        return None, {}
    feats = data.features
    pairs = pair_columns(checks, data)
    art = build_columns(frame_chunks({"real": data.real, "synthetic": data.synthetic}, feats), data.roles, feats,
                        cfg.seed, pair_columns=pairs, threads=cfg.threads, subgroups=_subgroup_spec(cfg, wanted, data))
    return art, ({tuple(pairs): art.pairs} if len(pairs) >= 2 else {})


def input_columns(sources: list, encoding, delimiter) -> tuple[dict, dict]:
    """Per input: the columns the first pass reads (``None``: all; the other sides read only the
    real columns) and the count to size batches by (the header's, else 32).

    Raises
    ------
    InputError
        Duplicate column names, an unreadable header.
    """
    from synthproof import io

    real_names = io.column_names(sources[0][0], encoding, delimiter)
    cols, widths = {}, {}
    for source, name in sources:
        names = io.column_names(source, encoding, delimiter)
        if names is not None:
            io._check_unique(names, name, str(source))
        cols[name] = None if name == "real" or real_names is None or names is None else \
            [c for c in names if c in real_names]
        widths[name] = (list(names) if names is not None else None)
    return cols, widths


def prepared_from(cfg, inputs: dict, all_names: dict):
    """The :class:`~synthproof.schema.Prepared` of streamed inputs whose first pass is done: roles on
    the role-inference samples (as in memory), frames holding the row pools, text trimmed to the
    text sample. The inputs' Arrow samples are dropped.

    Raises
    ------
    InputError
        Real and synthetic share no column.
    """
    from synthproof.schema import prepare

    if not set(inputs["real"].columns) & set(inputs["synthetic"].columns):
        raise InputError("real and synthetic share no column name")
    hold = inputs.get("holdout")
    # Roles from the role-inference sample (the in-memory path's rows), frames from the row pools.
    sampled = prepare(inputs["real"].sample, inputs["synthetic"].sample, hold.sample if hold is not None else None,
                      roles=cfg.columns.roles, include=cfg.columns.include, exclude=cfg.columns.exclude)
    data = prepare(inputs["real"].pool, inputs["synthetic"].pool, hold.pool if hold is not None else None,
                   roles=sampled.roles, include=cfg.columns.include)
    data.inferred, data.issues = sampled.inferred, sampled.issues
    data.row_ids = {name: inp.pool_ids for name, inp in inputs.items()}
    # As in memory: every synthetic column the real data lacks (tags included), though not read here.
    data.synthetic_only = [c for c in all_names["synthetic"] if c not in all_names["real"]]
    for inp in inputs.values():  # the kept rows live on in the frames; drop the Arrow copies
        inp.sample = inp.pool = None
    _trim_text(data, cfg)
    release_memory()
    return data


@dataclass
class Plan:
    """What the passes after the first build, decided from the prepared data alone (the same on
    every shard: :mod:`synthproof.plan.shards`)."""

    runnable: list
    features: list
    pair_columns: list
    columns: bool  # whether the column artefacts are built
    subgroups: object  # SubgroupSpec or None
    hashes: bool  # whether the row hashes are taken
    corpus: bool  # whether the corpus pass runs
    taps: list  # the corpus plan


def plan_passes(cfg, checks: list, data) -> Plan:
    """The :class:`Plan` of the runnable checks on ``data``."""
    runnable = [c for c in checks if runs_out_of_core(c) and c.severity != "off" and c.applicable(data)]
    feats = data.features
    cols = any(set(c.needs) & {"column_counts", "pair_tables", "subgroup_tables"} for c in runnable) or not runnable
    hashes = bool(feats) and any("row_hashes" in (c.needs or ()) and c.severity != "off" for c in checks)
    return Plan(runnable, feats, pair_columns(runnable, data), cols,
                _subgroup_spec(cfg, runnable, data) if cols else None, hashes,
                bool(data.by_role("text")) and any("corpus" in c.needs for c in runnable),
                corpus_plan(runnable, data, cfg))


def streamed_inputs(cfg, checks: list, sources: list, memory: int, encoding, delimiter, progress: bool):
    """Read ``sources`` (``[(source, name), ...]``) out of core.

    Returns
    -------
    data : Prepared
        Roles and schema of the whole inputs; frames holding the row pools (``row_ids``: their
        row ids); ``n_rows`` set (so ``data.streamed``).
    fingerprints : list of Fingerprint
    artefacts : (ColumnArtefacts or None, dict, set, dict, (list, Resources))
        The column artefacts, the pair tables keyed by their column tuple (as the context keeps
        them), the names of the artefacts built, the memoised artefacts to seed the context with
        (the row hashes: ``{"row_hashes": {"features": (real, synthetic)}}``; the corpora:
        ``{"corpus": {"<column>:<side>": CorpusStats}}``), and the corpus plan with its resources.

    Raises
    ------
    InputError
        Unreadable input or shard (named), a schema that changes between shards, zero rows, no
        column shared by real and synthetic.
    """
    from synthproof import io

    bar = PassProgress(progress)
    cols, names = input_columns(sources, encoding, delimiter)
    inputs, all_names = {}, {}
    for source, name in sources:
        inputs[name] = first_pass(source, name, cols[name], memory, encoding, delimiter, progress=bar, seed=cfg.seed,
                                  n_columns=len(names[name]) if names[name] is not None else 32)
        release_memory()
        all_names[name] = names[name] if names[name] is not None else inputs[name].columns
    data = prepared_from(cfg, inputs, all_names)
    n_rows = {name: inp.rows for name, inp in inputs.items()}
    plan = plan_passes(cfg, checks, data)
    streamed: dict = {}
    bar.total = n_rows["real"] + n_rows["synthetic"]
    res = Resources(memory)
    hashes = None
    try:
        hashes = _row_hashes(plan, n_rows, res)
        chunks = stream_chunks(inputs, data.roles, plan.features, streamed, hashes)
        # The column counts are cheap beside reading the data, and validity's schema issues come from
        # them: built whenever a runnable check reads anything beyond the row pool's samples.
        art = None
        if plan.columns:
            art = build_columns(chunks, data.roles, plan.features, cfg.seed, pair_columns=plan.pair_columns,
                                threads=cfg.threads, progress=bar, subgroups=plan.subgroups)
        elif hashes is not None:
            for _ in bar("hash", chunks()):
                pass
        if hashes is not None:
            for side in hashes.values():
                side.finish()
        corpora = text_issues = None
        if plan.corpus:
            corpora, text_issues = streamed_corpora(inputs, data, plan.taps, cfg, res, bar)
        fps = [io.Fingerprint(name, inp.label, _digest(inp.source, name), inp.rows, len(all_names[name]),
                              tuple(all_names[name])) for name, inp in inputs.items()]
    except BaseException:
        for side in (hashes or {}).values():
            side.finish()  # their files go with the spill folder
        res.close()
        raise
    return finish_streamed(data, inputs, n_rows, plan, streamed, art, hashes, corpora, text_issues, res, fps)


def finish_streamed(data, inputs: dict, n_rows: dict, plan: Plan, streamed: dict, art, hashes, corpora,
                    text_issues, res, fps) -> tuple:
    """:func:`streamed_inputs`' result from the finished passes (also of merged shard states)."""
    built = {"row_sample", "row_pool", "text_sample", "tokens", "embeddings", "minhash"}
    if art is not None:
        data.issues = _issues(data, streamed, art, n_rows)
        built |= {"column_counts", "pair_tables"} | ({"subgroup_tables"} if plan.subgroups is not None else set())
    else:
        data.issues = [i for i in data.issues if i.reason_code == "missing_column"]
    if hashes is not None:
        built.add("row_hashes")
    if corpora is not None:
        data.issues = data.issues + text_issues
        built.add("corpus")
    data.n_rows = n_rows
    pair_cols = plan.pair_columns
    pairs = {tuple(pair_cols): art.pairs} if art is not None and len(pair_cols) >= 2 else {}
    data.fetch = lambda side, column, rows: fetch_values(inputs[side], column, rows)
    seeded = {"row_hashes": {"features": (hashes["real"], hashes["synthetic"])}} if hashes is not None else {}
    if corpora is not None:
        seeded["corpus"] = corpora
    return data, fps, (art, pairs, built, seeded, (plan.taps, res))


def _row_hashes(plan: Plan, n_rows: dict, res: Resources) -> dict | None:
    """Where the row hashes of the scan pass go (:class:`synthproof.stats.rowhashes.SideHashes` per
    side; ``None`` when no check reads them): in memory while they take at most a sixteenth of the
    budget (the duplicate counts on them take a few times their size for a moment), else spilled
    to partition files in the run's spill folder (each partition pair then takes a 64th of that)."""
    from synthproof.stats.rowhashes import SideHashes

    if not plan.hashes:
        return None
    spill = res.spill_dir() if 8 * (n_rows["real"] + n_rows["synthetic"]) > res.memory // 16 else None
    return {side: SideHashes(n_rows[side], spill) for side in ("real", "synthetic")}


def _trim_text(data, cfg) -> None:
    """Keep in the row pools' text columns only the documents of the text sample (others become
    missing): no check reads pool text beyond it (:meth:`AuditContext.text_sample` selects the same
    documents again), and 200,000 web-length documents a side would hold ~0.8 GB."""
    from synthproof.corpus import sample_docs

    for side in ("real", "synthetic", "holdout"):
        frame = getattr(data, side)
        if frame is None:
            continue
        for col in data.by_role("text"):
            if col in frame.columns:
                values = frame[col].to_numpy(dtype=object)
                _, at = sample_docs(values, data.row_ids[side], cfg.seed, side, cfg.text.max_chars)
                kept = np.full(len(values), None, dtype=object)
                kept[at] = values[at]
                frame[col] = kept


def fetch_values(inp, column: str, rows: list[int]) -> dict:
    """The values of ``column`` in rows ``rows`` (row ids) of a streamed input, in one projected pass
    (as the in-memory frame holds them: the batch's pandas values)."""
    want = np.unique(np.asarray(rows, dtype=np.int64))
    out: dict = {}
    for row0, table in inp.batches([column]):
        lo, hi = np.searchsorted(want, [row0, row0 + table.num_rows])
        if hi > lo:
            vals = table.column(column).to_pandas()
            for r in want[lo:hi].tolist():
                out[r] = vals.iloc[r - row0]
        if len(out) == want.size:
            break
    return out

