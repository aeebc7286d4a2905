"""SynthID-Text detection (Dathathri et al. 2024): scores equal the reference computation on
transformers' g-values, the null is standard normal on real unwatermarked text, and the committed
SmolLM2 corpus (generated with transformers' SynthID processor) is detected."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import synthproof
from synthproof.datasets import load, path
from synthproof.provenance.synthid import SynthIDScheme, layer_weights, processor, repetition_mask, scores
from synthproof.provenance.watermark import SynthIDTextScorer, load_tokenizer

ONLY = {"suite": "listed", "checks": {"provenance.synthid_watermark": None}}


@pytest.fixture(scope="module")
def corpus():
    meta = json.loads(path("smollm2_synthid").with_suffix(".json").read_text())
    wm = meta["watermark"]
    scheme = SynthIDScheme(keys=tuple(wm["keys"]), ngram_len=wm["ngram_len"],
                           sampling_table_size=wm["sampling_table_size"],
                           sampling_table_seed=wm["sampling_table_seed"],
                           context_history_size=wm["context_history_size"], vocab_size=wm["vocab_size"])
    tok, _ = load_tokenizer(None)
    marked = load("smollm2_synthid")
    kgw = load("smollm2_watermark")
    return {"meta": meta, "scheme": scheme, "tok": tok, "marked": marked,
            "plain": kgw[~kgw["watermarked"]].reset_index(drop=True), "human": load("human_long"),
            "fortunes": load("fortunes")}


def _reference(ids: np.ndarray, scheme: SynthIDScheme) -> float:
    """The score as google-deepmind/synthid-text's detector_mean computes it, on transformers' own
    g-values and repetition mask (one document, no batching)."""
    import torch

    proc = processor(scheme)
    t = torch.tensor(ids[None, :], dtype=torch.long)
    g = proc.compute_g_values(t).double().numpy()  # (1, L - n + 1, depth)
    mask = proc.compute_context_repetition_mask(t).double().numpy()  # (1, L - n + 1)
    depth = g.shape[-1]
    if scheme.score == "mean":
        return float((g * mask[..., None]).sum() / (mask.sum() * depth))
    w = np.linspace(10, 1, depth)
    w = w * depth / w.sum()
    return float((g * w[None, None, :] * mask[..., None]).sum() / (mask.sum() * depth))


@pytest.mark.parametrize("score", ["mean", "weighted_mean"])
def test_scores_equal_the_reference_on_the_committed_corpus(corpus, score):
    scheme = SynthIDScheme(**{**corpus["scheme"].__dict__, "score": score})
    docs = [np.asarray(x, dtype=np.int64) for x in corpus["marked"]["token_ids"][:12]]
    docs += [np.asarray(x, dtype=np.int64) for x in corpus["plain"]["token_ids"][:12]]
    s = scores(docs, scheme)
    for i, d in enumerate(docs):
        assert s["score"][i] == pytest.approx(_reference(d, scheme), abs=1e-12)
    assert (s["z"][:12] > 8).all() and (np.abs(s["z"][12:]) < 4).all()


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(st.integers(0, 6), min_size=0, max_size=40), min_size=1, max_size=6),
       st.integers(2, 5), st.integers(1, 8))
def test_repetition_mask_equals_transformers(docs, n, history):
    """Small vocabularies force repeated contexts; short histories make the window matter."""
    import torch

    scheme = SynthIDScheme(keys=(11, 22, 33), ngram_len=n, context_history_size=history)
    proc = processor(scheme)
    lengths = np.array([len(d) for d in docs])
    if lengths.max() < n:
        return
    ids = np.zeros((len(docs), lengths.max()), dtype=np.int64)
    for r, d in enumerate(docs):
        ids[r, : len(d)] = d
    mine = repetition_mask(ids, lengths, scheme)
    for r, d in enumerate(docs):
        if len(d) >= n:
            ref = proc.compute_context_repetition_mask(torch.tensor([d], dtype=torch.long)).numpy()[0].astype(bool)
            assert (mine[r, : len(d) - n + 1] == ref).all()


def test_batching_never_changes_a_score(corpus):
    texts = corpus["marked"]["text"].tolist()[:20] + corpus["fortunes"]["text"].tolist()[:60]
    one = SynthIDTextScorer(corpus["scheme"], corpus["tok"], batch=1000)
    one.add(texts)
    many = SynthIDTextScorer(corpus["scheme"], corpus["tok"], batch=7)
    for i in range(0, len(texts), 13):
        many.add(texts[i: i + 13])
    a, b = one.result(), many.result()
    for k in ("tokens_scored", "score", "z", "p_value", "tokens"):
        np.testing.assert_array_equal(a[k], b[k])


def test_weights_match_the_reference_default():
    w = layer_weights(30, "weighted_mean")
    assert w.sum() == pytest.approx(30) and w[0] / w[-1] == pytest.approx(10)
    assert (layer_weights(7, "mean") == 1).all()


def test_power_and_false_alarms_on_committed_corpora(corpus):
    """Acceptance: >= 150 watermarked and >= 500 unwatermarked real and generated documents; TPR and FPR at
    a per-document one-sided level of 1e-4 (z > 3.72) with Clopper-Pearson intervals (docs/watermark.md)."""
    from scipy.stats import binomtest

    sch, tok = corpus["scheme"], corpus["tok"]
    sc = SynthIDTextScorer(sch, tok, min_tokens=50)
    sc.add(corpus["marked"]["text"].tolist())
    wm = sc.result()
    plain = SynthIDTextScorer(sch, tok, min_tokens=50)
    plain.add(corpus["plain"]["text"].tolist() + corpus["human"]["text"].tolist())
    null = plain.result()
    ok_w, ok_n = ~np.isnan(wm["z"]), ~np.isnan(null["z"])
    assert ok_w.sum() >= 150 and ok_n.sum() >= 500
    tp, fp = int((wm["z"][ok_w] > 3.72).sum()), int((null["z"][ok_n] > 3.72).sum())
    tpr = binomtest(tp, int(ok_w.sum())).proportion_ci(method="exact")
    fpr = binomtest(fp, int(ok_n.sum())).proportion_ci(method="exact")
    assert tpr.low >= 0.95 and fpr.high <= 0.01
    z = null["z"][ok_n]
    assert abs(z.mean()) < 0.15 and 0.9 < z.std() < 1.1  # calibrated null on real and unwatermarked text


def test_wrong_keys_detect_nothing(corpus):
    wrong = SynthIDScheme(**{**corpus["scheme"].__dict__, "keys": tuple(k + 1 for k in corpus["scheme"].keys)})
    docs = [np.asarray(x, dtype=np.int64) for x in corpus["marked"]["token_ids"]]
    z = scores(docs, wrong)["z"]
    assert np.abs(z).max() < 4.5 and abs(np.nanmean(z)) < 0.3


def _cfg(corpus, expect, monkeypatch, **extra):
    monkeypatch.setenv("SP_SYNTHID_KEYS", ",".join(map(str, corpus["scheme"].keys)))
    return {**ONLY, "watermark": {"scheme": "synthid", "expect": expect, "keys_env": "SP_SYNTHID_KEYS", **extra}}


def test_check_follows_expect_and_names_documents(corpus, monkeypatch):
    marked = corpus["marked"][["text"]].iloc[:40]
    human = corpus["human"][["text"]].iloc[:120]
    mixed = __import__("pandas").concat([marked, human.iloc[:40]], ignore_index=True)
    res = synthproof.audit(human, mixed, config=_cfg(corpus, "absent", monkeypatch))
    f = res.findings
    col = f[(f.check_id == "provenance.synthid_watermark") & (f.scope == "column")].iloc[0]
    assert col.status == "fail" and col.value == pytest.approx(0.5, abs=0.03)
    assert json.loads(col.evidence)["keys"] == "configured"
    assert not f.astype(str).apply(lambda c: c.str.contains(str(corpus["scheme"].keys[0]))).any().any()
    rows = f[(f.check_id == "provenance.synthid_watermark") & (f.scope == "row")]
    assert len(rows) >= 20 and rows.message.str.contains("g-value score").all()  # capped at max_row_findings
    clean = synthproof.audit(human, human.iloc[40:].reset_index(drop=True), config=_cfg(corpus, "absent",
                                                                                         monkeypatch))
    g = clean.findings
    assert g[(g.check_id == "provenance.synthid_watermark") & (g.scope == "column")].iloc[0].status == "pass"
    present = synthproof.audit(human, marked, config=_cfg(corpus, "present", monkeypatch))
    p = present.findings
    assert p[(p.check_id == "provenance.synthid_watermark") & (p.scope == "column")].iloc[0].status == "pass"


def test_scheme_selects_the_check(corpus, monkeypatch):
    cfg = _cfg(corpus, "report", monkeypatch)
    cfg["checks"] = {"provenance.synthid_watermark": None, "provenance.kgw_watermark": None}
    human = corpus["human"][["text"]].iloc[:60]
    f = synthproof.audit(human, human, config=cfg).findings
    kgw = f[f.check_id == "provenance.kgw_watermark"].iloc[0]
    assert kgw.status == "skipped" and kgw.reason_code == "other_scheme"
    assert f[f.check_id == "provenance.synthid_watermark"].iloc[0].status == "pass"


def test_keys_are_redacted_and_required(corpus, monkeypatch, tmp_path):
    from synthproof.config import parse_config

    cfg = parse_config({"watermark": {"scheme": "synthid", "keys": [1, 2, 3]}})
    assert cfg.public_dump()["watermark"]["keys"] == "<redacted>"
    human = corpus["human"][["text"]].iloc[:30]
    f = synthproof.audit(human, human, config={**ONLY, "watermark": {"scheme": "synthid"}}).findings
    row = f[f.check_id == "provenance.synthid_watermark"].iloc[0]
    assert row.status == "error" and "keys" in row.message
