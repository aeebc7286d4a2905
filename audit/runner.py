"""Run a suite: allot the gate's false-alarm budget, run each check, never let one crash the run."""

from __future__ import annotations

import contextlib
import dataclasses
import signal
import threading
from collections.abc import Iterator

from tqdm.auto import tqdm

from .check import Check, time_limit
from .context import AuditContext
from .memory import release_memory
from .errors import IncomputableError
from .findings import Finding


class CheckTimeout(Exception):
    """Raised inside a check that ran past its ``timeout_seconds``."""


@contextlib.contextmanager
def _deadline(seconds: float) -> Iterator[None]:
    """Raise :class:`CheckTimeout` after ``seconds`` (Unix main thread only; a no-op elsewhere).

    The signal is delivered between Python bytecodes, so a single long C call finishes first.
    """
    usable = hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
    if not usable:
        yield
        return

    def _raise(signum, frame):  # noqa: ARG001
        raise CheckTimeout()

    previous = signal.signal(signal.SIGALRM, _raise)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def gating_alpha(checks: list[Check], alpha: float, data=None) -> float:
    """The family-wise level each gating check gets: ``alpha / K`` over the statistical checks
    whose severity is ``fail`` and that apply to ``data`` (Bonferroni across checks; Holm inside
    each check), so that P(gate fails | real vs real) <= ``alpha``."""
    k = sum(1 for c in checks if c.statistical and c.severity == "fail" and (data is None or c.applicable(data)))
    return alpha / max(k, 1)


def warning_q(checks: list[Check], q: float, data=None) -> float:
    """The false-discovery level each statistical check gets for warnings: ``q / K`` over the
    statistical checks that run on ``data``. Under real vs real, P(any warning) <= ``q`` for the
    whole run (Benjamini–Hochberg controls the family-wise rate under the complete null)."""
    k = sum(1 for c in checks if c.statistical and c.severity != "off" and (data is None or c.applicable(data)))
    return q / max(k, 1)


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


def run_check(check: Check, ctx: AuditContext) -> list[Finding]:
    """Run one check; exceptions become an ``error`` finding and incomputability a ``skipped`` one."""
    base = dict(scope="dataset", metric=check.metric)
    if check.severity == "off":
        return [check.finding(status="skipped", reason_code="disabled",
                              message=f"{check.id} is switched off (severity: off).", **base)]
    if not check.applicable(ctx.data):
        return [check.finding(status="skipped", reason_code="no_applicable_columns",
                              message=f"{check.id} does not apply: the data has no column it audits.", **base)]
    if ctx.data.streamed and check.needs is None:  # undeclared: it could read anything
        return [check.finding(status="skipped", reason_code="out_of_core",
                              message=f"{check.id} declares no needs, so it cannot run out of core.", **base)]
    if check.needs_holdout and ctx.data.holdout is None:
        return [check.finding(status="skipped", reason_code="no_holdout",
                              message=f"{check.id} needs a holdout of real rows the generator never saw; none given.",
                              **base)]
    from .plan.needs import WatchedData

    data, ctx.current = ctx.data, (check if check.needs is not None else None)
    ctx.data = WatchedData(data, ctx)
    limit = time_limit(check.timeout_seconds, max(data.size(side) for side in ("real", "synthetic", "holdout")))
    try:
        with _deadline(limit):
            findings = check.run(ctx)
    except IncomputableError as exc:
        return [check.finding(status="skipped", reason_code=exc.reason_code, message=str(exc), **base)]
    except CheckTimeout:
        return [check.finding(status="error", reason_code="timeout",
                              message=f"{check.id} ran past its limit of {limit:g} s (timeout_seconds).", **base)]
    except Exception as exc:  # noqa: BLE001 - a crashing check must not stop the run
        return [check.finding(status="error", reason_code="exception",
                              message=f"{check.id} failed: {_one_line(exc)}", **base)]
    finally:
        ctx.data, ctx.current = data, None
    if check.severity == "warn":
        findings = [_downgrade(f) for f in findings]
    weak = [f for f in findings if f.reason_code == "underpowered"]
    if weak:
        cols = sorted({f.column or "dataset" for f in weak})
        shown = ", ".join(repr(c) for c in cols[:5]) + (f" and {len(cols) - 5} more" if len(cols) > 5 else "")
        findings.append(check.finding(
            scope="dataset", status="warn", reason_code="underpowered", value=float(len(weak)),
            message=f"{len(weak)} comparison(s) of {check.id} cannot detect the minimum effect at this sample "
                    f"size ({shown}); their passes are weak evidence — see each row's detectable effect."))
    return findings


