"""The ``synthproof`` command line (click).

Exit codes: 0 the gate passed; 1 the gate failed; 2 input or usage error (one line on stderr);
3 internal error.
"""

from __future__ import annotations

import contextlib
import json
import os
import pathlib
import re
import sys
from collections import defaultdict

import click

from ._version import __version__
from .apps.cli_ci import check_targets, ci_options, ci_outputs
from .errors import ConfigError, InputError, MissingDependencyError

EXIT_PASS, EXIT_FAIL, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3


def _shown(path: os.PathLike | str) -> str:
    """A path as printed: absolute and normalised (no ``./`` or ``a/../``)."""
    return os.path.normpath(os.path.abspath(os.fspath(path)))


def _print_summary(result, out: pathlib.Path) -> None:
    per = defaultdict(lambda: defaultdict(int))
    for f in result.finding_list:
        if f.scope != "row":
            per[f.check_id]["waived" if f.waiver else f.status] += 1
    width = max((len(c) for c in per), default=0)
    for cid in sorted(per):
        st = per[cid]
        worst = next((s for s in ("fail", "error", "warn", "waived", "pass", "skipped") if st.get(s)), "pass")
        counts = ", ".join(f"{n} {s}" for s, n in sorted(st.items()))
        click.echo(f"{worst.upper():7} {cid:{width}} {counts}")
    verdict = "PASSED" if result.passed else "FAILED"
    click.echo(f"gate {verdict} — report: {_shown(out / 'report.html')} · findings: {_shown(out / 'findings.parquet')}")


def _refuse_remote_out(out: str) -> None:
    if re.match(r"^[A-Za-z][A-Za-z0-9+.\-]*://", out):
        raise InputError(f"--out {out}: remote output folders are not supported yet: write to a local folder "
                         "and copy it (e.g. `aws s3 cp --recursive`)")


@contextlib.contextmanager
def _claimed_out(out: str):
    """Check and lock the output folder before any computing (a second run into it fails at once);
    a folder this run created is removed again when the run ends in an error."""
    from .result import LOCK_NAME, output_lock

    _refuse_remote_out(out)
    out_dir = pathlib.Path(out)
    created = not out_dir.exists()
    with output_lock(out_dir):
        try:
            yield out_dir
        except BaseException:
            with contextlib.suppress(OSError):
                if created and os.listdir(out_dir) == [LOCK_NAME]:
                    (out_dir / LOCK_NAME).unlink()
                    out_dir.rmdir()
            raise


def _input_options(fn):
    """The --real, --synthetic and --holdout options (audit, sketch)."""
    for opt in reversed([
            click.option("--real", type=str, help="Real data: Parquet file or folder, CSV or JSONL."),
            click.option("--synthetic", type=str, help="Synthetic data, same formats."),
            click.option("--holdout", type=str, help="Real rows the generator never saw (optional).")]):
        fn = opt(fn)
    return fn


def with_selection(cfg, only_checks: tuple, families: tuple, skip: tuple):
    """``cfg`` with the command line's ``--checks`` / ``--families`` / ``--skip`` (comma-separated,
    repeatable) in place of the config's ``select`` lists, checked before any data is read."""
    given = {k: [n.strip() for v in vals for n in v.split(",") if n.strip()]
             for k, vals in (("checks", only_checks), ("families", families), ("skip", skip)) if vals}
    if given:
        cfg = cfg.model_copy(update={"select": cfg.select.model_copy(update=given)})
    cfg.build_checks()
    return cfg


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="synthproof")
def cli() -> None:
    """Audit synthetic data before you train on it."""


