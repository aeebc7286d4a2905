"""Subgroups of a text corpus: per-group embedding drift and diversity.

The groups are the bias family's single-column partitions — sensitive columns and, for text
corpora, metadata groups such as topic, language or prompt template (``text.groups`` or inferred by
name); representation ratios of the same groups come from ``bias.representation``. Within each
group with at least ``bias.min_group_size`` embedded real documents, two statistics on equal-size
samples (two disjoint real parts ``a``, ``b`` and a synthetic part ``s`` per split):

* ``centroid_shift``: squared Euclidean distance between mean embeddings (the linear-kernel MMD²,
  Gretton et al. 2012), ``T(s, a)`` against ``T(b, a)`` (Gamma null) — a generator faithful
  overall but off-topic for one group is caught;
* ``self_similarity_excess``: mean pairwise cosine of ``s`` minus that of ``a`` (normal null) — a
  group whose texts collapse to one template is caught.

Both also get the permutation null of the group (its real and synthetic documents pooled and
relabelled) and the larger p-value is used, as the core does for count checks. Holm/BH act across
all groups and both statistics.
"""

from __future__ import annotations

import numpy as np

from synthproof.calibration import Comparison
from synthproof.check import Param, register
from synthproof.checks._text import TextCheck
from synthproof.errors import IncomputableError
from synthproof.findings import Finding
from synthproof.stats.similarity import mean_pairwise_cosine

from .checks import group_name, subgroup_tables

MIN_GROUP_DOCS = 10


def centroid_shift(x: np.ndarray, y: np.ndarray) -> float:
    """Squared Euclidean distance between the mean rows of ``x`` (n, d) and ``y`` (m, d): the
    linear-kernel MMD² (Gretton et al. 2012). 0 when the means agree; larger is more different."""
    d = np.asarray(x, dtype=np.float64).mean(axis=0) - np.asarray(y, dtype=np.float64).mean(axis=0)
    return float(d @ d)


def _stats(s: np.ndarray, a: np.ndarray) -> tuple[float, float]:
    """(centroid shift, self-similarity excess) of sample ``s`` against reference ``a``."""
    return centroid_shift(s, a), mean_pairwise_cosine(s) - mean_pairwise_cosine(a)


@register
class TextSubgroupDrift(TextCheck):
    id = "bias.text_subgroups"
    needs = ("row_pool", "subgroup_tables", "text_sample", "embeddings")
    version = "3"  # embeddings of the text sample, a part of the row pool (issue 12)
    needs_embeddings = True
    family = "bias"
    summary = "Per subgroup (topic, language, template, sensitive columns): embedding centroid shift and self-similarity."
    metric = "centroid_shift"
    computation = "sample"
    value_range = "[0, 4]"
    source = "linear-kernel MMD² (Gretton et al. 2012) and mean pairwise cosine per group; bias family partitions"
    params = {
        "min_effect": Param("float", 0.02, "minimum centroid shift (squared distance of unit-vector means) worth "
                            "failing", low=0.0),
        "min_effect_similarity": Param("float", 0.05, "minimum within-group self-similarity excess worth failing",
                                       low=0.0),
        "n_splits": Param("int", 20, "seeded equal-size draws per group", low=5, high=10_000),
    }

    def run(self, ctx) -> list[Finding]:
        cols = self.text_columns(ctx)
        tables = subgroup_tables(ctx)
        parts = [p for p in tables.partitions if len(p.columns) == 1]
        if not parts:
            raise IncomputableError("no_sensitive_columns", "no subgroup column")
        min_size = max(ctx.config.bias.min_group_size, MIN_GROUP_DOCS)
        items, out = [], []
        for col in cols:
            rows_r, er, _ = ctx.embeddings(col, "real")
            rows_s, es, _ = ctx.embeddings(col, "synthetic")
            # the embedded documents lie in the row pool: frame positions from their row ids
            rows_r, rows_s = ctx.positions("real", rows_r), ctx.positions("synthetic", rows_s)
            for part in parts:
                gr = tables.row_codes(part, ctx.data.real, rows_r)
                gs = tables.row_codes(part, ctx.data.synthetic, rows_s)
                for g in range(part.n_groups):
                    xr, xs = er[gr == g], es[gs == g]
                    rc, sc = len(xr), len(xs)
                    name = group_name(ctx, part, g, int(part.counts("real")[g]))
                    m = int(min(sc, rc // 2))
                    if rc < min_size or m < MIN_GROUP_DOCS:
                        if rc or sc:
                            out.append(self.finding(
                                scope="subgroup", column=col, subgroup=name, status="skipped",
                                reason_code="min_group_size" if rc < min_size else "too_few_rows", n_real=rc,
                                n_synthetic=sc,
                                message=f"subgroup {name} of text column {col!r}: {rc} real and {sc} synthetic "
                                        f"embedded documents (needs {min_size} real and {MIN_GROUP_DOCS} "
                                        f"synthetic per part); not compared."))
                        continue
                    rng = ctx.rng(f"{self.id}:{col}:{part.labels[g]}")
                    pooled = np.vstack([xr, xs])
                    draws = {"value": [], "baseline": [], "permutation": []}
                    for _ in range(self.n_splits):
                        perm = rng.permutation(rc)
                        a, b = xr[perm[:m]], xr[perm[m:2 * m]]
                        draws["value"].append(_stats(xs[rng.permutation(sc)[:m]], a))
                        draws["baseline"].append(_stats(b, a))
                        # The permutation null (pooled real and synthetic group relabelled) carries the
                        # synthetic sample's own variation, which splits of one small real group miss
                        # (measured: 1 false alarm in 65 text calibration runs on a 38-document topic).
                        mix = rng.permutation(rc + sc)
                        pr, ps = pooled[mix[:rc]], pooled[mix[rc:]]
                        draws["permutation"].append(_stats(ps[:m], pr[rng.permutation(rc)[:m]]))
                    v, b, p = (np.array(draws[k]) for k in ("value", "baseline", "permutation"))
                    common = {"subgroup": name, "scope": "subgroup", "what": f"subgroup {name} of text column {col!r}"}
                    items.append((col, Comparison(float(np.median(v[:, 0])), b[:, 0], self.min_effect,
                                                  permutation=p[:, 0]),
                                  rc, m, {**common, "label": "Centroid shift"}))
                    items.append((col, Comparison(float(np.median(v[:, 1])), b[:, 1], self.min_effect_similarity,
                                                  null="normal", permutation=p[:, 1]),
                                  rc, m, {**common, "metric": "self_similarity_excess", "label": "Self-similarity excess"}))
        if not items and not out:
            raise IncomputableError("no_sensitive_columns", "no subgroup with embedded documents")
        return out + self.judged(items, ctx, "Centroid shift")
