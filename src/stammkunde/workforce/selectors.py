"""Reads of the workforce app: history, forecast, requirement, roster gap, scenario, scorecards.

Every read starts from ``visible_to``; the numbers come from the Django-free
modules (``forecast``, ``erlang``, ``roster``, ``scorecard``).  Fitting the
forecast takes about a second per queue, so fitted forecasts are cached,
keyed by a fingerprint of the history: new or changed volumes give a new key.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
from django.core.cache import cache
from django.db.models import Count, Max, Min, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from stammkunde.core.access import User, access_object
from stammkunde.core.errors import ApplicationError
from stammkunde.core.roles import partner_id_of
from stammkunde.service import selectors as service_selectors

from .erlang import StaffingInputError, scheduled_agents, workload_agents
from .forecast import LOCAL_TZ, ContactForecaster, Event, wape
from .models import (
    QUEUEING_CHANNELS,
    Channel,
    ContactVolume,
    PartnerContract,
    RosterEntry,
    StaffingTarget,
    is_planner,
)
from .roster import ServiceTarget, gap_heatmap, requirement, staffing_gap
from .scorecard import Contract, scorecard

CACHE_SECONDS = 6 * 3600
MIN_HISTORY_DAYS = 14
DEFAULT_TARGET = StaffingTarget(target_sl=0.8, target_answer_s=20, shrinkage=0.3)
# Deferred work (email, back office) is planned at this utilisation when no cap is set.
DEFAULT_UTILISATION = 0.85


def _input_error(exc: StaffingInputError) -> ApplicationError:
    return ApplicationError(str(exc), code="invalid", field_errors={exc.field: [exc.message]})


def today_local() -> date:
    """Today in the planning time zone (Europe/Berlin)."""
    return timezone.localdate(timezone=_tz())


def _tz() -> Any:
    from zoneinfo import ZoneInfo

    return ZoneInfo(LOCAL_TZ)


def next_week_start(today: date | None = None) -> date:
    """The Monday after ``today`` — what a planner means by "next week"."""
    day = today or today_local()
    return day + timedelta(days=7 - day.weekday())


# --------------------------------------------------------------------------- history


def queue_list(*, user: User) -> list[tuple[str, str]]:
    """The (queue, channel) pairs with history that the user may plan."""
    if not is_planner(user):
        return []
    return list(
        ContactVolume.objects.visible_to(user)
        .order_by("queue", "channel")
        .values_list("queue", "channel")
        .distinct()
    )


def queue_names(*, user: User) -> list[str]:
    """Queues with history or roster entries."""
    names = {q for q, _c in queue_list(user=user)}
    names |= set(RosterEntry.objects.visible_to(user).values_list("queue", flat=True).distinct())
    return sorted(names)


def _volumes(user: User, queue: str, channel: str) -> Any:
    return ContactVolume.objects.visible_to(user).filter(queue=queue, channel=channel)


def _fingerprint(user: User, queue: str, channel: str) -> str:
    # Content, not row ids: a reloaded identical history reuses the fitted forecast.
    stats = _volumes(user, queue, channel).aggregate(
        n=Count("id"),
        contacts=Sum("contacts"),
        handled=Sum("handled_seconds"),
        first=Min("interval_start"),
        last=Max("interval_start"),
        minutes=Sum("interval_minutes"),
    )
    return hashlib.sha1(repr(sorted(stats.items())).encode()).hexdigest()[:16]


def volume_history(*, user: User, queue: str, channel: str) -> pd.DataFrame:
    """Contacts and handling seconds per interval (local time), all partners summed.

    Intervals without a row count as zero contacts: the history is the full
    grid from the first to the last day.  Mixed interval lengths are summed
    up to the longest one.
    """
    rows = list(
        _volumes(user, queue, channel)
        .values("interval_start", "interval_minutes")
        .annotate(contacts=Sum("contacts"), handle_s=Sum("handled_seconds"))
        .order_by()
    )
    if not rows:
        return pd.DataFrame(columns=["contacts", "handle_s"], dtype=np.float64)
    frame = pd.DataFrame(rows)
    minutes = int(frame["interval_minutes"].max())
    index = pd.DatetimeIndex(pd.to_datetime(frame["interval_start"], utc=True))
    local = index.tz_convert(LOCAL_TZ).tz_localize(None).floor(f"{minutes}min")
    sums = frame[["contacts", "handle_s"]].astype(np.float64).set_axis(local).groupby(level=0).sum()
    grid = pd.date_range(
        sums.index.min().normalize(),
        sums.index.max().normalize() + pd.Timedelta(days=1),
        freq=f"{minutes}min",
        inclusive="left",
    )
    return sums.reindex(grid, fill_value=0.0)


# --------------------------------------------------------------------------- forecast


def _fitted(
    user: User, queue: str, channel: str, *, train_until: pd.Timestamp | None
) -> ContactForecaster:
    """The forecaster fitted on the queue's history (before ``train_until``), cached.

    Only the fit is cached: predicting a week, with or without what-if events,
    takes milliseconds, so a scenario reuses the fit of the staffing page.
    """
    fingerprint = _fingerprint(user, queue, channel)
    key = (
        "workforce:fit:"
        + hashlib.sha1(
            "|".join([queue, channel, fingerprint, str(train_until)]).encode()
        ).hexdigest()
    )
    cached = cache.get(key)
    if cached is not None:
        return cached
    history = volume_history(user=user, queue=queue, channel=channel)
    if train_until is not None:
        history = history[history.index < train_until]
    if len(history) == 0 or (
        history.index[-1] - history.index[0] < pd.Timedelta(days=MIN_HISTORY_DAYS - 1)
    ):
        raise ApplicationError(
            _("Queue %(queue)s (%(channel)s) needs at least %(days)s days of history.")
            % {"queue": queue, "channel": channel, "days": MIN_HISTORY_DAYS},
            code="history",
            field_errors={"queue": [_("not enough history")]},
        )
    has_handling = bool(history["handle_s"].sum() > 0)
    try:
        model = ContactForecaster().fit(history if has_handling else history[["contacts"]])
    except StaffingInputError as exc:
        raise _input_error(exc) from exc
    cache.set(key, model, CACHE_SECONDS)
    return model


def _predict(
    user: User,
    queue: str,
    channel: str,
    *,
    train_until: pd.Timestamp | None,
    start: Any,
    days: int,
    events: Sequence[Event] = (),
) -> pd.DataFrame:
    model = _fitted(user, queue, channel, train_until=train_until)
    try:
        result = model.predict(start, days=days, events=events)
    except StaffingInputError as exc:
        raise _input_error(exc) from exc
    if "aht_s" not in result:
        result["aht_s"] = np.nan
    return result


def forecast_get(
    *,
    user: User,
    queue: str,
    channel: str,
    start: date,
    days: int = 7,
    events: Sequence[Event] = (),
) -> pd.DataFrame:
    """Contacts and AHT per interval for ``days`` from ``start``, learnt from all history."""
    if not is_planner(user):
        return pd.DataFrame(columns=["contacts", "aht_s"])
    return _predict(user, queue, channel, train_until=None, start=start, days=days, events=events)


@dataclass
class ForecastCheck:
    """Next week's forecast and, for trust, the last 7 days forecast without seeing them."""

    queue: str
    channel: str
    forecast: pd.DataFrame
    recent_actual: pd.Series
    recent_forecast: pd.Series
    recent_naive: pd.Series
    wape_model: float
    wape_naive: float


