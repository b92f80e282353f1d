"""Scale-out on a real Celery worker (two processes): the same results as the eager run.

Needs PostgreSQL and Redis (see ``tests/core/conftest.py``); in CI they must be there.
"""

from __future__ import annotations

import json
import os
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from stammkunde.core.jobs.models import Job
from stammkunde.core.jobs.schedule import SCHEDULE_KWARGS
from stammkunde.core.jobs.services import job_start
from tests.channels import test_imap_dovecot

pytestmark = pytest.mark.slow

# The channels tests' real dovecot (IMAP + LMTP) and a mailbox polling it.
dovecot = test_imap_dovecot.dovecot
mailbox = test_imap_dovecot.mailbox

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"


def _wait_for(job: Job, seconds: float = 240) -> Job:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if job.is_finished:
            return job
        time.sleep(0.5)
    pytest.fail(f"job {job.kind} #{job.pk} still {job.status} after {seconds} s")


def _scores(run_id: int) -> dict[int, tuple[Any, ...]]:
    from stammkunde.analytics.orm import CustomerScore

    return {
        row[0]: tuple(round(v, 6) if isinstance(v, float) else v for v in row[1:])
        for row in CustomerScore.objects.filter(run_id=run_id).values_list(
            "customer_id", "churn_risk", "clv_12m", "p_alive", "value_class", "phase"
        )
    }


@pytest.fixture
def shop(celery_worker: Any) -> None:
    from stammkunde.demo.generator import demo_generate

    demo_generate(customers=800, seed=5, end=timezone.now() - timedelta(days=1), chunk_size=400)


def test_scoring_in_chunks_on_both_worker_processes_equals_the_eager_run(
    shop: None, celery_worker: Any
) -> None:
    from stammkunde.analytics.orm import ModelRun
    from stammkunde.analytics.services import scoring_run

    as_of = timezone.localdate() - timedelta(days=1)
    # given: the in-process run
    eager = scoring_run(as_of=as_of, chunk_size=100, distribute=False)
    expected = _scores(eager.pk)
    assert len(expected) == eager.n_customers > 100
    # when: the chunks go to the worker's two processes (this process coordinates)
    distributed = scoring_run(as_of=as_of, chunk_size=100, distribute=True)
    # then: the same scores, written by both pool processes
    assert distributed.status == ModelRun.Status.DONE
    assert _scores(distributed.pk) == expected
    assert len(celery_worker.processes_that_ran("analytics.score_chunk")) == 2


def test_scoring_finishes_when_no_worker_takes_its_chunks(
    transactional_db: Any, broker_at: Any, monkeypatch: Any
) -> None:
    """The coordinating job scores the chunks itself when no worker process is free (a
    one-process worker busy with this very job): here nobody consumes the queue at all."""
    import redis

    from stammkunde.analytics import services
    from stammkunde.analytics.orm import ModelRun
    from stammkunde.demo.generator import demo_generate
    from tests.conftest import require

    from .conftest import REDIS_URL, _redis_answers

    idle = REDIS_URL.rsplit("/", 1)[0] + "/13"  # a queue no worker listens on
    require(_redis_answers(idle), f"Redis at {idle} is not reachable")
    redis.Redis.from_url(idle).flushdb()
    demo_generate(customers=300, seed=7, end=timezone.now() - timedelta(days=1), chunk_size=300)
    as_of = timezone.localdate() - timedelta(days=1)
    expected = _scores(services.scoring_run(as_of=as_of, distribute=False).pk)
    monkeypatch.setattr(services, "CHUNK_STALL_S", 0.2)
    broker_at(idle)
    # when
    started = time.monotonic()
    distributed = services.scoring_run(as_of=as_of, chunk_size=50, distribute=True)
    # then: done by this process alone, quickly, with the same scores
    assert distributed.status == ModelRun.Status.DONE
    assert _scores(distributed.pk) == expected
    assert time.monotonic() - started < 120
    # and the chunk tasks still queued find their chunks claimed when a worker runs them
    from stammkunde.analytics.tasks import analytics_score_chunk

    queued = redis.Redis.from_url(idle).llen("celery")
    assert queued > 0
    lo, hi = min(expected), max(expected)
    assert services.chunk_claim(distributed.pk, (lo, hi))  # a range nobody claimed
    assert analytics_score_chunk.run(distributed.pk, lo, hi) == 0  # now claimed: skipped
    redis.Redis.from_url(idle).flushdb()


