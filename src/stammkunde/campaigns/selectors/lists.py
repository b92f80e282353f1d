"""Campaigns, segments and evaluations a user may see; segment and campaign audiences."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import QuerySet

from stammkunde.core.access import User, access_object
from stammkunde.customers.models import Customer

from ..models import Campaign, CampaignEvaluation, Segment
from ..segments import segment_queryset


def campaign_list(*, user: User) -> QuerySet[Campaign]:
    """Return the campaigns the user may see, playbooks first."""
    return Campaign.objects.visible_to(user).select_related("segment")  # type: ignore[return-value]


def campaign_get(*, user: User, pk: Any) -> Campaign:
    """Return a visible campaign or raise 404."""
    return access_object(Campaign.objects.select_related("segment"), user, pk=pk)  # type: ignore[arg-type]


def segment_list(*, user: User) -> QuerySet[Segment]:
    return Segment.objects.visible_to(user)  # type: ignore[return-value]


def segment_get(*, user: User, pk: Any) -> Segment:
    return access_object(Segment.objects.all(), user, pk=pk)  # type: ignore[arg-type]


def evaluation_latest(*, campaign: Campaign) -> CampaignEvaluation | None:
    return campaign.evaluations.order_by("-computed_at", "-id").first()


def segment_customers(segment: Segment, *, now: datetime | None = None) -> QuerySet[Customer]:
    """Return a segment's customers: live rules, or the frozen members."""
    if segment.mode == Segment.Mode.FROZEN and segment.frozen_at is not None:
        return Customer.objects.filter(
            pk__in=segment.memberships.values("customer_id"),
            merged_into__isnull=True,
            erased_at__isnull=True,
        )
    return segment_queryset(segment.rules, now=now)


def segment_count(*, rules: dict[str, Any]) -> int:
    """Return how many customers match ``rules`` now (the live count while editing)."""
    return segment_queryset(rules).count()


def audience_queryset(campaign: Campaign, *, now: datetime | None = None) -> QuerySet[Customer]:
    """Return the campaign's audience before triggers and eligibility.

    A playbook is restricted to customers whose latest score is in its phase.
    """
    qs = (
        segment_customers(campaign.segment, now=now)
        if campaign.segment is not None
        else Customer.objects.filter(merged_into__isnull=True, erased_at__isnull=True)
    )
    if campaign.playbook_phase:
        from stammkunde.analytics.orm import CustomerScore

        qs = qs.filter(
            pk__in=CustomerScore.objects.filter(
                is_latest=True, phase=campaign.playbook_phase
            ).values("customer_id")
        )
    return qs
