"""Job kinds of the service desk; the work is done by the SLA engine."""

from __future__ import annotations

from datetime import timedelta

from django.utils.translation import gettext_lazy as _

from stammkunde.core.jobs.registry import Every, JobContext, job_kind


@job_kind(
    "service.sla_escalate",
    label=_("SLA escalation"),
    description=_("Warns before SLA due times and flags breaches."),
    schedule=Every(minutes=1),
    timeout=timedelta(minutes=10),
)
def sla_escalate_task(ctx: JobContext) -> dict[str, int]:
    """Flag SLA breaches and warn before them."""
    from .sla import sla_escalate

    result = sla_escalate()
    return {"warned": result.warned, "breached": result.breached}
