"""``synthproof.audit``: the Python entry point (the command line calls the same function)."""

from __future__ import annotations

import datetime as _dt
import os
import pathlib
import platform
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from . import io
from ._version import __version__
from .config import AuditConfig, load_config, parse_config
from .context import AuditContext
from .errors import ConfigError, InputError
from .findings import Finding
from .result import AuditResult
from .gate import evidence_finding
from .runner import coverage_finding, gate_passed, run_suite
from .plan.outofcore import default_memory, parse_memory, should_stream
from .schema import prepare
from .waivers import apply_waivers


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def resolve_config(config: AuditConfig | dict | str | os.PathLike | None) -> AuditConfig:
    """A validated :class:`AuditConfig` from an object, a mapping, a YAML path or ``None``."""
    if config is None:
        return parse_config({})
    if isinstance(config, AuditConfig):
        return config
    if isinstance(config, dict):
        return parse_config(config)
    if isinstance(config, (str, os.PathLike)):
        return load_config(config)
    raise ConfigError(f"config must be a path, mapping or AuditConfig, got {type(config).__name__}")


def audit(
    real: Any = None,
    synthetic: Any = None,
    holdout: Any = None,
    config: AuditConfig | dict | str | os.PathLike | None = None,
    seed: int | None = None,
    fail_on: str | None = None,
    progress: bool = False,
    encoding: str | None = None,
    delimiter: str | None = None,
    memory: str | int | None = None,
    states: str | os.PathLike | None = None,
    executor: str | None = None,
    address: str | None = None,
) -> AuditResult:
    """Audit synthetic data against real data and return the findings and the gate verdict.

    Parameters
    ----------
    real, synthetic : path, pandas.DataFrame or pyarrow.Table
        The real data and the synthetic data (Parquet file or folder of shards, CSV, JSONL, or
        in-memory). May come from the config instead.
    holdout : same types, optional
        Real rows the generator never saw; enables the checks that need it.
    config : AuditConfig, mapping, YAML path, optional
        Without one, the default suite runs with inferred column roles.
    seed : int, optional
        Overrides ``config.seed`` (default 0). Same inputs, config, seed, platform and thread
        count give identical findings.
    fail_on : {"fail", "warn"}, optional
        Overrides ``config.gate.fail_on``.
    progress : bool or "lines", default False
        Show progress bars on stderr; ``"lines"``: only periodic plain lines for the passes over
        streamed inputs (what the command line does when stderr is not a terminal).
    encoding, delimiter : str, optional
        Text encoding and field delimiter of CSV/JSONL inputs (see :func:`synthproof.io.load`).
    memory : str or int, optional
        Memory budget (``"4GiB"``, bytes), overriding ``resources.memory`` [default:
        :func:`synthproof.plan.outofcore.default_memory`]. Inputs that would not fit stream out of
        core (``resources.out_of_core``; :mod:`synthproof.plan.outofcore`).
    states : path, optional
        A folder of shard states written by :func:`sketch` (``synthproof sketch``): merge them and
        judge, with the findings of one out-of-core run over the inputs they were sketched from
        (those inputs by default; ``real``/``synthetic`` given must be the same files).
    executor : {"local", "ray"}, optional
        Overrides ``executor.kind``: ``ray`` runs the passes over the inputs as Ray tasks
        (:mod:`synthproof.plan.distributed`; the inputs stream out of core), with the findings of
        a local out-of-core run.
    address : str, optional
        Overrides ``executor.address`` (the Ray cluster; default ``RAY_ADDRESS``, else a local one).

    Returns
    -------
    AuditResult

    Raises
    ------
    InputError
        Missing/unreadable/corrupt input, zero rows, or no column shared by real and synthetic.
    ConfigError
        Invalid config or parameter.
    """
    cfg = resolve_config(config)
    if seed is not None:
        cfg = cfg.model_copy(update={"seed": int(seed)})
    if fail_on is not None:
        if fail_on not in ("fail", "warn"):
            raise ConfigError(f"fail_on must be 'fail' or 'warn', got {fail_on!r}", path="gate.fail_on")
        cfg = cfg.model_copy(update={"gate": cfg.gate.model_copy(update={"fail_on": fail_on})})
    if executor is not None or address is not None:
        ex = cfg.executor.model_copy(update={k: v for k, v in (("kind", executor), ("address", address)) if v is not None})
        if ex.kind not in ("local", "ray"):
            raise ConfigError(f"executor must be local or ray, got {ex.kind!r}", path="executor.kind")
        cfg = cfg.model_copy(update={"executor": ex})
    checks = cfg.build_checks()
    if states is not None:
        return _audit_states(cfg, checks, states, real, synthetic, holdout, memory, progress)
    real = real if real is not None else cfg.real
    synthetic = synthetic if synthetic is not None else cfg.synthetic
    holdout = holdout if holdout is not None else cfg.holdout
    encoding = encoding if encoding is not None else cfg.encoding
    delimiter = delimiter if delimiter is not None else cfg.delimiter
    if real is None or synthetic is None:
        raise ConfigError("both real and synthetic data are required (arguments or config keys)")
    budget = _budget(cfg, memory)
    started = _now()
    sources = [(real, "real"), (synthetic, "synthetic")] + ([(holdout, "holdout")] if holdout is not None else [])
    if cfg.executor.kind == "ray":
        from .plan.distributed import ray_session, ray_streamed_inputs

        if any(not isinstance(s, (str, os.PathLike)) for s, _ in sources):
            raise InputError("--executor ray reads files, folders or URLs: write in-memory frames to Parquet first")
        with ray_session(cfg) as session:  # the passes, then the checks' component rounds, on the cluster
            streamed = ray_streamed_inputs(cfg, checks, sources, budget, encoding, delimiter, bool(progress), session)
            return _streamed_result(cfg, checks, streamed, started, real, synthetic, progress)
    if should_stream(cfg.resources.out_of_core, budget, sources):
        from .plan.run import streamed_inputs

        streamed = streamed_inputs(cfg, checks, sources, budget, encoding, delimiter, bool(progress))
        return _streamed_result(cfg, checks, streamed, started, real, synthetic, progress)
    progress = progress is True
    # Only the real columns are decoded on the other sides (column projection); the inputs are read
    # and hashed concurrently, since pyarrow and hashlib release the GIL.
    real_names = io.column_names(real, encoding, delimiter)  # None when unknown or unreadable

    prov = cfg.provenance
    tags = set(prov.required) | set(prov.allowed) | set(prov.patterns) | {"is_synthetic"}

    def keep(names: list[str]) -> list[str]:
        return [n for n in names if real_names is None or n in real_names]

    def keep_synthetic(names: list[str]) -> list[str]:
        return [n for n in names if real_names is None or n in real_names or n in tags]

    with ThreadPoolExecutor(max_workers=3) as pool:
        pick = {"real": None, "synthetic": keep_synthetic, "holdout": keep}
        jobs = [pool.submit(io.load, src, name, pick[name], encoding, delimiter, True) for src, name in
                ((real, "real"), (synthetic, "synthetic"), (holdout, "holdout")) if src is not None]
        loaded = [job.result() for job in jobs]
    (real_t, real_fp), (syn_t, syn_fp) = loaded[0], loaded[1]
    hold_t, hold_fp = loaded[2] if holdout is not None else (None, None)
    if not set(real_fp.column_names) & set(syn_fp.column_names):
        raise InputError("real and synthetic share no column name")
    data = prepare(real_t, syn_t, hold_t, roles=cfg.columns.roles, include=cfg.columns.include,
                   exclude=cfg.columns.exclude)
    data.synthetic_only = [c for c in syn_fp.column_names if c not in real_fp.column_names]
    extra = [c for c in syn_t.column_names if c in tags and c not in real_t.column_names]
    data.synthetic_extra = io.plain_strings(syn_t.select(extra)).to_pandas() if extra else None
    ctx = _context(cfg, data, started, synthetic, progress)
    from .plan.run import in_memory_artefacts
    from .plan.text import corpus_plan

    ctx.columns, ctx.pairs = in_memory_artefacts(checks, data, cfg)
    ctx.corpus_plan = corpus_plan(checks, data, cfg)
    return _finish(cfg, checks, ctx, [real_fp, syn_fp, hold_fp], started, real, progress)


