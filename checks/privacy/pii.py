"""``privacy.pii_replay`` (tables), ``privacy.text_pii_replay`` (corpora) and
``privacy.rare_combinations``: real records' personal data and rare attribute combinations
reproduced in synthetic records.

Personal data (:mod:`synthproof.stats.pii`: e-mail, phone, payment card, IBAN, IP address, US
SSN) is matched by content keys of normalised values, never kept or shown as values unless
``report.show_values`` is set. A synthetic record **replays** PII when it holds a value some real
record holds; real data replays itself too (shared addresses, switchboards), so the share is
judged against the leave-one-out rate at which real records replay each other, with a binomial
null (the rule of ``duplication.exact_copies``), and PII found only in synthetic records is
reported apart, as PII, not as replay.
Rare combinations of quasi-identifiers (Sweeney 2002, k-anonymity: seen in fewer than
``privacy.rare_k`` real records) reproduced by synthetic rows are judged against holdout rows,
which reproduce them by chance alone.
"""

from __future__ import annotations

import numpy as np

from synthproof.calibration import Comparison, RateNull, fmt, judge
from synthproof.check import Check, Param, register
from synthproof.checks._text import MIN_DOCS, TextCheck
from synthproof.corpus import Tap
from synthproof.errors import IncomputableError
from synthproof.findings import Finding
from synthproof.stats.pii import KINDS, combination_codes, find_pii, pii_records, rare_replay, replay_rates

from ._setup import verdict_tail

SCAN_ROLES = ("categorical", "id", "numeric")


def _texts(values: np.ndarray, role: str) -> np.ndarray:
    """Values as the strings scanned: integers written without a decimal point (a phone or card
    number stored as a number), other numbers skipped."""
    if role != "numeric":
        return np.asarray([v if isinstance(v, str) else None for v in values], dtype=object)
    x = np.asarray(values, dtype=np.float64)
    ok = np.isfinite(x) & (np.abs(x) >= 1e6) & (np.abs(x) < 1e19) & (x == np.round(x))
    return np.asarray([f"{int(v)}" if k else None for v, k in zip(x.tolist(), ok.tolist())], dtype=object)


def _kind_counts(rows: np.ndarray, kinds: np.ndarray) -> dict:
    return {k: int(np.unique(rows[kinds == i]).size) for i, k in enumerate(KINDS) if (kinds == i).any()}


class _Replay:
    """Shared judging of PII replay: one comparison per column, Holm across them."""

    def judge_columns(self, ctx, items: list[dict], unit: str) -> list[Finding]:
        comps = [Comparison(it["value"], np.array([it["loo"]]), self.min_effect,
                            dist=RateNull(it["loo"], it["n_syn"], floor=0.5 / max(it["n_real"], 1))) for it in items]
        out = []
        for it, v in zip(items, judge(comps, ctx.alpha, ctx.fdr_q)):
            kinds = it["kinds"]
            found = ", ".join(f"{k}: {c}" for k, c in kinds.items()) or "none"
            msg = (f"PII replay rate {fmt(it['value'])}: {it['n_replay']} of {it['n_syn']} synthetic {unit} of column "
                   f"{it['column']!r} hold a real record's personal data ({it['n_pii']} hold any; by kind, {found}), "
                   f"vs {fmt(it['loo'])} of real {unit} holding another real record's (leave-one-out, the binomial "
                   f"null)" + verdict_tail(v, self.min_effect, it["value"], "real records' personal data reappear."))
            out.append(self.judged_finding(
                v, scope="column", column=it["column"], value=it["value"], baseline_value=it["loo"],
                n_real=it["n_real"], n_synthetic=it["n_syn"], message=msg,
                evidence={"pii_records": kinds, "replayed_records": it["replay_kinds"], "rows_scanned": it["n_syn"]}))
            if it["n_pii"] > it["n_replay"]:
                out.append(self.finding(
                    scope="column", column=it["column"], metric="pii_rate", value=it["n_pii"] / max(it["n_syn"], 1),
                    n_synthetic=it["n_syn"], status="pass",
                    evidence={"pii_records": kinds},
                    message=(f"{it['n_pii'] - it['n_replay']} synthetic {unit} of column {it['column']!r} hold "
                             f"personal data found in no real record (by kind, {found}): reported as PII, not "
                             "replay; not judged.")))
            out += self.named(ctx, it, v.status if v.status in ("fail", "warn") else "pass")
        return out

    def named(self, ctx, it: dict, status: str) -> list[Finding]:
        rows = []
        for pos, rid in list(zip(it["replay_rows"], it["replay_ids"]))[: ctx.max_row_findings]:
            kinds = sorted({KINDS[k] for k in it["replay_kind_of"].get(int(pos), [])})
            shown = ""
            if ctx.show_values:
                shown = f" ({', '.join(sorted({v for _, v, _, _ in find_pii(it['text_of'](int(pos)), it['region'])}))})"
            rows.append(self.finding(scope="row", column=it["column"], row_id=rid, side="synthetic", status=status,
                                     reason_code="row_evidence",
                                     message=f"synthetic {rid}: replays a real record's {', '.join(kinds)}{shown}."))
        return rows


