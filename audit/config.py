"""The audit config (YAML, schema ``version: 1``) and its validation with path-precise errors.

Example::

    version: 1
    real: data/real.parquet
    synthetic: data/synthetic.parquet
    holdout: data/holdout.parquet        # optional
    seed: 0
    threads: 2                           # BLAS/OpenMP threads per check (default: all cores)
    resources: {memory: 4GiB, out_of_core: auto}   # stream inputs that would not fit in the budget
    executor: {kind: local}              # or ray: the streamed passes as Ray tasks (docs/scale.md)
    columns:
      exclude: [customer_id]
      roles: {zip: categorical}
    calibration: {n_splits: 100, alpha: 0.05, fdr_q: 0.05}
    gate: {fail_on: fail, require: [drift.ks]}
    select: {families: [drift, duplication], skip: [drift.detection]}   # or --families / --skip
    report: {show_values: false, max_row_findings: 20}
    privacy: {secrets: [income], link_columns: [[age, sex], [occupation, race]], rare_k: 5}
    checks:
      drift.ks: {min_effect: 0.05}
      drift.psi: {severity: off}
    waivers:                             # accepted findings: shown as waived, not failing the gate
      - {check: drift.ks, column: capital_gain, reason: "zero-inflated; tracked in DATA-42",
         owner: data-team@example.com, expires: 2027-03-31}

Relative paths are resolved against the config file's folder. Every check runs with its defaults
unless ``suite: listed``, in which case only the checks named under ``checks`` run; ``select``
(or ``--checks``, ``--families``, ``--skip``) narrows the suite further.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import pathlib
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .check import Check, get_check
from .errors import ConfigError
from .schema import PROVENANCE_FIELDS, ROLES
from .waivers import Waiver

SCHEMA_VERSION = 1


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ColumnsConfig(_Strict):
    include: list[str] | None = None
    exclude: list[str] = Field(default_factory=list)
    roles: dict[str, Literal[ROLES]] = Field(default_factory=dict)  # type: ignore[valid-type]


class CalibrationConfig(_Strict):
    n_splits: int = Field(100, ge=20, le=10_000)
    alpha: float = Field(0.05, gt=0, lt=1)
    fdr_q: float = Field(0.05, gt=0, lt=1)


class GateConfig(_Strict):
    """The gate: what fails it, which checks must give a verdict, and the evidence it needs to judge
    at all (fail-closed; see :mod:`synthproof.gate`)."""

    fail_on: Literal["fail", "warn"] = "fail"
    require: list[str] = Field(default_factory=list)
    min_synthetic_rows: int = Field(20, ge=1)  # fewer synthetic rows: gate.evidence fails (insufficient_evidence)
    min_real_rows: int = Field(20, ge=2)  # fewer real rows: the same
    min_judged_share: float = Field(0.5, ge=0, le=1)  # least share of applicable fail-severity checks with a verdict


class SelectConfig(_Strict):
    """Which checks of the suite run (CLI ``--checks``, ``--families``, ``--skip`` override these).

    ``checks`` and ``families`` narrow the suite to the checks named or in the families named (both
    given: either); ``skip`` then removes checks by id or family. A name that is no check or family
    is an error with a did-you-mean hint; a check listed in ``gate.require`` that the selection
    drops fails the gate's coverage (fail closed)."""

    checks: list[str] = Field(default_factory=list)
    families: list[str] = Field(default_factory=list)
    skip: list[str] = Field(default_factory=list)

    def apply(self, ids: list[str], reg: dict) -> list[str]:
        """The ids of ``ids`` (in order) that the selection keeps.

        Raises
        ------
        ConfigError
            A name that is no check id or family (did-you-mean), a check named that the suite does
            not hold, or a selection that keeps no check.
        """
        families = sorted({cls.family for cls in reg.values()})
        for cid in self.checks:
            get_check(cid, path="select.checks")
            if cid not in ids:
                raise ConfigError(f"check {cid!r} is not in the suite (suite: listed): add it under checks:",
                                  path="select.checks")
        for fam in self.families:
            _known_family(fam, families, "select.families")
        for name in self.skip:
            if name not in reg and name not in families:
                hint = difflib.get_close_matches(name, list(reg) + families, n=1)
                raise ConfigError(f"--skip {name!r} is neither a check id nor a family"
                                  + (f"; did you mean {hint[0]!r}?" if hint else ""), path="select.skip")
        keep = [i for i in ids if (not self.checks and not self.families) or i in self.checks
                or reg[i].family in self.families]
        keep = [i for i in keep if i not in self.skip and reg[i].family not in self.skip]
        if not keep:
            raise ConfigError("the selection (--checks / --families / --skip) leaves no check to run", path="select")
        return keep