@cli.command()
@_input_options
@click.option("--config", "config_path", type=str, help="YAML config (see docs/config.md).")
@click.option("--out", type=str, default=None, help="Output folder [default: ./synthproof-report/].")
@click.option("--seed", type=click.IntRange(0, 2**32 - 1), default=None, help="Random seed [default: 0].")
@click.option("--fail-on", type=click.Choice(["fail", "warn"]), default=None, help="Fail the gate on warnings too.")
@click.option("--progress/--no-progress", default=None, help="Progress bar on stderr [default: when a terminal].")
@click.option("--encoding", type=str, default=None,
              help="Text encoding of CSV/JSONL inputs, e.g. latin-1 or cp1252 [default: utf-8].")
@click.option("--delimiter", type=str, default=None,
              help="CSV field delimiter: , ; | or tab [default: sniffed from the file].")
@click.option("--memory", type=str, default=None,
              help="Memory budget, e.g. 4GiB; inputs that would not fit stream out of core "
                   "[default: resources.memory, else half the machine's memory, at most 8 GiB].")
@click.option("--states", type=str, default=None,
              help="Merge the shard states that synthproof sketch wrote into this folder and judge them "
                   "(the inputs default to those the states were sketched from).")
@click.option("--executor", type=click.Choice(["local", "ray"]), default=None,
              help="Where the passes over streamed inputs run: this process, or Ray tasks "
                   "(pip install 'synthproof[ray]') [default: executor.kind, else local].")
@click.option("--address", type=str, default=None,
              help="Ray cluster address [default: executor.address, else RAY_ADDRESS, else a local cluster].")
@click.option("--checks", "only_checks", multiple=True, metavar="IDS",
              help="Run only these checks (comma-separated ids; see synthproof checks list) [default: select.checks].")
@click.option("--families", multiple=True, metavar="NAMES",
              help="Run only the checks of these families, e.g. drift,duplication [default: select.families].")
@click.option("--skip", multiple=True, metavar="NAMES",
              help="Leave out these checks or families (comma-separated) [default: select.skip].")
@click.option("--baseline", type=str, default=None, metavar="DIR",
              help="Compare with an earlier run's output folder (see synthproof compare): exit 1 also on a "
                   "regression beyond the calibrated noise; writes comparison.parquet.")
@ci_options
def audit(real, synthetic, holdout, config_path, out, seed, fail_on, progress, encoding, delimiter, memory,
          states, executor, address, only_checks, families, skip, baseline, markdown, junit, annotations) -> None:
    """Audit SYNTHETIC against REAL; write findings.parquet, report.html, manifest.json, summary.json.

    The output folder is locked for the whole run: a second run into the same folder exits 2 at once."""
    from .api import audit as run_audit
    from .api import resolve_config

    cfg = with_selection(resolve_config(config_path), only_checks, families, skip)
    check_targets(markdown, junit)  # before the run: a bad path exits 2 with nothing written
    base = None
    if baseline is not None:
        from .apps.cli_ci import load_baseline

        base = load_baseline(baseline)
    if memory is not None:
        from .plan.outofcore import parse_memory

        parse_memory(memory)  # a bad size exits 2 before anything is read
    if progress is None:  # bars on a terminal, else plain lines for the passes over streamed data
        progress = True if sys.stderr.isatty() else "lines"
    with _claimed_out(out or cfg.out or "synthproof-report") as out_dir:
        result = run_audit(real, synthetic, holdout, config=cfg, seed=seed, fail_on=fail_on, progress=progress,
                           encoding=encoding, delimiter=delimiter, memory=memory, states=states,
                           executor=executor, address=address)
        comparison = extra = None
        if base is not None:
            from .apps.cli_ci import comparison_bytes
            from .compare import compare_findings

            comparison = compare_findings(base[0], result.findings)
            extra = {"comparison.parquet": comparison_bytes(comparison)}
        result.write(out_dir, extra=extra)
    ci_outputs(result.findings, result.passed, out_dir / "report.html", markdown, annotations, junit,
               run_id=result.manifest.get("run_id"), comparison=comparison, baseline=baseline)
    _print_summary(result, out_dir)
    code = EXIT_PASS if result.passed else EXIT_FAIL
    if comparison is not None:
        from .apps.cli_ci import echo_comparison

        code = max(code, echo_comparison(comparison, base[1], result.manifest))
    sys.exit(code)


