"""Generation lineage: a real collapse chain fails, an accumulating chain passes, real resamples pass."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from synthproof.apps.collapse import BigramModel, collapse_chain
from synthproof.apps.lineage import (Generation, LineageConfig, distinct2, mann_kendall, numeric_tail,
                                     rare_category_coverage, run_lineage)
from synthproof.datasets import load
from synthproof.text import words

from .test_signing import run as run_cli


def _gens(frames):
    return [Generation(f"gen{i}", f.drop(columns=["real_share"], errors="ignore"),
                       None if i == 0 or "real_share" not in f else float(f["real_share"].iloc[0]))
            for i, f in enumerate(frames)]


@pytest.fixture(scope="module")
def real_texts():
    return load("fortunes").sample(1500, random_state=3)["text"].tolist()


def test_replacing_chain_collapses_and_fails_in_time(real_texts):
    res = run_lineage(_gens(collapse_chain(real_texts, 6, "replace", seed=2)), LineageConfig(n_boot=30))
    tails = res.table[res.table.metric == "tail_retention"].sort_values("generation").value.to_numpy()
    div = res.table[res.table.metric == "diversity"].sort_values("generation").value.to_numpy()
    assert np.all(np.diff(tails[1:]) < 0) and np.all(np.diff(div[1:]) < 0)  # decay, generation after generation
    assert tails[1] > 0.9  # the first generation keeps its tails
    assert not res.passed
    half = np.flatnonzero(tails <= 0.5)
    limit = int(half[0]) if half.size else len(tails) - 1
    assert res.first_failing is not None and res.first_failing <= limit
    assert res.trends["tail_retention"]["status"] == "fail"


def test_accumulating_chain_passes(real_texts):
    res = run_lineage(_gens(collapse_chain(real_texts, 6, "accumulate", seed=2)), LineageConfig(n_boot=30))
    assert res.passed, res.table
    shares = res.table[res.table.metric == "real_share"].sort_values("generation").value.tolist()[1:]
    assert shares == pytest.approx([1, 1 / 2, 1 / 3, 1 / 4, 1 / 5, 1 / 6])
    # ... unless the real share must stay above a floor.
    floored = run_lineage(_gens(collapse_chain(real_texts, 6, "accumulate", seed=2)),
                          LineageConfig(n_boot=30, real_share_floor=0.3))
    assert floored.first_failing == 4  # 1/4 < 0.3


def test_real_resamples_pass(adult):
    """False alarms: generations that are resamples of the real table pass (10 seeds, at most 1 failure)."""
    base = adult.sample(3000, random_state=0).reset_index(drop=True)
    fails = 0
    for seed in range(10):
        rng = np.random.default_rng(seed)
        frames = [base] + [base.iloc[rng.integers(0, len(base), len(base))].reset_index(drop=True) for _ in range(4)]
        fails += not run_lineage(_gens(frames), LineageConfig(n_boot=30, seed=seed)).passed
    assert fails <= 1


def test_table_chain_with_clipped_tails_fails(adult):
    """A real table whose numeric tails shrink generation after generation (clipped at widening quantiles)."""
    base = adult.sample(3000, random_state=1).reset_index(drop=True)
    frames = [base]
    for g in range(1, 6):
        f = base.copy()
        for c in ("age", "hours_per_week", "fnlwgt", "education_num"):
            lo, hi = base[c].quantile([0.004 * g, 1 - 0.004 * g])
            f[c] = f[c].clip(lo, hi)
        frames.append(f)
    res = run_lineage(_gens(frames), LineageConfig(n_boot=30))
    tails = res.table[res.table.metric == "tail_retention"].sort_values("generation").value.to_numpy()
    assert tails[-1] < tails[1] and not res.passed


def test_statistics():
    x = np.arange(1000.0)
    assert numeric_tail(x, x) == pytest.approx(1.0)
    assert numeric_tail(x, np.clip(x, 50, 950)) == 0.0
    ref = pd.Series(["a"] * 990 + ["b"] * 6 + ["c"] * 4)
    assert rare_category_coverage(ref, pd.Series(["a", "b"])) == pytest.approx(0.6)
    assert distinct2([["a", "b", "a", "b"]], 4) == pytest.approx(2 / 3)
    tau, p = mann_kendall([5, 4, 3, 2, 1])
    assert tau == pytest.approx(-1) and p == pytest.approx(1 / 120)
    assert np.isnan(mann_kendall([1.0, 2.0])[1])


def test_bigram_model_only_emits_seen_bigrams(real_texts):
    docs = [words(t) for t in real_texts[:200]]
    seen = {g for d in docs for g in zip(d, d[1:])}
    out = BigramModel().fit(docs).sample(100, np.random.default_rng(0))
    assert {g for d in out for g in zip(d, d[1:])} <= seen


def test_cli_writes_report_and_exit_code(tmp_path, capsys, real_texts):
    paths = []
    for g, f in enumerate(collapse_chain(real_texts[:800], 5, "replace", seed=4)):
        p = tmp_path / (f"<b>gen{g}.parquet" if g == 1 else f"gen{g}.parquet")
        f.to_parquet(p, index=False)
        paths.append(str(p))
    code, out = run_cli(capsys, "lineage", *paths, "--out", str(tmp_path / "out"), "--n-boot", "20")
    assert code == 1 and "gate FAILED" in out
    html = (tmp_path / "out" / "lineage.html").read_text()
    assert "&lt;b&gt;gen1.parquet" in html and "<b>gen1" not in html and "<svg" in html
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["verdict"] == "fail" and summary["first_failing_generation"] >= 1
    f = pd.read_parquet(tmp_path / "out" / "lineage.parquet")
    assert {"lineage.tail_retention", "lineage.diversity", "lineage.trend"} <= set(f.check_id)
    code, out = run_cli(capsys, "lineage", paths[0])
    assert code == 2


def test_lineage_follows_signed_parents(tmp_path, capsys, real_texts):
    key = tmp_path / "k.pem"
    assert run_cli(capsys, "provenance", "keygen", "--out", str(key))[0] == 0
    paths = []
    for g, f in enumerate(collapse_chain(real_texts[:600], 3, "replace", seed=5)):
        p = tmp_path / f"gen{g}.parquet"
        f.to_parquet(p, index=False)
        if g:
            code, out = run_cli(capsys, "provenance", "sign", str(p), "--key", str(key), "--parent", paths[-1],
                                "--generation", str(g))
            assert code == 0, out
        paths.append(str(p))
    code, out = run_cli(capsys, "lineage", paths[-1], "--out", str(tmp_path / "out"), "--n-boot", "20")
    assert "gen3.parquet <- " in out and code in (0, 1)
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert [i["source"].rsplit("/", 1)[-1] for i in summary["inputs"]] == [f"gen{g}.parquet" for g in range(4)]
    # A parent edited after it was recorded breaks the chain.
    pd.DataFrame({"text": ["changed text here"] * 5}).to_parquet(paths[1], index=False)
    code, out = run_cli(capsys, "lineage", paths[-1], "--out", str(tmp_path / "out2"))
    assert code == 2 and "changed since it was recorded" in out
