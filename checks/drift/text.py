"""Drift of a text corpus: embedding-space MMD, a classifier two-sample test on embeddings, and
the tabular drift checks run on per-document descriptors (length, type-token ratio, ...).

Embeddings come from :meth:`AuditContext.embeddings` (computed once per run and side, shared by
every text check). Both embedding tests use exact permutation nulls, which are the real/real
baseline at this size: under "synthetic ~ real" the documents are exchangeable.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from synthproof.calibration import Comparison, Empirical
from synthproof.check import Param, register
from synthproof.checks._text import MIN_DOCS, N_EXAMPLES, TextCheck, clip_doc, not_real
from synthproof.findings import Finding
from synthproof.stats.auc import permutation_auc_null, rank_auc
from synthproof.text import DESCRIPTORS

from . import _text_stats


def _sample(rng, n: int, m: int) -> np.ndarray:
    return np.sort(rng.choice(n, m, replace=False)) if m < n else np.arange(n)


#: Points per side of the report's 2-D embedding map.
MAP_POINTS = 300


def embedding_map(x: np.ndarray, y: np.ndarray, bandwidth: float) -> tuple[dict, np.ndarray]:
    """The report's 2-D map of two embedding samples and the synthetic documents most unlike the real.

    Up to :data:`MAP_POINTS` evenly spaced points per side, projected on the first two principal
    axes of the pooled points (numpy SVD; coordinates rounded to 3 decimals, so no embedding is
    stored). The MMD witness function of a synthetic point, mean Gaussian kernel to the real points
    minus mean kernel to the synthetic ones (Gretton et al. 2012), is lowest where synthetic
    documents crowd without real neighbours: the positions (in ``y``) of the :data:`N_EXAMPLES`
    lowest are returned too."""
    pick = [np.unique(np.linspace(0, len(a) - 1, min(MAP_POINTS, len(a))).astype(np.int64)) for a in (x, y)]
    a, b = x[pick[0]].astype(np.float64), y[pick[1]].astype(np.float64)
    pooled = np.vstack([a, b])
    centred = pooled - pooled.mean(axis=0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    axes = vt[:2] * np.sign(vt[:2][np.arange(2), np.abs(vt[:2]).argmax(axis=1)])[:, None]  # sign fixed
    xy = centred @ axes.T
    def k(p, q):
        d2 = np.maximum((p * p).sum(1)[:, None] + (q * q).sum(1)[None, :] - 2 * p @ q.T, 0.0)
        return np.exp(-d2 / (2 * bandwidth ** 2))
    witness = k(b, a).mean(axis=1) - k(b, b).mean(axis=1)
    far = pick[1][np.argsort(witness, kind="stable")[:N_EXAMPLES]]
    pts = {"real": np.round(xy[:len(a)], 3).tolist(), "synthetic": np.round(xy[len(a):], 3).tolist()}
    return pts, far


def score_histogram(scores: np.ndarray, y: np.ndarray, unit: str, bins: int = 20) -> dict:
    """Histogram evidence of a classifier's out-of-fold scores for real (``y == 0``) and synthetic rows."""
    edges = np.linspace(float(scores.min()), float(scores.max()) + 1e-12, bins + 1)
    return {"chart": "histogram", "unit": unit, "edges": np.round(edges, 6).tolist(),
            "series": {"real rows": np.histogram(scores[y == 0], edges)[0].tolist(),
                       "synthetic rows": np.histogram(scores[y == 1], edges)[0].tolist()}}


def docs_of(ctx, col: str, rows) -> list[str]:
    """The synthetic documents of text sample ``col`` with these row ids, clipped
    (:func:`~synthproof.checks._text.clip_doc`); those equal to a real document of the text sample
    (normalised) are left out (:func:`~synthproof.checks._text.not_real`)."""
    ts = ctx.text_sample(col, "synthetic")
    at = {int(r): i for i, r in enumerate(ts.rows)}
    docs = [ts.docs[at[int(r)]] for r in rows if int(r) in at]
    return [clip_doc(d) for d in not_real(ctx, col, docs)]


