"""CLV equals lifetimes' customer_lifetime_value on the same fitted models."""

from __future__ import annotations

import numpy as np
import pandas as pd
from lifetimes import BetaGeoFitter, GammaGammaFitter

from stammkunde.analytics.models.bgnbd import BetaGeoModel
from stammkunde.analytics.models.clv import customer_lifetime_value
from stammkunde.analytics.models.gamma_gamma import GammaGammaModel


def test_clv_equals_lifetimes_for_daily_models(cdnow_summary_with_spend: pd.DataFrame):
    # given CDNOW in days and both libraries holding the same parameters
    data = cdnow_summary_with_spend.copy()
    data[["recency", "T"]] *= 7
    x, tx, t_age, m = data["frequency"], data["recency"], data["T"], data["monetary_value"]
    bgnbd = BetaGeoModel().fit(x, tx, t_age)
    repeat = x > 0
    gg = GammaGammaModel().fit(x[repeat], m[repeat])
    bgf = BetaGeoFitter()
    bgf.params_ = pd.Series(
        [bgnbd.r_, bgnbd.alpha_, bgnbd.a_, bgnbd.b_], index=["r", "alpha", "a", "b"]
    )
    bgf.predict = bgf.conditional_expected_number_of_purchases_up_to_time  # set by lifetimes' fit
    ggf = GammaGammaFitter()
    ggf.params_ = pd.Series([gg.p_, gg.q_, gg.v_], index=["p", "q", "v"])
    # when
    ours = customer_lifetime_value(
        bgnbd, gg, x, tx, t_age, m, months=12, discount_rate_monthly=0.01
    )
    theirs = ggf.customer_lifetime_value(
        bgf, x, tx, t_age, m, time=12, discount_rate=0.01, freq="D"
    )
    # then
    np.testing.assert_allclose(ours, theirs.to_numpy(), rtol=1e-6)


def test_margin_scales_clv_linearly(cdnow_summary_with_spend: pd.DataFrame):
    data = cdnow_summary_with_spend
    x, tx, t_age, m = data["frequency"], data["recency"], data["T"], data["monetary_value"]
    bgnbd = BetaGeoModel().fit(x, tx, t_age)
    gg = GammaGammaModel().fit(x, m)
    full = customer_lifetime_value(bgnbd, gg, x, tx, t_age, m, time_unit_days=7)
    third = customer_lifetime_value(bgnbd, gg, x, tx, t_age, m, time_unit_days=7, margin=0.3)
    np.testing.assert_allclose(third, full * 0.3)
