"""Reads of the job runner: the schedule with its last outcomes, running jobs, history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.core.cache import cache
from django.db.models import F, QuerySet, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from .models import Job
from .registry import JobKind, kind_get, kinds_all


def failed_unacknowledged_count() -> int:
    """How many failed (or unsent) jobs nobody has acknowledged yet."""
    return Job.objects.filter(
        status__in=(Job.Status.FAILED, Job.Status.NOT_SENT), acknowledged_at__isnull=True
    ).count()


FAILED_COUNT_KEY = "stammkunde:jobs:failed-count"


def failed_notice_count() -> int:
    """:func:`failed_unacknowledged_count`, cached for 30 s (shown on every admin page)."""
    count = cache.get(FAILED_COUNT_KEY)
    if count is None:
        count = failed_unacknowledged_count()
        cache.set(FAILED_COUNT_KEY, count, timeout=30)
    return int(count)


def jobs_running() -> QuerySet[Job]:
    """Queued and running jobs, oldest first."""
    return Job.objects.filter(status__in=Job.ACTIVE).select_related("started_by").order_by("id")


def jobs_history(*, kind: str | None = None, status: str | None = None) -> QuerySet[Job]:
    """Finished jobs, newest first (filter by kind or status)."""
    rows = Job.objects.exclude(status__in=Job.ACTIVE).select_related("started_by")
    if kind:
        rows = rows.filter(kind=kind)
    if status:
        rows = rows.filter(status=status)
    return rows


def jobs_failed_open() -> QuerySet[Job]:
    """Failed jobs not acknowledged yet, newest first."""
    return Job.objects.filter(
        status__in=(Job.Status.FAILED, Job.Status.NOT_SENT), acknowledged_at__isnull=True
    ).select_related("started_by")


@dataclass(frozen=True)
class Progress:
    done: int
    total: int | None
    message: str

    @property
    def fraction(self) -> float | None:
        if not self.total:
            return None
        return min(1.0, self.done / self.total)

    @property
    def percent(self) -> int | None:
        fraction = self.fraction
        return None if fraction is None else round(100 * fraction)


def job_progress(job: Job) -> Progress:
    """The freshest progress of a job: the cache while it runs, else its row."""
    if job.status == Job.Status.RUNNING:
        cached = cache.get(f"stammkunde:jobs:progress:{job.pk}")
        if cached:
            return Progress(cached["done"], cached["total"], cached["message"])
    done = job.progress_done
    if job.status == Job.Status.DONE and job.progress_total:
        done = job.progress_total
    return Progress(done, job.progress_total, job.progress_message)


def kind_label(name: str) -> str:
    """The human label of a kind (its name when the kind is no longer registered)."""
    try:
        return str(kind_get(name).label)
    except KeyError:
        return name


@dataclass
class ScheduledJob:
    kind: JobKind
    task: Any  # django_celery_beat.models.PeriodicTask
    next_run_at: datetime | None
    last_job: Job | None
    last_success: Job | None
    overdue: bool


def _grace(kind: JobKind) -> timedelta:
    return max(timedelta(minutes=5), kind.timeout)


def _latest_per_kind(rows: QuerySet[Job], order: Any) -> QuerySet[Job]:
    """The first row of each kind in ``order``, in one query (a window function)."""
    return (
        rows.annotate(rank=Window(RowNumber(), partition_by=F("kind"), order_by=[order, "-id"]))
        .filter(rank=1)
        .select_related("started_by")
        .order_by()
    )


def schedule_overview(now: datetime | None = None) -> list[ScheduledJob]:
    """Each scheduled row with its kind, next run, last run and last success, and overdue flag.

    A job is overdue when its last success (or, if it never succeeded, the
    time its row was last changed) is so old that a run should have finished
    more than a grace period ago (its timeout, at least five minutes).
    """
    from django_celery_beat.models import PeriodicTask

    from .schedule import next_run_at

    now = now or timezone.now()
    kinds = {k.name: k for k in kinds_all()}
    tasks = (
        PeriodicTask.objects.filter(task__in=kinds)
        .select_related("interval", "crontab", "solar", "clocked")
        .order_by("name")
    )
    # One query each for the last run and the last success of every kind (no query per kind).
    finished = Job.objects.filter(kind__in=kinds).exclude(status__in=Job.ACTIVE)
    last_jobs = {job.kind: job for job in _latest_per_kind(finished, F("id").desc())}
    last_ok = {
        job.kind: job
        for job in _latest_per_kind(
            finished.filter(status=Job.Status.DONE), F("finished_at").desc(nulls_last=True)
        )
    }
    overview = []
    for task in tasks:
        kind = kinds[task.task]
        success = last_ok.get(task.task)
        reference = success.finished_at if success and success.finished_at else task.date_changed
        overdue = False
        if task.enabled and reference is not None and task.scheduler is not None:
            try:
                due_at = now + task.schedule.remaining_estimate(reference)
            except Exception:
                due_at = None
            overdue = due_at is not None and now - due_at > _grace(kind)
        overview.append(
            ScheduledJob(
                kind=kind,
                task=task,
                next_run_at=next_run_at(task, now),
                last_job=last_jobs.get(task.task),
                last_success=success,
                overdue=overdue,
            )
        )
    return overview


def job_latest(*, kind: str) -> Job | None:
    """The newest job of ``kind`` (running or finished), for a page that started it."""
    return Job.objects.filter(kind=kind).order_by("-id").first()
