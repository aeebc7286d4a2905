"""Benchmark contamination: synthetic documents that share a long word n-gram with an evaluation item.

As NeMo Curator's and datatrove's decontamination define it: an evaluation item (a benchmark
question, a test document) contaminates a training document when they share a word 13-gram
(normalised words: NFKC, case-folded, punctuation dropped). Items shorter than ``ngram`` words are
matched by their whole word sequence when they have at least ``min_item_words`` words; shorter
ones are too generic to match and are counted. Deterministic: no share of the gate's budget.
"""

from __future__ import annotations

import pathlib

import numpy as np

from synthproof.check import Param, register
from synthproof.checks._text import TextCheck
from synthproof.corpus import Tap
from synthproof.errors import IncomputableError, InputError
from synthproof.findings import Finding
from synthproof.text import words

from ._text_pairs import doc_ngram_keys, shared_ngram_pairs, unique_pairs


def eval_texts(path: str, field: str | None) -> list[str]:
    """The texts of one evaluation set (JSONL, Parquet or CSV): ``field``, else the first column
    inferred as free text, else the first string column."""
    from synthproof import io
    from synthproof.schema import infer_role

    table, _ = io.load(path, "eval set")
    frame = table.to_pandas()
    if field is not None:
        if field not in frame.columns:
            raise InputError(f"eval set {path}: no column {field!r} (columns: {list(frame.columns)[:10]})")
        col = field
    else:
        strings = [c for c in frame.columns if frame[c].dropna().map(lambda v: isinstance(v, str)).mean() > 0.9]
        texts = [c for c in strings if infer_role(str(c), frame[c].head(20_000)) == "text"]
        if not strings:
            raise InputError(f"eval set {path}: no string column")
        col = (texts or strings)[0]
    return [v for v in frame[col].tolist() if isinstance(v, str) and v.strip()]


class EvalTap(Tap):
    """Contamination hits of every document against one evaluation set: ``(pairs, n_items,
    too_short, error)`` with ``pairs`` the unique ``(document, item)`` rows (int64, shape (k, 2)) of a
    shared word ``ngram``-gram, or of a whole short item (``min_item_words`` to ``ngram - 1``
    words). An eval set that cannot be read is kept as ``error`` (raised by the check that reads it)."""

    def start(self, path: str, field: str | None, ngram: int, min_item_words: int) -> None:
        from synthproof.stats.tokens import encode_corpora

        self.ngram, self.error, self.pairs = ngram, None, []
        self.n_items = self.too_short = 0
        try:
            items = eval_texts(path, field)
        except InputError as exc:
            self.error = exc
            return
        (ce,) = encode_corpora([words(t) for t in items])
        lens = ce.lengths
        self.n_items, self.too_short = len(items), int((lens < min_item_words).sum())
        self.long = doc_ngram_keys(ce, ngram)
        self.short = []
        for k in sorted({int(k) for k in lens[(lens < ngram) & (lens >= min_item_words)]}):
            ek, ed = doc_ngram_keys(ce, k)
            keep = lens[ed] == k
            self.short.append((k, (ek[keep], ed[keep])))

    def add(self, codes, doc0, docs) -> None:
        if self.error is not None:
            return
        got = [shared_ngram_pairs(doc_ngram_keys(codes, self.ngram), self.long, max_fanout=10**9)]
        got += [shared_ngram_pairs(doc_ngram_keys(codes, k), keys, max_fanout=10**9) for k, keys in self.short]
        got = [g for g in got if len(g)]
        if got:
            pairs = np.vstack(got)
            self.pairs.append(np.column_stack([pairs[:, 0] + doc0, pairs[:, 1]]))

    def finish(self):
        pairs = unique_pairs(np.vstack(self.pairs)) if self.pairs else np.zeros((0, 2), dtype=np.int64)
        return pairs, self.n_items, self.too_short, self.error

    @classmethod
    def merge(cls, outputs: list, doc_offsets: list[int]):
        pairs = [np.column_stack([o[0][:, 0] + off, o[0][:, 1]]) for o, off in zip(outputs, doc_offsets) if len(o[0])]
        merged = unique_pairs(np.vstack(pairs)) if pairs else np.zeros((0, 2), dtype=np.int64)
        _, n_items, too_short, error = outputs[0]
        return merged, n_items, too_short, error


