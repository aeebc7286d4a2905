"""The ``synthproof`` command line (click).

Exit codes: 0 the gate passed; 1 the gate failed; 2 input or usage error (one line on stderr);
3 internal error.
"""

from __future__ import annotations

import json
import os
import pathlib
import sys
from collections import defaultdict

import click

from ._version import __version__
from .errors import ConfigError, InputError

EXIT_PASS, EXIT_FAIL, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3


def _print_summary(result, out: pathlib.Path) -> None:
    per = defaultdict(lambda: defaultdict(int))
    for f in result.finding_list:
        if f.scope != "row":
            per[f.check_id][f.status] += 1
    for cid in sorted(per):
        st = per[cid]
        worst = next((s for s in ("fail", "error", "warn", "pass", "skipped") if st.get(s)), "pass")
        counts = ", ".join(f"{n} {s}" for s, n in sorted(st.items()))
        click.echo(f"{worst.upper():7} {cid:32} {counts}")
    verdict = "PASSED" if result.passed else "FAILED"
    click.echo(f"gate {verdict} — report: {out / 'report.html'} · findings: {out / 'findings.parquet'}")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="synthproof")
def cli() -> None:
    """Audit synthetic data before you train on it."""


@cli.command()
@click.option("--real", type=str, help="Real data: Parquet file or folder, CSV or JSONL.")
@click.option("--synthetic", type=str, help="Synthetic data, same formats.")
@click.option("--holdout", type=str, help="Real rows the generator never saw (optional).")
@click.option("--config", "config_path", type=str, help="YAML config (see docs/config.md).")
@click.option("--out", type=str, default=None, help="Output folder [default: ./synthproof-report/].")
@click.option("--seed", type=click.IntRange(0, 2**32 - 1), default=None, help="Random seed [default: 0].")
@click.option("--fail-on", type=click.Choice(["fail", "warn"]), default=None, help="Fail the gate on warnings too.")
@click.option("--progress/--no-progress", default=None, help="Progress bar on stderr [default: when a terminal].")
def audit(real, synthetic, holdout, config_path, out, seed, fail_on, progress) -> None:
    """Audit SYNTHETIC against REAL; write findings.parquet, report.html, manifest.json, summary.json."""
    from .api import audit as run_audit
    from .api import resolve_config

    cfg = resolve_config(config_path)
    out_dir = pathlib.Path(out or cfg.out or "synthproof-report")
    if progress is None:
        progress = sys.stderr.isatty()
    result = run_audit(real, synthetic, holdout, config=cfg, seed=seed, fail_on=fail_on, progress=progress)
    result.write(out_dir)
    _print_summary(result, out_dir)
    sys.exit(EXIT_PASS if result.passed else EXIT_FAIL)


@cli.command()
@click.option("--out", type=str, default="synthproof-demo", show_default=True, help="Output folder.")
@click.option("--synthesizer", type=click.Choice(["gaussiancopula", "ctgan"]), default="gaussiancopula",
              show_default=True, help="Which bundled SDV synthetic Adult to audit.")
def demo(out, synthesizer) -> None:
    """Audit bundled real data (UCI Adult, train half) against a real SDV synthesizer's output."""
    from . import datasets
    from .api import audit as run_audit

    real = datasets.load("adult", split="train")
    holdout = datasets.load("adult", split="holdout")
    synthetic = datasets.load(f"adult_sdv_{synthesizer}")
    click.echo(f"real: UCI Adult train half ({len(real)} rows); holdout {len(holdout)} rows; "
               f"synthetic: SDV {synthesizer} ({len(synthetic)} rows)")
    # Adult's outcome column is `income`: declaring it turns on the outcome-parity and utility checks.
    result = run_audit(real, synthetic, holdout, config={"bias": {"target": "income"}}, progress=sys.stderr.isatty())
    out_dir = pathlib.Path(out)
    result.write(out_dir)
    _print_summary(result, out_dir)
    click.echo("demo done (exit 0 whatever the verdict; `synthproof audit` exits 1 when the gate fails)")


