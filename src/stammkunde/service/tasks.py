"""Celery wrappers; the work is done by the SLA engine."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="service.sla_escalate")
def sla_escalate_task() -> dict[str, int]:
    """Flag SLA breaches and warn before them (schedule every few minutes with beat)."""
    from .sla import sla_escalate

    result = sla_escalate()
    return {"warned": result.warned, "breached": result.breached}
