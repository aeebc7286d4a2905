"""Whole-corpus text statistics chunk by chunk (synthproof.corpus, issue 12): equal to the
per-document definitions, independent of the chunking, spilled span keys join as in memory,
cross-side MinHash banding equals the stacked one, and streamed text audits give the in-memory
findings on the bundled corpus."""

from __future__ import annotations

import types

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from synthproof.checks.diversity.text import SeqRepTap
from synthproof.checks.duplication import _minhash
from synthproof.checks.duplication._taps import MinHashTap, SpanTap, span_pairs
from synthproof.checks.duplication._text_pairs import doc_ngram_keys, shared_ngram_pairs
from synthproof.corpus import Resources, build_corpus, frame_values, non_alpha_share
from synthproof.plan import outofcore
from synthproof.stats.tokens import encode_corpora
from synthproof.text import clean_texts, descriptors, doc_hash, repetition_rate, words

from .test_outofcore import _run, _shards


@pytest.fixture(scope="module")
def docs(fortunes) -> np.ndarray:
    """Fortunes with awkward values mixed in: missing, numbers, empty, bytes, a long text."""
    vals = fortunes.text.to_numpy(dtype=object)[:3000].copy()
    vals[5], vals[17], vals[40], vals[41] = None, 12, "   ", b"caf\xc3\xa9 au lait and more words here"
    vals[99] = "word " * 30_000
    return vals


def _taps(res):
    return [MinHashTap(res, ngram=2, num_perm=64), SpanTap(res, n=5), SeqRepTap(res, n=3)]


def test_corpus_equals_the_per_document_definitions(docs):
    cs = build_corpus(frame_values(docs), _taps(Resources(1 << 30)), max_chars=100_000)
    ts = clean_texts(docs, 100_000)
    assert cs.counts == ts.counts and cs.n_rows == len(docs) and np.array_equal(cs.rows, ts.rows)
    assert np.array_equal(cs.hashes, np.array([doc_hash(d) for d in ts.docs], dtype="S16"))
    ref = descriptors(ts.docs, ts.tokens)
    pd.testing.assert_frame_equal(cs.descriptors(), ref)
    rep = np.array([repetition_rate(t, 3) for t in ts.tokens])
    assert np.allclose(cs.taps["SeqRepTap:n=3"], rep, equal_nan=True)
    # MinHash signatures: those of the whole corpus coded at once (content codes need no shared vocabulary)
    (codes,) = encode_corpora(ts.tokens)
    h, starts = _minhash.shingle_hashes(codes, 2)
    assert np.array_equal(cs.taps["MinHashTap:ngram=2:num_perm=64"], _minhash.signatures(h, starts, num_perm=64))


@pytest.mark.parametrize("text", ["plain ASCII, with 3 digits & symbols!", "Ünïcödé — ½ ⅓ Ⅻ 𝔘 x", "", "   ", "a\tb\n"])
def test_non_alpha_share_fast_path_is_the_definition(text):
    visible = [c for c in text if not c.isspace()]
    want = sum(not c.isalpha() for c in visible) / len(visible) if visible else np.nan
    assert np.allclose(non_alpha_share(text), want, equal_nan=True)


def _same_stats(a, b) -> None:
    assert a.counts == b.counts and a.n_rows == b.n_rows
    for f in ("rows", "hashes", "n_chars", "n_words", "type_token_ratio", "non_alpha_share"):
        assert np.array_equal(getattr(a, f), getattr(b, f), equal_nan=f != "hashes" and f != "rows"), f
    for k in a.taps:
        x, y = a.taps[k], b.taps[k]
        if isinstance(x, np.ndarray):
            assert np.array_equal(x, y, equal_nan=x.dtype.kind == "f"), k
        else:
            assert np.array_equal(span_pairs(x, x, same=True), span_pairs(y, y, same=True)), k


@settings(max_examples=15, deadline=None)
@given(st.integers(1, 5000), st.integers(0, 3))
def test_corpus_does_not_depend_on_the_chunking(docs, chunk, offset):
    whole = build_corpus(frame_values(docs[offset:]), _taps(Resources(1 << 30)))
    cut = build_corpus(frame_values(docs[offset:], chunk), _taps(Resources(1 << 30)))
    assert cut.n_docs == whole.n_docs and np.array_equal(cut.hashes, whole.hashes)
    _same_stats(whole, cut)  # every array and tap state equal


