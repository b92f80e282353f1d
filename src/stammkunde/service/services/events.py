"""What every ticket event leaves behind: a timeline entry and, where needed, a notification."""

from __future__ import annotations

from collections.abc import Mapping
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
    actor: User | None,
    text_key: str = "",
    text_params: Mapping[str, Any] | None = None,
    summary: str = "",
    at: datetime | None = None,
    channel: str | None = None,
    direction: str = InteractionDirection.INTERNAL,
) -> None:
    """Put a ticket event on the customer timeline (tickets without a customer have none).

    An event of the software is ``text_key`` (``service.timeline``) with
    ``text_params``, shown in the reader's language; the words of a person
    (a reply, a note) are ``summary``. Both start with the ticket number.
    """
    if ticket.customer is None:
        return
    interaction_record(
        customer=ticket.customer,
        occurred_at=at or timezone.now(),
        channel=channel or ticket.channel,
        direction=direction,
        kind=f"ticket_{kind}",
        text_key=text_key,
        text_params={"ticket": ticket.number, **(text_params or {})} if text_key else None,
        summary="" if text_key else f"{ticket.number}: {summary}",
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
