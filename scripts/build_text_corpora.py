"""Build the real text corpus bundled in ``synthproof.datasets``: Debian ``fortunes`` (run once; outputs are committed).

Source: the Debian packages ``fortunes`` and ``fortunes-min`` (``fortune-mod`` 1.99.1, BSD licence,
Copyright (c) 1991 The Regents of the University of California). Install them on the development
machine only (tests read the committed Parquet file and never need apt)::

    apt-get update && apt-get install -y fortunes

Command (from the repository root, with any Python that has pandas and pyarrow, e.g. the project
environment or ``/work/venv-llm``)::

    python scripts/build_text_corpora.py

Reads every topic file listed by ``dpkg -L fortunes fortunes-min`` under
``/usr/share/games/fortunes/`` (43 files; ``*.dat`` index files and the ``*.u8`` symlinks are
skipped). Records are separated by lines that contain only ``%``. Each record is stripped and kept if
it has at least 5 and at most 120 whitespace-separated words.

Encoding: the files are decoded as UTF-8, falling back to latin-1 for a file that is not valid UTF-8
(latin-1 never fails). In fortunes 1:1.99.1-7.3 every file is valid UTF-8 and only a handful of lines
are non-ASCII (``über``, ``£5``, ``état``, typographic quotes); decoding them as latin-1 would turn
them into mojibake. One record in ``law`` carries mojibake upstream (``HereÃ¢ÂÂs``) and is kept as is.

Then a deterministic, seeded (``SEED``) subset of about ``TARGET`` records is drawn, stratified by
topic: each topic gets its proportional share (largest-remainder rounding, at least one record per
topic, never more than it has), sampled without replacement with ``numpy.random.default_rng(SEED)``
per topic in sorted topic order. Rows are in stable order: sorted by topic file name, then by
position in the file, and ``doc_id`` (``fortunes-000001`` ...) follows that order.

Writes into ``audit/datasets/data/``:

- ``fortunes.parquet``: columns ``doc_id``, ``text``, ``topic`` (strings), zstd level 19.
- ``fortunes.LICENSE``: the Debian copyright file of the package (BSD), copied verbatim.
"""

from __future__ import annotations

import pathlib
import shutil
import subprocess

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

OUT = pathlib.Path(__file__).resolve().parents[1] / "audit" / "datasets" / "data"
FORTUNE_DIR = "/usr/share/games/fortunes/"
COPYRIGHT = pathlib.Path("/usr/share/doc/fortunes/copyright")
SEED = 20261121
TARGET = 6000
MIN_WORDS = 5
MAX_WORDS = 120


def topic_files() -> list[pathlib.Path]:
    """Topic files of ``fortunes`` + ``fortunes-min``, sorted by name (no ``.dat``/``.u8``)."""
    listing = subprocess.run(
        ["dpkg", "-L", "fortunes", "fortunes-min"], check=True, capture_output=True, text=True
    ).stdout.splitlines()
    files = {
        pathlib.Path(line)
        for line in listing
        if line.startswith(FORTUNE_DIR)
        and not line.endswith((".dat", ".u8"))
        and pathlib.Path(line).is_file()
    }
    return sorted(files, key=lambda p: p.name)


def decode(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def read_records(path: pathlib.Path) -> list[str]:
    """Records of one topic file, stripped, in file order, filtered by word count."""
    records: list[str] = []
    current: list[str] = []
    for line in decode(path.read_bytes()).splitlines():
        if line.strip() == "%":
            records.append("\n".join(current))
            current = []
        else:
            current.append(line)
    records.append("\n".join(current))
    out = []
    for rec in records:
        rec = rec.strip()
        if MIN_WORDS <= len(rec.split()) <= MAX_WORDS:
            out.append(rec)
    return out


def allocate(sizes: dict[str, int], target: int) -> dict[str, int]:
    """Proportional allocation with largest-remainder rounding, >= 1 and <= size per topic."""
    total = sum(sizes.values())
    if total <= target:
        return dict(sizes)
    exact = {t: target * n / total for t, n in sizes.items()}
    alloc = {t: min(sizes[t], max(1, int(np.floor(q)))) for t, q in exact.items()}
    # Hand out the remaining slots by largest fractional remainder (ties by topic name).
    order = sorted(exact, key=lambda t: (-(exact[t] - np.floor(exact[t])), t))
    left = target - sum(alloc.values())
    while left > 0:
        progressed = False
        for t in order:
            if left == 0:
                break
            if alloc[t] < sizes[t]:
                alloc[t] += 1
                left -= 1
                progressed = True
        if not progressed:
            break
    return alloc


def main() -> None:
    files = topic_files()
    by_topic = {p.name: read_records(p) for p in files}
    sizes = {t: len(r) for t, r in by_topic.items()}
    alloc = allocate(sizes, TARGET)
    rng = np.random.default_rng(SEED)
    rows = []
    for topic in sorted(by_topic):
        recs = by_topic[topic]
        keep = np.sort(rng.choice(len(recs), size=alloc[topic], replace=False))
        rows.extend((topic, recs[i]) for i in keep)
    df = pd.DataFrame(
        {
            "doc_id": [f"fortunes-{i:06d}" for i in range(1, len(rows) + 1)],
            "text": [text for _, text in rows],
            "topic": [topic for topic, _ in rows],
        }
    )
    schema = pa.schema([("doc_id", pa.large_string()), ("text", pa.large_string()), ("topic", pa.large_string())])
    table = pa.Table.from_pandas(df, schema=schema, preserve_index=False)
    OUT.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, OUT / "fortunes.parquet", compression="zstd", compression_level=19)
    shutil.copyfile(COPYRIGHT, OUT / "fortunes.LICENSE")

    words = df["text"].str.split().str.len()
    print(f"topic files: {len(files)}; records passing the word filter: {sum(sizes.values())}")
    print(f"fortunes: {df.shape}, mean words {words.mean():.1f}, "
          f"size {(OUT / 'fortunes.parquet').stat().st_size} bytes")
    for topic in sorted(sizes):
        print(f"  {topic:15s} {sizes[topic]:5d} -> {alloc[topic]:4d}")


if __name__ == "__main__":
    main()
