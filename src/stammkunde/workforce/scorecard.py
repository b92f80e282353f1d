"""Scorecards for service partners (outsourced) and own teams, per week or month.

A pure function over plain ticket records so that the web page, the CSV
export and the partner portal compute the same numbers.  Rates are means
over tickets where the flag is known (``None`` = not applicable, e.g. no SLA
on the ticket), so missing data does not count as failure.
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


def _ticket_frame(tickets: Iterable[Mapping[str, Any]] | pd.DataFrame) -> pd.DataFrame:
    frame = tickets.copy() if isinstance(tickets, pd.DataFrame) else pd.DataFrame(list(tickets))
    if frame.empty:
        return frame
    required = {"group", "created_at", "handling_minutes"}
    missing = required - set(frame.columns)
    if missing:
        raise StaffingInputError("tickets", f"missing fields: {', '.join(sorted(missing))}")
    for flag in (*FLAGS, "csat"):
        if flag not in frame:
            frame[flag] = np.nan
    for flag in FLAGS:
        # True/False → 1/0; None stays NaN and is skipped by mean().
        frame[flag] = pd.to_numeric(frame[flag].map({True: 1.0, False: 0.0}), errors="coerce")
    frame["csat"] = pd.to_numeric(frame["csat"], errors="coerce")
    frame["handling_minutes"] = pd.to_numeric(frame["handling_minutes"], errors="coerce")
    if (frame["handling_minutes"] < 0).any():
        raise StaffingInputError("tickets", "handling_minutes must not be negative")
    frame["created_at"] = pd.to_datetime(frame["created_at"])
    return frame


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
    ``reopened`` (True/False/None) and ``csat`` (number or None).
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
    grouped = frame.groupby(["group", "period"], sort=True)
    result = grouped.agg(
        volume=("created_at", "size"),
        solved=("solved", "sum"),
        sla_attainment=("sla_met", "mean"),
        fcr_rate=("fcr", "mean"),
        reopen_rate=("reopened", "mean"),
        csat_mean=("csat", "mean"),
        handling_minutes_mean=("handling_minutes", "mean"),
        handling_minutes_total=("handling_minutes", "sum"),
    ).reset_index()
    ticket_price = result["group"].map(lambda g: contracts[g].price_per_ticket)
    minute_price = result["group"].map(lambda g: contracts[g].price_per_minute)
    result["cost_total"] = (
        result["volume"] * ticket_price + result["handling_minutes_total"] * minute_price
    )
    result["cost_per_contact"] = result["cost_total"] / result["volume"]
    result["ola_met"] = [_ola_met(row, contracts[row["group"]]) for _, row in result.iterrows()]
    return result[COLUMNS]