def test_spilled_span_keys_join_as_in_memory(fortunes):
    real = fortunes.text.to_numpy(dtype=object)[:4000]
    syn = np.concatenate([real[:300], fortunes.text.to_numpy(dtype=object)[4000:6000]])
    mem = Resources(1 << 34)
    tiny = Resources(1 << 12)  # an eighth of 4 KiB: every tap spills after its first chunk
    try:
        keys = {}
        for name, res in (("mem", mem), ("spill", tiny)):
            r = build_corpus(frame_values(real, 500), [SpanTap(res, n=8)]).taps["SpanTap:n=8"]
            s = build_corpus(frame_values(syn, 700), [SpanTap(res, n=8)]).taps["SpanTap:n=8"]
            keys[name] = (r, s)
        assert keys["spill"][0].spilled and not keys["mem"][0].spilled
        # the reference: keys of corpora coded at once, joined whole
        cr, csy = encode_corpora([words(d) for d in real], [words(d) for d in syn])
        want_cross = shared_ngram_pairs(doc_ngram_keys(csy, 8), doc_ngram_keys(cr, 8))
        want_same = shared_ngram_pairs(doc_ngram_keys(cr, 8), doc_ngram_keys(cr, 8), same=True)
        for r, s in keys.values():
            assert np.array_equal(span_pairs(s, r), want_cross)
            assert np.array_equal(span_pairs(r, r, same=True), want_same)
        assert len(want_cross) >= 300
    finally:
        tiny.close()
        mem.close()


def test_shuffled_span_keys_join_as_in_memory(fortunes):
    """The keyed shuffle of an executor: shards' span keys split by partition (SpanTap.split_state),
    merged as handles with their document offsets, joined one partition at a time: the whole
    corpora's pairs."""
    from synthproof.checks.duplication._taps import ShuffledSpanKeys

    real = fortunes.text.to_numpy(dtype=object)[:3000]
    syn = np.concatenate([real[:200], fortunes.text.to_numpy(dtype=object)[4000:5500]])
    res = Resources(1 << 34)
    store: list[bytes] = []  # the "object store": a handle is an index

    def reduce(fn, arg, per_partition):
        return [fn(arg, *[[store[h] for h in side] for side in sides]) for sides in per_partition]

    def shuffled(values, cuts):
        parts, offsets, lo = [], [], 0
        for hi in [*cuts, len(values)]:
            out = build_corpus(frame_values(values[lo:hi], 400), [SpanTap(res, n=8)]).taps["SpanTap:n=8"]
            handles = []
            for blob in SpanTap.split_state(out):
                store.append(blob)
                handles.append(len(store) - 1)
            parts.append(SpanTap.shuffled(handles, types.SimpleNamespace(reduce=reduce)))
            offsets.append(lo)
            lo = hi
        return SpanTap.merge(parts, offsets)

    try:
        r, s = shuffled(real, [1000, 1001, 2500]), shuffled(syn, [900])
        assert isinstance(r, ShuffledSpanKeys) and r.offsets == [0, 1000, 1001, 2500]
        cr, csy = encode_corpora([words(d) for d in real], [words(d) for d in syn])
        assert np.array_equal(span_pairs(s, r), shared_ngram_pairs(doc_ngram_keys(csy, 8), doc_ngram_keys(cr, 8)))
        assert np.array_equal(span_pairs(r, r, same=True),
                              shared_ngram_pairs(doc_ngram_keys(cr, 8), doc_ngram_keys(cr, 8), same=True))
        whole = build_corpus(frame_values(real, 500), [SpanTap(res, n=8)]).taps["SpanTap:n=8"]
        with pytest.raises(ValueError, match="both corpora must be shuffled"):
            span_pairs(s, whole)
    finally:
        res.close()


def test_cross_pairs_equal_the_stacked_banding(fortunes):
    texts = fortunes.text.tolist()[:3000]
    rng = np.random.default_rng(3)
    near = []
    for t in texts[:400]:  # 400 near-copies with one word changed
        w = t.split()
        w[rng.integers(len(w))] = "zzqx"
        near.append(" ".join(w))
    a = build_corpus(frame_values(np.array(texts[1000:2000] + near, dtype=object)), [MinHashTap(Resources(1 << 30), ngram=2, num_perm=128)])
    b = build_corpus(frame_values(np.array(texts[:1000], dtype=object)), [MinHashTap(Resources(1 << 30), ngram=2, num_perm=128)])
    sa, sb = a.taps["MinHashTap:ngram=2:num_perm=128"], b.taps["MinHashTap:ngram=2:num_perm=128"]
    got, sim = _minhash.cross_pairs(sa, sb, 0.5)
    stacked = np.vstack([sa, sb])
    want, wsim = _minhash.near_pairs(stacked, 0.5, side=np.arange(len(stacked)) >= len(sa))
    assert np.array_equal(got, np.column_stack([want[:, 0], want[:, 1] - len(sa)])) and np.array_equal(sim, wsim)
    assert len(got) >= 350