def _known_family(name: str, families: list[str], path: str) -> None:
    if name not in families:
        hint = difflib.get_close_matches(name, families, n=1)
        raise ConfigError(f"unknown family {name!r}" + (f"; did you mean {hint[0]!r}?" if hint else "")
                          + f" (families: {', '.join(families)})", path=path)


class ReportConfig(_Strict):
    show_values: bool = False
    max_row_findings: int = Field(20, ge=0, le=100_000)
    max_charts: int = Field(12, ge=0, le=200)


class BiasConfig(_Strict):
    """Subgroup audit: which columns define subgroups, the outcome column, group-size floor."""

    sensitive: list[str] | None = None  # None: inferred from names and values (the report says so)
    target: str | None = None  # outcome column for parity and utility checks
    positive: str | None = None  # positive label of the target (default: the real minority class)
    max_depth: int = Field(2, ge=1, le=3)  # intersections of up to this many sensitive columns
    min_group_size: int = Field(30, ge=2, le=1_000_000)  # on the REAL count; below -> skipped


class PrivacyConfig(_Strict):
    """What the privacy attacks assume the attacker knows (:mod:`synthproof.checks.privacy`)."""

    secrets: list[str] | None = None  # inferred attributes; None: the sensitive columns and bias.target
    link_columns: list[list[str]] | None = None  # the two column sets linked; None: the features, alternately
    quasi_identifiers: list[str] | None = None  # rare-combination replay; None: the sensitive columns
    rare_k: int = Field(5, ge=2, le=1_000_000)  # a combination seen in fewer real rows is rare
    pii_region: str = Field("US", pattern=r"^[A-Z]{2}$")  # phone numbers without a country code

    @field_validator("link_columns")
    @classmethod
    def _two_sets(cls, v: list[list[str]] | None) -> list[list[str]] | None:
        if v is not None and (len(v) != 2 or not all(v) or set(v[0]) & set(v[1])):
            raise ValueError("link_columns takes two non-empty lists of columns with none in both")
        return v


class ProvenanceConfig(_Strict):
    """Required provenance tags, as columns of the synthetic data or in ``<data>.provenance.json``."""

    required: list[str] = Field(default_factory=lambda: list(PROVENANCE_FIELDS))
    sidecar: str | None = None  # default: <synthetic path>.provenance.json when it exists
    allowed: dict[str, list[str]] = Field(default_factory=dict)  # field -> allowed values
    patterns: dict[str, str] = Field(default_factory=dict)  # field -> regular expression (full match)
    min_non_null_rate: float = Field(1.0, ge=0, le=1)
    max_synthetic_share: float | None = Field(None, ge=0, le=1)
    mixed: bool = False  # the input mixes real and synthetic rows (flagged by is_synthetic)
    trusted_keys: list[str] = Field(default_factory=list)  # Ed25519 public-key files or env:NAME
    require_signature: bool = False  # fail when the synthetic file has no signed manifest
    croissant: str | None = None  # the dataset's own Croissant JSON-LD, checked by provenance.croissant_rai


class ValidityConfig(_Strict):
    """Great Expectations: a user suite (GX 1.x JSON) to run, and where to export the derived suite."""

    gx_suite: str | None = None
    export_suite: str | None = None


class EmbeddingConfig(_Strict):
    """Sentence embeddings for the text checks (see :mod:`synthproof.embed`)."""

    model: str | None = None  # a local sentence-transformers folder; None: bundled all-MiniLM-L6-v2
    batch_size: int | None = Field(None, ge=1, le=4096)  # None: 16 on the CPU, 64 on a GPU (synthproof.embed)
    dtype: Literal["auto", "float32", "bfloat16"] = "auto"  # auto: bfloat16 where the device supports it
    device: Literal["auto", "cpu", "cuda"] = "auto"  # auto: the first CUDA GPU when torch sees one, else CPU
    max_docs: int = Field(20_000, ge=50, le=10_000_000)  # per side, seeded sample
    cache: bool = True
    cache_dir: str | None = None  # default: $SYNTHPROOF_CACHE_DIR or ~/.cache/synthproof/embeddings