@register
class BenchmarkContamination(TextCheck):
    id = "duplication.contamination"
    needs = ("corpus",)
    version = "2"  # matched chunk by chunk against content-coded eval items (issue 12)
    computation = "mergeable"
    family = "duplication"
    summary = "Synthetic documents sharing a word 13-gram with an evaluation-set item (per eval set)."
    metric = "contaminated_documents"
    goal = "minimize"
    unit = "documents"
    value_range = "[0, n_documents]"
    statistical = False
    source = "NeMo Curator / datatrove decontamination (13-gram overlap); Brown et al. 2020 (GPT-3, appendix C)"
    params = {
        "ngram": Param("int", 13, "word n-gram length shared with an eval item", low=3, high=100),
        "min_item_words": Param("int", 8, "shorter eval items are matched whole when at least this long", low=1),
        "max_contaminated": Param("int", 0, "contaminated synthetic documents tolerated per eval set", low=0),
    }

    def _params(self, cfg, path: str) -> dict:
        return {"path": str(path), "field": cfg.text.eval_text_field, "ngram": self.ngram,
                "min_item_words": self.min_item_words}

    def corpus_taps(self, cfg) -> list:
        return [(EvalTap, self._params(cfg, path), ("synthetic",)) for path in cfg.text.eval_sets or ()]

    def run(self, ctx) -> list[Finding]:
        sets = ctx.config.text.eval_sets
        if not sets:
            raise IncomputableError("not_configured", "no evaluation set configured (text.eval_sets).")
        out: list[Finding] = []
        for col in self.text_columns(ctx):
            syn = ctx.corpus(col, "synthetic")
            for path in sets:
                name = pathlib.Path(path).name
                pairs, n_items, too_short, error = ctx.corpus_tap(col, "synthetic", EvalTap,
                                                                  **self._params(ctx.config, path))
                if error is not None:
                    raise error
                docs = np.unique(pairs[:, 0]) if len(pairs) else np.zeros(0, dtype=np.int64)
                hit_items = np.unique(pairs[:, 1]) if len(pairs) else np.zeros(0, dtype=np.int64)
                status = "fail" if docs.size > self.max_contaminated else "pass"
                shown = docs[: max(10, ctx.max_row_findings if status == "fail" else 0)]
                ids = dict(zip(shown.tolist(), ctx.doc_ids("synthetic", syn.rows[shown])))
                out.append(self.finding(
                    scope="column", column=col, subgroup=f"eval_set={name}", value=float(docs.size),
                    threshold=float(self.max_contaminated), n_synthetic=syn.n_docs, status=status,
                    reason_code="beyond_baseline" if status == "fail" else None,
                    evidence={"eval_set": name, "eval_items": n_items, "items_found": int(hit_items.size),
                              "items_too_short": too_short, "ngram": self.ngram,
                              "examples": [ids[int(d)] for d in docs[:10]]},
                    message=f"{docs.size} of {syn.n_docs} synthetic documents share a word {self.ngram}-gram "
                            f"with {hit_items.size} of {n_items} items of eval set {name!r}"
                            + (f" ({too_short} items under {self.min_item_words} words not matched)" if too_short else "")
                            + (f"; more than the {self.max_contaminated} tolerated." if status == "fail" else ".")))
                if status == "fail":
                    first = {}
                    for d, i in pairs.tolist():
                        first.setdefault(d, i)
                    for d in docs[: ctx.max_row_findings]:
                        rid = ids[int(d)]
                        out.append(self.finding(scope="row", column=col, subgroup=f"eval_set={name}", row_id=rid,
                                                side="synthetic", status="fail", reason_code="row_evidence",
                                                message=f"synthetic {rid}: shares a word {self.ngram}-gram with item "
                                                        f"{first[int(d)]} of eval set {name!r}."))
        return out
