"""Diversity of a text corpus against the real one, at equal sizes.

Every statistic here depends on corpus size (distinct-n on token count, gzip on byte count,
Vendi and self-similarity on document count), so each split compares three samples of EQUAL size:
two disjoint real parts ``a`` and ``b`` and a synthetic part ``s``. The judged value is the
median over splits of ``T(s vs a)``, the baseline the ``T(b vs a)`` values (normal null), with
``T`` oriented so that larger means less diverse than real — the model-collapse direction.
Synthetic text MORE varied than real is not flagged here (drift checks see it).
"""

from __future__ import annotations

import numpy as np

from synthproof.calibration import Comparison, fmt
from synthproof.check import Param, register
from synthproof.checks._text import MIN_DOCS, TextCheck, text_codes
from synthproof.findings import Finding
from synthproof.stats.similarity import mean_pairwise_cosine
from synthproof.corpus import Tap
from synthproof.stats.tokens import distinct_per_owner, ngram_owners
from synthproof.text import compression_ratio

from . import _stats, _text_stats

_SPLITS = Param("int", 20, "seeded equal-size real/real/synthetic draws", low=5, high=10_000)


def _median(values) -> float:
    v = np.asarray(values, dtype=float)
    return float(np.nanmedian(v)) if np.isfinite(v).any() else float("nan")


class _SplitCheck(TextCheck):
    """One loss statistic per split; ``loss(ctx, col, rng)`` returns ``(value, baseline, n, evidence)``."""

    family = "diversity"
    label = ""

    def run(self, ctx) -> list[Finding]:
        items, out = [], []
        for col in self.text_columns(ctx):
            got = self.loss(ctx, col, ctx.rng(f"{self.id}:{col}"))
            if isinstance(got, Finding):
                out.append(got)
                continue
            for value, base, n, extra in got:
                items.append((col, Comparison(value, base, self.min_effect, null="normal"), n, n, extra))
        return out + self.judged(items, ctx, self.label)


@register
class TextDistinctN(_SplitCheck):
    """distinct-n for n = 1..4 at equal token counts; loss ``1 - distinct_s / distinct_a``."""

    id = "diversity.text_distinct_n"
    needs = ("text_sample", "tokens")
    version = "2"  # draws from the text sample (at most 20,000 documents of the row pool; issue 12)
    summary = "distinct-n (n = 1..4) at equal token counts, as relative loss against real."
    metric = "distinct_n_loss"
    computation = "sample"
    goal = "minimize (1 - synthetic/real distinct-n)"
    value_range = "(-inf, 1]"
    label = "distinct-n loss"
    source = "Li et al. 2016, 'A diversity-promoting objective function for neural conversation models', NAACL"
    params = {
        "min_effect": Param("float", 0.1, "minimum relative loss of distinct-n worth failing", low=0.0, high=1.0),
        "max_n": Param("int", 4, "largest n", low=1, high=8),
        "max_tokens": Param("int", 200_000, "tokens per sample (the budget is the smaller of this and the data)",
                            low=100),
        "n_splits": _SPLITS,
    }

    def loss(self, ctx, col, rng):
        real, syn = self.sides(ctx, col)
        codes = text_codes(ctx, col)
        cr, cs = codes["real"], codes["synthetic"]
        budget = int(min(self.max_tokens, cs.codes.size, cr.codes.size * 0.45))  # b must fit beside a
        if budget < 100:
            return self.too_few(col, len(real.docs), len(syn.docs))
        ns = range(1, self.max_n + 1)
        vals, base = {n: [] for n in ns}, {n: [] for n in ns}
        d_syn = {n: [] for n in ns}
        for _ in range(self.n_splits):
            perm = rng.permutation(len(real.docs))
            a = cr.take(perm, budget)
            used = np.searchsorted(np.cumsum(cr.lengths[perm]), budget, side="left") + 1
            b = cr.take(perm[used:], budget)
            s = cs.take(rng.permutation(len(syn.docs)), budget)
            for n in ns:
                da = _text_stats.distinct_n_codes(*a, n)
                db = _text_stats.distinct_n_codes(*b, n) if b[0].size == budget else np.nan
                dsyn = _text_stats.distinct_n_codes(*s, n)
                vals[n].append(1 - dsyn / da)
                base[n].append(1 - db / da)
                d_syn[n].append(dsyn)
        out = []
        for n in ns:
            b = np.asarray(base[n])
            if np.isfinite(b).sum() < 2:
                return self.too_few(col, len(real.docs), len(syn.docs))
            out.append((_median(vals[n]), b[np.isfinite(b)], budget,
                        {"metric": f"distinct_{n}_loss", "label": f"distinct-{n} loss",
                         "evidence": {"n": n, "tokens": budget, "synthetic_distinct": round(_median(d_syn[n]), 6)},
                         "prefix": f"distinct-{n} {fmt(_median(d_syn[n]))} in {budget} synthetic tokens. "}))
        return out