class TextConfig(_Strict):
    """Text corpora: which columns are documents, metadata groups, evaluation sets, limits."""

    columns: list[str] | None = None  # None: every column whose role is text (inferred or declared)
    groups: list[str] | None = None  # metadata columns defining subgroups (None: inferred by name)
    eval_sets: list[str] = Field(default_factory=list)  # JSONL/Parquet files for contamination
    eval_text_field: str | None = None  # the eval sets' text column (default: the first text-like one)
    max_chars: int = Field(100_000, ge=100, le=100_000_000)  # per document; longer ones are cut (counted)
    marker_patterns: list[str] = Field(default_factory=lambda: [r"<!--\s*generated by[^>]*-->"])  # tag regexes
    embedding: EmbeddingConfig = Field(default_factory=EmbeddingConfig)


class WatermarkConfig(_Strict):
    """Text watermark detection (``provenance.kgw_watermark``): ``scheme: kgw`` (the settings must equal the
    generator's ``transformers.WatermarkingConfig``) or ``scheme: synthid`` (those of its
    ``SynthIDTextWatermarkingConfig``). Keys are secrets: give them through ``key_env`` / ``keys_env``."""

    scheme: Literal["kgw", "synthid"] = "kgw"
    expect: Literal["present", "absent", "report"] = "report"
    tokenizer: str | None = None  # tokenizer.json or a local model folder; None: the bundled SmolLM2 tokenizer
    vocab_size: int | None = Field(None, ge=2)  # None: the folder's config.json vocab_size, else the tokenizer's
    greenlist_ratio: float = Field(0.25, gt=0, lt=1)
    hashing_key: int | None = Field(None, ge=0)  # None: $key_env, else transformers' default 15485863
    key_env: str | None = None  # environment variable holding the hashing key (an integer)
    seeding_scheme: Literal["lefthash", "selfhash"] = "lefthash"
    context_width: int = Field(1, ge=1, le=64)
    ignore_repeated_ngrams: bool = True  # score distinct n-grams (transformers' detector default: False)
    bos_token_id: int | None = Field(None, ge=0)
    min_tokens: int = Field(50, ge=1)  # documents with fewer scored tokens are skipped
    fdr: float = Field(0.01, gt=0, lt=1)  # Benjamini-Hochberg level for "this document is watermarked"
    min_share: float = Field(0.5, gt=0, le=1)  # expect present: least share of scored documents detected
    # SynthID-Text (scheme: synthid), as transformers' SynthIDTextWatermarkingConfig
    keys: list[int] | None = None  # the watermarking keys (one per tournament layer); prefer keys_env
    keys_env: str | None = None  # environment variable holding the keys, comma-separated integers
    ngram_len: int = Field(5, ge=2, le=64)
    sampling_table_size: int = Field(2**16, ge=2)
    sampling_table_seed: int = Field(0, ge=0)
    context_history_size: int = Field(1024, ge=1)
    score: Literal["mean", "weighted_mean"] = "weighted_mean"  # Dathathri et al. (2024) training-free scores


class ResourcesConfig(_Strict):
    """How much of the machine a run may use (see :mod:`synthproof.plan.outofcore`)."""

    memory: str | int | None = None  # e.g. "4GiB" or bytes; default: half the machine's memory, at most 8 GiB
    out_of_core: Literal["auto", "on", "off"] = "auto"  # auto: stream inputs that would not fit in memory

    @field_validator("memory")
    @classmethod
    def _memory(cls, v: str | int | None) -> str | int | None:
        if v is not None:
            from .plan.outofcore import parse_memory

            try:
                parse_memory(v)
            except ConfigError as exc:
                raise ValueError(str(exc)) from None
        return v


