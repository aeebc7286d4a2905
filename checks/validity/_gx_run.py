"""Great Expectations run in process: the lazy import, expectation configs, running a suite on a
frame (an ephemeral context, a pandas data source, a whole-dataframe batch; nothing written to
disk), and the suite's JSON form (GX 1.x, https://docs.greatexpectations.io). Used by the derived
suite (:mod:`.gx`) and the user's suite (:mod:`.gx_user`)."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import pathlib
from collections.abc import Iterator
from dataclasses import dataclass

import pandas as pd

from synthproof.errors import IncomputableError

GX_HINT = "Great Expectations is not installed; install with: pip install 'synthproof[gx]'"
SUITE_NAME = "synthproof.derived"


# --------------------------------------------------------------------------- running GX in process

def import_gx():
    """Import Great Expectations (lazily) with analytics off; IncomputableError when absent."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    try:
        import great_expectations as gx
    except ImportError:
        raise IncomputableError("missing_dependency", GX_HINT) from None
    return gx


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """GX logs (and logs tracebacks of invalid configurations) at WARNING+; keep the run's stderr clean."""
    log = logging.getLogger("great_expectations")
    level = log.level
    log.setLevel(logging.CRITICAL + 1)
    try:
        yield
    finally:
        log.setLevel(level)


def _configs(gx, expectations: list[dict]) -> list:
    """GX ``ExpectationConfiguration`` domain objects; ValueError naming the first invalid one."""
    from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

    out = []
    for i, e in enumerate(expectations):
        try:
            if not isinstance(e, dict) or not isinstance(e.get("type"), str) or not isinstance(e.get("kwargs"), dict):
                raise ValueError("needs a 'type' string and a 'kwargs' mapping")
            conf = ExpectationConfiguration(type=e["type"], kwargs=e["kwargs"], meta=e.get("meta") or {},
                                            notes=e.get("notes"), description=e.get("description"))
            out.append(conf.to_domain_obj())
        except Exception as exc:  # noqa: BLE001 - GX raises many types for a bad configuration
            what = e.get("type") if isinstance(e, dict) else type(e).__name__
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise ValueError(f"expectation #{i + 1} ({what}) is not valid: {first}") from None
    return out


@dataclass(frozen=True)
class GXResult:
    """One expectation's outcome: GX's success flag, its ``result`` dict, and an exception message."""

    success: bool
    result: dict
    exception: str | None


def run_expectations(expectations: list[dict], frame: pd.DataFrame, name: str = SUITE_NAME) -> list[GXResult]:
    """Validate ``frame`` against a suite with Great Expectations, in process.

    Parameters
    ----------
    expectations : list of dict
        ``{"type", "kwargs", "meta"?}`` as in GX 1.x suite JSON.
    frame : pandas.DataFrame
        The batch (one whole-dataframe batch).
    name : str
        Suite name.

    Returns
    -------
    list of GXResult, in the order of ``expectations``.

    Raises
    ------
    IncomputableError
        ``missing_dependency`` when GX is not installed.
    ValueError
        When an expectation configuration is invalid.
    """
    gx = import_gx()
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    with _quiet():
        confs = _configs(gx, expectations)
        for i, c in enumerate(confs):
            c.meta = {**(c.meta or {}), "synthproof_index": i}
        project = DataContextConfig(store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
                                    analytics_enabled=False,
                                    progress_bars=ProgressBarsConfig(globally=False, metric_calculations=False))
        context = gx.get_context(mode="ephemeral", project_config=project)
        batch = (context.data_sources.add_pandas("synthproof").add_dataframe_asset("synthetic")
                 .add_batch_definition_whole_dataframe("all_rows"))
        suite = context.suites.add(gx.ExpectationSuite(name=name, expectations=confs))
        vd = context.validation_definitions.add(gx.ValidationDefinition(data=batch, suite=suite, name=name))
        res = vd.run(batch_parameters={"dataframe": frame}, result_format="BASIC")
    out: list[GXResult | None] = [None] * len(confs)
    for r in res.results:
        i = int((r.expectation_config.meta or {}).get("synthproof_index", -1))
        info = r.exception_info or {}
        if "raised_exception" not in info:  # keyed by metric id when a metric failed
            info = next(iter(info.values()), {}) if info else {}
        msg = info.get("exception_message") if info.get("raised_exception") else None
        out[i] = GXResult(bool(r.success), dict(r.result or {}), msg)
    return [o if o is not None else GXResult(False, {}, "no result returned") for o in out]


def suite_json(expectations: list[dict], name: str = SUITE_NAME, meta: dict | None = None) -> dict:
    """The suite as GX 1.x JSON (``ExpectationSuite.to_json_dict()``), without GX's random ids so that
    the same data and seed give the same file."""
    gx = import_gx()
    with _quiet():
        suite = gx.ExpectationSuite(name=name, expectations=_configs(gx, expectations), meta=meta or {})
        data = suite.to_json_dict()
    data.pop("id", None)
    for e in data.get("expectations", []):
        e.pop("id", None)
    return data


def load_suite(path: str | os.PathLike) -> tuple[str, list[dict]]:
    """Read a GX 1.x suite JSON file (``json``, never pickle) and validate it with GX.

    Returns
    -------
    (name, expectations) with expectations as ``{"type", "kwargs", "meta"}`` dicts.

    Raises
    ------
    ValueError
        Missing or unreadable file, invalid JSON, or not a GX 1.x suite (the message says which).
    IncomputableError
        ``missing_dependency`` when GX is not installed.
    """
    p = pathlib.Path(path)
    if not p.is_file():
        raise ValueError(f"no such suite file: {p}")
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"cannot read {p}: {type(exc).__name__}") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"{p} is not valid JSON (line {exc.lineno}, column {exc.colno})") from None
    if not isinstance(data, dict) or not isinstance(data.get("expectations"), list):
        raise ValueError(f"{p} is not a GX 1.x suite (no 'expectations' list)")
    name = data.get("name") if isinstance(data.get("name"), str) and data.get("name") else p.stem
    gx = import_gx()
    with _quiet():
        _configs(gx, data["expectations"])
    return name, [{"type": e["type"], "kwargs": e["kwargs"], "meta": e.get("meta") or {}}
                  for e in data["expectations"]]