def test_the_scoring_job_runs_on_the_worker_with_progress_and_the_eager_result(
    shop: None, celery_worker: Any
) -> None:
    from stammkunde.analytics.services import scoring_run

    as_of = (timezone.localdate() - timedelta(days=1)).isoformat()
    eager = scoring_run(as_of=timezone.localdate() - timedelta(days=1), distribute=False)
    expected = _scores(eager.pk)
    # when: an admin (here: the test) starts the job; the worker runs it and its chunks
    job = job_start(kind="analytics.score", params={"as_of": as_of, "chunk_size": 200})
    assert job is not None
    job = _wait_for(job)
    # then
    assert job.status == Job.Status.DONE, job.error
    assert job.worker and job.worker.split(":")[0]
    assert job.progress_done == job.progress_total == len(expected)
    assert _scores(job.result["run"]) == expected


def test_a_campaign_send_on_the_worker_contacts_the_eager_audience(celery_worker: Any) -> None:
    from stammkunde.campaigns import selectors
    from stammkunde.campaigns.models import CampaignContact
    from tests.campaigns.factories import consenting_customer, email_campaign

    for i in range(12):
        consenting_customer(first_name=f"W{i}")
    campaign = email_campaign()
    expected = set(
        selectors.audience_queryset(campaign, now=timezone.now()).values_list("pk", flat=True)
    )
    assert len(expected) == 12
    # when
    job = job_start(kind="campaigns.send", params={"campaign_id": campaign.pk})
    assert job is not None
    job = _wait_for(job)
    assert job.status == Job.Status.DONE, job.error
    # then: the mails follow as their own job on the worker
    deadline = time.monotonic() + 120
    contacts = CampaignContact.objects.filter(campaign=campaign)
    while contacts.filter(status=CampaignContact.Status.QUEUED).exists():
        assert time.monotonic() < deadline, "campaign mails still queued"
        time.sleep(0.5)
    assert set(contacts.values_list("customer_id", flat=True)) == expected
    assert set(contacts.values_list("status", flat=True)) == {CampaignContact.Status.SENT}
    dispatch = Job.objects.filter(kind="campaigns.email_dispatch").order_by("-id").first()
    assert dispatch is not None and dispatch.result["sent"] == 12


def test_an_import_on_the_worker_gives_the_eager_counts(celery_worker: Any) -> None:
    from stammkunde.customers.models import Customer
    from stammkunde.dataio.models import ImportJob
    from stammkunde.dataio.services.import_jobs import import_job_create, import_job_enqueue
    from stammkunde.dataio.services.imports import import_file

    path = EXAMPLES / "kunden.xlsx"
    eager = import_file(kind="customers", path=path, mode=ImportJob.Mode.GOOD_ROWS, dry_run=True)
    assert eager.created > 0
    # when
    job = import_job_create(
        actor=None,
        kind="customers",
        file_name=path.name,
        path=str(path),
        mode=ImportJob.Mode.GOOD_ROWS,
    )
    run = import_job_enqueue(job)
    assert run is not None and run.kind == "dataio.import_run"
    run = _wait_for(run, 120)
    # then: the runner's job carries the import's progress and outcome
    job.refresh_from_db()
    assert run.status == Job.Status.DONE, run.error
    assert run.progress_done == run.progress_total == job.rows_read
    assert run.result["created"] == job.rows_created
    assert (job.rows_read, job.rows_created, job.rows_failed) == (
        eager.rows_read,
        eager.created,
        eager.failed,
    )
    assert Customer.objects.count() == eager.created