class ExecutorConfig(_Strict):
    """Where the passes over streamed inputs run (:mod:`synthproof.plan.distributed`): ``local``
    (this process) or ``ray`` (tasks on a Ray cluster; the same findings)."""

    kind: Literal["local", "ray"] = "local"
    address: str | None = None  # ray: the cluster (ray://host:10001, auto); default RAY_ADDRESS, else a local one
    workers: int | None = Field(None, ge=1, le=100_000)  # ray: tasks at once (a local cluster's CPUs) [default: all]
    shards: int | None = Field(None, ge=1, le=1_000_000)  # ray: row spans per input [default: 2 x workers]

    @model_validator(mode="before")
    @classmethod
    def _kind_alone(cls, v):
        return {"kind": v} if isinstance(v, str) else v


class AuditConfig(_Strict):
    """The validated config. See the module docstring for the YAML form."""

    version: Literal[1] = 1
    real: str | None = None
    synthetic: str | None = None
    holdout: str | None = None
    out: str | None = None
    encoding: str | None = None  # text encoding of CSV/JSONL inputs (default UTF-8); CLI --encoding overrides
    delimiter: str | None = None  # CSV field delimiter (default: sniffed among , ; TAB |); CLI --delimiter overrides
    seed: int = Field(0, ge=0, le=2**32 - 1)
    threads: int | None = Field(None, ge=1, le=1024)
    resources: ResourcesConfig = Field(default_factory=ResourcesConfig)
    executor: ExecutorConfig = Field(default_factory=ExecutorConfig)
    suite: Literal["default", "listed"] = "default"
    select: SelectConfig = Field(default_factory=SelectConfig)
    columns: ColumnsConfig = Field(default_factory=ColumnsConfig)
    calibration: CalibrationConfig = Field(default_factory=CalibrationConfig)
    gate: GateConfig = Field(default_factory=GateConfig)
    report: ReportConfig = Field(default_factory=ReportConfig)
    bias: BiasConfig = Field(default_factory=BiasConfig)
    provenance: ProvenanceConfig = Field(default_factory=ProvenanceConfig)
    privacy: PrivacyConfig = Field(default_factory=PrivacyConfig)
    validity: ValidityConfig = Field(default_factory=ValidityConfig)
    text: TextConfig = Field(default_factory=TextConfig)
    watermark: WatermarkConfig = Field(default_factory=WatermarkConfig)
    checks: dict[str, dict[str, Any] | None] = Field(default_factory=dict)
    waivers: list[Waiver] = Field(default_factory=list)  # accepted findings (synthproof.waivers)

    def build_checks(self) -> list[Check]:
        """Instantiate the suite, validating every check parameter (before any data is read)."""
        from .check import registry

        reg = registry()
        for cid in self.checks:
            get_check(cid, path=f"checks.{cid}")
        for cid in self.gate.require:
            get_check(cid, path="gate.require")
        for i, w in enumerate(self.waivers):
            get_check(w.check, path=f"waivers[{i}].check")
        ids = self.select.apply(list(self.checks) if self.suite == "listed" else list(reg), reg)
        out = []
        for cid in ids:
            params = dict(self.checks.get(cid) or {})
            try:
                out.append(reg[cid](**params))
            except ConfigError as exc:
                raise ConfigError(str(exc), path=f"checks.{cid}") from None
        return out

    def public_dump(self) -> dict:
        """The config as JSON data with secrets redacted (a watermark ``hashing_key`` given inline
        becomes ``"<redacted>"``): what manifests and reports record."""
        data = self.model_dump(mode="json")
        for secret in ("hashing_key", "keys"):
            if data.get("watermark", {}).get(secret) is not None:
                data["watermark"][secret] = "<redacted>"
        return data

    def digest(self) -> str:
        """Stable hash of the config as run (of :meth:`public_dump`, so it reveals no secret)."""
        blob = json.dumps(self.public_dump(), sort_keys=True).encode()
        return "blake2b:" + hashlib.blake2b(blob, digest_size=16).hexdigest()

    def judging_digest(self) -> str:
        """:meth:`digest` of what decides the findings: without where or how the run executes
        (``executor``, ``resources``, ``threads``, ``out``), so shard states made on machines of
        other sizes merge; nor the ``waivers``, applied to the findings after the checks ran."""
        data = {k: v for k, v in self.public_dump().items()
                if k not in ("executor", "resources", "threads", "out", "waivers")}
        return "blake2b:" + hashlib.blake2b(json.dumps(data, sort_keys=True).encode(), digest_size=16).hexdigest()


