"""``provenance.kgw_watermark`` and ``provenance.synthid_watermark``: KGW green-list and SynthID-Text
watermark detection over a corpus (scores from :mod:`synthproof.provenance.watermark`, the statistics
in :mod:`synthproof.provenance.kgw` and :mod:`synthproof.provenance.synthid`); ``watermark.scheme``
picks which one runs (the other is skipped, ``other_scheme``).

Per document: tokens scored T, green tokens G (KGW) or the g-value score S (SynthID), z-score and
one-sided p-value; documents with
T < ``watermark.min_tokens`` are ``skipped`` (counted). A document is *detected* when its p-value is
rejected by Benjamini & Hochberg (1995) at ``watermark.fdr`` across the scored documents, so among
the detected documents the expected share of unwatermarked ones is at most ``fdr``, and on a corpus
with no watermark P(any detection) <= ``fdr``. The verdict follows ``watermark.expect``:

* ``absent``: any detection fails (false-fail rate on a clean corpus <= ``fdr``);
* ``present``: fails when the detected share of scored documents is below ``watermark.min_share``;
* ``report`` (default): detections warn, none pass.

The real corpus is scored with the same settings and reported beside (detections there mean the key or
tokenizer produces false positives on this kind of text). The hashing key is never reported.
"""

from __future__ import annotations

import pathlib

import numpy as np

from synthproof.check import register
from synthproof.checks._text import TextCheck
from synthproof.corpus import Tap
from synthproof.errors import IncomputableError
from synthproof.findings import Finding
from synthproof.provenance.kgw import DEFAULT_HASHING_KEY, GreenCache, benjamini_hochberg
from synthproof.provenance.watermark import (SynthIDTextScorer, TextScorer, load_tokenizer, scheme_from_config,
                                             synthid_scheme_from_config)


def _scheme(cfg):
    """(tokenizer, scheme) of a ``watermark:`` section; IncomputableError without torch/tokenizers."""
    try:
        import tokenizers  # noqa: F401
        import torch  # noqa: F401
    except ImportError:
        raise IncomputableError("missing_dependency", "watermark detection needs torch and tokenizers: "
                                "pip install 'synthproof[text]'") from None
    tok, vocab = load_tokenizer(cfg.tokenizer)
    if cfg.scheme == "synthid":
        return tok, synthid_scheme_from_config(cfg, vocab, tok)
    return tok, scheme_from_config(cfg, vocab, tok)


#: The last watermark setup of this process — tokenizer, scheme and green-list cache — kept across
#: runs: a Ray worker runs many shards' tasks, each of which would load the tokenizer and draw the
#: same green lists again (a third of a text task's time). A lookup of deterministic values: the
#: scores never depend on it. At most one setup, of at most its budget.
_PROCESS: dict = {}


def _setup(cfg, budget: int):
    key = (cfg.model_dump_json(), budget)
    if key not in _PROCESS:
        _PROCESS.clear()
        tok, scheme = _scheme(cfg)
        _PROCESS[key] = (tok, scheme, GreenCache(scheme, budget) if cfg.scheme == "kgw" else None)
    return _PROCESS[key]