@cli.command()
@_input_options
@click.option("--config", "config_path", type=str, help="YAML config (the same for every shard and the audit).")
@click.option("--shard", type=str, required=True, help="I/N: this task is shard I of N (0 <= I < N).")
@click.option("--out", type=str, required=True, help="State folder, shared by every shard (e.g. on shared storage).")
@click.option("--seed", type=click.IntRange(0, 2**32 - 1), default=None, help="Random seed [default: 0].")
@click.option("--encoding", type=str, default=None, help="Text encoding of CSV/JSONL inputs [default: utf-8].")
@click.option("--delimiter", type=str, default=None, help="CSV field delimiter [default: sniffed].")
@click.option("--memory", type=str, default=None, help="Memory budget of this task, e.g. 4GiB.")
def sketch(real, synthetic, holdout, config_path, shard, out, seed, encoding, delimiter, memory) -> None:
    """Write the next phase's state of shard I of N into OUT (four phases: rows, sample, scan, count).

    Run every shard once per phase (a Slurm array or Kubernetes indexed Job per phase), then
    `synthproof audit --states OUT`. See docs/scale.md."""
    from .api import sketch as run_sketch
    from .plan.shards import PHASES, parse_shard

    where = parse_shard(shard)
    _refuse_remote_out(out)
    if memory is not None:
        from .plan.outofcore import parse_memory

        parse_memory(memory)
    phase, path = run_sketch(real, synthetic, holdout, shard=where, out=out, config=config_path, seed=seed,
                             encoding=encoding, delimiter=delimiter, memory=memory)
    i, n = where
    if phase is None:
        click.echo(f"shard {i}/{n}: every phase is written ({len(PHASES)} of {len(PHASES)}); next: "
                   f"synthproof audit --states {_shown(out)}")
    else:
        k = PHASES.index(phase) + 1
        nxt = ("run the next phase for every shard" if k < len(PHASES)
               else f"when every shard is done: synthproof audit --states {_shown(out)}")
        click.echo(f"shard {i}/{n}: wrote phase {k} of {len(PHASES)} ({phase}): {_shown(path)}; {nxt}")
    sys.exit(EXIT_PASS)


@cli.command()
@click.option("--out", type=str, default="synthproof-demo", show_default=True, help="Output folder.")
@click.option("--synthesizer", type=click.Choice(["gaussiancopula", "ctgan"]), default="gaussiancopula",
              show_default=True, help="Which bundled SDV synthetic Adult to audit.")
@click.option("--only", type=click.Choice(["all", "table", "text"]), default="all", show_default=True,
              help="Run the table audit, the text audit, or both.")
def demo(out, synthesizer, only) -> None:
    """Audit bundled real data against a real generator's output: UCI Adult (train half) against an SDV
    synthesizer (OUT/), and Debian fortunes against texts generated by SmolLM2-135M-Instruct (OUT/text/)."""
    from . import datasets
    from .api import audit as run_audit

    progress = sys.stderr.isatty()
    if only in ("all", "table"):
        real = datasets.load("adult", split="train")
        holdout = datasets.load("adult", split="holdout")
        synthetic = datasets.load(f"adult_sdv_{synthesizer}")
        click.echo(f"real: UCI Adult train half ({len(real)} rows); holdout {len(holdout)} rows; "
                   f"synthetic: SDV {synthesizer} ({len(synthetic)} rows)")
        # Adult's outcome column is `income`: declaring it turns on the outcome-parity and utility checks.
        result = run_audit(real, synthetic, holdout, config={"bias": {"target": "income"}}, progress=progress)
        out_dir = pathlib.Path(out)
        result.write(out_dir)
        _print_summary(result, out_dir)
    if only in ("all", "text"):
        real = datasets.load("fortunes")
        synthetic = datasets.load("fortunes_smollm2")
        click.echo(f"real: Debian fortunes ({len(real)} texts); synthetic: SmolLM2-135M-Instruct "
                   f"({len(synthetic)} texts); embeddings: bundled all-MiniLM-L6-v2 (offline)")
        result = run_audit(real, synthetic, config=None, progress=progress)
        out_dir = pathlib.Path(out) / "text"
        result.write(out_dir)
        _print_summary(result, out_dir)
    click.echo("demo done (exit 0 whatever the verdict; `synthproof audit` exits 1 when the gate fails)")


