"""Job kinds of the privacy app (run by the one job runner in ``core.jobs``)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils.translation import gettext_lazy as _

from stammkunde.core.jobs.registry import Cron, JobContext, job_kind


@job_kind(
    "privacy.retention_apply",
    label=_("Retention"),
    description=_("Deletes or anonymises what is past its retention period."),
    schedule=Cron(hour="3", minute="30"),
    timeout=timedelta(hours=2),
)
def privacy_retention_apply(ctx: JobContext) -> dict[str, int]:
    """Apply every retention period."""
    from .services import retention_apply

    return retention_apply()


@job_kind(
    "privacy.export",
    label=_("Data export (DSGVO)"),
    description=_("Writes one person's data as JSON and PDF."),
    timeout=timedelta(minutes=30),
)
def privacy_export(ctx: JobContext, *, export_id: int) -> dict[str, Any]:
    """Produce one export of a person's data; progress goes to the job and the export row."""
    from .services import export_run

    export = export_run(export_id=export_id, ctx=ctx)
    return {"export_id": export.pk, "status": export.status}