def test_signature_classes_are_those_of_the_rows(fortunes):
    """Labels from 128-bit row keys: rows share a label iff their signatures are equal, numbered by
    first occurrence, -1 for an empty set."""
    (codes,) = encode_corpora([words(t) for t in fortunes.text.tolist()[:2000] * 2])
    sig = _minhash.signatures(*_minhash.shingle_hashes(codes, 2), num_perm=32)
    sig[7] = _minhash.EMPTY
    labels = _minhash.signature_classes(sig)
    inv = np.unique(np.ascontiguousarray(sig).view(np.dtype((np.void, 128))).ravel(), return_inverse=True)[1].ravel()
    live = labels >= 0
    assert labels[7] == -1 and live.sum() == len(sig) - 1
    n = np.unique(labels[live]).size
    assert n == np.unique(inv[live]).size == np.unique(labels[live] * (inv.max() + 1) + inv[live]).size
    assert n < 2000 and labels[0] == labels[2000]
    firsts = np.unique(labels[live], return_index=True)[1]
    assert np.all(np.diff(firsts) > 0) and labels[0] == 0


TEXT_SUITE = ["validity.text_quality", "duplication.text_exact_duplicates", "duplication.text_near_duplicates",
              "duplication.text_memorisation", "duplication.contamination", "diversity.text_distinct_n",
              "diversity.text_compression", "diversity.text_repetition", "drift.text_descriptors"]


def test_text_checks_out_of_core_equal_in_memory(tmp_path, fortunes, monkeypatch):
    """The whole-corpus and sample text checks streamed (shards, odd batches) equal in memory, with
    planted copies, near-duplicates and contamination found the same."""
    real = fortunes.iloc[:3500].reset_index(drop=True)
    syn = fortunes.iloc[3500:].reset_index(drop=True).copy()
    syn.loc[:299, "text"] = real.text.iloc[:300].to_numpy()  # copies of real documents
    syn.loc[300:399, "text"] = syn.text.iloc[400:500].to_numpy()  # exact duplicates
    items = real.text.iloc[3000:]
    items = items[items.str.split().str.len() >= 14].iloc[:20].reset_index(drop=True)
    assert len(items) == 20
    syn.loc[500:519, "text"] = [f"As said: {t} and so on." for t in items]  # contaminated
    evals = tmp_path / "eval.jsonl"
    pd.DataFrame({"question": items}).to_json(evals, orient="records", lines=True)
    syn.loc[600, "text"], syn.loc[601, "text"] = "   ", None
    cfg = {"suite": "listed", "checks": {c: {} for c in TEXT_SUITE}, "text": {"eval_sets": [str(evals)]},
           "columns": {"roles": {"text": "text"}}}
    r, s = _shards(real, tmp_path / "r", 3, rg=700), _shards(syn, tmp_path / "s", 2, rg=900)
    _, mem = _run(r, s, dict(cfg, resources={"out_of_core": "off"}))
    monkeypatch.setattr(outofcore, "batch_rows", lambda memory, n: 1111)
    res, ooc = _run(r, s, dict(cfg, resources={"out_of_core": "on"}))
    assert res.manifest["out_of_core"]
    assert (ooc.status != "error").all() and (ooc.reason_code != "out_of_core").all(), ooc.message.tolist()
    pd.testing.assert_frame_equal(ooc, mem)
    fails = set(mem[mem.status == "fail"].check_id)
    assert {"duplication.text_memorisation", "duplication.contamination", "duplication.text_exact_duplicates"} <= fails
    quality = mem[mem.check_id == "validity.text_quality"]
    assert {"empty_text", "missing"} <= set(quality.reason_code)
    cont = mem[(mem.check_id == "duplication.contamination") & (mem.scope == "column")].iloc[0]
    assert cont.value == 20


def test_watermark_scores_streamed_equal_one_pass(fortunes):
    """KGW scores fed chunk by chunk, green lists drawn per flush, equal one call on all documents."""
    pytest.importorskip("tokenizers")
    from synthproof.checks.provenance.watermark import WatermarkTap, _scheme
    from synthproof.config import parse_config
    from synthproof.provenance.kgw import GreenCache
    from synthproof.provenance.watermark import TextScorer, score_texts

    cfg = parse_config({"watermark": {"min_tokens": 5}}).watermark
    texts = fortunes.text.tolist()[:1500]
    tok, scheme = _scheme(cfg)
    want = score_texts(texts, scheme, tok, min_tokens=5)
    row, kept = (scheme.vocab_size + 7) // 8, {}
    for cache in (0, 50 * row, 1 << 30):  # none, some seeds kept across flushes, every seed kept
        small = TextScorer(scheme, tok, min_tokens=5, flush_windows=3000, cache_bytes=cache)
        for i in range(0, len(texts), 97):
            small.add(texts[i:i + 97])
        got = small.result()
        for k in want:
            assert np.array_equal(got[k], want[k], equal_nan=True), (cache, k)
        kept[cache] = small.counter.cache.size
    assert kept[0] == 0 and kept[50 * row] == 50 and kept[1 << 30] > 1000  # the cache was used, and bounded
    shared = GreenCache(scheme, 1 << 30)  # one cache for two corpora (the sides of an audit)
    for part in (texts[:700], texts[700:]):
        one = TextScorer(scheme, tok, min_tokens=5, flush_windows=2000, cache=shared)
        one.add(part)
        alone = score_texts(part, scheme, tok, min_tokens=5)
        assert all(np.array_equal(one.result()[k], alone[k], equal_nan=True) for k in alone)
    tap = build_corpus(frame_values(np.array(texts, dtype=object), 300),
                       [WatermarkTap(Resources(1 << 30), settings=cfg.model_dump_json())]).taps
    scores, error = next(iter(tap.values()))
    assert error is None and np.array_equal(scores["z"], want["z"], equal_nan=True)
    assert np.isfinite(want["z"]).sum() > 1000


