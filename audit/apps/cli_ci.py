"""CI pieces of the command line: the ``--junit`` / ``--markdown`` / ``--annotations`` options of
``audit`` and ``render``, reading a stored run, and ``synthproof compare OLD NEW``."""

from __future__ import annotations

import io as _io
import json
import pathlib
import re
import sys

import click

from synthproof.errors import InputError

EXIT_PASS, EXIT_FAIL = 0, 1


def ci_options(fn):
    """The ``--junit PATH``, ``--markdown PATH`` and ``--annotations github`` options."""
    fn = click.option("--annotations", type=click.Choice(["github"]), default=None,
                      help="Print GitHub Actions ::error/::warning lines, one per failing or warning check "
                           "(at most 10 of each).")(fn)
    fn = click.option("--junit", type=str, default=None, metavar="PATH",
                      help="Write JUnit XML to PATH: one testcase per check and scope (Jenkins, GitLab).")(fn)
    return click.option("--markdown", type=str, default=None, metavar="PATH",
                        help="Append a Markdown step summary (verdict, failing checks ranked by effect) to PATH, "
                             "e.g. $GITHUB_STEP_SUMMARY.")(fn)


def check_targets(markdown, junit) -> None:
    """Refuse bad ``--markdown`` / ``--junit`` paths before anything is computed (exit 2)."""
    from synthproof.reports.ci import check_target

    for path in (markdown, junit):
        if path:
            check_target(path)


def ci_outputs(findings, passed: bool, report, markdown, annotations, junit, run_id=None, comparison=None,
               baseline=None) -> None:
    """Write the CI outputs of a run (``findings`` None: of the comparison alone) and of its
    comparison with the run in ``baseline``, when ``comparison`` is given; ``report`` is the run's
    report (or findings) path, whose folder names the new run."""
    from synthproof.reports import ci
    from synthproof.reports.junit import comparison_suite, junit_xml
    from synthproof.result import atomic_write

    if markdown:
        parts = [] if findings is None else [ci.markdown_summary(findings, passed, str(report))]
        if comparison is not None:
            parts.append(ci.comparison_markdown(comparison, str(baseline), str(pathlib.Path(report).parent)))
        ci.append_text(markdown, "\n".join(parts))
    if junit:
        extra = [comparison_suite(comparison)] if comparison is not None else []
        atomic_write(pathlib.Path(junit), junit_xml(findings, passed, run_id, extra).encode("utf-8"))
    if annotations == "github":
        lines = [] if findings is None else ci.github_annotations(findings)
        if comparison is not None:
            lines += ci.comparison_annotations(comparison)
        for line in lines:
            click.echo(line)


def _findings_path(path: str) -> pathlib.Path:
    if re.match(r"^[A-Za-z][A-Za-z0-9+.\-]*://", path):
        raise InputError(f"remote paths are not supported yet: copy {path} locally and pass the local path")
    p = pathlib.Path(path)
    if p.is_dir():
        p = p / "findings.parquet"
    if not p.is_file():
        raise InputError(f"no such file: {p} (pass a synthproof output folder or its findings.parquet)")
    return p


