"""The consent-changes tile of the start page (marketing)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone

from stammkunde.core.access import User

from .models import Consent, Customer

DAYS = 7
TOP = 5


def consent_changes_context(user: User) -> dict[str, Any]:
    """Consents granted and withdrawn in the last days, over the customers the user sees."""
    since = timezone.now() - timedelta(days=DAYS)
    qs = Consent.objects.filter(
        at__gte=since, customer__in=Customer.objects.visible_to(user).values("id")
    )
    agg = qs.aggregate(
        granted=Count("id", filter=Q(status=Consent.Status.GRANTED)),
        withdrawn=Count("id", filter=Q(status=Consent.Status.WITHDRAWN)),
    )
    return {
        "days": DAYS,
        "granted": int(agg["granted"] or 0),
        "withdrawn": int(agg["withdrawn"] or 0),
        "rows": list(qs.select_related("customer").order_by("-at", "-id")[:TOP]),
        "url": reverse("customers:list"),
    }