def _downgrade(f: Finding) -> Finding:
    return dataclasses.replace(f, status="warn") if f.status == "fail" else f


def run_suite(checks: list[Check], ctx: AuditContext, alpha: float, progress: bool = False,
              threads: int | None = None) -> list[Finding]:
    """Run every check in order and collect their findings (``threads`` caps BLAS/OpenMP pools)."""
    from threadpoolctl import threadpool_limits

    ctx.alpha = gating_alpha(checks, alpha, ctx.data)
    ctx.fdr_q = warning_q(checks, ctx.fdr_q, ctx.data)
    findings: list[Finding] = []
    bar = tqdm(checks, desc="synthproof", unit="check", disable=not progress, leave=False)
    with threadpool_limits(limits=threads):
        warm_embeddings(checks, ctx)
        release_memory()
        for check in bar:
            bar.set_postfix_str(check.id)
            findings.extend(run_check(check, ctx))
            release_memory()  # what a check freed goes back before the next one peaks
    return findings


def warm_embeddings(checks: list[Check], ctx: AuditContext) -> None:
    """Embed every text column's real and synthetic documents once, before the checks run and outside
    any check's time limit: the model is the slow part of a text audit and every embedding check
    shares its result. A failure here (e.g. the text extra is not installed) is left to the checks,
    which report it as their own ``error`` finding."""
    if not any(c.needs_embeddings and c.severity != "off" and c.applicable(ctx.data) for c in checks):
        return
    try:
        for col in ctx.text_columns:
            for side in ("real", "synthetic"):
                ctx.embeddings(col, side)
    except Exception:  # noqa: BLE001 - reported by each check that needs the embeddings
        return


def coverage_finding(checks: list[Check], findings: list[Finding], require: list[str]) -> Finding:
    """``gate.coverage``: fails when a required check (severity ``fail``, or listed in
    ``gate.require``) errored, or a listed one produced no verdict."""
    by_check: dict[str, set[str]] = {}
    for f in findings:
        by_check.setdefault(f.check_id, set()).add(f.status)
        if f.reason_code == "out_of_core":  # could not be judged here: a required one fails closed
            by_check[f.check_id].add("error")
    missing = []
    for c in checks:
        statuses = by_check.get(c.id, set())
        required = c.id in require or c.severity == "fail"
        if not required:
            continue
        if "error" in statuses:
            missing.append(c.id)
        elif c.id in require and not statuses & {"pass", "warn", "fail"}:
            missing.append(c.id)
    for cid in require:
        if cid not in by_check and cid not in missing:
            missing.append(cid)
    if missing:
        return Finding(check_id="gate.coverage", family="validity", scope="dataset", metric="required_checks_missing",
                       value=float(len(missing)), status="fail", reason_code="required_check_missing",
                       message="required checks produced no verdict: " + ", ".join(sorted(missing)) + ".")
    return Finding(check_id="gate.coverage", family="validity", scope="dataset", metric="required_checks_missing",
                   value=0.0, status="pass", message="every required check produced a verdict.")


def gate_passed(findings: list[Finding], fail_on: str) -> bool:
    """The gate verdict: no ``fail`` (nor ``warn`` under ``fail_on='warn'``) that no waiver covers."""
    bad = {"fail"} if fail_on == "fail" else {"fail", "warn"}
    return not any(f.status in bad and not f.waiver for f in findings)
