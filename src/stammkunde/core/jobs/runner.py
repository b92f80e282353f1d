"""Where a job runs: inline (tests), a thread of this process (embedded), a Celery worker.

``run_mode()`` decides once per call from the settings:

* ``celery`` when ``CELERY_BROKER_URL`` is set: the web process only records
  and sends; workers run jobs.
* ``inline`` when ``JOBS_INLINE`` is set (the test suite): right in the
  on-commit callback.
* ``thread`` otherwise (the embedded default): a small pool of threads in this
  process, so the page returns at once.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from django.conf import settings
from django.db import close_old_connections, connection
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import Job
from .registry import JobContext, JobKind

log = logging.getLogger(__name__)

_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def run_mode() -> str:
    """``celery``, ``inline`` or ``thread`` (see the module docstring)."""
    if settings.CELERY_BROKER_URL and not settings.CELERY_TASK_ALWAYS_EAGER:
        return "celery"
    if getattr(settings, "JOBS_INLINE", False):
        return "inline"
    return "thread"


def _thread_pool() -> ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(
                max_workers=int(getattr(settings, "JOBS_THREADS", 2)),
                thread_name_prefix="stammkunde-job",
            )
        return _pool


def _in_thread(func: Any, *args: Any) -> None:
    close_old_connections()
    try:
        func(*args)
    except Exception:  # a thread has nobody to raise to
        log.exception("background job crashed")
    finally:
        connection.close()


def _publish_options() -> dict[str, Any]:
    # Fail fast when the broker is down: the row is marked "not sent" and can be retried.
    return {
        "retry": True,
        "retry_policy": {
            "max_retries": 1,
            "interval_start": 0,
            "interval_step": 0.5,
            "interval_max": 0.5,
        },
    }


def dispatch(job_id: int) -> None:
    """Hand a recorded job to whoever runs jobs; a broker that is down leaves it ``not_sent``."""
    from .services import job_execute

    mode = run_mode()
    if mode == "inline":
        job_execute(job_id)
    elif mode == "thread":
        _thread_pool().submit(_in_thread, job_execute, job_id)
    else:
        from .tasks import jobs_run

        try:
            jobs_run.apply_async(args=[job_id], **_publish_options())
        except Exception as exc:  # kombu raises several kinds; all mean "not sent"
            log.warning("job %s not sent: %s", job_id, exc)
            Job.objects.filter(pk=job_id, status=Job.Status.QUEUED).update(
                status=Job.Status.NOT_SENT,
                error=_("The job queue (broker) is not reachable: %(error)s")
                % {"error": str(exc)[:500]},
                finished_at=timezone.now(),
            )
            from .services import failed_notice_reset

            failed_notice_reset()


def dispatch_unrecorded(kind: JobKind, params: dict[str, Any]) -> None:
    """Run a kind without a row (its own rows record attempts; a scheduled run catches up)."""
    mode = run_mode()
    if mode == "inline":
        kind.func(JobContext(), **params)
    elif mode == "thread":
        _thread_pool().submit(_in_thread, lambda: kind.func(JobContext(), **params))
    else:
        try:
            kind.task.apply_async(kwargs=params, **_publish_options())
        except Exception:  # the scheduled run of the same work picks it up
            log.warning(
                "could not send %s; its scheduled run picks it up", kind.name, exc_info=True
            )


def broker_check(timeout: float = 2.0) -> tuple[bool, str]:
    """Whether the broker answers: ``(ok, detail)``; without a broker ``(True, "none")``."""
    if run_mode() != "celery":
        return True, "none"
    from stammkunde.celery import app

    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=timeout)
    except Exception as exc:  # any transport error means "down"
        return False, str(exc)[:200]
    return True, "ok"


def tasks_fan_out(task_name: str, arg_tuples: Iterable[tuple[Any, ...]]) -> None:
    """Send one Celery task per argument tuple as one group, by the task's registered name.

    A service that splits its work into parallel pieces (analytics scoring
    chunks) sends them through here instead of importing its own ``tasks``
    module: tasks call services, never the reverse. Eager mode (no broker)
    runs them right here, one after the other.
    """
    from celery import group, signature

    from .registry import kinds_load

    kinds_load()  # the task must be registered before an eager run looks it up
    group(signature(task_name, args=args) for args in arg_tuples).apply_async()
