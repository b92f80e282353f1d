"""Reads of the channels app, always starting from the access predicate."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import Count, OuterRef, Q, QuerySet, Subquery

from stammkunde.core.access import User, access_object

from .models import ContactLog, InboundMessage, Mailbox, OutboxMessage, OutgoingServer, Result


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


def customer_data_export(customer: Any, *, emails: Any = ()) -> dict[str, Any]:
    """Raw inbound mails (as received), sent mails and contact logs about ``customer``."""
    from django.db.models import Q

    from stammkunde.core.personal import rows

    tickets = customer.tickets.values("id") if hasattr(customer, "tickets") else []
    inbound = InboundMessage.objects.filter(
        Q(ticket__in=tickets) | Q(from_address__in=list(emails))
    )
    return {
        "inbound_mails": rows(inbound),
        "outbound_mails": rows(OutboxMessage.objects.filter(ticket__in=tickets)),
        "contact_logs": rows(ContactLog.objects.filter(customer=customer)),
    }


def outbox_get(*, user: User, pk: Any) -> OutboxMessage:
    """One outbound mail the user may see (with its ticket), or 404."""
    return access_object(OutboxMessage.objects.select_related("ticket"), user, pk=pk)


def outbox_reference_subquery(*, kind: str, field: str = "status") -> Subquery:
    """``field`` of the outbox mail of kind ``kind`` whose reference is the outer row's id.

    For a higher app that keeps its own rows (a campaign's contacts) and reads
    their delivery from the outbox without importing channels models.
    """
    rows = OutboxMessage.objects.filter(kind=kind, reference_id=OuterRef("pk")).order_by("-id")
    return Subquery(rows.values(field)[:1])


def delivery_problems(*, since: datetime, limit: int = 10) -> dict[str, Any]:
    """Outgoing mail since ``since`` for a start page: counts per state and the latest failures.

    Counts: queued, deferred (an attempt failed, another follows), sent,
    failed, bounced. ``latest`` lists the newest failed or bounced mails with
    their reason and ticket. For admins and team leads (no access filter here:
    the caller decides who sees the figure).
    """
    rows = OutboxMessage.objects.filter(created_at__gte=since)
    agg = rows.aggregate(
        queued=Count("id", filter=Q(status__in=["queued", "sending"], attempts=0)),
        deferred=Count("id", filter=Q(status="queued", attempts__gt=0)),
        sent=Count("id", filter=Q(status="sent")),
        failed=Count("id", filter=Q(status="failed")),
        bounced=Count("id", filter=Q(status="bounced")),
    )
    latest = list(
        rows.filter(status__in=["failed", "bounced"])
        .select_related("ticket")
        .order_by("-failed_at", "-id")[:limit]
    )
    return {
        "counts": {k: int(v or 0) for k, v in agg.items()},
        "problems": int((agg["failed"] or 0) + (agg["bounced"] or 0) + (agg["deferred"] or 0)),
        "latest": latest,
    }


def mailboxes_list() -> list[Mailbox]:
    """Every incoming mailbox with its queue, by name (the settings page; admins only)."""
    return list(Mailbox.objects.select_related("queue").order_by("name"))


def mailbox_get(pk: Any) -> Mailbox | None:
    """One mailbox, or None."""
    return Mailbox.objects.select_related("queue").filter(pk=pk).first()


def outgoing_server_get() -> OutgoingServer | None:
    """The SMTP server row of the settings page (it may have no host: then ``EMAIL_*``)."""
    return OutgoingServer.objects.filter(pk=1).first()
