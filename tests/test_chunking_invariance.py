"""Same findings whatever the file layout: one file, seven shards, small and large row groups
(issue 12 acceptance, on bundled real data). Samples are keyed by row id, never by batch or file."""

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import synthproof

from .conftest import real_real


def _layouts(df: pd.DataFrame, root, stem: str) -> dict[str, str]:
    table = pa.Table.from_pandas(df, preserve_index=False)
    out = {}
    one = root / f"{stem}.parquet"
    pq.write_table(table, one)
    out["one file"] = str(one)
    small = root / f"{stem}-rg.parquet"
    pq.write_table(table, small, row_group_size=37)
    out["row groups of 37"] = str(small)
    shards = root / f"{stem}-shards"
    shards.mkdir()
    edges = np.linspace(0, table.num_rows, 8).astype(int)
    for i, (a, b) in enumerate(zip(edges[:-1], edges[1:])):
        pq.write_table(table.slice(a, b - a), shards / f"part-{i:05d}.parquet", row_group_size=50)
    out["seven shards"] = str(shards)
    return out


def _findings(real, synthetic, holdout=None, config=None) -> pd.DataFrame:
    res = synthproof.audit(real, synthetic, holdout=holdout, config=config, seed=3)
    return res.findings.reset_index(drop=True)


@pytest.mark.slow
def test_table_findings_do_not_depend_on_the_file_layout(tmp_path, adult):
    real, synthetic = real_real(adult, 400, 5)
    hold = real_real(adult, 1200, 6)[1].iloc[:400].reset_index(drop=True)
    r, s, h = (_layouts(d, tmp_path, n) for d, n in ((real, "real"), (synthetic, "syn"), (hold, "hold")))
    ref = _findings(r["one file"], s["one file"], h["one file"])
    assert len(ref) > 100 and (ref.status != "error").all()
    for layout in ("row groups of 37", "seven shards"):
        got = _findings(r[layout], s[layout], h[layout])
        pd.testing.assert_frame_equal(got, ref, obj=layout)
    # ...and equal to the in-memory frames (row ids are row positions, whatever the source), but for
    # provenance.signature, which says that an in-memory frame is not a file it could look a manifest up for.
    mem = _findings(real, synthetic, hold)
    keep = ref.check_id != "provenance.signature"
    assert (mem.check_id != "provenance.signature").equals(keep)
    pd.testing.assert_frame_equal(mem[keep].reset_index(drop=True), ref[keep].reset_index(drop=True), obj="pandas")


@pytest.mark.slow
def test_text_findings_do_not_depend_on_the_file_layout(tmp_path, fortunes):
    pytest.importorskip("sentence_transformers")
    perm = np.random.default_rng(1).permutation(len(fortunes))
    real = fortunes.iloc[perm[:300]].reset_index(drop=True)
    synthetic = fortunes.iloc[perm[300:600]].reset_index(drop=True)
    cfg = {"text": {"embedding": {"max_docs": 200}}}  # the embedding sample is a bottom-k of 300
    r, s = _layouts(real, tmp_path, "real"), _layouts(synthetic, tmp_path, "syn")
    ref = _findings(r["one file"], s["one file"], config=cfg)
    assert (ref.check_id == "drift.text_mmd").any() and (ref.status != "error").all()
    got = _findings(r["seven shards"], s["seven shards"], config=cfg)
    pd.testing.assert_frame_equal(got, ref, obj="seven shards")
