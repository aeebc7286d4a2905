"""``privacy.singling_out``, ``privacy.linkability``, ``privacy.inference``: the three criteria of
the Article 29 Working Party's anonymisation opinion (05/2014), measured as Anonymeter does.

Giomi et al., "A Unified Framework for Quantifying Privacy Risk in Synthetic Data", PoPETs 2023
(the method France's CNIL reviewed); reference implementation ``anonymeter`` 1.1.0, whose values
the statistics match (``tests/test_privacy_stats.py``). Each attack uses only the synthetic data
and runs against training records and, as the control, holdout records; the finding's ``value``
is Anonymeter's risk ``(attack - control) / (1 - control)`` of Wilson-estimated rates, with its
95% interval in the message and evidence; the verdict tests the raw-rate risk against its exact
null (:mod:`._setup`) with the core's rule (Holm inside the check, a minimum effect).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from synthproof.calibration import Comparison, judge
from synthproof.check import Check, Param, register
from synthproof.errors import IncomputableError
from synthproof.findings import Finding
from synthproof.stats.privacy import (Encoded, gower_neighbours, inference_successes, linkability_successes,
                                      neighbourhood_queries, singling_out_permutation,
                                      singling_out_queries)

from ._setup import (anonymeter_risk, attack_sets, fisher_null, null_grid, raw_risk, risk_evidence,
                     risk_sentence, verdict_tail)

HARM = "the synthetic data expose their training records."


class _Attack(Check):
    family = "privacy"
    needs = ("row_sample", "row_pool")
    needs_holdout = True
    computation = "sample"
    goal = "minimize (0 = no more than against records the generator never saw)"
    value_range = "(-inf, 1]"
    params = {
        "min_effect": Param("float", 0.01, "minimum excess risk worth failing", low=0.0, high=1.0),
        "n_attacks": Param("int", 2000, "attacks (targets or queries) per side", low=50, high=1_000_000),
        "max_records": Param("int", 20_000, "distinct training and control records (seeded sample)", low=50),
        "max_synthetic": Param("int", 20_000, "synthetic rows the attacker uses (seeded sample)", low=50),
    }

    def sets(self, ctx):
        return attack_sets(ctx, self.max_records, self.max_synthetic)

    def judged_risk(self, ctx, items: list[tuple], label: str) -> list[Finding]:
        """``items``: ``(fields, n, hits_train, hits_control, dist, what)``; one Holm family."""
        comps = [Comparison(float(raw_risk(a, c, n)), null_grid(dist), self.min_effect, dist=dist)
                 for _, n, a, c, dist, _ in items]
        out = []
        for (fields, n, a, c, _, what), v in zip(items, judge(comps, ctx.alpha, ctx.fdr_q)):
            risk = anonymeter_risk(n, a, c)
            matched = float(raw_risk(a, c, n))
            msg = risk_sentence(label, risk, a, c, what) + verdict_tail(v, self.min_effect, matched, HARM)
            out.append(self.judged_finding(v, value=float(risk.risk.value), matched_value=matched, n_real=2 * n,
                                           message=msg, evidence=risk_evidence(risk, a, c), **fields))
        return out


@register
class SinglingOut(_Attack):
    """Singling-out risk: predicates built from the synthetic data that isolate one synthetic
    record, scored by how often they isolate exactly one training record vs one control record
    (univariate: rare values and extremes; multivariate: conjunctions of ``n_cols`` of a synthetic
    record's values; Anonymeter's two attackers) and, beyond Anonymeter, neighbourhood predicates
    on ALL of a synthetic record's values within ``tolerance``
    (:func:`~synthproof.stats.privacy.neighbourhood_queries`: the attacker holding a noisy copy,
    whom exact predicates miss). The null relabels the pooled training and control records
    (:func:`~synthproof.stats.privacy.singling_out_permutation`), fitted normal; Holm across the
    three attackers."""

    id = "privacy.singling_out"
    summary = ("Singling-out risk (Anonymeter's univariate and multivariate attackers, and neighbourhood predicates): "
               "predicates built on the synthetic data that isolate exactly one training record, beyond how often "
               "they isolate one holdout (control) record.")
    metric = "singling_out_risk"
    source = ("Giomi et al. 2023, PoPETs (Anonymeter); Article 29 WP Opinion 05/2014; reference implementation "
              "anonymeter 1.1.0 SinglingOutEvaluator")
    params = {**_Attack.params,
              "n_cols": Param("int", 3, "conditions per multivariate query", low=2, high=20),
              "tolerance": Param("float", 0.02, "neighbourhood predicates: numeric half-width as a share of the "
                                 "column's range", low=0.0, high=1.0, open_low=True),
              "n_permutations": Param("int", 400, "relabellings of the pooled records for the null", low=50,
                                      high=100_000)}

    def run(self, ctx) -> list[Finding]:
        sets = self.sets(ctx)
        syn = sets.synthetic.take(_distinct_rows(sets.synthetic))
        rng = ctx.rng(self.id)
        comps, rows = [], []
        for mode, n_cols in (("univariate", 1), ("multivariate", self.n_cols), ("neighbourhood", 0)):
            queries = (neighbourhood_queries(syn, self.n_attacks, self.tolerance, rng) if mode == "neighbourhood" else
                       singling_out_queries(syn, self.n_attacks, n_cols, rng, max_attempts=20 * self.n_attacks))
            if not queries:
                continue
            a, c, nt, nc = singling_out_permutation(queries, sets.train, sets.control, self.n_permutations, rng)
            null = raw_risk(nt, nc, self.n_attacks)
            comps.append(Comparison(float(raw_risk(a, c, self.n_attacks)), null, self.min_effect, null="normal"))
            rows.append((mode, len(queries), a, c))
        if not comps:
            raise IncomputableError("too_few_rows", "no predicate singles out a synthetic record")
        out = []
        for (mode, q, a, c), comp, v in zip(rows, comps, judge(comps, ctx.alpha, ctx.fdr_q)):
            risk = anonymeter_risk(self.n_attacks, a, c)
            what = (f"with {q} {mode} predicates ({self.n_attacks} attacks; {sets.n} training and {sets.n} control "
                    f"records, {len(syn)} distinct synthetic rows)")
            msg = (risk_sentence(f"Singling-out risk ({mode})", risk, a, c, what)
                   + verdict_tail(v, self.min_effect, comp.value, HARM))
            out.append(self.judged_finding(
                v, scope="dataset", metric=f"singling_out_risk_{mode}", value=float(risk.risk.value),
                matched_value=comp.value, n_real=2 * sets.n, n_synthetic=len(syn), message=msg,
                evidence={**risk_evidence(risk, a, c), "mode": mode, "queries": q}))
        return out


def _distinct_rows(e: Encoded) -> np.ndarray:
    import pandas as pd

    frame = pd.DataFrame(np.hstack([e.num, e.cat.astype(np.float64)]))
    return np.flatnonzero(~frame.duplicated().to_numpy())


def _split(ctx, sets) -> tuple[tuple, tuple, list[list[str]]]:
    """The two column sets the linkage attacker holds (``privacy.link_columns``, else the encoded
    columns alternately) as index pairs of :class:`~synthproof.stats.privacy.Encoded`."""
    cols = sets.numeric + sets.categorical
    given = ctx.config.privacy.link_columns
    if given is not None:
        missing = [c for part in given for c in part if c not in cols]
        if missing:
            raise ValueError(f"privacy.link_columns names {missing}, which are not feature columns of the real, "
                             "synthetic and holdout data")
        parts = [list(p) for p in given]
    else:
        if len(cols) < 2:
            raise IncomputableError("no_applicable_columns", "linkability needs two columns")
        parts = [cols[0::2], cols[1::2]]

    def idx(part):
        return ([sets.numeric.index(c) for c in part if c in sets.numeric],
                [sets.categorical.index(c) for c in part if c in sets.categorical])
    return idx(parts[0]), idx(parts[1]), parts


@register
class Linkability(_Attack):
    """Linkability risk: an attacker holding two column sets of a record (``privacy.link_columns``)
    links them through the synthetic data when the nearest synthetic record on one set is also
    among the ``n_neighbors`` nearest on the other (Gower distance). Fisher's exact test."""

    id = "privacy.linkability"
    summary = ("Linkability risk (Anonymeter): two column sets of a training record linked through the synthetic "
               "data (same nearest synthetic record), beyond the holdout (control) records.")
    metric = "linkability_risk"
    source = "Giomi et al. 2023, PoPETs (Anonymeter); reference implementation anonymeter 1.1.0 LinkabilityEvaluator"
    params = {**_Attack.params,
              "n_neighbors": Param("int", 1, "nearest synthetic records compared on each column set", low=1,
                                   high=100)}

    def run(self, ctx) -> list[Finding]:
        sets = self.sets(ctx)
        a_idx, b_idx, parts = _split(ctx, sets)
        n = min(self.n_attacks, sets.n)
        t, c = sets.train.take(slice(0, n)), sets.control.take(slice(0, n))
        hit_t, hit_c = ctx.map(lambda e: linkability_successes(e, sets.synthetic, (a_idx, b_idx), self.n_neighbors),
                               [t, c])
        a, cc = int(hit_t.sum()), int(hit_c.sum())
        what = (f"(columns {parts[0]} linked to {parts[1]} through {len(sets.synthetic)} synthetic rows)")
        (f,) = self.judged_risk(ctx, [({"scope": "dataset", "n_synthetic": len(sets.synthetic)}, n, a, cc,
                                       fisher_null(n, a + cc), what)], "Linkability risk")
        f = dataclasses.replace(f, evidence={**f.evidence, "link_columns": parts})
        rows = []
        if f.status == "fail":
            ia = gower_neighbours(t.cols(*a_idx).take(np.flatnonzero(hit_t)), sets.synthetic.cols(*a_idx), 1)[:, 0]
            picked = sorted({int(i) for i in ia})[: ctx.max_row_findings]
            rows = [self.finding(scope="row", row_id=ctx.row_id(int(sets.positions["synthetic"][i])),
                                 side="synthetic", status="fail", reason_code="row_evidence",
                                 message=f"synthetic {ctx.row_id(int(sets.positions['synthetic'][i]))}: links the two "
                                         "column sets of a training record.")
                    for i in picked]
        return [f] + rows


