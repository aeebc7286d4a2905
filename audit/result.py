"""The result of an audit: findings, verdict, manifest; writers for the four contract files."""

from __future__ import annotations

import json
import pathlib
from dataclasses import dataclass
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from .findings import Finding, findings_to_table, table_to_frame


@dataclass
class AuditResult:
    """What :func:`synthproof.audit` returns.

    Attributes
    ----------
    passed : bool
        The gate verdict.
    findings : pandas.DataFrame
        One row per (check, scope, metric) with the columns of ``findings.SCHEMA``.
    manifest : dict
        Tool version, config as run, seed, input fingerprints, times, verdict.
    """

    passed: bool
    finding_list: list[Finding]
    manifest: dict[str, Any]

    @property
    def findings(self) -> pd.DataFrame:
        return table_to_frame(self.table())

    def table(self) -> pa.Table:
        meta = {"synthproof": json.dumps(_kv_metadata(self.manifest), sort_keys=True)}
        return findings_to_table(self.finding_list, metadata=meta)

    @property
    def summary(self) -> dict[str, Any]:
        return summarize(self.finding_list, self.passed)

    def to_parquet(self, path: str | pathlib.Path) -> None:
        """Write ``findings.parquet`` (fixed schema; run facts in the key-value metadata)."""
        _atomic(pathlib.Path(path), lambda tmp: pq.write_table(self.table(), tmp, compression="zstd"))

    def to_html(self, path: str | pathlib.Path) -> None:
        """Write the self-contained HTML report."""
        from synthproof.reports.html import render_html

        html = render_html(self.findings, self.manifest)
        _atomic(pathlib.Path(path), lambda tmp: tmp.write_text(html, encoding="utf-8"))

    def write(self, out_dir: str | pathlib.Path) -> pathlib.Path:
        """Write ``findings.parquet``, ``report.html``, ``manifest.json`` and ``summary.json``."""
        out = pathlib.Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        self.to_parquet(out / "findings.parquet")
        _write_json(out / "manifest.json", self.manifest)
        _write_json(out / "summary.json", self.summary)
        self.to_html(out / "report.html")
        return out


def summarize(findings: list[Finding], passed: bool) -> dict[str, Any]:
    """Gate verdict and counts of findings by family and status (``summary.json``)."""
    counts: dict[str, dict[str, int]] = {}
    for f in findings:
        fam = counts.setdefault(f.family, {s: 0 for s in ("pass", "warn", "fail", "error", "skipped")})
        fam[f.status] += 1
    totals = {s: sum(c[s] for c in counts.values()) for s in ("pass", "warn", "fail", "error", "skipped")}
    failing = sorted({f.check_id for f in findings if f.status == "fail"})
    return {"passed": passed, "verdict": "pass" if passed else "fail", "totals": totals,
            "by_family": dict(sorted(counts.items())), "failing_checks": failing}


def _kv_metadata(manifest: dict[str, Any]) -> dict[str, Any]:
    keys = ("tool", "version", "run_id", "seed", "config_hash", "inputs", "verdict", "started_at", "finished_at")
    return {k: manifest.get(k) for k in keys}


def _write_json(path: pathlib.Path, data: Any) -> None:
    _atomic(path, lambda tmp: tmp.write_text(json.dumps(data, indent=2, sort_keys=True, default=str) + "\n",
                                             encoding="utf-8"))


def _atomic(path: pathlib.Path, write) -> None:
    """Write to a temporary sibling then rename, so a failed write never leaves a half file."""
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        write(tmp)
        tmp.replace(path)
    finally:
        if tmp.exists():
            tmp.unlink()
