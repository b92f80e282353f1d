"""Celery tasks: thin wrappers that take ids and call one service."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="dataio.import_run")
def dataio_import_run(job_id: int) -> str:
    """Run a recorded import job."""
    from .services.imports import import_job_run

    return import_job_run(job_id=job_id).status


@shared_task(name="dataio.export_run")
def dataio_export_run(job_id: int) -> str:
    """Write a recorded export job's file."""
    from .services.exports import export_job_run

    return export_job_run(job_id=job_id).status


@shared_task(name="dataio.webhooks_deliver")
def dataio_webhooks_deliver(delivery_ids: list[int] | None = None) -> int:
    """Send due webhook deliveries (or the given ones); return how many were attempted."""
    from .services.webhooks import webhook_deliver_due

    return webhook_deliver_due(ids=delivery_ids)