def forecast_check(*, user: User, queue: str, channel: str, start: date) -> ForecastCheck:
    """Forecast from ``start`` plus a holdout check on the last 7 days of history.

    The check fits on everything before the last 7 days and compares with
    what happened, next to seasonal naive (same slot a week earlier) — the
    baseline a forecast has to beat.
    """
    forecast = forecast_get(user=user, queue=queue, channel=channel, start=start)
    history = volume_history(user=user, queue=queue, channel=channel)["contacts"]
    cut = history.index[-1].normalize() + pd.Timedelta(days=1) - pd.Timedelta(days=7)
    recent = history[history.index >= cut]
    holdout = _predict(user, queue, channel, train_until=cut, start=cut, days=7)["contacts"]
    holdout = holdout.reindex(recent.index)
    naive = history.reindex(recent.index - pd.Timedelta(days=7)).fillna(0.0)
    naive.index = recent.index
    return ForecastCheck(
        queue=queue,
        channel=channel,
        forecast=forecast,
        recent_actual=recent,
        recent_forecast=holdout,
        recent_naive=naive,
        wape_model=wape(recent.to_numpy(), holdout.to_numpy()),
        wape_naive=wape(recent.to_numpy(), naive.to_numpy()),
    )


# --------------------------------------------------------------------------- requirement