def test_a_large_export_on_the_worker_writes_the_eager_rows_with_progress(
    celery_worker: Any, admin: Any, monkeypatch: Any, settings: Any, tmp_path: Path
) -> None:
    from stammkunde.customers.services import customer_create
    from stammkunde.dataio.models import ExportJob
    from stammkunde.dataio.services import exports

    settings.MEDIA_ROOT = tmp_path  # the eager file; the worker writes into its own

    for i in range(30):
        customer_create(actor=None, first_name=f"W{i}", last_name="Export")
    eager = exports.export_create(actor=admin, kind="customers", file_format="csv", filters={})
    assert eager.status == ExportJob.Status.DONE and eager.rows == 30
    # when: the list is "large", so the export goes to the worker
    monkeypatch.setattr(exports, "INLINE_LIMIT", 10)
    job = exports.export_create(actor=admin, kind="customers", file_format="csv", filters={})
    run = Job.objects.get(kind="dataio.export_run", params={"job_id": job.pk})
    run = _wait_for(run, 120)
    # then
    assert run.status == Job.Status.DONE, run.error
    assert (run.progress_done, run.progress_total, run.started_by) == (30, 30, admin)
    job.refresh_from_db()
    assert (job.status, job.rows) == (ExportJob.Status.DONE, 30)
    assert Path(job.file_path).read_bytes() == Path(eager.file_path).read_bytes()


# -- the scheduled jobs a new installation runs by itself, started as beat starts them --


def _beat_sends(kind: str) -> None:
    """Send the message celery beat sends for ``kind``'s schedule row (DatabaseScheduler)."""
    from django_celery_beat.models import PeriodicTask
    from django_celery_beat.schedulers import ModelEntry

    from stammkunde.celery import app
    from stammkunde.core.jobs.schedule import schedule_sync

    schedule_sync()  # the rows migrate made are gone after a transactional test's flush
    entry = ModelEntry(PeriodicTask.objects.get(name=kind, enabled=True), app=app)
    assert (entry.task, entry.kwargs) == (kind, json.loads(SCHEDULE_KWARGS))
    options = {**entry.options, "headers": {**entry.options.get("headers", {})}}
    options["headers"]["celery_beat_task"] = True  # as celery.beat.Scheduler.apply_async
    app.send_task(entry.task, entry.args, entry.kwargs, **options)


def _scheduled_run_on_worker(worker: Any, kind: str, seconds: float = 25) -> Job:
    """The job row the worker writes for a beat message of ``kind``, once it finished."""
    assert not Job.objects.filter(kind=kind).exists()
    _beat_sends(kind)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        job = Job.objects.filter(kind=kind).order_by("-id").first()
        if job is not None and job.is_finished:
            break
        time.sleep(0.2)
    else:
        pytest.fail(f"no finished {kind} job after {seconds} s:\n{worker.log()[-3000:]}")
    assert job.status == Job.Status.DONE, job.error
    assert job.trigger == Job.Trigger.SCHEDULE
    # run by one of the worker's pool processes, not by this test process
    _host, _sep, pid = job.worker.rpartition(":")
    assert pid.isdigit() and int(pid) != os.getpid(), job.worker
    stat = Path(f"/proc/{pid}/stat").read_text()
    assert int(stat.rsplit(")", 1)[1].split()[1]) == worker.process.pid  # its parent
    return job


