"""The jobs page reads its schedule as a person would say it, in German too."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone, translation
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

from stammkunde.core.jobs.schedule import next_run_at
from stammkunde.core.jobs.templatetags.jobs_schedule import schedule_text

pytestmark = pytest.mark.django_db


def _interval(every: int, period: str = IntervalSchedule.SECONDS) -> PeriodicTask:
    schedule, _ = IntervalSchedule.objects.get_or_create(every=every, period=period)
    return PeriodicTask(name=f"t{every}{period}", task="x", interval=schedule)


def _cron(minute: str, hour: str, day_of_week: str = "*") -> PeriodicTask:
    schedule = CrontabSchedule.objects.create(
        minute=minute, hour=hour, day_of_week=day_of_week, timezone="Europe/Berlin"
    )
    return PeriodicTask(name=f"c{minute}{hour}{day_of_week}", task="x", crontab=schedule)


@pytest.mark.parametrize(
    ("task", "english", "german"),
    [
        (lambda: _interval(60), "every minute", "jede Minute"),
        (lambda: _interval(300), "every 5 minutes", "alle 5 Minuten"),
        (lambda: _interval(30), "every 30 seconds", "alle 30 Sekunden"),
        (lambda: _interval(3600), "hourly", "stündlich"),
        (lambda: _interval(2, IntervalSchedule.HOURS), "every 2 hours", "alle 2 Stunden"),
        (lambda: _interval(86400), "daily", "täglich"),
        (lambda: _cron("30", "2"), "daily at 02:30", "täglich um 02:30"),
        (lambda: _cron("*/5", "*"), "crontab */5 * * * *", "Crontab */5 * * * *"),
    ],
)
def test_schedule_rows_read_as_words(task, english, german) -> None:  # type: ignore[no-untyped-def]
    row = task()
    with translation.override("en"):
        assert schedule_text(row) == english
    with translation.override("de"):
        assert schedule_text(row) == german


def test_the_next_run_of_a_nightly_job_is_shown_at_its_minute() -> None:
    row = _cron("30", "2")
    row.enabled = True
    now = timezone.now()
    row.last_run_at = now - timedelta(minutes=1)
    local = timezone.localtime(next_run_at(row, now))
    assert (local.hour, local.minute, local.second) == (2, 30, 0), local
