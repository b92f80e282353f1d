"""Writes of the job runner: start, run, report progress, fail, retry, acknowledge.

Every app starts background work with :func:`job_start`; where it runs
(inline in tests, a thread of this process in the embedded default, a Celery
worker when ``CELERY_BROKER_URL`` is set) is decided in :mod:`.runner`.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import time
import traceback
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from stammkunde.core.errors import ApplicationError

from .models import Job
from .registry import JobContext, JobKind, kind_get

log = logging.getLogger(__name__)

#: How often a running job writes its progress to its row (the cache gets every call).
PROGRESS_WRITE_SECONDS = 2.0


class JobFailed(RuntimeError):
    """A job ran and failed; its row holds the error and traceback."""


def worker_id() -> str:
    """``host:pid`` of this process: which worker runs a job (and whether it still lives)."""
    return f"{socket.gethostname()}:{os.getpid()}"


def progress_cache_key(job_id: int) -> str:
    return f"stammkunde:jobs:progress:{job_id}"


class RowContext(JobContext):
    """Progress of a job with a row: into the cache on every call, into the row every 2 s."""

    def __init__(self, job: Job) -> None:
        self.job_id = job.pk
        self.user = job.started_by if job.started_by_id else None
        self.done = 0
        self.total: int | None = None
        self.message = ""
        self._written = 0.0

    def progress(
        self,
        *,
        done: int | None = None,
        total: int | None = None,
        advance: int = 0,
        message: str | None = None,
    ) -> None:
        if done is not None:
            self.done = int(done)
        self.done += int(advance)
        if total is not None:
            self.total = int(total)
        if message is not None:
            self.message = str(message)[:300]
        cache.set(
            progress_cache_key(self.job_id or 0),
            {"done": self.done, "total": self.total, "message": self.message, "at": time.time()},
            timeout=24 * 3600,
        )
        now = time.monotonic()
        if now - self._written >= PROGRESS_WRITE_SECONDS:
            self._written = now
            self.write()

    def write(self) -> None:
        Job.objects.filter(pk=self.job_id or 0).update(
            progress_done=self.done,
            progress_total=self.total,
            progress_message=self.message,
            heartbeat_at=timezone.now(),
        )


def failed_notice_reset() -> None:
    """Forget the cached count of failed jobs (a job failed or was acknowledged)."""
    from .selectors import FAILED_COUNT_KEY

    cache.delete(FAILED_COUNT_KEY)


def _failed_announce(job_id: int) -> None:
    """Tell the apps that a job failed (hook ``job_failed``), so a row it was working on
    (an import, an export) does not stay "running"; a failing handler is only logged."""
    from stammkunde.core.hooks import hook_run

    job = Job.objects.filter(pk=job_id).first()
    if job is None:
        return
    try:
        hook_run("job_failed", job=job)
    except Exception:
        log.exception("a job_failed handler failed for job %s (%s)", job_id, job.kind)


def _jsonable(value: Any) -> Any:
    try:
        return json.loads(json.dumps(value, cls=DjangoJSONEncoder))
    except (TypeError, ValueError):
        return str(value)


def _job_create(
    kind: JobKind, params: dict[str, Any], *, trigger: str, user: Any, retry_of: Job | None = None
) -> Job | None:
    """Insert a queued row; None when a run with the same lock key is still active."""
    key = kind.lock_key(params)
    for attempt in (1, 2):
        try:
            with transaction.atomic():
                return Job.objects.create(
                    kind=kind.name,
                    params=_jsonable(params),
                    trigger=trigger,
                    started_by=user if getattr(user, "is_authenticated", False) else None,
                    lock_key=key,
                    retry_of=retry_of,
                )
        except IntegrityError:
            # The lock is held; if its holder died, the watchdog check frees it once.
            if attempt == 2 or not jobs_watchdog(lock_key=key):
                return None
    return None  # pragma: no cover - the loop returns


def job_record(*, kind: str, params: dict[str, Any], trigger: str, user: Any = None) -> Job | None:
    """Record a queued run under the kind's lock, for a caller that runs it itself
    (``job_execute``, e.g. a command showing progress); None while another run holds it."""
    return _job_create(kind_get(kind), params, trigger=trigger, user=user)


def job_start(
    *,
    kind: str,
    params: dict[str, Any] | None = None,
    user: Any = None,
    trigger: str = Job.Trigger.USER,
) -> Job | None:
    """Record a job and run it in the background once the caller's transaction commits.

    Returns the job row (refreshed when there was no transaction, so its
    status already says ``not_sent`` when the broker is down). When a job with
    the same kind and parameters is still running, that job is returned with
    ``deduplicated = True`` and nothing new starts. Kinds without a row
    (``record=False``) are only dispatched; then the result is None.
    """
    from . import runner

    job_kind_ = kind_get(kind)
    params = dict(params or {})
    if not job_kind_.record:
        transaction.on_commit(lambda: runner.dispatch_unrecorded(job_kind_, params))
        return None
    job = _job_create(job_kind_, params, trigger=trigger, user=user)
    if job is None:
        existing = (
            Job.objects.filter(lock_key=job_kind_.lock_key(params), status__in=Job.ACTIVE)
            .order_by("-id")
            .first()
        )
        if existing is None:  # finished in between: start anew
            return job_start(kind=kind, params=params, user=user, trigger=trigger)
        existing.deduplicated = True  # type: ignore[attr-defined]
        return existing
    job_id = job.pk
    transaction.on_commit(lambda: runner.dispatch(job_id))
    if not connection.in_atomic_block:
        job.refresh_from_db()
    return job


def job_start_checked(**kwargs: Any) -> Job:
    """:func:`job_start` for the UI and CLI: a job queue that is down is an ApplicationError."""
    job = job_start(**kwargs)
    if job is None:
        raise ApplicationError("This kind of job has no record to show.", code="not_recorded")
    job.refresh_from_db()
    if job.status == Job.Status.NOT_SENT:
        raise ApplicationError(
            "The job queue is not reachable, so the job could not be started. "
            "It has been recorded and can be retried from the jobs page.",
            code="broker_unavailable",
        )
    return job


def job_execute(job_id: int) -> Job:
    """Run a queued job here and now; return its finished row.

    The row is claimed with a conditional UPDATE (``queued → running``), so a
    message delivered twice runs the job once. A job that raises is marked
    failed with its error and traceback and is not retried.
    """
    now = timezone.now()
    claimed = Job.objects.filter(pk=job_id, status=Job.Status.QUEUED).update(
        status=Job.Status.RUNNING, started_at=now, heartbeat_at=now, worker=worker_id()
    )
    job = Job.objects.get(pk=job_id)
    if not claimed:
        return job
    ctx = RowContext(job)
    try:
        kind = kind_get(job.kind)
        if connection.in_atomic_block:
            # Inline run inside a caller's transaction: a savepoint keeps a failure from
            # breaking the caller's transaction, so the row can still be marked failed.
            with transaction.atomic():
                result = kind.func(ctx, **job.params)
        else:
            result = kind.func(ctx, **job.params)
    except Exception as exc:
        log.exception("job %s (%s) failed", job_id, job.kind)
        message = exc.message if isinstance(exc, ApplicationError) else f"{exc}"
        Job.objects.filter(pk=job_id, status=Job.Status.RUNNING).update(
            status=Job.Status.FAILED,
            error=f"{type(exc).__name__}: {message}"[:4000],
            traceback=traceback.format_exc()[-20000:],
            finished_at=timezone.now(),
            progress_done=ctx.done,
            progress_total=ctx.total,
            progress_message=ctx.message,
        )
    else:
        Job.objects.filter(pk=job_id, status=Job.Status.RUNNING).update(
            status=Job.Status.DONE,
            result=_jsonable(result),
            finished_at=timezone.now(),
            progress_done=max(ctx.done, ctx.total or 0),
            progress_total=ctx.total,
            progress_message=ctx.message,
        )
    cache.delete(progress_cache_key(job_id))
    job.refresh_from_db()
    if job.status == Job.Status.FAILED:
        failed_notice_reset()
        _failed_announce(job_id)
    return job


def run_here(*, kind_name: str, params: dict[str, Any], trigger: str) -> Any:
    """Run a kind in this process now (beat and direct task calls land here).

    Recorded kinds get a row and the lock; a run that finds the lock held is
    skipped. A failed run raises :class:`JobFailed` after its row is marked.
    """
    kind = kind_get(kind_name)
    if not kind.record:
        return kind.func(JobContext(), **params)
    job = _job_create(kind, params, trigger=trigger, user=None)
    if job is None:
        log.info("%s is still running; this run is skipped", kind_name)
        return {"skipped": "already running"}
    job = job_execute(job.pk)
    if job.status == Job.Status.FAILED:
        raise JobFailed(f"{kind_name} failed: {job.error}")
    return job.result


def job_retry(*, job: Job, user: Any = None) -> Job | None:
    """Start a failed or unsent job again with the same parameters (a new row)."""
    if job.status not in (Job.Status.FAILED, Job.Status.NOT_SENT):
        raise ApplicationError("Only a failed or unsent job can be retried.", code="not_failed")
    Job.objects.filter(pk=job.pk, acknowledged_at__isnull=True).update(
        acknowledged_at=timezone.now(),
        acknowledged_by=user if getattr(user, "is_authenticated", False) else None,
    )
    failed_notice_reset()
    kind = kind_get(job.kind)
    new = _job_create(kind, job.params, trigger=Job.Trigger.RETRY, user=user, retry_of=job)
    if new is None:
        raise ApplicationError("The same job is running already.", code="running")
    from . import runner

    new_id = new.pk
    transaction.on_commit(lambda: runner.dispatch(new_id))
    if not connection.in_atomic_block:
        new.refresh_from_db()
    return new


def job_acknowledge(*, job: Job, user: Any) -> Job:
    """Mark a failed job as seen, so it no longer shows in the failure notice."""
    Job.objects.filter(pk=job.pk, acknowledged_at__isnull=True).update(
        acknowledged_at=timezone.now(), acknowledged_by=user
    )
    failed_notice_reset()
    job.refresh_from_db()
    return job


def jobs_acknowledge_all(*, user: Any) -> int:
    """Mark every failed job as seen; return how many."""
    count = Job.objects.filter(
        status__in=(Job.Status.FAILED, Job.Status.NOT_SENT), acknowledged_at__isnull=True
    ).update(acknowledged_at=timezone.now(), acknowledged_by=user)
    failed_notice_reset()
    return count


def _last_sign_of_life(job: Job) -> datetime | None:
    signs = [t for t in (job.heartbeat_at, job.started_at) if t is not None]
    cached = cache.get(progress_cache_key(job.pk))
    if cached and cached.get("at"):
        signs.append(datetime.fromtimestamp(cached["at"], tz=timezone.get_current_timezone()))
    return max(signs) if signs else None


def _worker_is_dead(worker: str) -> bool:
    """True when ``worker`` is a process on this host that no longer exists."""
    host, _sep, pid = worker.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def jobs_watchdog(*, lock_key: str | None = None, now: datetime | None = None) -> int:
    """Fail the jobs whose worker died; return how many were failed.

    A running job is dead when its process on this host is gone, or when it
    has given no sign of life (progress or start) for longer than its kind's
    ``timeout``. A queued job that no worker took within
    ``JOBS_QUEUED_TIMEOUT`` seconds (default one hour) is failed too. Failing
    the row releases its lock, so the next scheduled run can start.
    """
    now = now or timezone.now()
    queued_timeout = timedelta(seconds=int(getattr(settings, "JOBS_QUEUED_TIMEOUT", 3600)))
    rows = Job.objects.filter(status__in=Job.ACTIVE)
    if lock_key is not None:
        rows = rows.filter(lock_key=lock_key)
    failed = 0
    for job in rows:
        reason = ""
        if job.status == Job.Status.QUEUED:
            if now - job.created_at > queued_timeout:
                minutes = int(queued_timeout.total_seconds() // 60)
                reason = f"No worker started the job within {minutes} minutes."
        elif job.worker and _worker_is_dead(job.worker):
            reason = f"The worker process {job.worker} stopped while the job was running."
        else:
            try:
                timeout = kind_get(job.kind).timeout
            except KeyError:
                timeout = timedelta(minutes=15)
            last = _last_sign_of_life(job)
            if last is not None and now - last > timeout:
                reason = (
                    f"No sign of life from worker {job.worker or '?'} "
                    f"since {last:%Y-%m-%d %H:%M:%S} (timeout {timeout})."
                )
        if reason and Job.objects.filter(pk=job.pk, status=job.status).update(
            status=Job.Status.FAILED, error=reason, finished_at=now
        ):
            failed += 1
            _failed_announce(job.pk)
    if failed:
        failed_notice_reset()
    return failed


def jobs_purge(*, older_than_days: int = 90) -> int:
    """Delete finished job rows older than ``older_than_days``; return how many."""
    cutoff = timezone.now() - timedelta(days=older_than_days)
    deleted, _per_model = Job.objects.filter(
        status__in=(Job.Status.DONE, Job.Status.FAILED, Job.Status.NOT_SENT),
        created_at__lt=cutoff,
    ).delete()
    return deleted
