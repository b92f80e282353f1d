"""Contacts that are not mail: the public web form and the phone/letter/social contact log."""

from __future__ import annotations

from datetime import datetime
from email.utils import formataddr
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from stammkunde.core.access import User, acting_user
from stammkunde.core.errors import ApplicationError
from stammkunde.customers.models import Channel, Customer, Interaction
from stammkunde.customers.selectors import customer_matching_email
from stammkunde.customers.services import interaction_record

from .. import parsing
from ..models import ContactLog
from .outbox import outbox_enqueue_confirmation
from .routing import Quarantine, _prospect, _queue


def _default_queue() -> Any:
    try:
        return _queue(None)
    except Quarantine as exc:
        raise ApplicationError(_("The service desk has no queue yet."), code="no_queue") from exc


@transaction.atomic
def contact_form_submit(
    *,
    name: str,
    email: str,
    type: str,
    message: str,
    subject: str = "",
    order_number: str = "",
    language: str = "de",
) -> Any:
    """Open a ticket from the public web form and queue the confirmation mail.

    The order is linked only when it belongs to the sender; otherwise its
    number is kept in the text (nobody learns whether the number exists).
    """
    from stammkunde.commerce.models import Order
    from stammkunde.service import services as service

    address = email.strip().lower()
    customer = customer_matching_email(address=address)
    if customer is None:
        parsed = parsing.ParsedMail(from_address=address, from_name=name)
        customer = _prospect(parsed)
        if customer is None:
            raise ApplicationError(
                _("Please enter a valid email address."),
                field_errors={"email": [_("Enter a valid email address.")]},
            )
    order = None
    body = message.strip()
    order_number = order_number.strip()
    if order_number:
        order = Order.objects.filter(number=order_number, customer=customer).first()
        label = _("Order number")
        body = f"{label}: {order_number}\n\n{body}"
    ticket = service.ticket_create(
        actor=None,
        subject=(subject.strip() or body.splitlines()[0] if body else "")[:200] or _("Web form"),
        body=body,
        queue=_default_queue(),
        customer=customer,
        sender_email=address,
        type=type,
        channel=Channel.WEB,
        links=service.TicketLinks(order=order) if order else None,
    )
    outbox_enqueue_confirmation(ticket=ticket, to=formataddr((name, address)), language=language)
    return ticket


# --------------------------------------------------------------------------- contact log


@transaction.atomic
def contact_log_record(
    *,
    actor: User,
    customer: Customer,
    channel: str,
    direction: str,
    outcome: str,
    note: str = "",
    duration_seconds: int | None = None,
    ticket: Any = None,
    open_ticket: bool = False,
    subject: str = "",
    occurred_at: datetime | None = None,
) -> ContactLog:
    """Record a phone call, letter or social-media contact on a customer or ticket.

    On a ticket it becomes a message of that ticket (a customer message when
    inbound, a public reply when outbound), so first-contact resolution counts
    every channel; with ``open_ticket`` an inbound contact opens a new ticket.
    """
    from stammkunde.service import services as service
    from stammkunde.service.models import Message

    if channel not in (Channel.PHONE, Channel.LETTER, Channel.SOCIAL, Channel.IN_PERSON):
        raise ApplicationError(
            _("Log phone, letter, social-media or in-person contacts here."),
            field_errors={"channel": [_("Not an offline channel.")]},
        )
    if ticket is not None and ticket.customer_id not in (None, customer.pk):
        raise ApplicationError(
            _("The ticket belongs to another customer."),
            field_errors={"ticket": [_("Another customer's ticket.")]},
        )
    occurred_at = occurred_at or timezone.now()
    entry = ContactLog(
        customer=customer,
        ticket=ticket,
        channel=channel,
        direction=direction,
        outcome=outcome,
        note=note.strip(),
        duration_seconds=duration_seconds,
        agent=acting_user(actor),
        occurred_at=occurred_at,
    )
    parsing_ok = entry.get_direction_display() and entry.get_outcome_display()
    if not parsing_ok:
        raise ApplicationError(_("Unknown direction or outcome."), code="invalid")
    entry.save()
    minutes = f", {round(duration_seconds / 60)} min" if duration_seconds else ""
    summary = (
        f"{entry.get_channel_display()} ({entry.get_direction_display()}{minutes}): "
        f"{entry.get_outcome_display()}" + (f" – {entry.note}" if entry.note else "")
    )
    inbound = direction == ContactLog.Direction.INBOUND
    if ticket is not None:
        service.ticket_reply(
            actor=actor,
            ticket=ticket,
            body=summary,
            from_customer=inbound,
            kind=Message.Kind.PUBLIC,
            channel=channel,
            now=occurred_at,
        )
    elif open_ticket and inbound:
        entry.ticket = service.ticket_create(
            actor=actor,
            subject=(subject.strip() or summary)[:200],
            body=summary,
            queue=_default_queue(),
            customer=customer,
            channel=channel,
            now=occurred_at,
        )
        entry.save(update_fields=["ticket"])
    else:
        interaction_record(
            customer=customer,
            occurred_at=occurred_at,
            channel=channel,
            direction=Interaction.Direction.INBOUND if inbound else Interaction.Direction.OUTBOUND,
            kind=f"contact_{channel}",
            summary=summary,
            source=entry,
            actor=actor,
        )
    return entry
