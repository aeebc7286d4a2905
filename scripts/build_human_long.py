"""Build the long human-written negatives for the watermark tests (run once; the output is committed).

Sources, both shipped inside the ``gensim`` wheel (LGPL-2.1 package; read, never imported at test time):

- the Lee news corpus, ``gensim/test/test_data/lee_background.cor``: 300 ABC (Australian Broadcasting
  Corporation) news documents, one per line (Lee, Pincombe & Welsh 2005, the corpus of "An empirical
  evaluation of models of text document similarity");
- a shortened English Wikipedia dump, ``enwiki-latest-pages-articles1.xml-p000000010p000030302-
  shortened.bz2`` (CC BY-SA 4.0), parsed with ``gensim.corpora.wikicorpus.extract_pages`` and
  ``filter_wiki``; an article's paragraphs of >= 30 words are joined in order, and cut into documents
  at paragraph boundaries once a document reaches ``MIN_TOKENS`` tokens.

Only documents of at least ``MIN_TOKENS`` SmolLM2 tokens (the bundled ``smollm2_tokenizer``, no special
tokens) are kept; at most ``MAX_WIKI`` Wikipedia documents, in dump order. Run in an environment with
gensim and tokenizers::

    python3.11 -m venv /work/venv-gensim
    /work/venv-gensim/bin/pip install gensim pyarrow tokenizers==0.23.3
    /work/venv-gensim/bin/python scripts/build_human_long.py

Writes ``audit/datasets/data/human_long.parquet``: ``doc_id``, ``text``, ``source`` (``lee`` or
``wikipedia``), ``title`` (Wikipedia article title, null for Lee), ``tokens`` (SmolLM2 tokens).
"""

from __future__ import annotations

import bz2
import os
import pathlib
import re

import pyarrow as pa
import pyarrow.parquet as pq
from gensim.corpora.wikicorpus import extract_pages, filter_wiki
from gensim.test.utils import datapath
from tokenizers import Tokenizer

DATA = pathlib.Path(__file__).resolve().parents[1] / "audit" / "datasets" / "data"
MIN_TOKENS = 200
MAX_WIKI = 400
WIKI = "enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2"


def main() -> None:
    tok = Tokenizer.from_file(str(DATA / "smollm2_tokenizer" / "tokenizer.json"))
    count = lambda t: len(tok.encode(t, add_special_tokens=False).ids)  # noqa: E731
    rows = []
    with open(datapath("lee_background.cor"), encoding="utf-8", errors="replace") as fh:
        for i, line in enumerate(fh):
            text = line.strip()
            n = count(text)
            if n >= MIN_TOKENS:
                rows.append({"doc_id": f"lee-{i:04d}", "text": text, "source": "lee", "title": None, "tokens": n})
    wiki = 0
    with bz2.open(os.path.join(os.path.dirname(datapath("lee_background.cor")), WIKI)) as fh:
        for title, body, _pid in extract_pages(fh):
            if wiki >= MAX_WIKI or ":" in title:
                continue
            paras = [re.sub(r"\s+", " ", p).strip() for p in filter_wiki(body).split("\n")]
            paras = [p for p in paras if len(p.split()) >= 30 and not p.startswith(("|", "{", "!"))]
            doc: list[str] = []
            for p in paras:
                doc.append(p)
                text = " ".join(doc)
                n = count(text)
                if n >= MIN_TOKENS:
                    rows.append({"doc_id": f"wiki-{wiki:04d}", "text": text, "source": "wikipedia",
                                 "title": title, "tokens": n})
                    wiki += 1
                    doc = []
                    if wiki >= MAX_WIKI:
                        break
    table = pa.table({
        "doc_id": pa.array([r["doc_id"] for r in rows], pa.large_string()),
        "text": pa.array([r["text"] for r in rows], pa.large_string()),
        "source": pa.array([r["source"] for r in rows], pa.large_string()),
        "title": pa.array([r["title"] for r in rows], pa.large_string()),
        "tokens": pa.array([r["tokens"] for r in rows], pa.int32()),
    })
    pq.write_table(table, DATA / "human_long.parquet", compression="zstd", compression_level=19)
    by = {s: sum(r["source"] == s for r in rows) for s in ("lee", "wikipedia")}
    print(f"human_long: {len(rows)} documents {by}, tokens min {min(r['tokens'] for r in rows)}")


if __name__ == "__main__":
    main()