def _item(column, real, n_real, syn, n_syn, region) -> dict:
    (rr, kr_kind, kr), (rs, ks_kind, ks) = real, syn
    value, loo = replay_rates((rr, kr), n_real, (rs, ks), n_syn)
    hit = np.isin(ks, np.unique(kr))
    kind_of: dict[int, list[int]] = {}
    for r, k in zip(rs[hit].tolist(), ks_kind[hit].tolist()):
        kind_of.setdefault(r, []).append(k)
    return {"column": column, "value": value, "loo": loo, "n_real": n_real,
            "n_syn": n_syn, "n_pii": int(np.unique(rs).size), "n_replay": int(np.unique(rs[hit]).size),
            "kinds": _kind_counts(rs, ks_kind), "replay_kinds": _kind_counts(rs[hit], ks_kind[hit]),
            "replay_rows": np.unique(rs[hit]), "replay_kind_of": kind_of, "region": region}


@register
class PiiReplay(_Replay, Check):
    """Personal data of real records replayed in synthetic table columns (string, id and
    integer-valued columns of the row pool), per column; rows named."""

    id = "privacy.pii_replay"
    family = "privacy"
    needs = ("row_sample", "row_pool")
    computation = "sample"
    computation_note = "scans every row of the row pool (every row below 200,000 per side)"
    summary = ("Share of synthetic rows whose column holds a real record's e-mail, phone, card number, IBAN, IP or "
               "SSN (normalised), vs the real leave-one-out rate; PII found only in synthetic rows is reported apart.")
    metric = "pii_replay_rate"
    source = ("libphonenumber (phonenumbers), Luhn (ISO/IEC 7812-1), ISO 13616 mod 97; replay judged like exact "
              "copies (this project); NVIDIA Safe Synthesizer's PII replay as the peer")
    params = {"min_effect": Param("float", 0.0, "minimum excess replay share worth failing", low=0.0, high=1.0)}

    @staticmethod
    def applicable(data) -> bool:
        return any(data.roles.get(c) in SCAN_ROLES for c in data.synthetic.columns)

    def run(self, ctx) -> list[Finding]:
        d, region = ctx.data, ctx.config.privacy.pii_region
        pr, ps = ctx.pool("real"), ctx.pool("synthetic")
        cols = [c for c in d.synthetic.columns if d.roles.get(c) in SCAN_ROLES]
        real_cols = [c for c in d.real.columns if d.roles.get(c) in SCAN_ROLES]
        if not cols:
            raise IncomputableError("no_applicable_columns", "no string, id or integer column to scan")
        # real keys over every scanned real column: a real e-mail moved to another column still replays
        parts = [pii_records(_texts(d.real[c].to_numpy()[pr], d.roles[c]), region) for c in real_cols]
        real = tuple(np.concatenate([p[i] for p in parts]) if parts else np.zeros(0) for i in range(3))
        items = []
        for c in cols:
            texts = _texts(d.synthetic[c].to_numpy()[ps], d.roles[c])
            syn = pii_records(texts, region)
            if not syn[0].size:
                continue
            it = _item(c, real, len(pr), syn, len(ps), region)
            it["replay_ids"] = [ctx.row_id(int(ps[i])) for i in it["replay_rows"][: ctx.max_row_findings]]
            it["text_of"] = lambda i, t=texts: t[i]
            items.append(it)
        if not items:
            return [self.finding(scope="dataset", metric="pii_rate", value=0.0, n_synthetic=len(ps), status="pass",
                                 message=f"No personal data found in the {len(cols)} scanned synthetic column(s) "
                                         f"({len(ps)} rows).")]
        return self.judge_columns(ctx, items, "rows")