def _budget(cfg: AuditConfig, memory) -> int:
    """The memory budget: ``memory``, else ``resources.memory``, else :func:`default_memory`."""
    return parse_memory(memory if memory is not None else cfg.resources.memory) \
        if (memory is not None or cfg.resources.memory is not None) else default_memory()


def _audit_states(cfg: AuditConfig, checks, states, real, synthetic, holdout, memory, progress) -> AuditResult:
    from .plan.sketch import recorded_sources, streamed_from_states

    given = [(str(s), n) for s, n in ((real, "real"), (synthetic, "synthetic"), (holdout, "holdout")) if s is not None]
    started = _now()
    sources = given or recorded_sources(states)[0]
    streamed = streamed_from_states(cfg, checks, states, _budget(cfg, memory), sources)
    source = {n: s for s, n in sources}
    return _streamed_result(cfg, checks, streamed, started, source["real"], source["synthetic"], progress)


def _streamed_result(cfg: AuditConfig, checks, streamed: tuple, started: str, real, synthetic, progress) -> AuditResult:
    """Run the suite on streamed inputs (``(data, fingerprints, artefacts)`` of any executor)."""
    data, fps, artefacts = streamed
    ctx = _context(cfg, data, started, synthetic, progress is True)
    ctx.columns, ctx.pairs, ctx.built, seeded, (ctx.corpus_plan, ctx.resources) = artefacts
    ctx._artefacts.update(seeded)
    return _finish(cfg, checks, ctx, fps, started, real, progress is True)


