"""How imports and exports run in the background: as jobs of the one runner (``core.jobs``).

An ``ImportJob`` or ``ExportJob`` row records what a user asked for; the
runner's ``Job`` row records the run (``dataio.import_run`` /
``dataio.export_run`` with ``{"job_id": <row>}``). Two states cross over:

* the broker is down: the run is ``not sent`` and the import/export stays
  *waiting*, so starting it again (here or on the jobs page) runs it;
* the runner failed the run (the job raised, or the watchdog found its worker
  gone): the hook ``job_failed`` marks the import/export failed with the reason,
  so no row stays "running" for ever.
"""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext as _

from stammkunde.core.errors import ApplicationError
from stammkunde.core.inputs import FORBIDDEN_CHARACTERS
from stammkunde.core.jobs.models import Job
from stammkunde.core.jobs.selectors import jobs_history, jobs_running
from stammkunde.core.jobs.services import job_start

from ..models import ExportJob, ImportJob

IMPORT_KIND = "dataio.import_run"
EXPORT_KIND = "dataio.export_run"


class QueueUnavailable(ApplicationError):
    """The broker did not take the job; the row is kept and can be started again."""


def _start(kind: str, row_id: int, user: Any) -> Job | None:
    """Start the run of a row; raise :class:`QueueUnavailable` when it was not sent.

    Inside a transaction the run is sent on commit, so the outcome is not
    known yet and the run is returned as queued.
    """
    run = job_start(kind=kind, params={"job_id": row_id}, user=user)
    if run is not None and not connection.in_atomic_block:
        run.refresh_from_db()
        if run.status == Job.Status.NOT_SENT:
            raise QueueUnavailable(
                _(
                    "The job queue is not reachable, so the work could not be started. "
                    "It has been recorded; start it again when the queue is back."
                ),
                code="broker_unavailable",
            )
    return run


def import_start(job: ImportJob, *, user: Any = None) -> Job | None:
    """Run a recorded import in the background (after the caller's transaction commits)."""
    return _start(IMPORT_KIND, job.pk, user if user is not None else job.created_by)


def export_start(job: ExportJob, *, user: Any = None) -> Job | None:
    """Write a recorded export in the background (after the caller's transaction commits)."""
    return _start(EXPORT_KIND, job.pk, user if user is not None else job.created_by)


def _not_sent(kind: str, row_id: int) -> bool:
    if jobs_running().filter(kind=kind, params__job_id=row_id).exists():
        return False
    last = jobs_history(kind=kind).filter(params__job_id=row_id).order_by("-id").first()
    return last is not None and last.status == Job.Status.NOT_SENT


def import_not_sent(job: ImportJob) -> bool:
    """Whether a waiting import's run never reached a worker (the broker was down)."""
    return job.status == ImportJob.Status.PENDING and _not_sent(IMPORT_KIND, job.pk)


def export_not_sent(job: ExportJob) -> bool:
    """Whether a waiting export's run never reached a worker (the broker was down)."""
    return job.status == ExportJob.Status.PENDING and _not_sent(EXPORT_KIND, job.pk)


def run_failed(*, job: Job) -> None:
    """Hook ``job_failed``: the import or export the run worked on fails with the reason.

    Only a row still waiting or running is changed: an import that stored its
    own outcome before the run failed keeps it.
    """
    row_id = (job.params or {}).get("job_id")
    if job.kind not in (IMPORT_KIND, EXPORT_KIND) or not isinstance(row_id, int):
        return
    reason = FORBIDDEN_CHARACTERS.sub("\ufffd", job.error or _("unknown error"))[:3500]
    message = _("The background job stopped before it finished: %(reason)s") % {"reason": reason}
    if job.kind == IMPORT_KIND:
        ImportJob.objects.filter(
            pk=row_id, status__in=(ImportJob.Status.PENDING, ImportJob.Status.RUNNING)
        ).update(status=ImportJob.Status.FAILED, message=message, finished_at=timezone.now())
    else:
        ExportJob.objects.filter(
            pk=row_id, status__in=(ExportJob.Status.PENDING, ExportJob.Status.RUNNING)
        ).update(status=ExportJob.Status.FAILED, message=message, finished_at=timezone.now())
