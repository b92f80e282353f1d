"""/health/: the database, the broker and the schedule, cheap and without personal data.

Runs on SQLite and PostgreSQL (CI); the broker tests use a closed port and the local Redis.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from stammkunde.core.jobs.models import Job
from stammkunde.core.jobs.registry import kinds_scheduled

from ..conftest import require
from .conftest import REDIS_URL, _redis_answers

pytestmark = pytest.mark.django_db


@pytest.fixture
def fresh_schedule() -> None:
    """Every beat row was just set up, so no job is overdue yet."""
    PeriodicTask.objects.update(date_changed=timezone.now())


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _done(kind: str, finished_ago: timedelta, **extra: Any) -> Job:
    finished = timezone.now() - finished_ago
    return Job.objects.create(
        kind=kind,
        status=Job.Status.DONE,
        started_at=finished - timedelta(seconds=1),
        finished_at=finished,
        **extra,
    )


def test_embedded_default_is_ok_and_says_the_broker_is_not_used(client, fresh_schedule) -> None:
    response = client.get("/health/")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"] == "ok"
    assert body["broker"] == "not used"
    assert body["overdue"] == []
    assert set(body["schedule"]) >= {k.name for k in kinds_scheduled()}
    assert response["Cache-Control"].startswith("max-age=0")


def test_reports_the_last_successful_run_of_each_scheduled_job(client, fresh_schedule) -> None:
    ok = _done("service.sla_escalate", timedelta(seconds=30))
    Job.objects.create(kind="service.sla_escalate", status=Job.Status.FAILED, error="boom")
    body = client.get("/health/").json()
    entry = body["schedule"]["service.sla_escalate"]
    assert entry == {"last_success": ok.finished_at.isoformat(), "overdue": False}
    assert body["schedule"]["channels.mail_poll"]["last_success"] is None


def test_an_overdue_job_makes_the_answer_degraded_but_still_200(client, fresh_schedule) -> None:
    # the SLA escalation runs every minute; its last success is two hours old
    _done("service.sla_escalate", timedelta(hours=2))
    response = client.get("/health/")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded"
    assert body["overdue"] == ["service.sla_escalate"]
    assert body["schedule"]["service.sla_escalate"]["overdue"] is True


def test_a_job_that_never_ran_is_overdue_once_its_row_is_old(client, fresh_schedule) -> None:
    PeriodicTask.objects.filter(name="channels.mail_poll").update(
        date_changed=timezone.now() - timedelta(hours=1)
    )
    body = client.get("/health/").json()
    assert body["status"] == "degraded"
    assert body["overdue"] == ["channels.mail_poll"]


def test_a_job_switched_off_is_never_overdue(client, fresh_schedule) -> None:
    _done("service.sla_escalate", timedelta(days=3))
    PeriodicTask.objects.filter(name="service.sla_escalate").update(enabled=False)
    body = client.get("/health/").json()
    assert body["status"] == "ok"
    assert body["schedule"]["service.sla_escalate"]["enabled"] is False
    assert body["schedule"]["service.sla_escalate"]["overdue"] is False


def test_broker_down_is_degraded_and_answers_quickly(client, settings, fresh_schedule) -> None:
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{_closed_port()}/0"
    started = time.monotonic()
    response = client.get("/health/")
    elapsed = time.monotonic() - started
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded"
    assert body["broker"] == "down"
    assert body["overdue"] == []
    assert elapsed < 3


def test_broker_that_answers_is_ok(client, settings, fresh_schedule) -> None:
    require(_redis_answers(REDIS_URL), f"Redis at {REDIS_URL} is not reachable")
    settings.CELERY_BROKER_URL = REDIS_URL
    body = client.get("/health/").json()
    assert body["broker"] == "ok"
    assert body["status"] == "ok"


def test_queries_do_not_grow_with_the_number_of_jobs(client, fresh_schedule) -> None:
    kinds = [k.name for k in kinds_scheduled()]
    with CaptureQueriesContext(connection) as before:
        client.get("/health/")
    for name in kinds:
        for minutes in (1, 2, 3):
            _done(name, timedelta(minutes=minutes))
        Job.objects.create(kind=name, status=Job.Status.FAILED, error="x")
    with CaptureQueriesContext(connection) as after:
        client.get("/health/")
    assert len(after.captured_queries) == len(before.captured_queries)
    assert len(after.captured_queries) <= 4  # database ping, beat rows, last runs, successes


def test_the_answer_holds_no_personal_data(client, make_user, fresh_schedule) -> None:
    user = make_user("admin", email="erika.mustermann@example.de")
    _done("analytics.score", timedelta(minutes=1), started_by=user, params={"shop": "x"})
    content = client.get("/health/").content.decode()
    assert user.username not in content
    assert "erika" not in content
    assert "shop" not in content


def test_database_down_is_503() -> None:
    # a process whose database is a closed port: the view must say 503, not crash
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:{_closed_port()}/none",
        "ALLOWED_HOSTS": "testserver",
        "CELERY_BROKER_URL": "",
    }
    code = (
        "import django, os, json\n"
        "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'stammkunde.settings')\n"
        "django.setup()\n"
        "from django.test import Client\n"
        "r = Client().get('/health/')\n"
        "print(r.status_code, json.loads(r.content)['status'], json.loads(r.content)['broker'])\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["503", "error", "not", "used"]
