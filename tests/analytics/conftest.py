"""Shared fixtures for the numeric analytics core: CDNOW data from lifetimes and seeds.

The CDNOW files ship inside the ``lifetimes`` test dependency; they are read
from there and never copied into the repository.
"""

from __future__ import annotations

import os
from importlib.resources import files

import numpy as np
import pandas as pd
import pytest

lifetimes_datasets = pytest.importorskip("lifetimes.datasets")

CDNOW_CALIBRATION_END = "1997-09-30"
CDNOW_OBSERVATION_END = "1998-06-30"


@pytest.fixture(scope="session")
def cdnow_summary() -> pd.DataFrame:
    """The paper's 2,357-customer calibration summary (weeks)."""
    return lifetimes_datasets.load_cdnow_summary(index_col=[0])


@pytest.fixture(scope="session")
def cdnow_summary_with_spend() -> pd.DataFrame:
    return lifetimes_datasets.load_cdnow_summary_data_with_monetary_value()


def _read_cdnow(name: str, columns: list[str]) -> pd.DataFrame:
    path = files("lifetimes") / "datasets" / name
    frame = pd.read_csv(str(path), sep=r"\s+", header=None, names=columns, dtype={"date": str})
    frame["date"] = pd.to_datetime(frame["date"], format="%Y%m%d")
    return frame


@pytest.fixture(scope="session")
def cdnow_sample_transactions() -> pd.DataFrame:
    """Transactions of the paper's 1/10 sample (same 2,357 customers as the summary)."""
    return _read_cdnow("CDNOW_sample.txt", ["master_id", "customer_id", "date", "cds", "amount"])


@pytest.fixture(scope="session")
def cdnow_master_transactions() -> pd.DataFrame:
    """All 23,570 CDNOW customers' transactions."""
    frame = pd.read_csv(
        str(files("lifetimes") / "datasets" / "CDNOW_master.txt"),
        sep=r"\s+",
        header=0,
        dtype={"date": str},
    )
    frame.columns = ["customer_id", "date", "cds", "amount"]
    frame["date"] = pd.to_datetime(frame["date"], format="%Y%m%d")
    return frame


@pytest.fixture
def global_random_seed() -> int:
    """One rotatable seed for all randomised tests (``STAMMKUNDE_SEED``, default 42).

    Tests must pass for any seed; CI can rotate it like scikit-learn does.
    """
    return int(os.environ.get("STAMMKUNDE_SEED", "42"))


@pytest.fixture
def rng(global_random_seed: int) -> np.random.Generator:
    return np.random.default_rng(global_random_seed)
