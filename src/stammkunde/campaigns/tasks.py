"""Celery tasks: thin wrappers that take ids and call one service.

Beat entries (see docs/campaigns.md): ``campaigns.dispatch_due`` every few
minutes, ``campaigns.evaluate_due`` once a day.
"""

from __future__ import annotations

from typing import Any

from celery import shared_task
from django.conf import settings

from . import services
from .models import Campaign


def enqueue(task: Any, *args: Any, countdown: int | None = None) -> None:
    """Start ``task``: in-process without a broker (embedded default), else through Celery.

    Call it from ``transaction.on_commit``. The project's Celery app is only
    configured when a worker imports it, so a bare ``delay()`` would look for
    a broker that the embedded default does not have.
    """
    if settings.CELERY_TASK_ALWAYS_EAGER:
        task.apply(args=args)
    else:
        task.apply_async(args=args, countdown=countdown)


@shared_task(name="campaigns.trigger_pass")
def campaigns_trigger_pass(campaign_id: int) -> dict[str, Any]:
    """Contact the customers whose trigger fired for one campaign."""
    campaign = Campaign.objects.get(pk=campaign_id)
    if campaign.status != Campaign.Status.ACTIVE:
        return {}
    return services.campaign_trigger_pass(campaign=campaign).counts


@shared_task(name="campaigns.email_dispatch")
def campaigns_email_dispatch() -> dict[str, int]:
    """Send one throttled batch of queued campaign mails; schedule the next batch if any."""
    counts = services.email_queue_send()
    if counts["left"] and counts["sent"] + counts["cancelled"] + counts["failed"]:
        per_minute = int(getattr(settings, "CAMPAIGNS_EMAIL_PER_MINUTE", 600))
        batch = int(getattr(settings, "CAMPAIGNS_EMAIL_BATCH", 200))
        enqueue(campaigns_email_dispatch, countdown=max(1, 60 * batch // max(per_minute, 1)))
    return counts


@shared_task(name="campaigns.dispatch_due")
def campaigns_dispatch_due() -> dict[str, int]:
    """Run scheduled sends that are due and every active trigger."""
    return services.campaigns_dispatch_due()


@shared_task(name="campaigns.evaluate_due")
def campaigns_evaluate_due() -> list[int]:
    """Evaluate campaigns whose horizon has passed (daily)."""
    return services.campaigns_evaluate_due()
