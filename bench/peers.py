"""Peer tools on the same data as ``bench/perf.py --mode shapes_pairs`` (column shapes + all column pairs).

    python bench/peers.py sdmetrics DATA_DIR [--all-rows]
    python bench/peers.py evidently DATA_DIR

DATA_DIR holds ``real.parquet`` and ``synthetic.parquet`` (write them with
``bench/perf.py --rows N --data-only DATA_DIR``). Runs in its own venv (both peers need pandas < 3):
``python3.11 -m venv /work/venv-peers && /work/venv-peers/bin/pip install -r bench/requirements-peers.txt``.
Prints one JSON line; ``tool_s`` is the wall time of the tool call alone, ``read_s`` of reading the
Parquet files. Time the whole process from outside (``bench/peers.sh``).

sdmetrics: single-table ``QualityReport`` (Column Shapes: KSComplement / TVComplement per column;
Column Pair Trends: CorrelationSimilarity for numeric pairs, ContingencySimilarity for every other
pair, numeric columns binned). Metadata from dtypes: float -> numerical, anything else -> categorical.
By default SDMetrics subsamples each ContingencySimilarity pair to 50,000 rows (real and synthetic
each) when either table is larger (``sdmetrics.reports.utils.DEFAULT_NUM_ROWS_SUBSAMPLE``; numeric
pairs and Column Shapes always use all rows), which makes the pair score random run to run. Since
sdv-dev/SDMetrics#790 (PR #792, mid 2025) the report exposes the attribute
``report.num_rows_subsample`` (no constructor argument); setting it to ``None`` turns subsampling
off (read in 0.32.0: the pair property only subsamples ``if self.num_rows_subsample and ...``;
checked on 60k rows: default pair score varies run to run, 0.9919 / 0.9915, with None it is a
fixed 0.9924). ``--all-rows`` does that, for an exact like-for-like with synthproof, which uses
every row. ``sdmetrics.reports.single_table.QualityReport`` is deprecated in
0.32 in favour of the unified ``sdmetrics.reports.QualityReport`` (which adds multi-table
properties); the single-table one still works and is what we compare, with its FutureWarning muted.

evidently: ``Report([DataDriftPreset()])`` on reference=real, current=synthetic (evidently >= 0.7
API: ``evidently.presets``; ``Report.run(current_data, reference_data)``), with an explicit data
definition from the same dtypes rule. Per-column drift only (no pairs); prints the drifted-column
count. Nothing is saved.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import time
import warnings

os.environ.setdefault("DO_NOT_TRACK", "1")  # evidently telemetry off (no network here anyway)

import pandas as pd  # noqa: E402


def column_kinds(df: pd.DataFrame) -> tuple[list[str], list[str]]:
    numerical = [c for c in df.columns if pd.api.types.is_float_dtype(df[c])]
    categorical = [c for c in df.columns if c not in numerical]
    return numerical, categorical


def run_sdmetrics(real: pd.DataFrame, synthetic: pd.DataFrame, all_rows: bool) -> dict:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # single_table report deprecation notice
        from sdmetrics.reports.single_table import QualityReport
    import sdmetrics

    numerical, categorical = column_kinds(real)
    metadata = {"columns": {**{c: {"sdtype": "numerical"} for c in numerical},
                            **{c: {"sdtype": "categorical"} for c in categorical}}}
    report = QualityReport()
    # Default: ContingencySimilarity pairs subsampled to 50,000 rows when the data is larger.
    if all_rows:
        report.num_rows_subsample = None
    t0 = time.perf_counter()
    report.generate(real, synthetic, metadata, verbose=False)
    tool_s = time.perf_counter() - t0
    props = report.get_properties().set_index("Property")["Score"]
    shapes = report.get_details("Column Shapes")
    pairs = report.get_details("Column Pair Trends")
    # SDMetrics catches metric exceptions per column/pair and records them in an "Error" column.
    errors = {name: int(d["Error"].notna().sum()) if "Error" in d else 0
              for name, d in (("column_shapes", shapes), ("column_pair_trends", pairs))}
    return {"tool": "sdmetrics", "version": sdmetrics.__version__, "tool_s": round(tool_s, 3),
            "num_rows_subsample": report.num_rows_subsample,
            "overall": round(float(report.get_score()), 4),
            "column_shapes": round(float(props["Column Shapes"]), 4),
            "column_pair_trends": round(float(props["Column Pair Trends"]), 4),
            "n_columns": len(shapes), "n_pairs": len(pairs), "errors": errors}


def run_evidently(real: pd.DataFrame, synthetic: pd.DataFrame) -> dict:
    import evidently
    from evidently import DataDefinition, Dataset, Report
    from evidently.presets import DataDriftPreset

    numerical, categorical = column_kinds(real)
    t0 = time.perf_counter()
    definition = DataDefinition(numerical_columns=numerical, categorical_columns=categorical)
    ref = Dataset.from_pandas(real, data_definition=definition)
    cur = Dataset.from_pandas(synthetic, data_definition=definition)
    snapshot = Report([DataDriftPreset()]).run(current_data=cur, reference_data=ref)
    result = snapshot.dict()
    tool_s = time.perf_counter() - t0
    drifted = None
    n_value_drift = 0
    for m in result["metrics"]:
        name = str(m.get("metric_name") or m.get("metric_id") or "")
        if name.startswith("DriftedColumnsCount"):
            drifted = m["value"]
        elif name.startswith("ValueDrift"):
            n_value_drift += 1
    if drifted is None:
        raise RuntimeError(f"no DriftedColumnsCount in result: {[m.get('metric_name') for m in result['metrics']]}")
    return {"tool": "evidently", "version": evidently.__version__, "tool_s": round(tool_s, 3),
            "drifted_columns": int(drifted["count"]), "drifted_share": round(float(drifted["share"]), 4),
            "n_columns": n_value_drift}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("tool", choices=["sdmetrics", "evidently"])
    ap.add_argument("data_dir", type=pathlib.Path)
    ap.add_argument("--all-rows", action="store_true",
                    help="sdmetrics: no 50k-row subsampling of contingency pairs (num_rows_subsample=None)")
    args = ap.parse_args()
    if args.all_rows and args.tool != "sdmetrics":
        ap.error("--all-rows applies to sdmetrics only")
    t0 = time.perf_counter()
    real = pd.read_parquet(args.data_dir / "real.parquet")
    synthetic = pd.read_parquet(args.data_dir / "synthetic.parquet")
    read_s = time.perf_counter() - t0
    # Mute library chatter (deprecation / runtime notices); exceptions still propagate.
    warnings.filterwarnings("ignore", category=FutureWarning)
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    warnings.filterwarnings("ignore", category=RuntimeWarning)
    if args.tool == "sdmetrics":
        out = run_sdmetrics(real, synthetic, args.all_rows)
    else:
        out = run_evidently(real, synthetic)
    out = {**out, "rows_real": len(real), "rows_synthetic": len(synthetic), "read_s": round(read_s, 3)}
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