class WatermarkTap(Tap):
    """:func:`score_texts` of every document (``tokens_scored``, ``green``, ``z``, ``p_value``,
    ``tokens``, each of shape (n_docs,)) under the ``watermark:`` section given as JSON; a section
    that cannot be loaded is kept as ``error`` (raised by the check). Returns ``(scores, error)``."""

    def start(self, settings: str) -> None:
        from synthproof.config import WatermarkConfig

        self.cfg = WatermarkConfig.model_validate_json(settings)
        self.error = self.scorer = None
        try:
            # green lists kept across flushes, sides and runs in this process in a sixteenth of the budget
            # (a lookup, not a permutation)
            tok, scheme, cache = _setup(self.cfg, self.res.memory // 16)
            if self.cfg.scheme == "synthid":
                self.scorer = SynthIDTextScorer(scheme, tok, min_tokens=self.cfg.min_tokens)
            else:
                self.scorer = TextScorer(scheme, tok, min_tokens=self.cfg.min_tokens, cache=cache)
        except Exception as exc:  # reported by the check, not by whichever check built the corpus
            self.error = exc

    def add(self, codes, doc0, docs) -> None:
        if self.error is None:
            try:
                self.scorer.add(docs)
            except ValueError as exc:  # a token id outside the scheme's vocabulary
                self.error = exc

    def finish(self):
        if self.error is not None:
            return {}, self.error
        try:
            return self.scorer.result(), None
        except ValueError as exc:
            return {}, exc

    @classmethod
    def merge(cls, outputs: list, doc_offsets: list[int]):
        error = next((e for _, e in outputs if e is not None), None)
        if error is not None:
            return {}, error
        return {k: np.concatenate([o[k] for o, _ in outputs]) for k in outputs[0][0]}, None


@register
class KGWWatermark(TextCheck):
    """KGW watermark detection (Kirchenbauer et al. 2023) with transformers-compatible green lists."""

    id = "provenance.kgw_watermark"
    needs = ("corpus",)
    family = "provenance"
    summary = "Share of documents carrying a KGW green-list watermark (BH-controlled), judged by watermark.expect."
    metric = "watermarked_share"
    unit = "share"
    value_range = "[0, 1]"
    computation = "mergeable"
    statistical = False  # its own BH level (watermark.fdr), not the gate's budget
    source = ("Kirchenbauer et al. 2023, A Watermark for Large Language Models (ICML); transformers "
              "WatermarkLogitsProcessor/WatermarkDetector; Benjamini & Hochberg 1995")

    def corpus_taps(self, cfg) -> list:
        if cfg.watermark.scheme != self.scheme:
            return []
        return [(WatermarkTap, {"settings": cfg.watermark.model_dump_json()}, ("real", "synthetic"))]

    def _scores(self, ctx, col: str, side: str) -> dict:
        scores, error = ctx.corpus_tap(col, side, WatermarkTap, settings=ctx.config.watermark.model_dump_json())
        if error is not None:
            raise error
        return scores

    scheme = "kgw"
    label = "KGW"

    def _settings(self, scheme, cfg) -> dict:
        return {"vocab_size": scheme.vocab_size, "greenlist_ratio": scheme.greenlist_ratio,
                "seeding_scheme": scheme.seeding_scheme, "context_width": scheme.context_width,
                "ignore_repeated_ngrams": scheme.ignore_repeated_ngrams,
                "key": "default (15485863)" if scheme.hashing_key == DEFAULT_HASHING_KEY else "configured"}

    def _row_detail(self, s: dict, d: int) -> str:
        return f"{int(s['green'][d])} green of {int(s['tokens_scored'][d])} tokens"

    def run(self, ctx) -> list[Finding]:
        cfg = ctx.config.watermark
        if cfg.scheme != self.scheme:
            raise IncomputableError("other_scheme", f"watermark.scheme is {cfg.scheme}: this check scores "
                                    f"{self.scheme} watermarks")
        tok, scheme = _scheme(cfg)
        tok_name = pathlib.Path(cfg.tokenizer).name if cfg.tokenizer else "bundled SmolLM2-135M-Instruct"
        settings = {"tokenizer": tok_name, "scheme": cfg.scheme, **self._settings(scheme, cfg),
                    "min_tokens": cfg.min_tokens, "fdr": cfg.fdr, "expect": cfg.expect}
        out: list[Finding] = []
        for col in self.text_columns(ctx):
            syn = ctx.corpus(col, "synthetic")
            s = self._scores(ctx, col, "synthetic")
            r = self._scores(ctx, col, "real") if ctx.corpus(col, "real") is not None else None
            out.extend(self._column(ctx, col, s, r, syn.n_docs, cfg, settings, syn.rows))
        return out

    def _detect(self, scores: dict, cfg) -> tuple[np.ndarray, np.ndarray]:
        ok = (scores["tokens_scored"] >= cfg.min_tokens) & ~np.isnan(scores["z"])
        p = np.where(ok, scores["p_value"], np.nan)
        return ok, benjamini_hochberg(p, cfg.fdr)

    def _column(self, ctx, col, s, r, n_syn, cfg, settings, doc_rows) -> list[Finding]:
        ok, det = self._detect(s, cfg)
        n_ok, n_det = int(ok.sum()), int(det.sum())
        skipped = n_syn - n_ok
        if n_ok == 0:
            raise IncomputableError("too_few_tokens", f"text column {col!r}: no synthetic document has "
                                    f"{cfg.min_tokens} scored tokens (watermark.min_tokens)")
        share = n_det / n_ok
        real_det = real_ok = 0
        if r is not None:
            rok, rdet = self._detect(r, cfg)
            real_ok, real_det = int(rok.sum()), int(rdet.sum())
        z = s["z"][ok]
        if cfg.expect == "absent":
            status, goal = ("fail" if n_det else "pass"), "minimize"
            rule = f"expected absent: any detection fails (BH at {cfg.fdr})"
        elif cfg.expect == "present":
            status, goal = ("fail" if share < cfg.min_share else "pass"), "maximize"
            rule = f"expected present: fails below a detected share of {cfg.min_share:g}"
        else:
            status, goal = ("warn" if n_det else "pass"), "minimize"
            rule = "expect = report: detections warn"
        evidence = {**settings, "documents_scored": n_ok, "documents_skipped": skipped, "detected": n_det,
                    "median_z": round(float(np.median(z)), 4),
                    "max_z": round(float(np.max(z)), 4), "tokens_scored": int(s["tokens_scored"][ok].sum()),
                    "real_documents_scored": real_ok, "real_detected": real_det}
        msg = (f"text column {col!r}: {n_det} of {n_ok} scored synthetic documents carry the {self.label} watermark "
               f"(share {share:.3f}; BH at FDR {cfg.fdr}; median z {np.median(z):.2f}); "
               f"{skipped} document(s) under {cfg.min_tokens} tokens skipped; real: {real_det} of {real_ok} "
               f"detected. {rule}.")
        out = [self.finding(scope="column", column=col, value=share, goal=goal, status=status,
                            threshold=cfg.min_share if cfg.expect == "present" else None,
                            n_real=real_ok, n_synthetic=n_ok, evidence=evidence, message=msg)]
        rows = np.flatnonzero(det)
        row_status = status if status in ("fail", "warn") else "pass"
        if cfg.expect == "present":
            rows = np.flatnonzero(ok & ~det)  # the documents the expected watermark is missing from
        rows = rows[: ctx.max_row_findings]
        for d, rid in zip(rows, ctx.doc_ids("synthetic", doc_rows[rows])):
            word = "lacks the watermark" if cfg.expect == "present" else "carries the watermark"
            out.append(self.finding(
                scope="row", column=col, row_id=rid, side="synthetic", metric="z_score", unit="z",
                value=float(s["z"][d]), p_value=float(s["p_value"][d]), status=row_status,
                reason_code="row_evidence",
                message=f"synthetic {rid} {word}: {self._row_detail(s, d)}, z = {s['z'][d]:.2f}, "
                        f"p = {s['p_value'][d]:.2e}."))
        return out


@register
class SynthIDWatermark(KGWWatermark):
    """SynthID-Text watermark detection (Dathathri et al. 2024) with transformers' g-values."""

    id = "provenance.synthid_watermark"
    summary = ("Share of documents carrying a SynthID-Text watermark (mean or weighted-mean g-value score, "
               "BH-controlled), judged by watermark.expect.")
    source = ("Dathathri et al. 2024, Scalable watermarking for identifying large language model outputs "
              "(Nature 634); transformers SynthIDTextWatermarkLogitsProcessor; google-deepmind/synthid-text "
              "detector_mean; Benjamini & Hochberg 1995")
    scheme = "synthid"
    label = "SynthID-Text"

    def _settings(self, scheme, cfg) -> dict:
        return {"vocab_size": scheme.vocab_size, "depth": scheme.depth, "ngram_len": scheme.ngram_len,
                "sampling_table_size": scheme.sampling_table_size, "sampling_table_seed": scheme.sampling_table_seed,
                "context_history_size": scheme.context_history_size, "score": scheme.score, "keys": "configured"}

    def _row_detail(self, s: dict, d: int) -> str:
        return f"g-value score {s['score'][d]:.4f} over {int(s['tokens_scored'][d])} scored positions"
