"""The job runner: records, progress, failures, the lock, the watchdog, a broker that is down."""

from __future__ import annotations

import os
import socket
import threading
import time
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone, translation

from stammkunde.core.errors import ApplicationError
from stammkunde.core.jobs import services
from stammkunde.core.jobs.models import Job
from stammkunde.core.jobs.registry import JobContext, job_kind

pytestmark = pytest.mark.django_db

CALLS: list[dict[str, Any]] = []


@job_kind("tests.count", label="count to n")
def count_job(ctx: JobContext, n: int = 3) -> dict[str, int]:
    for i in range(n):
        ctx.progress(done=i + 1, total=n, message=f"step {i + 1}")
    CALLS.append({"n": n})
    return {"counted": n}


@job_kind("tests.boom", label="fails")
def boom_job(ctx: JobContext) -> None:
    CALLS.append({"boom": True})
    raise ValueError("the disk is full")


@job_kind("tests.unrecorded", label="no row", record=False)
def unrecorded_job(ctx: JobContext, value: int) -> None:
    CALLS.append({"value": value})


@pytest.fixture(autouse=True)
def _calls() -> None:
    CALLS.clear()


def _start(kind: str, capture: Any, **kwargs: Any) -> Job:
    with capture(execute=True):
        job = services.job_start(kind=kind, **kwargs)
    assert job is not None
    job.refresh_from_db()
    return job


def test_a_job_records_who_started_it_progress_duration_and_result(
    admin, django_capture_on_commit_callbacks
) -> None:
    job = _start("tests.count", django_capture_on_commit_callbacks, params={"n": 4}, user=admin)
    assert job.status == Job.Status.DONE
    assert job.started_by == admin
    assert job.trigger == Job.Trigger.USER
    assert (job.progress_done, job.progress_total, job.progress_message) == (4, 4, "step 4")
    assert job.result == {"counted": 4}
    assert job.duration is not None and job.duration >= timedelta(0)
    assert job.worker == f"{socket.gethostname()}:{os.getpid()}"


def test_a_failing_job_is_marked_failed_with_its_error_and_is_not_retried(
    django_capture_on_commit_callbacks,
) -> None:
    job = _start("tests.boom", django_capture_on_commit_callbacks)
    assert job.status == Job.Status.FAILED
    assert job.error == "ValueError: the disk is full"
    assert "raise ValueError" in job.traceback
    assert CALLS == [{"boom": True}]


def test_a_job_is_dispatched_only_after_the_callers_transaction_commits(
    django_capture_on_commit_callbacks,
) -> None:
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        job = services.job_start(kind="tests.count")
    assert job is not None and job.status == Job.Status.QUEUED
    assert CALLS == []
    assert len(callbacks) == 1


def test_a_job_that_is_still_running_is_not_started_twice(
    django_capture_on_commit_callbacks,
) -> None:
    running = Job.objects.create(
        kind="tests.count",
        lock_key="tests.count",
        status=Job.Status.RUNNING,
        worker=f"{socket.gethostname()}:{os.getpid()}",
        started_at=timezone.now(),
        heartbeat_at=timezone.now(),
    )
    with django_capture_on_commit_callbacks(execute=True):
        again = services.job_start(kind="tests.count")
    assert again == running
    assert getattr(again, "deduplicated", False)
    assert CALLS == []
    assert Job.objects.filter(kind="tests.count").count() == 1


def test_the_same_kind_with_other_parameters_may_run_alongside(
    django_capture_on_commit_callbacks,
) -> None:
    Job.objects.create(kind="tests.count", lock_key="tests.count", status=Job.Status.RUNNING)
    job = _start("tests.count", django_capture_on_commit_callbacks, params={"n": 1})
    assert job.status == Job.Status.DONE


def test_the_lock_of_a_crashed_worker_is_released_and_the_job_starts(
    django_capture_on_commit_callbacks,
) -> None:
    # given: a job whose worker process on this host is gone (a pid that cannot exist)
    dead = Job.objects.create(
        kind="tests.count",
        lock_key="tests.count",
        status=Job.Status.RUNNING,
        worker=f"{socket.gethostname()}:4194999",
        started_at=timezone.now(),
        heartbeat_at=timezone.now(),
    )
    # when
    job = _start("tests.count", django_capture_on_commit_callbacks)
    # then
    dead.refresh_from_db()
    assert dead.status == Job.Status.FAILED
    assert "4194999 stopped" in dead.error
    assert job.pk != dead.pk and job.status == Job.Status.DONE


