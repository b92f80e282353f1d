"""Workforce test data: contact history from the synthetic generator, rosters, contracts."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import numpy as np
import pandas as pd

from stammkunde.core.models import ServicePartner
from stammkunde.workforce.forecast import LOCAL_TZ, synthetic_contacts
from stammkunde.workforce.models import ContactVolume, PartnerContract, StaffingTarget

WEEK = date(2026, 3, 2)  # a Monday without holidays around it


def history(
    *,
    queue: str = "Telefon",
    channel: str = "phone",
    days: int = 21,
    end: date = WEEK,
    daily_volume: float = 600.0,
    aht_s: int = 240,
    partner: ServicePartner | None = None,
    seed: int = 3,
    quality: tuple[float, float, float] | None = None,
) -> int:
    """Store ``days`` of 15-minute contacts ending the day before ``end``; return the row count."""
    series = synthetic_contacts(
        end - timedelta(days=days), days, seed=seed, daily_volume=daily_volume
    )
    starts = pd.DatetimeIndex(series.index).tz_localize(
        LOCAL_TZ, ambiguous=np.zeros(len(series), dtype=bool), nonexistent="NaT"
    )
    rows = []
    for start, contacts in zip(starts, series.to_numpy(np.int64), strict=True):
        if pd.isna(start) or contacts == 0:
            continue
        sl, fcr, reopen = quality or (None, None, None)
        rows.append(
            ContactVolume(
                queue=queue,
                channel=channel,
                interval_start=start.to_pydatetime(),
                interval_minutes=15,
                contacts=int(contacts),
                handled_seconds=int(contacts) * aht_s,
                partner=partner,
                answered_in_sl=None if sl is None else int(round(contacts * sl)),
                resolved_first_contact=None if fcr is None else int(round(contacts * fcr)),
                reopened=None if reopen is None else int(round(contacts * reopen)),
            )
        )
    ContactVolume.objects.bulk_create(rows)
    return len(rows)


def target(queue: str = "Telefon", channel: str = "phone", **fields: object) -> StaffingTarget:
    values = {"target_sl": Decimal("0.8"), "target_answer_s": 20, "shrinkage": Decimal("0.3")}
    values.update(fields)
    return StaffingTarget.objects.create(queue=queue, channel=channel, **values)


def contract(
    partner: ServicePartner | None = None, team_name: str = "", **terms: object
) -> PartnerContract:
    values = {"price_per_ticket": Decimal("4.00"), "min_sla_attainment": Decimal("0.80")}
    values.update(terms)
    return PartnerContract.objects.create(partner=partner, team_name=team_name, **values)
