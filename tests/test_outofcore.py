"""Out of core: artefacts built chunk by chunk equal the in-memory reference and do not depend on
the cut; streamed runs give the in-memory findings; bad input mid-stream exits 2 and publishes
nothing; the memory budget and the progress lines (issue 12)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import synthproof
from synthproof.context import _values
from synthproof.encode import MAX_BINS, category_codes, coarse_from_fine, column_counts, numeric_codes, pair_codes
from synthproof.errors import ConfigError
from synthproof.plan import columns as pc
from synthproof.plan import outofcore
from synthproof.plan.columns import Chunk, build_columns, frame_chunks
from synthproof.schema import prepare
from synthproof.subgroups import SubgroupSpec

from .conftest import real_real

SHAPES_PAIRS = {"suite": "listed", "checks": {"drift.ks": {}, "drift.tvd": {}, "drift.pair_association": {}}}


def _prepared(real: pd.DataFrame, syn: pd.DataFrame):
    return prepare(pa.Table.from_pandas(real, preserve_index=False), pa.Table.from_pandas(syn, preserve_index=False),
                   None)


def _same(a, b) -> None:
    assert a.counts.keys() == b.counts.keys()
    for c in a.counts:
        x, y = a.counts[c], b.counts[c]
        for f in ("support", "real", "synthetic", "deciles"):
            assert np.array_equal(getattr(x, f), getattr(y, f)), (c, f)
        assert (x.scale, x.exact, x.kind) == (y.scale, y.exact, y.kind), c
        assert np.array_equal(a.maps[c].coarse, b.maps[c].coarse), c
    assert a.pairs.keys() == b.pairs.keys()
    for p in a.pairs:
        assert np.array_equal(a.pairs[p][0], b.pairs[p][0]) and np.array_equal(a.pairs[p][1], b.pairs[p][1]), p
    if a.subgroups is not None or b.subgroups is not None:
        x, y = a.subgroups, b.subgroups
        assert x.sensitive == y.sensitive and x.maps.keys() == y.maps.keys()
        for c in x.maps:
            assert x.maps[c].labels == y.maps[c].labels and np.array_equal(x.maps[c].edges, y.maps[c].edges), c
        assert len(x.partitions) == len(y.partitions)
        for p, q in zip(x.partitions, y.partitions):
            assert p.labels == q.labels and np.array_equal(p.keys, q.keys), p.columns
            assert np.array_equal(p.real, q.real) and np.array_equal(p.synthetic, q.synthetic), p.columns
            assert p.tables.keys() == q.tables.keys() and (p.target is None) == (q.target is None)
            for t, u in [*((p.tables[c], q.tables[c]) for c in p.tables), *([(p.target, q.target)] if p.target else [])]:
                assert np.array_equal(t[0], u[0]) and np.array_equal(t[1], u[1]), p.columns


def test_column_artefacts_equal_the_in_memory_reference(adult):
    d = _prepared(adult.iloc[:20000].reset_index(drop=True), adult.iloc[20000:].reset_index(drop=True))
    cols = d.features
    art = build_columns(frame_chunks({"real": d.real, "synthetic": d.synthetic}, cols), d.roles, cols, 0, cols)
    assert len(art.pairs) == len(cols) * (len(cols) - 1) // 2
    for c in cols:
        r, s = _values(d.real[c]), _values(d.synthetic[c])
        numeric = d.roles[c] in ("numeric", "datetime")
        codes = numeric_codes(r, s, MAX_BINS, 0) if numeric else category_codes(r, s)
        ref = column_counts(r, s, d.roles[c], 0, codes)
        got = art.counts[c]
        for f in ("support", "real", "synthetic", "deciles"):
            assert np.array_equal(getattr(got, f), getattr(ref, f)), (c, f)
        assert got.exact == ref.exact and got.scale == pytest.approx(ref.scale, rel=1e-12), c
        want = coarse_from_fine(*codes) if numeric else pair_codes(r, s, d.roles[c], 0, codes)
        m = art.maps[c]
        assert np.array_equal(m.coarse[m.fine(r)], want[0]) and np.array_equal(m.coarse[m.fine(s)], want[1])
        assert m.n_coarse == want[2], c
    a, b = cols[0], cols[3]
    ra, sa, ka = want_a = coarse_from_fine(*numeric_codes(_values(d.real[a]), _values(d.synthetic[a]), MAX_BINS, 0))
    rb, sb, kb = pair_codes(_values(d.real[b]), _values(d.synthetic[b]), d.roles[b])
    assert want_a[2] == ka
    assert np.array_equal(art.pairs[(a, b)][0], np.bincount(ra * kb + rb, minlength=ka * kb).reshape(ka, kb))
    assert np.array_equal(art.pairs[(a, b)][1], np.bincount(sa * kb + sb, minlength=ka * kb).reshape(ka, kb))


def _cut_chunks(frames: dict, cols: list[str], cuts: dict):
    def gen():
        for side in ("synthetic", "real"):  # any order of sides and chunks
            df = frames[side]
            edges = [0] + sorted(set(cuts[side]) & set(range(1, len(df)))) + [len(df)]
            for a, b in reversed(list(zip(edges[:-1], edges[1:]))):
                vals = {c: (df[c].array[a:b] if isinstance(df[c].dtype, pd.CategoricalDtype)
                            else df[c].to_numpy()[a:b]) for c in cols}
                yield Chunk(side, a, vals, b - a)

    return gen


@settings(max_examples=40, deadline=None)
@given(n_r=st.integers(1, 120), n_s=st.integers(1, 120), seed=st.integers(0, 2**16),
       cuts_r=st.lists(st.integers(1, 119), max_size=6), cuts_s=st.lists(st.integers(1, 119), max_size=6))
def test_artefacts_do_not_depend_on_the_cut(n_r, n_s, seed, cuts_r, cuts_s):
    with pytest.MonkeyPatch.context() as mp:
        # A small edge sample and few bins, so that the sample path (non-exact bins, a bottom-k
        # that evicts) and the distinct-value overflow run on small data.
        mp.setattr(pc, "EDGE_SAMPLE", 40)
        mp.setattr(pc, "MAX_BINS", 8)
        _check_cut(n_r, n_s, seed, cuts_r, cuts_s)


def _check_cut(n_r, n_s, seed, cuts_r, cuts_s):
    rng = np.random.default_rng(seed)

    def side(n):
        x = rng.normal(size=n)
        x[rng.random(n) < 0.1] = np.nan
        return pd.DataFrame({"cont": x, "few": rng.integers(0, 5, n).astype(float),
                             "cat": pd.Categorical(rng.choice(["a", "b", "c", None], n))})

    real, syn = side(n_r), side(n_s)
    roles = {"cont": "numeric", "few": "numeric", "cat": "categorical"}
    cols = list(roles)
    frames = {"real": real, "synthetic": syn}
    # Subgroups of a numeric column cut at quartiles (sample or exact), one of a few values, their
    # intersection, and a categorical target's table per group.
    spec = SubgroupSpec(("cont", "few"), None, False, "cat", 2)
    one = build_columns(frame_chunks(frames, cols), roles, cols, seed, cols, threads=1, subgroups=spec)
    cut = build_columns(_cut_chunks(frames, cols, {"real": cuts_r, "synthetic": cuts_s}), roles, cols, seed, cols,
                        threads=2, subgroups=spec)
    _same(one, cut)
    assert [p.columns for p in one.subgroups.partitions] == [("cont",), ("few",), ("cont", "few")]
    for part in one.subgroups.partitions:  # every row with the partition's values is counted once
        for side, df in frames.items():
            codes = one.subgroups.row_codes(part, df)
            assert np.array_equal(np.bincount(codes[codes >= 0], minlength=part.n_groups), part.counts(side))


def test_sample_path_estimates_are_close(adult):
    """Past EDGE_SAMPLE pooled values, representatives and scale come from the sample: close to the
    all-row values, and the counts stay exact."""
    big = pd.concat([adult] * 4, ignore_index=True)
    big["fnlwgt"] = big["fnlwgt"] + np.random.default_rng(0).normal(size=len(big))
    d = _prepared(big.iloc[:70000].reset_index(drop=True), big.iloc[70000:].reset_index(drop=True))
    art = build_columns(frame_chunks({"real": d.real, "synthetic": d.synthetic}, ["fnlwgt"]), d.roles, ["fnlwgt"], 0)
    r, s = _values(d.real["fnlwgt"]), _values(d.synthetic["fnlwgt"])
    ref = column_counts(r, s, "numeric", 0, numeric_codes(r, s, MAX_BINS, 0))
    got = art.counts["fnlwgt"]
    assert not got.exact and np.array_equal(got.real, ref.real) and np.array_equal(got.synthetic, ref.synthetic)
    assert got.scale == pytest.approx(ref.scale, rel=0.01)
    inner = slice(1, -1)  # the two tail bins' means move with the sample's extremes
    assert np.allclose(got.support[inner], ref.support[inner], rtol=1e-3)


def test_parse_memory():
    assert outofcore.parse_memory("4GiB") == 4 * 2**30
    assert outofcore.parse_memory("512MB") == 512 * 10**6
    assert outofcore.parse_memory("3.5G") == int(3.5e9)
    assert outofcore.parse_memory(2**30) == 2**30
    for bad in ("lots", "4 GiBs", "-1G", "100MB"):
        with pytest.raises(ConfigError):
            outofcore.parse_memory(bad)
    assert 2**30 <= outofcore.default_memory() <= 8 * 2**30


def _shards(df: pd.DataFrame, folder, parts: int, rg: int = 997) -> str:
    folder.mkdir()
    edges = np.linspace(0, len(df), parts + 1).astype(int)
    table = pa.Table.from_pandas(df, preserve_index=False)
    for i, (a, b) in enumerate(zip(edges[:-1], edges[1:])):
        pq.write_table(table.slice(a, b - a), folder / f"part-{i:05d}.parquet", row_group_size=rg)
    return str(folder)


def _run(real, syn, config, holdout=None) -> pd.DataFrame:
    res = synthproof.audit(real, syn, holdout=holdout, config=config, seed=2)
    return res, res.findings.drop(columns=["duration_s"], errors="ignore").reset_index(drop=True)


@pytest.mark.parametrize("rows", [1000, 7777])
def test_streamed_shapes_and_pairs_equal_in_memory(tmp_path, adult, monkeypatch, rows):
    real, syn = real_real(adult, 12000, 3)
    r = _shards(real, tmp_path / "r", 3)
    s = _shards(syn, tmp_path / "s", 5)
    mem_res, mem = _run(r, s, dict(SHAPES_PAIRS, resources={"out_of_core": "off"}))
    monkeypatch.setattr(outofcore, "batch_rows", lambda memory, n: rows)
    ooc_res, ooc = _run(r, s, dict(SHAPES_PAIRS, resources={"out_of_core": "on"}))
    assert ooc_res.manifest["out_of_core"] and not mem_res.manifest["out_of_core"]
    assert (ooc.reason_code != "out_of_core").all() and (ooc.status != "error").all()
    assert len(ooc) > 30
    # A binned column's value is exact in memory and on the fine bins out of core (said in the
    # message); everything else, verdicts included, is identical.
    binned = ooc.message.str.contains("fine bins of all rows (out of core)", regex=False)
    assert set(ooc.column[binned]) == {"fnlwgt"} and set(ooc.check_id[binned]) == {"drift.ks"}
    close = np.isclose(ooc.value[binned], mem.value[binned], atol=2e-3)
    assert close.all()
    same = ["value", "message"]
    pd.testing.assert_frame_equal(ooc[~binned], mem[~binned])
    pd.testing.assert_frame_equal(ooc[binned].drop(columns=same), mem[binned].drop(columns=same))
    assert ooc_res.manifest["inputs"] == mem_res.manifest["inputs"]  # same fingerprints, streamed


def test_streamed_default_suite_fails_closed(tmp_path, adult):
    """The default suite streamed: every table family runs; a check that needs rows not yet built
    out of core is skipped with a reason, and when it gates, the gate cannot pass on what it could
    not judge."""
    real, syn = real_real(adult, 3000, 4)
    res, got = _run(_shards(real, tmp_path / "r", 2), _shards(syn, tmp_path / "s", 2),
                    {"resources": {"out_of_core": "on"}})
    skipped = got[got.reason_code == "out_of_core"]
    assert {"drift.sdmetrics_quality"} <= set(skipped.check_id)
    assert skipped.message.str.contains("not yet built out of core").all()
    ran = got[got.check_id.isin(["drift.ks", "drift.detection_auc", "duplication.dcr", "duplication.exact_copies",
                                 "bias.representation", "bias.subgroup_drift"])]
    assert len(ran) and (ran.reason_code != "out_of_core").all()
    assert ran.groupby("check_id").status.apply(lambda st: (st != "skipped").any()).all()
    # The one check not yet out of core warns by default, so the gate judges on the rest ...
    cov = got[got.check_id == "gate.coverage"].iloc[0]
    assert cov.status == "pass"
    # ... but made gating, its skip fails the gate closed.
    res, got = _run(_shards(real, tmp_path / "r2", 2), _shards(syn, tmp_path / "s2", 2),
                    {"suite": "listed", "checks": {"drift.ks": {}, "drift.sdmetrics_quality": {"severity": "fail"}},
                     "resources": {"out_of_core": "on"}})
    cov = got[got.check_id == "gate.coverage"].iloc[0]
    assert cov.status == "fail" and "drift.sdmetrics_quality" in cov.message and not res.passed


def _streaming_config(tmp_path) -> str:
    import yaml

    cfg = tmp_path / "ooc.yaml"
    cfg.write_text(yaml.safe_dump({"resources": {"out_of_core": "on"}}))
    return str(cfg)


def _cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "synthproof.cli", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=600)


def test_cli_memory_budget_and_plain_progress_lines(tmp_path, adult):
    import yaml

    real, syn = real_real(adult, 5000, 5)
    r, s = _shards(real, tmp_path / "r", 2), _shards(syn, tmp_path / "s", 3)
    cfg = tmp_path / "c.yaml"
    cfg.write_text(yaml.safe_dump(dict(SHAPES_PAIRS, resources={"out_of_core": "on"})))
    out = tmp_path / "out"
    p = _cli("audit", "--real", r, "--synthetic", s, "--config", str(cfg), "--out", str(out), "--memory", "1GiB")
    assert p.returncode == 0, p.stderr
    lines = [ln for ln in p.stderr.splitlines() if ln.startswith("synthproof: ")]
    for name in ("read real", "read synthetic", "scan", "count"):
        assert any(ln.startswith(f"synthproof: {name}: ") and ln.endswith(", done") for ln in lines), (name, lines)
    assert "rows/s" in lines[-1] and "\r" not in p.stderr
    assert json.loads((out / "manifest.json").read_text())["out_of_core"] is True
    bad = _cli("audit", "--real", r, "--synthetic", s, "--out", str(tmp_path / "o2"), "--memory", "lots")
    assert bad.returncode == 2 and "memory must be a size" in bad.stderr and "Traceback" not in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1


def test_corrupt_shard_mid_stream_exits_2_and_publishes_nothing(tmp_path, adult):
    real, syn = real_real(adult, 4000, 6)
    r = _shards(real, tmp_path / "r", 2)
    s = _shards(syn, tmp_path / "s", 4)
    victim = tmp_path / "s" / "part-00002.parquet"
    data = victim.read_bytes()
    victim.write_bytes(data[: len(data) // 2] + b"\0" * 64 + data[-(len(data) // 4):])
    out = tmp_path / "out"
    p = _cli("audit", "--real", r, "--synthetic", s, "--out", str(out), "--memory", "1GiB",
             "--config", _streaming_config(tmp_path))
    assert p.returncode == 2, p.stderr
    assert "part-00002.parquet" in p.stderr and "Traceback" not in p.stderr
    assert not (out / "findings.parquet").exists() and not (out / "report.html").exists()


def test_schema_change_and_broken_jsonl_line_mid_stream(tmp_path, adult):
    real, syn = real_real(adult, 3000, 7)
    r = _shards(real, tmp_path / "r", 2)
    folder = tmp_path / "s"
    _shards(syn, folder, 3)
    changed = syn.iloc[:100].copy()
    changed["age"] = changed["age"].astype(str) + " years"
    pq.write_table(pa.Table.from_pandas(changed, preserve_index=False), folder / "part-00009.parquet")
    cfg = _streaming_config(tmp_path)
    p = _cli("audit", "--real", r, "--synthetic", str(folder), "--out", str(tmp_path / "o"), "--config", cfg)
    assert p.returncode == 2 and "part-00009.parquet" in p.stderr and "Traceback" not in p.stderr
    jl = tmp_path / "j"
    jl.mkdir()
    for i, part in enumerate(np.array_split(np.arange(len(syn)), 2)):
        text = syn.iloc[part].to_json(orient="records", lines=True)
        if i == 1:
            lines = text.splitlines()
            lines[41] = lines[41][:-7]  # a record cut short
            text = "\n".join(lines) + "\n"
        (jl / f"part-{i}.jsonl").write_text(text)
    p = _cli("audit", "--real", r, "--synthetic", str(jl), "--out", str(tmp_path / "o3"), "--config", cfg)
    assert p.returncode == 2 and "part-1.jsonl" in p.stderr and "line 42" in p.stderr, p.stderr


def test_every_out_of_core_check_gives_the_in_memory_findings_on_awkward_columns(tmp_path, adult, monkeypatch):
    """The checks that run out of core, on columns with infinities, unreadable values, a constant and
    an all-null column, a datetime and a missing synthetic column: schema issues summed over batches
    equal those of the whole table."""
    from synthproof.check import registry
    from synthproof.plan.run import runs_out_of_core

    ids = sorted(cid for cid, cls in registry().items() if runs_out_of_core(cls))
    assert {"drift.ks", "drift.tvd", "drift.pair_association", "validity.column_quality", "validity.schema",
            "drift.missing_rate", "diversity.category_coverage"} <= set(ids)
    real, syn = real_real(adult, 6000, 8)
    rng = np.random.default_rng(0)
    for df in (real, syn):
        df["hours_per_week"] = df["hours_per_week"].astype(float)
        df.loc[rng.random(len(df)) < 0.01, "hours_per_week"] = np.inf
        df["age_text"] = df["age"].astype(str).where(rng.random(len(df)) > 0.05, "unknown")
        df["const"] = 7.0
        df["empty"] = pd.Series([None] * len(df), dtype="float64")
        df["when"] = pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 900, len(df)), unit="D")
    syn = syn.drop(columns=["education"])
    cfg = {"suite": "listed", "checks": {i: {} for i in ids}, "columns": {"roles": {"age_text": "numeric"}}}
    r, s = _shards(real, tmp_path / "r", 3, rg=1500), _shards(syn, tmp_path / "s", 2, rg=2000)
    _, mem = _run(r, s, dict(cfg, resources={"out_of_core": "off"}))
    monkeypatch.setattr(outofcore, "batch_rows", lambda memory, n: 1234)
    _, ooc = _run(r, s, dict(cfg, resources={"out_of_core": "on"}))
    assert (ooc.status != "error").all() and (ooc.reason_code != "out_of_core").all()
    assert {"non_finite", "mixed_types", "constant", "all_null", "missing_column"} <= set(mem.reason_code.dropna())
    binned = ooc.message.str.contains("(out of core)", regex=False)
    pd.testing.assert_frame_equal(ooc[~binned], mem[~binned])
    pd.testing.assert_frame_equal(ooc[binned].drop(columns=["value", "message"]),
                                  mem[binned].drop(columns=["value", "message"]))


BIAS = ["bias.representation", "bias.subgroup_drift", "bias.outcome_parity", "bias.utility"]


@pytest.mark.parametrize("sensitive", [None, ["sex", "race", "fnlwgt"]])
def test_bias_checks_out_of_core_equal_in_memory(tmp_path, adult, monkeypatch, sensitive):
    """The subgroup tables are built in the counting pass and the utility check trains on the row
    pool: the bias family out of core gives the in-memory findings, with inferred sensitive columns
    (age bands, categories) and declared ones (a numeric column cut at its real quartiles), a
    target, a holdout and seeded defects (an erased subgroup, a shift within one)."""
    from synthproof import context

    monkeypatch.setattr(context, "POOL_ROWS", 2500)
    monkeypatch.setattr(outofcore, "POOL_ROWS", 2500)
    real, syn = real_real(adult, 8000, 13)
    hold = real_real(adult, 12000, 14)[1].iloc[:3000].reset_index(drop=True)
    syn = syn[syn.race != "Amer-Indian-Eskimo"].reset_index(drop=True)
    syn.loc[syn.sex == "Female", "hours_per_week"] += 10
    cfg = {"suite": "listed", "checks": {c: {} for c in BIAS}, "bias": {"target": "income", "sensitive": sensitive}}
    r, s, h = (_shards(d, tmp_path / n, 3, rg=1000) for d, n in ((real, "r"), (syn, "s"), (hold, "h")))
    _, mem = _run(r, s, dict(cfg, resources={"out_of_core": "off"}), holdout=h)
    monkeypatch.setattr(outofcore, "batch_rows", lambda memory, n: 1111)
    res, ooc = _run(r, s, dict(cfg, resources={"out_of_core": "on"}), holdout=h)
    assert res.manifest["out_of_core"]
    bad = ooc[(ooc.status == "error") | (ooc.reason_code == "out_of_core")]
    assert bad.empty, bad.message.tolist()
    assert set(BIAS) <= set(ooc.check_id)
    fails = ooc[ooc.status == "fail"]
    assert "erased" in set(fails.reason_code) and (fails.check_id == "bias.subgroup_drift").any()
    if sensitive:
        assert ooc.subgroup.dropna().str.contains("fnlwgt=Q").any()
    pd.testing.assert_frame_equal(ooc, mem)


SAMPLED = ["drift.detection_auc", "diversity.prdc", "diversity.tail_retention", "duplication.dcr",
           "duplication.dcr_share", "duplication.near_duplicates", "validity.expectations"]


def test_sample_checks_out_of_core_equal_in_memory_past_the_pool(tmp_path, adult, monkeypatch):
    """With inputs larger than the row pool, the sample-based checks draw the same rows from the
    pool in memory as out of core (where the frames hold only the pool): identical findings, row
    evidence (row ids in the whole input) included. A check reading any row outside its samples in
    memory would differ here."""
    from synthproof import context
    from synthproof.plan.run import runs_out_of_core
    from synthproof.check import registry

    assert all(runs_out_of_core(registry()[c]) for c in SAMPLED)
    monkeypatch.setattr(context, "POOL_ROWS", 2500)
    monkeypatch.setattr(outofcore, "POOL_ROWS", 2500)
    real, syn = real_real(adult, 6000, 9)
    hold = real_real(adult, 12000, 10)[1].iloc[:3000].reset_index(drop=True)
    syn = pd.concat([syn.iloc[:3000], syn.iloc[:3000]], ignore_index=True)  # twins: near-duplicate row evidence
    cfg = {"suite": "listed", "checks": {c: {"max_rows": 800} for c in SAMPLED}}
    cfg["checks"]["diversity.tail_retention"] = {"max_rows": 1000}
    r, s, h = (_shards(d, tmp_path / n, 2, rg=1000) for d, n in ((real, "r"), (syn, "s"), (hold, "h")))
    _, mem = _run(r, s, dict(cfg, resources={"out_of_core": "off"}), holdout=h)
    monkeypatch.setattr(outofcore, "batch_rows", lambda memory, n: 999)
    res, ooc = _run(r, s, dict(cfg, resources={"out_of_core": "on"}), holdout=h)
    assert res.manifest["out_of_core"]
    assert (ooc.status != "error").all() and (ooc.reason_code != "out_of_core").all(), ooc.message.tolist()
    assert set(SAMPLED) <= set(ooc.check_id)
    assert (ooc.scope == "row").any() and ooc.row_id.dropna().str.match(r"row=\d+$").all()
    pd.testing.assert_frame_equal(ooc, mem)


KEYED = ["duplication.exact_duplicates", "duplication.exact_copies", "diversity.unique_rows"]


@pytest.mark.parametrize("with_id", [False, True])
def test_keyed_checks_out_of_core_equal_in_memory(tmp_path, adult, monkeypatch, with_id):
    """Row hashes built chunk by chunk in the first pass: exact duplicates, copies and unique rows
    identical to the in-memory run, row evidence named by row id in the whole input (or by the id
    column, read back for rows outside the pool)."""
    from synthproof import context

    monkeypatch.setattr(context, "POOL_ROWS", 500)
    monkeypatch.setattr(outofcore, "POOL_ROWS", 500)
    real, syn = real_real(adult, 4000, 12)
    syn = pd.concat([syn.iloc[:3000], real.iloc[:600], syn.iloc[:400]], ignore_index=True)  # copies and twins
    if with_id:
        real.insert(0, "record_id", np.arange(len(real)) + 10_000)
        syn.insert(0, "record_id", np.arange(len(syn)) + 50_000)
    cfg = {"suite": "listed", "checks": {c: {} for c in KEYED}}
    r, s = _shards(real, tmp_path / "r", 2), _shards(syn, tmp_path / "s", 3)
    _, mem = _run(r, s, dict(cfg, resources={"out_of_core": "off"}))
    monkeypatch.setattr(outofcore, "batch_rows", lambda memory, n: 777)
    _, ooc = _run(r, s, dict(cfg, resources={"out_of_core": "on"}))
    assert (ooc.reason_code != "out_of_core").all() and (ooc.status != "error").all()
    rows = ooc[ooc.scope == "row"]
    assert len(rows) >= 20 and {"fail"} == set(ooc[ooc.check_id == "duplication.exact_copies"].status)
    pattern = r"record_id=5\d{4}$" if with_id else r"row=\d+$"
    assert rows.row_id.str.match(pattern).all()
    assert any(int(x.split("=")[1]) > 500 for x in rows.row_id if not with_id) or with_id
    pd.testing.assert_frame_equal(ooc, mem)


def test_row_hashes_past_the_budget_spill_with_equal_findings(tmp_path, adult, monkeypatch):
    """Row hashes past a sixteenth of the budget go to partition files: exact duplicates, copies and
    unique rows (the synthetic side larger than the real, so the matched rate samples) give the
    in-memory findings, and the files go with the run."""
    from synthproof import api
    from synthproof.stats import rowhashes

    spilled = []
    real_init = rowhashes.SideHashes.__init__

    def init(self, n, spill_dir=None):
        real_init(self, n, spill_dir)
        spilled.append(spill_dir)

    real, syn = real_real(adult, 3000, 13)
    syn = pd.concat([syn, real.iloc[:400], syn.iloc[:900]], ignore_index=True)  # copies and twins, 4,300 rows
    cfg = {"suite": "listed", "checks": {c: {} for c in KEYED + ["drift.tvd"]}}
    r, s = _shards(real, tmp_path / "r", 2), _shards(syn, tmp_path / "s", 3)
    _, mem = _run(r, s, dict(cfg, resources={"out_of_core": "off"}))
    monkeypatch.setattr(rowhashes.SideHashes, "__init__", init)
    monkeypatch.setattr(api, "parse_memory", lambda text: 16 * 8 * 4000)  # room for 4,000 hashes
    res, ooc = _run(r, s, dict(cfg, resources={"out_of_core": "on", "memory": "1GiB"}))
    assert len(spilled) == 2 and all(spilled) and not any(os.path.exists(d) for d in spilled)
    keyed = ooc[ooc.check_id.isin(KEYED)]
    assert (keyed.reason_code != "out_of_core").all() and (keyed.status != "error").all()
    assert {"fail"} == set(ooc[ooc.check_id == "duplication.exact_duplicates"].status)
    assert (ooc.scope == "row").sum() >= 20
    pd.testing.assert_frame_equal(ooc[ooc.check_id.isin(KEYED)].reset_index(drop=True),
                                  mem[mem.check_id.isin(KEYED)].reset_index(drop=True))


def test_synthetic_only_tag_columns_fail_closed_and_are_reported(tmp_path):
    """A synthetic-only provenance column is not read out of core, but it is known: the tag checks
    are skipped out_of_core (the gate fails closed, as in memory where they fail), and
    validity.schema, the manifest and the fingerprints name it as in memory."""
    rng = np.random.default_rng(0)
    real = pd.DataFrame({"a": rng.normal(size=300), "b": rng.choice(["x", "y"], 300)})
    syn = real.sample(frac=1.0, random_state=1).reset_index(drop=True)
    syn["generator"] = None
    syn["is_synthetic"] = True
    pq.write_table(pa.Table.from_pandas(real, preserve_index=False), tmp_path / "r.parquet")
    pq.write_table(pa.Table.from_pandas(syn, preserve_index=False), tmp_path / "s.parquet")
    cfg = {"suite": "listed", "checks": {"provenance.required_fields": {}, "validity.schema": {}}}
    runs = {mode: _run(str(tmp_path / "r.parquet"), str(tmp_path / "s.parquet"),
                       dict(cfg, resources={"out_of_core": mode})) for mode in ("off", "on")}
    (mem_res, mem), (ooc_res, ooc) = runs["off"], runs["on"]
    assert not mem_res.passed and not ooc_res.passed
    req = ooc[ooc.check_id == "provenance.required_fields"]
    assert (req.reason_code == "out_of_core").all() and "tags" in req.message.iloc[0]
    cov = ooc[ooc.check_id == "gate.coverage"].iloc[0]
    assert cov.status == "fail" and "provenance.required_fields" in cov.message
    schema = lambda f: f[f.check_id == "validity.schema"].reset_index(drop=True)  # noqa: E731
    pd.testing.assert_frame_equal(schema(ooc), schema(mem))
    assert "2 synthetic-only column(s)" in schema(ooc).message.iloc[0]
    assert ooc_res.manifest["synthetic_only_columns"] == mem_res.manifest["synthetic_only_columns"]
    assert ooc_res.manifest["inputs"] == mem_res.manifest["inputs"]


def test_awkward_streams_null_first_shard_and_huge_integers(tmp_path):
    """A column null in the first shard and typed in the next, and integers past 2^53, stream as
    they load in memory (no exit 3)."""
    r, s = tmp_path / "r", tmp_path / "s"
    r.mkdir(), s.mkdir()
    rng = np.random.default_rng(1)
    for folder in (r, s):
        pq.write_table(pa.table({"x": pa.nulls(50), "big": pa.array(rng.integers(0, 2**62, 50)),
                                 "c": pa.array(rng.choice(["u", "v"], 50))}), folder / "part-0.parquet")
        pq.write_table(pa.table({"x": pa.array(rng.integers(0, 9, 400)), "big": pa.array(rng.integers(0, 2**62, 400)),
                                 "c": pa.array(rng.choice(["u", "v"], 400))}), folder / "part-1.parquet")
    ids = ["drift.ks", "drift.tvd", "validity.column_quality", "drift.pair_association"]
    cfg = {"suite": "listed", "checks": {i: {} for i in ids}}
    _, mem = _run(str(r), str(s), dict(cfg, resources={"out_of_core": "off"}))
    _, ooc = _run(str(r), str(s), dict(cfg, resources={"out_of_core": "on"}))
    assert (ooc.status != "error").all()
    binned = ooc.message.str.contains("(out of core)", regex=False)
    pd.testing.assert_frame_equal(ooc[~binned], mem[~binned])


def test_in_memory_estimate_of_local_text_files(tmp_path):
    p = tmp_path / "t.csv"
    p.write_text("a,b\n" + "1,2\n" * 1000)
    assert outofcore.estimated_bytes(str(p), "real") == 4 * p.stat().st_size
    z = tmp_path / "t.JSONL.GZ"
    z.write_bytes(b"x" * 100)
    assert outofcore.estimated_bytes(str(z), "real") == 20 * 100
    assert outofcore.should_stream("auto", 2**30, [(str(p), "real")]) is False
    assert outofcore.should_stream("auto", 256 * 2**20, [(str(p), "real")]) is False  # 16 KB: fits
    assert outofcore.should_stream("on", 2**30, [(str(p), "real")]) is True
    assert outofcore.should_stream("on", 2**30, [(pd.DataFrame({"a": [1]}), "real")]) is False


def test_constant_column_scale_is_one_whatever_the_rounding():
    v, n = 0.04545454545454545, 434_138
    assert pc.scale_from_counts(np.array([v]), np.array([n, 0])) == 1.0
    assert pc.scale_from_counts(np.array([1.0, 3.0]), np.array([5, 5, 0])) == pytest.approx(1.0)
