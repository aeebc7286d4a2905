"""Reading from object storage: an S3 server (moto) on 127.0.0.1 holds shards of bundled real data.

What is read from ``s3://`` must equal what is read from the same files on local disk (values,
column order, row order, content hash); errors name the bucket, key, shard or line; the command
line audits ``s3://`` inputs as it audits local ones.
"""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from synthproof import io, sources
from synthproof.datasets import load as load_dataset
from synthproof.errors import InputError

moto_server = pytest.importorskip("moto.server")
boto3 = pytest.importorskip("boto3")

BUCKET = "synthproof-test"
FORMATS = {"parquet": ".parquet", "csv": ".csv", "jsonl": ".jsonl", "jsonl_gz": ".jsonl.gz", "jsonl_zst": ".jsonl.zst"}
CHEAP = {"suite": "listed", "checks": {"drift.ks": {}, "drift.tvd": {}, "duplication.exact_copies": {},
                                       "validity.schema": {}}}


def _aws_env(endpoint: str, home: str) -> dict[str, str]:
    return {"AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_REGION": "us-east-1", "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_CONFIG_FILE": os.path.join(home, "aws-config"),
            "AWS_SHARED_CREDENTIALS_FILE": os.path.join(home, "aws-credentials")}


@pytest.fixture(scope="module")
def s3(tmp_path_factory):
    """A moto S3 server on 127.0.0.1 with one bucket; the AWS variables point at it."""
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    env = _aws_env(endpoint, str(tmp_path_factory.mktemp("aws")))
    with pytest.MonkeyPatch.context() as mp:
        for k in ("AWS_ENDPOINT_URL_S3", "AWS_PROFILE", "AWS_DEFAULT_REGION", "AWS_SESSION_TOKEN"):
            mp.delenv(k, raising=False)
        for k, v in env.items():
            mp.setenv(k, v)
        client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
        client.create_bucket(Bucket=BUCKET)
        yield client, env
    server.stop()


def _write(frame: pd.DataFrame, path, fmt: str) -> None:
    if fmt == "parquet":
        frame.to_parquet(path, index=False)
    elif fmt == "csv":
        frame.to_csv(path, index=False)
    else:
        text = frame.to_json(orient="records", lines=True).encode()
        if fmt == "jsonl_gz":
            text = gzip.compress(text, mtime=0)
        elif fmt == "jsonl_zst":
            sink = pa.BufferOutputStream()
            with pa.CompressedOutputStream(sink, "zstd") as out:
                out.write(text)
            text = sink.getvalue().to_pybytes()
        path.write_bytes(text)


def _upload(client, folder, prefix: str) -> None:
    for p in sorted(folder.rglob("*")):
        if p.is_file():
            client.put_object(Bucket=BUCKET, Key=f"{prefix}/{p.relative_to(folder).as_posix()}", Body=p.read_bytes())


@pytest.fixture(scope="module")
def halves():
    adult = load_dataset("adult").head(600).reset_index(drop=True)
    return adult.iloc[:300].reset_index(drop=True), adult.iloc[300:].reset_index(drop=True)


@pytest.fixture(scope="module")
def shards(s3, halves, tmp_path_factory):
    """The real half as 3 shards (plus a _SUCCESS marker) in each format, locally and in the bucket."""
    client, _ = s3
    root = tmp_path_factory.mktemp("shards")
    for fmt, ext in FORMATS.items():
        d = root / fmt
        d.mkdir()
        for i in range(3):
            _write(halves[0].iloc[i * 100:(i + 1) * 100], d / f"part-{i}{ext}", fmt)
        (d / "_SUCCESS").write_text("")
        (d / ".part-0.crc").write_text("x")
        _upload(client, d, fmt)
    return root


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_s3_prefix_reads_as_the_local_folder(shards, fmt):
    local, local_fp = io.load(shards / fmt, "real")
    remote, remote_fp = io.load(f"s3://{BUCKET}/{fmt}/", "real")
    assert remote.column_names == local.column_names
    assert remote.equals(local)
    assert remote_fp.content_hash == local_fp.content_hash
    assert (remote_fp.rows, remote_fp.columns, remote_fp.column_names) == \
        (local_fp.rows, local_fp.columns, local_fp.column_names) and remote_fp.rows == 300
    assert remote_fp.source == f"s3://{BUCKET}/{fmt}/"


