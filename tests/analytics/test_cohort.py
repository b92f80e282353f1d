"""Cohort retention shares by month of first purchase."""

from __future__ import annotations

import numpy as np
import pandas as pd

from stammkunde.analytics.models.cohort import cohort_retention


def test_retention_is_the_share_of_the_cohort_buying_k_months_later():
    # given two January customers (one returns in February) and one February customer
    transactions = pd.DataFrame(
        {
            "customer": ["a", "a", "a", "b", "c"],
            "date": pd.to_datetime(
                ["2024-01-05", "2024-01-20", "2024-02-03", "2024-01-10", "2024-02-15"]
            ),
        }
    )
    # when
    table = cohort_retention(transactions, customer_col="customer", date_col="date")
    # then
    jan, feb = pd.Period("2024-01", "M"), pd.Period("2024-02", "M")
    assert table.loc[jan, 0] == 1.0
    assert table.loc[jan, 1] == 0.5
    assert table.loc[feb, 0] == 1.0
    assert np.isnan(table.loc[feb, 1])  # March is not observed yet


def test_counts_mode_returns_customer_numbers():
    transactions = pd.DataFrame(
        {
            "customer": ["a", "b", "a"],
            "date": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-03-01"]),
        }
    )
    table = cohort_retention(transactions, customer_col="customer", date_col="date", as_counts=True)
    assert list(table.iloc[0]) == [2.0, 0.0, 1.0]
