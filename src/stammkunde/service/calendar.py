"""Working-time arithmetic on a business calendar (Django-free).

A calendar has weekly opening hours in local wall-clock time, German public
holidays of one state (the ``holidays`` package) and extra closed days. Time is
measured as real elapsed time inside the open intervals: each interval's local
start and end are turned into aware instants first, so a night with a DST
change is not counted twice, and a 24-hour calendar counts 23 hours on the day
the clocks go forward.

``add_working_time`` and ``working_minutes_between`` are inverse:
``working_minutes_between(a, add_working_time(a, m)) == m``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

# Monday=0 ... Sunday=6 -> list of (open, close) in local time; close may be 24:00 (time.max).
WeeklyHours = dict[int, list[tuple[time, time]]]

DEFAULT_HOURS: WeeklyHours = {d: [(time(8), time(18))] for d in range(5)}
MAX_DAYS = 3 * 366  # a calendar with no open day ends the walk instead of looping forever


class CalendarError(ValueError):
    """The calendar cannot answer (no opening hours, naive datetime)."""


@lru_cache(maxsize=64)
def _holiday_dates(state: str, year: int) -> frozenset[date]:
    if not state:
        return frozenset()
    return frozenset(holidays.country_holidays("DE", subdiv=state, years=[year]).keys())


def parse_hours(raw: dict[str, list[list[str]]] | None) -> WeeklyHours:
    """Turn ``{"0": [["08:00", "18:00"]], ...}`` (JSON) into ``WeeklyHours``."""
    if not raw:
        return dict(DEFAULT_HOURS)
    out: WeeklyHours = {}
    for day, spans in raw.items():
        weekday = int(day)
        if not 0 <= weekday <= 6:
            raise CalendarError(f"weekday {day} is not 0..6")
        parsed = []
        for start, end in spans:
            t0 = time.fromisoformat(start)
            t1 = time.max if end in ("24:00", "24:00:00") else time.fromisoformat(end)
            if t1 <= t0:
                raise CalendarError(f"{start}-{end}: the end must be after the start")
            parsed.append((t0, t1))
        parsed.sort()
        for (_, end0), (start1, _) in zip(parsed, parsed[1:], strict=False):
            if start1 < end0:
                raise CalendarError(f"weekday {day}: opening hours overlap")
        out[weekday] = parsed
    return out


@dataclass(frozen=True)
class BusinessHours:
    """Opening hours of one queue in one time zone, with holidays and closed days."""

    hours: WeeklyHours = field(default_factory=lambda: dict(DEFAULT_HOURS))
    state: str = ""
    closed_days: frozenset[date] = frozenset()
    tz: str = "Europe/Berlin"

    def __post_init__(self) -> None:
        if not any(self.hours.get(d) for d in range(7)):
            raise CalendarError("The calendar has no opening hours.")

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.tz)

    def is_closed_day(self, day: date) -> bool:
        """Return True on a public holiday of the state or an extra closed day."""
        return day in self.closed_days or day in _holiday_dates(self.state, day.year)

    def intervals_of_day(self, day: date) -> list[tuple[datetime, datetime]]:
        """Return the open intervals of a local date as aware UTC instants."""
        if self.is_closed_day(day):
            return []
        zone = self.zone
        out = []
        for t0, t1 in self.hours.get(day.weekday(), []):
            start = datetime.combine(day, t0, tzinfo=zone).astimezone(UTC)
            if t1 == time.max:
                end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)
            else:
                end = datetime.combine(day, t1, tzinfo=zone)
            end_utc = end.astimezone(UTC)
            if end_utc > start:
                out.append((start, end_utc))
        return out

    def intervals_from(self, start: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Yield open intervals that end after ``start``, clipped to begin at ``start``."""
        _require_aware(start)
        start = start.astimezone(UTC)
        day = start.astimezone(self.zone).date() - timedelta(days=1)
        for _ in range(MAX_DAYS):
            for a, b in self.intervals_of_day(day):
                if b > start:
                    yield max(a, start), b
            day += timedelta(days=1)

    def is_open(self, moment: datetime) -> bool:
        """Return True when ``moment`` lies inside an open interval."""
        _require_aware(moment)
        moment = moment.astimezone(UTC)
        day = moment.astimezone(self.zone).date()
        return any(
            a <= moment < b
            for d in (day - timedelta(days=1), day)
            for a, b in self.intervals_of_day(d)
        )


def _require_aware(moment: datetime) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise CalendarError("Working-time arithmetic needs aware datetimes.")


def add_working_time(calendar: BusinessHours, start: datetime, minutes: float) -> datetime:
    """Return the instant when ``minutes`` of working time after ``start`` have passed.

    Zero minutes return ``start`` itself; otherwise the result lies inside or at
    the end of an open interval (never in the night or on a holiday).
    """
    _require_aware(start)
    if minutes < 0:
        raise CalendarError("minutes must not be negative")
    remaining = timedelta(minutes=minutes)
    if not remaining:
        return start
    for a, b in calendar.intervals_from(start):
        span = b - a
        if remaining <= span:
            return a + remaining
        remaining -= span
    raise CalendarError("The calendar has no open time within three years.")


def working_time_between(
    calendar: BusinessHours,
    a: datetime,
    b: datetime,
    *,
    excluded: Iterable[tuple[datetime, datetime]] = (),
) -> timedelta:
    """Return the working time in [a, b), minus the ``excluded`` (paused) spans."""
    _require_aware(a)
    _require_aware(b)
    if b <= a:
        return timedelta(0)
    total = timedelta(0)
    for x, y in calendar.intervals_from(a):
        if x >= b:
            break
        total += min(y, b) - x
    for p, q in _merged(excluded):
        if q > a and p < b:
            total -= working_time_between(calendar, max(a, p), min(b, q))
    return total


def working_minutes_between(
    calendar: BusinessHours,
    a: datetime,
    b: datetime,
    *,
    excluded: Iterable[tuple[datetime, datetime]] = (),
) -> float:
    """Return the working minutes in [a, b), minus paused spans; 0 when b <= a."""
    return working_time_between(calendar, a, b, excluded=excluded).total_seconds() / 60


def _merged(spans: Iterable[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    """Merge overlapping spans so that no paused time is subtracted twice."""
    out: list[tuple[datetime, datetime]] = []
    for p, q in sorted((p, q) for p, q in spans if q > p):
        if out and p <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], q))
        else:
            out.append((p, q))
    return out