@cli.command()
@click.argument("findings", type=str)
@click.option("--out", type=str, default=None, help="HTML path [default: report.html beside FINDINGS].")
def render(findings, out) -> None:
    """Rebuild report.html from a stored findings.parquet (and manifest.json beside it)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from synthproof.reports.html import render_html

    path = pathlib.Path(findings)
    if not path.is_file():
        raise InputError(f"no such file: {path}")
    try:
        table = pq.read_table(path)
    except (pa.ArrowException, OSError) as exc:
        raise InputError(f"cannot read {path}: {str(exc).splitlines()[0]}") from None
    manifest_path = path.with_name("manifest.json")
    if manifest_path.is_file():
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    else:
        meta = (table.schema.metadata or {}).get(b"synthproof")
        manifest = json.loads(meta) if meta else {}
    target = pathlib.Path(out) if out else path.with_name("report.html")
    target.write_text(render_html(table.to_pandas(), manifest), encoding="utf-8")
    click.echo(str(target))


@cli.group()
def checks() -> None:
    """List or explain the available checks."""


@checks.command("list")
def checks_list() -> None:
    """One line per check: id, family, default severity, summary."""
    from .check import registry

    for cid, cls in registry().items():
        click.echo(f"{cid:32} {cls.family:12} {cls.default_severity:5} {cls.summary}")


@checks.command("explain")
@click.argument("check_id")
def checks_explain(check_id) -> None:
    """What a check measures, its direction, unit, range, source and parameters."""
    from .check import get_check

    click.echo(get_check(check_id).explain())


@cli.group()
def config() -> None:
    """Work with audit configs."""


@config.command("validate")
@click.argument("path")
def config_validate(path) -> None:
    """Validate a YAML config (exit 0 when valid, 2 with the failing path otherwise)."""
    from .config import load_config

    cfg = load_config(path)
    click.echo(f"{path}: valid (schema version {cfg.version}, {len(cfg.build_checks())} checks)")


@cli.group()
def validity() -> None:
    """Great Expectations suites derived from real data."""


@validity.command("export-suite")
@click.option("--real", type=str, help="Real data: Parquet file or folder, CSV or JSONL (or from --config).")
@click.option("--config", "config_path", type=str, help="YAML config (roles, calibration, check parameters).")
@click.option("--rows", type=click.IntRange(10, None), default=None,
              help="Batch size the tolerances are matched to [default: half the real rows].")
@click.option("--seed", type=click.IntRange(0, 2**32 - 1), default=None, help="Random seed [default: 0].")
@click.option("-o", "--out", "out", type=str, required=True, help="Where to write the suite (GX 1.x JSON).")
def validity_export_suite(real, config_path, rows, seed, out) -> None:
    """Derive the validity.expectations suite from REAL alone, calibrated on real/real splits, and write it."""
    from . import io
    from .api import resolve_config
    from .context import AuditContext
    from .errors import IncomputableError
    from .runner import gating_alpha
    from .schema import prepare
    from synthproof.checks.validity.gx import DerivedExpectations, export_derived_suite

    cfg = resolve_config(config_path)
    source = real if real is not None else cfg.real
    if source is None:
        raise ConfigError("real data is required (--real or the config's real key)")
    table, _ = io.load(source, "real")
    data = prepare(table, table, None, roles=cfg.columns.roles, include=cfg.columns.include,
                   exclude=cfg.columns.exclude)
    checks = cfg.build_checks()
    check = next((c for c in checks if c.id == DerivedExpectations.id), None) or DerivedExpectations(
        **(cfg.checks.get(DerivedExpectations.id) or {}))
    ctx = AuditContext(data=data, seed=cfg.seed if seed is None else seed, n_splits=cfg.calibration.n_splits,
                       alpha=gating_alpha(checks, cfg.calibration.alpha), settings=cfg)
    try:
        suite = export_derived_suite(ctx, check, rows=rows)
    except IncomputableError as exc:
        raise InputError(f"cannot derive a suite: {exc}") from None
    target = pathlib.Path(out)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(suite, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    click.echo(f"{target}: {len(suite['expectations'])} expectations from {len(data.real)} real rows")


def main(argv: list[str] | None = None) -> None:
    """Entry point: maps errors to the contract's exit codes with one line on stderr."""
    try:
        cli.main(args=argv, prog_name="synthproof", standalone_mode=False)
    except (InputError, ConfigError) as exc:
        click.echo(f"synthproof: error: {exc}", err=True)
        sys.exit(EXIT_USAGE)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        click.echo(f"synthproof: error: {exc.format_message()}", err=True)
        sys.exit(EXIT_USAGE)
    except click.exceptions.Abort:
        click.echo("synthproof: aborted", err=True)
        sys.exit(EXIT_USAGE)
    except SystemExit:
        raise
    except Exception as exc:  # noqa: BLE001
        if os.environ.get("SYNTHPROOF_DEBUG"):
            raise
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        click.echo(f"synthproof: internal error: {type(exc).__name__}: {first} "
                   "(set SYNTHPROOF_DEBUG=1 for a traceback)", err=True)
        sys.exit(EXIT_INTERNAL)


if __name__ == "__main__":  # pragma: no cover
    main()