def targets_for_queue(*, user: User, queue: str) -> list[dict[str, Any]]:
    """Each channel of the queue with history: its target, or the default marked as such."""
    result = []
    for q, channel in queue_list(user=user):
        if q == queue:
            found = StaffingTarget.objects.visible_to(user).filter(queue=q, channel=channel).first()
            result.append(
                {
                    "channel": channel,
                    "label": Channel(channel).label if channel in Channel.values else channel,
                    "target": found or DEFAULT_TARGET,
                    "is_default": found is None,
                }
            )
    return result


def _target(user: User, queue: str, channel: str) -> StaffingTarget:
    found = StaffingTarget.objects.visible_to(user).filter(queue=queue, channel=channel).first()
    return found or DEFAULT_TARGET


def _channel_requirement(
    forecast: pd.DataFrame, target: StaffingTarget, channel: str
) -> pd.DataFrame:
    aht = float(target.aht_override_s) if target.aht_override_s else None
    if aht is None and forecast["aht_s"].isna().all():
        raise ApplicationError(
            _("No handling time in the history; set an AHT override in the staffing target."),
            code="aht",
            field_errors={"aht_override_s": [_("required without handling time")]},
        )
    shrinkage = float(target.shrinkage)
    occupancy = float(target.max_occupancy) if target.max_occupancy is not None else None
    try:
        if channel in QUEUEING_CHANNELS:
            service = ServiceTarget(
                target_answer_s=float(target.target_answer_s),
                target_sl=float(target.target_sl),
                shrinkage=shrinkage,
                max_occupancy=occupancy,
            )
            return requirement(forecast, target=service, aht_s=aht)
        step_s = float((forecast.index[1] - forecast.index[0]) / pd.Timedelta(seconds=1))
        handling = forecast["aht_s"].to_numpy(np.float64) if aht is None else aht
        raw = workload_agents(
            items=forecast["contacts"].to_numpy(np.float64),
            handling_s=handling,
            window_s=step_s,
            utilisation=occupancy or DEFAULT_UTILISATION,
        )
        return pd.DataFrame(
            {
                "traffic": forecast["contacts"].to_numpy(np.float64) * handling / step_s,
                "raw_agents": raw,
                "required": scheduled_agents(raw, shrinkage),
            },
            index=forecast.index,
        )
    except StaffingInputError as exc:
        raise _input_error(exc) from exc


def requirement_get(
    *,
    user: User,
    queue: str,
    start: date,
    days: int = 7,
    events: Sequence[Event] = (),
) -> pd.DataFrame:
    """Contacts, traffic, raw and scheduled agents per interval for a queue (all channels)."""
    channels = [c for q, c in queue_list(user=user) if q == queue]
    parts = []
    for channel in channels:
        forecast = forecast_get(
            user=user, queue=queue, channel=channel, start=start, days=days, events=events
        )
        need = _channel_requirement(forecast, _target(user, queue, channel), channel)
        need["contacts"] = forecast["contacts"]
        parts.append(need)
    if not parts:
        raise ApplicationError(
            _("No history for queue %(queue)s.") % {"queue": queue},
            code="queue",
            field_errors={"queue": [_("unknown queue")]},
        )
    total = parts[0]
    for part in parts[1:]:
        total = total.add(part, fill_value=0.0)
    return total[["contacts", "traffic", "raw_agents", "required"]]


def roster_series(*, user: User, queue: str, index: pd.DatetimeIndex) -> pd.Series:
    """Planned agents on the intervals of ``index`` (local time); gaps are zero.

    A 60-minute roster entry covers four 15-minute forecast intervals.
    """
    if len(index) == 0:
        return pd.Series(dtype=np.float64)
    first, last = index[0].date(), index[-1].date()
    entries = list(
        RosterEntry.objects.visible_to(user)
        .filter(queue=queue, date__gte=first, date__lte=last)
        .values_list("date", "interval_start", "interval_minutes", "agents")
    )
    step = index[1] - index[0] if len(index) > 1 else pd.Timedelta(minutes=15)
    planned = pd.Series(0.0, index=index)
    for day, start, minutes, agents in entries:
        begin = pd.Timestamp(datetime.combine(day, start))
        end = begin + pd.Timedelta(minutes=minutes)
        # An entry shorter than the grid step still staffs the slot it starts in.
        planned[(planned.index >= begin.floor(step)) & (planned.index < end)] = float(agents)
    return planned


@dataclass
class StaffingPlan:
    queue: str
    start: date
    days: int
    need: pd.DataFrame
    gap: pd.DataFrame
    heatmap: pd.DataFrame
    short_intervals: int
    missing_agent_hours: float
    events: list[Any] = field(default_factory=list)


