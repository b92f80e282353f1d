"""Routing of a parsed inbound mail: threading onto a ticket, new tickets, prospects."""

from __future__ import annotations

import mimetypes
import time
from datetime import datetime
from email.utils import parseaddr
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils.translation import gettext as _

from stammkunde.core.errors import ApplicationError
from stammkunde.customers.models import Channel, Customer, EmailAddress
from stammkunde.customers.selectors import customer_matching_email
from stammkunde.customers.services import customer_create

from .. import parsing
from ..models import InboundMessage, Mailbox, OutboxMessage, Result
from ..servers import default_sender
from .bounces import _bounce_apply
from .config import TICKET_IN_SUBJECT, setting


class Quarantine(Exception):
    """The message cannot be processed now; it goes to the quarantine with this reason."""


def _route(
    parsed: parsing.ParsedMail, inbound: InboundMessage, *, now: datetime
) -> tuple[str, int | None, int | None, str]:
    """Decide what the message is and write it; return (result, ticket, message, reason)."""
    if parsed.classification == parsing.BOUNCE:
        return Result.BOUNCE, None, None, _bounce_apply(parsed, now=now)
    own = _own_addresses()
    if parsed.classification == parsing.AUTO_REPLY or parsed.from_address in own:
        reason = parsed.classification_reason or "sent from our own address (loop)"
        ticket = _thread_by_ids(parsed)
        return Result.AUTO_REPLY, ticket.pk if ticket else None, None, reason
    if not parsed.from_address:
        raise Quarantine("no sender address (no usable From, Sender or Return-Path)")
    from stammkunde.service import services as service

    body, accepted = _body_and_attachments(parsed)
    ticket, how = _thread(parsed)
    if ticket is not None:
        message = service.ticket_reply(
            actor=None, ticket=ticket, body=body, from_customer=True, channel=Channel.EMAIL, now=now
        )
        _attachments_add(message, accepted)
        if message.ticket_id != ticket.pk:
            return (
                Result.NEW_TICKET,
                message.ticket_id,
                message.pk,
                f"{ticket.number} is closed; follow-up ticket opened",
            )
        return Result.APPENDED, ticket.pk, message.pk, how
    customer = customer_matching_email(address=parsed.from_address)
    reason = "known sender" if customer else "unknown sender, prospect created"
    if customer is None:
        customer = _prospect(parsed)
        if customer is None:
            raise Quarantine(f"sender address {parsed.from_address!r} is not valid")
    new = service.ticket_create(
        actor=None,
        subject=(parsed.subject or _("(no subject)"))[:200],
        body=body,
        queue=_queue(inbound.mailbox),
        customer=customer,
        sender_email=parsed.from_address if len(parsed.from_address) <= 254 else "",
        channel=Channel.EMAIL,
        now=now,
    )
    first = new.messages.order_by("id").first()
    if first is not None:
        _attachments_add(first, accepted)
    return Result.NEW_TICKET, new.pk, first.pk if first else None, how or reason


_OWN_ADDRESSES: tuple[float, frozenset[str]] = (0.0, frozenset())


def _own_addresses() -> frozenset[str]:
    """Our mailbox and sender addresses (cached for a minute: checked on every message)."""
    global _OWN_ADDRESSES
    loaded_at, addresses = _OWN_ADDRESSES
    if time.monotonic() - loaded_at > 60:
        found = {a.lower() for a in Mailbox.objects.values_list("address", flat=True)}
        found.add(parseaddr(settings.DEFAULT_FROM_EMAIL)[1].lower())
        found.add(parseaddr(default_sender())[1].lower())  # the settings page's sender
        addresses = frozenset(found)
        _OWN_ADDRESSES = (time.monotonic(), addresses)
    return addresses


def _thread_by_ids(parsed: parsing.ParsedMail) -> Any:
    """The ticket of the most specific known Message-ID this mail answers, or None."""
    from stammkunde.service.models import Ticket

    ids = parsed.thread_ids
    if not ids:
        return None
    found: dict[str, int] = {}
    for mid, ticket_id in (
        InboundMessage.objects.filter(message_id__in=ids, ticket__isnull=False)
        .exclude(result=Result.QUARANTINED)
        .values_list("message_id", "ticket_id")
    ):
        found.setdefault(mid, ticket_id)
    for mid, ticket_id in OutboxMessage.objects.filter(
        message_id__in=ids, ticket__isnull=False
    ).values_list("message_id", "ticket_id"):
        found.setdefault(mid, ticket_id)
    for mid in ids:
        if mid in found:
            ticket = Ticket.objects.filter(pk=found[mid]).first()
            seen = set()
            while ticket is not None and ticket.merged_into_id and ticket.pk not in seen:
                seen.add(ticket.pk)
                ticket = Ticket.objects.filter(pk=ticket.merged_into_id).first()
            return ticket
    return None