def test_sla_escalation_runs_on_the_worker_by_schedule(celery_worker: Any, make_user: Any) -> None:
    from stammkunde.customers.models import Interaction
    from stammkunde.service.models import Notification, Queue, SLAPolicy, Team, Ticket
    from tests.service.factories import T0, ticket

    # given: a ticket overdue since March and one due within the warning window
    lead, agent = make_user("team_lead"), make_user("agent")
    team = Team.objects.create(name="Werkstatt", lead=lead)
    overdue = ticket(q=Queue.objects.create(name="Werkstatt", team=team), assignee=agent, now=T0)
    fast = Queue.objects.create(name="Express", team=team)
    SLAPolicy.objects.create(
        name="Express",
        queue=fast,
        first_response_minutes=30,
        next_response_minutes=60,
        resolution_minutes=600,
    )
    soon = ticket(q=fast, assignee=agent, subject="Bald", now=timezone.now())
    assert not Notification.objects.exists()
    # when beat sends the job
    job = _scheduled_run_on_worker(celery_worker, "service.sla_escalate")
    # then: the breach is flagged and escalated, the other ticket warned
    assert job.result == {"warned": 1, "breached": 1}
    overdue.refresh_from_db()
    soon.refresh_from_db()
    assert overdue.first_response_breached and overdue.resolution_breached
    assert overdue.escalated_at is not None and overdue.sla_due is None
    assert soon.sla_warned_at is not None and not soon.first_response_breached
    assert set(Notification.objects.values_list("user_id", "ticket_id", "kind")) == {
        (lead.pk, overdue.pk, "sla_breach"),
        (agent.pk, overdue.pk, "sla_breach"),
        (agent.pk, soon.pk, "sla_warning"),
    }
    assert Interaction.objects.filter(customer=overdue.customer, kind="ticket_sla_breach").exists()
    assert Ticket.objects.count() == 2


def test_mail_polling_runs_on_the_worker_by_schedule(
    celery_worker: Any, dovecot: Any, mailbox: Any
) -> None:
    from stammkunde.channels.models import InboundMessage, Mailbox
    from stammkunde.service.models import Ticket

    # given: a customer's mail waiting in the real IMAP mailbox
    test_imap_dovecot.deliver(dovecot, 1)
    assert not Ticket.objects.exists()
    # when beat sends the job
    job = _scheduled_run_on_worker(celery_worker, "channels.mail_poll")
    # then: the worker fetched it and made a ticket of it
    assert "errors" not in job.result and sum(job.result.values()) == 1, job.result
    assert Ticket.objects.count() == 1, list(InboundMessage.objects.values_list("reason"))
    created = Ticket.objects.get()
    assert (created.subject, created.queue_id) == ("Frage 0", mailbox.queue_id)
    inbound = InboundMessage.objects.get()
    assert (inbound.uid, inbound.mailbox_id) == (1, mailbox.pk)
    polled = Mailbox.objects.get(pk=mailbox.pk)
    assert (polled.last_uid, polled.last_error) == (1, "")
    assert polled.last_polled_at is not None


def test_campaign_dispatch_runs_a_due_send_on_the_worker_by_schedule(
    celery_worker: Any,
) -> None:
    from stammkunde.campaigns.models import CampaignContact, CampaignRun
    from tests.campaigns.factories import consenting_customer, email_campaign

    # given: a scheduled campaign whose send time has passed, and one still to come
    audience = {consenting_customer(first_name=f"D{i}").pk for i in range(3)}
    due = email_campaign(scheduled_for=timezone.now() - timedelta(minutes=1))
    later = email_campaign(name="Herbst", scheduled_for=timezone.now() + timedelta(days=1))
    assert not CampaignRun.objects.exists()
    # when beat sends the job
    job = _scheduled_run_on_worker(celery_worker, "campaigns.dispatch_due")
    # then: the due campaign ran once, for its whole audience; the later one did not
    assert job.result == {str(due.pk): 3}
    run = CampaignRun.objects.get()
    assert run.campaign_id == due.pk
    contacts = CampaignContact.objects.filter(campaign=due, run=run)
    assert set(contacts.values_list("customer_id", flat=True)) == audience
    assert not CampaignContact.objects.filter(campaign=later).exists()
