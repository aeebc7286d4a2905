"""KGW watermark detection: agreement with transformers' WatermarkDetector, power and false alarms on the
committed corpora (SmolLM2 with and without transformers' watermark; Lee news and Wikipedia), the check."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from scipy.stats import false_discovery_control, norm
from transformers import PretrainedConfig, WatermarkDetector, WatermarkingConfig

from synthproof.api import audit
from synthproof.provenance.kgw import KGWScheme, benjamini_hochberg, p_value, score_token_ids, z_score
from synthproof.provenance.watermark import load_tokenizer, score_texts
from synthproof.datasets import load, path

ONLY = {"suite": "listed", "checks": {"provenance.kgw_watermark": None}}


@pytest.fixture(scope="module")
def corpus():
    meta = json.loads(path("smollm2_watermark").with_suffix(".json").read_text())
    wm = meta["watermark"]
    scheme = KGWScheme(vocab_size=wm["vocab_size"], greenlist_ratio=wm["greenlist_ratio"],
                       hashing_key=wm["hashing_key"], seeding_scheme=wm["seeding_scheme"],
                       context_width=wm["context_width"], ignore_repeated_ngrams=True)
    tok, _ = load_tokenizer(None)
    docs = load("smollm2_watermark")
    human = load("human_long")
    return {"meta": meta, "scheme": scheme, "tok": tok, "docs": docs, "human": human}


def _config(corpus, expect, **extra):
    wm = corpus["meta"]["watermark"]
    return {**ONLY, "watermark": {"expect": expect, "hashing_key": wm["hashing_key"],
                                  "greenlist_ratio": wm["greenlist_ratio"], **extra}}


@pytest.mark.parametrize("repeats", [True, False])
def test_z_scores_match_transformers_detector(corpus, repeats):
    """Our corpus scorer against transformers.WatermarkDetector, document by document, on real texts."""
    wm = {k: corpus["meta"]["watermark"][k] for k in
          ("greenlist_ratio", "bias", "hashing_key", "seeding_scheme", "context_width")}
    det = WatermarkDetector(PretrainedConfig(vocab_size=49152, bos_token_id=1), "cpu", WatermarkingConfig(**wm),
                            ignore_repeated_ngrams=repeats)
    texts = (corpus["docs"].groupby("watermarked").head(15)["text"].tolist()
             + corpus["human"]["text"].head(15).tolist())
    ids = [e.ids for e in corpus["tok"].encode_batch(texts, add_special_tokens=False)]
    sch = corpus["scheme"]
    ours = score_token_ids(ids, KGWScheme(sch.vocab_size, sch.greenlist_ratio, sch.hashing_key, sch.seeding_scheme,
                                          sch.context_width, ignore_repeated_ngrams=repeats))
    theirs = [det(torch.tensor([i]), return_dict=True) for i in ids]
    np.testing.assert_allclose(ours["z"], [t.z_score[0] for t in theirs], rtol=0, atol=1e-6)
    np.testing.assert_array_equal(ours["green"], [t.num_green_tokens[0] for t in theirs])
    np.testing.assert_array_equal(ours["tokens_scored"], [t.num_tokens_scored[0] for t in theirs])
    np.testing.assert_allclose(ours["p_value"], [t.p_value[0] for t in theirs], rtol=1e-9, atol=1e-15)
    assert (ours["z"][:15] > 4).all()  # the watermarked ones are the first 15


@pytest.mark.parametrize("scheme,width,repeats", [("lefthash", 1, True), ("lefthash", 3, False),
                                                  ("selfhash", 1, False), ("selfhash", 4, True)])
def test_every_seeding_scheme_matches_transformers(scheme, width, repeats):
    vocab, rng = 3000, np.random.default_rng(5)
    ids = rng.integers(0, vocab - 1, size=(8, 60))  # never the BOS id (vocab - 1)
    ids[:, 30:45] = ids[:, 0:15]  # repeated n-grams
    cfg = WatermarkingConfig(greenlist_ratio=0.3, hashing_key=987654321, seeding_scheme=scheme, context_width=width)
    det = WatermarkDetector(PretrainedConfig(vocab_size=vocab, bos_token_id=vocab - 1), "cpu", cfg,
                            ignore_repeated_ngrams=repeats)
    theirs = det(torch.tensor(ids), return_dict=True)
    ours = score_token_ids(ids.tolist(), KGWScheme(vocab, 0.3, 987654321, scheme, width, repeats))
    np.testing.assert_allclose(ours["z"], theirs.z_score, rtol=0, atol=1e-6)
    np.testing.assert_array_equal(ours["tokens_scored"], theirs.num_tokens_scored)


def test_power_and_false_alarms_on_committed_corpora(corpus):
    """Acceptance: TPR >= 0.95 at FPR <= 0.01 on documents of >= 200 tokens (threshold z > 4)."""
    d, h = corpus["docs"], corpus["human"]
    s = score_texts(d["text"].tolist(), corpus["scheme"], corpus["tok"])
    sh = score_texts(h["text"].tolist(), corpus["scheme"], corpus["tok"])
    long_ = s["tokens"] >= 200
    wm, plain = d["watermarked"].to_numpy() & long_, ~d["watermarked"].to_numpy() & long_
    assert wm.sum() >= 300 and plain.sum() + (sh["tokens"] >= 200).sum() >= 500
    tpr = (s["z"][wm] > 4).mean()
    assert tpr >= 0.95
    assert (s["z"][plain] > 4).mean() <= 0.01
    assert (sh["z"][sh["tokens"] >= 200] > 4).mean() <= 0.01
    # Null calibration: unwatermarked z-scores look standard normal.
    null = np.concatenate([s["z"][plain], sh["z"]])
    assert abs(null.mean()) < 0.25 and 0.85 < null.std() < 1.15


def test_repetitive_real_text_is_not_flagged_with_the_default_key():
    """Counting repeated n-grams over-disperses z on repetitive real text (fortunes: ASCII art, refrains);
    the default (distinct n-grams) keeps z ~ N(0, 1) and flags nothing."""
    tok, _ = load_tokenizer(None)
    texts = load("fortunes")["text"].tolist()
    s = score_texts(texts, KGWScheme(49152), tok, min_tokens=50)
    z = s["z"][~np.isnan(s["z"])]
    assert z.size > 1000 and 0.9 < z.std() < 1.1 and (z > 4).sum() == 0
    assert not benjamini_hochberg(s["p_value"], 0.01).any()


def test_wrong_key_detects_nothing(corpus):
    d = corpus["docs"][corpus["docs"]["watermarked"]]
    sch = corpus["scheme"]
    wrong = KGWScheme(sch.vocab_size, sch.greenlist_ratio, sch.hashing_key + 1, sch.seeding_scheme, 1)
    s = score_texts(d["text"].tolist(), wrong, corpus["tok"])
    assert (s["z"] > 4).mean() <= 0.01


def test_check_follows_expect(corpus):
    d, h = corpus["docs"], corpus["human"]
    real = h[["doc_id", "text"]].head(60)
    marked = d.loc[d["watermarked"], ["doc_id", "text"]].head(60)
    plain = d.loc[~d["watermarked"], ["doc_id", "text"]].head(60)

    def run(syn, expect):
        r = audit(real, syn, config=_config(corpus, expect))
        return [f for f in r.finding_list if f.check_id == "provenance.kgw_watermark"]

    present = run(marked, "present")
    assert present[0].status == "pass" and present[0].value >= 0.95
    absent = run(marked, "absent")
    assert absent[0].status == "fail"
    rows = [f for f in absent if f.scope == "row"]
    assert rows and all(f.row_id.startswith("doc_id=smollm2-wm-") for f in rows)
    assert run(plain, "absent")[0].status == "pass"
    assert run(plain, "present")[0].status == "fail"
    assert run(marked, "report")[0].status == "warn"
    assert "hashing_key" not in json.dumps(present[0].evidence)


def test_inline_key_is_redacted_from_outputs(corpus, tmp_path):
    d = corpus["docs"]
    key = str(corpus["meta"]["watermark"]["hashing_key"])
    r = audit(corpus["human"][["text"]].head(40), d.loc[d["watermarked"], ["text"]].head(30),
              config=_config(corpus, "present"))
    r.write(tmp_path)
    for f in tmp_path.iterdir():
        assert key.encode() not in f.read_bytes(), f.name
    assert r.manifest["config"]["watermark"]["hashing_key"] == "<redacted>"


def test_short_documents_are_skipped(corpus):
    d = corpus["docs"][corpus["docs"]["watermarked"]].head(40)
    short = pd.DataFrame({"text": [" ".join(t.split()[:12]) for t in d["text"]][:20] + d["text"].tolist()[20:]})
    r = audit(corpus["human"][["text"]].head(40), short, config=_config(corpus, "present"))
    f = [x for x in r.finding_list if x.check_id == "provenance.kgw_watermark"][0]
    assert f.evidence["documents_skipped"] == 20 and f.evidence["documents_scored"] == 20


def test_key_from_environment(corpus, monkeypatch):
    monkeypatch.setenv("SP_WM_KEY", str(corpus["meta"]["watermark"]["hashing_key"]))
    d = corpus["docs"]
    cfg = {**ONLY, "watermark": {"expect": "present", "key_env": "SP_WM_KEY"}}
    r = audit(corpus["human"][["text"]].head(40), d.loc[d["watermarked"], ["text"]].head(40), config=cfg)
    f = [x for x in r.finding_list if x.check_id == "provenance.kgw_watermark"][0]
    assert f.status == "pass"


@given(st.integers(1, 2000), st.floats(0.05, 0.95))
def test_z_score_invariants(t, gamma):
    g = np.arange(t + 1)
    z = z_score(g, np.full(g.size, t), gamma)
    assert np.all(np.diff(z) > 0)  # more green tokens, more evidence
    assert np.isclose(z[int(round(gamma * t))], (round(gamma * t) - gamma * t) / np.sqrt(t * gamma * (1 - gamma)))
    np.testing.assert_allclose(p_value(z), norm.sf(z), rtol=1e-9, atol=1e-300)


@given(st.lists(st.floats(0, 1), min_size=1, max_size=60), st.floats(0.001, 0.5))
def test_benjamini_hochberg_matches_scipy(ps, q):
    p = np.array(ps)
    expected = false_discovery_control(p, method="bh") <= q
    np.testing.assert_array_equal(benjamini_hochberg(p, q), expected)
    with_nan = np.append(p, np.nan)
    assert not benjamini_hochberg(with_nan, q)[-1]


def test_token_ids_outside_the_vocabulary_are_an_error():
    with pytest.raises(ValueError, match="outside the vocabulary"):
        score_token_ids([[1, 2, 70000]], KGWScheme(vocab_size=1000))


def test_human_text_is_not_flagged_by_the_check(corpus):
    h = corpus["human"]
    r = audit(h[["doc_id", "text"]].head(60), h[["doc_id", "text"]].tail(200), config=_config(corpus, "absent"))
    f = [x for x in r.finding_list if x.check_id == "provenance.kgw_watermark"][0]
    assert f.status == "pass" and f.evidence["detected"] == 0 and f.evidence["real_detected"] == 0


def test_cli_writes_per_document_scores(corpus, tmp_path, capsys):
    from .test_signing import run

    d = corpus["docs"].head(40)
    d[["doc_id", "text"]].to_parquet(tmp_path / "docs.parquet", index=False)
    (tmp_path / "c.yaml").write_text(f"watermark:\n  hashing_key: {corpus['meta']['watermark']['hashing_key']}\n")
    code, out = run(capsys, "provenance", "watermark", str(tmp_path / "docs.parquet"), "--config",
                    str(tmp_path / "c.yaml"), "--out", str(tmp_path / "scores.parquet"))
    assert code == 0, out
    s = pd.read_parquet(tmp_path / "scores.parquet")
    assert len(s) == 40 and s["detected"].tolist() == d["watermarked"].tolist()
    assert str(corpus["meta"]["watermark"]["hashing_key"]) not in out
