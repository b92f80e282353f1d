"""Start-page tiles of the service desk: each reads through the inbox selectors.

Every count is the count of the inbox list the tile links to (same selector,
same filter), so the figure on the tile and the length of the list agree.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Count, F, Min, Q
from django.urls import reverse
from django.utils import timezone

from stammkunde.core.access import User

from . import selectors
from .models import OPEN_STATUS_LIST, GoodwillGrant, Ticket

TOP = 5


def _inbox_url(**params: Any) -> str:
    from urllib.parse import urlencode

    return f"{reverse('service:inbox')}?{urlencode(params)}"


def my_tickets_context(user: User) -> dict[str, Any]:
    """The user's open tickets, the next due first (tickets without a due time last)."""
    qs = selectors.inbox_list(user=user, filters=selectors.InboxFilter(view="mine"))
    top = list(qs.order_by(F("sla_due").asc(nulls_last=True), "-id")[:TOP])
    return {
        "count": qs.count(),
        "rows": top,
        "now": timezone.now(),
        "url": _inbox_url(view="mine"),
    }


def sla_context(user: User) -> dict[str, Any]:
    """Open tickets past their due time (breached) or due within the warning window (at risk)."""
    now = timezone.now()
    qs = selectors.inbox_list(user=user, filters=selectors.InboxFilter(view="breaching"), now=now)
    agg = qs.order_by().aggregate(
        total=Count("id"),
        breached=Count("id", filter=Q(sla_due__lt=now)),
    )
    total = int(agg["total"] or 0)
    breached = int(agg["breached"] or 0)
    return {
        "count": total,
        "breached": breached,
        "at_risk": total - breached,
        "rows": list(qs[:TOP]),
        "now": now,
        "url": _inbox_url(view="breaching"),
    }


def queue_health_context(user: User) -> dict[str, Any]:
    """Per visible queue: open, unassigned and the oldest open ticket (one query)."""
    rows = (
        Ticket.objects.visible_to(user)
        .filter(status__in=OPEN_STATUS_LIST, queue__isnull=False)
        .values("queue_id", "queue__name")
        .annotate(
            open=Count("id"),
            unassigned=Count("id", filter=Q(assignee__isnull=True)),
            oldest=Min("created_at"),
        )
        .order_by("-open", "queue__name")
    )
    queues = [
        {
            "name": r["queue__name"],
            "open": r["open"],
            "unassigned": r["unassigned"],
            "oldest": r["oldest"],
            "open_url": _inbox_url(view="open", queue=r["queue_id"]),
            "unassigned_url": _inbox_url(view="unassigned", queue=r["queue_id"]),
        }
        for r in rows
    ]
    return {
        "count": sum(q["open"] for q in queues),
        "queues": queues,
        "url": _inbox_url(view="open"),
    }


def goodwill_context(user: User) -> dict[str, Any]:
    """Goodwill requests waiting for a decision (the inbox lists them for team leads)."""
    waiting = GoodwillGrant.objects.visible_to(user).filter(status=GoodwillGrant.Status.REQUESTED)
    return {
        "count": waiting.count(),
        "rows": selectors.goodwill_pending(user=user)[:TOP],
        "url": reverse("service:inbox") + "#pending-goodwill",
    }
