"""Text at corpus scale: the default text suite on N real vs N synthetic web-length documents,
streamed out of core, with planted defects.

    python bench/text_outofcore.py --docs 1000000 --memory 4GiB --data /tmp/text1m

Documents of 150–450 words (mean 300) are drawn from an order-1 word Markov chain fitted on the bundled real
fortunes (real words, real word frequencies and transitions; with probability 0.3 a word is drawn
from the unigram distribution instead, so documents do not share long verbatim spans by
accident). The eval set is 1,000 real fortunes of >= 15 words held out of the chain. Planted in
the synthetic side (disjoint documents): 5% near-duplicates of other synthetic documents (1–3
words substituted), 1% verbatim copies of distinct real documents, 1% contaminated documents (an
eval item inserted whole). Shards of 100,000 documents, an id column ``doc_id``.

Runs ``synthproof audit --memory BUDGET`` in a child process (``report.max_row_findings``
100,000 so every offending document is named; a fresh embedding cache) and prints one JSON
object: wall time per pass, of the slowest stages (``bench/_staged.py``: the embeddings and each
check, with the resident set after it) and in all, docs/s per core, peak RSS (``getrusage`` of
the child), and from the findings the
near-duplicate recall (planted pairs with both documents named) and precision (named documents
that are planted), and the planted copies and contaminated documents named.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import re
import resource
import subprocess
import sys
import tempfile
import time

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import yaml

SHARD = 100_000
WORDS = 300


def chain(seed: int = 0):
    """The Markov chain (successor table) fitted on fortunes, and the eval items held out of it."""
    from synthproof.datasets import load
    from synthproof.text import words

    texts = load("fortunes").text.tolist()
    rng = np.random.default_rng(seed)
    long_ = [i for i, t in enumerate(texts) if len(words(t)) >= 15]
    held = set(rng.choice(long_, 1000, replace=False).tolist())
    evals = [texts[i] for i in sorted(held)]
    toks = [w for i, t in enumerate(texts) if i not in held for w in t.split()]
    vocab, codes = np.unique(np.array(toks, dtype=object), return_inverse=True)
    nxt = codes[1:]
    order = np.argsort(codes[:-1], kind="stable")
    succ = nxt[order]
    starts = np.searchsorted(codes[:-1][order], np.arange(len(vocab) + 1))
    return vocab, codes, succ, starts, evals


def generate(n: int, seed: int, model) -> list[str]:
    vocab, codes, succ, starts, _ = model
    rng = np.random.default_rng(seed)
    out = np.empty((n, WORDS * 3 // 2), dtype=np.int64)
    cur = codes[rng.integers(codes.size, size=n)]
    for j in range(out.shape[1]):
        out[:, j] = cur
        cnt = starts[cur + 1] - starts[cur]
        jump = (rng.random(n) < 0.3) | (cnt == 0)
        pick = succ[np.minimum(starts[cur] + (rng.random(n) * np.maximum(cnt, 1)).astype(np.int64), succ.size - 1)]
        cur = np.where(jump, codes[rng.integers(codes.size, size=n)], pick)
    lens = rng.integers(WORDS // 2, WORDS * 3 // 2 + 1, size=n)  # 150 to 450 words, mean 300
    return [" ".join(vocab[row[:k]]) for row, k in zip(out, lens)]


def write(folder: pathlib.Path, docs: list[str], prefix: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for i, lo in enumerate(range(0, len(docs), SHARD)):
        part = docs[lo:lo + SHARD]
        pq.write_table(pa.table({"doc_id": [f"{prefix}{lo + k}" for k in range(len(part))], "text": part}),
                       folder / f"part-{i:05d}.parquet", row_group_size=20_000)


def build(base: pathlib.Path, n: int) -> dict:
    """Write real/, synthetic/, eval.jsonl and plants.json under ``base`` (reused when complete)."""
    done = base / "plants.json"
    if done.exists() and json.loads(done.read_text())["docs"] == n:
        return json.loads(done.read_text())
    model = chain()
    real = generate(n, 1, model)
    syn = generate(n, 2, model)
    rng = np.random.default_rng(7)
    ids = rng.permutation(n)
    k_near, k_copy, k_cont = n // 20, n // 100, n // 100
    src, near = ids[:k_near], ids[k_near:2 * k_near]
    copy, cont = ids[2 * k_near:2 * k_near + k_copy], ids[2 * k_near + k_copy:2 * k_near + k_copy + k_cont]
    vocab = model[0]
    for s, d in zip(src, near):
        w = syn[s].split()
        for p in rng.choice(len(w), int(rng.integers(1, 4)), replace=False):
            w[p] = vocab[rng.integers(len(vocab))]
        syn[d] = " ".join(w)
    real_src = rng.choice(n, k_copy, replace=False)
    for d, r in zip(copy, real_src):
        syn[d] = real[r]
    evals = model[4]
    items = rng.integers(len(evals), size=k_cont)
    for d, it in zip(cont, items):
        w = syn[d].split()
        at = int(rng.integers(len(w)))
        syn[d] = " ".join(w[:at] + [evals[it]] + w[at:])
    write(base / "real", real, "r")
    write(base / "synthetic", syn, "s")
    pd.DataFrame({"question": evals}).to_json(base / "eval.jsonl", orient="records", lines=True)
    plants = {"docs": n, "near": [[int(a), int(b)] for a, b in zip(src, near)], "copy": copy.tolist(),
              "contaminated": cont.tolist()}
    done.write_text(json.dumps(plants))
    return plants


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--docs", type=int, default=1_000_000)
    ap.add_argument("--memory", default="4GiB")
    ap.add_argument("--data", help="folder to keep the data in (reused when complete)")
    args = ap.parse_args()
    tmp = tempfile.TemporaryDirectory()
    base = pathlib.Path(args.data) if args.data else pathlib.Path(tmp.name)
    t0 = time.perf_counter()
    plants = build(base, args.docs)
    gen_s = time.perf_counter() - t0
    cfg = base / "cfg.yaml"
    cfg.write_text(yaml.safe_dump({"text": {"eval_sets": [str(base / "eval.jsonl")]},
                                   "resources": {"out_of_core": "on"}, "report": {"max_row_findings": 100_000}}))
    out = pathlib.Path(tmp.name) / "out"
    cmd = [sys.executable, str(pathlib.Path(__file__).with_name("_staged.py")), "audit", "--real", str(base / "real"),
           "--synthetic", str(base / "synthetic"), "--config", str(cfg), "--out", str(out), "--memory", args.memory]
    env = dict(os.environ, SYNTHPROOF_CACHE_DIR=str(pathlib.Path(tmp.name) / "embeddings"))  # no warm cache
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    stdout, stderr = proc.communicate()
    wall = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 2**20  # KiB -> GiB
    passes = [ln for ln in stderr.splitlines() if ln.endswith(", done")]
    stages = {m.group(1): [float(m.group(2)), float(m.group(3))] for m in
              (re.match(r"stage (\S+) ([\d.]+) s, rss ([\d.]+) GiB$", ln) for ln in stderr.splitlines()) if m}
    result = {"docs_per_side": args.docs, "memory": args.memory, "wall_s": round(wall, 1),
              "docs_per_s_per_core": round(2 * args.docs / wall / (os.cpu_count() or 1)),
              "peak_rss_gib": round(peak, 3), "exit": proc.returncode, "data_gen_s": round(gen_s, 1), "passes": passes,
              "slowest_stages_s_rss_gib": dict(sorted(stages.items(), key=lambda kv: -kv[1][0])[:12])}
    if proc.returncode in (0, 1):
        f = pd.read_parquet(out / "findings.parquet")
        result.update(score(f, plants))
        result["failing_checks"] = sorted(set(f[f.status == "fail"].check_id))
    else:
        result["stderr"] = stderr[-2000:]
    print(json.dumps(result, indent=1))


def _named(f: pd.DataFrame, check: str, metric: str | None = None) -> set[int]:
    rows = f[(f.check_id == check) & (f.scope == "row")]
    if metric is not None:
        rows = rows[rows.metric == metric]
    return {int(m.group(1)) for m in (re.match(r"doc_id=s(\d+)$", str(r)) for r in rows.row_id) if m}


def score(f: pd.DataFrame, plants: dict) -> dict:
    """Recall and precision of the named documents against the planted ones."""
    near = _named(f, "duplication.text_near_duplicates")
    pairs = plants["near"]
    planted = {d for p in pairs for d in p}
    copies = _named(f, "duplication.text_memorisation", "real_copy_rate")
    cont = _named(f, "duplication.contamination")
    return {
        "near_duplicates": {"planted_pairs": len(pairs), "named_documents": len(near),
                            "recall": round(sum(a in near and b in near for a, b in pairs) / max(len(pairs), 1), 4),
                            "precision": round(len(near & planted) / max(len(near), 1), 4)},
        "copies": {"planted": len(plants["copy"]), "named": len(copies & set(plants["copy"])),
                   "named_not_planted": len(copies - set(plants["copy"]))},
        "contaminated": {"planted": len(plants["contaminated"]), "named": len(cont & set(plants["contaminated"])),
                         "named_not_planted": len(cont - set(plants["contaminated"]))},
    }


if __name__ == "__main__":
    main()
