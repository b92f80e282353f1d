"""Demo data for service operations: 12 weeks of contacts, next week's roster, two partners.

Contacts per 15 minutes come from ``forecast.synthetic_contacts`` (morning
and afternoon peaks, busy Mondays, short Saturdays, holidays), split between
the own team and two service partners with different quality and speed, so
the scorecards have something to compare.  The volumes are a bike shop's with
its workshop (about 60 calls and 30 mails a working day), so the forecast asks
for the handful of agents such a shop has, not a call centre.  The roster for next week covers
the forecast requirement hour by hour — except Monday morning, where it is
a third short: the gap a team lead should find on the heat map.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import numpy as np
import pandas as pd
from django.db import transaction

from stammkunde.core.db import bulk_insert
from stammkunde.core.models import ServicePartner

from .erlang import scheduled_agents, workload_agents
from .forecast import LOCAL_TZ, synthetic_contacts
from .models import Channel, ContactVolume, PartnerContract, RosterEntry, StaffingTarget
from .roster import ServiceTarget, requirement
from .selectors import next_week_start, today_local

OWN_TEAM = "Team Stammhaus"
PARTNER_NORD = "Kundenservice Nord GmbH"
PARTNER_LEIPZIG = "Dialogwerk Leipzig"


@dataclass(frozen=True)
class DemoQueue:
    name: str
    channel: str
    daily_volume: float
    aht_s: float
    shares: dict[str, float]  # who handles which share of the contacts


QUEUES = (
    DemoQueue(
        "Telefon",
        Channel.PHONE,
        60.0,
        270.0,
        {OWN_TEAM: 0.5, PARTNER_NORD: 0.3, PARTNER_LEIPZIG: 0.2},
    ),
    DemoQueue("E-Mail", Channel.EMAIL, 30.0, 420.0, {OWN_TEAM: 0.6, PARTNER_LEIPZIG: 0.4}),
)
# A shop's phone, not a call centre's: 80 % of calls answered within a minute.
PHONE_TARGET = ServiceTarget(target_answer_s=60, target_sl=0.8, shrinkage=0.25, max_occupancy=0.85)
# group: (share in SL, FCR, reopen, CSAT mean, AHT factor)
QUALITY = {
    OWN_TEAM: (0.87, 0.76, 0.05, 4.4, 1.0),
    PARTNER_NORD: (0.83, 0.72, 0.06, 4.1, 0.95),
    PARTNER_LEIPZIG: (0.72, 0.61, 0.11, 3.7, 1.15),
}
SHORT_MONDAY_HOURS = (8, 12)
SHORT_FACTOR = 0.7
MIN_COVER = 2.0


@dataclass(frozen=True)
class WorkforceDemoResult:
    volumes: int
    roster_entries: int
    seconds: float


def _contracts() -> dict[str, int | None]:
    nord, _ = ServicePartner.objects.get_or_create(
        name=PARTNER_NORD, defaults={"price_per_ticket": Decimal("3.80")}
    )
    leipzig, _ = ServicePartner.objects.get_or_create(
        name=PARTNER_LEIPZIG, defaults={"price_per_minute": Decimal("0.62")}
    )
    ola = {
        "min_sla_attainment": Decimal("0.80"),
        "min_fcr_rate": Decimal("0.70"),
        "max_reopen_rate": Decimal("0.08"),
        "min_csat": Decimal("4.00"),
    }
    PartnerContract.objects.update_or_create(
        partner=nord, defaults={"price_per_ticket": Decimal("3.80"), **ola}
    )
    PartnerContract.objects.update_or_create(
        partner=leipzig, defaults={"price_per_minute": Decimal("0.62"), **ola}
    )
    PartnerContract.objects.update_or_create(
        partner=None, team_name=OWN_TEAM, defaults={"price_per_minute": Decimal("0.75"), **ola}
    )
    return {OWN_TEAM: None, PARTNER_NORD: nord.pk, PARTNER_LEIPZIG: leipzig.pk}


def _targets() -> None:
    StaffingTarget.objects.update_or_create(
        queue="Telefon",
        channel=Channel.PHONE,
        defaults={
            "target_sl": Decimal(str(PHONE_TARGET.target_sl)),
            "target_answer_s": int(PHONE_TARGET.target_answer_s),
            "shrinkage": Decimal(str(PHONE_TARGET.shrinkage)),
            "max_occupancy": Decimal(str(PHONE_TARGET.max_occupancy)),
        },
    )
    StaffingTarget.objects.update_or_create(
        queue="E-Mail",
        channel=Channel.EMAIL,
        defaults={
            "target_sl": Decimal("0.8"),
            "target_answer_s": 4 * 3600,
            "shrinkage": Decimal("0.25"),
            "max_occupancy": Decimal("0.85"),
        },
    )


def _aware(index: pd.DatetimeIndex) -> pd.DatetimeIndex:
    return index.tz_localize(
        LOCAL_TZ, ambiguous=np.zeros(len(index), dtype=bool), nonexistent="NaT"
    ).tz_convert("UTC")


def _volume_rows(
    queue: DemoQueue, series: pd.Series, groups: dict[str, int | None], rng: np.random.Generator
) -> tuple[list[tuple], pd.DataFrame]:
    names = list(queue.shares)
    split = rng.multinomial(series.to_numpy(np.int64), [queue.shares[n] for n in names])
    starts = _aware(pd.DatetimeIndex(series.index))
    rows = []
    handled_total = np.zeros(len(series))
    for column, name in enumerate(names):
        n = split[:, column]
        p_sl, p_fcr, p_reopen, csat_mean, aht_factor = QUALITY[name]
        aht = queue.aht_s * aht_factor
        handled = np.where(n > 0, rng.gamma(np.maximum(n, 1) * 4.0, aht / 4.0), 0.0).round()
        handled_total += handled
        in_sl = rng.binomial(n, p_sl)
        fcr = rng.binomial(n, p_fcr)
        reopened = rng.binomial(n, p_reopen)
        csat_n = rng.binomial(n, 0.15)
        csat_sum = np.clip(
            np.round(rng.normal(csat_mean * csat_n, 0.8 * np.sqrt(csat_n))), csat_n, 5 * csat_n
        ).astype(np.int64)
        for i in np.flatnonzero((n > 0) & ~starts.isna()):
            rows.append(
                (
                    queue.name,
                    queue.channel,
                    starts[i].to_pydatetime(),
                    15,
                    int(n[i]),
                    int(handled[i]),
                    groups[name],
                    int(in_sl[i]),
                    int(fcr[i]),
                    int(reopened[i]),
                    int(csat_sum[i]),
                    int(csat_n[i]),
                )
            )
    history = pd.DataFrame({"contacts": series, "handle_s": handled_total}, index=series.index)
    return rows, history


def _roster_rows(
    queue: DemoQueue, history: pd.DataFrame, target: ServiceTarget, week: date
) -> list[tuple]:
    # A planner's roster: the last four weeks' mean per weekday and slot (no model fit,
    # so the demo stays fast), staffed hour by hour with one agent to spare.
    recent = history[history.index >= history.index[-1].normalize() - pd.Timedelta(days=27)]
    slots = pd.date_range(pd.Timestamp(week), periods=7 * 96, freq="15min")
    key = [recent.index.day_of_week, recent.index.hour * 60 + recent.index.minute]
    mean = recent.groupby(key).mean()
    cells = pd.MultiIndex.from_arrays([slots.day_of_week, slots.hour * 60 + slots.minute])
    forecast = pd.DataFrame(mean.reindex(cells).to_numpy(), index=slots, columns=mean.columns)
    forecast["aht_s"] = (forecast["handle_s"] / forecast["contacts"]).where(
        forecast["contacts"] > 0, queue.aht_s
    )
    if queue.channel == Channel.EMAIL:
        raw = workload_agents(
            items=forecast["contacts"].to_numpy(),
            handling_s=forecast["aht_s"].to_numpy(),
            window_s=900.0,
            utilisation=0.85,
        )
        required = pd.Series(scheduled_agents(raw, 0.25), index=slots, dtype=float)
    else:
        required = requirement(forecast, target=target)["required"].astype(np.float64)
    hourly = required.groupby(required.index.floor("60min")).max()
    rows = []
    for start, agents in hourly.items():
        # One agent to spare, and a minimum cover for the trickle of night mails and calls.
        planned = max(float(agents) + 1.0, MIN_COVER)
        if start.weekday() == 0 and SHORT_MONDAY_HOURS[0] <= start.hour < SHORT_MONDAY_HOURS[1]:
            planned = np.floor(float(agents) * SHORT_FACTOR)
        if planned > 0:
            rows.append((queue.name, start.date(), start.time(), 60, int(planned)))
    return rows


def workforce_demo_generate(
    *, seed: int, today: date | None = None, weeks: int = 12
) -> WorkforceDemoResult:
    """Load the workforce demo (replacing earlier demo volumes and roster of the demo queues)."""
    began = time.perf_counter()
    rng = np.random.default_rng(seed + 11)
    day = today or today_local()
    first = day - timedelta(days=7 * weeks)
    week = next_week_start(day)
    names = [q.name for q in QUEUES]
    with transaction.atomic():
        groups = _contracts()
        _targets()
        ContactVolume.objects.filter(queue__in=names).delete()
        RosterEntry.objects.filter(queue__in=names, date__gte=week).delete()
        volume_rows: list[tuple] = []
        roster_rows: list[tuple] = []
        for offset, queue in enumerate(QUEUES):
            series = synthetic_contacts(
                first, 7 * weeks, seed=seed + offset, daily_volume=queue.daily_volume
            )
            rows, history = _volume_rows(queue, series, groups, rng)
            volume_rows += rows
            roster_rows += _roster_rows(queue, history, PHONE_TARGET, week)
        volumes = bulk_insert(
            ContactVolume,
            [
                "queue",
                "channel",
                "interval_start",
                "interval_minutes",
                "contacts",
                "handled_seconds",
                "partner",
                "answered_in_sl",
                "resolved_first_contact",
                "reopened",
                "csat_sum",
                "csat_count",
            ],
            volume_rows,
        )
        # A few hundred rows; bulk_create adapts TimeField values on every backend.
        entries = len(
            RosterEntry.objects.bulk_create(
                RosterEntry(queue=q, date=d, interval_start=t, interval_minutes=m, agents=a)
                for q, d, t, m, a in roster_rows
            )
        )
    return WorkforceDemoResult(
        volumes=volumes, roster_entries=entries, seconds=time.perf_counter() - began
    )
