"""Text-audit benchmarks: the default text suite on 100k documents, embedding throughput against the
raw encoder, and MinHash near-duplicate detection against plain datasketch code.

    python bench/text.py --docs 100000            # all three parts (prints JSON lines)
    python bench/text.py --part minhash --docs 100000
    python bench/text.py --part curve                # the Jaccard-vs-edits curve of docs/text.md

Data: real text only. Documents are two random 20-word windows of the bundled Debian fortunes
(100k distinct 40-word documents); "synthetic" and "real" are independent seeded draws. The MinHash
part plants near-duplicates: 5% of the documents get a copy with 1-3 words substituted by random
vocabulary words (the acceptance's "planted 1-3-word edits of ~40-word documents").
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import time

import numpy as np
import pandas as pd

from synthproof.datasets import load


def corpus(n: int, seed: int) -> list[str]:
    """``n`` 40-word documents: two 20-word windows at random places of the bundled fortunes (all
    joined into one stream of ~145k words). Two documents share at most one window, so no pair
    reaches a word-2-gram Jaccard similarity of 0.5 unless planted."""
    stream = " ".join(load("fortunes").text).split()
    rng = np.random.default_rng(seed)
    p, q = rng.integers(0, len(stream) - 20, n), rng.integers(0, len(stream) - 20, n)
    return [" ".join(stream[i:i + 20] + stream[j:j + 20]) for i, j in zip(p, q)]


def rss_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


def part_suite(n: int) -> dict:
    import pyarrow as pa

    from synthproof.config import parse_config
    from synthproof.context import AuditContext
    from synthproof.runner import gating_alpha, run_check
    from synthproof.schema import prepare

    real, syn = pd.DataFrame({"text": corpus(n, 1)}), pd.DataFrame({"text": corpus(n, 2)})
    cfg = parse_config({"text": {"embedding": {"cache": False}}})
    checks = [c for c in cfg.build_checks() if c.applicable(prepare(pa.table({"text": ["a b c d e f"] * 3}),
                                                                        pa.table({"text": ["a b c d e f"] * 3}), None))
              and (c.id.startswith(("drift.text", "diversity.text", "duplication.text", "bias.text", "validity.text")))]
    t0 = time.perf_counter()
    data = prepare(pa.Table.from_pandas(real), pa.Table.from_pandas(syn), None)
    ctx = AuditContext(data=data, seed=0, settings=cfg, alpha=gating_alpha(checks, 0.05, data), progress=True)
    stages = {"prepare": time.perf_counter() - t0}
    t = time.perf_counter()
    for side in ("real", "synthetic"):
        ctx.text("text", side).tokens  # noqa: B018 - tokenise once, shared by the checks
    stages["tokenise"] = time.perf_counter() - t
    t = time.perf_counter()
    emb = {side: ctx.embeddings("text", side) for side in ("real", "synthetic")}
    stages["embed"] = time.perf_counter() - t
    embedded = sum(len(e[0]) for e in emb.values())
    for c in checks:
        t = time.perf_counter()
        out = run_check(c, ctx)
        stages[c.id] = time.perf_counter() - t
        if any(f.status == "error" for f in out):
            raise SystemExit(f"{c.id} errored: {[f.message for f in out if f.status == 'error']}")
    total = sum(stages.values())
    per_doc = stages["embed"] / embedded
    return {"part": "suite", "docs_per_side": n, "embedded_per_side": embedded // 2,
            "seconds": {k: round(v, 2) for k, v in stages.items()}, "total_s": round(total, 1),
            "extrapolated_uncapped_total_s": round(total + per_doc * (2 * n - embedded), 1),
            "peak_rss_gib": round(rss_gib(), 2)}


def part_embed(n: int) -> dict:
    """Embedding throughput: synthproof's Embedder (device and dtype ``auto``) against the raw
    sentence-transformers encoder in float32 and in bfloat16 (where the machine has it), same
    texts, same batch size, same run; and the agreement of the auto vectors with float32."""
    import numpy as np
    import torch
    from sentence_transformers import SentenceTransformer

    from synthproof.embed import Embedder, bf16_supported, default_model_path

    docs = corpus(n, 3)
    e = Embedder(use_cache=False)
    out = {"part": "embed", "docs": n, "device": e.device, "auto_dtype": e.dtype,
           "torch_threads": torch.get_num_threads(), "batch_size": 64}
    raws = {"float32": SentenceTransformer(str(default_model_path()), device=e.device)}
    if bf16_supported(e.device):
        raws["bfloat16"] = SentenceTransformer(str(default_model_path()), device=e.device,
                                               model_kwargs={"dtype": torch.bfloat16})
    ref = None
    for name, model in raws.items():
        model.encode(docs[:256], batch_size=64)  # warm-up
        t = time.perf_counter()
        v = model.encode(docs, batch_size=64, convert_to_numpy=True, normalize_embeddings=True)
        out[f"raw_{name}_docs_per_s"] = round(n / (time.perf_counter() - t), 1)
        if name == "float32":
            ref = np.asarray(v, dtype=np.float32)
    e.model.encode(docs[:256], batch_size=64)  # warm-up
    t = time.perf_counter()
    got = e.encode(docs).vectors
    ours = time.perf_counter() - t
    out["synthproof_docs_per_s"] = round(n / ours, 1)
    out["synthproof_vs_raw_same_dtype"] = round(out["synthproof_docs_per_s"] / out[f"raw_{e.dtype}_docs_per_s"], 3)
    out["speedup_vs_raw_float32"] = round(out["synthproof_docs_per_s"] / out["raw_float32_docs_per_s"], 3)
    cos = np.sum(got * ref, axis=1)
    out["cosine_to_float32_min"], out["cosine_to_float32_median"] = round(float(cos.min()), 5), round(float(np.median(cos)), 5)
    return out


def planted(n: int, seed: int = 4) -> tuple[list[list[str]], set[tuple[int, int]]]:
    from synthproof.text import words

    docs = [words(t) for t in corpus(n, seed)]
    vocab = sorted({w for d in docs[:5000] for w in d})
    rng = np.random.default_rng(seed)
    truth = set()
    for src in rng.choice(n, n // 20, replace=False):
        d = list(docs[src])
        for p in rng.choice(len(d), int(rng.integers(1, 4)), replace=False):
            d[p] = vocab[int(rng.integers(len(vocab)))]
        truth.add((int(src), len(docs)))
        docs.append(d)
    return docs, truth


def score(pairs: set[tuple[int, int]], truth: set[tuple[int, int]], docs, ngram: int,
          threshold: float) -> tuple[float, float, float]:
    """Recall of the planted pairs; precision against the planted pairs; and precision against the
    truth "planted, or exact Jaccard of the method's shingles >= its threshold" (the base corpus has
    a few real near-duplicates: fortunes that are mostly version numbers)."""
    def grams(d):
        return {tuple(d[i:i + ngram]) for i in range(max(len(d) - ngram + 1, 1))}

    tp = len(pairs & truth)
    near = sum(1 for i, j in pairs - truth
               if len(grams(docs[i]) & grams(docs[j])) / len(grams(docs[i]) | grams(docs[j])) >= threshold)
    n = max(len(pairs), 1)
    return tp / len(truth), tp / n, (tp + near) / n


def part_minhash(n: int) -> list[dict]:
    from datasketch import MinHash, MinHashLSH

    from synthproof.stats.tokens import encode_corpora
    from synthproof.checks.duplication import _minhash

    docs, truth = planted(n)
    out = []
    # plain datasketch: MinHash.bulk + MinHashLSH, word 5-gram shingles, threshold 0.8 (its fastest path)
    for ngram, threshold in [(5, 0.8), (2, 0.5)]:
        t = time.perf_counter()
        sets = [[" ".join(d[i:i + ngram]).encode() for i in range(max(len(d) - ngram + 1, 1))] for d in docs]
        mhs = MinHash.bulk(sets, num_perm=128)
        lsh = MinHashLSH(threshold=threshold, num_perm=128)
        with lsh.insertion_session() as s:
            for i, m in enumerate(mhs):
                s.insert(i, m, check_duplication=False)
        pairs = set()
        for i, m in enumerate(mhs):
            for j in lsh.query(m):
                if j != i and m.jaccard(mhs[j]) >= threshold:
                    pairs.add((min(i, j), max(i, j)))
        dt = time.perf_counter() - t
        rec, prec, prec_exact = score(pairs, truth, docs, ngram, threshold)
        out.append({"part": "minhash", "impl": "datasketch plain", "shingles": f"word {ngram}-grams",
                    "threshold": threshold, "docs": len(docs), "seconds": round(dt, 2), "docs_per_s": round(len(docs) / dt),
                    "recall": round(rec, 4), "precision_planted": round(prec, 4), "precision": round(prec_exact, 4)})
    t = time.perf_counter()
    (codes,) = encode_corpora(docs)
    sig = _minhash.signatures(*_minhash.shingle_hashes(codes, 2))
    found, _ = _minhash.near_pairs(sig, 0.5)
    dt = time.perf_counter() - t
    rec, prec, prec_exact = score(set(map(tuple, found.tolist())), truth, docs, 2, 0.5)
    out.append({"part": "minhash", "impl": "synthproof", "shingles": "word 2-grams", "threshold": 0.5,
                "docs": len(docs), "seconds": round(dt, 2), "docs_per_s": round(len(docs) / dt), "recall": round(rec, 4),
                "precision_planted": round(prec, 4), "precision": round(prec_exact, 4)})
    out.extend(part_bias())
    return out


def part_bias(n_pairs: int = 3200, seed: int = 0) -> list[dict]:
    """Per-Jaccard-bucket bias (mean estimate - exact) of 128-permutation MinHash on real pairs:
    fortunes + SmolLM2 documents (15-200 words) against a copy with 2-45% of the words replaced;
    exact Jaccard of the word 2-gram sets. Keys: synthproof's (64-bit polynomial n-gram key folded
    to 32 bits); a splitmix64-finalised key (high 32 bits); and plain datasketch
    (``MinHash(128, seed=1)``, sha1 of the shingle strings, same affine32 permutations)."""
    from datasketch import MinHash

    from synthproof.stats.tokens import encode_corpora
    from synthproof.checks.duplication import _minhash
    from synthproof.checks.duplication._text_pairs import doc_ngram_keys
    from synthproof.text import words

    docs = [words(t) for t in list(load("fortunes").text) + list(load("fortunes_smollm2").text)]
    docs = [d for d in docs if 15 <= len(d) <= 200]
    rng = np.random.default_rng(seed)
    vocab = sorted({w for d in docs for w in d})
    base, edited = [], []
    for i in rng.choice(len(docs), n_pairs, replace=False):
        e = list(docs[i])
        for p in rng.choice(len(e), max(1, int(round(rng.uniform(0.02, 0.45) * len(e)))), replace=False):
            e[p] = vocab[int(rng.integers(len(vocab)))]
        base.append(docs[i])
        edited.append(e)
    grams = [{" ".join(d[i:i + 2]) for i in range(len(d) - 1)} for d in base + edited]
    exact = np.array([len(grams[i] & grams[n_pairs + i]) / len(grams[i] | grams[n_pairs + i])
                      for i in range(n_pairs)])
    (codes,) = encode_corpora(base + edited)
    keys, owner = doc_ngram_keys(codes, 2)

    def per_doc(v):
        order = np.lexsort((v, owner))
        o, v = owner[order], v[order]
        keep = np.ones(v.size, dtype=bool)
        keep[1:] = (o[1:] != o[:-1]) | (v[1:] != v[:-1])
        return v[keep], np.searchsorted(o[keep], np.arange(2 * n_pairs + 1)).astype(np.int64)

    def splitmix_hi32(z):
        with np.errstate(over="ignore"):
            z = z ^ (z >> np.uint64(30))
            z = z * np.uint64(0xBF58476D1CE4E5B9)
            z = z ^ (z >> np.uint64(27))
            z = z * np.uint64(0x94D049BB133111EB)
            z = z ^ (z >> np.uint64(31))
        return (z >> np.uint64(32)).astype(np.uint32)

    sigs = {"synthproof (folded polynomial key)": _minhash.signatures(*_minhash.shingle_hashes(codes, 2)),
            "splitmix64 key, high 32 bits": _minhash.signatures(*per_doc(splitmix_hi32(keys)))}
    ds = []
    for g in grams:
        m = MinHash(num_perm=128, seed=1)
        m.update_batch([x.encode() for x in g])
        ds.append(np.asarray(m.hashvalues, dtype=np.uint32))
    sigs["datasketch, sha1 of shingle strings"] = np.stack(ds)
    out = []
    for name, sig in sigs.items():
        est = _minhash.estimated_jaccard(sig[:n_pairs], sig[n_pairs:])
        row = {"part": "minhash_bias", "keys": name, "pairs": n_pairs}
        for lo, hi in [(0.1, 0.3), (0.3, 0.5), (0.5, 0.7), (0.7, 0.95)]:
            m = (exact >= lo) & (exact < hi)
            row[f"bias[{lo},{hi})"] = round(float(np.mean(est[m] - exact[m])), 4)
            row[f"n[{lo},{hi})"] = int(m.sum())
        out.append(row)
    return out


def part_curve(n: int = 2000) -> list[dict]:
    """Jaccard similarity of a 30-word document and a copy with k words substituted, per shingling,
    and the share of such copies our defaults (word 2-grams, 128 permutations, 0.5) detect."""
    from synthproof.stats.tokens import encode_corpora
    from synthproof.checks.duplication import _minhash
    from synthproof.text import words

    stream = " ".join(load("fortunes").text).split()
    rng = np.random.default_rng(5)
    vocab = sorted(set(words(" ".join(stream[:50_000]))))
    base = [words(" ".join(stream[i:i + 40]))[:30] for i in rng.integers(0, len(stream) - 40, n)]

    def shingles(d, kind, k):
        if kind == "char":
            s = " ".join(d)
            return {s[i:i + k] for i in range(len(s) - k + 1)}
        return {" ".join(d[i:i + k]) for i in range(len(d) - k + 1)}

    out = []
    for edits in range(0, 7):
        edited = []
        for d in base:
            d = list(d)
            for p in rng.choice(len(d), edits, replace=False):
                d[p] = vocab[int(rng.integers(len(vocab)))]
            edited.append(d)
        row = {"part": "curve", "words": 30, "edits": edits}
        for kind, k in [("word", 1), ("word", 2), ("word", 3), ("word", 5), ("char", 5)]:
            js = [len(shingles(a, kind, k) & shingles(b, kind, k)) / len(shingles(a, kind, k) | shingles(b, kind, k))
                  for a, b in zip(base, edited)]
            row[f"jaccard_{kind}{k}"] = round(float(np.mean(js)), 3)
        (codes,) = encode_corpora(base + edited)
        sig = _minhash.signatures(*_minhash.shingle_hashes(codes, 2))
        pairs, _ = _minhash.near_pairs(sig, 0.5, side=np.arange(2 * n) >= n)
        found = {(int(a), int(b)) for a, b in pairs.tolist()}
        row["detected_by_defaults"] = round(sum((i, n + i) in found for i in range(n)) / n, 3)
        out.append(row)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--docs", type=int, default=100_000)
    ap.add_argument("--part", choices=["all", "suite", "embed", "minhash", "curve"], default="all")
    ap.add_argument("--embed-docs", type=int, default=5000, help="documents for the throughput comparison")
    args = ap.parse_args()
    print(json.dumps({"cpus": os.cpu_count(), "date": time.strftime("%Y-%m-%d")}))
    if args.part in ("all", "curve"):
        for row in part_curve():
            print(json.dumps(row), flush=True)
    if args.part in ("all", "minhash"):
        for row in part_minhash(args.docs):
            print(json.dumps(row), flush=True)
    if args.part in ("all", "embed"):
        print(json.dumps(part_embed(args.embed_docs)), flush=True)
    if args.part in ("all", "suite"):
        print(json.dumps(part_suite(args.docs)), flush=True)


if __name__ == "__main__":
    main()
