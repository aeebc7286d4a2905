"""A contract test over every registered check (scikit-learn's check_estimator, for checks)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
import yaml

from synthproof.check import COMMON_PARAMS, registry
from synthproof.context import AuditContext
from synthproof.datasets import load
from synthproof.errors import InvalidParameterError
from synthproof.findings import COLUMNS, FAMILIES, SCHEMA, findings_to_table
from synthproof.runner import run_check
from synthproof.schema import prepare

from .conftest import real_real

CHECKS = registry()


def _ctx(real, syn, holdout=None, seed=0):
    data = prepare(pa.Table.from_pandas(real), pa.Table.from_pandas(syn),
                   None if holdout is None else pa.Table.from_pandas(holdout))
    return AuditContext(data=data, seed=seed, n_splits=30, alpha=0.005)


@pytest.fixture(scope="module")
def small(adult):
    r, s = real_real(adult, 300, seed=11)
    h = real_real(adult, 300, seed=12)[0]
    return r, s, h


def test_every_check_is_documented_and_tested():
    import pathlib

    tests = "".join(p.read_text() for p in pathlib.Path(__file__).parent.glob("test_*.py"))
    for cid, cls in CHECKS.items():
        assert cls.summary and cls.metric and cls.family in FAMILIES, cid
        assert cid.startswith(cls.family + "."), cid
        assert cid in cls.explain()
        if cls.statistical:
            assert cid in tests.replace(cid + '"', cid), f"{cid} has no dedicated test"


def test_every_check_declares_its_computation():
    from synthproof.check import COMPUTATIONS

    assert set(COMPUTATIONS) == {"mergeable", "sample", "keyed", "whole"}
    for cid, cls in CHECKS.items():
        assert getattr(cls, "computation", None) in COMPUTATIONS, cid
        assert not hasattr(cls, "merges"), f"{cid}: 'merges' is replaced by 'computation'"
        if "max_rows" in cls.params:  # a row cap means a bounded sample, unless the check says why not
            assert cls.computation == "sample" or cls.computation_note, cid
        assert f"computation: {cls.computation} — " in cls.explain(), cid


@pytest.mark.parametrize("cid", sorted(CHECKS))
def test_params_validated_and_round_trip_yaml(cid):
    cls = CHECKS[cid]
    check = cls()
    again = cls(**yaml.safe_load(yaml.safe_dump(check.get_params())))
    assert again.get_params() == check.get_params()
    with pytest.raises(InvalidParameterError, match="severity"):
        cls(severity="loud")
    with pytest.raises(InvalidParameterError, match="no parameter"):
        cls(not_a_parameter=1)
    for name, spec in cls.params.items():
        if spec.kind in ("int", "float") and spec.low is not None:
            with pytest.raises(InvalidParameterError, match=name):
                cls(**{name: spec.low - 1})
    assert set(COMMON_PARAMS) <= set(check.get_params())


@pytest.mark.parametrize("cid", sorted(CHECKS))
def test_same_seed_same_findings_and_schema(cid, small):
    r, s, h = small
    cls = CHECKS[cid]
    a = run_check(cls(), _ctx(r, s, h, seed=3))
    b = run_check(cls(), _ctx(r, s, h, seed=3))
    assert a == b
    assert all(f.status != "error" for f in a), [f.message for f in a]
    table = findings_to_table(a)
    assert table.schema.equals(SCHEMA) and tuple(table.column_names) == COLUMNS


@pytest.mark.parametrize("cid", sorted(CHECKS))
def test_degenerate_input_gives_findings_not_crashes(cid):
    real = pd.DataFrame({"x": [np.nan] * 40, "c": [None] * 40})
    syn = pd.DataFrame({"x": [np.nan] * 40, "c": [None] * 40})
    out = run_check(CHECKS[cid](), _ctx(real, syn))
    assert out and all(f.status in ("skipped", "pass", "warn", "fail") for f in out), [f.message for f in out]
    const = pd.DataFrame({"x": [1.0] * 40, "c": ["a"] * 40})
    out = run_check(CHECKS[cid](), _ctx(const, const.copy()))
    assert all(f.status != "error" for f in out), [f.message for f in out]


def test_checks_doc_is_in_sync():
    import importlib.util
    import pathlib

    root = pathlib.Path(__file__).resolve().parents[1]
    spec = importlib.util.spec_from_file_location("gen_checks_doc", root / "scripts" / "gen_checks_doc.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    assert (root / "docs" / "checks.md").read_text(encoding="utf-8") == mod.render(), \
        "run: python scripts/gen_checks_doc.py"


# --------------------------------------------------------------------------- artefact contract

def _watched_ctx(real, syn, holdout=None, config=None):
    """A context like the audit's: synthetic-only provenance tags kept aside, the run's config."""
    from synthproof.config import parse_config

    data = prepare(pa.Table.from_pandas(real), pa.Table.from_pandas(syn[[c for c in syn.columns if c in real]]),
                   None if holdout is None else pa.Table.from_pandas(holdout))
    extra = [c for c in syn.columns if c not in real.columns]
    data.synthetic_extra = syn[extra].reset_index(drop=True) if extra else None
    return AuditContext(data=data, seed=0, n_splits=30, alpha=0.005, settings=parse_config(config or {}))


@pytest.fixture(scope="module")
def contexts(adult, fortunes, tmp_path_factory):
    """Builders of fresh contexts (nothing memoised between checks): a small Adult table with a
    holdout and a target, and a text corpus (fortunes vs a generated one carrying provenance tags)
    with a holdout and an eval set."""
    r, s = real_real(adult, 600, seed=11)
    h = real_real(adult, 600, seed=12)[0]
    fr, fh = real_real(fortunes, 300, seed=13)
    fs = load("fortunes_smollm2").iloc[:300].reset_index(drop=True)
    evals = tmp_path_factory.mktemp("evals") / "eval.jsonl"
    fr.iloc[:20][["text"]].to_json(evals, orient="records", lines=True)
    return {"table": lambda: _watched_ctx(r, s, h, {"bias": {"target": "income"}}),
            "text": lambda: _watched_ctx(fr, fs, fh, {"text": {"eval_sets": [str(evals)]}})}


@pytest.mark.parametrize("cid", sorted(CHECKS))
def test_check_reads_only_what_it_declares(cid, contexts):
    from synthproof.checks._text import TextCheck
    from synthproof.plan.needs import ARTEFACTS

    cls = CHECKS[cid]
    assert cls.needs is not None, f"{cid} declares no needs"
    assert set(cls.needs) | set(cls.in_memory_extras) <= set(ARTEFACTS), set(cls.needs) - set(ARTEFACTS)
    kinds = ["text"] if issubclass(cls, TextCheck) else ["table", "text"]
    if "embeddings" in cls.needs:
        pytest.importorskip("sentence_transformers")
    for kind in kinds:
        ctx = contexts[kind]()
        out = run_check(cls(), ctx)
        undeclared = [f.message for f in out if f.status == "error" and "does not declare" in f.message]
        assert not undeclared, undeclared
        allowed = set(cls.needs) | set(cls.in_memory_extras)  # in memory here
        assert ctx.used <= allowed, f"{cid} on {kind} read {sorted(ctx.used - allowed)}"
        assert ctx.current is None


def test_an_undeclared_read_is_an_error_naming_it(small):
    from synthproof.check import Check

    class Sneaky(Check):  # not registered
        id = "drift.sneaky"
        family = "drift"
        metric = "rows"
        computation = "sample"
        needs = ("column_counts",)

        def run(self, ctx):
            ctx.counts(ctx.data.features[0])
            ctx.sample("real", 5, self.id)
            return [self.finding(scope="dataset", status="pass", message="read a sample")]

    r, s, h = small
    ctx = _ctx(r, s)
    (f,) = run_check(Sneaky(), ctx)
    assert f.status == "error" and "'row_sample'" in f.message and "does not declare" in f.message, f.message
    assert "drift.sneaky" not in registry()
    assert ctx.current is None and ctx.data.real is not None  # the context is restored
