"""The outbox: every mail we send is queued here first (replies, confirmations, campaigns).

A queued row has a stable Message-ID, so a retry or a second enqueue never
makes a second mail; ``sending`` sends it, retries it and records bounces.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.html import escape, linebreaks
from django.utils.translation import gettext as _

from stammkunde.core.access import User
from stammkunde.core.audit import audit_record
from stammkunde.core.errors import ApplicationError
from stammkunde.customers.models import Channel, EmailAddress

from ..models import InboundMessage, OutboxMessage, Result
from ..servers import default_sender
from .config import TICKET_IN_SUBJECT, sender_domain, setting

_domain = sender_domain


def reply_subject(ticket: Any) -> str:
    """``Re: <subject> [#<number>]`` — the number lets replies from any client thread."""
    subject = TICKET_IN_SUBJECT.sub("", ticket.subject).strip()
    if not re.match(r"(?i)^(re|aw|antw):", subject):
        subject = f"Re: {subject}"
    return f"{subject} [#{ticket.number}]"[:300]


def _recipient(ticket: Any) -> str:
    """Answer the address the customer last wrote from, else a deliverable customer address."""
    last = (
        InboundMessage.objects.filter(
            ticket=ticket, result__in=[Result.NEW_TICKET, Result.APPENDED]
        )
        .exclude(from_address="")
        .order_by("-id")
        .values_list("from_address", flat=True)
        .first()
    )
    if last:
        return last
    if ticket.customer_id:
        address = (
            EmailAddress.objects.filter(
                customer_id=ticket.customer_id, undeliverable_at__isnull=True
            )
            .order_by("-is_primary", "id")
            .values_list("address", flat=True)
            .first()
        )
        if address:
            return address
    return ticket.sender_email or ""


def _thread_headers(ticket: Any) -> tuple[str, str]:
    """(In-Reply-To, References) for a new mail on ``ticket``: every known id, oldest first."""
    rows: list[tuple[datetime, str]] = list(
        InboundMessage.objects.filter(ticket=ticket)
        .exclude(message_id="")
        .exclude(result__in=[Result.DUPLICATE, Result.QUARANTINED])
        .values_list("received_at", "message_id")
    )
    rows += list(
        OutboxMessage.objects.filter(ticket=ticket).values_list("created_at", "message_id")
    )
    rows.sort()
    ids = [mid for _, mid in rows][-20:]
    inbound_last = (
        InboundMessage.objects.filter(ticket=ticket)
        .exclude(message_id="")
        .exclude(result__in=[Result.DUPLICATE, Result.QUARANTINED])
        .order_by("-id")
        .values_list("message_id", flat=True)
        .first()
    )
    in_reply_to = inbound_last or (ids[-1] if ids else "")
    return in_reply_to, " ".join(f"<{i}>" for i in ids)


def outbox_enqueue_reply(message: Any) -> OutboxMessage | None:
    """Queue a public agent reply for sending by email; idempotent per message.

    Called by the service app after the reply is committed. Replies logged on
    another channel (phone, letter) and tickets without an address send nothing.
    """
    from stammkunde.service.models import Message

    if message.kind != Message.Kind.PUBLIC or message.direction != Message.Direction.OUTBOUND:
        return None
    if message.channel not in (Channel.EMAIL, Channel.WEB):
        return None
    existing = OutboxMessage.objects.filter(service_message=message).first()
    if existing is not None:
        return existing
    ticket = message.ticket
    to = _recipient(ticket)
    if not to:
        return None
    in_reply_to, references = _thread_headers(ticket)
    outbox = OutboxMessage(
        ticket=ticket,
        service_message=message,
        kind=OutboxMessage.Kind.REPLY,
        message_id=f"stammkunde.{ticket.number}.{message.pk}@{_domain()}",
        in_reply_to=in_reply_to,
        references=references,
        sender=default_sender(),
        to=to,
        subject=reply_subject(ticket),
        body_text=message.body,
        body_html=linebreaks(escape(message.body)),
        attachment_ids=list(message.attachments.values_list("pk", flat=True)),
        next_attempt_at=timezone.now(),
        created_at=timezone.now(),
    )
    try:
        with transaction.atomic():
            outbox.save()
    except IntegrityError:
        return OutboxMessage.objects.filter(service_message=message).first()
    _send_soon(outbox.pk)
    return outbox


def outbox_enqueue_confirmation(*, ticket: Any, to: str, language: str) -> OutboxMessage:
    """Queue the confirmation of a web-form request (marked auto-generated, RFC 3834)."""
    with translation.override(language):
        subject = _("We received your request [#%(number)s]") % {"number": ticket.number}
        body = _(
            "Thank you for your message. We have opened the request %(number)s "
            "('%(subject)s') and will answer as soon as possible.\n\n"
            "Please keep the number in the subject when you reply."
        ) % {"number": ticket.number, "subject": ticket.subject}
    outbox, _created = OutboxMessage.objects.get_or_create(
        message_id=f"stammkunde.{ticket.number}.confirmation@{_domain()}",
        defaults={
            "ticket": ticket,
            "kind": OutboxMessage.Kind.CONFIRMATION,
            "sender": default_sender(),
            "to": to,
            "subject": subject,
            "body_text": body,
            "body_html": linebreaks(escape(body)),
            "next_attempt_at": timezone.now(),
            "created_at": timezone.now(),
        },
    )
    _send_soon(outbox.pk)
    return outbox


def outbox_enqueue_campaign(
    *, reference_id: int, to: str, subject: str, body: str, headers: dict[str, str]
) -> OutboxMessage:
    """Queue one campaign mail for the contact ``reference_id``; idempotent per contact.

    Not kicked: the campaign dispatch sends it at once with ``outbox_send`` and
    the scheduled outbox run retries it like every other mail.
    """
    outbox, _created = OutboxMessage.objects.get_or_create(
        message_id=f"stammkunde.campaign.{reference_id}@{_domain()}",
        defaults={
            "kind": OutboxMessage.Kind.CAMPAIGN,
            "reference_id": reference_id,
            "sender": default_sender(),
            "to": to,
            "subject": subject[:300],
            "body_text": body,
            "headers": headers,
            "next_attempt_at": timezone.now(),
            "created_at": timezone.now(),
        },
    )
    return outbox


def outbox_enqueue_test(
    *, to: str, subject: str, body: str, headers: dict[str, str]
) -> OutboxMessage:
    """Queue a test mail (a campaign sent to its author): no reference, marked as a test.

    It goes the way every mail goes (relay, retries, delivery state), but belongs
    to no contact, so no campaign counts it as contacted or books its cost.
    """
    import uuid

    return OutboxMessage.objects.create(
        kind=OutboxMessage.Kind.CAMPAIGN,
        reference_id=None,
        message_id=f"stammkunde.test.{uuid.uuid4().hex}@{_domain()}",
        sender=default_sender(),
        to=to,
        subject=subject[:300],
        body_text=body,
        headers={**headers, "X-Stammkunde-Test": "yes"},
        next_attempt_at=timezone.now(),
        created_at=timezone.now(),
    )


def _enqueue_once(
    *, message_id: str, kind: str, to: str, subject: str, body: str, reference_id: int | None
) -> OutboxMessage:
    """Queue one mail under a Message-ID fixed by the caller; a second call returns the first.

    Kicked after commit: sent at once when configured, else by the scheduled run;
    retries, failures and bounces are the outbox's (``sending``, ``bounces``).
    """
    outbox, created = OutboxMessage.objects.get_or_create(
        message_id=message_id,
        defaults={
            "kind": kind,
            "reference_id": reference_id,
            "sender": default_sender(),
            "to": to,
            "subject": subject[:300],
            "body_text": body,
            "body_html": linebreaks(escape(body)),
            "next_attempt_at": timezone.now(),
            "created_at": timezone.now(),
        },
    )
    if created:
        _send_soon(outbox.pk)
    return outbox


def outbox_enqueue_survey(
    *, key: str, to: str, subject: str, body: str, reference_id: int | None = None
) -> OutboxMessage:
    """Queue a mail of the feedback app (an invitation, a referral ask); idempotent per ``key``.

    ``reference_id`` is the invitation's id: when the relay accepts the mail the
    hook ``outbox_sent`` reports it with kind "survey", so feedback marks the
    invitation sent only once it really went out.
    """
    return _enqueue_once(
        message_id=f"stammkunde.survey.{key}@{_domain()}",
        kind=OutboxMessage.Kind.SURVEY,
        to=to,
        subject=subject,
        body=body,
        reference_id=reference_id,
    )


def outbox_enqueue_signup_confirmation(
    *, key: str, to: str, subject: str, body: str, reference_id: int | None = None
) -> OutboxMessage:
    """Queue a double opt-in confirmation mail (marked auto-generated); idempotent per ``key``."""
    return _enqueue_once(
        message_id=f"stammkunde.signup.{key}@{_domain()}",
        kind=OutboxMessage.Kind.CONFIRMATION,
        to=to,
        subject=subject,
        body=body,
        reference_id=reference_id,
    )


def outbox_cancel(*, kind: str, reference_ids: list[int], reason: str) -> int:
    """Cancel the not yet sent mails of these references (consent withdrawn meanwhile)."""
    return OutboxMessage.objects.filter(
        kind=kind, reference_id__in=reference_ids, status=OutboxMessage.Status.QUEUED
    ).update(status=OutboxMessage.Status.CANCELLED, last_error=reason[:500])


@transaction.atomic
def outbox_retry(*, actor: User | None, outbox: OutboxMessage) -> OutboxMessage:
    """Queue a failed or deferred mail again, due now, with a fresh set of attempts (audited).

    A bounced mail may be retried too (the agent corrected the address
    elsewhere); the Message-ID stays, so a mail that did arrive is collapsed.
    """
    row = OutboxMessage.objects.select_for_update().get(pk=outbox.pk)
    if not row.retryable:
        raise ApplicationError(
            _("Only a failed or deferred mail can be sent again."), code="not_retryable"
        )
    now = timezone.now()
    before = {"status": row.delivery_state, "attempts": row.attempts, "last_error": row.last_error}
    OutboxMessage.objects.filter(pk=row.pk).update(
        status=OutboxMessage.Status.QUEUED,
        attempts=0,
        next_attempt_at=now,
        sending_since=None,
        failed_at=None,
    )
    audit_record(
        actor=actor,
        action="update",
        obj=row,
        changes={
            "status": [before["status"], "queued"],
            "attempts": [before["attempts"], 0],
            "retry_after_error": [before["last_error"], ""],
        },
    )
    transaction.on_commit(lambda: _send_soon(row.pk))
    row.refresh_from_db()
    return row


def _send_soon(outbox_id: int) -> None:
    """Try to send at once when configured (a worker or the eager runner does it)."""
    if not setting("CHANNELS_SEND_IMMEDIATELY", True):
        return
    from stammkunde.core.jobs.services import job_start

    # Sent once the caller's transaction commits; the scheduled outbox run retries.
    job_start(kind="channels.outbox_send", params={"outbox_id": outbox_id})
