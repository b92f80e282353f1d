"""Imports and exports run as jobs of the one runner: progress, a dead worker, a broker down."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from stammkunde.core.jobs.models import Job
from stammkunde.core.jobs.services import job_retry, jobs_watchdog, worker_id
from stammkunde.customers.models import Customer
from stammkunde.customers.services import customer_create
from stammkunde.dataio.models import ExportJob, ImportJob
from stammkunde.dataio.services import exports
from stammkunde.dataio.services.import_jobs import import_job_create, import_job_enqueue

from .conftest import EXAMPLES

CLOSED_PORT_BROKER = "redis://127.0.0.1:1/0"  # nothing listens on port 1


def _import_row(**extra: Any) -> ImportJob:
    path = EXAMPLES / "kunden.xlsx"
    return import_job_create(
        actor=None,
        kind="customers",
        file_name=path.name,
        path=str(path),
        mode=ImportJob.Mode.GOOD_ROWS,
        **extra,
    )


def _dead_worker() -> str:
    """``host:pid`` of a process that has exited."""
    process = subprocess.Popen(["true"])
    process.wait()
    return f"{worker_id().rpartition(':')[0]}:{process.pid}"


@pytest.mark.django_db
def test_an_import_runs_as_a_runner_job_with_the_imports_progress(
    django_capture_on_commit_callbacks,
) -> None:
    job = _import_row()
    # when
    with django_capture_on_commit_callbacks(execute=True):
        run = import_job_enqueue(job)
    # then
    assert run is not None and run.kind == "dataio.import_run"
    run.refresh_from_db()
    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE and job.rows_created > 0
    assert run.status == Job.Status.DONE, run.error
    assert run.params == {"job_id": job.pk}
    assert run.progress_done == run.progress_total == job.rows_read
    assert run.result["created"] == job.rows_created == Customer.objects.count()


@pytest.mark.django_db
def test_a_large_export_runs_as_a_runner_job_with_rows_as_progress(
    agent, monkeypatch, django_capture_on_commit_callbacks
) -> None:
    for name in ("Albers", "Berger", "Claasen"):
        customer_create(actor=None, last_name=name)
    monkeypatch.setattr(exports, "INLINE_LIMIT", 2)
    # when
    with django_capture_on_commit_callbacks(execute=True):
        job = exports.export_create(actor=agent, kind="customers", file_format="csv", filters={})
    # then
    job.refresh_from_db()
    run = Job.objects.get(kind="dataio.export_run")
    assert job.status == ExportJob.Status.DONE and job.rows == 3
    assert (run.status, run.progress_done, run.progress_total) == (Job.Status.DONE, 3, 3)
    assert run.started_by == agent


@pytest.mark.django_db
def test_the_watchdog_fails_the_import_whose_worker_died() -> None:
    # given: an import that a worker was running when its process died
    job = _import_row()
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportJob.Status.RUNNING, started_at=timezone.now()
    )
    run = Job.objects.create(
        kind="dataio.import_run",
        params={"job_id": job.pk},
        status=Job.Status.RUNNING,
        started_at=timezone.now(),
        heartbeat_at=timezone.now(),
        worker=_dead_worker(),
    )
    # when
    assert jobs_watchdog() == 1
    # then: the runner's job and the import both failed, with the reason
    run.refresh_from_db()
    job.refresh_from_db()
    assert run.status == Job.Status.FAILED
    assert job.status == ImportJob.Status.FAILED and job.is_finished
    assert "stopped while the job was running" in job.message
    assert job.finished_at is not None


@pytest.mark.django_db
def test_the_watchdog_fails_the_export_whose_worker_fell_silent(agent) -> None:
    # given: an export whose worker (on another host) gave no sign of life for an hour
    job = ExportJob.objects.create(
        kind="customers", file_format="csv", status=ExportJob.Status.RUNNING, created_by=agent
    )
    long_ago = timezone.now() - timedelta(hours=1)
    Job.objects.create(
        kind="dataio.export_run",
        params={"job_id": job.pk},
        status=Job.Status.RUNNING,
        started_at=long_ago,
        heartbeat_at=long_ago,
        worker="elsewhere:1234",
    )
    # when
    assert jobs_watchdog() == 1
    # then
    job.refresh_from_db()
    assert job.status == ExportJob.Status.FAILED
    assert "No sign of life from worker elsewhere:1234" in job.message


@pytest.mark.django_db
def test_a_finished_import_keeps_its_outcome_when_its_run_fails_later() -> None:
    job = _import_row()
    ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.DONE, message="12 rows")
    Job.objects.create(
        kind="dataio.import_run",
        params={"job_id": job.pk},
        status=Job.Status.RUNNING,
        started_at=timezone.now(),
        worker=_dead_worker(),
    )
    assert jobs_watchdog() == 1
    job.refresh_from_db()
    assert (job.status, job.message) == (ImportJob.Status.DONE, "12 rows")


@pytest.fixture
def broker_down(settings: Any) -> Iterator[Any]:
    """Jobs go to a broker that does not answer; ``back()`` returns to inline jobs."""
    from stammkunde.celery import app

    old = (app.conf.broker_url, app.conf.task_always_eager)

    def reset_pools() -> None:
        app._pool = None
        app.amqp._producer_pool = None

    def back() -> None:
        settings.CELERY_BROKER_URL = ""
        settings.CELERY_TASK_ALWAYS_EAGER = True
        settings.JOBS_INLINE = True
        app.conf.broker_url, app.conf.task_always_eager = old
        reset_pools()

    settings.CELERY_BROKER_URL = CLOSED_PORT_BROKER
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.JOBS_INLINE = False
    app.conf.broker_url = CLOSED_PORT_BROKER
    app.conf.task_always_eager = False
    reset_pools()
    yield back
    back()


def _upload(client: Any, name: str) -> Any:
    content = (EXAMPLES / name).read_bytes()
    data = {"file": SimpleUploadedFile(name, content), "kind": "customers", "mode": "good-rows"}
    return client.post("/dataio/", data, follow=True)


@pytest.mark.django_db(transaction=True)
def test_an_import_while_the_broker_is_down_is_kept_and_can_be_started_again(
    admin, client, broker_down, settings, tmp_path: Path
) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"
    client.force_login(admin)
    # when: an upload while the job queue does not answer
    page = _upload(client, "kunden.xlsx")
    # then: a clear message, the import waits, its run is recorded as not sent
    job = ImportJob.objects.get()
    content = page.content.decode()
    assert page.status_code == 200
    assert "Die Job-Warteschlange ist nicht erreichbar" in content
    assert "Erneut starten" in content and 'hx-trigger="every 1s"' not in content
    assert job.status == ImportJob.Status.PENDING and Path(job.file_path).exists()
    run = Job.objects.get(kind="dataio.import_run")
    assert run.status == Job.Status.NOT_SENT and run.params == {"job_id": job.pk}
    assert Customer.objects.count() == 0
    # and when: the queue is back and the user starts it again
    broker_down()
    page = client.post(f"/dataio/jobs/{job.pk}/start/", follow=True)
    # then it ran
    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE and job.rows_created == Customer.objects.count() > 0
    assert "Erneut starten" not in page.content.decode()
    assert Job.objects.filter(kind="dataio.import_run", status=Job.Status.DONE).count() == 1


@pytest.mark.django_db(transaction=True)
def test_an_export_while_the_broker_is_down_is_kept_and_can_be_retried_on_the_jobs_page(
    admin, client, broker_down, monkeypatch, settings, tmp_path: Path
) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"
    monkeypatch.setattr(exports, "INLINE_LIMIT", 0)
    customer_create(actor=None, last_name="Albers")
    client.force_login(admin)
    # when
    page = client.post("/dataio/exports/", {"kind": "customers", "file_format": "csv"}, follow=True)
    # then
    content = page.content.decode()
    assert "Die Job-Warteschlange ist nicht erreichbar" in content
    assert f"/dataio/exports/{ExportJob.objects.get().pk}/start/" in content
    job = ExportJob.objects.get()
    assert job.status == ExportJob.Status.PENDING
    run = Job.objects.get(kind="dataio.export_run")
    assert run.status == Job.Status.NOT_SENT
    # and when: an admin retries the unsent job from the jobs page once the queue is back
    broker_down()
    job_retry(job=run, user=admin)
    # then the export is written
    job.refresh_from_db()
    assert job.status == ExportJob.Status.DONE and job.rows == 1 and Path(job.file_path).exists()


@pytest.mark.django_db(transaction=True)
def test_in_the_embedded_default_an_upload_runs_in_a_thread_and_the_page_shows_it(
    admin, client, settings, tmp_path: Path
) -> None:
    # given: no broker and no inline jobs, as `make run` serves
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.JOBS_INLINE = False
    settings.CELERY_BROKER_URL = ""
    client.force_login(admin)
    # when
    response = _upload(client, "kunden.xlsx")
    # then: the page came back at once and the runner's thread finishes the import
    assert response.status_code == 200
    job = ImportJob.objects.get()
    deadline = time.monotonic() + 60
    while not ImportJob.objects.get(pk=job.pk).is_finished:
        assert time.monotonic() < deadline, "import still not finished"
        time.sleep(0.2)
    job.refresh_from_db()
    run = Job.objects.get(kind="dataio.import_run")
    assert job.status == ImportJob.Status.DONE and job.rows_created > 0
    deadline = time.monotonic() + 10
    while not Job.objects.get(pk=run.pk).is_finished:  # the runner writes its row last
        assert time.monotonic() < deadline
        time.sleep(0.1)
    run.refresh_from_db()
    assert run.status == Job.Status.DONE and run.worker.endswith(f":{os.getpid()}")
    assert run.started_by == admin
