"""The runner's own Celery task and job kinds (the watchdog, purging old rows)."""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from django.utils.translation import gettext_lazy as _

from .registry import Every, JobContext, job_kind


@shared_task(name="jobs.run", ignore_result=True)
def jobs_run(job_id: int) -> str:
    """Run a recorded job on this worker (claimed once, never retried)."""
    from .services import job_execute

    return job_execute(job_id).status


@job_kind(
    "jobs.watchdog",
    label=_("Job watchdog"),
    description=_("Marks jobs whose worker stopped as failed, which frees their lock."),
    schedule=Every(minutes=2),
    timeout=timedelta(minutes=5),
)
def jobs_watchdog_job(ctx: JobContext) -> dict[str, int]:
    from .services import jobs_watchdog

    return {"failed": jobs_watchdog()}


@job_kind(
    "jobs.purge",
    label=_("Delete old job history"),
    description=_("Deletes finished job rows older than 90 days."),
    schedule=Every(hours=24),
)
def jobs_purge_job(ctx: JobContext, older_than_days: int = 90) -> dict[str, int]:
    from .services import jobs_purge

    return {"deleted": jobs_purge(older_than_days=older_than_days)}