@cli.command()
@click.argument("findings", type=str)
@click.option("--out", type=str, default=None, help="HTML path [default: report.html beside FINDINGS].")
@ci_options
def render(findings, out, markdown, junit, annotations) -> None:
    """Rebuild report.html from a stored findings.parquet (or output folder) and the manifest.json
    beside it; with --markdown / --junit / --annotations also the CI outputs of that run."""
    from synthproof.reports.html import render_html

    from .apps.cli_ci import read_run
    from .findings import table_to_frame
    from .result import atomic_write, output_lock

    check_targets(markdown, junit)
    table, manifest, path = read_run(findings)
    target = pathlib.Path(out) if out else path.with_name("report.html")
    if target.is_dir():
        raise InputError(f"--out {target} is a folder: pass the path of the HTML file to write")
    if (markdown or annotations or junit) and manifest.get("verdict") not in ("pass", "fail"):
        raise InputError(f"{path}: no gate verdict recorded beside it (manifest.json): --markdown, --junit and "
                         "--annotations need the findings.parquet and manifest.json of one run")
    frame = table_to_frame(table)
    html = render_html(frame, manifest).encode("utf-8")
    if os.path.realpath(target.parent) == os.path.realpath(path.parent):
        with output_lock(target.parent):  # the run's folder: never between an audit's files
            atomic_write(target, html)
    else:
        atomic_write(target, html)
    click.echo(_shown(target))
    if markdown or annotations or junit:
        ci_outputs(frame, manifest["verdict"] == "pass", target, markdown, annotations, junit,
                   run_id=manifest.get("run_id"))


@cli.group()
def checks() -> None:
    """List or explain the available checks."""


@checks.command("list")
@click.option("--json", "as_json", is_flag=True, help="A JSON array of objects (id, family, default_severity, "
              "metric, goal, unit, range, computation, needs, summary, source).")
def checks_list(as_json) -> None:
    """One line per check: id, family, default severity, summary."""
    from .check import registry

    reg = registry()
    if as_json:
        rows = [{"id": cid, "family": cls.family, "default_severity": cls.default_severity,
                 "metric": getattr(cls, "metric", None), "goal": cls.goal, "unit": cls.unit,
                 "range": cls.value_range, "computation": cls.computation, "needs": list(cls.needs or ()),
                 "summary": cls.summary,
                 "source": cls.source}
                for cid, cls in reg.items()]
        click.echo(json.dumps(rows, indent=2))
        return
    w_id = max((len(c) for c in reg), default=0)
    w_fam = max((len(cls.family) for cls in reg.values()), default=0)
    w_sev = max((len(cls.default_severity) for cls in reg.values()), default=0)
    for cid, cls in reg.items():
        click.echo(f"{cid:{w_id}}  {cls.family:{w_fam}}  {cls.default_severity:{w_sev}}  {cls.summary}".rstrip())


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
                       alpha=gating_alpha(checks, cfg.calibration.alpha, data), settings=cfg)
    try:
        suite = export_derived_suite(ctx, check, rows=rows)
    except IncomputableError as exc:
        raise InputError(f"cannot derive a suite: {exc}") from None
    from .result import atomic_write

    target = pathlib.Path(out)
    if target.is_dir():
        raise InputError(f"--out {target} is a folder: pass the path of the JSON file to write")
    atomic_write(target, (json.dumps(suite, indent=2, sort_keys=True) + "\n").encode("utf-8"))
    click.echo(f"{_shown(target)}: {len(suite['expectations'])} expectations from {len(data.real)} real rows")


