"""Gamma-Gamma is validated against Fader, Hardie & Lee's CDNOW spend figures and lifetimes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from lifetimes import GammaGammaFitter

from stammkunde.analytics.models.gamma_gamma import GammaGammaModel

PAPER = {"p_": 6.25, "q_": 3.74, "v_": 15.44}


@pytest.fixture(scope="module")
def repeat_buyers(cdnow_summary_with_spend: pd.DataFrame) -> pd.DataFrame:
    return cdnow_summary_with_spend.loc[cdnow_summary_with_spend["frequency"] > 0]


@pytest.fixture(scope="module")
def spend_model(repeat_buyers: pd.DataFrame) -> GammaGammaModel:
    return GammaGammaModel().fit(repeat_buyers["frequency"], repeat_buyers["monetary_value"])


@pytest.mark.parametrize("name", sorted(PAPER))
def test_cdnow_spend_parameters_match_the_paper_within_one_percent(
    spend_model: GammaGammaModel, name: str
):
    assert getattr(spend_model, name) == pytest.approx(PAPER[name], rel=0.01)


def test_one_off_buyers_are_ignored_by_the_fit(
    cdnow_summary_with_spend: pd.DataFrame, spend_model: GammaGammaModel
):
    # given all customers including those without repeat purchases
    # when
    model = GammaGammaModel().fit(
        cdnow_summary_with_spend["frequency"], cdnow_summary_with_spend["monetary_value"]
    )
    # then
    assert model.p_ == pytest.approx(spend_model.p_, rel=1e-9)


def test_expected_average_profit_equals_lifetimes(
    spend_model: GammaGammaModel, cdnow_summary_with_spend: pd.DataFrame
):
    # given lifetimes with our parameters
    reference = GammaGammaFitter()
    reference.params_ = pd.Series(
        [spend_model.p_, spend_model.q_, spend_model.v_], index=["p", "q", "v"]
    )
    x, m = cdnow_summary_with_spend["frequency"], cdnow_summary_with_spend["monetary_value"]
    # when / then
    np.testing.assert_allclose(
        spend_model.conditional_expected_average_profit(x, m),
        reference.conditional_expected_average_profit(x, m),
        rtol=1e-9,
    )


def test_one_off_buyer_gets_the_population_mean_spend(spend_model: GammaGammaModel):
    value = spend_model.conditional_expected_average_profit([0.0], [0.0])
    expected = spend_model.v_ * spend_model.p_ / (spend_model.q_ - 1)
    assert value[0] == pytest.approx(expected)