def _known_keys(loc: tuple) -> list[str]:
    """The keys the config model accepts at the parent of ``loc`` (for did-you-mean hints)."""
    model: Any = AuditConfig
    for part in loc[:-1]:
        field = getattr(model, "model_fields", {}).get(part)
        if field is None:
            return []
        model = field.annotation
    return list(getattr(model, "model_fields", {}))


def _format_error(exc: ValidationError) -> ConfigError:
    import difflib

    err = exc.errors()[0]
    path = ".".join(str(p) for p in err["loc"]) or "<root>"
    got = err.get("input")
    msg = err["msg"]
    if err["type"] == "extra_forbidden":
        hint = difflib.get_close_matches(str(err["loc"][-1]), _known_keys(tuple(err["loc"])), n=1)
        msg = "unknown key" + (f"; did you mean {hint[0]!r}?" if hint else "")
    elif got is not None and not isinstance(got, (dict, list)):
        msg = f"{msg} (got {got!r})"
    return ConfigError(msg, path=path)


def parse_config(data: dict[str, Any] | None, base_dir: pathlib.Path | None = None) -> AuditConfig:
    """Validate a config mapping.

    Parameters
    ----------
    data : dict or None
        The parsed YAML (``None`` gives the defaults).
    base_dir : pathlib.Path, optional
        Folder against which relative input paths are resolved.

    Returns
    -------
    AuditConfig

    Raises
    ------
    ConfigError
        With ``path`` set to the dotted location of the first problem.
    """
    data = dict(data or {})
    if isinstance(data.get("checks"), dict):
        data["checks"] = {cid: _check_shorthand(v) for cid, v in data["checks"].items()}
    if "version" in data and data["version"] != SCHEMA_VERSION:
        raise ConfigError(f"unsupported schema version {data['version']!r} (this synthproof reads {SCHEMA_VERSION})",
                          path="version")
    try:
        cfg = AuditConfig.model_validate(data)
    except ValidationError as exc:
        raise _format_error(exc) from None
    if base_dir is not None:
        for key in ("real", "synthetic", "holdout", "out"):
            val = getattr(cfg, key)
            if val and not pathlib.Path(val).is_absolute() and "://" not in val:  # URLs stay as written
                setattr(cfg, key, str((base_dir / val)))
        for section, key in (("provenance", "sidecar"), ("provenance", "croissant"), ("validity", "gx_suite"), ("validity", "export_suite"),
                             ("text.embedding", "model"), ("text.embedding", "cache_dir")):
            sub = cfg
            for part in section.split("."):
                sub = getattr(sub, part)
            val = getattr(sub, key)
            if val and not pathlib.Path(val).is_absolute():
                setattr(sub, key, str(base_dir / val))
        cfg.text.eval_sets = [v if pathlib.Path(v).is_absolute() else str(base_dir / v) for v in cfg.text.eval_sets]
    _check_patterns(cfg)
    cfg.build_checks()
    return cfg


def _check_shorthand(value: Any) -> Any:
    """``drift.ks: off`` (YAML reads a bare ``off`` as false), ``drift.ks: warn`` or ``drift.ks: on``
    as check settings: a severity alone, or the defaults."""
    if value is False or value == "off":
        return {"severity": "off"}
    if value is True or value == "on":
        return {}
    if value in ("fail", "warn"):
        return {"severity": value}
    return value


def _check_patterns(cfg: AuditConfig) -> None:
    import re

    for name, pattern in cfg.provenance.patterns.items():
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ConfigError(f"invalid regular expression: {exc}", path=f"provenance.patterns.{name}") from None
    for i, pattern in enumerate(cfg.text.marker_patterns):
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ConfigError(f"invalid regular expression: {exc}", path=f"text.marker_patterns.{i}") from None


def load_config(path: str | pathlib.Path) -> AuditConfig:
    """Read and validate a YAML config file; ConfigError on a missing file, bad YAML or bad values."""
    p = pathlib.Path(path)
    if not p.is_file():
        raise ConfigError(f"no such config file: {p}")
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ConfigError(f"invalid YAML{where}: {getattr(exc, 'problem', exc)}", path=str(p)) from None
    except UnicodeDecodeError:
        raise ConfigError("config is not UTF-8 text", path=str(p)) from None
    if data is not None and not isinstance(data, dict):
        raise ConfigError("the config must be a mapping", path=str(p))
    return parse_config(data, base_dir=p.parent)
