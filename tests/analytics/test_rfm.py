"""RFM summary follows lifetimes' conventions; scores and segments are rank based."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lifetimes.utils import summary_data_from_transaction_data

from stammkunde.analytics.models.rfm import rfm_scores, rfm_segment, rfm_summary

from .conftest import CDNOW_CALIBRATION_END, CDNOW_OBSERVATION_END

START = pd.Timestamp("2024-01-01")

transaction_rows = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=6),
        st.integers(min_value=0, max_value=400),
        st.floats(min_value=0.0, max_value=500.0, allow_nan=False).map(lambda v: round(v, 2)),
    ),
    min_size=1,
    max_size=60,
)


def _frame(rows: list[tuple[int, int, float]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer": [f"c{c}" for c, _, _ in rows],
            "date": [START + pd.Timedelta(days=d) for _, d, _ in rows],
            "amount": [a for _, _, a in rows],
        }
    )


@settings(max_examples=150, deadline=None)
@given(rows=transaction_rows, freq=st.sampled_from(["D", "W"]), seed=st.integers(0, 2**32 - 1))
def test_summary_is_consistent_and_ignores_row_order(rows, freq, seed):
    # given
    frame = _frame(rows)
    shuffled = frame.sample(frac=1.0, random_state=np.random.RandomState(seed))
    # when
    summary = rfm_summary(
        frame, customer_col="customer", date_col="date", amount_col="amount", freq=freq
    )
    again = rfm_summary(
        shuffled, customer_col="customer", date_col="date", amount_col="amount", freq=freq
    )
    # then
    assert (summary["recency"] <= summary["T"]).all()
    assert (summary["frequency"] >= 0).all()
    assert (summary.loc[summary["frequency"] == 0, "recency"] == 0).all()
    pd.testing.assert_frame_equal(summary, again.loc[summary.index])


@settings(max_examples=60, deadline=None)
@given(rows=transaction_rows, freq=st.sampled_from(["D", "W"]))
def test_summary_equals_lifetimes_summary(rows, freq):
    # given
    frame = _frame(rows)
    # when
    ours = rfm_summary(
        frame, customer_col="customer", date_col="date", amount_col="amount", freq=freq
    )
    theirs = summary_data_from_transaction_data(frame, "customer", "date", "amount", freq=freq)
    # then
    np.testing.assert_allclose(
        ours.loc[theirs.index, ["frequency", "recency", "T", "monetary_value"]].to_numpy(),
        theirs[["frequency", "recency", "T", "monetary_value"]].to_numpy(),
        atol=1e-9,
    )


def test_cdnow_calibration_summary_reproduces_the_published_summary(
    cdnow_sample_transactions: pd.DataFrame, cdnow_summary: pd.DataFrame
):
    # given
    # when
    summary = rfm_summary(
        cdnow_sample_transactions,
        customer_col="customer_id",
        date_col="date",
        calibration_end=CDNOW_CALIBRATION_END,
        observation_end=CDNOW_OBSERVATION_END,
    )
    # then (published times are weeks rounded to 2 decimals)
    published = cdnow_summary.loc[summary.index]
    np.testing.assert_array_equal(summary["frequency"], published["frequency"])
    np.testing.assert_allclose(summary["recency"] / 7, published["recency"], atol=0.006)
    np.testing.assert_allclose(summary["T"] / 7, published["T"], atol=0.006)
    assert (summary["duration_holdout"] == 273).all()


def test_holdout_counts_purchase_days_after_calibration_end():
    # given one customer buying twice before and on two days after the split
    frame = _frame([(1, 0, 10.0), (1, 5, 20.0), (1, 12, 30.0), (1, 12, 5.0), (1, 20, 40.0)])
    # when
    summary = rfm_summary(
        frame,
        customer_col="customer",
        date_col="date",
        amount_col="amount",
        calibration_end=START + pd.Timedelta(days=9),
    )
    # then
    row = summary.loc["c1"]
    assert (row["frequency"], row["recency"], row["T"]) == (1, 5, 9)
    assert row["frequency_holdout"] == 2
    assert row["monetary_value_holdout"] == pytest.approx(37.5)
    assert row["duration_holdout"] == 11


def test_customers_first_buying_after_calibration_end_are_left_out():
    frame = _frame([(1, 0, 10.0), (2, 15, 20.0)])
    summary = rfm_summary(
        frame,
        customer_col="customer",
        date_col="date",
        calibration_end=START + pd.Timedelta(days=9),
    )
    assert list(summary.index) == ["c1"]


def test_most_recent_frequent_buyers_are_champions_and_idle_one_off_buyers_hibernate():
    # given
    summary = pd.DataFrame(
        {
            "frequency": [20.0, 0.0, 5.0, 1.0, 10.0],
            "recency": [99.0, 0.0, 60.0, 10.0, 90.0],
            "T": [100.0, 100.0, 100.0, 100.0, 100.0],
            "monetary_value": [50.0, 0.0, 20.0, 10.0, 40.0],
        },
        index=["best", "gone", "mid", "low", "good"],
    )
    # when
    scores = rfm_scores(summary)
    # then
    assert scores.loc["best", "segment"] == "champions"
    assert scores.loc["gone", "segment"] == "hibernating"
    assert scores[["r_score", "f_score", "m_score"]].isin(range(1, 6)).all().all()


def test_segment_grid_maps_recent_single_buyers_to_new_customers():
    assert list(rfm_segment(np.array([5, 1]), np.array([1, 5]))) == ["new_customers", "cannot_lose"]
