"""Which customers count as "churn risk raised": a higher band than at the previous score."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from stammkunde.analytics.selectors import risk_band_rank
from stammkunde.analytics.services import _risk_raises

AS_OF = date(2026, 6, 30)


def _raises(before: list[float], now: list[float], replaced: list[float] | None = None) -> list:
    index = pd.Index(range(1, len(now) + 1), name="customer_id")
    return _risk_raises(
        as_of=AS_OF,
        scores=pd.DataFrame({"churn_risk": now}, index=index),
        previous=pd.DataFrame({"churn_risk": before}, index=index),
        replaced=pd.Series(replaced or [np.nan] * len(now), index=index, dtype=np.float64),
    )


def test_bands_are_the_customer_list_bands_with_inclusive_lower_bounds() -> None:
    ranks = risk_band_rank(np.array([0.0, 0.7499, 0.75, 0.8999, 0.9, 1.0, np.nan]))
    assert ranks.tolist() == [0, 0, 1, 1, 2, 2, -1]


def test_a_rise_into_a_higher_band_is_raised_with_both_bands() -> None:
    raised = _raises(before=[0.1, 0.8, 0.1], now=[0.8, 0.95, 0.95])
    assert [(r.customer_id, r.from_band, r.to_band) for r in raised] == [
        (1, "low", "medium"),
        (2, "medium", "high"),
        (3, "low", "high"),
    ]
    assert (raised[0].from_risk, raised[0].to_risk, raised[0].scored_at) == (0.1, 0.8, AS_OF)


def test_a_risk_that_grows_within_its_band_or_falls_is_not_raised() -> None:
    assert _raises(before=[0.1, 0.76, 0.91, 0.95], now=[0.7, 0.89, 0.99, 0.5]) == []


def test_a_first_score_is_not_raised() -> None:
    assert _raises(before=[np.nan], now=[0.99]) == []


def test_a_rerun_of_the_day_does_not_raise_what_the_replaced_score_raised() -> None:
    # customer 1 was announced as high already; customer 2 rises further than announced
    raised = _raises(before=[0.1, 0.1], now=[0.95, 0.95], replaced=[0.92, 0.8])
    assert [(r.customer_id, r.from_band, r.to_band) for r in raised] == [(2, "low", "high")]
