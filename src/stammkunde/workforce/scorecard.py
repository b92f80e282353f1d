"""Scorecards for service partners (outsourced) and own teams, per week or month.

A pure function over plain ticket records so that the web page, the CSV
export and the partner portal compute the same numbers.  Rates are means
over tickets where the flag is known (``None`` = not applicable, e.g. no SLA
on the ticket), so missing data does not count as failure.

Records may also be aggregates (an ACD interval report: 40 contacts, 31 of
them answered in time): ``weight`` is the number of contacts the record
stands for, a flag is then a share, and ``<flag>_weight`` / ``csat_weight``
say how many of those contacts the share was measured on.  One ticket is a
record of weight 1, so both kinds of input give the same numbers.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from stammkunde.workforce.erlang import StaffingInputError

PERIODS = {"week": "W-SUN", "month": "M"}
FLAGS = ("solved", "sla_met", "fcr", "reopened")
COLUMNS = [
    "group",
    "period",
    "volume",
    "solved",
    "sla_attainment",
    "fcr_rate",
    "reopen_rate",
    "csat_mean",
    "handling_minutes_mean",
    "cost_total",
    "cost_per_contact",
    "ola_met",
]


@dataclass(frozen=True)
class Contract:
    """Price and OLA targets of a partner (or internal cost rate of an own team).

    Any target left ``None`` is not part of the OLA.
    """

    price_per_ticket: float = 0.0
    price_per_minute: float = 0.0
    min_sla_attainment: float | None = None
    min_fcr_rate: float | None = None
    max_reopen_rate: float | None = None
    min_csat: float | None = None
    max_handling_minutes: float | None = None

    def __post_init__(self) -> None:
        if self.price_per_ticket < 0 or self.price_per_minute < 0:
            raise StaffingInputError("contract", "prices must not be negative")


def _as_share(value: Any) -> float:
    if value is None or value is pd.NA or isinstance(value, str):
        return np.nan
    try:
        return float(value)
    except (TypeError, ValueError):
        return np.nan


def _ticket_frame(tickets: Iterable[Mapping[str, Any]] | pd.DataFrame) -> pd.DataFrame:
    frame = tickets.copy() if isinstance(tickets, pd.DataFrame) else pd.DataFrame(list(tickets))
    if frame.empty:
        return frame
    required = {"group", "created_at", "handling_minutes"}
    missing = required - set(frame.columns)
    if missing:
        raise StaffingInputError("tickets", f"missing fields: {', '.join(sorted(missing))}")
    weight = (
        pd.to_numeric(frame["weight"], errors="coerce")
        if "weight" in frame
        else pd.Series(1.0, index=frame.index)
    )
    if weight.isna().any() or (weight < 0).any():
        raise StaffingInputError("tickets", "weight must be a number ≥ 0")
    frame["weight"] = weight.astype(np.float64)
    for flag in (*FLAGS, "csat"):
        if flag not in frame:
            frame[flag] = np.nan
        if flag in FLAGS:
            # True/False → 1/0; shares of aggregated records pass through;
            # None stays NaN and is left out of the rate.
            frame[flag] = frame[flag].map(_as_share).astype(np.float64)
        else:
            frame[flag] = pd.to_numeric(frame[flag], errors="coerce")
        flag_weight = (
            pd.to_numeric(frame[f"{flag}_weight"], errors="coerce").fillna(frame["weight"])
            if f"{flag}_weight" in frame
            else frame["weight"]
        )
        known = frame[flag].notna()
        frame[f"_{flag}_den"] = np.where(known, flag_weight, 0.0)
        frame[f"_{flag}_num"] = np.where(known, frame[flag].fillna(0.0) * flag_weight, 0.0)
    frame["handling_minutes"] = pd.to_numeric(frame["handling_minutes"], errors="coerce")
    if (frame["handling_minutes"] < 0).any():
        raise StaffingInputError("tickets", "handling_minutes must not be negative")
    frame["_minutes"] = frame["handling_minutes"].fillna(0.0) * frame["weight"]
    frame["_minutes_den"] = np.where(frame["handling_minutes"].notna(), frame["weight"], 0.0)
    frame["created_at"] = pd.to_datetime(frame["created_at"])
    return frame


def _ratio(num: pd.Series, den: pd.Series) -> pd.Series:
    return (num / den.where(den > 0)).astype(np.float64)


def _ola_met(row: pd.Series, contract: Contract) -> bool:
    checks = [
        (contract.min_sla_attainment, row["sla_attainment"], np.greater_equal),
        (contract.min_fcr_rate, row["fcr_rate"], np.greater_equal),
        (contract.max_reopen_rate, row["reopen_rate"], np.less_equal),
        (contract.min_csat, row["csat_mean"], np.greater_equal),
        (contract.max_handling_minutes, row["handling_minutes_mean"], np.less_equal),
    ]
    # A target without data for the period is not met: the partner owes the evidence.
    return all(
        bool(not pd.isna(value) and compare(value, limit))
        for limit, value, compare in checks
        if limit is not None
    )


def scorecard(
    tickets: Iterable[Mapping[str, Any]] | pd.DataFrame,
    contracts: Mapping[str, Contract],
    *,
    period: str = "month",
) -> pd.DataFrame:
    """One row per partner/team and period with KPIs, cost and OLA verdict.

    ``tickets`` records have ``group`` (partner or team), ``created_at``,
    ``handling_minutes`` and optionally ``solved``, ``sla_met``, ``fcr``,
    ``reopened`` (True/False/None) and ``csat`` (number or None); aggregated
    records add ``weight`` and per-flag ``<flag>_weight`` (see module docstring).
    Cost = tickets × price per ticket + minutes × price per minute, so the
    same formula covers per-ticket and per-minute contracts.
    """
    if period not in PERIODS:
        raise StaffingInputError("period", "must be 'week' or 'month'")
    frame = _ticket_frame(tickets)
    if frame.empty:
        return pd.DataFrame(columns=COLUMNS)
    unknown = set(frame["group"]) - set(contracts)
    if unknown:
        raise StaffingInputError("contracts", f"no contract for: {', '.join(sorted(unknown))}")
    frame["period"] = frame["created_at"].dt.to_period(PERIODS[period]).dt.start_time
    if frame["created_at"].dt.tz is not None:
        frame["created_at"] = frame["created_at"].dt.tz_localize(None)
    frame["period"] = frame["created_at"].dt.to_period(PERIODS[period]).dt.start_time
    sums = frame.groupby(["group", "period"], sort=True)[
        ["weight", "_minutes", "_minutes_den"]
        + [f"_{f}_{part}" for f in (*FLAGS, "csat") for part in ("num", "den")]
    ].sum()
    result = pd.DataFrame(index=sums.index)
    result["volume"] = sums["weight"]
    result["solved"] = sums["_solved_num"]
    result["sla_attainment"] = _ratio(sums["_sla_met_num"], sums["_sla_met_den"])
    result["fcr_rate"] = _ratio(sums["_fcr_num"], sums["_fcr_den"])
    result["reopen_rate"] = _ratio(sums["_reopened_num"], sums["_reopened_den"])
    result["csat_mean"] = _ratio(sums["_csat_num"], sums["_csat_den"])
    result["handling_minutes_mean"] = _ratio(sums["_minutes"], sums["_minutes_den"])
    result["handling_minutes_total"] = sums["_minutes"]
    result = result[result["volume"] > 0].reset_index()
    if result.empty:
        return pd.DataFrame(columns=COLUMNS)
    ticket_price = result["group"].map(lambda g: contracts[g].price_per_ticket)
    minute_price = result["group"].map(lambda g: contracts[g].price_per_minute)
    result["cost_total"] = (
        result["volume"] * ticket_price + result["handling_minutes_total"] * minute_price
    )
    result["cost_per_contact"] = result["cost_total"] / result["volume"]
    result["ola_met"] = [_ola_met(row, contracts[row["group"]]) for _, row in result.iterrows()]
    return result[COLUMNS]
