"""Evaluation: compare treatment and control once a campaign's horizon has passed."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.db import transaction
from django.utils import timezone

from ..models import (
    Campaign,
    CampaignEvaluation,
)


def campaign_evaluate(
    *, campaign: Campaign, as_of: date | None = None, now: datetime | None = None
) -> CampaignEvaluation:
    """Compare treatment and control on the campaign's contacts and store the result.

    Outcomes per contacted customer within the horizon after the contact:
    response (a paid order), repurchase (two or more), revenue and margin
    (order lines × product margin rate), retention (an order or an active
    subscription at the horizon end). The uplift model is fitted on the same
    data (out-of-fold Qini) and kept on the campaign for the next run.
    """
    from ..evaluation import evaluation_compute

    now = now or timezone.now()
    as_of = as_of or timezone.localdate(now)
    result = evaluation_compute(campaign=campaign, as_of=as_of)
    with transaction.atomic():
        evaluation = CampaignEvaluation.objects.create(
            campaign=campaign,
            computed_at=now,
            as_of=as_of,
            is_final=result.is_final,
            recommendation=result.summary["recommendation"],
            roi=result.summary.get("roi"),
            qini=result.summary.get("uplift", {}).get("qini"),
            summary=result.summary,
            curves=result.curves,
        )
        if result.uplift_model:
            Campaign.objects.filter(pk=campaign.pk).update(uplift_model=result.uplift_model)
    return evaluation


def campaigns_evaluate_due(*, today: date | None = None) -> list[int]:
    """Evaluate every campaign whose horizon has passed and has no final evaluation yet."""
    today = today or timezone.localdate()
    done = []
    for campaign in Campaign.objects.filter(contacts__isnull=False).distinct():
        last = (
            campaign.contacts.order_by("-contacted_at")
            .values_list("contacted_at", flat=True)
            .first()
        )
        if last is None or timezone.localdate(last) + timedelta(days=campaign.horizon_days) > today:
            continue
        if campaign.evaluations.filter(is_final=True).exists():
            continue
        campaign_evaluate(campaign=campaign, as_of=today)
        done.append(campaign.pk)
    return done
