"""Check selection (``select`` in the config; ``--checks``, ``--families``, ``--skip`` on the
command line): what runs, did-you-mean errors as exit 2 before any data is read, and a required
check left out failing the gate closed."""

from __future__ import annotations

import json

import pyarrow.parquet as pq
import pytest

from synthproof.api import resolve_config
from synthproof.check import registry
from synthproof.errors import ConfigError

from .test_cli import cli, files  # noqa: F401  (fixture)


def ids(select: dict, **cfg) -> list[str]:
    return [c.id for c in resolve_config({**cfg, "select": select}).build_checks()]


def test_families_checks_and_skip_narrow_the_suite():
    reg = registry()
    drift = [c for c, cls in reg.items() if cls.family == "drift"]
    assert ids({"families": ["drift"]}) == drift
    assert ids({"families": ["drift"], "skip": ["drift.ks"]}) == [c for c in drift if c != "drift.ks"]
    assert ids({"checks": ["duplication.exact_copies"], "families": ["drift"]}) == [
        c for c in reg if c in drift or c == "duplication.exact_copies"]
    everything_but = ids({"skip": ["drift", "bias"]})
    assert everything_but == [c for c, cls in reg.items() if cls.family not in ("drift", "bias")]
    listed = {"suite": "listed", "checks": {"drift.ks": {}, "drift.tvd": {}, "duplication.exact_copies": {}}}
    assert ids({"skip": ["drift.tvd"]}, **listed) == ["drift.ks", "duplication.exact_copies"]


@pytest.mark.parametrize("select,message", [
    ({"families": ["drfit"]}, "unknown family 'drfit'; did you mean 'drift'?"),
    ({"checks": ["drift.kss"]}, "unknown check id 'drift.kss'; did you mean 'drift.ks'?"),
    ({"skip": ["duplicaton"]}, "'duplicaton' is neither a check id nor a family; did you mean 'duplication'?"),
    ({"families": ["drift"], "skip": ["drift"]}, "leaves no check to run"),
])
def test_bad_selection_is_a_config_error_with_a_hint(select, message):
    with pytest.raises(ConfigError, match=message.replace("?", r"\?").replace("(", r"\(")):
        ids(select)


def test_check_outside_a_listed_suite_is_refused():
    with pytest.raises(ConfigError, match="'drift.ks' is not in the suite"):
        ids({"checks": ["drift.ks"]}, suite="listed", checks={"drift.tvd": {}})


def test_cli_flags_select_and_a_skipped_required_check_fails_closed(files, tmp_path):  # noqa: F811
    real, syn = str(files / "real.parquet"), str(files / "syn.csv")
    out = tmp_path / "a"
    r = cli("audit", "--real", real, "--synthetic", syn, "--families", "drift", "--skip", "drift.detection_auc,drift.pair_association",
            "--checks", "duplication.exact_copies", "--out", str(out))
    assert r.returncode == 0, r.stderr
    ran = set(pq.read_table(out / "findings.parquet").column("check_id").to_pylist())
    reg = registry()
    want = {c for c, cls in reg.items() if cls.family == "drift"} - {"drift.detection_auc", "drift.pair_association"}
    ran = {c for c in ran if not c.startswith("gate.")}
    assert {"drift.ks", "drift.tvd", "drift.psi", "duplication.exact_copies"} <= ran <= want | {"duplication.exact_copies"}
    assert json.loads((out / "manifest.json").read_text())["config"]["select"]["skip"] == ["drift.detection_auc",
                                                                                        "drift.pair_association"]
    cfg = tmp_path / "c.yaml"
    cfg.write_text("gate: {require: [duplication.exact_copies]}\n")
    r = cli("audit", "--real", real, "--synthetic", syn, "--config", str(cfg), "--families", "drift",
            "--out", str(tmp_path / "b"))
    assert r.returncode == 1, r.stderr
    summary = json.loads((tmp_path / "b" / "summary.json").read_text())
    assert "gate.coverage" in summary["failing_checks"]


def test_cli_unknown_family_exits_2_one_line_nothing_written(files, tmp_path):  # noqa: F811
    out = tmp_path / "never"
    r = cli("audit", "--real", str(files / "real.parquet"), "--synthetic", str(files / "syn.csv"),
            "--families", "drfit", "--out", str(out))
    assert r.returncode == 2
    assert len(r.stderr.strip().splitlines()) == 1 and "did you mean 'drift'?" in r.stderr
    assert not out.exists()
