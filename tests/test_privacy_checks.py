"""The privacy family end to end on UCI Adult with a holdout: a synthesizer output with 5% of its
rows replaced by training rows with small noise fails every attack (singling out, linkability,
inference, membership inference); the bundled SDV GaussianCopula output and a real/real split
pass; findings report Anonymeter's risk as defined; planted PII in 1% of synthetic rows and
documents is found and named, fresh PII is reported but not as replay."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import synthproof
from synthproof.apps.defects import copy_real_rows_noisy
from synthproof.checks.privacy._setup import anonymeter_risk, raw_risk
from synthproof.datasets import load
from synthproof.stats.pii import find_pii
from tests.fakes.pii import respelled
from tests.fakes.pii import values as pii_values

PRIVACY = {"select": {"families": ["privacy"]}}


@pytest.fixture(scope="module")
def adult():
    return (load("adult", split="train").reset_index(drop=True), load("adult", split="holdout").reset_index(drop=True),
            load("adult_sdv_gaussiancopula").reset_index(drop=True))


def leaky(train: pd.DataFrame, clean: pd.DataFrame, share: float = 0.05, noise: float = 0.01, seed: int = 0):
    """``clean`` with ``share`` of its rows replaced by training rows jittered by ``noise`` SD."""
    return copy_real_rows_noisy(clean, train, share, noise, np.random.default_rng(seed))


def table(result) -> pd.DataFrame:
    df = result.findings
    return df[df.family == "privacy"]


def ev(f) -> dict:
    return json.loads(f.evidence)


def judged(df: pd.DataFrame) -> pd.DataFrame:
    return df[(df.scope != "row") & df.p_value.notna()]


def test_copies_with_small_noise_fail_every_attack(adult):
    train, hold, clean = adult
    res = synthproof.audit(train, leaky(train, clean), holdout=hold, config=PRIVACY)
    df = judged(table(res))
    failing = df[df.status == "fail"]
    assert {"privacy.singling_out", "privacy.linkability", "privacy.inference",
            "privacy.membership_inference"} <= set(failing.check_id)
    assert "membership_auc" in set(failing.metric) and "tpr_at_fpr_0.001" in set(failing.metric)
    assert "singling_out_risk_neighbourhood" in set(failing.metric)
    for _, f in failing[failing.metric.str.endswith("risk") | failing.metric.str.contains("risk_")].iterrows():
        assert ev(f)["risk"][1] > 0, f.check_id  # the risk's 95% interval excludes 0
    assert not res.passed
    rows = table(res)[table(res).scope == "row"]
    assert set(rows.check_id) >= {"privacy.linkability", "privacy.membership_inference"}
    assert rows.row_id.str.match(r"row=\d+$").all() and (rows.side == "synthetic").all()


def test_clean_synthesizer_and_real_real_split_pass(adult):
    train, hold, clean = adult
    for syn, h in ((clean, hold), (hold.iloc[8000:].reset_index(drop=True), hold.iloc[:8000].reset_index(drop=True))):
        res = synthproof.audit(train, syn, holdout=h, config=PRIVACY)
        df = table(res)
        assert not (df.status == "fail").any(), df[df.status == "fail"][["check_id", "metric", "message"]]
        assert set(judged(df).check_id) >= {"privacy.singling_out", "privacy.linkability", "privacy.inference",
                                            "privacy.membership_inference", "privacy.rare_combinations"}
        assert res.passed


def test_values_are_anonymeters_risk_and_the_verdict_the_raw_risk(adult):
    train, hold, clean = adult
    res = synthproof.audit(train.iloc[:3000], leaky(train.iloc[:3000], clean.iloc[:3000], share=0.2),
                           holdout=hold.iloc[:3000], config={"select": {"checks": ["privacy.linkability",
                                                                                    "privacy.inference"]}})
    df = judged(table(res))
    assert len(df) >= 2
    for _, f in df.iterrows():
        n, a, c = ev(f)["n_attacks"], ev(f)["successes_training"], ev(f)["successes_control"]
        assert f.value == pytest.approx(anonymeter_risk(n, a, c).risk.value, abs=1e-12)
        assert f.matched_value == pytest.approx(float(raw_risk(a, c, n)), abs=1e-12)
        assert ev(f)["risk"][1] <= max(f.value, 0.0) <= ev(f)["risk"][2]
    assert set(df.column.dropna()) >= {"age", "sex", "race"}  # secrets default to the sensitive columns


def test_no_holdout_skips_the_holdout_attacks(adult):
    train, _, clean = adult
    res = synthproof.audit(train.iloc[:2000], clean.iloc[:2000], config=PRIVACY)
    df = table(res)
    skipped = set(df[df.reason_code == "no_holdout"].check_id)
    assert skipped == {"privacy.singling_out", "privacy.linkability", "privacy.inference",
                       "privacy.membership_inference", "privacy.rare_combinations"}


def test_config_names_secrets_and_link_columns(adult):
    train, hold, clean = adult
    cfg = {"select": {"checks": ["privacy.linkability", "privacy.inference"]},
           "privacy": {"secrets": ["income"], "link_columns": [["age", "sex"], ["occupation", "race"]]}}
    res = synthproof.audit(train.iloc[:2000], clean.iloc[:2000], holdout=hold.iloc[:2000], config=cfg)
    df = judged(table(res))
    assert set(df[df.check_id == "privacy.inference"].column) == {"income"}
    link = df[df.check_id == "privacy.linkability"].iloc[0]
    assert ev(link)["link_columns"] == [["age", "sex"], ["occupation", "race"]]
    bad = synthproof.audit(train.iloc[:500], clean.iloc[:500], holdout=hold.iloc[:500],
                           config={**cfg, "privacy": {"secrets": ["no_such_column"]}})
    err = table(bad)[table(bad).check_id == "privacy.inference"].iloc[0]
    assert err.status == "error" and "no_such_column" in err.message


# -- PII replay --------------------------------------------------------------------------------

def planted_tables(n: int = 4000):
    """Adult rows with a ``contact`` column of PII: every real and holdout row its own value;
    synthetic rows fresh values, except 1% that replay a real row's value (half respelled)."""
    train, hold, clean = (load("adult", split="train").iloc[:n].reset_index(drop=True),
                          load("adult", split="holdout").iloc[:n].reset_index(drop=True),
                          load("adult_sdv_gaussiancopula").iloc[:n].reset_index(drop=True))
    vals = pii_values(3 * n, seed=7)
    train["contact"], hold["contact"], clean["contact"] = vals[:n], vals[n:2 * n], vals[2 * n:]
    rng = np.random.default_rng(3)
    planted = np.sort(rng.choice(n, n // 100, replace=False))
    src = rng.choice(n, planted.size, replace=False)
    for i, (row, s) in enumerate(zip(planted, src)):
        v = train.at[int(s), "contact"]
        clean.at[int(row), "contact"] = respelled(v) if i % 2 else v
    return train, hold, clean, planted, train["contact"].iloc[src].tolist()


def test_planted_table_pii_is_found_and_named():
    train, hold, syn, planted, _ = planted_tables()
    res = synthproof.audit(train, syn, holdout=hold, config={"select": {"checks": ["privacy.pii_replay"]},
                                                             "report": {"max_row_findings": 100}})
    df = table(res)
    f = df[(df.metric == "pii_replay_rate") & (df.column == "contact")].iloc[0]
    assert f.status == "fail" and f.value == pytest.approx(planted.size / len(syn))
    named = df[(df.scope == "row") & (df.column == "contact")].row_id
    assert sorted(named) == sorted(f"row={i}" for i in planted)  # all found, nothing else
    fresh = df[(df.metric == "pii_rate") & (df.column == "contact")].iloc[0]
    assert fresh.status == "pass" and f"{len(syn) - planted.size} synthetic rows" in fresh.message
    want = pd.Series([find_pii(v)[0][0] for v in syn.contact]).value_counts().to_dict()
    assert ev(fresh)["pii_records"] == want and sum(want.values()) == len(syn)


def test_fresh_pii_is_not_replay():
    train, hold, syn, planted, _ = planted_tables(1500)
    syn["contact"] = pii_values(1500, seed=99)  # none of them real
    res = synthproof.audit(train, syn, holdout=hold, config={"select": {"checks": ["privacy.pii_replay"]}})
    df = table(res)
    f = df[df.metric == "pii_replay_rate"].iloc[0]
    assert f.status == "pass" and f.value == 0.0
    assert df[df.metric == "pii_rate"].iloc[0].value == 1.0


def planted_corpus(natural: bool):
    """Fortunes (real) with PII appended to 600 documents and SmolLM2 documents (synthetic), 1% of
    them replaying a real document's PII (half respelled) and 100 holding fresh PII. Without
    ``natural``, real documents that quote e-mail addresses of their own (Usenet ids, authors'
    addresses, some repeated across fortunes) are left out."""
    real = load("fortunes")
    if not natural:
        real = real[[not find_pii(t) for t in real.text]]
    real = real.iloc[:3000].reset_index(drop=True)
    syn = load("fortunes_smollm2")[["doc_id", "text", "topic"]].reset_index(drop=True)
    vals = pii_values(600 + 100, seed=11)
    real.loc[:599, "text"] = [f"{t} Write to {v} for more." for t, v in zip(real.text[:600], vals[:600])]
    rng = np.random.default_rng(5)
    planted = np.sort(rng.choice(len(syn), len(syn) // 100, replace=False))
    fresh = rng.choice(np.setdiff1d(np.arange(len(syn)), planted), 100, replace=False)
    for i, row in enumerate(planted):
        syn.at[int(row), "text"] += f" Reach me at {respelled(vals[i]) if i % 2 else vals[i]}."
    for v, row in zip(vals[600:], fresh):
        syn.at[int(row), "text"] += f" Call {v}."
    return real, syn, syn.doc_id.iloc[planted].tolist()


@pytest.mark.parametrize("natural", [False, True])
def test_planted_document_pii_is_found_and_named(natural):
    real, syn, ids = planted_corpus(natural)
    res = synthproof.audit(real, syn, config={"select": {"checks": ["privacy.text_pii_replay"]},
                                              "report": {"max_row_findings": 100}})
    df = table(res)
    f = df[(df.metric == "pii_replay_rate") & (df.column == "text")].iloc[0]
    named = df[(df.scope == "row") & (df.column == "text")].row_id
    assert sorted(named) == sorted(f"doc_id={i}" for i in ids)  # all found and named, whatever the verdict
    assert f.value == pytest.approx(len(ids) / len(syn))
    assert df[df.metric == "pii_rate"].iloc[0].message.startswith("100 synthetic documents")
    if natural:
        # Fortunes replays its own quoted addresses (5 fortunes cite one Usenet id): 1% is within it
        assert f.baseline_value > 0.001 and f.status != "fail"
    else:
        assert f.status == "fail" and f.baseline_value == 0.0


def _output_texts(folder) -> dict:
    """Every output file as text: Parquet tables cell by cell, the rest decoded."""
    import pathlib

    import pyarrow.parquet as pq

    out = {}
    for p in sorted(pathlib.Path(folder).rglob("*")):
        if not p.is_file():
            continue
        if p.suffix == ".parquet":
            out[str(p)] = pq.read_table(p).to_pandas().astype(str).to_csv()
        else:
            out[str(p)] = p.read_bytes().decode("utf-8", "replace")
    return out


@pytest.mark.parametrize("show_values", [False, True])
def test_no_pii_value_in_any_output_unless_show_values(tmp_path, show_values):
    """The default suite (every family) on tables whose ``contact`` column is PII and whose
    synthetic rows replay some: no planted value — as written, respelled or normalised — appears in
    the findings, report, summary, manifest, JUnit, Markdown or console, unless show_values."""
    import subprocess
    import sys

    from tests.fakes.pii import normalised

    train, hold, syn, planted, replayed_values = planted_tables(1500)
    shared = "help-desk@acme-mail.example.com"  # one address of 12 real rows: frequent enough to chart
    train.loc[:11, "contact"] = shared
    syn.loc[np.setdiff1d(np.arange(1500), planted)[:12], "contact"] = shared
    paths = {}
    for name, df in (("real", train), ("holdout", hold), ("synthetic", syn)):
        paths[name] = tmp_path / f"{name}.parquet"
        df.to_parquet(paths[name])
    cfg = tmp_path / "cfg.yaml"
    cfg.write_text(f"report: {{show_values: {str(show_values).lower()}, max_row_findings: 50}}\n")
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-m", "synthproof.cli", "audit", "--real", str(paths["real"]),
                           "--synthetic", str(paths["synthetic"]), "--holdout", str(paths["holdout"]),
                           "--config", str(cfg), "--out", str(out), "--junit", str(tmp_path / "junit.xml"),
                           "--markdown", str(tmp_path / "summary.md"), "--annotations", "github"],
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode in (0, 1), proc.stderr[-2000:]
    texts = _output_texts(out)
    texts.update({"junit": (tmp_path / "junit.xml").read_text(), "markdown": (tmp_path / "summary.md").read_text(),
                  "console": proc.stdout + proc.stderr})
    assert any("report.html" in k for k in texts) and any("findings.parquet" in k for k in texts)
    every = [v for df in (train, hold, syn) for v in df.contact]
    forms = {f for v in every for f in (v, respelled(v), normalised(v))}
    leaks = {(k, f) for k, t in texts.items() for f in forms if f in t}
    if show_values:
        shown = {f for _, f in leaks}
        still = [v for v in replayed_values if v in set(train.contact)]
        assert len(still) >= 10 and {normalised(v) for v in still} <= shown  # the grep could find them
    else:
        assert not leaks, sorted(leaks)[:5]


def test_an_id_column_of_e_mails_is_not_printed():
    train, hold, syn, planted, _ = planted_tables(1000)
    syn = syn.assign(user_id=syn.contact)  # the synthetic key is the (partly replayed) address itself
    res = synthproof.audit(train.assign(user_id=train.contact), syn, holdout=hold.assign(user_id=hold.contact),
                           config={"select": {"checks": ["privacy.pii_replay"]}})
    rows = table(res)[table(res).scope == "row"]
    assert len(rows) and rows.row_id.str.match(r"row=\d+$").all()
    assert not any(v in m for v in syn.contact for m in table(res).message)
