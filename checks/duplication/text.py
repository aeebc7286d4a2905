"""Duplication and memorisation checks for text corpora.

Rates are judged against the same rate on real text at the same number of documents (real corpora
repeat themselves too: the same quotation filed under two topics), with the binomial null and the
calibrated rule of :mod:`synthproof.calibration`. Row-level findings name synthetic documents by
id or row position, never by their text.
"""

from __future__ import annotations

import dataclasses
import difflib

import numpy as np

from synthproof.calibration import Comparison, Normal, RateNull, fmt
from synthproof.check import Param, register
from synthproof.checks._text import MIN_DOCS, TextCheck
from synthproof.findings import Finding
from synthproof.stats.auc import rank_auc
from synthproof.text import words

from . import _minhash
from ._taps import MinHashTap, SpanTap, span_pairs
from ._text_pairs import class_twin_rate, clusters, cross_rate, hash_twin_rate, twin_rate, unique_pairs

_SPLITS = Param("int", 20, "seeded real/real splits R", low=20, high=10_000)
_MINHASH = {
    "ngram": Param("int", 2, "word n-gram shingles (2 catches a 2-word edit of a 30-word text; 5 does not)",
                   low=1, high=20),
    "num_perm": Param("int", 128, "MinHash permutations", low=16, high=1024),
    "threshold": Param("float", 0.5, "estimated Jaccard similarity at or above which two texts are near-duplicates",
                       low=0.0, high=1.0, open_low=True, open_high=True),
}


def signatures(ctx, col: str, side: str, ngram: int, num_perm: int) -> np.ndarray:
    """MinHash signatures (datasketch ``affine32``, seed 1) of every document of a side (a corpus tap)."""
    return ctx.corpus_tap(col, side, MinHashTap, ngram=ngram, num_perm=num_perm)


def near_graph_within(ctx, col: str, side: str, ngram: int, num_perm: int, threshold: float):
    """Cached :func:`_minhash.near_graph` (signature classes and their near pairs) of a side."""
    return ctx.artefact("minhash", f"neargraph:{col}:{side}:{ngram}:{num_perm}:{threshold}",
                        lambda: _minhash.near_graph(signatures(ctx, col, side, ngram, num_perm), threshold))


def near_pairs_within(ctx, col: str, side: str, ngram: int, num_perm: int, threshold: float):
    return ctx.artefact("minhash", f"nearpairs:{col}:{side}:{ngram}:{num_perm}:{threshold}",
                        lambda: _minhash.near_pairs(signatures(ctx, col, side, ngram, num_perm), threshold))


class _TextRateCheck(TextCheck):
    family = "duplication"
    label = ""

    def rate_item(self, col, value, baseline, n_r, m, extra) -> tuple:
        return (col, Comparison(value, baseline, self.min_effect, dist=RateNull(baseline, m)), n_r, m, extra)

    #: Name the offending documents also when the rate is within real/real (as ``warn`` rows): a
    #: synthetic document that copies a real one is worth naming whatever the corpus-level verdict.
    name_rows_always = False

    def doc_rows(self, ctx, col: str, rows, why, status: str = "fail") -> list[Finding]:
        """Row findings for synthetic documents given by row id (capped); ``why`` maps a row id to a
        sentence."""
        rows = [int(r) for r in list(rows)[: ctx.max_row_findings]]
        out = []
        for r, rid in zip(rows, ctx.doc_ids("synthetic", rows)):
            out.append(self.finding(scope="row", column=col, row_id=rid, side="synthetic", status=status,
                                    reason_code="row_evidence", message=f"synthetic {rid}: {why(r)}"))
        return out

    #: metric -> what a failing rate means, in place of calibration's generic "the synthetic data
    #: differs from real" (a copy rate above real/real is memorisation, not a difference)
    fail_meaning: dict[str, str] = {}

    def judged(self, items, ctx, label, **common) -> list[Finding]:
        out = super().judged(items, ctx, label, **common)
        generic = " — the synthetic data differs from real."
        return [dataclasses.replace(f, message=f.message.replace(generic, f" — {self.fail_meaning[f.metric]}."))
                if f.metric in self.fail_meaning and f.message.endswith(generic) else f for f in out]

    def with_rows(self, ctx, items, rows_for) -> list[Finding]:
        findings = self.judged(items, ctx, self.label)
        out = []
        for f in findings:
            out.append(f)
            if f.metric == self.metric and (f.status == "fail" or (self.name_rows_always and f.status != "skipped")):
                out.extend(rows_for(f.column) if f.status == "fail" else rows_for(f.column, "warn"))
        return out


