"""Reads of the channels app, always starting from the access predicate."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from stammkunde.core.access import User, access_object

from .models import ContactLog, InboundMessage, OutboxMessage, Result


def quarantine_list(*, user: User) -> QuerySet[InboundMessage]:
    """Quarantined messages the user may see (admins: all), newest first, without raw bytes."""
    return (
        InboundMessage.objects.visible_to(user)
        .filter(result=Result.QUARANTINED)
        .defer("raw")
        .select_related("mailbox")
        .order_by("-id")
    )


def inbound_get(*, user: User, pk: Any) -> InboundMessage:
    """One inbound message the user may see, or 404."""
    return access_object(InboundMessage.objects.select_related("mailbox", "ticket"), user, pk=pk)


def ticket_mail_state(*, user: User, ticket_id: int) -> dict[str, Any]:
    """Inbound originals and outbound mails of a ticket, for the ticket page."""
    return {
        "inbound": list(
            InboundMessage.objects.visible_to(user)
            .filter(ticket_id=ticket_id)
            .defer("raw")
            .order_by("id")
        ),
        "outbound": list(
            OutboxMessage.objects.visible_to(user).filter(ticket_id=ticket_id).order_by("id")
        ),
    }


def customer_contact_panel_context(customer: Any, user: User) -> dict[str, Any]:
    """The contact-log form and the last logged contacts for the customer page."""
    from .forms import ContactLogForm

    return {
        "form": ContactLogForm(customer=customer),
        "logs": list(
            ContactLog.objects.visible_to(user)
            .filter(customer=customer)
            .select_related("agent", "ticket")[:10]
        ),
        "customer": customer,
    }
