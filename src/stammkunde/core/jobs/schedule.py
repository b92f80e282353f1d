"""The schedule: registry defaults → django-celery-beat rows, and the in-process scheduler.

The rows in ``django_celery_beat.PeriodicTask`` are the one schedule. After
every ``migrate`` each scheduled kind gets a row if it has none (a row an
admin changed is left alone). In production ``celery beat`` reads the rows
(``DatabaseScheduler``); in the embedded default :class:`InProcessScheduler`
reads the same rows from a thread of the web process.
"""

from __future__ import annotations

import json
import logging
import threading
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import close_old_connections, connection
from django.db.models import F
from django.utils import timezone

from .registry import Cron, Every, JobKind, kinds_scheduled

log = logging.getLogger(__name__)

SCHEDULE_KWARGS = json.dumps({"_trigger": "schedule"})


def _schedule_fields(kind: JobKind) -> dict[str, Any]:
    from django_celery_beat.models import CrontabSchedule, IntervalSchedule

    spec = kind.schedule
    if isinstance(spec, Every):
        interval, _created = IntervalSchedule.objects.get_or_create(
            every=spec.total_seconds, period=IntervalSchedule.SECONDS
        )
        return {"interval": interval}
    assert isinstance(spec, Cron)
    crontab, _created = CrontabSchedule.objects.get_or_create(
        minute=spec.minute,
        hour=spec.hour,
        day_of_week=spec.day_of_week,
        day_of_month=spec.day_of_month,
        month_of_year=spec.month_of_year,
        timezone=settings.TIME_ZONE,
    )
    return {"crontab": crontab}


def schedule_sync() -> list[str]:
    """Give each scheduled kind a beat row unless it has one; return the names created.

    Idempotent: an existing row (perhaps edited or switched off by an admin)
    is not touched.
    """
    from django_celery_beat.models import PeriodicTask

    existing = set(PeriodicTask.objects.values_list("name", flat=True))
    created = []
    for kind in kinds_scheduled():
        if kind.name in existing:
            continue
        PeriodicTask.objects.create(
            name=kind.name,
            task=kind.name,
            kwargs=SCHEDULE_KWARGS,
            description=str(kind.description or kind.label),
            **_schedule_fields(kind),
        )
        created.append(kind.name)
    return created


def schedule_sync_after_migrate(sender: Any = None, **kwargs: Any) -> None:
    """post_migrate receiver: sync once, after the beat tables exist."""
    if getattr(sender, "label", None) != "jobs":
        return
    from django.db import DEFAULT_DB_ALIAS

    if kwargs.get("using", DEFAULT_DB_ALIAS) != DEFAULT_DB_ALIAS:
        return
    schedule_sync()


def next_run_at(task: Any, now: datetime | None = None) -> datetime | None:
    """When beat (or the in-process scheduler) will next start ``task``."""
    if not task.enabled or task.scheduler is None:
        return None
    now = now or timezone.now()
    last = task.last_run_at
    if last is None:
        return now
    try:
        remaining = task.schedule.remaining_estimate(last)
    except Exception:  # an odd row an admin made; show no date rather than fail
        return None
    # Celery's estimate is taken a moment after ``now``: round to the second, so that a
    # job due at 02:30:00 is not shown as 02:29.
    return (now + max(remaining, timedelta(0)) + timedelta(microseconds=500_000)).replace(
        microsecond=0
    )


def _params_of(task: Any) -> dict[str, Any]:
    try:
        params = json.loads(task.kwargs or "{}")
    except ValueError:
        params = {}
    params.pop("_trigger", None)
    return params


def schedule_tick(now: datetime | None = None) -> list[str]:
    """Start every due row's job once; return the kinds started (the scheduler's one step)."""
    from django_celery_beat.models import PeriodicTask

    from .models import Job
    from .registry import kinds_all
    from .services import job_start

    now = now or timezone.now()
    known = {k.name for k in kinds_all()}
    started = []
    rows = PeriodicTask.objects.filter(enabled=True, task__in=known).select_related(
        "interval", "crontab", "solar", "clocked"
    )
    for task in rows:
        if task.expires and task.expires < now:
            continue
        if task.start_time and task.start_time > now:
            continue
        if task.last_run_at is not None:
            try:
                due = task.schedule.is_due(task.last_run_at).is_due
            except Exception:
                log.warning("schedule of %s cannot be read", task.name, exc_info=True)
                continue
            if not due:
                continue
        # Claim the run on the row first, so two schedulers cannot both start it.
        claimed = PeriodicTask.objects.filter(pk=task.pk, last_run_at=task.last_run_at).update(
            last_run_at=now, total_run_count=F("total_run_count") + 1
        )
        if not claimed:
            continue
        if task.one_off:
            PeriodicTask.objects.filter(pk=task.pk).update(enabled=False)
        job_start(kind=task.task, params=_params_of(task), trigger=Job.Trigger.SCHEDULE)
        started.append(task.task)
    return started


class InProcessScheduler(threading.Thread):
    """The embedded default's beat: a daemon thread that ticks every few seconds."""

    def __init__(self, tick_seconds: float | None = None) -> None:
        super().__init__(name="stammkunde-scheduler", daemon=True)
        self.tick_seconds: float = tick_seconds or float(
            getattr(settings, "JOBS_SCHEDULER_TICK_SECONDS", 5)
        )
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.is_set():
            close_old_connections()
            try:
                schedule_tick()
            except Exception:  # keep ticking; the next tick may find the database again
                log.exception("scheduler tick failed")
            finally:
                connection.close()
            self.stopped.wait(self.tick_seconds)

    def stop(self) -> None:
        self.stopped.set()


_scheduler: InProcessScheduler | None = None


def in_process_scheduler_start() -> InProcessScheduler | None:
    """Start the scheduler thread once per process, unless a broker (and so beat) is used."""
    global _scheduler
    from .runner import run_mode

    if run_mode() == "celery":
        return None
    if _scheduler is None or not _scheduler.is_alive():
        _scheduler = InProcessScheduler()
        _scheduler.start()
    return _scheduler
