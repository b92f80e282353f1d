"""Job kinds of the campaigns app: thin wrappers that take ids and call one service.

On the schedule (see docs/campaigns.md): ``campaigns.dispatch_due`` every five
minutes (scheduled sends and triggers, phase playbooks included),
``campaigns.email_dispatch`` every minute as a catch-up of queued mails,
``campaigns.evaluate_due`` once a day.
"""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from stammkunde.core.jobs.registry import Cron, Every, JobContext, StartParam, job_kind

from . import services
from .models import Campaign


@job_kind("campaigns.trigger_pass", label=_("Campaign trigger pass"))
def campaigns_trigger_pass(ctx: JobContext, campaign_id: int) -> dict[str, Any]:
    """Contact the customers whose trigger fired for one campaign."""
    campaign = Campaign.objects.get(pk=campaign_id)
    if campaign.status != Campaign.Status.ACTIVE:
        return {}
    return services.campaign_trigger_pass(campaign=campaign).counts


@job_kind(
    "campaigns.email_dispatch",
    label=_("Campaign mails"),
    description=_("Sends queued campaign mails, throttled to the configured rate."),
    schedule=Every(minutes=1),
    timeout=timedelta(minutes=30),
)
def campaigns_email_dispatch(ctx: JobContext) -> dict[str, int]:
    """Send queued campaign mails batch by batch at the configured rate until none is left."""
    per_minute = int(getattr(settings, "CAMPAIGNS_EMAIL_PER_MINUTE", 600))
    batch = int(getattr(settings, "CAMPAIGNS_EMAIL_BATCH", 200))
    pause = max(0.0, 60.0 * batch / max(per_minute, 1))
    totals = {"sent": 0, "cancelled": 0, "failed": 0, "left": 0}
    while True:
        counts = services.email_queue_send()
        for key in ("sent", "cancelled", "failed"):
            totals[key] += counts[key]
        totals["left"] = counts["left"]
        handled = counts["sent"] + counts["cancelled"] + counts["failed"]
        ctx.progress(
            done=totals["sent"] + totals["cancelled"] + totals["failed"],
            total=totals["sent"] + totals["cancelled"] + totals["failed"] + counts["left"],
        )
        if not counts["left"] or not handled:
            return totals
        time.sleep(pause)


def _sendable_campaigns() -> list[tuple[Any, str]]:
    return [
        (c.pk, c.name)
        for c in Campaign.objects.filter(
            status=Campaign.Status.ACTIVE, trigger=Campaign.Trigger.SCHEDULE
        ).order_by("name")
    ]


@job_kind(
    "campaigns.send",
    label=_("Send a campaign"),
    startable=True,
    start_param=StartParam("campaign_id", _("Campaign"), _sendable_campaigns, int),
    timeout=timedelta(hours=1),
)
def campaigns_send(ctx: JobContext, campaign_id: int, confirm: str | None = None) -> dict[str, Any]:
    """Send a campaign to its audience now; its mails follow as their own job.

    ``confirm`` is the preview's token when the campaign page started the send
    ("send now"): the run refuses it once the plan changed, so a retry after a
    run that was written contacts nobody twice. Progress is done of total
    over the audience.
    """
    campaign = Campaign.objects.get(pk=campaign_id)
    ctx.progress(message=str(_("choosing the audience")))
    contacting = str(_("contacting the audience"))

    def progress(done: int, total: int) -> None:
        ctx.progress(done=done, total=total, message=contacting)

    run = services.campaign_run(
        actor=ctx.user, campaign=campaign, confirm=confirm, progress=progress
    )
    return {"run": run.pk, **run.counts}


@job_kind(
    "campaigns.dispatch_due",
    label=_("Campaign triggers and scheduled sends"),
    description=_("Runs scheduled sends that are due and every active trigger and playbook."),
    schedule=Every(minutes=5),
    timeout=timedelta(minutes=30),
)
def campaigns_dispatch_due(ctx: JobContext) -> dict[str, int]:
    """Run scheduled sends that are due and every active trigger."""
    return services.campaigns_dispatch_due()


@job_kind(
    "campaigns.evaluate_due",
    label=_("Campaign evaluation"),
    description=_("Evaluates the campaigns whose horizon has passed."),
    schedule=Cron(hour="4", minute="0"),
)
def campaigns_evaluate_due(ctx: JobContext) -> list[int]:
    """Evaluate campaigns whose horizon has passed."""
    return services.campaigns_evaluate_due()
