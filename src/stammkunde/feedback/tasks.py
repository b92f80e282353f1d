"""Celery tasks: thin wrappers around the services."""

from __future__ import annotations

from celery import shared_task

from . import services


@shared_task(name="feedback.run_triggers")
def feedback_run_triggers() -> dict[str, int]:
    """Evaluate the survey triggers (schedule hourly or daily with Celery beat)."""
    return services.triggers_run()
