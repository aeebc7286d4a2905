"""Hostile input files: each is audited or refused with one sentence (exit 2), never an internal error.

Encodings, nested and exotic column types, repeated column names, CSV delimiters, folders of
shards in every format, remote paths; through ``io.load``, ``synthproof.audit`` and the CLI.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

import synthproof
from synthproof import io
from synthproof.errors import InputError

CHEAP = {"suite": "listed", "checks": {"drift.ks": {}, "drift.tvd": {}, "duplication.exact_copies": {},
                                       "validity.schema": {}}}


@pytest.fixture(scope="module")
def small(adult):
    return adult.head(600).reset_index(drop=True)


def cli(*args):
    return subprocess.run([sys.executable, "-m", "synthproof.cli", *args], capture_output=True, text=True,
                          timeout=300)


def one_error_line(r) -> str:
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    assert len(lines) == 1 and lines[0].startswith("synthproof: error:"), r.stderr
    assert "Traceback" not in r.stderr
    return lines[0]


# --- encodings -------------------------------------------------------------------------------------

def _latin1_csv(path, frame):
    frame.assign(city=["Zürich", "Köln", "José"] * (len(frame) // 3)).to_csv(path, index=False, encoding="latin-1")


def test_latin1_csv_asks_for_encoding_then_reads(tmp_path, small):
    p = tmp_path / "l1.csv"
    _latin1_csv(p, small.head(300))
    with pytest.raises(InputError, match="--encoding"):
        io.load(p, "synthetic")
    table, _ = io.load(p, "synthetic", encoding="latin-1")
    assert table.column("city").to_pylist()[:3] == ["Zürich", "Köln", "José"]
    with pytest.raises(InputError, match="unknown encoding"):
        io.load(p, "synthetic", encoding="no-such-codec")


def test_latin1_header_asks_for_encoding(tmp_path):
    p = tmp_path / "h.csv"
    p.write_bytes("größe,name\n1,a\n2,b\n".encode("latin-1"))
    with pytest.raises(InputError, match="--encoding"):
        io.load(p, "real")
    assert io.load(p, "real", encoding="latin-1")[0].column_names == ["größe", "name"]


def test_latin1_jsonl_with_encoding(tmp_path):
    p = tmp_path / "l1.jsonl"
    p.write_bytes("\n".join(json.dumps({"city": c}, ensure_ascii=False) for c in ["Zürich", "Köln"]).encode("latin-1"))
    assert io.load(p, "real", encoding="latin-1")[0].column("city").to_pylist() == ["Zürich", "Köln"]


def test_cli_encoding_option(tmp_path, small):
    small.head(300).assign(city=["Zürich", "Köln", "José"] * 100).to_parquet(tmp_path / "real.parquet")
    _latin1_csv(tmp_path / "syn.csv", small.iloc[300:600])
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(CHEAP))
    args = ["audit", "--real", str(tmp_path / "real.parquet"), "--synthetic", str(tmp_path / "syn.csv"),
            "--config", str(tmp_path / "c.yaml"), "--out", str(tmp_path / "out")]
    assert "--encoding" in one_error_line(cli(*args))
    assert not (tmp_path / "out").exists()
    r = cli(*args, "--encoding", "latin-1")
    assert r.returncode in (0, 1), r.stderr
    assert (tmp_path / "out" / "findings.parquet").is_file()


# --- nested and exotic column types ----------------------------------------------------------------

def _exotic(n: int, seed: int) -> dict[str, pa.Array]:
    rng = np.random.default_rng(seed)
    ints = rng.integers(0, 5, n)
    return {
        "lst": pa.array([[int(x), int(x) + 1] for x in ints]),
        "llst": pa.array([[int(x)] for x in ints], type=pa.large_list(pa.int64())),
        "fsl": pa.array([[int(x), 0] for x in ints], type=pa.list_(pa.int64(), 2)),
        "st": pa.array([{"y": "a", "x": int(x)} for x in ints]),
        "mp": pa.array([[("k", int(x))] for x in ints], type=pa.map_(pa.string(), pa.int64())),
        "dec": pa.array([decimal.Decimal(int(x)) / 100 for x in rng.integers(0, 10_000, n)], type=pa.decimal128(8, 2)),
        "tz": pa.array(rng.integers(0, 10**15, n), type=pa.timestamp("us", tz="Europe/Paris")),
        "dic": pa.array(rng.choice(["a", "b", "c"], n)).dictionary_encode(),
        "ls": pa.array(rng.choice(["x", "y"], n), type=pa.large_string()),
        "bin": pa.array([bytes([int(x)]) for x in ints]),
        "lbin": pa.array([bytes([int(x)]) for x in ints], type=pa.large_binary()),
        "fsb": pa.array([bytes([int(x), 1]) for x in ints], type=pa.binary(2)),
        "dur": pa.array(rng.integers(0, 1000, n), type=pa.duration("ms")),
        "t32": pa.array(rng.integers(0, 86_400, n).astype("int32"), type=pa.time32("s")),
        "t64": pa.array(rng.integers(0, 10**9, n), type=pa.time64("us")),
        "d32": pa.array(rng.integers(0, 20_000, n).astype("int32"), type=pa.date32()),
        "d64": pa.array(rng.integers(0, 20_000, n) * 86_400_000, type=pa.date64()),
        "f16": pa.array(rng.random(n)).cast(pa.float16()),
        "nul": pa.nulls(n),
    }


def _with_exotic(frame: pd.DataFrame, seed: int) -> pa.Table:
    table = pa.Table.from_pandas(frame, preserve_index=False)
    for name, arr in _exotic(len(frame), seed).items():
        table = table.append_column(name, arr)
    return table


def test_every_exotic_type_is_converted_and_recorded(tmp_path):
    table = pa.table(_exotic(20, 0))
    pq.write_table(table, tmp_path / "x.parquet")
    for src in (tmp_path / "x.parquet", table):
        got, fp = io.load(src, "real")
        assert fp.rows == 20
        for field in got.schema:
            assert (pa.types.is_string(field.type) or pa.types.is_floating(field.type)
                    or (pa.types.is_timestamp(field.type) and field.type.tz is None)), field
            assert io.CONVERTED_KEY in (field.metadata or {}), field.name
    got, _ = io.load(table, "real")
    assert json.loads(got.column("st")[0].as_py()) == table.column("st")[0].as_py()
    assert got.column("st")[0].as_py() == json.dumps(table.column("st")[0].as_py(), sort_keys=True,
                                                     separators=(",", ":"))
    assert got.column("bin")[0].as_py() == __import__("hashlib").sha256(table.column("bin")[0].as_py()).hexdigest()
    assert got.schema.field("tz").metadata[io.CONVERTED_KEY] == b"timestamp[tz=Europe/Paris]->utc"
    assert got.column("tz").to_pylist()[0] == table.column("tz")[0].as_py().astimezone(dt.timezone.utc).replace(
        tzinfo=None)


def test_audit_of_exotic_parquet_runs_the_default_suite_without_errors(tmp_path, small):
    pq.write_table(_with_exotic(small.iloc[:300], 1), tmp_path / "r.parquet")
    pq.write_table(_with_exotic(small.iloc[300:], 2), tmp_path / "s.parquet")
    res = synthproof.audit(tmp_path / "r.parquet", tmp_path / "s.parquet",
                           config={"checks": {"drift.detection_auc": {"max_rows": 2000, "max_iter": 30}}})
    errors = res.findings.query("status == 'error'")
    assert errors.empty, errors[["check_id", "message"]].to_string()


def test_jsonl_with_lists_and_objects_is_audited(tmp_path, small):
    def write(path, frame, seed):
        rng = np.random.default_rng(seed)
        with path.open("w") as fh:
            for rec in frame.to_dict(orient="records"):
                k = int(rng.integers(0, 4))
                rec["tags"] = ["a", "b"][:k % 3]
                rec["meta"] = {"k": k, "nested": {"z": [k]}} if k else None
                rec["mixed"] = [k] if k % 2 else k  # a list on some lines, a number on others
                fh.write(json.dumps(rec) + "\n")

    write(tmp_path / "r.jsonl", small.iloc[:300], 1)
    write(tmp_path / "s.jsonl", small.iloc[300:], 2)
    table, _ = io.load(tmp_path / "r.jsonl", "real")
    assert pa.types.is_string(table.schema.field("tags").type)
    assert pa.types.is_string(table.schema.field("meta").type)
    res = synthproof.audit(tmp_path / "r.jsonl", tmp_path / "s.jsonl", config=CHEAP)
    assert res.findings.query("status == 'error'").empty


def test_pandas_frames_with_nested_values(small):
    real = small.iloc[:300].assign(tags=[["a", i % 3] for i in range(300)], obj=[{"k": i % 4} for i in range(300)])
    syn = small.iloc[300:].reset_index(drop=True).assign(tags=[["a", i % 3] for i in range(300)],
                                                          obj=[{"k": i % 4} if i % 5 else "x" for i in range(300)])
    table, _ = io.load(syn, "synthetic")
    assert table.column("obj").to_pylist()[:2] == ["x", '{"k":1}']
    assert table.schema.field("obj").metadata[io.CONVERTED_KEY] == b"mixed->json"
    res = synthproof.audit(real, syn, config=CHEAP)
    assert res.findings.query("status == 'error'").empty


# --- repeated column names -------------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["csv", "parquet", "jsonl", "pandas", "arrow"])
def test_duplicate_column_names_are_refused(tmp_path, kind):
    arrow = pa.Table.from_arrays([pa.array([1, 2, 3]), pa.array(["x", "y", "z"]), pa.array([4, 5, 6])],
                                 names=["a", "b", "a"])
    src = {"csv": tmp_path / "d.csv", "parquet": tmp_path / "d.parquet", "jsonl": tmp_path / "d.jsonl",
           "pandas": pd.DataFrame([[1, "x", 4]], columns=["a", "b", "a"]), "arrow": arrow}[kind]
    if kind == "csv":
        src.write_text("a,b,a\n1,x,4\n2,y,5\n")
    elif kind == "parquet":
        pq.write_table(arrow, src)
    elif kind == "jsonl":
        src.write_text('{"a": 1, "b": "x", "a": 4}\n{"a": 2, "b": "y"}\n')
    with pytest.raises(InputError, match="'a'") as err:
        io.load(src, "real")
    assert "\n" not in str(err.value)
    with pytest.raises(InputError, match="'a'"):
        synthproof.audit(pd.DataFrame({"a": [1, 2, 3], "b": ["x", "y", "z"]}), src, config=CHEAP)


def test_cli_duplicate_columns_exit_2(tmp_path):
    (tmp_path / "d.csv").write_text("a,b,a\n1,x,4\n2,y,5\n")
    (tmp_path / "r.csv").write_text("a,b\n1,x\n2,y\n")
    line = one_error_line(cli("audit", "--real", str(tmp_path / "r.csv"), "--synthetic", str(tmp_path / "d.csv"),
                              "--out", str(tmp_path / "out")))
    assert "'a' appears 2 times" in line


# --- delimiters ------------------------------------------------------------------------------------

@pytest.mark.parametrize("sep", [",", ";", "|", "\t"])
def test_csv_delimiter_is_sniffed(tmp_path, small, sep):
    p = tmp_path / "d.csv"
    small.head(200).to_csv(p, index=False, sep=sep)
    table, _ = io.load(p, "real")
    assert table.column_names == list(small.columns)
    assert table.num_rows == 200


def test_semicolon_csv_with_decimal_commas_and_explicit_delimiter(tmp_path):
    p = tmp_path / "eu.csv"
    p.write_text("name;amount;city\nann;1,5;Lyon\nbob;2,25;Paris, TX\ncid;3;Nice\n")
    assert io.load(p, "real")[0].column_names == ["name", "amount", "city"]
    assert io.load(p, "real", delimiter=";")[0].column("city").to_pylist()[1] == "Paris, TX"
    with pytest.raises(InputError, match="Expected 1 columns"):  # taken as given
        io.load(p, "real", delimiter=",")
    t = tmp_path / "t.csv"
    t.write_text("a\tb\n1\t2\n")
    assert io.load(t, "real", delimiter="tab")[0].column_names == ["a", "b"]
    with pytest.raises(InputError, match="one character"):
        io.load(p, "real", delimiter=";;")


def test_cli_delimiter_option(tmp_path, small):
    small.head(300).to_csv(tmp_path / "r.csv", index=False, sep="|")
    small.iloc[300:].to_csv(tmp_path / "s.csv", index=False, sep="|")
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(CHEAP))
    r = cli("audit", "--real", str(tmp_path / "r.csv"), "--synthetic", str(tmp_path / "s.csv"), "--config",
            str(tmp_path / "c.yaml"), "--delimiter", "|", "--out", str(tmp_path / "out"))
    assert r.returncode in (0, 1), r.stderr
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["inputs"][0]["columns"] == small.shape[1]


# --- folders of shards -----------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", ["parquet", "csv", "jsonl"])
def test_folder_of_shards_in_each_format(tmp_path, small, fmt):
    d = tmp_path / "shards"
    d.mkdir()
    part = small.head(300)
    for i in range(3):  # written out of order: read in sorted path order
        chunk = part.iloc[i * 100:(i + 1) * 100]
        path = d / f"part-{2 - i}.{fmt}"
        if fmt == "parquet":
            chunk.to_parquet(path)
        elif fmt == "csv":
            chunk.to_csv(path, index=False)
        else:
            chunk.to_json(path, orient="records", lines=True)
    (d / "_SUCCESS").write_text("")
    (d / ".part-0.crc").write_text("x")
    table, fp = io.load(d, "real")
    assert table.num_rows == 300 and fp.rows == 300
    expected = pd.concat([part.iloc[200:300], part.iloc[100:200], part.iloc[:100]])  # part-0 holds rows 200-299
    assert table.column("age").to_pylist() == expected.age.tolist()
    res = synthproof.audit(d, small.iloc[300:], config=CHEAP)
    assert res.findings.query("status == 'error'").empty


def test_folder_of_mixed_formats_is_refused(tmp_path, small):
    d = tmp_path / "mixed"
    d.mkdir()
    small.head(10).to_parquet(d / "a.parquet")
    small.head(10).to_csv(d / "b.csv", index=False)
    with pytest.raises(InputError, match="mixes formats"):
        io.load(d, "real")


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_shards_with_differing_schemas_name_the_shard(tmp_path, fmt):
    d = tmp_path / "s"
    d.mkdir()
    good = pd.DataFrame({"a": [1, 2], "b": ["x", "y"]})
    for name, frame in (("p0", good), ("p1", good), ("p2", good.rename(columns={"b": "c"}))):
        getattr(frame, "to_parquet" if fmt == "parquet" else "to_csv")(d / f"{name}.{fmt}", index=False)
    with pytest.raises(InputError, match=rf"p2\.{fmt}"):
        io.load(d, "real")
    (d / f"p2.{fmt}").unlink()
    typed = pd.DataFrame({"a": ["not", "ints"], "b": ["x", "y"]})
    if fmt == "parquet":
        typed.to_parquet(d / "p3.parquet")
        with pytest.raises(InputError, match=r"p3\.parquet.*'a'"):
            io.load(d, "real")


def test_corrupt_parquet_shard_is_named(tmp_path, small):
    d = tmp_path / "s"
    d.mkdir()
    small.head(10).to_parquet(d / "part-0.parquet")
    (d / "part-1.parquet").write_bytes(b"PAR1 not really")
    with pytest.raises(InputError, match="part-1.parquet"):
        io.load(d, "real")
    r = cli("audit", "--real", str(d), "--synthetic", str(d / "part-0.parquet"), "--out", str(tmp_path / "out"))
    assert "part-1.parquet" in one_error_line(r)


# --- remote paths, render of a foreign table, the Python API ---------------------------------------

# s3://, gs://, hf:// and http(s):// are read (tests/test_remote_io.py); other schemes are refused.
@pytest.mark.parametrize("url", ["abfs://c/p", "ftp://x.org/d.csv"])
def test_unsupported_schemes_are_refused_clearly(url):
    with pytest.raises(InputError, match=r"unsupported scheme \w+:// in .*: pass a local path"):
        io.load(url, "real")
    with pytest.raises(InputError, match="unsupported scheme"):
        synthproof.audit(url, pd.DataFrame({"a": [1]}))


def test_cli_unsupported_scheme_exit_2(tmp_path):
    line = one_error_line(cli("audit", "--real", "abfs://bucket/key", "--synthetic", "abfs://bucket/k2",
                              "--out", str(tmp_path / "out")))
    assert "unsupported scheme abfs://" in line and "abfs:/bucket" not in line


def test_render_of_a_foreign_parquet_exits_2(tmp_path):
    pd.DataFrame({"a": [1, 2]}).to_parquet(tmp_path / "data.parquet")
    line = one_error_line(cli("render", str(tmp_path / "data.parquet")))
    assert "is not a synthproof findings table (missing columns" in line and "status" in line
    assert not (tmp_path / "report.html").exists()