def test_the_watchdog_fails_a_job_without_sign_of_life_past_its_timeout() -> None:
    long_ago = timezone.now() - timedelta(hours=2)
    silent = Job.objects.create(
        kind="tests.count",
        lock_key="tests.count",
        status=Job.Status.RUNNING,
        worker="other-host:12",
        started_at=long_ago,
        heartbeat_at=long_ago,
    )
    alive = Job.objects.create(
        kind="tests.count",
        lock_key="tests.count:other",
        status=Job.Status.RUNNING,
        worker="other-host:13",
        started_at=long_ago,
        heartbeat_at=timezone.now(),
    )
    assert services.jobs_watchdog() == 1
    silent.refresh_from_db()
    alive.refresh_from_db()
    assert silent.status == Job.Status.FAILED and "No sign of life" in silent.error
    assert alive.status == Job.Status.RUNNING


def test_a_broker_that_is_down_leaves_the_job_recorded_as_not_sent_and_retryable(
    settings, broker_at, django_capture_on_commit_callbacks
) -> None:
    # given: a broker address where nothing listens
    broker_at("redis://127.0.0.1:1/0")
    with translation.override("en"):  # the error is stored in the language of the request
        started = time.monotonic()
        with django_capture_on_commit_callbacks(execute=True):
            job = services.job_start(kind="tests.count", params={"n": 2})
        assert job is not None
        job.refresh_from_db()
        # then: the request is kept, with a clear error, quickly
        assert job.status == Job.Status.NOT_SENT
        assert "not reachable" in job.error
        assert time.monotonic() - started < 15
        assert CALLS == []
    # when the broker is back (here: the embedded runner), a retry runs the same request
    settings.CELERY_BROKER_URL = ""
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.JOBS_INLINE = True
    with django_capture_on_commit_callbacks(execute=True):
        retried = services.job_retry(job=job)
    assert retried is not None
    retried.refresh_from_db()
    assert retried.status == Job.Status.DONE and retried.retry_of == job
    assert retried.result == {"counted": 2}


@pytest.mark.django_db(transaction=True)
def test_the_ui_and_cli_entry_point_refuses_clearly_when_the_broker_is_down(broker_at) -> None:
    broker_at("redis://127.0.0.1:1/0")
    with pytest.raises(ApplicationError) as refused:
        services.job_start_checked(kind="tests.count", params={"n": 2})
    assert refused.value.code == "broker_unavailable"
    assert Job.objects.get(kind="tests.count").status == Job.Status.NOT_SENT


def test_a_kind_without_a_row_is_only_dispatched(django_capture_on_commit_callbacks) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        assert services.job_start(kind="tests.unrecorded", params={"value": 7}) is None
    assert CALLS == [{"value": 7}]
    assert not Job.objects.filter(kind="tests.unrecorded").exists()


def test_calling_the_kinds_celery_task_runs_it_with_a_row() -> None:
    assert count_job.delay(n=2).get() == {"counted": 2}
    job = Job.objects.get(kind="tests.count")
    assert job.status == Job.Status.DONE and job.trigger == Job.Trigger.SYSTEM


def test_an_unknown_kind_is_refused_with_the_known_ones() -> None:
    with pytest.raises(KeyError, match="tests.count"):
        services.job_start(kind="tests.nope")


@pytest.mark.django_db(transaction=True)
def test_without_a_broker_a_job_runs_in_a_thread_and_the_caller_returns_at_once(
    settings,
) -> None:
    # given: the embedded default (no broker, not inline)
    settings.JOBS_INLINE = False
    gate = threading.Event()

    @job_kind("tests.waits", label="waits")
    def waits(ctx: JobContext) -> str:
        gate.wait(10)
        return threading.current_thread().name

    job = services.job_start(kind="tests.waits")
    assert job is not None
    # then: the caller has its answer while the job still waits
    assert Job.objects.get(pk=job.pk).status in (Job.Status.QUEUED, Job.Status.RUNNING)
    gate.set()
    deadline = time.monotonic() + 10
    while Job.objects.get(pk=job.pk).status != Job.Status.DONE and time.monotonic() < deadline:
        time.sleep(0.05)
    job.refresh_from_db()
    assert job.status == Job.Status.DONE
    assert job.result.startswith("stammkunde-job")
