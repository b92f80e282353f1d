"""Job kinds of the data tools: thin wrappers that take ids and call one service.

Imports and exports are recorded rows of their own (``ImportJob``,
``ExportJob``) that run as jobs of the one runner (``core.jobs``), with the
import's or export's progress on the jobs page; they are started by
:mod:`.services.background`. Webhook deliveries go out per event
(``dataio.webhooks_deliver``, no job row: the delivery rows record attempts)
and every 30 s the scheduled ``dataio.webhooks_deliver_due`` sends the retries
that are due (see docs/data-in-out.md).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from stammkunde.core.jobs.registry import Every, JobContext, job_kind


@job_kind(
    "dataio.import_run",
    label=gettext_lazy("Import"),
    description=gettext_lazy("Runs an uploaded import (started from the Import/Export page)."),
    timeout=timedelta(minutes=30),  # of silence: a running import reports every batch
)
def dataio_import_run(ctx: JobContext, job_id: int) -> dict[str, Any]:
    """Run a recorded import; the import's own progress is the job's progress."""
    from .services.import_jobs import import_job_run

    def progress(rows: int, fraction: float) -> None:
        # The total is not known before the end of the file: estimate it from the fraction.
        total = max(rows, round(rows / fraction)) if fraction > 0 else None
        ctx.progress(done=rows, total=total, message=_("%(rows)s rows read") % {"rows": rows})

    job = import_job_run(job_id=job_id, on_progress=progress)
    ctx.progress(done=job.rows_read, total=job.rows_read, message=job.message[:300])
    return {
        "import": job.pk,
        "status": job.status,
        "rows_read": job.rows_read,
        "created": job.rows_created,
        "updated": job.rows_updated,
        "failed": job.rows_failed,
    }


@job_kind(
    "dataio.export_run",
    label=gettext_lazy("Export"),
    description=gettext_lazy("Writes a large export (started from the Import/Export page)."),
    timeout=timedelta(minutes=30),
)
def dataio_export_run(ctx: JobContext, job_id: int) -> dict[str, Any]:
    """Write a recorded export job's file, with the rows written as progress."""
    from .services.exports import export_job_run

    job = export_job_run(job_id=job_id, ctx=ctx)
    return {"export": job.pk, "status": job.status, "rows": job.rows}


@job_kind(
    "dataio.webhooks_deliver",
    label=gettext_lazy("Send webhook events"),
    record=False,  # the delivery rows record attempts; the scheduled run retries
    lock=False,
)
def dataio_webhooks_deliver(ctx: JobContext, delivery_ids: list[int] | None = None) -> int:
    """Send the given pending deliveries now (one event's); return how many were attempted.

    A message of the earlier plain task (``args=[ids]``) still lands here: its
    positional list is taken as the trigger and all due deliveries go out.
    """
    from .services.webhooks import webhook_deliver_due

    return webhook_deliver_due(ids=delivery_ids)


@job_kind(
    "dataio.webhooks_deliver_due",
    label=gettext_lazy("Webhook retries"),
    description=gettext_lazy("Sends every webhook delivery that is due, retries included."),
    schedule=Every(seconds=30),
    timeout=timedelta(minutes=10),
)
def dataio_webhooks_deliver_due(ctx: JobContext) -> dict[str, int]:
    """Send every due delivery (retries after a failure, events a lost message left behind)."""
    from .services.webhooks import webhook_deliver_due

    return {"attempted": webhook_deliver_due()}


@job_kind(
    "dataio.duplicates_scan",
    label=gettext_lazy("Duplicate search"),
    description=gettext_lazy(
        "Compares every customer with the others and lists the possible duplicates."
    ),
    timeout=timedelta(minutes=30),
    startable=True,
)
def dataio_duplicates_scan(ctx: JobContext) -> dict[str, int]:
    """Replace the open duplicate candidates with a fresh scan."""
    from .services.dedup import duplicates_scan

    ctx.progress(done=0, total=2, message=_("comparing customers"))
    count = duplicates_scan(on_compared=lambda: ctx.progress(done=1, message=_("saving pairs")))
    ctx.progress(done=2, total=2, message=_("%(count)s possible duplicates") % {"count": count})
    return {"open": count}
