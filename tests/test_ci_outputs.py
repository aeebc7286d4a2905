"""CI outputs (``--markdown``, ``--annotations github``; ``synthproof render`` of a stored run):
ranking by effect, escaping of user data, caps, appending to a step summary, refusals."""

from __future__ import annotations

import os

import pandas as pd

from synthproof.reports import ci

from .test_cli import cli, files  # noqa: F401  (fixture)


def frame(rows: list[dict]) -> pd.DataFrame:
    base = {"scope": "column", "column": None, "subgroup": None, "family": "drift", "value": None,
            "baseline_value": None, "min_effect": None, "message": "m"}
    return pd.DataFrame([{**base, **r} for r in rows])


def test_checks_ranked_by_effect_beyond_the_baseline():
    f = frame([
        {"check_id": "drift.ks", "status": "fail", "column": "a", "value": 0.30, "baseline_value": 0.10, "min_effect": 0.05},
        {"check_id": "drift.ks", "status": "fail", "column": "b", "value": 0.20, "baseline_value": 0.10, "min_effect": 0.05},
        {"check_id": "drift.smd", "status": "fail", "column": "c", "value": 1.0, "baseline_value": 0.0, "min_effect": 0.1},
        {"check_id": "drift.tvd", "status": "pass", "column": "d", "value": 9.0, "baseline_value": 0.0, "min_effect": 0.1},
        {"check_id": "drift.ks", "status": "fail", "scope": "row", "value": 99.0, "baseline_value": 0.0},
    ])
    ranked = ci.ranked_checks(f, "fail")
    assert [e["check_id"] for e in ranked] == ["drift.smd", "drift.ks"]  # effects 10 and 4
    assert ranked[1]["count"] == 2 and ranked[1]["worst"]["column"] == "a"
    assert abs(ranked[0]["effect"] - 10.0) < 1e-12 and abs(ranked[1]["effect"] - 4.0) < 1e-12
    md = ci.markdown_summary(f, passed=False)
    assert md.startswith("## synthproof: FAIL") and md.index("drift.smd") < md.index("drift.ks")
    assert "drift.tvd" not in md and "2 failing check(s)" in md


def test_user_data_is_escaped_in_markdown_and_workflow_commands():
    hostile = "<img src=x onerror=alert(1)>|`x`\nnext"
    f = frame([{"check_id": "drift.ks", "status": "fail", "column": hostile, "message": "50% off, a:b\r\nc"}])
    md = ci.markdown_summary(f, passed=False)
    row = next(line for line in md.splitlines() if line.startswith("| `drift.ks`"))
    assert "<img" not in md and "&lt;img" in row and "\\|\\`x\\`" in row
    assert row.count(" | ") == 6  # seven cells: the column name's pipe does not add one
    (line,) = ci.github_annotations(f)
    assert line.startswith("::error title=synthproof drift.ks (fail%2C 1 finding(s))::")
    assert "\n" not in line and "\r" not in line and "50%25 off" in line


def test_annotations_capped_with_a_notice():
    f = frame([{"check_id": f"drift.c{i:02d}", "status": "fail"} for i in range(13)]
              + [{"check_id": "drift.w", "status": "warn"}])
    lines = ci.github_annotations(f, cap=10)
    assert sum(line.startswith("::error ") for line in lines) == 10
    assert sum(line.startswith("::warning ") for line in lines) == 1
    assert lines[-1] == "::notice title=synthproof::3 more check(s) failing or warning: see the report"


def test_audit_and_render_write_the_same_summary(files, tmp_path):  # noqa: F811
    out, md = tmp_path / "run", tmp_path / "summary.md"
    md.write_text("previous step\n")
    r = cli("audit", "--real", str(files / "real.parquet"), "--synthetic", str(files / "bad.csv"),
            "--config", str(files / "only.yaml"), "--out", str(out), "--markdown", str(md), "--annotations", "github")
    assert r.returncode == 1, r.stderr
    text = md.read_text()
    assert text.startswith("previous step\n## synthproof: FAIL")  # appended, as $GITHUB_STEP_SUMMARY wants
    assert "| `drift.ks` |" in text and "age" in text
    assert any(line.startswith("::error title=synthproof drift.ks") for line in r.stdout.splitlines())
    again = tmp_path / "again.md"
    r = cli("render", str(out / "findings.parquet"), "--out", str(tmp_path / "r.html"), "--markdown", str(again),
            "--annotations", "github")
    assert r.returncode == 0, r.stderr
    rendered, audited = again.read_text().splitlines(), text.splitlines()[1:]
    assert rendered[:-1] == audited[:-1]  # the same summary; the last line links each one's report
    assert rendered[-1].endswith(f"({tmp_path / 'r.html'})") and audited[-1].endswith(f"({out / 'report.html'})")


def test_markdown_through_a_symlink_is_refused(files, tmp_path):  # noqa: F811
    target = tmp_path / "elsewhere.md"
    target.write_text("")
    link = tmp_path / "link.md"
    os.symlink(target, link)
    r = cli("audit", "--real", str(files / "real.parquet"), "--synthetic", str(files / "syn.csv"),
            "--config", str(files / "only.yaml"), "--out", str(tmp_path / "o"), "--markdown", str(link))
    assert r.returncode == 2 and "symbolic link" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert target.read_text() == "" and not (tmp_path / "o").exists()  # refused before the run
    for bad, why in ((tmp_path, "folder"), (tmp_path / "no" / "s.md", "no such folder")):
        r = cli("audit", "--real", str(files / "real.parquet"), "--synthetic", str(files / "syn.csv"),
                "--config", str(files / "only.yaml"), "--out", str(tmp_path / "o"), "--markdown", str(bad))
        assert r.returncode == 2 and why in r.stderr and not (tmp_path / "o").exists()
