"""The check protocol: stable ids, declared parameters validated at construction, one ``run``.

A check is a small class with a stable dotted ``id`` (never derived from its class name), a
``family``, a ``version``, the ``metric`` it reports with its ``goal``, ``unit`` and range, the
``computation`` its statistic needs (one of :data:`COMPUTATIONS`: an exact mergeable state, a
bounded deterministic sample, a global group-by on a content hash, or the whole data), and
``run(ctx) -> list[Finding]``. Parameters are keyword-only, validated when the suite is built —
before any data is read — with scikit-learn's message template.
"""

from __future__ import annotations

import difflib
import numbers
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from .errors import ConfigError, InvalidParameterError
from .findings import Finding

if TYPE_CHECKING:
    from .calibration import Verdict

SEVERITIES = ("fail", "warn", "off")

#: What a check's statistic needs of the data, so it can scale past one machine's memory
#: (docs/architecture.md): ``mergeable`` — an exact state merged across chunks (counts, moments,
#: per-rule counts); ``sample`` — a bounded deterministic sample (row-id priorities: C2ST, DCR,
#: PRDC, embeddings...); ``keyed`` — a global group-by or join on a content hash (exact
#: duplicates and copies, text near duplicates, memorisation); ``whole`` — all the data at once
#: (a user's GX suite, a Merkle root).
COMPUTATIONS = {
    "mergeable": "an exact state merged across chunks (counts, moments, per-rule counts)",
    "sample": "a bounded deterministic sample",
    "keyed": "a global group-by or join on a content hash",
    "whole": "all the data at once",
}


@dataclass(frozen=True)
class Param:
    """A declared parameter: its kind, bounds or choices, default and one-line doc.

    ``kind`` is ``"float"``, ``"int"``, ``"bool"`` or ``"choice"``; bounds are inclusive unless
    ``open_low``/``open_high``.
    """

    kind: str
    default: Any
    doc: str
    low: float | None = None
    high: float | None = None
    open_low: bool = False
    open_high: bool = False
    choices: tuple[Any, ...] = ()

    def describe(self) -> str:
        if self.kind == "choice":
            return f"one of {list(self.choices)}"
        if self.kind == "bool":
            return "a bool"
        lo = "-inf" if self.low is None else f"{self.low:g}"
        hi = "inf" if self.high is None else f"{self.high:g}"
        left = "(" if self.open_low or self.low is None else "["
        right = ")" if self.open_high or self.high is None else "]"
        return f"{'an int' if self.kind == 'int' else 'a float'} in the range {left}{lo}, {hi}{right}"

    def validate(self, name: str, owner: str, value: Any) -> Any:
        if value is None and self.default is None:
            return None
        ok = True
        if self.kind == "choice":
            ok = value in self.choices
        elif self.kind == "bool":
            ok = isinstance(value, bool)
        elif self.kind in ("int", "float"):
            if isinstance(value, bool) or not isinstance(value, numbers.Real):
                ok = False
            elif self.kind == "int" and not float(value).is_integer():
                ok = False
            else:
                v = float(value)
                if self.low is not None and (v < self.low or (self.open_low and v == self.low)):
                    ok = False
                if self.high is not None and (v > self.high or (self.open_high and v == self.high)):
                    ok = False
                if ok:
                    value = int(value) if self.kind == "int" else float(value)
        if not ok:
            raise InvalidParameterError(
                f"The {name!r} parameter of {owner} must be {self.describe()}. Got {value!r} instead."
            )
        return value


COMMON_PARAMS: dict[str, Param] = {
    "severity": Param("choice", None, "fail: a failing finding fails the gate; warn: it only warns; off: skip",
                      choices=SEVERITIES),
    "timeout_seconds": Param("float", None, "wall-clock limit in seconds; past it the check becomes an error "
                             "finding (default null: 1,800 s per million rows of the largest side, at least 600 s)",
                             low=0, open_low=True),
}

