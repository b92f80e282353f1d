"""What every ticket event leaves behind: a timeline entry and, where needed, a notification."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils import timezone

from stammkunde.core.access import User
from stammkunde.customers.selectors import InteractionDirection
from stammkunde.customers.services import interaction_record

from ..models import Notification, Ticket


def timeline_add(
    ticket: Ticket,
    *,
    kind: str,
    summary: str,
    actor: User | None,
    at: datetime | None = None,
    channel: str | None = None,
    direction: str = InteractionDirection.INTERNAL,
) -> None:
    """Put a ticket event on the customer timeline (tickets without a customer have none)."""
    if ticket.customer is None:
        return
    interaction_record(
        customer=ticket.customer,
        occurred_at=at or timezone.now(),
        channel=channel or ticket.channel,
        direction=direction,
        kind=f"ticket_{kind}",
        summary=f"{ticket.number}: {summary}",
        source=ticket,
        actor=actor,
    )


def notify(
    *, user: Any, ticket: Ticket | None, kind: str, text: str, now: datetime | None = None
) -> Notification:
    """Leave a notification for one user."""
    return Notification.objects.create(
        user=user, ticket=ticket, kind=kind, text=text[:300], created_at=now or timezone.now()
    )


def notifications_mark_read(*, user: Any, now: datetime | None = None) -> int:
    """Mark every unread notification of ``user`` as read and return how many."""
    return Notification.objects.filter(user_id=user.pk, read_at__isnull=True).update(
        read_at=now or timezone.now()
    )
