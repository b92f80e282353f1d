"""Roster against requirement: gap table, heat map and the recall scenario."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from stammkunde.workforce.erlang import StaffingInputError
from stammkunde.workforce.roster import (
    ServiceTarget,
    gap_heatmap,
    peak_scenario,
    requirement,
    staffing_gap,
)

TARGET = ServiceTarget(target_answer_s=20, target_sl=0.8, shrinkage=0.3)


def _flat_forecast(days: int = 2, contacts: float = 100.0) -> pd.DataFrame:
    index = pd.date_range("2026-03-02", periods=48 * days, freq="30min")
    return pd.DataFrame({"contacts": contacts, "aht_s": 180.0}, index=index)


def test_requirement_of_the_published_interval_is_20_scheduled_agents():
    # given
    forecast = _flat_forecast(days=1)
    # when
    need = requirement(forecast, target=TARGET)
    # then
    assert (need["raw_agents"] == 14).all()
    assert (need["required"] == 20).all()
    assert need["traffic"].iloc[0] == pytest.approx(10.0)


def test_gap_marks_under_and_over_staffed_intervals():
    # given
    required = pd.Series(
        [20, 20, 20], index=pd.date_range("2026-03-02 08:00", periods=3, freq="30min")
    )
    planned = pd.Series([18, 20, 25], index=required.index)
    # when
    gap = staffing_gap(planned, required)
    # then
    assert gap["gap"].tolist() == [-2, 0, 5]
    assert gap["status"].tolist() == ["under", "ok", "over"]


def test_intervals_missing_from_the_roster_count_as_nobody_planned():
    # given
    required = pd.Series([4, 4], index=pd.date_range("2026-03-02 08:00", periods=2, freq="30min"))
    planned = pd.DataFrame({"agents": [4]}, index=required.index[:1])
    # when
    gap = staffing_gap(planned, required)
    # then
    assert gap["gap"].tolist() == [0, -4]


def test_heatmap_has_one_row_per_day_and_one_column_per_interval():
    # given
    forecast = _flat_forecast(days=2)
    need = requirement(forecast, target=TARGET)["required"]
    gap = staffing_gap(pd.Series(18, index=forecast.index), need)
    # when
    heat = gap_heatmap(gap)
    # then
    assert heat.shape == (2, 48)
    assert heat.loc[pd.Timestamp("2026-03-02"), "08:30"] == -2


def test_a_40_percent_peak_for_3_days_shows_the_agents_to_add_only_in_the_window():
    # given: 5 days of 100 calls/30 min, roster exactly at the normal 20 agents
    forecast = _flat_forecast(days=5)
    planned = pd.Series(20, index=forecast.index)
    # when
    result = peak_scenario(forecast, planned, target=TARGET, start="2026-03-03", days=3, uplift=0.4)
    # then
    inside = (forecast.index >= "2026-03-03") & (forecast.index < "2026-03-06")
    assert (result.agents_to_add[~inside] == 0).all()
    # 140 calls → 14 Erlangs → 18 raw agents (Erlang C) → 26 scheduled
    assert (result.agents_to_add[inside] == 6).all()
    assert result.short_intervals == 3 * 48
    assert result.extra_agent_hours == pytest.approx(6 * 3 * 48 * 0.5)


def test_negative_roster_is_rejected():
    # given
    forecast = _flat_forecast(days=1)
    need = requirement(forecast, target=TARGET)["required"]
    # when / then
    with pytest.raises(StaffingInputError):
        staffing_gap(pd.Series(-1, index=forecast.index), need)


def test_requirement_needs_handling_time():
    # given
    forecast = _flat_forecast(days=1).drop(columns="aht_s")
    # when / then
    with pytest.raises(StaffingInputError) as caught:
        requirement(forecast, target=TARGET)
    assert caught.value.field == "aht_s"
    assert np.all(requirement(forecast, target=TARGET, aht_s=180)["required"] == 20)