#: The default time limit: ``TIMEOUT_PER_MILLION_ROWS`` seconds per million rows (documents) of the
#: largest side, never under ``MIN_TIMEOUT`` (see :func:`time_limit`).
TIMEOUT_PER_MILLION_ROWS, MIN_TIMEOUT = 1800.0, 600.0


def time_limit(timeout_seconds: float | None, rows: int) -> float:
    """A check's wall-clock limit in seconds: ``timeout_seconds`` when given, else
    ``max(MIN_TIMEOUT, TIMEOUT_PER_MILLION_ROWS * rows / 1e6)`` — a limit that grows with the data,
    since a keyed check's work does (a fixed 600 s cut a 1M x 1M memorisation check off at 600.8 s;
    at 200k x 200k it takes 67 s here, 52 s of them in the verbatim-span join).

    Parameters
    ----------
    timeout_seconds : float or None
        The check's ``timeout_seconds`` parameter (``None``: not set).
    rows : int
        Rows (documents) of the largest side of the input, >= 0.

    Returns
    -------
    float, seconds, > 0.
    """
    if timeout_seconds is not None:
        return float(timeout_seconds)
    return max(MIN_TIMEOUT, TIMEOUT_PER_MILLION_ROWS * rows / 1e6)


class Check:
    """Base class of every check. Subclasses set the class attributes and implement :meth:`run`."""

    id: ClassVar[str]
    family: ClassVar[str]
    version: ClassVar[str] = "1"
    summary: ClassVar[str] = ""
    metric: ClassVar[str]
    goal: ClassVar[str] = "minimize"
    unit: ClassVar[str] = "unitless"
    value_range: ClassVar[str] = "[0, 1]"
    #: One of :data:`COMPUTATIONS`; every registered check declares it (a contract test checks).
    computation: ClassVar[str]
    #: Why, when it is not plain: e.g. a ``max_rows`` parameter on a check that is not ``sample``.
    computation_note: ClassVar[str] = ""
    statistical: ClassVar[bool] = True
    needs_holdout: ClassVar[bool] = False
    #: Artefacts the check reads (names in :data:`synthproof.plan.needs.ARTEFACTS`); ``None``: not
    #: declared yet (not enforced; the contract test lists such checks).
    needs: ClassVar[tuple[str, ...] | None] = None
    #: Artefacts read only when the data is in memory (never out of core, where the check does without).
    in_memory_extras: ClassVar[tuple[str, ...]] = ()
    needs_embeddings: ClassVar[bool] = False
    default_severity: ClassVar[str] = "fail"
    params: ClassVar[dict[str, Param]] = {}
    source: ClassVar[str] = ""

    def __init__(self, **kwargs: Any) -> None:
        declared = {**COMMON_PARAMS, **self.params}
        unknown = sorted(set(kwargs) - set(declared))
        if unknown:
            hint = difflib.get_close_matches(unknown[0], list(declared), n=1)
            raise InvalidParameterError(
                f"{self.id} has no parameter {unknown[0]!r}"
                + (f"; did you mean {hint[0]!r}?" if hint else f"; known: {sorted(declared)}")
            )
        values: dict[str, Any] = {}
        for name, spec in declared.items():
            raw = kwargs.get(name, spec.default)
            if name == "severity" and raw is None:
                raw = self.default_severity
            if name == "severity" and raw is False:  # YAML 1.1 reads a bare `off` as false
                raw = "off"
            values[name] = spec.validate(name, type(self).__name__, raw)
        self.config = values

    def __getattr__(self, name: str) -> Any:
        config = self.__dict__.get("config")
        if config is not None and name in config:
            return config[name]
        raise AttributeError(name)

    @property
    def severity(self) -> str:
        return self.config["severity"]

    @staticmethod
    def applicable(data: Any) -> bool:
        """Whether the check has anything to look at in this data (e.g. a text column). A check
        that does not apply is ``skipped`` and takes no share of the gate's false-alarm budget."""
        return True

    def get_params(self) -> dict[str, Any]:
        """The parameters as given/defaulted (round-trips through YAML)."""
        return dict(self.config)

    def run(self, ctx: Any) -> list[Finding]:  # pragma: no cover - abstract
        raise NotImplementedError

    def finding(self, **kw: Any) -> Finding:
        """A Finding pre-filled with this check's identity, metric, goal, unit and severity."""
        kw.setdefault("metric", self.metric)
        kw.setdefault("goal", self.goal)
        kw.setdefault("unit", self.unit)
        return Finding(check_id=self.id, family=self.family, check_version=self.version,
                       severity=self.severity, **kw)

    def judged_finding(self, verdict: Verdict, **fields: Any) -> Finding:
        """:meth:`finding` carrying a :class:`~synthproof.calibration.Verdict`: ``baseline_value``
        (the real/real median), ``threshold``, ``ci_low``, ``ci_high``, ``p_value``, ``status`` and
        ``reason_code`` from ``verdict``, and ``min_effect`` from this check's parameter when it
        has one. Keyword ``fields`` add the rest and override any of these."""
        kw: dict[str, Any] = dict(baseline_value=verdict.baseline_median, threshold=verdict.threshold,
                                  ci_low=verdict.ci_low, ci_high=verdict.ci_high, p_value=verdict.p_value,
                                  status=verdict.status, reason_code=verdict.reason_code)
        if "min_effect" in self.config:
            kw["min_effect"] = self.config["min_effect"]
        kw.update(fields)
        return self.finding(**kw)

    @classmethod
    def _computation_line(cls) -> str:
        kind = getattr(cls, "computation", None)
        line = f"{kind} — {COMPUTATIONS[kind]}" if kind in COMPUTATIONS else f"undeclared ({kind!r})"
        return line + (f"; {cls.computation_note}" if cls.computation_note else "")

    @classmethod
    def _reads_line(cls) -> str:
        from .plan.needs import STREAMED

        if cls.needs is None:
            return "not declared"
        line = ", ".join(cls.needs) or "nothing but the schema"
        if cls.in_memory_extras:
            line += f" (in memory also {', '.join(cls.in_memory_extras)})"
        return line + ("; runs out of core" if set(cls.needs) <= STREAMED else "; not yet out of core")

    @classmethod
    def explain(cls) -> str:
        """Human description for ``synthproof checks explain``."""
        lines = [
            f"{cls.id} (v{cls.version}, family {cls.family})",
            f"  {cls.summary}",
            f"  metric: {cls.metric}; goal: {cls.goal}; unit: {cls.unit}; range: {cls.value_range}",
            f"  computation: {cls._computation_line()}",
            f"  reads: {cls._reads_line()}",
            f"  needs holdout: {'yes' if cls.needs_holdout else 'no'}; default severity: {cls.default_severity}",
        ]
        if cls.source:
            lines.append(f"  source: {cls.source}")
        lines.append("  parameters:")
        for name, spec in {**COMMON_PARAMS, **cls.params}.items():
            default = cls.default_severity if name == "severity" else spec.default
            lines.append(f"    {name} = {default!r}  ({spec.describe()}): {spec.doc}")
        return "\n".join(lines)


_REGISTRY: dict[str, type[Check]] = {}


def register(cls: type[Check]) -> type[Check]:
    """Class decorator adding a check to the registry under its stable ``id``."""
    if cls.id in _REGISTRY and _REGISTRY[cls.id] is not cls:
        raise RuntimeError(f"duplicate check id {cls.id!r}")
    _REGISTRY[cls.id] = cls
    return cls


def registry() -> dict[str, type[Check]]:
    """All registered checks by id (imports the bundled check families first)."""
    import synthproof.checks._families  # noqa: F401  (registers the bundled families)

    return dict(sorted(_REGISTRY.items()))


def get_check(check_id: str, path: str | None = None) -> type[Check]:
    """The check class for ``check_id``; a ConfigError with a did-you-mean hint otherwise."""
    reg = registry()
    if check_id not in reg:
        hint = difflib.get_close_matches(check_id, list(reg), n=1)
        raise ConfigError(
            f"unknown check id {check_id!r}" + (f"; did you mean {hint[0]!r}?" if hint else ""),
            path=path,
        )
    return reg[check_id]
