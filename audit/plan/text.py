"""The corpus pass: every text column of every side read once, chunk by chunk, into
:class:`~synthproof.corpus.CorpusStats` with the taps the runnable checks declare
(``corpus_taps``). In memory the context builds the same statistics from the frames
(:meth:`synthproof.context.AuditContext.corpus`) with the same plan."""

from __future__ import annotations


def corpus_plan(checks: list, data, cfg) -> list[tuple]:
    """The taps of the runnable text checks: ``[(Tap subclass, params, sides), ...]``, one entry per
    tap key (sides merged), in check order."""
    plan: dict[str, tuple] = {}
    for c in checks:
        if c.severity == "off" or not hasattr(c, "corpus_taps") or not c.applicable(data):
            continue
        for tap, params, sides in c.corpus_taps(cfg):
            key = tap.key_of(**params)
            before = plan.get(key, (tap, params, ()))[2]
            plan[key] = (tap, params, tuple(s for s in ("real", "synthetic", "holdout") if s in set(before) | set(sides)))
    return list(plan.values())


def streamed_corpora(inputs: dict, data, plan: list[tuple], cfg, res, progress=None) -> tuple[dict, list]:
    """Build the corpora of every text column of every streamed input in one projected pass per input.

    Parameters
    ----------
    inputs : dict of str -> StreamedInput
        Whole inputs, or each a shard's span (:attr:`StreamedInput.span`): the corpora then hold
        the span's rows (:func:`merge_corpora` joins the shards').
    data : Prepared
        Roles (the text columns) and the audited text columns (``text.columns``).
    plan : list
        :func:`corpus_plan`.
    res : synthproof.corpus.Resources
    progress : PassProgress, optional

    Returns
    -------
    corpora : dict
        ``"<column>:<side>"`` -> CorpusStats, ``None`` for a side without the column.
    issues : list of SchemaIssue
        ``non_string`` issues of the reader (values set aside as not strings), summed over batches.
    """
    corpora, stray = corpus_states(inputs, data, plan, cfg, res, progress)
    return corpora, stray_issues(corpora, stray)


def corpus_states(inputs: dict, data, plan: list[tuple], cfg, res, progress=None) -> tuple[dict, dict]:
    """:func:`streamed_corpora`'s corpora and the count of non-string values per ``"<column>:<side>"``."""
    from synthproof.corpus import CorpusBuilder
    from synthproof.memory import release_memory

    from .columns import Chunk

    declared = cfg.text.columns
    cols = [c for c in data.by_role("text") if declared is None or c in declared]
    corpora: dict = {f"{c}:{side}": None for c in cols for side in ("real", "synthetic", "holdout")}
    stray_all: dict = {}
    for side, inp in inputs.items():
        have = [c for c in cols if c in inp.columns]
        if not have:
            continue
        lo, hi = inp.span if inp.span is not None else (0, inp.rows)
        builders = {c: CorpusBuilder([tap(res, **params) for tap, params, sides in plan if side in sides],
                                     cfg.text.max_chars, capacity=hi - lo, start=lo) for c in have}
        stray = dict.fromkeys(have, 0)

        def batches():
            for row0, table in inp.batches(have):
                for c in have:
                    fld = table.schema.field(c)
                    stray[c] += int((fld.metadata or {}).get(b"synthproof.non_string", 0) or 0)
                    builders[c].feed(table.column(c).to_pandas().to_numpy(), row0)
                yield Chunk(side, row0, {}, table.num_rows, table.nbytes)

        for _ in (progress(f"text {side}", batches()) if progress is not None else batches()):
            pass
        for c in have:
            corpora[f"{c}:{side}"] = builders[c].finish()
            stray_all[f"{c}:{side}"] = stray[c]
        release_memory()
    res.shared.clear()  # the taps' caches: every corpus is built
    release_memory()
    return corpora, stray_all


def stray_issues(corpora: dict, stray: dict) -> list:
    """``non_string`` issues from the counts of :func:`corpus_states` (in its order)."""
    from synthproof.schema import SchemaIssue

    issues = []
    for key, k in stray.items():
        if k:
            c, side = key.rsplit(":", 1)
            n = corpora[key].n_rows
            issues.append(SchemaIssue(c, side, "non_string", k, n, f"{k} of {n} values are not strings; read as missing"))
    return issues