@pytest.mark.parametrize("fmt", ["parquet", "jsonl_zst"])
def test_s3_single_object_and_glob(shards, fmt):
    ext = FORMATS[fmt]
    one, one_fp = io.load(f"s3://{BUCKET}/{fmt}/part-1{ext}", "real")
    local_one, local_fp = io.load(shards / fmt / f"part-1{ext}", "real")
    assert one.equals(local_one) and one_fp.content_hash == local_fp.content_hash and one.num_rows == 100
    glob, glob_fp = io.load(f"s3://{BUCKET}/{fmt}/part-[12]{ext}", "real")
    local_glob, local_glob_fp = io.load(str(shards / fmt / f"part-[12]{ext}"), "real")
    assert glob.equals(local_glob) and glob.num_rows == 200
    assert glob_fp.content_hash == local_glob_fp.content_hash


def test_projection_reads_only_the_asked_columns(shards):
    cols = ["sex", "age"]
    for src in (f"s3://{BUCKET}/parquet", f"s3://{BUCKET}/csv", f"s3://{BUCKET}/jsonl_gz"):
        batches = list(io.iter_batches(src, "real", columns=cols))
        assert batches and all(b.schema.names == cols for _, _, b in batches)
        table = pa.Table.from_batches([b for _, _, b in batches])
        assert table.column("age").to_pylist() == io.load(shards / "parquet", "real")[0].column("age").to_pylist()
    table, fp = io.load(f"s3://{BUCKET}/parquet", "synthetic", keep=lambda names: [n for n in names if n in cols])
    assert table.column_names == ["age", "sex"] and fp.columns == 15 and "income" in fp.column_names


def test_batch_size_does_not_move_rows(shards):
    for fmt in ("parquet", "csv", "jsonl"):
        small = list(io.iter_batches(f"s3://{BUCKET}/{fmt}", "real", batch_rows=7))
        big = list(io.iter_batches(f"s3://{BUCKET}/{fmt}", "real", batch_rows=100_000))
        local = list(io.iter_batches(shards / fmt, "real", batch_rows=7))
        for seq in (small, big, local):
            assert [r for _, r, _ in seq] == [sum(b.num_rows for _, _, b in seq[:k]) for k in range(len(seq))]
        assert [(s, r) for s, r, _ in big] == [(0, 0), (1, 100), (2, 200)]
        assert [(s, r) for s, r, _ in small] == [(s, r) for s, r, _ in local]
        assert all(b.num_rows == 7 for k, (s, r, b) in enumerate(small[:-1]) if small[k + 1][0] == s)
        starts = {s: r for s, r, _ in reversed(small)}
        assert starts == {0: 0, 1: 100, 2: 200}
        join = [pa.Table.from_batches([b for _, _, b in seq]) for seq in (small, big)]
        assert join[0].equals(join[1]) and join[0].num_rows == 300


def test_jsonl_is_streamed_in_blocks_with_global_line_numbers(shards, monkeypatch, tmp_path):
    monkeypatch.setattr(sources.stream, "JSONL_BLOCK_BYTES", 512)  # many blocks per shard, lines cut across reads
    whole = io.load(shards / "jsonl", "real")[0]
    for src in (f"s3://{BUCKET}/jsonl_zst/", shards / "jsonl"):
        got = pa.concat_tables([pa.Table.from_batches([b]) for _, _, b in io.iter_batches(src, "real", batch_rows=9)],
                               promote_options="permissive")
        assert got.column_names == whole.column_names and got.num_rows == 300
        assert got.column("age").to_pylist() == whole.column("age").to_pylist()
        assert got.column("income").to_pylist() == whole.column("income").to_pylist()
    lines = (shards / "jsonl" / "part-0.jsonl").read_text().splitlines()
    lines[83] = "{not json"
    (tmp_path / "p.jsonl").write_text("\n".join(lines) + "\n")
    with pytest.raises(InputError, match=r"p\.jsonl: 1 of \d+ lines are not JSON objects \(line 84\)"):
        list(io.iter_batches(tmp_path / "p.jsonl", "real"))


def test_missing_bucket_and_key_are_named(s3):
    with pytest.raises(InputError, match=r"^real: no such bucket 'no-such-bucket'"):
        io.load("s3://no-such-bucket/data.parquet", "real")
    with pytest.raises(InputError, match=rf"^real: no such key 'parquet/nope\.parquet' in bucket '{BUCKET}'"):
        io.load(f"s3://{BUCKET}/parquet/nope.parquet", "real")
    with pytest.raises(InputError, match="no such key 'nothing-here'"):
        list(io.iter_batches(f"s3://{BUCKET}/nothing-here/", "real"))