def read_run(path: str):
    """A stored run: ``(findings table (pyarrow), manifest dict, findings path)``; ``path`` is an
    output folder or its ``findings.parquet`` (the manifest is read from ``manifest.json`` beside
    it, else from the table's metadata).

    Raises
    ------
    InputError
        Missing or unreadable file, not a synthproof findings table, unreadable manifest.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    from synthproof.findings import SCHEMA

    p = _findings_path(path)
    try:
        schema = pq.read_schema(p)
    except (pa.ArrowException, OSError) as exc:
        raise InputError(f"cannot read {p}: {str(exc).splitlines()[0]}") from None
    key = ("check_id", "status", "metric", "value")
    optional = ("waiver",)  # added in 0.x: older runs have no waivers
    missing = sorted((n for n in SCHEMA.names if n not in schema.names and n not in optional),
                     key=lambda n: key.index(n) if n in key else len(key))
    if missing:
        raise InputError(f"{p} is not a synthproof findings table (missing columns {', '.join(missing[:6])}"
                         f"{f' and {len(missing) - 6} more' if len(missing) > 6 else ''}): pass the "
                         "findings.parquet that `synthproof audit` wrote")
    try:
        table = pq.read_table(p)
    except (pa.ArrowException, OSError) as exc:
        raise InputError(f"cannot read {p}: {str(exc).splitlines()[0]}") from None
    if "waiver" not in table.schema.names:
        table = table.append_column("waiver", pa.nulls(len(table), pa.string()))
    manifest_path = p.with_name("manifest.json")
    try:
        if manifest_path.is_file():
            manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        else:
            meta = (table.schema.metadata or {}).get(b"synthproof")
            manifest = json.loads(meta) if meta else {}
    except (ValueError, OSError) as exc:
        raise InputError(f"cannot read {manifest_path}: {str(exc).splitlines()[0]}") from None
    if not isinstance(manifest, dict):
        raise InputError(f"{manifest_path} is not a synthproof manifest (not a JSON object)")
    return table, manifest, p


def comparison_bytes(table) -> bytes:
    """The comparison table as Parquet bytes (``comparison.parquet``)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    buf = _io.BytesIO()
    t = table.copy()
    t["effect"] = t["effect"].replace([float("inf")], float("nan"))
    pq.write_table(pa.Table.from_pandas(t, preserve_index=False), buf, compression="zstd")
    return buf.getvalue()


def echo_comparison(table, old_manifest: dict, new_manifest: dict) -> int:
    """Print a comparison (regressions first); return its exit code."""
    from synthproof.compare import regressions

    if old_manifest.get("config_hash") and new_manifest.get("config_hash") \
            and old_manifest["config_hash"] != new_manifest["config_hash"]:
        click.echo("note: the two runs used different configs (config_hash differs); findings are matched by "
                   "check, scope, column, subgroup and metric")
    reg = regressions(table)
    for r in reg.head(30).to_dict("records"):
        click.echo(f"{r['change'].upper():16} {r['message']}")
    if len(reg) > 30:
        click.echo(f"... and {len(reg) - 30} more regression(s)")
    counts = table["change"].value_counts()
    click.echo("compare " + ("REGRESSED" if len(reg) else "NO REGRESSION") + ": "
               + ", ".join(f"{int(v)} {k.replace('_', ' ')}" for k, v in counts.items()))
    return EXIT_FAIL if len(reg) else EXIT_PASS


@click.command()
@click.argument("old", type=str)
@click.argument("new", type=str)
@click.option("--out", type=str, default=None, metavar="PATH",
              help="Write the comparison table (Parquet) to PATH [default: not written].")
@ci_options
def compare(old, new, out, markdown, junit, annotations) -> None:
    """Compare two runs (output folders or findings.parquet files): exit 1 when a finding fails in NEW
    and not in OLD and is worse beyond its calibrated real/real noise and the check's minimum effect
    (or has no calibrated noise to excuse it), when a waived finding got worse by those margins, or
    when NEW judged a check OLD judged no more. New failures are listed first; see docs/ci.md."""
    from synthproof.compare import compare_findings
    from synthproof.findings import table_to_frame
    from synthproof.result import atomic_write

    check_targets(markdown, junit)
    if out and pathlib.Path(out).is_dir():
        raise InputError(f"--out {out} is a folder: pass the path of the Parquet file to write")
    old_t, old_m, old_p = read_run(old)
    new_t, new_m, new_p = read_run(new)
    table = compare_findings(table_to_frame(old_t), table_to_frame(new_t))
    if out:
        atomic_write(pathlib.Path(out), comparison_bytes(table))
    ci_outputs(None, None, new_p, markdown, annotations, junit, run_id=new_m.get("run_id"), comparison=table,
               baseline=old_p.parent)
    sys.exit(echo_comparison(table, old_m, new_m))


def load_baseline(path: str):
    """``audit --baseline DIR``: the stored run's findings frame and manifest, read before the audit."""
    from synthproof.findings import table_to_frame

    table, manifest, _ = read_run(path)
    return table_to_frame(table), manifest


__all__ = ["ci_options", "check_targets", "ci_outputs", "read_run", "compare", "load_baseline"]