@register
class TextCompressionRatio(_SplitCheck):
    """gzip compression ratio at equal byte counts; loss ``ratio_s / ratio_a - 1`` (more
    compressible = more repetitive)."""

    id = "diversity.text_compression"
    needs = ("text_sample",)
    version = "2"  # draws from the text sample (at most 20,000 documents of the row pool; issue 12)
    summary = "gzip compression ratio at equal byte counts, as relative excess over real."
    metric = "compression_ratio_excess"
    computation = "sample"
    goal = "minimize (synthetic/real compression ratio - 1)"
    value_range = "(-1, inf)"
    label = "compression-ratio excess"
    source = "Shaib et al. 2024, 'Standardizing the measurement of text diversity' (compression ratio); gzip level 6"
    params = {
        "min_effect": Param("float", 0.1, "minimum relative excess compressibility worth failing", low=0.0),
        "max_bytes": Param("int", 1_000_000, "UTF-8 bytes per sample", low=1000),
        "n_splits": _SPLITS,
    }

    def loss(self, ctx, col, rng):
        real, syn = self.sides(ctx, col)
        rb = np.fromiter((len(d.encode("utf-8", "surrogatepass")) + 1 for d in real.docs), dtype=np.int64,
                         count=len(real.docs))
        sb = sum(len(d.encode("utf-8", "surrogatepass")) + 1 for d in syn.docs)
        budget = int(min(self.max_bytes, sb, rb.sum() * 0.45))
        if budget < 1000:
            return self.too_few(col, len(real.docs), len(syn.docs))
        vals, base, ratios = [], [], []
        for _ in range(self.n_splits):
            perm = rng.permutation(len(real.docs))
            cut = int(np.searchsorted(np.cumsum(rb[perm]), budget, side="left")) + 1
            ra = compression_ratio([real.docs[i] for i in perm[:cut]], budget)
            rbb = compression_ratio([real.docs[i] for i in perm[cut:]], budget)
            rs = compression_ratio([syn.docs[i] for i in rng.permutation(len(syn.docs))], budget)
            vals.append(rs / ra - 1)
            ok = sum(rb[perm[cut:]]) >= budget
            base.append(rbb / ra - 1 if ok else np.nan)
            ratios.append(rs)
        b = np.asarray(base)
        if np.isfinite(b).sum() < 2:
            return self.too_few(col, len(real.docs), len(syn.docs))
        return [(_median(vals), b[np.isfinite(b)], len(syn.docs),
                 {"evidence": {"bytes": budget, "synthetic_ratio": round(_median(ratios), 6)},
                  "prefix": f"gzip ratio {fmt(_median(ratios))} on {budget} synthetic bytes. "})]


