"""What every text check shares: the text columns it applies to and their cleaned sides.

Text checks live in their families' folders (``drift/text.py``, ``diversity/text.py``,
``duplication/text.py``); this module is their common base.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from synthproof.calibration import Verdict, describe, judge
from synthproof.check import Check
from synthproof.errors import IncomputableError
from synthproof.findings import Finding

#: Fewest documents per side (after matching sizes) for a statistical text comparison.
MIN_DOCS = 20


class TextCheck(Check):
    """Base of the text checks: applies when the data has a text column; one comparison per column."""

    @staticmethod
    def applicable(data) -> bool:
        return bool(data.by_role("text"))

    def text_columns(self, ctx) -> list[str]:
        cols = ctx.text_columns
        if not cols:
            raise IncomputableError("no_applicable_columns", "no text column (role 'text')")
        return cols

    def sides(self, ctx, col: str):
        """(real, synthetic) text samples (:meth:`~synthproof.context.AuditContext.text_sample`) of ``col``."""
        return ctx.text_sample(col, "real"), ctx.text_sample(col, "synthetic")

    def corpus_taps(self, cfg) -> list:
        """The corpus taps this check reads: ``[(Tap subclass, params, sides), ...]`` (the planner
        builds them in the corpus pass; :meth:`~synthproof.context.AuditContext.corpus_tap`)."""
        return []

    def too_few(self, col: str, n_real: int, n_syn: int, need: int = MIN_DOCS) -> Finding:
        return self.finding(scope="column", column=col, status="skipped", reason_code="too_few_rows",
                            n_real=n_real, n_synthetic=n_syn,
                            message=f"text column {col!r}: {n_real} real and {n_syn} synthetic documents; "
                                    f"this check needs at least {need} synthetic and {2 * need} real.")

    def judged(self, items: list[tuple], ctx, label: str, **common) -> list[Finding]:
        """Judge ``items`` = [(col, Comparison, n_real, n_syn, extra finding kwargs)] as one family
        (Holm/BH across them) and turn them into column findings."""
        verdicts: list[Verdict] = judge([c for _, c, *_ in items], ctx.alpha, ctx.fdr_q)
        out = []
        for (col, comp, n_r, n_s, extra), v in zip(items, verdicts):
            extra = dict(extra)
            what = extra.pop("what", f"text column {col!r}")
            prefix = extra.pop("prefix", "")
            out.append(self.judged_finding(
                v, scope=extra.pop("scope", "column"), column=col, value=comp.value, min_effect=comp.min_effect,
                n_real=n_r, n_synthetic=n_s,
                message=prefix + describe(extra.pop("label", label), comp.value, v, comp.min_effect, what),
                **common, **extra))
        return [self.with_examples(f, ctx) if f.status == "fail" else _without_examples(f) for f in out]

    def examples(self, ctx, col: str) -> list[str]:
        """Synthetic documents shown beside a failing finding of ``col`` in the report: a
        content-keyed sample (:meth:`~synthproof.context.AuditContext.doc_sample`) of at most
        :data:`N_EXAMPLES`; checks override it to pick telling ones. Synthetic text only."""
        if "text_sample" not in (self.needs or ()):  # a check reads only the artefacts it declares
            return []
        ts = ctx.text_sample(col, "synthetic")
        if ts is None or not len(ts.docs):
            return []
        pos = ctx.doc_sample(col, "synthetic", min(4 * N_EXAMPLES, len(ts.docs)), f"examples:{self.id}")
        return [clip_doc(d) for d in not_real(ctx, col, [ts.docs[i] for i in pos])][:N_EXAMPLES]

    def with_examples(self, f: Finding, ctx) -> Finding:
        """``f`` with ``evidence["examples"]`` (:meth:`examples`) when it is a failing column finding
        without examples yet (subgroup findings get none: a corpus-wide sample would not show them)."""
        if f.status != "fail" or f.scope != "column" or not f.column or (f.evidence or {}).get("examples"):
            return f
        try:
            ex = self.examples(ctx, f.column)
        except (KeyError, ValueError, IndexError):  # a descriptor column such as "text.n_chars"
            return f
        return dataclasses.replace(f, evidence={**(f.evidence or {}), "examples": ex}) if ex else f


#: Example synthetic documents per failing text finding, and their length in characters.
N_EXAMPLES, EXAMPLE_CHARS = 3, 280


def _without_examples(f: Finding) -> Finding:
    """Example documents are kept only beside failing findings."""
    if not (f.evidence or {}).get("examples"):
        return f
    return dataclasses.replace(f, evidence={k: v for k, v in f.evidence.items() if k != "examples"})


def not_real(ctx, col: str, docs: list[str]) -> list[str]:
    """``docs`` without those equal (whitespace and case normalised) to a document of the real text
    sample: a copied real document shown as an "example synthetic document" would quote the real
    corpus. (Copies outside the sample are what duplication.text_memorisation reports.)"""
    real = ctx.text_sample(col, "real")
    seen = {" ".join(str(d).split()).casefold() for d in (real.docs if real is not None else [])}
    return [d for d in docs if " ".join(str(d).split()).casefold() not in seen]


def clip_doc(doc: str) -> str:
    """A document as an example: whitespace collapsed, at most :data:`EXAMPLE_CHARS` characters."""
    text = " ".join(str(doc).split())
    return text if len(text) <= EXAMPLE_CHARS else text[:EXAMPLE_CHARS - 1] + "…"


def text_codes(ctx, col: str) -> dict:
    """Content-coded word tokens (:func:`synthproof.corpus.tokenise`) of the text sample of every
    side of ``col`` (artefact ``tokens``): ``{"real": TokenCodes, "synthetic": TokenCodes,
    "holdout": TokenCodes}`` (holdout when given). Tokenised in chunks, so no token lists stay."""
    from synthproof.corpus import CHUNK_DOCS, tokenise
    from synthproof.stats.tokens import TokenCodes

    def coded(docs):
        parts = [tokenise(docs[i:i + CHUNK_DOCS])[0] for i in range(0, len(docs), CHUNK_DOCS)]
        codes = np.concatenate([p.codes for p in parts]) if parts else np.zeros(0, dtype=np.uint64)
        lens = np.concatenate([p.lengths for p in parts]) if parts else np.zeros(0, dtype=np.int64)
        return TokenCodes(codes, np.concatenate([[0], np.cumsum(lens)]).astype(np.int64))

    def build():
        sides = [s for s in ("real", "synthetic", "holdout") if ctx.text_sample(col, s) is not None]
        return {s: coded(ctx.text_sample(col, s).docs) for s in sides}

    return ctx.artefact("tokens", f"textcodes:{col}", build)


__all__ = ["MIN_DOCS", "TextCheck", "text_codes"]
