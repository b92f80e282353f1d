"""The job runner on the command line: `stammkunde jobs run` and `stammkunde analytics score`.

Both record a Job, show a tqdm bar fed by the job's progress and exit non-zero
(CommandError) with a clear message when the job cannot run or fails.
"""

from __future__ import annotations

import io
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction
from django.utils import timezone

from stammkunde.analytics.orm import ModelRun
from stammkunde.core.jobs import services
from stammkunde.core.jobs.models import Job
from stammkunde.demo.generator import demo_generate

pytestmark = pytest.mark.django_db

AS_OF = "2026-06-30"


class _Terminal(io.StringIO):
    """A stderr that says it is a terminal, so tqdm (``disable=None``) draws its bar."""

    def isatty(self) -> bool:
        return True


@contextmanager
def _on_a_terminal() -> Iterator[_Terminal]:
    """sys.stderr is a terminal while the block runs (pytest resets sys.stderr per phase)."""
    term, stderr = _Terminal(), sys.stderr
    sys.stderr = term
    try:
        yield term
    finally:
        sys.stderr = stderr


@pytest.fixture
def shop() -> None:
    demo_generate(customers=400, seed=5, end=datetime(2026, 6, 30, 23, 59, 59, tzinfo=UTC))


@pytest.fixture
def dispatch_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    # The test's transaction defers on_commit; a command outside one dispatches at once.
    monkeypatch.setattr(transaction, "on_commit", lambda func, *a, **k: func())


def _run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def _holder(trigger: str) -> Job:
    """A scoring run that is running right now in a live process (this one)."""
    now = timezone.now()
    return Job.objects.create(
        kind="analytics.score",
        status=Job.Status.RUNNING,
        trigger=trigger,
        lock_key="analytics.score",
        worker=services.worker_id(),
        started_at=now,
        heartbeat_at=now,
    )


# `stammkunde jobs run <kind>`


def test_jobs_run_shows_the_progress_and_records_the_job_done(
    shop: None, dispatch_at_once: None
) -> None:
    # when
    with _on_a_terminal() as terminal:
        out = _run(
            "jobs",
            "run",
            "analytics.score",
            "--param",
            f"as_of={AS_OF}",
            "--param",
            "chunk_size=100",
        )
    # then one job was recorded, started from the command line, and is done
    job = Job.objects.get()
    assert (job.kind, job.trigger, job.status) == ("analytics.score", "cli", "done"), job.error
    assert job.params == {"as_of": AS_OF, "chunk_size": 100}
    customers = ModelRun.objects.get(pk=job.result["run"]).n_customers
    assert customers > 100  # several chunks
    assert job.progress_done == job.progress_total == customers
    assert out.startswith(f"job #{job.pk} done in ") and f"'customers': {customers}" in out
    # and the bar followed the job to its end
    bar = terminal.getvalue()
    assert f"analytics.score #{job.pk}" in bar
    assert f"{customers}/{customers}" in bar and "100%" in bar


def test_jobs_run_with_the_broker_down_says_so_and_exits_non_zero(
    broker_at: Any, dispatch_at_once: None
) -> None:
    # given a broker nobody listens on (settings.CELERY_BROKER_URL, not eager)
    broker_at("redis://127.0.0.1:1/0")
    out = StringIO()
    # when
    with pytest.raises(CommandError, match="job queue is not reachable") as failure:
        call_command("jobs", "run", "analytics.score", stdout=out)
    # then the exit code is not zero, nothing claims to be done, and the job is kept to retry
    assert failure.value.returncode != 0
    assert "recorded and can be retried" in str(failure.value)
    assert out.getvalue() == ""
    job = Job.objects.get()
    assert (job.kind, job.trigger, job.status) == ("analytics.score", "cli", "not_sent")
    assert "127.0.0.1:1" in job.error


# `stammkunde analytics score` is a run of the job kind analytics.score


def test_analytics_score_is_a_recorded_job_with_a_progress_bar(
    shop: None,
) -> None:
    # when
    with _on_a_terminal() as terminal:
        out = _run("analytics", "score", "--as-of", AS_OF, "--chunk-size", "100")
    # then the output line is the one it always was
    job = Job.objects.get()
    run = ModelRun.objects.get()
    assert re.fullmatch(
        rf"Scored {run.n_customers} customers as of {AS_OF} in [\d.]+ s \(run {run.pk}\); "
        r"churn AUC [\d.]+, Brier [\d.]+, top-decile lift [\d.]+ on \d+ held-out customers\n",
        out,
    ), out
    # and the run is a job: from the command line, under the kind's lock, in this process
    assert (job.kind, job.trigger, job.status) == ("analytics.score", "cli", "done"), job.error
    assert job.lock_key == "analytics.score"
    assert job.params == {"as_of": AS_OF, "chunk_size": 100}
    assert job.worker == services.worker_id() and job.started_by is None
    assert job.result["run"] == run.pk and job.result["customers"] == run.n_customers
    assert job.progress_done == job.progress_total == run.n_customers
    assert job.finished_at is not None
    # and the bar showed the job's progress
    bar = terminal.getvalue()
    assert f"scoring as of {AS_OF}" in bar
    assert f"{run.n_customers}/{run.n_customers}" in bar and "customers" in bar
    assert job.progress_message and job.progress_message in bar  # the job's own message


@pytest.mark.parametrize("trigger", [Job.Trigger.SCHEDULE, Job.Trigger.USER])
def test_analytics_score_while_another_run_holds_the_lock_says_so_and_exits_non_zero(
    trigger: str,
) -> None:
    # given a scheduled (or page-started) scoring run that is still running
    holder = _holder(trigger)
    # when
    with pytest.raises(CommandError, match=rf"running already \(job #{holder.pk}, ") as busy:
        call_command("analytics", "score", "--as-of", AS_OF)
    # then it exits non-zero, names who holds the lock, and neither records nor scores
    assert busy.value.returncode != 0
    assert f"started by {trigger}" in str(busy.value)
    assert list(Job.objects.values_list("pk", flat=True)) == [holder.pk]
    assert not ModelRun.objects.exists()


def test_a_scheduled_run_is_skipped_while_the_command_line_run_holds_the_lock() -> None:
    # given the command line's run is scoring
    _holder(Job.Trigger.CLI)
    # when beat starts the kind's task
    from stammkunde.analytics.tasks import analytics_score

    result = analytics_score.run(_trigger="schedule")
    # then
    assert result == {"skipped": "already running"}
    assert Job.objects.count() == 1 and not ModelRun.objects.exists()


def test_analytics_score_that_fails_records_the_failure_and_frees_the_lock() -> None:
    # given no shop at all
    with pytest.raises(CommandError, match=r"too few customers.*\(job #\d+ failed\)") as failure:
        call_command("analytics", "score", "--as-of", AS_OF)
    # then
    assert failure.value.returncode != 0
    job = Job.objects.get()
    assert job.status == Job.Status.FAILED and job.trigger == Job.Trigger.CLI
    assert job.error.startswith("ValueError: ") and job.traceback
    assert not Job.objects.filter(status__in=Job.ACTIVE).exists()


def test_scoring_locks_as_a_whole_kind_whatever_its_parameters() -> None:
    # a run for one day and a scheduled run (no parameters) share one lock; other kinds
    # lock per parameters
    from stammkunde.core.jobs.registry import kind_get

    scoring = kind_get("analytics.score")
    assert scoring.lock_key({"as_of": "2026-12-01"}) == scoring.lock_key({}) == "analytics.score"
    export = kind_get("dataio.export_run")
    assert export.lock_key({"export_id": 1}) != export.lock_key({"export_id": 2})
