"""Unvoiced dissatisfaction flags silent customers with bad signals and names the evidence."""

from __future__ import annotations

import numpy as np
import pandas as pd

from stammkunde.analytics.models.unvoiced import frequency_trend, unvoiced_dissatisfaction


def test_silent_customer_with_low_score_and_returns_is_flagged_with_evidence():
    # given
    signals = pd.DataFrame(
        {
            "complaints_total": [0, 2, 0, 0],
            "survey_score_last": [1.0, 1.0, np.nan, 5.0],
            "returns_90d": [3, 3, 0, 0],
            "negative_messages_90d": [0, 1, 0, 0],
            "frequency_trend": [1.0, 0.1, 0.2, 1.2],
        },
        index=["silent_unhappy", "complainer", "fading", "happy"],
    )
    # when
    flagged = unvoiced_dissatisfaction(signals)
    # then
    assert list(flagged.index) == ["silent_unhappy", "fading"]
    assert flagged.loc["silent_unhappy", "evidence"] == ["low_survey_score", "returns"]
    assert flagged.loc["fading", "evidence"] == ["falling_frequency"]


def test_missing_signal_columns_mean_no_signal():
    flagged = unvoiced_dissatisfaction(pd.DataFrame({"returns_90d": [0, 5]}, index=["a", "b"]))
    assert list(flagged.index) == ["b"]


def test_frequency_trend_compares_recent_and_baseline_daily_rates():
    # given one purchase in the last 90 days and four in the 365 days before
    dates = pd.to_datetime(["2024-12-01", "2024-07-01", "2024-05-01", "2024-03-01", "2024-01-15"])
    transactions = pd.DataFrame({"customer": ["a"] * 5, "date": dates})
    # when
    trend = frequency_trend(
        transactions, customer_col="customer", date_col="date", as_of="2024-12-31"
    )
    # then
    assert trend["a"] == (1 / 90) / (4 / 365)
