"""Erlang C / A staffing behaves as the textbooks and the published example say."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import special

from stammkunde.workforce.erlang import (
    StaffingInputError,
    erlang_a,
    erlang_b,
    erlang_c,
    offered_load,
    required_agents,
    required_agents_erlang_a,
    scheduled_agents,
    validate_interval,
    workload_agents,
)

PUBLISHED = {"aht_s": 180.0, "target_answer_s": 20.0}


def test_published_example_100_calls_in_30_minutes_needs_14_agents():
    # given
    traffic = offered_load(calls=100, aht_s=180, interval_s=1800)
    # when
    agents = required_agents(traffic=traffic, target_sl=0.8, **PUBLISHED)
    metrics = erlang_c(agents=agents, traffic=traffic, **PUBLISHED)
    # then
    assert traffic == pytest.approx(10.0)
    assert agents == 14
    assert metrics.service_level == pytest.approx(0.88835, abs=5e-6)
    assert metrics.p_wait == pytest.approx(0.17413, abs=5e-6)
    assert metrics.asa_s == pytest.approx(7.84, abs=5e-3)
    assert metrics.occupancy == pytest.approx(10 / 14)


def test_published_example_with_30_percent_shrinkage_schedules_20_agents():
    # given
    raw = required_agents(traffic=10.0, target_sl=0.8, **PUBLISHED)
    # when
    scheduled = scheduled_agents(raw, 0.3)
    # then
    assert scheduled == 20


def test_13_agents_miss_the_published_target_so_14_is_the_smallest():
    # given / when
    metrics = erlang_c(agents=13, traffic=10.0, **PUBLISHED)
    # then
    assert metrics.service_level < 0.8


def test_shrinkage_of_21_raw_agents_at_30_percent_gives_30():
    # given
    assert 21 / (1 - 0.3) > 30  # the floating-point trap this guards against
    # when
    scheduled = scheduled_agents(21, 0.3)
    # then
    assert scheduled == 30


def test_shrinkage_still_rounds_a_genuine_fraction_up():
    # given / when / then
    assert scheduled_agents(20, 0.3) == 29  # 28.571…


def test_1000_erlangs_are_staffed_without_overflow():
    # given
    traffic = 1000.0
    # when
    agents = required_agents(traffic=traffic, target_sl=0.8, **PUBLISHED)
    metrics = erlang_c(agents=agents, traffic=traffic, **PUBLISHED)
    below = erlang_c(agents=agents - 1, traffic=traffic, **PUBLISHED)
    # then
    assert 1000 < agents < 1050
    assert np.isfinite(metrics.p_wait) and 0 < metrics.p_wait < 1
    assert metrics.service_level >= 0.8 > below.service_level


def test_erlang_b_matches_the_textbook_recursion_for_2000_agents():
    # given
    b = 1.0
    for k in range(1, 2001):
        b = 1000.0 * b / (k + 1000.0 * b)
    # when / then
    assert erlang_b(2000, 1000.0) == pytest.approx(b, rel=1e-9)


def test_erlang_b_with_far_fewer_agents_than_erlangs_is_finite():
    # given / when
    b = erlang_b(10, 1000.0)
    # then
    assert b == pytest.approx(1 - 10 / 1000, abs=1e-4)


def test_agents_not_above_traffic_are_reported_unstable_without_negative_wait():
    # given
    agents = np.array([8, 10, 11])
    # when
    metrics = erlang_c(agents=agents, traffic=10.0, **PUBLISHED)
    # then
    assert metrics.stable.tolist() == [False, False, True]
    assert np.isinf(metrics.asa_s[:2]).all()
    assert (metrics.asa_s >= 0).all()
    assert metrics.p_wait[:2].tolist() == [1.0, 1.0]
    assert metrics.service_level[:2].tolist() == [0.0, 0.0]


def test_maximum_occupancy_wins_when_it_is_more_restrictive():
    # given
    traffic = 10.0
    # when
    agents = required_agents(traffic=traffic, target_sl=0.8, max_occupancy=0.6, **PUBLISHED)
    # then
    assert agents == 17  # 10 / 0.6 = 16.7 > the 14 the service level needs


def test_service_level_target_wins_when_occupancy_cap_is_loose():
    # given / when
    agents = required_agents(traffic=10.0, target_sl=0.8, max_occupancy=0.95, **PUBLISHED)
    # then
    assert agents == 14


def test_required_agents_is_vectorised_and_zero_traffic_needs_nobody():
    # given
    traffic = np.array([[0.0, 10.0], [1000.0, 0.5]])
    # when
    agents = required_agents(traffic=traffic, target_sl=0.8, **PUBLISHED)
    # then
    assert agents.shape == (2, 2)
    assert agents[0, 0] == 0 and agents[0, 1] == 14
    expected = [int(required_agents(traffic=t, target_sl=0.8, **PUBLISHED)) for t in (1000, 0.5)]
    assert agents[1].tolist() == expected


@given(
    traffic=st.floats(min_value=0.1, max_value=300.0),
    extra=st.integers(min_value=1, max_value=60),
)
def test_service_level_rises_and_p_wait_falls_with_each_added_agent(traffic, extra):
    # given
    first = int(np.floor(traffic)) + 1
    agents = np.arange(first, first + extra + 1)
    # when
    metrics = erlang_c(agents=agents, traffic=traffic, **PUBLISHED)
    # then
    assert np.all(np.diff(metrics.service_level) >= -1e-12)
    assert np.all(np.diff(metrics.p_wait) <= 1e-12)
    assert np.all(np.diff(metrics.asa_s) <= 1e-9)


@given(traffic=st.floats(min_value=0.01, max_value=500.0), target=st.floats(0.05, 0.99))
def test_required_agents_is_the_smallest_count_meeting_the_target(traffic, target):
    # given / when
    n = int(required_agents(traffic=traffic, target_sl=target, **PUBLISHED))
    at_n = erlang_c(agents=n, traffic=traffic, **PUBLISHED)
    below = erlang_c(agents=n - 1, traffic=traffic, **PUBLISHED)
    # then
    assert at_n.service_level >= target
    assert below.service_level < target or not below.stable


def test_erlang_a_with_endless_patience_equals_erlang_c():
    # given / when
    a = erlang_a(agents=14, traffic=10.0, patience_s=1e7, **PUBLISHED)
    # then
    assert a.service_level == pytest.approx(0.88835, abs=1e-5)
    assert a.p_wait == pytest.approx(0.17413, abs=1e-5)
    assert a.abandon_rate < 1e-5


def test_erlang_a_matches_the_mandelbaum_zeltyn_closed_form():
    # given: n = 10 agents, 10 Erlangs, AHT 180 s, mean patience 120 s
    x = y = 10 * 120 / 180
    big_a = x * np.exp(y) * y**-x * special.gamma(x) * special.gammainc(x, y)
    e = erlang_b(10, 10.0)
    p_wait = e * big_a / (1 + (big_a - 1) * e)
    p_abandon = (1 / big_a) * p_wait  # ρ = 1
    # when
    result = erlang_a(agents=10, traffic=10.0, patience_s=120, **PUBLISHED)
    # then
    assert result.p_wait == pytest.approx(p_wait, rel=1e-9)
    assert result.abandon_rate == pytest.approx(p_abandon, rel=1e-9)


def test_erlang_a_stays_finite_when_agents_are_below_traffic():
    # given / when
    result = erlang_a(agents=[5, 500], traffic=[10.0, 1000.0], patience_s=120, **PUBLISHED)
    # then
    assert np.all(np.isfinite(result.asa_s))
    assert np.all((result.abandon_rate > 0.3) & (result.abandon_rate < 1))


def test_abandon_rate_cap_can_require_more_agents_than_the_service_level():
    # given
    kwargs = {"traffic": 10.0, "patience_s": 120.0, "target_sl": 0.5, **PUBLISHED}
    # when
    sl_only = required_agents_erlang_a(**kwargs)
    capped = required_agents_erlang_a(max_abandon_rate=0.01, **kwargs)
    # then
    assert capped > sl_only
    rates = erlang_a(agents=[capped - 1, capped], traffic=10.0, patience_s=120, **PUBLISHED)
    assert rates.abandon_rate[1] <= 0.01 < rates.abandon_rate[0]


@given(n=st.integers(0, 40))
def test_erlang_a_abandon_rate_falls_and_service_level_rises_with_agents(n):
    # given / when
    result = erlang_a(agents=[n, n + 1], traffic=12.0, patience_s=90, **PUBLISHED)
    # then
    assert result.abandon_rate[1] <= result.abandon_rate[0] + 1e-12
    assert result.service_level[1] >= result.service_level[0] - 1e-12


def test_workload_for_email_uses_the_deadline_window_and_utilisation():
    # given: 400 mails × 6 min, to be answered within a 4-hour window at 80 %
    # when
    agents = workload_agents(items=400, handling_s=360, window_s=4 * 3600, utilisation=0.8)
    # then
    assert agents == 13  # 144,000 s / 11,520 s = 12.5


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda: offered_load(calls=-1, aht_s=180, interval_s=1800), "calls"),
        (lambda: offered_load(calls=10, aht_s=0, interval_s=1800), "aht_s"),
        (lambda: offered_load(calls=10, aht_s=180, interval_s=7 * 60), "interval_s"),
        (lambda: required_agents(traffic=10, target_sl=1.0, **PUBLISHED), "target_sl"),
        (lambda: required_agents(traffic=10, target_sl=0.0, **PUBLISHED), "target_sl"),
        (lambda: scheduled_agents(10, 1.0), "shrinkage"),
        (lambda: scheduled_agents(10, -0.1), "shrinkage"),
    ],
)
def test_bad_input_raises_staffing_input_error_naming_the_field(call, field):
    # given / when
    with pytest.raises(StaffingInputError) as caught:
        call()
    # then
    assert caught.value.field == field
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize("minutes", [15, 30, 60])
def test_usual_intervals_divide_the_day(minutes):
    # given / when / then
    assert validate_interval(minutes * 60) == minutes * 60
