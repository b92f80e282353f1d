"""Working-time arithmetic across nights, weekends, holidays and DST (Europe/Berlin)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stammkunde.service.calendar import (
    BusinessHours,
    CalendarError,
    add_working_time,
    parse_hours,
    working_minutes_between,
)

BERLIN = ZoneInfo("Europe/Berlin")
OFFICE = BusinessHours(state="NW")  # Mon-Fri 8-18, holidays of Nordrhein-Westfalen
ALWAYS = BusinessHours(hours={d: [(time(0), time.max)] for d in range(7)})
SPLIT = BusinessHours(
    hours=parse_hours({"0": [["08:00", "12:00"], ["13:00", "17:00"]], "5": [["10:00", "14:00"]]}),
    state="BY",
    closed_days=frozenset({date(2026, 12, 28)}),
)


def berlin(*args: int) -> datetime:
    return datetime(*args, tzinfo=BERLIN)


def test_friday_evening_plus_two_hours_is_monday_morning() -> None:
    assert add_working_time(OFFICE, berlin(2026, 3, 13, 17), 120) == berlin(2026, 3, 16, 9)


def test_a_start_in_the_night_begins_at_opening_time() -> None:
    assert add_working_time(OFFICE, berlin(2026, 3, 10, 22), 30) == berlin(2026, 3, 11, 8, 30)


def test_easter_holidays_are_skipped() -> None:
    # Good Friday 3 April and Easter Monday 6 April 2026 are closed in NW
    assert add_working_time(OFFICE, berlin(2026, 4, 2, 17, 30), 60) == berlin(2026, 4, 7, 8, 30)


def test_state_holidays_differ_corpus_christi_in_bavaria_not_in_berlin() -> None:
    bavaria, berlin_state = BusinessHours(state="BY"), BusinessHours(state="BE")
    corpus_christi = date(2026, 6, 4)
    assert bavaria.is_closed_day(corpus_christi)
    assert not berlin_state.is_closed_day(corpus_christi)


def test_extra_closed_days_and_split_hours_are_honoured() -> None:
    # SPLIT is open Mondays (with a lunch break) and Saturdays; Saturday 26 Dec is a
    # holiday, Monday 28 Dec an extra closed day, so the next open time is Saturday 2 Jan
    start = berlin(2026, 12, 21, 11)  # Monday
    assert working_minutes_between(SPLIT, start, berlin(2026, 12, 21, 14)) == 120
    assert add_working_time(SPLIT, start, 60 + 240) == berlin(2026, 12, 21, 17)
    assert add_working_time(SPLIT, start, 60 + 240 + 30) == berlin(2027, 1, 2, 10, 30)


def test_the_spring_dst_night_has_23_hours_on_a_24_hour_calendar() -> None:
    start, end = berlin(2026, 3, 29, 0), berlin(2026, 3, 30, 0)
    assert working_minutes_between(ALWAYS, start, end) == 23 * 60
    assert add_working_time(ALWAYS, start, 180) == berlin(2026, 3, 29, 4)


def test_the_autumn_dst_night_has_25_hours_on_a_24_hour_calendar() -> None:
    start, end = berlin(2026, 10, 25, 0), berlin(2026, 10, 26, 0)
    assert working_minutes_between(ALWAYS, start, end) == 25 * 60


def test_office_hours_are_ten_hours_on_dst_days_as_on_any_day() -> None:
    monday_after = berlin(2026, 3, 30, 8)
    assert working_minutes_between(OFFICE, berlin(2026, 3, 27, 8), monday_after) == 600


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(CalendarError):
        add_working_time(OFFICE, datetime(2026, 3, 10, 9), 10)


def test_a_calendar_without_hours_is_refused() -> None:
    with pytest.raises(CalendarError):
        BusinessHours(hours={})


def test_overlapping_hours_are_refused() -> None:
    with pytest.raises(CalendarError, match="overlap"):
        parse_hours({"0": [["08:00", "12:00"], ["11:00", "13:00"]]})


instants = st.datetimes(
    min_value=datetime(2025, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC)
)
calendars = st.sampled_from([OFFICE, ALWAYS, SPLIT])
minutes = st.integers(min_value=0, max_value=20_000)


@settings(max_examples=150, deadline=None)
@given(calendar=calendars, start=instants, m=minutes)
def test_measuring_what_was_added_gives_it_back(calendar, start, m) -> None:
    assert working_minutes_between(calendar, start, add_working_time(calendar, start, m)) == m


@settings(max_examples=150, deadline=None)
@given(calendar=calendars, start=instants, m1=minutes, m2=minutes)
def test_adding_more_working_time_never_ends_earlier(calendar, start, m1, m2) -> None:
    lo, hi = sorted((m1, m2))
    assert add_working_time(calendar, start, lo) <= add_working_time(calendar, start, hi)


@settings(max_examples=150, deadline=None)
@given(calendar=calendars, a=instants, gap1=st.integers(0, 30_000), gap2=st.integers(0, 30_000))
def test_measured_working_time_is_additive_and_monotone(calendar, a, gap1, gap2) -> None:
    b = a + timedelta(minutes=gap1)
    c = b + timedelta(minutes=gap2)
    ab, bc = working_minutes_between(calendar, a, b), working_minutes_between(calendar, b, c)
    assert working_minutes_between(calendar, a, c) == pytest.approx(ab + bc)
    assert 0 <= ab <= gap1


@settings(max_examples=100, deadline=None)
@given(calendar=calendars, start=instants, m=st.integers(1, 20_000))
def test_added_time_never_ends_in_closed_time(calendar, start, m) -> None:
    end = add_working_time(calendar, start, m)
    assert calendar.is_open(end - timedelta(microseconds=1))


@settings(max_examples=100, deadline=None)
@given(
    calendar=calendars,
    a=instants,
    length=st.integers(0, 20_000),
    pause_start=st.integers(0, 20_000),
    pause_len=st.integers(0, 20_000),
)
def test_paused_time_is_never_counted(calendar, a, length, pause_start, pause_len) -> None:
    b = a + timedelta(minutes=length)
    p = a + timedelta(minutes=pause_start)
    q = p + timedelta(minutes=pause_len)
    with_pause = working_minutes_between(calendar, a, b, excluded=[(p, q)])
    outside = working_minutes_between(calendar, a, min(b, p)) + working_minutes_between(
        calendar, max(a, q), b
    )
    assert with_pause == pytest.approx(outside)