def _thread(parsed: parsing.ParsedMail) -> tuple[Any, str]:
    """Find the ticket a mail belongs to: Message-IDs first, then a number in the subject.

    The subject number counts only when the sender is an address of that
    ticket's customer (or its recorded sender), so nobody can write into
    another customer's case by copying a number.
    """
    from stammkunde.service.models import Ticket

    ticket = _thread_by_ids(parsed)
    if ticket is not None:
        return ticket, "threaded by In-Reply-To/References"
    match = TICKET_IN_SUBJECT.search(parsed.subject)
    if not match:
        return None, ""
    ticket = Ticket.objects.filter(number=match.group(1)).first()
    if ticket is None:
        return None, f"unknown ticket number {match.group(1)} in subject"
    sender = parsed.from_address
    belongs = ticket.sender_email == sender or (
        ticket.customer_id is not None
        and EmailAddress.objects.filter(customer_id=ticket.customer_id, address=sender).exists()
    )
    if not belongs:
        return None, f"sender is not the customer of {ticket.number}; new ticket"
    while ticket.merged_into_id:
        ticket = Ticket.objects.get(pk=ticket.merged_into_id)
    return ticket, "threaded by ticket number in subject"


def _prospect(parsed: parsing.ParsedMail) -> Customer | None:
    """Create a prospect for an unknown sender; None when the address is not valid."""
    name = parsed.from_name.strip().strip('"').strip()
    if "@" in name:
        name = ""
    if "," in name:
        last, _sep, first = name.partition(",")
    else:
        first, _sep, last = name.rpartition(" ")
    last = (last.strip() or first.strip() or parsed.from_address.split("@")[0])[:100]
    first = first.strip()[:100] if last != first.strip() else ""
    try:
        # customer_create validates everything before its first write: no savepoint needed
        return customer_create(
            actor=None, first_name=first, last_name=last, emails=[parsed.from_address]
        )
    except ApplicationError:
        return None


def _queue(mailbox: Mailbox | None) -> Any:
    from stammkunde.service.models import Queue

    if mailbox is not None and mailbox.queue_id:
        return mailbox.queue
    name = setting("CHANNELS_DEFAULT_QUEUE", "")
    queue = Queue.objects.filter(name=name).first() if name else None
    queue = queue or Queue.objects.filter(partner__isnull=True).order_by("id").first()
    if queue is None:
        raise Quarantine("no service queue is configured for new tickets")
    return queue


def _body_and_attachments(parsed: parsing.ParsedMail) -> tuple[str, list[parsing.Attachment]]:
    """The message text, with a note for attachments the service desk does not store.

    Those stay available from the kept raw message.
    """
    from stammkunde.service.services import ALLOWED_ATTACHMENT_TYPES, MAX_ATTACHMENT_BYTES

    accepted: list[parsing.Attachment] = []
    kept: list[str] = []
    for att in parsed.attachments:
        guessed = mimetypes.guess_type(att.filename)[0] or "application/octet-stream"
        if guessed in ALLOWED_ATTACHMENT_TYPES and 0 < att.size <= MAX_ATTACHMENT_BYTES:
            accepted.append(att)
        else:
            kept.append(f"{att.filename} ({att.content_type}, {att.size:,} bytes)")
    body = parsed.text.strip() or _("(no text)")
    if kept:
        body += (
            "\n\n" + _("Kept with the original mail:") + "\n" + "\n".join(f"- {k}" for k in kept)
        )
    return body[:200_000], accepted


def _attachments_add(message: Any, accepted: list[parsing.Attachment]) -> None:
    from stammkunde.service.services import attachment_add

    for att in accepted:
        upload = SimpleUploadedFile(att.filename, att.payload, content_type=att.content_type)
        try:
            attachment_add(actor=None, ticket=message.ticket, upload=upload, message=message)
        except ApplicationError:
            continue  # still in the raw message
