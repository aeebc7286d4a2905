"""Write SDMetrics 0.32's own scores on small bundled real/synthetic pairs, as a test fixture.

    /work/venv-sdm/bin/python scripts/generate_sdmetrics_reference.py [--out-dir tests/fixtures]
        [--rows 1500] [--seed 20261201]

Runs in a separate venv, because SDMetrics 0.32 needs pandas < 3 (synthproof uses pandas 3)::

    python3.11 -m venv /work/venv-sdm
    /work/venv-sdm/bin/pip install sdmetrics==0.32.0 pandas==2.3.3 pyarrow==26.0.1 \
        -c <(grep -v '^evidently' bench/requirements-peers.txt)

It does not import synthproof: the bundled Parquet files (``audit/datasets/data/``) are read with
pyarrow. For each pair it takes ``--rows`` rows of the real TRAIN half and of the SDV synthetic
sample (seeded, without replacement, kept in file order), adds a few columns that the bundled data
lacks (a datetime with NaT, a boolean with missing values, a constant column, a float column with
full precision, a synthetic-side constant), writes the exact input tables as
``sdmetrics_<pair>_{real,synthetic}.parquet``, reads them back, and records on those:

* ``sdmetrics.reports.single_table.QualityReport`` (``num_rows_subsample = None``: every row), once
  with the 0.32 defaults (``real_correlation_threshold`` 0.5, ``real_association_threshold`` 0.3)
  and once with both thresholds 0 (every pair's score, and the plain mean over pairs);
* the metric classes called directly: ``KSComplement`` / ``TVComplement`` per column,
  ``ContingencySimilarity`` with ``continuous_column_names`` (the metric API's own binning) and
  ``CorrelationSimilarity`` with ``coefficient="Spearman"`` on a few pairs.

Everything goes to ``sdmetrics_0_32_reference.json`` (NaN as ``null``), with the versions and the
exact arguments of this run. ``tests/test_sdmetrics_compat.py`` compares synthproof with it.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import pathlib
import sys
import warnings

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

ROOT = pathlib.Path(__file__).resolve().parents[1]
DATA = ROOT / "audit" / "datasets" / "data"

#: sdtypes as synthproof infers the roles of these tables (numeric -> numerical; the test checks it).
METADATA = {
    "adult": {
        "age": "numerical", "workclass": "categorical", "fnlwgt": "numerical", "education": "categorical",
        "education_num": "numerical", "marital_status": "categorical", "occupation": "categorical",
        "relationship": "categorical", "race": "categorical", "sex": "boolean", "capital_gain": "numerical",
        "capital_loss": "numerical", "hours_per_week": "numerical", "native_country": "categorical",
        "income": "boolean",
    },
    "compas": {
        "sex": "boolean", "age": "numerical", "age_cat": "categorical", "race": "categorical",
        "juv_fel_count": "numerical", "juv_misd_count": "numerical", "priors_count": "numerical",
        "days_b_screening_arrest": "numerical", "c_charge_degree": "boolean", "decile_score": "numerical",
        "score_text": "categorical", "two_year_recid": "boolean",
        "screening_date": "datetime", "flagged": "boolean", "site": "boolean", "noise": "numerical",
    },
}
SOURCES = {"adult": ("adult", "adult_sdv_gaussiancopula"), "compas": ("compas", "compas_sdv_gaussiancopula")}


def read(name: str) -> pd.DataFrame:
    return pq.read_table(DATA / f"{name}.parquet").to_pandas()


def train_half(name: str) -> pd.DataFrame:
    df = read(name)
    rows = pq.read_table(DATA / f"{name}_split.parquet").column("row").to_numpy()
    mask = np.zeros(len(df), dtype=bool)
    mask[rows] = True
    return df[mask].reset_index(drop=True)


def pick(df: pd.DataFrame, n: int, rng: np.random.Generator) -> tuple[pd.DataFrame, list[int]]:
    idx = np.sort(rng.choice(len(df), size=min(n, len(df)), replace=False))
    return df.iloc[idx].reset_index(drop=True), idx.tolist()


def add_compas_columns(real: pd.DataFrame, syn: pd.DataFrame, rng: np.random.Generator) -> None:
    """Columns the bundled data lacks: datetime with NaT, boolean with missing, constant, full-precision float."""
    for df, days, p_true, p_na, const in ((real, 730, 0.30, 0.04, False), (syn, 800, 0.36, 0.07, True)):
        n = len(df)
        secs = rng.integers(0, days, n) * 86_400 + rng.integers(0, 86_400, n)
        dates = pd.Series(pd.Timestamp("2013-01-01") + pd.to_timedelta(secs, unit="s")).astype("datetime64[ns]")
        dates[rng.random(n) < 0.05] = pd.NaT
        df["screening_date"] = dates
        flagged = pd.Series(rng.random(n) < p_true, dtype=object)
        flagged[rng.random(n) < p_na] = None
        df["flagged"] = flagged
        df["site"] = "main"  # constant on both sides (boolean role: a single value)
        # Full float precision (exercises KSComplement's rounding to 14 decimals); constant on the
        # synthetic side (CorrelationSimilarity raises ConstantInputError there).
        noise = rng.normal(0.0, 1.0, n) * 1e3 / 7.0
        noise[rng.random(n) < 0.03] = np.nan
        df["noise"] = np.full(n, 0.5) if const else noise


def clean(v):
    if v is None or v is pd.NA:
        return None
    if isinstance(v, (np.bool_, bool)):
        return bool(v)
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        return None if math.isnan(float(v)) else float(v)
    return v


def report(real, syn, metadata, thresholds: bool):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        from sdmetrics.reports.single_table import QualityReport
    rep = QualityReport()
    rep.num_rows_subsample = None  # every row (default 50,000 per ContingencySimilarity pair)
    if not thresholds:
        rep.real_correlation_threshold = 0
        rep.real_association_threshold = 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rep.generate(real, syn, {"columns": {c: {"sdtype": t} for c, t in metadata.items()}}, verbose=False)
    props = rep.get_properties().set_index("Property")["Score"]
    return rep, float(props["Column Shapes"]), float(props["Column Pair Trends"]), float(rep.get_score())


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out-dir", default=str(ROOT / "tests" / "fixtures"))
    ap.add_argument("--rows", type=int, default=1500)
    ap.add_argument("--seed", type=int, default=20261201)
    args = ap.parse_args(argv)
    import scipy
    import sdmetrics
    from sdmetrics.column_pairs import ContingencySimilarity, CorrelationSimilarity
    from sdmetrics.single_column import KSComplement, TVComplement

    out = pathlib.Path(args.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    fixture = {
        "generator": "scripts/generate_sdmetrics_reference.py",
        "argv": sys.argv[1:] if argv is None else list(argv),
        "args": {"rows": args.rows, "seed": args.seed},
        "versions": {"sdmetrics": sdmetrics.__version__, "pandas": pd.__version__, "numpy": np.__version__,
                     "scipy": scipy.__version__, "pyarrow": pa.__version__, "python": sys.version.split()[0]},
        "report": "sdmetrics.reports.single_table.QualityReport, num_rows_subsample=None",
        "pairs": {},
    }
    for k, (pair, (real_name, syn_name)) in enumerate(SOURCES.items()):
        rng = np.random.default_rng([args.seed, k])
        real, real_rows = pick(train_half(real_name), args.rows, rng)
        syn, syn_rows = pick(read(syn_name), args.rows, rng)
        if pair == "compas":
            add_compas_columns(real, syn, rng)
        metadata = METADATA[pair]
        real, syn = real[list(metadata)], syn[list(metadata)]
        files = {}
        for side, df in (("real", real), ("synthetic", syn)):
            name = f"sdmetrics_{pair}_{side}.parquet"
            pq.write_table(pa.Table.from_pandas(df, preserve_index=False), out / name, compression="zstd")
            files[side] = name
        # Compute on the tables as the test reads them back.
        real = pq.read_table(out / files["real"]).to_pandas()
        syn = pq.read_table(out / files["synthetic"]).to_pandas()
        for c, t in metadata.items():
            if t == "datetime":
                real[c], syn[c] = real[c].astype("datetime64[ns]"), syn[c].astype("datetime64[ns]")

        rep, shapes, trends, overall = report(real, syn, metadata, thresholds=True)
        rep0, shapes0, trends0, overall0 = report(real, syn, metadata, thresholds=False)
        shape_details = rep.get_details("Column Shapes")
        pairs_default = rep.get_details("Column Pair Trends")
        pairs_all = rep0.get_details("Column Pair Trends")
        pair_rows = []
        for (_, d), (_, a) in zip(pairs_default.iterrows(), pairs_all.iterrows()):
            assert (d["Column 1"], d["Column 2"]) == (a["Column 1"], a["Column 2"])
            pair_rows.append({
                "column_1": d["Column 1"], "column_2": d["Column 2"], "metric": d["Metric"],
                "score": clean(a["Score"]), "score_thresholded": clean(d["Score"]),
                "real_correlation": clean(a["Real Correlation"]),
                "synthetic_correlation": clean(a["Synthetic Correlation"]),
                "real_association": clean(d["Real Association"]),
                "meets_threshold": clean(d["Meets Threshold?"]),
                "error": clean(a["Error"]) if "Error" in a else None,
            })
        direct = []
        for c, t in metadata.items():
            metric = KSComplement if t in ("numerical", "datetime") else TVComplement
            try:
                score = metric.compute(real[c], syn[c])
            except Exception as exc:  # noqa: BLE001 - recorded like SDMetrics' report does
                score = float("nan")
                direct.append({"column": c, "metric": metric.__name__, "score": None, "error": type(exc).__name__})
                continue
            direct.append({"column": c, "metric": metric.__name__, "score": clean(score), "error": None})
        numeric = [c for c, t in metadata.items() if t in ("numerical", "datetime")]
        discrete = [c for c, t in metadata.items() if t not in ("numerical", "datetime")]
        metric_api = {"contingency_continuous": [], "correlation_spearman": []}
        for a, b in list(itertools.product(numeric[:3], discrete[:3])) + list(itertools.combinations(numeric[:3], 2)):
            cont = [c for c in (a, b) if c in numeric]
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                s = ContingencySimilarity.compute(real[[a, b]].copy(), syn[[a, b]].copy(),
                                                  continuous_column_names=cont)
            metric_api["contingency_continuous"].append({"columns": [a, b], "continuous": cont, "score": clean(s)})
        for a, b in itertools.combinations(numeric, 2):
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    s = CorrelationSimilarity.compute(real[[a, b]], syn[[a, b]], coefficient="Spearman")
                err = None
            except Exception as exc:  # noqa: BLE001
                s, err = float("nan"), type(exc).__name__
            metric_api["correlation_spearman"].append({"columns": [a, b], "score": clean(s), "error": err})
        fixture["pairs"][pair] = {
            "files": files,
            "source": {"real": f"{real_name} (train half, audit/datasets/data/{real_name}_split.parquet)",
                       "synthetic": syn_name, "rng": f"numpy.random.default_rng([{args.seed}, {k}])",
                       "real_rows": " ".join(map(str, real_rows)), "synthetic_rows": " ".join(map(str, syn_rows)),
                       "added_columns": (["screening_date", "flagged", "site", "noise"] if pair == "compas" else [])},
            "metadata": metadata,
            "column_shapes": {"score": shapes, "details": [
                {"column": r["Column"], "metric": r["Metric"], "score": clean(r["Score"]),
                 "error": clean(r["Error"]) if "Error" in r else None} for _, r in shape_details.iterrows()]},
            "column_pair_trends": {"score": clean(trends), "score_all_pairs": clean(trends0), "details": pair_rows},
            "overall_score": clean(overall), "overall_score_all_pairs": clean(overall0),
            "direct": direct, "metric_api": metric_api,
        }
        assert shapes == shapes0
    path = out / "sdmetrics_0_32_reference.json"
    path.write_text(json.dumps(fixture, indent=1, sort_keys=False) + "\n", encoding="utf-8")
    print(f"wrote {path}")
    for pair, v in fixture["pairs"].items():
        print(pair, "shapes", v["column_shapes"]["score"], "trends", v["column_pair_trends"]["score"],
              "all pairs", v["column_pair_trends"]["score_all_pairs"], "overall", v["overall_score"])


if __name__ == "__main__":
    main()
