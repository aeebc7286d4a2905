"""SynthID-Text benchmarks: detection power and false alarms on the committed corpora, with
Clopper–Pearson intervals, for the mean and weighted-mean g-value scores, and the power curve over
document length (the first L tokens of each watermarked document).

    python bench/synthid.py                 # the tables of docs/watermark.md (SynthID-Text)
    python bench/synthid.py --docs 20000    # also time a scan of 20k documents

Data: ``smollm2_synthid`` (192 SmolLM2-135M-Instruct documents watermarked by transformers'
``SynthIDTextWatermarkingConfig``; ``scripts/generate_synthid_corpus.py``) against the unwatermarked
SmolLM2 documents of ``smollm2_watermark`` (same model, prompts and sampling), ``fortunes_smollm2``,
``human_long`` (Lee news, Wikipedia) and ``fortunes``.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
from scipy.stats import binomtest

from synthproof.datasets import load, path
from synthproof.provenance.synthid import SynthIDScheme, scores
from synthproof.provenance.watermark import SynthIDTextScorer, load_tokenizer


def scheme(score: str) -> SynthIDScheme:
    wm = json.loads(path("smollm2_synthid").with_suffix(".json").read_text())["watermark"]
    return SynthIDScheme(keys=tuple(wm["keys"]), ngram_len=wm["ngram_len"], sampling_table_size=wm["sampling_table_size"],
                         sampling_table_seed=wm["sampling_table_seed"],
                         context_history_size=wm["context_history_size"], score=score, vocab_size=wm["vocab_size"])


def cp(k: int, n: int) -> str:
    ci = binomtest(k, n).proportion_ci(confidence_level=0.95, method="exact")
    return f"{k}/{n} = {k / n:.4f} [{ci.low:.4f}, {ci.high:.4f}]"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--z", type=float, default=3.72, help="per-document threshold (3.72: one-sided p = 1e-4)")
    ap.add_argument("--min-tokens", type=int, default=50)
    ap.add_argument("--docs", type=int, default=0, help="also time a scan of this many documents")
    args = ap.parse_args()
    tok, _ = load_tokenizer(None)
    kgw = load("smollm2_watermark")
    sets = {"SynthID-watermarked SmolLM2": load("smollm2_synthid")["text"].tolist(),
            "unwatermarked SmolLM2 (KGW corpus)": kgw.loc[~kgw["watermarked"], "text"].tolist(),
            "unwatermarked SmolLM2 (fortunes prompts)": load("fortunes_smollm2")["text"].tolist(),
            "human_long (news, Wikipedia)": load("human_long")["text"].tolist(),
            "fortunes": load("fortunes")["text"].tolist()}
    for score in ("weighted_mean", "mean"):
        print(f"\n## score = {score}; detected: z > {args.z}; documents of >= {args.min_tokens} scored positions")
        print("| corpus | documents | mean z | SD z | max z | detected (95% CI) |")
        print("|---|---|---|---|---|---|")
        null = []
        for name, texts in sets.items():
            sc = SynthIDTextScorer(scheme(score), tok, min_tokens=args.min_tokens)
            sc.add(texts)
            z = sc.result()["z"]
            z = z[~np.isnan(z)]
            if not name.startswith("SynthID"):
                null.append(z)
            print(f"| {name} | {len(z)} | {z.mean():.3f} | {z.std():.3f} | {z.max():.2f} | {cp(int((z > args.z).sum()), len(z))} |")
        z = np.concatenate(null)
        print(f"| all unwatermarked | {len(z)} | {z.mean():.3f} | {z.std():.3f} | {z.max():.2f} | "
              f"{cp(int((z > args.z).sum()), len(z))} |")
        ids = [np.asarray(x, dtype=np.int64) for x in load("smollm2_synthid")["token_ids"]]
        print("\n| first L tokens | TPR (95% CI) | median z |\n|---|---|---|")
        for L in (10, 15, 25, 50, 100, 200):
            zz = scores([x[:L] for x in ids], scheme(score))["z"]
            print(f"| {L} | {cp(int((zz > args.z).sum()), len(zz))} | {np.median(zz):.2f} |")
    if args.docs:
        pool = [t for texts in sets.values() for t in texts]
        rng = np.random.default_rng(0)
        texts = [pool[i] for i in rng.integers(0, len(pool), args.docs)]
        t0 = time.perf_counter()
        sc = SynthIDTextScorer(scheme("weighted_mean"), tok)
        for i in range(0, len(texts), 4096):
            sc.add(texts[i: i + 4096])
        r = sc.result()
        secs = time.perf_counter() - t0
        print(f"\nscan: {args.docs} documents, {int(r['tokens'].sum()):,} tokens in {secs:.1f} s "
              f"({args.docs / secs:,.0f} documents/s)")


if __name__ == "__main__":
    main()
