"""Start-page tiles of marketing: running campaigns with their delivery, segments, call tasks."""

from __future__ import annotations

from typing import Any

from django.db.models import F
from django.urls import reverse

from stammkunde.core.access import User

from . import selectors
from .models import Campaign

TOP = 5


def running_campaigns_context(user: User) -> dict[str, Any]:
    """Active campaigns (the first few by priority) with contacted and delivery figures."""
    active = selectors.campaign_list(user=user).filter(status=Campaign.Status.ACTIVE)
    rows = []
    for campaign in active.order_by("priority", "id")[:TOP]:
        summary = selectors.campaign_contacts_summary(campaign, recipients=0)
        rows.append({"campaign": campaign, **summary})
    return {"count": active.count(), "rows": rows, "url": reverse("campaigns:list")}


def segments_context(user: User) -> dict[str, Any]:
    """How many segments exist, the last changed few."""
    qs = selectors.segment_list(user=user)
    return {
        "count": qs.count(),
        "rows": list(qs.order_by("-updated_at")[:TOP]),
        "url": reverse("campaigns:segments"),
    }


def call_tasks_context(user: User) -> dict[str, Any]:
    """Open call tasks (tickets a phone campaign opened) the user can see, the next due first."""
    from stammkunde.service.models import OPEN_STATUS_LIST, Ticket

    qs = (
        Ticket.objects.visible_to(user)
        .filter(selectors.call_tasks_filter(), status__in=OPEN_STATUS_LIST)
        .distinct()
    )
    return {
        "count": qs.count(),
        "rows": list(
            qs.select_related("customer").order_by(F("sla_due").asc(nulls_last=True), "-id")[:TOP]
        ),
    }