def configured_or_sensitive(ctx, given: list[str] | None, name: str, cols: list[str],
                            with_target: bool = False) -> list[str]:
    """Columns named in the config option ``name`` (``given``), else the sensitive columns (declared
    in ``bias.sensitive`` or inferred) and, ``with_target``, ``bias.target``; only among ``cols``.

    Raises
    ------
    ValueError
        ``given`` names a column not in ``cols``.
    IncomputableError
        None found (``no_sensitive_columns``).
    """
    if given is not None:
        missing = [c for c in given if c not in cols]
        if missing:
            raise ValueError(f"{name} names {missing}, which are not feature columns of the real, synthetic and "
                             "holdout data")
        return list(given)
    from synthproof.checks.bias.checks import sensitive_columns

    try:
        found = [c for c, _ in sensitive_columns(ctx)]
    except IncomputableError:
        found = []
    target = ctx.config.bias.target
    found += [target] if with_target and target and target not in found else []
    found = [c for c in found if c in cols]
    if not found:
        raise IncomputableError("no_sensitive_columns", f"no column to use: declare {name} (or bias.sensitive)")
    return found


@register
class Inference(_Attack):
    """Attribute-inference risk, per secret column: the secret guessed as that of the nearest
    synthetic record on every other column (categories exactly, numbers within ``tolerance`` of
    the guess). Fisher's exact test per secret, Holm across them."""

    id = "privacy.inference"
    needs = ("row_sample", "row_pool", "subgroup_tables")
    summary = ("Attribute-inference risk (Anonymeter), per secret column: guessed from the nearest synthetic record "
               "on the other columns, beyond the holdout (control) records.")
    metric = "inference_risk"
    source = "Giomi et al. 2023, PoPETs (Anonymeter); reference implementation anonymeter 1.1.0 InferenceEvaluator"
    params = {**_Attack.params,
              "tolerance": Param("float", 0.05, "relative tolerance of a numeric guess", low=0.0, high=1.0)}

    def run(self, ctx) -> list[Finding]:
        sets = self.sets(ctx)
        secrets = configured_or_sensitive(ctx, ctx.config.privacy.secrets, "privacy.secrets",
                                          sets.numeric + sets.categorical, with_target=True)
        n = min(self.n_attacks, sets.n)

        def attack(col):
            kind, j = sets.index(col)
            na = [k for k in range(len(sets.numeric)) if not (kind == "num" and k == j)]
            ca = [k for k in range(len(sets.categorical)) if not (kind == "cat" and k == j)]
            if not na and not ca:
                return None
            numeric = kind == "num"
            values = {side: (sets.frames[side][col].to_numpy(dtype=np.float64, na_value=np.nan) if numeric else
                             sets.frames[side][col].astype(object).to_numpy()) for side in sets.frames}
            hits = []
            for side, enc in (("train", sets.train), ("control", sets.control)):
                hits.append(int(inference_successes(enc.take(slice(0, n)), sets.synthetic, (na, ca), values[side][:n],
                                                    values["synthetic"], numeric, self.tolerance).sum()))
            return hits

        results = ctx.map(attack, secrets)
        items = [({"scope": "column", "column": col, "n_synthetic": len(sets.synthetic)}, n, h[0], h[1],
                  fisher_null(n, h[0] + h[1]), f"(secret {col!r} guessed from the other columns)")
                 for col, h in zip(secrets, results) if h is not None]
        if not items:
            raise IncomputableError("no_applicable_columns", "no column left to infer a secret from")
        return self.judged_risk(ctx, items, "Inference risk")