@register
class TextExactDuplicates(_TextRateCheck):
    id = "duplication.text_exact_duplicates"
    needs = ("corpus",)
    computation = "keyed"
    summary = "Share of synthetic documents repeating another (normalised text hash), vs real at equal n."
    metric = "duplicate_text_rate"
    label = "Duplicate-text rate"
    source = "blake2b of NFKC, case-folded, whitespace-collapsed text (as exact dedup in datatrove / NeMo Curator)"
    params = {"min_effect": Param("float", 0.01, "minimum excess duplicate share worth failing", low=0.0, high=1.0),
              "n_splits": _SPLITS}

    def run(self, ctx) -> list[Finding]:
        items, out, groups = [], [], {}
        for col in self.text_columns(ctx):
            real, syn = ctx.corpus(col, "real"), ctx.corpus(col, "synthetic")
            hr, hs = real.hashes, syn.hashes
            m = int(min(len(hs), len(hr) // 2))
            if m < MIN_DOCS:
                out.append(self.too_few(col, len(hr), len(hs)))
                continue
            rng = ctx.rng(f"{self.id}:{col}")
            base = np.array([hash_twin_rate(hr, rng.permutation(len(hr))[:m]) for _ in range(self.n_splits)])
            vals = [hash_twin_rate(hs, rng.permutation(len(hs))[:m]) for _ in range(self.n_splits)]
            _, inv, counts = np.unique(hs, return_inverse=True, return_counts=True)
            dup = np.nonzero(counts[inv] > 1)[0]
            groups[col] = (syn.rows[dup[np.lexsort((dup, -counts[inv][dup]))]], dict(zip(syn.rows[dup].tolist(),
                                                                                        counts[inv][dup].tolist())))
            items.append(self.rate_item(col, float(np.median(vals)), base, len(hr), m, {
                "evidence": {"duplicate_documents": int(dup.size), "groups": int((counts > 1).sum()),
                             "largest_group": int(counts.max())},
                "prefix": f"{dup.size} of {len(hs)} synthetic documents repeat another; largest group "
                          f"{int(counts.max())}. "}))
        return out + self.with_rows(ctx, items, lambda col: self.doc_rows(
            ctx, col, groups[col][0], lambda d: f"repeats {groups[col][1][d] - 1} other synthetic document(s) "
                                               f"exactly (normalised text)."))


@register
class TextNearDuplicates(_TextRateCheck):
    """MinHash near-duplicates within the synthetic corpus, judged against the real corpus's own
    near-duplicate rate at the same number of documents. Clusters (connected pairs) are reported
    with sizes and row ids. Defaults (word 2-gram shingles, 128 permutations, Jaccard >= 0.5) find
    a 30-word text with 2 words substituted (Jaccard ~0.76); word 5-grams would not (~0.52 mean, half
    missed at 0.5). The Jaccard-vs-edits curve is in docs/text.md."""

    id = "duplication.text_near_duplicates"
    needs = ("corpus", "minhash")
    version = "2"  # shingles keyed by content-hashed word codes, computed per chunk (issue 12)
    computation = "keyed"
    summary = "Share of synthetic documents with a MinHash near-duplicate (Jaccard >= 0.5, word 2-grams), vs real."
    metric = "near_duplicate_text_rate"
    label = "Near-duplicate-text rate"
    source = "Broder 1997 (MinHash); datasketch affine32 permutations + banding (MinHashLSH parameters)"
    params = {"min_effect": Param("float", 0.02, "minimum excess near-duplicate share worth failing", low=0.0,
                                  high=1.0), **_MINHASH, "n_splits": _SPLITS}

    def corpus_taps(self, cfg) -> list:
        return [(MinHashTap, {"ngram": self.ngram, "num_perm": self.num_perm}, ("real", "synthetic"))]

    def run(self, ctx) -> list[Finding]:
        items, out, found = [], [], {}
        for col in self.text_columns(ctx):
            real, syn = ctx.corpus(col, "real"), ctx.corpus(col, "synthetic")
            nr, ns = real.n_docs, syn.n_docs
            m = int(min(ns, nr // 2))
            if m < MIN_DOCS:
                out.append(self.too_few(col, nr, ns))
                continue
            lr, cr, _ = near_graph_within(ctx, col, "real", self.ngram, self.num_perm, self.threshold)
            ls, cs, _ = near_graph_within(ctx, col, "synthetic", self.ngram, self.num_perm, self.threshold)
            rng = ctx.rng(f"{self.id}:{col}")
            # twins are looked up within each sample over the whole pair graph (signature classes +
            # class pairs), so the rate is what all pairs would give, whatever the banding kept
            base = np.array([class_twin_rate(lr, cr, rng.permutation(nr)[:m]) for _ in range(self.n_splits)])
            vals = [class_twin_rate(ls, cs, rng.permutation(ns)[:m]) for _ in range(self.n_splits)]
            labels, sizes = clusters(_minhash.graph_edges(ls, cs), ns)
            big = np.argsort(-sizes, kind="stable")
            big = big[sizes[big] > 1]
            firsts = [syn.rows[np.nonzero(labels == c)[0][:10]] for c in big[:10]]
            ids = iter(ctx.doc_ids("synthetic", np.concatenate(firsts))) if firsts else iter(())
            shown = [{"size": int(sizes[c]), "rows": [next(ids) for _ in f]} for c, f in zip(big[:10], firsts)]
            members = _cluster_members(labels, big)
            found[col] = (syn.rows[members], dict(zip(syn.rows[members].tolist(), sizes[labels[members]].tolist())))
            items.append(self.rate_item(col, float(np.median(vals)), base, nr, m, {
                "evidence": {"pairs": _minhash.near_pair_count(ls, cs), "clusters": int(big.size),
                             "largest_clusters": shown,
                             "shingles": f"word {self.ngram}-grams", "num_perm": self.num_perm,
                             "threshold": self.threshold},
                "prefix": f"{int(members.size)} of {ns} synthetic documents are in {int(big.size)} near-duplicate "
                          f"cluster(s) (largest {int(sizes[big[0]]) if big.size else 0}). "}))

        def rows(col):
            members, size = found[col]
            return self.doc_rows(ctx, col, members, lambda r: f"in a near-duplicate cluster of {size[r]} "
                                                              f"synthetic documents (MinHash Jaccard >= {self.threshold:g}).")

        return out + self.with_rows(ctx, items, rows)


@register
class TextSemanticDuplicates(_TextRateCheck):
    """Semantic duplicates: documents whose embeddings have cosine similarity >= ``threshold`` with
    another document of the same corpus (radius search with scikit-learn's ``NearestNeighbors``),
    on the embedded samples, judged against the real rate at the same number of documents."""

    id = "duplication.text_semantic_duplicates"
    needs = ("text_sample", "embeddings")
    version = "3"  # embeddings of the text sample (issue 12)
    needs_embeddings = True
    summary = "Share of synthetic documents with a semantic twin (embedding cosine >= 0.95), vs real."
    metric = "semantic_duplicate_rate"
    computation = "sample"
    label = "Semantic-duplicate rate"
    source = "Abbas et al. 2023, 'SemDeDup', (embedding-space deduplication); sklearn NearestNeighbors"
    params = {"min_effect": Param("float", 0.02, "minimum excess semantic-duplicate share worth failing", low=0.0,
                                  high=1.0),
              "threshold": Param("float", 0.95, "cosine similarity at or above which two texts are semantic twins",
                                 low=0.0, high=1.0, open_low=True),
              "n_splits": _SPLITS}

    def pairs(self, x: np.ndarray) -> np.ndarray:
        from sklearn.neighbors import NearestNeighbors

        from sklearn import config_context

        nn = NearestNeighbors(radius=1.0 - self.threshold + 1e-9, metric="cosine", algorithm="brute").fit(x)
        with config_context(working_memory=128):  # distance blocks of 128 MiB, not sklearn's 1 GiB
            hits = nn.radius_neighbors(x, return_distance=False)
        left = np.repeat(np.arange(len(hits)), [len(h) for h in hits])
        right = np.concatenate(hits) if len(hits) else np.zeros(0, dtype=np.int64)
        p = np.column_stack([left, right]).astype(np.int64)
        return p[p[:, 0] < p[:, 1]]

    def run(self, ctx) -> list[Finding]:
        items, out, found = [], [], {}
        for col in self.text_columns(ctx):
            _, er, _ = ctx.embeddings(col, "real")
            rows_s, es, _ = ctx.embeddings(col, "synthetic")
            nr, ns = len(er), len(es)
            m = int(min(ns, nr // 2))
            if m < MIN_DOCS:
                out.append(self.too_few(col, nr, ns))
                continue
            pr, ps = self.pairs(er), self.pairs(es)
            rng = ctx.rng(f"{self.id}:{col}")
            base = np.array([twin_rate(pr, nr, rng.permutation(nr)[:m]) for _ in range(self.n_splits)])
            vals = [twin_rate(ps, ns, rng.permutation(ns)[:m]) for _ in range(self.n_splits)]
            twins = np.unique(ps.ravel())
            found[col] = rows_s[twins]
            items.append(self.rate_item(col, float(np.median(vals)), base, nr, m, {
                "evidence": {"pairs": int(len(ps)), "threshold": self.threshold, "embedded_synthetic": ns},
                "prefix": f"{twins.size} of {ns} embedded synthetic documents have a semantic twin. "}))
        return out + self.with_rows(ctx, items, lambda col: self.doc_rows(
            ctx, col, found[col], lambda d: f"has a semantic twin in the synthetic corpus (cosine >= {self.threshold:g})."))


@register
class TextMemorisation(_TextRateCheck):
    """Memorised copies of the real corpus.

    * ``real_copy_rate``: share of synthetic documents that copy a real document — a MinHash
      near-duplicate (estimated Jaccard >= ``threshold``) or a shared verbatim span of
      ``span_words`` words — judged against the same rate of held-out real documents: the
      holdout when given (reference: all real documents), otherwise one half of the real corpus
      against the other (reference: that half, for the synthetic sample too, so sizes match).
    * ``text_dcr_auc``: P(DCR of a synthetic document < DCR of a held-out real document), where DCR
      is the embedding cosine distance to the closest reference document (0.5 = no closer than
      unseen real text; 1 = every synthetic document sits on a real one), with the exact
      Mann–Whitney null.

    Offending documents are named at row level with the real row they copy, the Jaccard estimate
    and the longest shared word span (``difflib``): as ``fail`` rows when the rate fails, as ``warn``
    rows otherwise (a copy of a real document is named whatever the corpus-level verdict).
    """

    id = "duplication.text_memorisation"
    needs = ("corpus", "minhash", "text_sample", "embeddings")
    version = "3"  # content-hashed shingles per chunk; embeddings from the text sample; copies named as warn rows
    name_rows_always = True
    needs_embeddings = True
    summary = "Synthetic documents copying real ones (MinHash / verbatim span), and embedding DCR, vs held-out real."
    metric = "real_copy_rate"
    computation = "keyed"
    computation_note = "its text_dcr_auc finding uses a bounded embedding sample (max_docs)"
    label = "Real-copy rate"
    source = ("Carlini et al. 2023, 'Quantifying memorization across neural language models', ICLR (verbatim "
              "spans); DCR as in SDMetrics/synthcity, on embeddings")
    params = {"min_effect": Param("float", 0.01, "minimum excess copy share (and DCR AUC above 0.5) worth failing",
                                  low=0.0, high=1.0),
              **_MINHASH,
              "span_words": Param("int", 13, "verbatim span (words) that counts as a copy", low=4, high=1000),
              "max_docs": Param("int", 5000, "embedded documents per side for the DCR", low=MIN_DOCS),
              "n_splits": _SPLITS}
    fail_meaning = {
        "real_copy_rate": "synthetic documents copy real ones beyond what unseen real text shares with the real "
                          "corpus (memorisation)",
        "text_dcr_auc": "synthetic documents sit closer to real ones than unseen real text does (memorisation)",
    }

    def corpus_taps(self, cfg) -> list:
        sides = ("real", "synthetic", "holdout")
        return [(MinHashTap, {"ngram": self.ngram, "num_perm": self.num_perm}, sides),
                (SpanTap, {"n": self.span_words}, sides)]

    def _copy_pairs(self, ctx, col, query: str, same: bool):
        """(query doc, real doc) pairs: MinHash near-duplicates or a shared ``span_words`` span."""
        sig_r = signatures(ctx, col, "real", self.ngram, self.num_perm)
        if same:
            mh, _ = near_pairs_within(ctx, col, "real", self.ngram, self.num_perm, self.threshold)
        else:
            mh, _ = _minhash.cross_pairs(signatures(ctx, col, query, self.ngram, self.num_perm), sig_r, self.threshold)
        sp = span_pairs(ctx.corpus_tap(col, query, SpanTap, n=self.span_words),
                        ctx.corpus_tap(col, "real", SpanTap, n=self.span_words), same=same)
        pairs = unique_pairs(np.vstack([mh, sp]))
        if same:  # undirected: both orientations, so either document can be the query
            pairs = unique_pairs(np.vstack([pairs, pairs[:, ::-1]]))
        return pairs

    def examples(self, ctx, col: str) -> list[str]:
        """No examples unless ``report.show_values``: a failing memorisation finding's documents may
        be copies of real ones, and showing them would quote the real corpus."""
        return super().examples(ctx, col) if ctx.show_values else []

    def run(self, ctx) -> list[Finding]:
        items, out, found = [], [], {}
        for col in self.text_columns(ctx):
            real, syn = ctx.corpus(col, "real"), ctx.corpus(col, "synthetic")
            hold = ctx.corpus(col, "holdout")
            nr, ns = real.n_docs, syn.n_docs
            has_hold = hold is not None and hold.n_docs >= MIN_DOCS
            m = int(min(ns, hold.n_docs if has_hold else nr // 2))
            if m < MIN_DOCS:
                out.append(self.too_few(col, nr, ns))
                continue
            rng = ctx.rng(f"{self.id}:{col}")
            ps = self._copy_pairs(ctx, col, "synthetic", same=False)
            pb = self._copy_pairs(ctx, col, "holdout", same=False) if has_hold else self._copy_pairs(ctx, col, "real", True)
            nb = hold.n_docs if has_hold else nr
            vals, base = [], []
            for _ in range(self.n_splits):
                perm = rng.permutation(nr)
                ref = perm if has_hold else perm[: nr // 2]
                b = rng.permutation(nb)[:m] if has_hold else perm[nr // 2:][:m]
                vals.append(cross_rate(ps, rng.permutation(ns)[:m], ref, ns, nr))
                base.append(cross_rate(pb, b, ref, nb, nr))
            where = "held-out real documents" if has_hold else "one real half against the other"
            copied = np.unique(ps[:, 0]) if len(ps) else np.zeros(0, dtype=np.int64)
            found[col] = (copied, ps, syn.rows, real.rows)
            items.append(self.rate_item(col, float(np.median(vals)), np.array(base), nr, m, {
                "evidence": {"copies": int(copied.size), "baseline": where, "threshold": self.threshold,
                             "span_words": self.span_words},
                "prefix": f"{copied.size} of {ns} synthetic documents copy a real one (MinHash Jaccard >= "
                          f"{self.threshold:g} or a {self.span_words}-word verbatim span); baseline: {where}. "}))
            dcr = self._dcr(ctx, col, has_hold, rng)
            if dcr is not None:
                items.append(dcr)

        def rows(col, status="fail"):
            copied, ps, srows, rrows = found[col]
            sim = self._similarity(ctx, col, ps, srows, rrows)
            order = copied[np.argsort(-np.array([sim.get(int(d), (0, 0.0, 0))[1] for d in copied]), kind="stable")]
            at = {int(srows[d]): int(d) for d in order[: ctx.max_row_findings]}
            return self.doc_rows(ctx, col, srows[order], lambda r: self._why(sim.get(at[r]), rrows), status)

        return out + self.with_rows(ctx, items, rows)

    def _dcr(self, ctx, col, has_hold, rng):
        _, er, _ = ctx.embeddings(col, "real")
        _, es, _ = ctx.embeddings(col, "synthetic")
        if has_hold:
            _, eb, _ = ctx.embeddings(col, "holdout")
            ref, pool = er, eb
        else:
            perm = rng.permutation(len(er))
            ref, pool = er[perm[: len(er) // 2]], er[perm[len(er) // 2:]]
        m = int(min(self.max_docs, len(es), len(pool)))
        if m < MIN_DOCS or len(ref) < 1:
            return None
        s = es[rng.permutation(len(es))[:m]]
        b = pool[rng.permutation(len(pool))[:m]]
        d_s = 1.0 - _max_cosine(s, ref)
        d_b = 1.0 - _max_cosine(b, ref)
        auc = rank_auc(-np.concatenate([d_s, d_b]), np.repeat([1, 0], m))  # synthetic closer = higher
        dist = Normal(0.5, np.sqrt((2 * m + 1) / (12.0 * m * m)))
        grid = dist.ppf(np.linspace(0.005, 0.995, 199))
        return (col, Comparison(auc, grid, self.min_effect, dist=dist), len(ref), m, {
            "metric": "text_dcr_auc", "label": "Text DCR AUC", "goal": "minimize (0.5 = no closer than unseen real)",
            "evidence": {"median_dcr_synthetic": round(float(np.median(d_s)), 6),
                         "median_dcr_heldout": round(float(np.median(d_b)), 6)},
            "prefix": f"median embedding DCR {fmt(np.median(d_s))} synthetic vs {fmt(np.median(d_b))} held-out real. "})

    def _similarity(self, ctx, col, ps, srows, rrows) -> dict:
        """Best real match per copied synthetic document: (real doc, Jaccard estimate, longest span)."""
        sig_s = signatures(ctx, col, "synthetic", self.ngram, self.num_perm)
        sig_r = signatures(ctx, col, "real", self.ngram, self.num_perm)
        best: dict[int, tuple] = {}
        if not len(ps):
            return best
        est = _minhash.pair_jaccard(sig_s, sig_r, ps)
        for (d, r), j in zip(ps.tolist(), est.tolist()):
            if d not in best or j > best[d][1]:
                best[d] = (r, j, 0)
        named = list(best)[: 10 * max(ctx.max_row_findings, 1)]
        syn_text = ctx.documents(col, "synthetic", [srows[d] for d in named])
        real_text = ctx.documents(col, "real", [rrows[best[d][0]] for d in named])
        for d in named:
            r, j, _ = best[d]
            a, b = words(syn_text[int(srows[d])]), words(real_text[int(rrows[r])])
            span = difflib.SequenceMatcher(None, a, b, autojunk=False).find_longest_match(0, len(a), 0, len(b)).size
            best[d] = (r, j, span)
        return best

    def _why(self, hit, rrows) -> str:
        if hit is None:
            return "copies a real document."
        r, j, span = hit
        return f"copies real row={int(rrows[r])} (MinHash Jaccard {j:.2f}; longest shared span {span} words)."


def _cluster_members(labels: np.ndarray, order: np.ndarray) -> np.ndarray:
    """Rows of the clusters ``order`` (labels of :func:`clusters`), cluster by cluster in that order
    and ascending within each: one stable sort, not one scan of ``labels`` per cluster."""
    rank = np.full(int(labels.max()) + 1 if labels.size else 0, -1, dtype=np.int64)
    rank[order] = np.arange(order.size)
    sel = np.nonzero(rank[labels] >= 0)[0] if labels.size else np.zeros(0, dtype=np.int64)
    return sel[np.argsort(rank[labels[sel]], kind="stable")]


def _max_cosine(q: np.ndarray, ref: np.ndarray, block: int = 2048) -> np.ndarray:
    """Largest cosine similarity of each (unit) row of ``q`` to the rows of ``ref``, in blocks."""
    out = np.empty(len(q))
    r = np.asarray(ref, dtype=np.float32)
    for i in range(0, len(q), block):
        out[i:i + block] = (np.asarray(q[i:i + block], dtype=np.float32) @ r.T).max(axis=1)
    return np.clip(out, -1.0, 1.0)