class PiiTap(Tap):
    """:func:`~synthproof.stats.pii.pii_records` of every document: ``(doc, kind, key)`` arrays."""

    def start(self, region: str) -> None:
        self.region = region
        self.parts: list[tuple] = []

    def add(self, codes, doc0, docs) -> None:
        rows, kinds, keys = pii_records(docs, self.region)
        self.parts.append((rows + doc0, kinds, keys))

    def finish(self):
        if not self.parts:
            return np.zeros((0, 3), dtype=np.uint64)
        rows, kinds, keys = (np.concatenate([p[i] for p in self.parts]) for i in range(3))
        return np.stack([rows.astype(np.uint64), kinds.astype(np.uint64), keys], axis=1)

    @classmethod
    def merge(cls, outputs: list, doc_offsets: list[int]):
        if not outputs:
            return np.zeros((0, 3), dtype=np.uint64)
        moved = []
        for o, off in zip(outputs, doc_offsets):
            o = np.array(o, dtype=np.uint64, copy=True).reshape(-1, 3)
            o[:, 0] += np.uint64(off)
            moved.append(o)
        return np.concatenate(moved)


@register
class TextPiiReplay(_Replay, TextCheck):
    """Personal data of real documents replayed in synthetic documents, per text column, over
    every document of the corpus (a streamed tap); documents named."""

    id = "privacy.text_pii_replay"
    family = "privacy"
    needs = ("corpus",)
    computation = "keyed"
    summary = ("Share of synthetic documents holding a real document's e-mail, phone, card number, IBAN, IP or SSN "
               "(normalised), vs the real leave-one-out rate; PII found only in synthetic documents is reported "
               "apart.")
    metric = "pii_replay_rate"
    source = PiiReplay.source
    params = {"min_effect": Param("float", 0.0, "minimum excess replay share worth failing", low=0.0, high=1.0)}

    def corpus_taps(self, cfg) -> list:
        return [(PiiTap, {"region": cfg.privacy.pii_region}, ("real", "synthetic"))]

    def run(self, ctx) -> list[Finding]:
        region = ctx.config.privacy.pii_region
        items, out = [], []
        for col in self.text_columns(ctx):
            real, syn = ctx.corpus(col, "real"), ctx.corpus(col, "synthetic")
            if min(real.n_docs, syn.n_docs) < MIN_DOCS:
                out.append(self.too_few(col, real.n_docs, syn.n_docs))
                continue
            tr = ctx.corpus_tap(col, "real", PiiTap, region=region)
            ts = ctx.corpus_tap(col, "synthetic", PiiTap, region=region)
            split = [(t[:, 0].astype(np.int64), t[:, 1].astype(np.int8), t[:, 2].astype(np.uint64)) for t in (tr, ts)]
            if not split[1][0].size:
                out.append(self.finding(scope="column", column=col, metric="pii_rate", value=0.0,
                                        n_synthetic=syn.n_docs, status="pass",
                                        message=f"No personal data found in the {syn.n_docs} synthetic documents of "
                                                f"column {col!r}."))
                continue
            it = _item(col, split[0], real.n_docs, split[1], syn.n_docs, region)
            rows = it["replay_rows"][: ctx.max_row_findings]
            it["replay_ids"] = ctx.doc_ids("synthetic", syn.rows[rows])
            docs = ctx.documents(col, "synthetic", syn.rows[rows]) if ctx.show_values else {}
            it["text_of"] = lambda i, docs=docs, rows_=syn.rows: docs.get(int(rows_[i]), "")
            items.append(it)
        return out + (self.judge_columns(ctx, items, "documents") if items else [])


