"""KGW watermark benchmarks: detection power and false alarms on the committed corpora (with Clopper–
Pearson intervals), and the corpus scan at 100k documents.

    python bench/watermark.py --part roc            # TPR / FPR table of docs/watermark.md
    python bench/watermark.py --part scan --docs 100000

Data: the bundled ``smollm2_watermark`` corpus (SmolLM2-135M-Instruct with and without transformers'
``WatermarkingConfig``; ``scripts/generate_watermark_corpus.py``) and ``human_long`` (Lee news and
Wikipedia documents; ``scripts/build_human_long.py``). The scan part draws 100k documents with
replacement from all three (real texts of ~260 tokens each), so it measures tokenisation and scoring
at scale, not power.
"""

from __future__ import annotations

import argparse
import json
import resource
import time

import numpy as np
from scipy.stats import binomtest

from synthproof.datasets import load, path
from synthproof.provenance.kgw import KGWScheme
from synthproof.provenance.watermark import load_tokenizer, score_texts


def scheme() -> KGWScheme:
    wm = json.loads(path("smollm2_watermark").with_suffix(".json").read_text())["watermark"]
    return KGWScheme(wm["vocab_size"], wm["greenlist_ratio"], wm["hashing_key"], wm["seeding_scheme"],
                     wm["context_width"], ignore_repeated_ngrams=True)  # synthproof's default


def cp(k: int, n: int) -> str:
    ci = binomtest(k, n).proportion_ci(confidence_level=0.95, method="exact")
    return f"{k}/{n} = {k / n:.4f} [{ci.low:.4f}, {ci.high:.4f}]"


def roc(threshold: float, min_tokens: int) -> None:
    tok, _ = load_tokenizer(None)
    sch = scheme()
    d, h = load("smollm2_watermark"), load("human_long")
    s = score_texts(d["text"].tolist(), sch, tok)
    sh = score_texts(h["text"].tolist(), sch, tok)
    marked = d["watermarked"].to_numpy()
    sets = {
        "watermarked (SmolLM2 + WatermarkingConfig)": (s, marked),
        "unwatermarked (same model, same prompts)": (s, ~marked),
        "human: Lee news": (sh, (h["source"] == "lee").to_numpy()),
        "human: Wikipedia": (sh, (h["source"] == "wikipedia").to_numpy()),
    }
    print(f"threshold z > {threshold}; documents of >= {min_tokens} tokens (distinct bigrams scored)")
    for name, (sc, sel) in sets.items():
        ok = sel & (sc["tokens"] >= min_tokens)
        k, n = int((sc["z"][ok] > threshold).sum()), int(ok.sum())
        z = sc["z"][ok]
        print(f"{name:45s} detected {cp(k, n)}; z median {np.median(z):.2f}, min {z.min():.2f}, max {z.max():.2f}")
    neg = np.concatenate([s["z"][~marked & (s["tokens"] >= min_tokens)], sh["z"][sh["tokens"] >= min_tokens]])
    print(f"{'all negatives':45s} false alarms {cp(int((neg > threshold).sum()), neg.size)}")


def scan(n_docs: int) -> None:
    tok, _ = load_tokenizer(None)
    texts = (load("smollm2_watermark")["text"].tolist() + load("human_long")["text"].tolist())
    rng = np.random.default_rng(0)
    docs = [texts[i] for i in rng.integers(0, len(texts), n_docs)]
    t0 = time.perf_counter()
    s = score_texts(docs, scheme(), tok, progress=True, min_tokens=50)
    secs = time.perf_counter() - t0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    print(json.dumps({"part": "scan", "docs": n_docs, "tokens_scored": int(np.nansum(s["tokens_scored"])),
                      "seconds": round(secs, 1), "docs_per_s": round(n_docs / secs),
                      "peak_rss_gib": round(rss, 2)}))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--part", choices=["roc", "scan"], default="roc")
    ap.add_argument("--docs", type=int, default=100_000)
    ap.add_argument("--threshold", type=float, default=4.0)
    ap.add_argument("--min-tokens", type=int, default=200)
    a = ap.parse_args()
    roc(a.threshold, a.min_tokens) if a.part == "roc" else scan(a.docs)


if __name__ == "__main__":
    main()