def test_corrupt_third_shard_is_named(s3, halves, tmp_path):
    client, _ = s3
    for i in range(2):
        _write(halves[0].iloc[i * 50:(i + 1) * 50], tmp_path / f"part-{i}.parquet", "parquet")
    good = (tmp_path / "part-0.parquet").read_bytes()
    (tmp_path / "part-2.parquet").write_bytes(good[: len(good) // 2])
    _upload(client, tmp_path, "corrupt")
    with pytest.raises(InputError, match=r"real: cannot read shard s3://.*/corrupt/part-2\.parquet") as err:
        io.load(f"s3://{BUCKET}/corrupt", "real")
    assert "\n" not in str(err.value)
    seen = []
    with pytest.raises(InputError, match=r"part-2\.parquet"):
        for shard, _, _ in io.iter_batches(f"s3://{BUCKET}/corrupt", "real"):
            seen.append(shard)
    assert set(seen) == {0, 1}


def test_broken_jsonl_line_names_shard_and_line(s3, halves, tmp_path):
    client, _ = s3
    _write(halves[0].iloc[:20], tmp_path / "a.jsonl.gz", "jsonl_gz")
    lines = halves[0].iloc[20:40].to_json(orient="records", lines=True).splitlines()
    lines[4] = lines[4][:-7]  # line 5 cut short
    (tmp_path / "b.jsonl.gz").write_bytes(gzip.compress(("\n".join(lines) + "\n").encode(), mtime=0))
    _upload(client, tmp_path, "broken")
    url = f"s3://{BUCKET}/broken/b.jsonl.gz"
    for read in (lambda: io.load(f"s3://{BUCKET}/broken/", "real"),
                 lambda: list(io.iter_batches(f"s3://{BUCKET}/broken/", "real"))):
        with pytest.raises(InputError, match=rf"{url}: 1 of 20 lines are not JSON objects \(line 5\)"):
            read()


def test_schema_change_between_shards_is_named(s3, halves, tmp_path):
    client, _ = s3
    part = halves[0].head(30)
    _write(part.iloc[:10], tmp_path / "p0.parquet", "parquet")
    _write(part.iloc[10:20], tmp_path / "p1.parquet", "parquet")
    _write(part.iloc[20:].assign(age=part.iloc[20:].age.astype(str)), tmp_path / "p2.parquet", "parquet")
    _upload(client, tmp_path, "schema")
    for read in (lambda: io.load(f"s3://{BUCKET}/schema", "real"),
                 lambda: list(io.iter_batches(f"s3://{BUCKET}/schema", "real"))):
        with pytest.raises(InputError, match=rf"shard s3://{BUCKET}/schema/p2\.parquet does not match .*'age'"):
            read()


def test_s3_endpoint_variable_takes_precedence(shards, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", os.environ["AWS_ENDPOINT_URL"])
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # never asked: the S3 variable wins
    table, _ = io.load(f"s3://{BUCKET}/parquet/part-0.parquet", "real")
    assert table.num_rows == 100


def test_access_denied_says_what_to_set():
    err = sources.remote_error(OSError("AWS Error ACCESS_DENIED during GetObject operation: Access Denied"),
                               "real", "s3://b/k.parquet")
    assert "access denied to s3://b/k.parquet" in str(err) and "AWS_ACCESS_KEY_ID" in str(err)
    err = sources.remote_error(OSError("google::cloud::Status(PERMISSION_DENIED: 403 forbidden)"), "real",
                               "gs://b/k.csv")
    assert "GOOGLE_APPLICATION_CREDENTIALS" in str(err)


@pytest.mark.skipif(__import__("importlib").util.find_spec("aiohttp") is not None, reason="aiohttp is installed")
def test_missing_filesystem_package_says_what_to_install():
    with pytest.raises(InputError, match=r"https:// paths needs the aiohttp package: pip install aiohttp"):
        io.load("https://example.org/d.csv", "real")


def _cli(env_extra: dict[str, str], *args):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")} | env_extra
    return subprocess.run([sys.executable, "-m", "synthproof.cli", "audit", *args], capture_output=True, text=True,
                          timeout=300, env=env)


def _findings(out) -> pd.DataFrame:
    # The findings table holds no run id or timing column (the run id is in its metadata).
    return pq.read_table(out / "findings.parquet").to_pandas()


def test_cli_audits_s3_inputs_like_local_ones(s3, halves, tmp_path):
    client, env = s3
    for side, frame in zip(("real", "synthetic"), halves):
        (tmp_path / side).mkdir()
        _write(frame, tmp_path / side / f"{side}.parquet", "parquet")
        _upload(client, tmp_path / side, f"cli/{side}")
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(CHEAP))
    common = ("--config", str(tmp_path / "c.yaml"), "--no-progress")
    remote = _cli(env, "--real", f"s3://{BUCKET}/cli/real/real.parquet",
                  "--synthetic", f"s3://{BUCKET}/cli/synthetic/", "--out", str(tmp_path / "remote"), *common)
    local = _cli(env, "--real", str(tmp_path / "real" / "real.parquet"), "--synthetic", str(tmp_path / "synthetic"),
                 "--out", str(tmp_path / "local"), *common)
    assert remote.returncode in (0, 1), remote.stderr[-2000:]
    assert remote.returncode == local.returncode, (remote.stderr[-2000:], local.stderr[-2000:])
    pd.testing.assert_frame_equal(_findings(tmp_path / "remote"), _findings(tmp_path / "local"))
    manifests = [json.loads((tmp_path / d / "manifest.json").read_text()) for d in ("remote", "local")]
    assert [i["content_hash"] for i in manifests[0]["inputs"]] == [i["content_hash"] for i in manifests[1]["inputs"]]
    assert manifests[0]["real_path"] == f"s3://{BUCKET}/cli/real/real.parquet"


def test_cli_missing_key_exits_2_and_writes_nothing(s3, tmp_path):
    _, env = s3
    r = _cli(env, "--real", f"s3://{BUCKET}/cli/absent.parquet", "--synthetic", f"s3://{BUCKET}/cli/absent.parquet",
             "--out", str(tmp_path / "out"))
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert r.returncode == 2, (r.returncode, r.stderr)
    assert len(lines) == 1 and lines[0].startswith("synthproof: error:") and "cli/absent.parquet" in lines[0], lines
    assert "no such key" in lines[0] and "Traceback" not in r.stderr
    assert not (tmp_path / "out").exists()


def test_streamed_audit_from_s3_equals_streamed_local_and_in_memory(s3, halves, tmp_path):
    """Out of core (resources.out_of_core: on), the same findings from the bucket as from local
    shards, equal to the in-memory run's (no column here is binned: values are exact in both)."""
    import synthproof

    client, env = s3
    for side, frame in zip(("real", "synthetic"), halves):
        d = tmp_path / f"ooc-{side}"
        d.mkdir()
        for i in range(3):
            _write(frame.iloc[i * 100:(i + 1) * 100], d / f"part-{i}.parquet", "parquet")
        _upload(client, d, f"ooc/{side}")
    cfg = {"suite": "listed", "checks": {"drift.ks": {}, "drift.tvd": {}, "drift.pair_association": {},
                                         "validity.column_quality": {}}}
    runs = {}
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        for name, (r, s), mode in (
                ("s3", (f"s3://{BUCKET}/ooc/real/", f"s3://{BUCKET}/ooc/synthetic/"), "on"),
                ("local", (str(tmp_path / "ooc-real"), str(tmp_path / "ooc-synthetic")), "on"),
                ("memory", (str(tmp_path / "ooc-real"), str(tmp_path / "ooc-synthetic")), "off")):
            res = synthproof.audit(r, s, config=dict(cfg, resources={"out_of_core": mode}))
            runs[name] = (res.manifest, res.findings.reset_index(drop=True))
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    assert runs["s3"][0]["out_of_core"] and not runs["memory"][0]["out_of_core"]
    assert len(runs["s3"][1]) > 20 and (runs["s3"][1].reason_code != "out_of_core").all()
    pd.testing.assert_frame_equal(runs["s3"][1], runs["local"][1])
    pd.testing.assert_frame_equal(runs["s3"][1], runs["memory"][1])
    assert [i["content_hash"] for i in runs["s3"][0]["inputs"]] == [i["content_hash"] for i in runs["memory"][0]["inputs"]]


def test_shards_and_ray_workers_read_object_store_urls(shards, s3, halves, tmp_path):
    """Shard states of s3:// inputs (each shard reads its own span from the bucket) and Ray workers
    reading the URLs themselves give the findings of one streamed run of the same URLs."""
    import synthproof
    from synthproof.findings import findings_to_table
    from synthproof.plan.shards import PHASES

    syn = tmp_path / "syn.parquet"
    halves[1].to_parquet(syn, index=False)
    s3[0].put_object(Bucket=BUCKET, Key="syn/part-0.parquet", Body=syn.read_bytes())
    cfg = {**CHEAP, "resources": {"out_of_core": "on"}}
    src = (f"s3://{BUCKET}/parquet/", f"s3://{BUCKET}/syn/")
    one = synthproof.audit(*src, config=cfg)
    for phase in PHASES:
        for i in range(3):
            assert synthproof.sketch(*src, shard=f"{i}/3", out=tmp_path / "st", config=cfg)[0] == phase
    got = synthproof.audit(config=cfg, states=tmp_path / "st")
    want = findings_to_table(one.finding_list)
    assert findings_to_table(got.finding_list).equals(want)
    assert got.manifest["inputs"] == one.manifest["inputs"]
    pytest.importorskip("ray")
    ray = synthproof.audit(*src, config={**cfg, "executor": {"kind": "ray", "workers": 2, "shards": 3}})
    assert findings_to_table(ray.finding_list).equals(want)
