"""NPS, CSAT and CES arithmetic and confidence intervals against known values (no database)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from stammkunde.feedback import analysis


def test_nps_is_promoters_minus_detractors_in_points() -> None:
    # 50 promoters, 30 passives, 20 detractors
    est = analysis.nps([10] * 30 + [9] * 20 + [8] * 15 + [7] * 15 + [6] * 10 + [0] * 10)
    assert est.value == pytest.approx(30.0)
    assert est.n == 100


def test_nps_interval_uses_the_variance_of_the_promoter_detractor_difference() -> None:
    # p = .5, d = .2: Var = p + d - (p - d)^2 = .61; se = 100 * sqrt(.61 / 100) = 7.8102;
    # 95 %: 30 ± 1.959964 * 7.8102 = 30 ± 15.3078
    est = analysis.nps([10] * 50 + [8] * 30 + [3] * 20)
    assert est.low == pytest.approx(14.6922, abs=1e-4)
    assert est.high == pytest.approx(45.3078, abs=1e-4)


def test_nps_of_all_promoters_is_100_with_a_degenerate_interval() -> None:
    est = analysis.nps([9, 10, 10])
    assert (est.value, est.low, est.high) == (100.0, 100.0, 100.0)


def test_csat_wilson_interval_matches_the_published_value() -> None:
    # 80 of 100 satisfied: Wilson 95 % = [0.7112, 0.8666] (Newcombe 1998, method 3)
    est = analysis.csat([5] * 50 + [4] * 30 + [3] * 10 + [1] * 10)
    assert est.value == pytest.approx(80.0)
    assert est.low == pytest.approx(71.117, abs=1e-3)
    assert est.high == pytest.approx(86.663, abs=1e-3)


def test_wilson_interval_for_a_small_sample_stays_inside_zero_and_one() -> None:
    # 0 of 10: Wilson 95 % = [0, 0.2775]
    low, high = analysis.wilson(0, 10)
    assert low == 0.0
    assert high == pytest.approx(0.2775, abs=1e-4)


def test_wilson_agrees_with_statsmodels() -> None:
    from statsmodels.stats.proportion import proportion_confint

    for k, n in [(1, 7), (37, 50), (999, 1000), (263, 810)]:
        assert analysis.wilson(k, n) == pytest.approx(proportion_confint(k, n, method="wilson"))


def test_ces_mean_with_student_t_interval() -> None:
    # mean 3, sd 1.5811, n 5: t(0.975, 4) = 2.7764; half width = 2.7764 * 1.5811 / sqrt(5) = 1.9632
    est = analysis.ces([1, 2, 3, 4, 5])
    assert est.value == pytest.approx(3.0)
    assert est.low == pytest.approx(1.0368, abs=1e-4)
    assert est.high == pytest.approx(4.9632, abs=1e-4)


def test_one_answer_has_a_value_but_no_interval() -> None:
    est = analysis.ces([4])
    assert est.value == 4 and math.isnan(est.low)


def test_empty_input_gives_nan_and_zero_count() -> None:
    assert analysis.nps([]).n == 0 and math.isnan(analysis.csat([]).value)


@pytest.mark.parametrize(
    ("func", "bad"), [(analysis.nps, 11), (analysis.csat, 0), (analysis.ces, 8)]
)
def test_out_of_range_scores_are_refused(func, bad) -> None:
    with pytest.raises(ValueError):
        func([3, bad])


def test_response_rate_has_a_wilson_interval() -> None:
    est = analysis.response_rate(80, 100)
    assert est.value == pytest.approx(80.0) and est.low == pytest.approx(71.117, abs=1e-3)


@given(st.lists(st.integers(0, 10), min_size=2, max_size=300))
def test_nps_interval_contains_the_value_and_stays_in_bounds(scores: list[int]) -> None:
    est = analysis.nps(scores)
    assert -100 <= est.low <= est.value <= est.high <= 100


@given(st.lists(st.integers(1, 5), min_size=1, max_size=300))
def test_csat_interval_contains_the_value(scores: list[int]) -> None:
    est = analysis.csat(scores)
    assert 0 <= est.low <= est.value <= est.high <= 100


def test_nps_interval_covers_the_truth_about_95_percent_of_the_time() -> None:
    rng = np.random.default_rng(7)
    probs = np.array([0.05] * 7 + [0.1, 0.15, 0.2, 0.2])
    probs = probs / probs.sum()
    truth = 100 * (probs[9:].sum() - probs[:7].sum())
    hits = 0
    for _ in range(2000):
        est = analysis.nps(rng.choice(11, size=200, p=probs))
        hits += est.low <= truth <= est.high
    assert 0.93 <= hits / 2000 <= 0.97


def test_summarize_groups_by_dimension_and_month() -> None:
    frame = pd.DataFrame(
        {
            "nps": [10, 0, 9, 9, np.nan],
            "queue": ["A", "A", "B", "B", "B"],
            "submitted_at": pd.to_datetime(
                ["2026-01-05", "2026-01-20", "2026-02-01", "2026-02-03", "2026-02-04"], utc=True
            ),
        }
    )
    by_queue = analysis.summarize(frame, metric="nps", by=["queue"])
    assert by_queue.set_index("queue")["value"].to_dict() == {"A": 0.0, "B": 100.0}
    by_month = analysis.summarize(frame, metric="nps", period="M")
    assert list(by_month["n"]) == [2, 2]