from .apps.cli_ci import compare  # noqa: E402
from .apps.cli_compliance import compliance  # noqa: E402
from .apps.cli_provenance import provenance  # noqa: E402

cli.add_command(provenance)
cli.add_command(compliance)
cli.add_command(compare)


@cli.command()
@click.argument("generations", nargs=-1, required=True)
@click.option("--out", type=str, default="synthproof-lineage", show_default=True, help="Output folder.")
@click.option("--real-share", type=str, default=None,
              help="Real share of each generation's training mix, comma-separated (GEN0 first; blank = unknown).")
@click.option("--real-share-floor", type=click.FloatRange(0, 1), default=None, help="Fail below this real share.")
@click.option("--min-effect", type=click.FloatRange(0, 1), default=0.2, show_default=True,
              help="Smallest drop of tail retention or diversity (1 - value) worth failing.")
@click.option("--alpha", type=click.FloatRange(0, 1, min_open=True), default=0.05, show_default=True)
@click.option("--n-boot", type=click.IntRange(10, 10_000), default=40, show_default=True,
              help="Resamples of GEN0 per generation (the real/real noise).")
@click.option("--seed", type=click.IntRange(0, 2**32 - 1), default=0, show_default=True)
def lineage(generations, out, real_share, real_share_floor, min_effect, alpha, n_boot, seed) -> None:
    """Track GEN0 (real) GEN1 ... GENk for model collapse: tails, diversity, drift, real share, trends.
    With a single GENk, follow the parents recorded in its signed manifest back to generation 0.
    Writes lineage.html, lineage.parquet and summary.json; exit 1 when the gate fails."""
    from .apps.lineage import LineageConfig, load_generations, run_lineage, write_lineage

    if len(generations) == 1:  # follow the parents recorded in signed manifests
        from synthproof.provenance.signing import walk_parents

        generations = walk_parents(generations[0])
        click.echo("chain from signed manifests: " + " <- ".join(generations[::-1]))
    if len(generations) < 2:
        raise InputError("lineage needs GEN0 (the real data) and at least one later generation")
    shares = None
    if real_share:
        try:
            shares = [float(x) if x.strip() else None for x in real_share.split(",")]
        except ValueError:
            raise InputError("--real-share must be comma-separated numbers") from None
    gens, inputs = load_generations(list(generations), shares)
    cfg = LineageConfig(alpha=alpha, min_effect=min_effect, n_boot=n_boot, real_share_floor=real_share_floor,
                        seed=seed)
    wrap = None
    if sys.stderr.isatty():
        from tqdm.auto import tqdm

        def wrap(it):
            return tqdm(it, desc="lineage generations", unit="gen", leave=False)
    try:
        result = run_lineage(gens, cfg, progress=wrap)
    except ValueError as exc:
        raise InputError(str(exc)) from None
    write_lineage(result, inputs, out)
    for r in result.findings:
        if r.check_id != "lineage.drift":
            click.echo(f"{r.status.upper():5} {r.check_id:24} {r.subgroup}: {r.value if r.value is None else round(r.value, 3)}")
    first = result.first_failing
    click.echo(f"gate {'PASSED' if result.passed else 'FAILED'}"
               + ("" if first is None else f" (first failing generation: {first})")
               + f" — report: {_shown(pathlib.Path(out) / 'lineage.html')}")
    sys.exit(EXIT_PASS if result.passed else EXIT_FAIL)


def main(argv: list[str] | None = None) -> None:
    """Entry point: maps errors to the contract's exit codes with one line on stderr."""
    try:
        cli.main(args=argv, prog_name="synthproof", standalone_mode=False)
    except (InputError, ConfigError, MissingDependencyError) as exc:
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
