"""Customer lifetime value: discounted expected margin over a horizon.

CLV = sum over months k of E[purchases in month k] * E[spend] * margin / (1 + d)^k,
with purchases from BG/NBD and spend from Gamma-Gamma, as in lifetimes'
``customer_lifetime_value`` (monthly discounting, month = 30 days by default).
"""

from __future__ import annotations

import numpy as np

from ._inputs import ArrayLike, FloatArray, as_float
from .bgnbd import BetaGeoModel
from .gamma_gamma import GammaGammaModel


def customer_lifetime_value(
    bgnbd: BetaGeoModel,
    gg: GammaGammaModel,
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
    monetary_value: ArrayLike,
    *,
    months: int = 12,
    discount_rate_monthly: float = 0.01,
    margin: float = 1.0,
    time_unit_days: float = 1.0,
    days_per_month: float = 30.0,
) -> FloatArray:
    """Return the discounted expected margin of each customer over ``months``.

    ``time_unit_days`` is the length of the time unit the BG/NBD model was fit
    in (1 for daily summaries, 7 for weekly). The loop runs over months, never
    over customers; each step is one vectorised call.
    """
    if months < 1:
        raise ValueError("months must be at least 1")
    x, tx, t_age = as_float(frequency), as_float(recency), as_float(T)
    spend = gg.conditional_expected_average_profit(x, as_float(monetary_value))
    units_per_month = days_per_month / time_unit_days
    cumulative_prev = np.zeros_like(x)
    value = np.zeros_like(x)
    for month in range(1, months + 1):
        cumulative = bgnbd.expected_purchases(month * units_per_month, x, tx, t_age)
        value += (cumulative - cumulative_prev) / (1.0 + discount_rate_monthly) ** month
        cumulative_prev = cumulative
    return value * spend * margin