def test_rebatching_a_projection_on_no_column_keeps_the_row_counts():
    """A text-only table has no feature column: its scan pass projects on no column, and the row
    counts must survive re-batching (it raised IndexError past one batch)."""
    import pyarrow as pa

    from synthproof.sources.stream import _rebatch

    parts = [pa.record_batch([pa.nulls(n)], names=["x"]).select([]) for n in (5, 7, 11)]
    got = list(_rebatch(iter(parts), 4))
    assert [b.num_rows for b in got] == [4, 4, 4, 4, 4, 3] and all(b.num_columns == 0 for b in got)


def test_wide_rows_get_byte_capped_batches(tmp_path, fortunes):
    """Web-length rows: batches end at about ``batch_bytes`` (a million 1.7 kB documents were one
    1.7 GB batch), at least one row each, and the rows read are those of uncapped batches."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from synthproof.sources import iter_batches
    from synthproof.sources.stream import _rebatch

    table = pa.table({"text": fortunes.text.tolist()})
    pq.write_table(table, tmp_path / "t.parquet", row_group_size=1000)
    cap = 64 << 10
    for path in (tmp_path / "t.parquet",):
        got = list(iter_batches(path, "real", batch_rows=1 << 20, batch_bytes=cap))
        whole = list(iter_batches(path, "real", batch_rows=1 << 20))
        assert len(whole) == 1 and len(got) > table.nbytes // cap
        assert pa.Table.from_batches([b for _, _, b in got]).equals(pa.Table.from_batches([b for _, _, b in whole]))
        assert [r for _, r, _ in got] == list(np.cumsum([0] + [b.num_rows for _, _, b in got])[:-1])
        # "about": rows are cut by the average row of what the reader gave, so a batch of longer
        # rows than average runs over a little
        assert max(b.nbytes for _, _, b in got) <= 1.25 * cap
    one = pa.record_batch([pa.array(["x" * 1000] * 10)], names=["t"])  # every row alone over the cap
    assert [b.num_rows for b in _rebatch(iter([one]), 100, max_bytes=10)] == [1] * 10


def test_spilled_signatures_equal_in_memory(fortunes):
    """Past a sixteenth of the budget the MinHash signatures go to a spill file and come back
    memory-mapped: the same values, and the same near-duplicate graph and cross pairs from them."""
    from synthproof.checks.duplication import _minhash

    docs = fortunes.text.to_numpy(dtype=object)
    docs = np.concatenate([docs, docs[:200]])  # exact and near copies for the banding to find
    mem, tiny = Resources(1 << 34), Resources(1 << 16)  # 6,200 docs x 256 B > 4 KiB: spills
    try:
        got = {}
        for name, res in (("mem", mem), ("spill", tiny)):
            tap = MinHashTap(res, ngram=2, num_perm=64)
            got[name] = build_corpus(frame_values(docs, 700), [tap], capacity=len(docs)).taps[tap.key]
        assert isinstance(got["spill"], np.memmap) and not isinstance(got["mem"], np.memmap)
        assert got["spill"].shape == got["mem"].shape and np.array_equal(got["spill"], got["mem"])
        (pa_, sa), (pb, sb) = (_minhash.near_pairs(g, 0.8) for g in (got["mem"], got["spill"]))
        assert len(pa_) >= 200 and np.array_equal(pa_, pb) and np.array_equal(sa, sb)
        (xa, ya), (xb, yb) = (_minhash.cross_pairs(g[:3000], g[3000:], 0.8) for g in (got["mem"], got["spill"]))
        assert len(xa) >= 1 and np.array_equal(xa, xb) and np.array_equal(ya, yb)
        ga, gb = (_minhash.near_graph(g, 0.8) for g in (got["mem"], got["spill"]))
        assert all(np.array_equal(u, v) for u, v in zip(ga, gb))
    finally:
        mem.close(), tiny.close()