@register
class TextMMD(TextCheck):
    """Kernel two-sample test on sentence embeddings (Gaussian kernel, median-heuristic bandwidth).

    ``m = min(max_docs, embedded documents per side)`` seeded documents per side; the statistic is
    the biased MMD² (Gretton et al. 2012) in [0, 2]; its null is ``P`` label permutations of the
    pooled sample computed as matrix products (the observed statistic counts as one, so
    ``p >= 1/(P+1)``). ``P`` is raised automatically until ``1/(P+1)`` is below half the
    corrected level, so the test can always reject.
    """

    id = "drift.text_mmd"
    needs = ("text_sample", "embeddings")
    version = "3"  # embeddings of the text sample (issue 12)
    needs_embeddings = True
    family = "drift"
    summary = "Embedding-space MMD² (Gaussian kernel, median bandwidth) with an exact permutation null."
    metric = "mmd_squared"
    computation = "sample"
    value_range = "[0, 2]"
    source = "Gretton et al. 2012, 'A kernel two-sample test', JMLR 13; all-MiniLM-L6-v2 embeddings"
    params = {
        "min_effect": Param("float", 0.005, "minimum MMD² above the permutation median worth failing", low=0.0),
        "max_docs": Param("int", 2000, "documents per side (seeded sample of the embedded ones)", low=MIN_DOCS),
        "n_permutations": Param("int", 2000, "label permutations (raised when too few for the corrected level)",
                                low=100, high=1_000_000),
    }

    def run(self, ctx) -> list[Finding]:
        cols = self.text_columns(ctx)
        items, out = [], []
        level = ctx.alpha / len(cols)
        n_perm = max(self.n_permutations, math.ceil(2.0 / level))
        for col in cols:
            _, er, tr = ctx.embeddings(col, "real")
            _, es, ts = ctx.embeddings(col, "synthetic")
            m = int(min(self.max_docs, len(er), len(es)))
            if m < MIN_DOCS:
                out.append(self.too_few(col, len(er), len(es)))
                continue
            rng = ctx.rng(f"{self.id}:{col}")
            ys = _sample(rng, len(er), m), _sample(rng, len(es), m)
            x, y = er[ys[0]], es[ys[1]]
            obs, null, bw = _text_stats.mmd2_permutation_test(x, y, n_perm, rng)
            pts, far = embedding_map(x, y, bw)
            rows_s = ctx.embeddings(col, "synthetic")[0][ys[1]]
            items.append((col, Comparison(obs, null, self.min_effect, dist=Empirical(null)), m, m,
                          {"evidence": {"bandwidth": round(bw, 6), "n_permutations": n_perm,
                                        "truncated_real": tr, "truncated_synthetic": ts, "map": pts,
                                        "examples": docs_of(ctx, col, rows_s[far])}}))
        return out + self.judged(items, ctx, "MMD²")


@register
class TextDetectionAUC(TextCheck):
    """Classifier two-sample test on sentence embeddings: out-of-fold ROC AUC of a logistic
    regression telling synthetic from real documents (0.5 = indistinguishable), with the exact
    label-permutation null of :mod:`synthproof.checks.drift.detection`
    (:func:`synthproof.stats.auc.permutation_auc_null`)."""

    id = "drift.text_detection_auc"
    needs = ("text_sample", "embeddings")
    version = "3"  # embeddings of the text sample (issue 12)
    needs_embeddings = True
    family = "drift"
    summary = "C2ST on embeddings: out-of-fold AUC of logistic regression real-vs-synthetic documents."
    metric = "detection_auc"
    computation = "sample"
    goal = "minimize (0.5 = indistinguishable)"
    source = "Lopez-Paz & Oquab 2017 (C2ST); sklearn LogisticRegression, roc_auc_score"
    params = {
        "min_effect": Param("float", 0.05, "minimum AUC above the permutation median worth failing", low=0.0, high=0.5),
        "max_docs": Param("int", 5000, "documents per side (seeded sample of the embedded ones)", low=MIN_DOCS),
        "n_folds": Param("int", 5, "stratified folds for out-of-fold scores", low=2, high=10),
        "n_permutations": Param("int", 200, "label permutations for the null", low=20, high=100_000),
        "C": Param("float", 1.0, "inverse L2 regularisation of the logistic regression", low=0.0, open_low=True),
    }

    def run(self, ctx) -> list[Finding]:
        from sklearn.linear_model import LogisticRegression
        from sklearn.model_selection import StratifiedKFold

        cols = self.text_columns(ctx)
        items, out = [], []
        for col in cols:
            _, er, _ = ctx.embeddings(col, "real")
            _, es, _ = ctx.embeddings(col, "synthetic")
            m = int(min(self.max_docs, len(er), len(es)))
            if m < MIN_DOCS:
                out.append(self.too_few(col, len(er), len(es)))
                continue
            rng = ctx.rng(f"{self.id}:{col}")
            ir, is_ = _sample(rng, len(er), m), _sample(rng, len(es), m)
            X = np.vstack([er[ir], es[is_]]).astype(np.float64)
            y = np.repeat([0, 1], m)
            scores, folds = np.empty(2 * m), np.empty(2 * m, dtype=np.int64)
            skf = StratifiedKFold(n_splits=self.n_folds, shuffle=True, random_state=int(rng.integers(2**31 - 1)))
            for f, (tr, te) in enumerate(skf.split(X, y)):
                clf = LogisticRegression(C=self.C, max_iter=2000).fit(X[tr], y[tr])
                scores[te], folds[te] = clf.decision_function(X[te]), f
            auc = rank_auc(scores, y)
            null = permutation_auc_null(scores, y, folds, self.n_permutations, rng)
            top = np.argsort(-scores[m:], kind="stable")[:N_EXAMPLES]
            rows_s = ctx.embeddings(col, "synthetic")[0][is_]
            items.append((col, Comparison(auc, null, self.min_effect, null="normal"), m, m, {"evidence": {
                **score_histogram(scores, y, "logit"), "examples": docs_of(ctx, col, rows_s[top])}}))
        return out + self.judged(items, ctx, "Detection AUC")