def staffing_plan(
    *,
    user: User,
    queue: str,
    start: date,
    days: int = 7,
    events: Sequence[Event] = (),
) -> StaffingPlan:
    """Requirement against the roster for ``days`` from ``start``, with the heat map."""
    need = requirement_get(user=user, queue=queue, start=start, days=days, events=events)
    planned = roster_series(user=user, queue=queue, index=pd.DatetimeIndex(need.index))
    gap = staffing_gap(planned, need["required"])
    gap["contacts"] = need["contacts"]
    hours = float((need.index[1] - need.index[0]) / pd.Timedelta(hours=1))
    return StaffingPlan(
        queue=queue,
        start=start,
        days=days,
        need=need,
        gap=gap,
        heatmap=gap_heatmap(gap),
        short_intervals=int((gap["gap"] < 0).sum()),
        missing_agent_hours=float((-gap["gap"]).clip(lower=0).sum() * hours),
        events=list(events),
    )


@dataclass
class ScenarioOutcome:
    """A what-if peak against the roster: before and after, and whom to add when."""

    baseline: StaffingPlan
    scenario: StaffingPlan
    agents_to_add: pd.Series
    extra_agent_hours: float
    peak_add: int


def scenario_run(
    *,
    user: User,
    queue: str,
    start: date,
    days: int,
    uplift: float,
) -> ScenarioOutcome:
    """+``uplift`` (0.4 = +40 %) contacts for ``days`` from ``start``: gap and agents to add."""
    errors: dict[str, list[str]] = {}
    if not 1 <= days <= 31:
        errors["days"] = [_("between 1 and 31")]
    if not -0.9 <= uplift <= 10:
        errors["uplift"] = [_("between -90 % and +1000 %")]
    if errors:
        raise ApplicationError(_("Invalid scenario."), field_errors=errors)
    begin = pd.Timestamp(start)
    events = [(begin, begin + pd.Timedelta(days=days), 1.0 + uplift)]
    baseline = staffing_plan(user=user, queue=queue, start=start, days=days)
    scenario = staffing_plan(user=user, queue=queue, start=start, days=days, events=events)
    to_add = (-scenario.gap["gap"]).clip(lower=0).astype(np.int64)
    return ScenarioOutcome(
        baseline=baseline,
        scenario=scenario,
        agents_to_add=to_add,
        extra_agent_hours=scenario.missing_agent_hours,
        peak_add=int(to_add.max()) if len(to_add) else 0,
    )


# --------------------------------------------------------------------------- scorecards

OWN_TEAM = "Own team"


def _contract_terms(contract: PartnerContract) -> Contract:
    def opt(value: Any) -> float | None:
        return float(value) if value is not None else None

    return Contract(
        price_per_ticket=float(contract.price_per_ticket),
        price_per_minute=float(contract.price_per_minute),
        min_sla_attainment=opt(contract.min_sla_attainment),
        min_fcr_rate=opt(contract.min_fcr_rate),
        max_reopen_rate=opt(contract.max_reopen_rate),
        min_csat=opt(contract.min_csat),
        max_handling_minutes=opt(contract.max_handling_minutes),
    )


def contracts_visible(*, user: User) -> list[PartnerContract]:
    """The contracts the user may see (a partner agent: its own)."""
    return list(PartnerContract.objects.visible_to(user).select_related("partner"))


def contract_get(*, user: User, partner_id: int) -> PartnerContract:
    """The contract of one partner, or 404 — also when the user may not see it."""
    return access_object(
        PartnerContract.objects.select_related("partner"), user, partner_id=partner_id
    )


def ticket_records(*, user: User, since: datetime) -> pd.DataFrame:
    """Scorecard records from service-desk tickets: one contact of weight 1 per ticket.

    ``group`` is the queue's partner name (empty for the own team). What counts
    as solved, reopened or a missed SLA is the service desk's reading
    (``service.selectors.ticket_scorecard_rows``); a ticket without an SLA
    policy had nothing to meet, so its ``sla_met`` stays unknown.
    """
    if not (is_planner(user) or partner_id_of(user) is not None):
        return pd.DataFrame()
    rows = list(
        service_selectors.ticket_scorecard_rows(
            user=user, since=since, partner_id=None if is_planner(user) else partner_id_of(user)
        )
    )
    if not rows:
        return pd.DataFrame()
    frame = pd.DataFrame(rows)
    met = (frame["breached"] == 0).astype(object)
    return pd.DataFrame(
        {
            "group": frame["partner_name"].fillna(""),
            "created_at": pd.to_datetime(frame["created_at"], utc=True)
            .dt.tz_convert(LOCAL_TZ)
            .dt.tz_localize(None),
            # Each ticket is one contact; the volume records carry their own weight, and the
            # two sources are concatenated, so a missing weight here would be NaN there.
            "weight": 1.0,
            "handling_minutes": np.nan,
            "solved": frame["solved"].astype(bool),
            "reopened": frame["reopened"].astype(bool),
            "fcr": frame["first_contact_resolved"],
            "csat": np.nan,
            "sla_met": met.where(frame["has_sla"] == 1, None),
        }
    )


