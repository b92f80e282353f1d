"""Roster versus requirement: where are we short, and what does a peak cost?

The requirement comes from the forecast (contacts and AHT per interval)
through Erlang C and shrinkage; the roster is whatever the team lead planned
or imported.  Both are indexed by interval start, so the comparison is a
plain aligned subtraction, and the heat map is a pivot to day × time of day.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from stammkunde.workforce.erlang import (
    StaffingInputError,
    offered_load,
    required_agents,
    scheduled_agents,
    validate_max_occupancy,
    validate_shrinkage,
    validate_target_sl,
)


@dataclass(frozen=True)
class ServiceTarget:
    """The planning rule for one queue: X % within Y seconds, shrinkage, occupancy cap."""

    target_answer_s: float
    target_sl: float
    shrinkage: float = 0.0
    max_occupancy: float | None = None

    def __post_init__(self) -> None:
        validate_target_sl(self.target_sl)
        validate_shrinkage(self.shrinkage)
        validate_max_occupancy(self.max_occupancy)


def _interval_seconds(index: pd.DatetimeIndex) -> float:
    if len(index) < 2:
        raise StaffingInputError("forecast", "needs at least two intervals")
    step = pd.Series(index).diff().dropna().min()
    return float(step / pd.Timedelta(seconds=1))


def requirement(
    forecast: pd.DataFrame, *, target: ServiceTarget, aht_s: float | None = None
) -> pd.DataFrame:
    """Traffic, raw and scheduled agents per interval of a forecast.

    ``forecast`` has ``contacts`` and, unless ``aht_s`` is given, ``aht_s``
    per interval (as returned by ``ContactForecaster.predict``).
    """
    if aht_s is None and "aht_s" not in forecast:
        raise StaffingInputError("aht_s", "give aht_s or a forecast with an 'aht_s' column")
    aht = forecast["aht_s"].to_numpy(np.float64) if aht_s is None else float(aht_s)
    traffic = offered_load(
        calls=forecast["contacts"].to_numpy(np.float64),
        aht_s=aht,
        interval_s=_interval_seconds(pd.DatetimeIndex(forecast.index)),
    )
    raw = required_agents(
        traffic=traffic,
        aht_s=aht,
        target_answer_s=target.target_answer_s,
        target_sl=target.target_sl,
        max_occupancy=target.max_occupancy,
    )
    return pd.DataFrame(
        {
            "traffic": traffic,
            "raw_agents": raw,
            "required": scheduled_agents(raw, target.shrinkage),
        },
        index=forecast.index,
    )


def _planned_series(planned: pd.Series | pd.DataFrame) -> pd.Series:
    if isinstance(planned, pd.DataFrame):
        if "agents" not in planned:
            raise StaffingInputError("planned", "needs an 'agents' column")
        planned = planned["agents"]
    values = planned.to_numpy(np.float64)
    if np.any(values < 0) or np.any(~np.isfinite(values)):
        raise StaffingInputError("planned", "agents must be finite and not negative")
    return planned.astype(np.float64)


def staffing_gap(planned: pd.Series | pd.DataFrame, required: pd.Series) -> pd.DataFrame:
    """Planned minus required per interval; negative ``gap`` means understaffed.

    Intervals missing from the roster count as zero planned agents: an
    unplanned interval with demand is exactly the gap a lead must see.
    """
    plan = _planned_series(planned).reindex(required.index, fill_value=0.0)
    gap = plan - required.astype(np.float64)
    status = np.select([gap < 0, gap > 0], ["under", "over"], default="ok")
    return pd.DataFrame(
        {"planned": plan, "required": required.astype(np.float64), "gap": gap, "status": status},
        index=required.index,
    )


def gap_heatmap(gap: pd.DataFrame, *, value: str = "gap") -> pd.DataFrame:
    """Pivot a gap table to rows = day, columns = time of day (for the heat map)."""
    index = pd.DatetimeIndex(gap.index)
    return (
        pd.DataFrame({"day": index.normalize(), "time": index.strftime("%H:%M"), value: gap[value]})
        .pivot(index="day", columns="time", values=value)
        .sort_index(axis=1)
    )


@dataclass(frozen=True)
class ScenarioResult:
    """A what-if peak: the gap under it, agents to add, and the extra agent-hours."""

    gap: pd.DataFrame
    agents_to_add: pd.Series
    extra_agent_hours: float
    short_intervals: int


def peak_scenario(
    forecast: pd.DataFrame,
    planned: pd.Series | pd.DataFrame,
    *,
    target: ServiceTarget,
    start: Any,
    days: int = 3,
    uplift: float = 0.4,
    aht_s: float | None = None,
) -> ScenarioResult:
    """Raise volume by ``uplift`` (0.4 = +40 %) for ``days`` from ``start`` and re-staff.

    Answers the emergency question "a recall lands on Monday — how many
    agents do we add, and when?" without touching the stored forecast.
    """
    if uplift <= -1.0:
        raise StaffingInputError("uplift", "must be greater than −100 %")
    if days <= 0:
        raise StaffingInputError("days", "must be greater than zero")
    begin = pd.Timestamp(start)
    end = begin + pd.Timedelta(days=days)
    index = pd.DatetimeIndex(forecast.index)
    window = (index >= begin) & (index < end)
    scenario = forecast.copy()
    scenario["contacts"] = np.where(
        window, forecast["contacts"] * (1.0 + uplift), forecast["contacts"]
    )
    need = requirement(scenario, target=target, aht_s=aht_s)["required"]
    gap = staffing_gap(planned, need)
    to_add = (-gap["gap"]).clip(lower=0.0).astype(np.int64)
    hours_per_interval = _interval_seconds(index) / 3600.0
    return ScenarioResult(
        gap=gap,
        agents_to_add=to_add,
        extra_agent_hours=float(to_add.sum() * hours_per_interval),
        short_intervals=int((to_add > 0).sum()),
    )