@register
class TextDescriptorDrift(TextCheck):
    """The tabular drift checks (KS for numeric descriptors, TVD for the language) run on
    per-document descriptors of every document: ``n_chars``, ``n_words``, ``type_token_ratio``,
    ``non_alpha_share`` (see :func:`synthproof.text.descriptors`) and, when ``py3langid`` is
    installed, ``language`` on a seeded sample of ``max_language_docs`` documents per side.
    Findings name the column ``<text column>.<descriptor>``; Holm acts across all of them."""

    id = "drift.text_descriptors"
    needs = ("corpus", "text_sample")
    version = "3"  # languages of the text sample's documents (issue 12)
    computation = "mergeable"
    family = "drift"
    summary = "KS / TVD drift of per-document descriptors (characters, words, type-token ratio, non-letters, language)."
    metric = "ks_statistic"
    source = "the drift.ks and drift.tvd statistics (Kolmogorov–Smirnov; total variation); py3langid (Lui & Baldwin 2012)"
    params = {
        "min_effect": Param("float", 0.05, "minimum KS / TVD difference worth failing", low=0.0, high=1.0),
        "max_language_docs": Param("int", 20_000, "documents per side whose language is identified (0: none)", low=0),
    }

    def run(self, ctx) -> list[Finding]:
        from synthproof.checks.drift.columns import KSDrift, TVDrift
        from synthproof.context import AuditContext
        from synthproof.schema import prepare

        frames = {"real": {}, "synthetic": {}}
        roles: dict[str, str] = {}
        for col in self.text_columns(ctx):
            for side in frames:
                cs = ctx.corpus(col, side)
                d = cs.descriptors()
                for name in DESCRIPTORS:
                    frames[side][f"{col}.{name}"] = d[name].to_numpy()
                    roles[f"{col}.{name}"] = "numeric"
                lang = self._languages(ctx, col, side, cs.rows)
                if lang is not None:
                    frames[side][f"{col}.language"] = lang
                    roles[f"{col}.language"] = "categorical"
        # Descriptor tables have one row per document; real and synthetic differ in length.
        tables = {side: _table(cols) for side, cols in frames.items()}
        data = prepare(tables["real"], tables["synthetic"], None, roles=roles)
        n_parts = 2 if "categorical" in roles.values() else 1
        sub = AuditContext(data=data, seed=ctx.seed, n_splits=ctx.n_splits, alpha=ctx.alpha / n_parts,
                           fdr_q=ctx.fdr_q / n_parts, max_row_findings=ctx.max_row_findings,
                           show_values=ctx.show_values, threads=ctx.threads, settings=ctx.settings)
        parts = [KSDrift(min_effect=self.min_effect)] + ([TVDrift(min_effect=self.min_effect)] if n_parts == 2 else [])
        out = []
        for check in parts:
            for f in check.run(sub):
                out.append(dataclasses.replace(f, check_id=self.id, check_version=self.version, family=self.family,
                                               severity=self.severity))
        return out

    def _languages(self, ctx, col: str, side: str, rows: np.ndarray):
        """Language codes (ISO 639-1) of a seeded sample of the text sample's documents, None for
        every other document (``rows``: the corpus's row ids); None when ``py3langid`` is missing or
        ``max_language_docs`` is 0."""
        if self.max_language_docs == 0:
            return None
        try:
            import py3langid
        except ImportError:
            return None
        ts = ctx.text_sample(col, side)
        n = len(ts.docs)
        idx = (np.arange(n) if n <= self.max_language_docs else
               np.sort(ctx.doc_sample(col, side, self.max_language_docs, f"langid:{col}")))
        out = np.full(rows.size, None, dtype=object)
        at = np.searchsorted(rows, ts.rows[idx])  # the sample's documents are documents of the corpus
        for i, j in zip(idx, at):
            out[j] = py3langid.classify(ts.docs[i][:2000])[0]
        return out


def _table(cols: dict[str, np.ndarray]):
    import pyarrow as pa

    return pa.table({k: pa.array(v, from_pandas=True) for k, v in cols.items()})


__all__ = ["TextDescriptorDrift", "TextDetectionAUC", "TextMMD"]