def volume_records(*, user: User, since: datetime) -> pd.DataFrame:
    """Scorecard records from contact volumes: one aggregated record per day and partner."""
    qs = ContactVolume.objects.visible_to(user).filter(interval_start__gte=since)
    rows = list(
        qs.values("partner__name", "interval_start__date")
        .annotate(
            weight=Sum("contacts"),
            handled=Sum("handled_seconds"),
            sla_num=Sum("answered_in_sl"),
            sla_den=Sum("contacts", filter=Q(answered_in_sl__isnull=False)),
            fcr_num=Sum("resolved_first_contact"),
            fcr_den=Sum("contacts", filter=Q(resolved_first_contact__isnull=False)),
            reopen_num=Sum("reopened"),
            reopen_den=Sum("contacts", filter=Q(reopened__isnull=False)),
            csat_sum=Sum("csat_sum"),
            csat_count=Sum("csat_count"),
        )
        .order_by()
    )
    if not rows:
        return pd.DataFrame()
    f = pd.DataFrame(rows).astype({"weight": np.float64})
    f = f[f["weight"] > 0]

    def share(num: str, den: str) -> pd.Series:
        d = pd.to_numeric(f[den], errors="coerce")
        return pd.to_numeric(f[num], errors="coerce") / d.where(d > 0)

    return pd.DataFrame(
        {
            "group": f["partner__name"].fillna(""),
            "created_at": pd.to_datetime(f["interval_start__date"]),
            "weight": f["weight"],
            "handling_minutes": pd.to_numeric(f["handled"]) / 60.0 / f["weight"],
            "sla_met": share("sla_num", "sla_den"),
            "sla_met_weight": pd.to_numeric(f["sla_den"]).fillna(0.0),
            "fcr": share("fcr_num", "fcr_den"),
            "fcr_weight": pd.to_numeric(f["fcr_den"]).fillna(0.0),
            "reopened": share("reopen_num", "reopen_den"),
            "reopened_weight": pd.to_numeric(f["reopen_den"]).fillna(0.0),
            "csat": share("csat_sum", "csat_count"),
            "csat_weight": pd.to_numeric(f["csat_count"]).fillna(0.0),
        }
    )


@dataclass
class Scorecards:
    table: pd.DataFrame
    totals: pd.DataFrame
    contracts: dict[str, PartnerContract]
    sources: list[str]
    first_day: date | None = None


def scorecards_get(
    *,
    user: User,
    period: str = "week",
    weeks: int = 12,
    since: date | None = None,
    today: date | None = None,
) -> Scorecards:
    """Partner and own-team scorecards per period, from tickets and contact volumes.

    A partner agent gets only its own partner's rows; users without a
    workforce role get nothing.  Groups without a visible contract are left
    out, so a contract is what puts a partner on the scorecard.
    """
    empty = Scorecards(pd.DataFrame(), pd.DataFrame(), {}, [])
    if not (is_planner(user) or partner_id_of(user) is not None):
        return empty
    if period not in ("week", "month"):
        raise ApplicationError(_("Invalid period."), field_errors={"period": ["week or month"]})
    day = today or today_local()
    first = since or day - timedelta(days=7 * weeks + day.weekday())
    start = timezone.make_aware(datetime.combine(first, datetime.min.time()), _tz())
    contracts = {c.group_name: c for c in contracts_visible(user=user)}
    own = next((c.team_name for c in contracts.values() if c.partner_id is None), None)
    sources, frames = [], []
    for name, frame in (
        ("tickets", ticket_records(user=user, since=start)),
        ("contact volumes", volume_records(user=user, since=start)),
    ):
        if not frame.empty:
            frame = frame.copy()
            frame["group"] = frame["group"].replace("", own or OWN_TEAM)
            frames.append(frame[frame["group"].isin(contracts)])
            sources.append(name)
    records = (
        pd.concat([f for f in frames if not f.empty], ignore_index=True)
        if any(not f.empty for f in frames)
        else pd.DataFrame()
    )
    terms = {name: _contract_terms(c) for name, c in contracts.items()}
    try:
        table = scorecard(records, terms, period=period)
        totals = (
            scorecard(records.assign(created_at=pd.Timestamp(first)), terms, period="month")
            if not records.empty
            else pd.DataFrame()
        )
    except StaffingInputError as exc:
        raise _input_error(exc) from exc
    return Scorecards(
        table=table, totals=totals, contracts=contracts, sources=sources, first_day=first
    )