def sketch(
    real: Any = None,
    synthetic: Any = None,
    holdout: Any = None,
    shard: str | tuple[int, int] = "0/1",
    out: str | os.PathLike = "synthproof-states",
    config: AuditConfig | dict | str | os.PathLike | None = None,
    seed: int | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
    memory: str | int | None = None,
):
    """Write the next phase's state of one shard of the inputs (``synthproof sketch``).

    Run it for every shard ``0 .. N-1``, once per phase (four phases: rows, sample, scan, count;
    :mod:`synthproof.plan.shards`), then :func:`audit` with ``states=out``.

    Parameters
    ----------
    real, synthetic, holdout : path
        The inputs (files, folders, globs or URLs; not in-memory frames).
    shard : str or (int, int)
        ``"I/N"``: shard ``I`` of ``N`` (``0 <= I < N``).
    out : path
        The state folder (shared by every shard).
    config, seed, encoding, delimiter, memory
        As for :func:`audit`; the same config and seed for every shard and for the audit.

    Returns
    -------
    (phase, path) : (str or None, pathlib.Path or None)
        The phase written and its file; ``(None, None)`` when this shard has every phase.

    Raises
    ------
    InputError
        Unreadable input; a bad shard; the states of an earlier phase missing or of another run.
    """
    from .plan.shards import parse_shard
    from .plan.sketch import sketch as run_sketch

    cfg = resolve_config(config)
    if seed is not None:
        cfg = cfg.model_copy(update={"seed": int(seed)})
    real = real if real is not None else cfg.real
    synthetic = synthetic if synthetic is not None else cfg.synthetic
    holdout = holdout if holdout is not None else cfg.holdout
    if real is None or synthetic is None:
        raise ConfigError("both real and synthetic data are required (arguments or config keys)")
    sources = [(real, "real"), (synthetic, "synthetic")] + ([(holdout, "holdout")] if holdout is not None else [])
    if any(not isinstance(s, (str, os.PathLike)) for s, _ in sources):
        raise InputError("sketch reads files, folders or URLs: write in-memory frames to Parquet first")
    # Local paths as absolute ones: the audit (and the other shards) may run from another folder.
    from .sources import scheme_of

    sources = [(str(s) if scheme_of(s) is not None else os.path.abspath(s), n) for s, n in sources]
    where = shard if isinstance(shard, tuple) else parse_shard(shard)
    return run_sketch(cfg, cfg.build_checks(), sources, where, out, _budget(cfg, memory),
                      encoding if encoding is not None else cfg.encoding,
                      delimiter if delimiter is not None else cfg.delimiter, None)


def _context(cfg: AuditConfig, data, started: str, synthetic, progress: bool) -> AuditContext:
    return AuditContext(data=data, seed=cfg.seed, n_splits=cfg.calibration.n_splits, fdr_q=cfg.calibration.fdr_q,
                        max_row_findings=cfg.report.max_row_findings, show_values=cfg.report.show_values,
                        threads=cfg.threads, settings=cfg, started_at=started,
                        synthetic_path=str(synthetic) if isinstance(synthetic, (str, os.PathLike)) else None,
                        progress=progress)


def _finish(cfg: AuditConfig, checks, ctx: AuditContext, fps: list, started: str, real, progress: bool) -> AuditResult:
    """Run the suite on a ready context and assemble the result (both paths)."""
    data = ctx.prepared
    try:
        findings: list[Finding] = run_suite(checks, ctx, cfg.calibration.alpha, progress=progress,
                                             threads=cfg.threads)
    finally:  # the corpus taps' spill files
        if ctx.resources is not None:
            ctx.resources.close()
    findings, waiver_gate = apply_waivers(findings, cfg.waivers)
    if waiver_gate is not None:
        findings.append(waiver_gate)
    findings.append(coverage_finding(checks, findings, cfg.gate.require))
    findings.append(evidence_finding(checks, findings, data, ctx.text_columns, cfg.gate))
    passed = gate_passed(findings, cfg.gate.fail_on)
    manifest = {
        "tool": "synthproof",
        "version": __version__,
        "run_id": uuid.uuid4().hex,
        "started_at": started,
        "finished_at": _now(),
        "seed": cfg.seed,
        "config": cfg.public_dump(),
        "config_hash": cfg.digest(),
        "inputs": [fp.to_dict() for fp in fps if fp is not None],
        "out_of_core": data.streamed,
        "columns": {c: {"role": r, "inferred": data.inferred.get(c, False)} for c, r in data.roles.items()},
        "synthetic_only_columns": data.synthetic_only,
        "checks": {c.id: {"version": c.version, "params": c.get_params()} for c in checks},
        "gate_alpha": cfg.calibration.alpha,
        "verdict": "pass" if passed else "fail",
        "platform": {"python": platform.python_version(), "machine": platform.machine(),
                     "numpy": np.__version__, "cpus": os.cpu_count(),
                     "threads": cfg.threads, "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY")},
    }
    if isinstance(real, (str, os.PathLike)):
        manifest["real_path"] = str(real) if io.is_remote(real) else str(pathlib.Path(real))
    return AuditResult(passed=passed, finding_list=findings, manifest=manifest)
