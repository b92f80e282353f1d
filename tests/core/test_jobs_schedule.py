"""The schedule out of the box: every recurring job registered once, in the database."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from stammkunde.core.jobs.models import Job
from stammkunde.core.jobs.registry import Every, kinds_scheduled
from stammkunde.core.jobs.schedule import in_process_scheduler_start, schedule_sync, schedule_tick

pytestmark = pytest.mark.django_db

RECURRING = {
    "service.sla_escalate",
    "channels.mail_poll",
    "channels.outbox_send_due",
    "dataio.webhooks_deliver_due",
    "campaigns.dispatch_due",
    "campaigns.email_dispatch",
    "campaigns.evaluate_due",
    "feedback.run_triggers",
    "analytics.score",
    "loyalty.points_expire",
    "privacy.retention_apply",
    "jobs.watchdog",
}


def test_every_recurring_job_of_the_issue_is_on_the_schedule() -> None:
    scheduled = {k.name: k.schedule for k in kinds_scheduled()}
    assert set(scheduled) >= RECURRING
    minute = Every(minutes=1).total_seconds
    for name in ("service.sla_escalate", "channels.mail_poll"):
        schedule = scheduled[name]
        assert isinstance(schedule, Every) and schedule.total_seconds == minute
    hourly = scheduled["feedback.run_triggers"]
    assert isinstance(hourly, Every) and hourly.total_seconds == 3600


def test_migrate_put_every_scheduled_kind_into_the_database_schedule() -> None:
    rows = dict(PeriodicTask.objects.values_list("name", "task"))
    assert {k.name for k in kinds_scheduled()} <= set(rows)
    assert rows["service.sla_escalate"] == "service.sla_escalate"


def test_sync_is_idempotent_and_keeps_what_an_admin_changed() -> None:
    # given: an admin makes SLA escalation run every five minutes and switches mail polling off
    sla = PeriodicTask.objects.get(name="service.sla_escalate")
    sla.interval, _created = IntervalSchedule.objects.get_or_create(
        every=300, period=IntervalSchedule.SECONDS
    )
    sla.save()
    PeriodicTask.objects.filter(name="channels.mail_poll").update(enabled=False)
    count = PeriodicTask.objects.count()
    # when
    assert schedule_sync() == []
    # then
    assert PeriodicTask.objects.count() == count
    assert PeriodicTask.objects.get(name="service.sla_escalate").interval.every == 300
    assert not PeriodicTask.objects.get(name="channels.mail_poll").enabled
    # and a row an admin deleted comes back with the default
    PeriodicTask.objects.filter(name="jobs.watchdog").delete()
    assert schedule_sync() == ["jobs.watchdog"]


def test_the_in_process_scheduler_starts_due_jobs_once_per_interval(
    django_capture_on_commit_callbacks,
) -> None:
    # given: only SLA escalation is switched on
    PeriodicTask.objects.exclude(name="service.sla_escalate").update(enabled=False)
    now = timezone.now()
    # when: the first tick
    with django_capture_on_commit_callbacks(execute=True):
        assert schedule_tick(now=now) == ["service.sla_escalate"]
    # then it ran as a scheduled job
    job = Job.objects.get(kind="service.sla_escalate")
    assert job.trigger == Job.Trigger.SCHEDULE and job.status == Job.Status.DONE
    assert set(job.result) == {"warned", "breached"}
    task = PeriodicTask.objects.get(name="service.sla_escalate")
    assert task.last_run_at is not None and task.total_run_count == 1
    # and not again within the minute, but again after it
    assert schedule_tick(now=now + timedelta(seconds=20)) == []
    PeriodicTask.objects.filter(pk=task.pk).update(last_run_at=now - timedelta(seconds=61))
    with django_capture_on_commit_callbacks(execute=True):
        assert schedule_tick(now=now + timedelta(seconds=1)) == ["service.sla_escalate"]
    assert Job.objects.filter(kind="service.sla_escalate").count() == 2


def test_with_a_broker_beat_runs_the_schedule_not_the_web_process(settings) -> None:
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:6379/15"
    settings.CELERY_TASK_ALWAYS_EAGER = False
    assert in_process_scheduler_start() is None