def daily_summary(gap: pd.DataFrame) -> list[dict[str, Any]]:
    """Per day: contacts, peak requirement, short intervals and missing agent-hours."""
    if gap.empty:
        return []
    hours = float((gap.index[1] - gap.index[0]) / pd.Timedelta(hours=1)) if len(gap) > 1 else 0.25
    days = pd.DatetimeIndex(gap.index).normalize()
    rows = []
    for day, part in gap.groupby(days):
        missing = (-part["gap"]).clip(lower=0)
        rows.append(
            {
                "day": day.date(),
                "contacts": float(part["contacts"].sum()) if "contacts" in part else float("nan"),
                "peak_required": int(part["required"].max()),
                "peak_planned": int(part["planned"].max()),
                "short_intervals": int((part["gap"] < 0).sum()),
                "max_missing": int(missing.max()),
                "missing_agent_hours": float(missing.sum() * hours),
            }
        )
    return rows


def scorecard_cards(cards: Scorecards) -> list[dict[str, Any]]:
    """One card per partner/team over the whole range, each KPI with its OLA target and verdict."""
    result = []
    kpis = [
        ("sla_attainment", "min_sla_attainment", ">="),
        ("fcr_rate", "min_fcr_rate", ">="),
        ("reopen_rate", "max_reopen_rate", "<="),
        ("csat_mean", "min_csat", ">="),
        ("handling_minutes_mean", "max_handling_minutes", "<="),
    ]
    for _index, row in cards.totals.iterrows():
        contract = cards.contracts[row["group"]]
        lines = []
        for column, target_field, op in kpis:
            target = getattr(contract, target_field)
            value = row[column]
            known = not pd.isna(value)
            met = None
            if target is not None:
                limit = float(target)
                met = known and (value >= limit if op == ">=" else value <= limit)
            lines.append(
                {
                    "kpi": column,
                    "value": None if not known else float(value),
                    "target": target,
                    "op": op,
                    "met": met,
                }
            )
        result.append(
            {
                "group": row["group"],
                "contract": contract,
                "volume": float(row["volume"]),
                "cost_total": float(row["cost_total"]),
                "cost_per_contact": float(row["cost_per_contact"]),
                "ola_met": bool(row["ola_met"]),
                "kpis": lines,
                "weeks_met": int(
                    cards.table[cards.table["group"] == row["group"]]["ola_met"].sum()
                ),
                "weeks": int((cards.table["group"] == row["group"]).sum()),
            }
        )
    return result


def daily_forecast(forecast: pd.DataFrame) -> list[dict[str, Any]]:
    """Per day of a forecast: contacts, the busiest interval and the mean AHT."""
    days = pd.DatetimeIndex(forecast.index).normalize()
    rows = []
    for day, part in forecast.groupby(days):
        weights = part["contacts"]
        aht = part["aht_s"]
        rows.append(
            {
                "day": day.date(),
                "contacts": float(weights.sum()),
                "peak": float(weights.max()),
                "peak_at": part["contacts"].idxmax().strftime("%H:%M"),
                "aht_s": float((aht * weights).sum() / weights.sum())
                if weights.sum() > 0 and aht.notna().all()
                else None,
            }
        )
    return rows


def empty_scorecards() -> tuple[pd.DataFrame, pd.DataFrame, dict[str, PartnerContract], list[str]]:
    """The parts of a scorecard result with nothing in it."""
    return pd.DataFrame(), pd.DataFrame(), {}, []


def scorecards_only(cards: Scorecards, group: str) -> Scorecards:
    """Keep one partner's or team's rows of a scorecard result."""

    def keep(frame: pd.DataFrame) -> pd.DataFrame:
        return frame[frame["group"] == group] if not frame.empty else frame

    return Scorecards(
        table=keep(cards.table),
        totals=keep(cards.totals),
        contracts={k: v for k, v in cards.contracts.items() if k == group},
        sources=cards.sources,
        first_day=cards.first_day,
    )
