"""What a check may read: the named artefacts it declares in ``Check.needs``.

The context serves each artefact only to a check that declared it (:meth:`AuditContext.use`), so
the planner knows from the declarations alone which passes a suite needs and which checks can run
out of core; ``tests/test_check_contract.py`` runs every check and asserts that it reads nothing else.
"""

from __future__ import annotations

from synthproof.errors import IncomputableError

#: Artefact name -> (what it is, whether it is built chunk by chunk out of core).
ARTEFACTS: dict[str, tuple[str, bool]] = {
    "column_counts": ("ColumnCounts of every feature column: exact counts on sample-derived cut points "
                      "(ctx.counts)", True),
    "pair_tables": ("coarse contingency tables of feature pairs (ctx.pair_table)", True),
    "row_codes": ("per-row fine and coarse codes of feature columns (ctx.categories, ctx.fine_codes, "
                  "ctx.pair_codes)", False),
    "rows": ("the prepared frames themselves (ctx.data.real / synthetic / holdout)", False),
    "row_sample": ("bottom-k row samples of the row pool (ctx.sample, ctx.ranked)", True),
    "row_pool": ("the frames read only at positions from ctx.sample / ctx.ranked (the row pool: in memory "
                 "the same rows as out of core, where the frames hold only them)", True),
    "row_hashes": ("canonical hashes of every row (8 bytes per row and side; out of core past a sixteenth of "
                   "the memory budget in partition files by hash) and duplicate-row rates", True),
    "subgroup_tables": ("the sensitive columns, their subgroups' code maps and count tables: rows, coarse codes "
                        "of every feature and target labels per subgroup (ctx.subgroup_tables)", True),
    "tags": ("provenance tags of the synthetic rows and the sidecar", False),
    "corpus": ("per-document statistics of every document of text columns — row ids, hashes, descriptors — and "
               "the states of the taps checks register: MinHash signatures, span keys, seq-rep, contamination hits "
               "(ctx.corpus, ctx.corpus_tap, ctx.documents)", True),
    "text_sample": ("the text sample: up to 20,000 documents per side of the row pool (ctx.text_sample, "
                    "ctx.doc_sample)", True),
    "tokens": ("token codes of the text sample (text_codes)", True),
    "minhash": ("near-duplicate graphs and pairs derived from the corpus's MinHash signatures", True),
    "embeddings": ("sentence embeddings of a sample of the text sample (ctx.embeddings, ctx.embedder)", True),
    "synthetic_file": ("the synthetic input's files read whole (a signed manifest's Merkle root)", False),
}

STREAMED = frozenset(name for name, (_, streamed) in ARTEFACTS.items() if streamed)


class UndeclaredArtefact(RuntimeError):
    """A check read an artefact it does not declare in ``needs`` (a bug in the check)."""


class OutOfCore(IncomputableError):
    """A check needs an artefact that is not built when the inputs stream out of core: it is
    ``skipped`` with reason ``out_of_core`` (and a gating one fails ``gate.coverage``)."""

    def __init__(self, check_id: str, artefact: str) -> None:
        super().__init__("out_of_core", f"{check_id} reads {artefact}, not yet built out of core; the inputs were "
                                        "streamed (resources.out_of_core) — audit a sample, or set "
                                        "resources.out_of_core: off with enough memory, to run it.")


class WatchedData:
    """A read-only view of :class:`~synthproof.schema.Prepared` that records reads of the frames as
    the artefact ``rows``, or ``row_pool`` for a check that declares it (it promises to read rows
    only at sampled positions; ``tests/test_outofcore.py`` holds it to that by comparing its
    findings out of core, where the frames hold only the pool, with those in memory). Schema
    attributes — roles, features, columns — are free."""

    _FRAMES = frozenset({"real", "synthetic", "holdout", "synthetic_extra"})

    def __init__(self, data, ctx) -> None:
        object.__setattr__(self, "_data", data)
        object.__setattr__(self, "_ctx", ctx)

    def __getattr__(self, name: str):
        if name in self._FRAMES:
            cur = self._ctx.current
            self._ctx.use("row_pool" if cur is not None and "row_pool" in cur.needs else "rows")
        return getattr(self._data, name)

    def __setattr__(self, name: str, value) -> None:
        setattr(self._data, name, value)
