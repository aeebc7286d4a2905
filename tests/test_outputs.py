"""The four output files under concurrency and hostile folders: one consistent set, never through a symlink.

Two real processes write two different results into one folder, round after round: the folder lock
lets one publish its whole set while the other fails at once with the documented "in use" error;
``findings.parquet`` is always readable, and manifest, summary and findings always carry one run_id.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import pathlib
import subprocess
import sys

import pyarrow.parquet as pq
import pytest
import yaml

import synthproof
from synthproof.errors import InputError
from synthproof.result import LOCK_NAME, OUTPUT_FILES, output_lock

CHEAP = {"suite": "listed", "checks": {"drift.ks": {}, "duplication.exact_copies": {}}}
BUSY = "in use by another synthproof run (pid"


@pytest.fixture(scope="module")
def two_results():
    from synthproof.datasets import load

    d = load("adult").head(600)
    r1 = synthproof.audit(d.iloc[:300], d.iloc[300:], config=CHEAP)
    r2 = synthproof.audit(d.iloc[:300], d.iloc[300:].assign(age=lambda x: x.age + 5), config=CHEAP)
    assert r1.manifest["run_id"] != r2.manifest["run_id"]
    return r1, r2


def run_ids(out: pathlib.Path) -> tuple[str, str, str]:
    """run_id of findings.parquet (key-value metadata), manifest.json and summary.json."""
    table = pq.read_table(out / "findings.parquet")
    findings = json.loads(table.schema.metadata[b"synthproof"])["run_id"]
    manifest = json.loads((out / "manifest.json").read_text())["run_id"]
    summary = json.loads((out / "summary.json").read_text())["run_id"]
    return findings, manifest, summary


def _writer(result, out, rounds, barrier, queue) -> None:
    for i in range(rounds):
        barrier.wait()
        try:
            result.write(out)
            queue.put((i, "ok"))
        except InputError as exc:
            queue.put((i, "busy" if BUSY in str(exc) else f"input error: {exc}"))
        except Exception as exc:  # noqa: BLE001 - the test counts every other failure as a crash
            queue.put((i, f"crash: {type(exc).__name__}: {exc}"))
        barrier.wait()


def test_summary_carries_the_run_id(two_results, tmp_path):
    r1, _ = two_results
    r1.write(tmp_path / "out")
    ids = run_ids(tmp_path / "out")
    assert ids == (r1.manifest["run_id"],) * 3
    assert r1.summary["run_id"] == r1.manifest["run_id"]


def test_two_concurrent_writers_publish_one_consistent_set(two_results, tmp_path):
    rounds = 25
    r1, r2 = two_results
    ids = {r1.manifest["run_id"], r2.manifest["run_id"]}
    out = tmp_path / "out"
    ctx = mp.get_context("spawn")
    barrier, queue = ctx.Barrier(3), ctx.Queue()
    procs = [ctx.Process(target=_writer, args=(r, out, rounds, barrier, queue)) for r in (r1, r2)]
    for p in procs:
        p.start()
    outcomes, winners = [], []
    try:
        for _ in range(rounds):
            barrier.wait(timeout=120)
            barrier.wait(timeout=120)
            outcomes += [queue.get(timeout=60)[1] for _ in range(2)]
            f_id, m_id, s_id = run_ids(out)  # readable every round
            assert f_id == m_id == s_id and f_id in ids, "files of different runs mixed"
            winners.append(f_id)
    finally:
        for p in procs:
            p.join(timeout=60)
            if p.is_alive():
                p.kill()
    assert all(o in ("ok", "busy") for o in outcomes), [o for o in outcomes if o not in ("ok", "busy")]
    assert outcomes.count("ok") >= rounds
    assert not [p for p in out.iterdir() if p.name.startswith(".synthproof-")], "temporary files left behind"


def test_lock_is_exclusive_across_processes_and_names_the_holder(tmp_path):
    out = tmp_path / "out"
    code = ("import sys, time; from synthproof.result import output_lock\n"
            f"with output_lock({str(out)!r}):\n    print('held', flush=True); time.sleep(30)\n")
    holder = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(InputError, match=rf"in use by another synthproof run \(pid {holder.pid}\)"):
            with output_lock(out):
                pass
    finally:
        holder.kill()
        holder.wait()
        holder.stdout.close()
    with output_lock(out):  # released by the kernel when the holder died: no stale lock
        with output_lock(out):  # re-entrant in one thread (the CLI locks, then write() locks again)
            pass


@pytest.fixture(scope="module")
def cli_inputs(tmp_path_factory):
    from synthproof.datasets import load

    d = tmp_path_factory.mktemp("cli-out")
    adult = load("adult")
    adult.iloc[:300].to_parquet(d / "real.parquet")
    adult.iloc[300:600].to_csv(d / "syn.csv", index=False)
    (d / "cheap.yaml").write_text(yaml.safe_dump(CHEAP))
    return d


def _audit_cmd(d: pathlib.Path, out) -> list[str]:
    return [sys.executable, "-m", "synthproof.cli", "audit", "--real", str(d / "real.parquet"),
            "--synthetic", str(d / "syn.csv"), "--config", str(d / "cheap.yaml"), "--out", str(out)]


def test_two_concurrent_cli_runs_one_wins_other_exits_2(cli_inputs, tmp_path):
    out = tmp_path / "out"
    for _ in range(3):
        procs = [subprocess.Popen(_audit_cmd(cli_inputs, out), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True) for _ in range(2)]
        results = [(p.wait(timeout=300), *p.communicate()) for p in procs]
        codes = sorted(rc for rc, _, _ in results)
        assert codes in ([0, 0], [0, 2]), results
        for rc, _, err in results:
            if rc == 2:
                lines = [ln for ln in err.splitlines() if ln.strip()]
                assert len(lines) == 1 and BUSY in lines[0], err
        f_id, m_id, s_id = run_ids(out)
        assert f_id == m_id == s_id


def test_out_is_checked_before_computing(cli_inputs, tmp_path):
    a_file = tmp_path / "a-file"
    a_file.write_text("keep me")
    missing = str(tmp_path / "no-such-input.parquet")  # the out error must come first
    for out, expected in ((a_file, "exists and is not a folder"), (a_file / "sub", "is not a folder"),
                          ("s3://bucket/report", "remote output folders are not supported")):
        r = subprocess.run([sys.executable, "-m", "synthproof.cli", "audit", "--real", missing, "--synthetic",
                            missing, "--out", str(out)], capture_output=True, text=True, timeout=120)
        lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
        assert r.returncode == 2 and len(lines) == 1 and expected in lines[0], r.stderr
    assert a_file.read_text() == "keep me"


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root may write anywhere")
def test_unwritable_out_exits_2(cli_inputs, tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        r = subprocess.run(_audit_cmd(cli_inputs, ro / "out"), capture_output=True, text=True, timeout=120)
        assert r.returncode == 2 and "not writable" in r.stderr, r.stderr
    finally:
        ro.chmod(0o700)


def test_failed_run_removes_the_folder_it_created(cli_inputs, tmp_path):
    out = tmp_path / "fresh"
    r = subprocess.run([sys.executable, "-m", "synthproof.cli", "audit", "--real", str(tmp_path / "nope.csv"),
                        "--synthetic", str(cli_inputs / "syn.csv"), "--out", str(out)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and not out.exists(), r.stderr


PLANTED = [".summary.json.tmp", ".findings.parquet.tmp", ".manifest.json.tmp", ".report.html.tmp",
           ".synthproof-summary.json.tmp", "summary.json", "report.html", "manifest.json", "findings.parquet"]


def test_planted_symlinks_are_never_written_through(two_results, tmp_path):
    r1, _ = two_results
    out = tmp_path / "out"
    out.mkdir()
    victims = {}
    for name in PLANTED:
        victim = tmp_path / f"victim-{name.strip('.')}"
        victim.write_text("precious")
        (out / name).symlink_to(victim)
        victims[name] = victim
    r1.write(out)
    for name, victim in victims.items():
        assert victim.read_text() == "precious", name
    for name in OUTPUT_FILES:
        assert not (out / name).is_symlink() and (out / name).is_file()
    assert run_ids(out) == (r1.manifest["run_id"],) * 3


def test_planted_lock_symlink_is_refused(two_results, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    victim = tmp_path / "victim"
    victim.write_text("precious")
    (out / LOCK_NAME).symlink_to(victim)
    with pytest.raises(InputError, match="is a symlink"):
        two_results[0].write(out)
    assert victim.read_text() == "precious"
    assert not (out / "findings.parquet").exists()


def test_render_writes_safely(two_results, tmp_path):
    r1, _ = two_results
    r1.write(tmp_path / "out")
    victim = tmp_path / "victim"
    victim.write_text("precious")
    target = tmp_path / "again.html"
    target.symlink_to(victim)
    r = subprocess.run([sys.executable, "-m", "synthproof.cli", "render", str(tmp_path / "out" / "findings.parquet"),
                        "--out", str(target)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert victim.read_text() == "precious"
    assert not target.is_symlink() and "<html" in target.read_text().lower()
    assert r.stdout.strip() == os.path.normpath(str(target))
    (tmp_path / "out" / "report.html").unlink()
    r = subprocess.run([sys.executable, "-m", "synthproof.cli", "render", str(tmp_path / "out" / "findings.parquet")],
                       capture_output=True, text=True, timeout=120)  # beside the findings, under the folder lock
    assert r.returncode == 0 and r.stdout.strip() == str(tmp_path / "out" / "report.html"), r.stderr
    assert (tmp_path / "out" / "report.html").is_file()


def test_write_leaves_no_temporary_file_when_a_write_fails(two_results, tmp_path, monkeypatch):
    import synthproof.result as result

    def boom(table, where, **kwargs):
        where.write(b"PAR1 half a file")
        raise OSError("disk full")

    monkeypatch.setattr(result.pq, "write_table", boom)
    out = tmp_path / "out"
    with pytest.raises(OSError, match="disk full"):
        two_results[0].write(out)
    assert [p.name for p in out.iterdir()] == [LOCK_NAME]  # nothing half-written, no temporary file


def test_write_into_a_file_raises_input_error(two_results, tmp_path):
    target = tmp_path / "a-file"
    target.write_text("keep me")
    with pytest.raises(InputError, match="exists and is not a folder"):
        two_results[0].write(target)
    assert target.read_text() == "keep me"


def test_two_threads_writing_one_folder(two_results, tmp_path):
    import threading

    out = tmp_path / "out"
    ids = {r.manifest["run_id"] for r in two_results}
    for _ in range(10):
        outcomes, barrier = [], threading.Barrier(2)

        def go(result):
            barrier.wait()
            try:
                result.write(out)
                outcomes.append("ok")
            except InputError as exc:
                outcomes.append("busy" if BUSY in str(exc) else str(exc))

        threads = [threading.Thread(target=go, args=(r,)) for r in two_results]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(outcomes) in (["ok", "ok"], ["busy", "ok"]), outcomes
        f_id, m_id, s_id = run_ids(out)
        assert f_id == m_id == s_id and f_id in ids
