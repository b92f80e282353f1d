"""Contact forecast: pattern, holidays, events, and a backtest that beats naive."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stammkunde.workforce.erlang import StaffingInputError
from stammkunde.workforce.forecast import (
    ContactForecaster,
    backtest,
    synthetic_contacts,
    to_interval_counts,
    wape,
)


@pytest.fixture(scope="module")
def history() -> pd.Series:
    return synthetic_contacts("2025-09-01", 112, seed=7, interval_minutes=30)


@pytest.fixture(scope="module")
def fitted(history: pd.Series) -> ContactForecaster:
    return ContactForecaster(state="BY").fit(history)


def test_synthetic_contacts_have_a_morning_peak_a_busy_monday_and_a_quiet_sunday(history):
    # given
    by_day = history.groupby(history.index.day_of_week).sum()
    by_hour = history.groupby(history.index.hour).sum()
    # when / then
    assert by_day.idxmax() == 0
    assert by_day[6] < 0.05 * by_day[0]
    assert by_hour.idxmax() in (9, 10)
    assert by_hour[14] > by_hour[12] * 0.9
    assert by_hour[3] < 0.05 * by_hour[10]


def test_synthetic_contacts_are_low_on_a_public_holiday():
    # given: 3 Oct 2025 (German Unity Day) is a Friday; 10 Oct the Friday after
    data = synthetic_contacts("2025-09-29", 14, seed=1)
    # when
    holiday = data["2025-10-03"].sum()
    normal = data["2025-10-10"].sum()
    # then
    assert holiday < 0.2 * normal


def test_forecast_recovers_the_weekday_pattern(fitted):
    # given / when
    forecast = fitted.predict("2025-12-22", days=7)["contacts"]
    by_day = forecast.groupby(forecast.index.day_of_week).sum()
    # then
    assert by_day.idxmax() == 0
    assert by_day[6] < 0.1 * by_day[0]


def test_forecast_is_low_on_a_bavarian_holiday_but_not_on_an_ordinary_day(fitted):
    # given: 6 Jan (Epiphany) is a holiday in Bavaria, 13 Jan is not; both Tuesdays
    # when
    forecast = fitted.predict("2026-01-06", days=8)["contacts"]
    # then
    assert forecast["2026-01-06"].sum() < 0.3 * forecast["2026-01-13"].sum()
    assert fitted.holiday_effect_ < 0.3


def test_forecast_learns_an_upward_trend(fitted):
    # given / when / then
    assert fitted.trend_per_year_ > 1.0


def test_event_uplift_multiplies_only_the_event_window(fitted):
    # given
    base = fitted.predict("2026-01-12", days=7)["contacts"]
    # when
    uplifted = fitted.predict("2026-01-12", days=7, events=[("2026-01-13", "2026-01-16", 1.4)])[
        "contacts"
    ]
    # then
    inside = (base.index >= "2026-01-13") & (base.index < "2026-01-16")
    np.testing.assert_allclose(uplifted[inside], base[inside] * 1.4)
    np.testing.assert_allclose(uplifted[~inside], base[~inside])


def test_past_events_are_left_out_of_the_fit(history):
    # given: a recall doubles contacts for a week in the history
    spiked = history.copy()
    window = (spiked.index >= "2025-11-03") & (spiked.index < "2025-11-10")
    spiked[window] *= 3
    event = [("2025-11-03", "2025-11-10", 3.0)]
    # when
    plain = ContactForecaster().fit(history).predict("2025-12-22", days=7)["contacts"].sum()
    excluded = ContactForecaster().fit(spiked, events=event).predict("2025-12-22", days=7)
    # then
    assert excluded["contacts"].sum() == pytest.approx(plain, rel=0.05)


def test_handling_time_is_forecast_per_weekday_and_slot():
    # given: Monday contacts take 400 s, other days 200 s
    contacts = synthetic_contacts("2025-09-01", 28, seed=3, interval_minutes=60)
    aht = np.where(contacts.index.day_of_week == 0, 400.0, 200.0)
    frame = pd.DataFrame({"contacts": contacts, "handle_s": contacts * aht})
    # when
    forecast = ContactForecaster().fit(frame).predict("2025-09-29", days=2)
    # then
    assert forecast.loc["2025-09-29 10:00", "aht_s"] == pytest.approx(400, rel=0.05)
    assert forecast.loc["2025-09-30 10:00", "aht_s"] == pytest.approx(200, rel=0.05)


def test_timestamps_become_counts_per_interval_including_empty_ones():
    # given
    stamps = ["2026-01-05 08:01", "2026-01-05 08:14", "2026-01-05 08:16"]
    # when
    counts = to_interval_counts(stamps, interval_minutes=15)
    # then
    assert len(counts) == 96
    assert counts["2026-01-05 08:00"] == 2
    assert counts["2026-01-05 08:15"] == 1
    assert counts.sum() == 3


def test_an_interval_that_is_not_15_30_or_60_minutes_is_rejected():
    # given / when / then
    with pytest.raises(StaffingInputError) as caught:
        to_interval_counts(["2026-01-05 08:01"], interval_minutes=7)
    assert caught.value.field == "interval_minutes"


def test_wape_weighs_errors_by_volume_so_empty_slots_do_not_explode():
    # given / when / then
    assert wape(np.array([0.0, 10.0]), np.array([1.0, 8.0])) == pytest.approx(0.3)


@pytest.mark.slow
def test_backtest_wape_of_the_model_beats_seasonal_naive():
    # given: 20 weeks incl. Christmas, where last week is a poor guide
    data = synthetic_contacts("2025-08-25", 140, seed=11, interval_minutes=30)
    # when
    result = backtest(data, horizon_days=7, folds=4)
    # then
    assert len(result["folds"]) == 4
    assert result["wape_model"] < result["wape_seasonal_naive"]
    assert result["wape_model"] < 0.3


@settings(
    max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    start_offset=st.integers(0, 60),
    days=st.integers(1, 10),
    factor=st.floats(0.0, 5.0),
)
def test_forecast_is_never_negative(fitted, start_offset, days, factor):
    # given
    start = pd.Timestamp("2025-12-01") + pd.Timedelta(days=start_offset)
    # when
    forecast = fitted.predict(
        start, days=days, events=[(start, start + pd.Timedelta(1, "D"), factor)]
    )
    # then
    assert (forecast["contacts"] >= 0).all()
    assert np.isfinite(forecast["contacts"]).all()
    assert len(forecast) == days * 48


@settings(max_examples=5, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), days=st.integers(1, 21))
def test_synthetic_contacts_are_non_negative_whole_counts(seed, days):
    # given / when
    data = synthetic_contacts("2026-03-30", days, seed=seed)
    # then
    assert (data >= 0).all()
    assert (data == np.round(data)).all()