@register
class TextRepetition(_SplitCheck):
    """Within-document repetition (seq-rep-n: 1 - distinct/all n-grams of a document), mean over
    equal numbers of documents; loss ``mean_s - mean_a``."""

    id = "diversity.text_repetition"
    needs = ("corpus",)
    summary = "Within-document n-gram repetition (seq-rep-3), mean over documents, vs real."
    metric = "repetition_excess"
    computation = "mergeable"
    computation_note = "one seq-rep value per document; the equal-size draws take them from every document"
    goal = "minimize (synthetic - real mean seq-rep-n)"
    value_range = "[-1, 1]"
    label = "repetition excess"
    source = "Welleck et al. 2020, 'Neural text generation with unlikelihood training', ICLR (seq-rep-n)"
    params = {
        "min_effect": Param("float", 0.05, "minimum excess mean repetition worth failing", low=0.0, high=1.0),
        "n": Param("int", 3, "n-gram length", low=1, high=8),
        "n_splits": _SPLITS,
    }

    def corpus_taps(self, cfg) -> list:
        return [(SeqRepTap, {"n": self.n}, ("real", "synthetic"))]

    def loss(self, ctx, col, rng):
        rr = ctx.corpus_tap(col, "real", SeqRepTap, n=self.n)
        rs = ctx.corpus_tap(col, "synthetic", SeqRepTap, n=self.n)
        rr, rs = rr[np.isfinite(rr)], rs[np.isfinite(rs)]
        m = int(min(len(rs), len(rr) // 2))
        if m < MIN_DOCS:
            return self.too_few(col, len(rr), len(rs))
        vals, base = [], []
        for _ in range(self.n_splits):
            perm = rng.permutation(len(rr))
            a, b = rr[perm[:m]].mean(), rr[perm[m:2 * m]].mean()
            vals.append(rs[rng.permutation(len(rs))[:m]].mean() - a)
            base.append(b - a)
        return [(_median(vals), np.asarray(base), m,
                 {"evidence": {"n": self.n, "synthetic_mean": round(float(rs.mean()), 6),
                               "real_mean": round(float(rr.mean()), 6)},
                  "prefix": f"mean seq-rep-{self.n} {fmt(rs.mean())} synthetic vs {fmt(rr.mean())} real. "})]


class SeqRepTap(Tap):
    """seq-rep-``n`` (:func:`synthproof.text.repetition_rate`) of every document, from its word
    codes: ``ndarray of float64, shape (n_docs,)``, NaN for documents shorter than ``n`` words."""

    def start(self, n: int) -> None:
        self.n = n
        self.parts: list[np.ndarray] = []

    def add(self, codes, doc0, docs) -> None:
        m = codes.lengths.size
        keys, owner = ngram_owners(codes, self.n)
        total = np.bincount(owner, minlength=m)
        distinct = distinct_per_owner(keys, owner, m)
        with np.errstate(invalid="ignore", divide="ignore"):
            self.parts.append(np.where(total > 0, 1.0 - distinct / np.maximum(total, 1), np.nan))

    def finish(self) -> np.ndarray:
        return np.concatenate(self.parts) if self.parts else np.zeros(0)


class _EmbeddingSplitCheck(_SplitCheck):
    """Equal-size embedding samples ``a``, ``b`` (real) and ``s`` (synthetic) per split; subclasses
    give the per-sample ``score`` and ``compare`` (the loss of a sample's score against the reference's)."""

    needs_embeddings = True
    computation = "sample"
    name = ""

    @staticmethod
    def score(x: np.ndarray) -> float:  # pragma: no cover - abstract
        raise NotImplementedError

    @staticmethod
    def compare(ref: float, other: float) -> float:  # pragma: no cover - abstract
        raise NotImplementedError

    def samples(self, ctx, col, rng):
        _, er, _ = ctx.embeddings(col, "real")
        _, es, _ = ctx.embeddings(col, "synthetic")
        m = int(min(self.max_docs, len(es), len(er) // 2))
        if m < MIN_DOCS:
            return None, m, len(er), len(es)
        draws = []
        for _ in range(self.n_splits):
            perm = rng.permutation(len(er))
            draws.append((er[perm[:m]], er[perm[m:2 * m]], es[rng.permutation(len(es))[:m]]))
        return draws, m, len(er), len(es)

    def loss(self, ctx, col, rng):
        draws, m, nr, ns = self.samples(ctx, col, rng)
        if draws is None:
            return self.too_few(col, nr, ns)
        scores = [(self.score(a), self.score(b), self.score(s)) for a, b, s in draws]
        syn, real = _median([s for _, _, s in scores]), _median([a for a, _, _ in scores])
        return [(_median([self.compare(a, s) for a, _, s in scores]), np.array([self.compare(a, b) for a, b, _ in scores]),
                 m, {"evidence": {"synthetic": round(syn, 6), "real": round(real, 6)},
                     "prefix": f"{self.name} {fmt(syn)} over {m} synthetic documents vs {fmt(real)} real. "})]


@register
class TextSelfSimilarity(_EmbeddingSplitCheck):
    """Mean pairwise cosine similarity of embeddings at equal document counts; loss ``sim_s - sim_a``."""

    id = "diversity.text_self_similarity"
    needs = ("text_sample", "embeddings")
    version = "3"  # embeddings of the text sample (issue 12)
    summary = "Mean pairwise cosine similarity of document embeddings, excess over real."
    metric = "self_similarity_excess"
    goal = "minimize (synthetic - real mean pairwise cosine)"
    value_range = "[-2, 2]"
    label = "self-similarity excess"
    name = "mean pairwise cosine"
    source = "mean pairwise cosine of sentence embeddings (Reimers & Gurevych 2019 embeddings)"
    params = {
        "min_effect": Param("float", 0.05, "minimum excess mean cosine worth failing", low=0.0),
        "max_docs": Param("int", 5000, "documents per sample", low=MIN_DOCS),
        "n_splits": _SPLITS,
    }
    score = staticmethod(mean_pairwise_cosine)

    @staticmethod
    def compare(ref: float, other: float) -> float:
        return other - ref


@register
class TextVendi(_EmbeddingSplitCheck):
    """Vendi score (q = 1, cosine kernel, dual form) at equal document counts; loss ``1 - VS_s / VS_a``."""

    id = "diversity.text_vendi"
    needs = ("text_sample", "embeddings")
    version = "3"  # embeddings of the text sample (issue 12)
    summary = "Vendi score (q = 1, cosine kernel) of document embeddings, relative loss against real."
    metric = "vendi_loss"
    goal = "minimize (1 - synthetic/real Vendi score)"
    value_range = "(-inf, 1)"
    label = "Vendi loss"
    name = "Vendi score"
    source = "Friedman & Dieng 2023, 'The Vendi score', TMLR"
    params = {
        "min_effect": Param("float", 0.1, "minimum relative loss of the Vendi score worth failing", low=0.0, high=1.0),
        "max_docs": Param("int", 5000, "documents per sample", low=MIN_DOCS),
        "n_splits": _SPLITS,
    }
    score = staticmethod(_text_stats.vendi_score)

    @staticmethod
    def compare(ref: float, other: float) -> float:
        return 1.0 - other / ref


@register
class TextPRDC(_EmbeddingSplitCheck):
    """Precision / recall / density / coverage (k = 5) in embedding space at equal sizes; each
    judged as its deficit ``1 - metric`` against real/real, as ``diversity.prdc`` does for tables."""

    id = "diversity.text_prdc"
    needs = ("text_sample", "embeddings")
    version = "3"  # embeddings of the text sample (issue 12)
    summary = "Precision / recall / density / coverage (k = 5) of document embeddings at equal sizes."
    metric = "prdc_deficit"
    goal = "minimize (1 - metric)"
    value_range = "(-inf, 1]"
    source = ("Kynkäänniemi et al. 2019 (NeurIPS); Naeem et al. 2020 (ICML); equals the prdc reference "
              "implementation except on ties: a point on a ball's boundary is inside here (<=, 1e-9 tolerance, so "
              "identical sets give 1), outside in prdc (<)")
    params = {
        "min_effect": Param("float", 0.1, "minimum drop of a PRDC metric below real/real worth failing", low=0.0),
        "k": Param("int", 5, "nearest-neighbour rank defining the balls", low=1, high=100),
        "max_docs": Param("int", 2000, "documents per sample", low=MIN_DOCS),
        "n_splits": Param("int", 10, "seeded equal-size draws", low=3, high=1000),
    }

    def loss(self, ctx, col, rng):
        from sklearn.metrics import pairwise_distances

        draws, m, nr, ns = self.samples(ctx, col, rng)
        if draws is None or m <= 2 * self.k:
            return self.too_few(col, nr, ns)
        names = ("precision", "recall", "density", "coverage")
        val, base = [], []
        for a, b, s in draws:
            ra = _stats.knn_radius(a, self.k)
            got = [_stats.prdc_from_distances(ra, _stats.knn_radius(x, self.k), pairwise_distances(a, x), self.k)
                   for x in (b, s)]
            base.append([1 - got[0][n] for n in names])
            val.append([1 - got[1][n] for n in names])
        val, base = np.array(val), np.array(base)
        out = []
        for j, name in enumerate(names):
            v = float(np.median(val[:, j]))
            out.append((v, base[:, j], m, {"metric": f"{name}_deficit", "label": f"{name.capitalize()} deficit",
                                           "evidence": {"metric": name, "synthetic": round(1 - v, 6), "k": self.k},
                                           "prefix": f"{name} {fmt(1 - v)} for synthetic ({m} documents per sample). "}))
        return out
