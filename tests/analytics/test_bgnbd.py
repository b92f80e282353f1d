"""BG/NBD is validated against Fader, Hardie & Lee (2005) on CDNOW and against lifetimes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from lifetimes import BetaGeoFitter

from stammkunde.analytics.models.bgnbd import BetaGeoModel
from stammkunde.analytics.models.rfm import rfm_summary

from .conftest import CDNOW_CALIBRATION_END, CDNOW_OBSERVATION_END

PAPER = {"r_": 0.243, "alpha_": 4.414, "a_": 0.793, "b_": 2.426}


@pytest.fixture(scope="module")
def cdnow_model(cdnow_summary: pd.DataFrame) -> BetaGeoModel:
    return BetaGeoModel().fit(
        cdnow_summary["frequency"], cdnow_summary["recency"], cdnow_summary["T"]
    )


def _lifetimes_with(model: BetaGeoModel) -> BetaGeoFitter:
    fitter = BetaGeoFitter()
    fitter.params_ = pd.Series(
        [model.r_, model.alpha_, model.a_, model.b_], index=["r", "alpha", "a", "b"]
    )
    return fitter


@pytest.mark.parametrize("name", sorted(PAPER))
def test_cdnow_parameters_match_the_paper_within_one_percent(cdnow_model: BetaGeoModel, name: str):
    # given the fitted CDNOW model (fixture)
    # when
    value = getattr(cdnow_model, name)
    # then
    assert value == pytest.approx(PAPER[name], rel=0.01)


def test_cdnow_log_likelihood_matches_the_paper(cdnow_model: BetaGeoModel):
    assert cdnow_model.log_likelihood_ == pytest.approx(-9582.4, abs=0.5)


def test_weights_give_the_same_fit_as_repeated_rows(cdnow_summary: pd.DataFrame):
    # given the summary collapsed to unique rows with counts
    counts = cdnow_summary.value_counts(["frequency", "recency", "T"]).reset_index()
    # when
    weighted = BetaGeoModel().fit(
        counts["frequency"], counts["recency"], counts["T"], weights=counts["count"]
    )
    plain = BetaGeoModel().fit(
        cdnow_summary["frequency"], cdnow_summary["recency"], cdnow_summary["T"]
    )
    # then
    assert weighted.log_likelihood_ == pytest.approx(plain.log_likelihood_, abs=1e-6)
    assert weighted.r_ == pytest.approx(plain.r_, rel=1e-5)


def test_time_unit_only_rescales_alpha(cdnow_summary: pd.DataFrame, cdnow_model: BetaGeoModel):
    # given the same customers measured in days instead of weeks
    # when
    daily = BetaGeoModel().fit(
        cdnow_summary["frequency"], cdnow_summary["recency"] * 7, cdnow_summary["T"] * 7
    )
    # then
    assert daily.alpha_ == pytest.approx(cdnow_model.alpha_ * 7, rel=1e-4)
    assert daily.b_ == pytest.approx(cdnow_model.b_, rel=1e-4)


def test_conditional_expected_purchases_equal_lifetimes(
    cdnow_model: BetaGeoModel, cdnow_summary: pd.DataFrame
):
    # given
    reference = _lifetimes_with(cdnow_model)
    x, tx, t_age = cdnow_summary["frequency"], cdnow_summary["recency"], cdnow_summary["T"]
    for horizon in (1.0, 10.0, 39.0, 104.0):
        # when
        ours = cdnow_model.expected_purchases(horizon, x, tx, t_age)
        theirs = reference.conditional_expected_number_of_purchases_up_to_time(
            horizon, x, tx, t_age
        )
        # then
        np.testing.assert_allclose(ours, theirs, rtol=1e-6)


def test_probability_alive_equals_lifetimes(cdnow_model: BetaGeoModel, cdnow_summary: pd.DataFrame):
    reference = _lifetimes_with(cdnow_model)
    x, tx, t_age = cdnow_summary["frequency"], cdnow_summary["recency"], cdnow_summary["T"]
    np.testing.assert_allclose(
        cdnow_model.probability_alive(x, tx, t_age),
        reference.conditional_probability_alive(x, tx, t_age),
        rtol=1e-6,
    )


def test_expected_purchases_of_a_new_customer_equal_lifetimes(cdnow_model: BetaGeoModel):
    reference = _lifetimes_with(cdnow_model)
    t = np.array([1.0, 13.0, 39.0, 78.0])
    np.testing.assert_allclose(
        cdnow_model.expected_purchases_new_customer(t),
        reference.expected_number_of_purchases_up_to_time(t),
        rtol=1e-6,
    )


def test_expected_purchases_stay_finite_for_very_frequent_buyers(cdnow_model: BetaGeoModel):
    # given a customer far outside CDNOW's range, where 2F1 overflows
    # when
    value = cdnow_model.expected_purchases(52.0, [300.0], [77.0], [78.0])
    # then
    assert np.isfinite(value).all() and value[0] > 0


def _holdout_prediction(transactions: pd.DataFrame) -> tuple[float, float, int]:
    summary = rfm_summary(
        transactions,
        customer_col="customer_id",
        date_col="date",
        calibration_end=CDNOW_CALIBRATION_END,
        observation_end=CDNOW_OBSERVATION_END,
    )
    weeks = summary[["recency", "T", "duration_holdout"]] / 7.0
    model = BetaGeoModel().fit(summary["frequency"], weeks["recency"], weeks["T"])
    predicted = model.expected_purchases(
        weeks["duration_holdout"], summary["frequency"], weeks["recency"], weeks["T"]
    ).sum()
    return float(predicted), float(summary["frequency_holdout"].sum()), len(summary)


# BG/NBD under-forecasts CDNOW's 39-week holdout by about 12-14% (purchase
# days: sample 1653 predicted vs 1882 actual); lifetimes gives the same 1653.4
# with the paper's parameters, so this is the model, not the code. The bound
# guards against regressions; the figures are printed and kept in docs/analytics.md.
HOLDOUT_TOLERANCE = 0.15


def test_predicted_holdout_purchases_of_the_paper_sample_are_close_to_actual(
    cdnow_sample_transactions: pd.DataFrame,
):
    # given 39 calibration weeks and 39 holdout weeks of the 2,357 sample customers
    # when
    predicted, actual, n = _holdout_prediction(cdnow_sample_transactions)
    print(f"CDNOW sample ({n} customers): predicted {predicted:.1f}, actual {actual:.0f}")
    # then
    assert predicted == pytest.approx(actual, rel=HOLDOUT_TOLERANCE)


def test_predicted_holdout_purchases_of_the_paper_sample_equal_lifetimes_with_paper_parameters(
    cdnow_sample_transactions: pd.DataFrame, cdnow_summary: pd.DataFrame
):
    # given lifetimes fitted on the published summary
    reference = BetaGeoFitter().fit(
        cdnow_summary["frequency"], cdnow_summary["recency"], cdnow_summary["T"]
    )
    x, tx, t_age = cdnow_summary["frequency"], cdnow_summary["recency"], cdnow_summary["T"]
    expected = reference.conditional_expected_number_of_purchases_up_to_time(39, x, tx, t_age).sum()
    # when
    predicted, _, _ = _holdout_prediction(cdnow_sample_transactions)
    # then (the published summary rounds times to 2 decimals)
    assert predicted == pytest.approx(expected, rel=1e-3)


def test_predicted_holdout_purchases_of_all_cdnow_customers_are_close_to_actual(
    cdnow_master_transactions: pd.DataFrame,
):
    predicted, actual, n = _holdout_prediction(cdnow_master_transactions)
    print(f"CDNOW master ({n} customers): predicted {predicted:.1f}, actual {actual:.0f}")
    assert predicted == pytest.approx(actual, rel=HOLDOUT_TOLERANCE)


def test_fit_rejects_recency_greater_than_T():
    with pytest.raises(ValueError, match="recency must not exceed T"):
        BetaGeoModel().fit([1.0], [5.0], [4.0])