@register
class RareCombinations(Check):
    """Synthetic rows reproducing a quasi-identifier combination seen in 1 to ``rare_k - 1``
    training rows, vs the same for as many holdout rows (the control: a generator that made up
    rare combinations by chance hits rare holdout combinations as often); the null relabels the
    pooled training and holdout rows (:func:`~synthproof.stats.pii.rare_replay`), fitted normal.
    ``value`` is the share of synthetic rows reproducing a rare training combination; the verdict
    judges its excess over the control share."""

    id = "privacy.rare_combinations"
    family = "privacy"
    needs = ("row_sample", "row_pool", "subgroup_tables")
    needs_holdout = True
    computation = "sample"
    summary = ("Share of synthetic rows reproducing a rare combination of quasi-identifiers of the training rows "
               "(fewer than privacy.rare_k), beyond the same share for holdout rows.")
    metric = "rare_combination_replay_rate"
    source = "Sweeney 2002 (k-anonymity); holdout-controlled replay with a relabelling null (this project)"
    params = {"min_effect": Param("float", 0.005, "minimum excess share of synthetic rows worth failing", low=0.0,
                                  high=1.0),
              "max_records": Param("int", 200_000, "training and holdout rows compared (seeded sample)", low=20),
              "n_permutations": Param("int", 200, "relabellings of the pooled rows for the null", low=50,
                                      high=100_000)}

    def run(self, ctx) -> list[Finding]:
        from .attacks import configured_or_sensitive

        cfg, d = ctx.config.privacy, ctx.data
        cols = configured_or_sensitive(ctx, cfg.quasi_identifiers, "privacy.quasi_identifiers",
                                       [c for c in d.features if c in d.holdout.columns])
        k = cfg.rare_k
        h = int(min(ctx.pool_size("real"), ctx.pool_size("holdout"), self.max_records))
        ps = ctx.pool("synthetic")
        if min(h, len(ps)) < 20:
            raise IncomputableError("too_few_rows", f"only {min(h, len(ps))} rows on a side")
        t_idx, c_idx = ctx.sample("real", h, self.id), ctx.sample("holdout", h, self.id)
        ct, cc, cs = combination_codes([d.real.iloc[t_idx], d.holdout.iloc[c_idx], d.synthetic.iloc[ps]], cols)
        a, c, nt, nc = rare_replay(ct, cc, cs, k, self.n_permutations, ctx.rng(self.id))
        m = len(ps)
        (v,) = judge([Comparison((a - c) / m, (nt - nc) / m, self.min_effect, null="normal")], ctx.alpha, ctx.fdr_q)
        msg = (f"Rare-combination replay rate {fmt(a / m)}: {a} of {m} synthetic rows reproduce a combination of "
               f"{cols} seen in fewer than {k} of {h} training rows, vs {c} reproducing one rare among {h} holdout "
               f"rows (the control; excess {fmt((a - c) / m)})"
               + verdict_tail(v, self.min_effect, (a - c) / m, "the synthetic data reproduce rare training records."))
        f = self.judged_finding(v, scope="dataset", value=a / m, matched_value=(a - c) / m, n_real=2 * h,
                                n_synthetic=m, message=msg,
                                evidence={"quasi_identifiers": cols, "k": k, "synthetic_hits_training": a,
                                          "synthetic_hits_control": c})
        rows = []
        if v.status == "fail":
            counts = np.bincount(ct, minlength=int(max(ct.max(initial=-1), cs.max(initial=-1))) + 1)
            rare = (counts > 0) & (counts < k)
            for i in np.flatnonzero(rare[cs])[: ctx.max_row_findings]:
                rid = ctx.row_id(int(ps[i]))
                rows.append(self.finding(scope="row", row_id=rid, side="synthetic", status="fail",
                                         reason_code="row_evidence",
                                         message=f"synthetic {rid}: reproduces a combination of {len(cols)} "
                                                 f"quasi-identifiers seen in fewer than {k} training rows."))
        return [f] + rows
