"""Sending the outbox: claim, deliver by SMTP (or the configured backend), retry, fail."""

from __future__ import annotations

import logging
import smtplib
from datetime import datetime, timedelta
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime, getaddresses, parseaddr
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from stammkunde.core.errors import ApplicationError
from stammkunde.core.hooks import hook_run
from stammkunde.customers.models import Channel
from stammkunde.customers.selectors import contacts_suppressed

from ..models import OutboxMessage
from ..servers import (
    SMTP_BACKEND,
    PasswordUnavailable,
    outgoing_config,
    settings_config,
    smtp_open,
)
from .outbox import outbox_enqueue_reply

log = logging.getLogger(__name__)


STALE_SENDING = timedelta(minutes=10)
OUTBOX_MAX_ATTEMPTS = 10
OUTBOX_BACKOFF_BASE = timedelta(minutes=1)
OUTBOX_BACKOFF_MAX = timedelta(hours=6)


def outbox_build(outbox: OutboxMessage) -> EmailMessage:
    """The MIME message: text + HTML alternative, attachments, stable threading headers."""
    msg = EmailMessage(policy=policy.SMTP)
    msg["From"] = outbox.sender
    msg["To"] = outbox.to
    msg["Subject"] = outbox.subject
    msg["Date"] = format_datetime(outbox.created_at)
    msg["Message-ID"] = f"<{outbox.message_id}>"
    if outbox.in_reply_to:
        msg["In-Reply-To"] = f"<{outbox.in_reply_to}>"
    if outbox.references:
        msg["References"] = outbox.references
    if outbox.ticket_id:
        msg["X-Stammkunde-Ticket"] = outbox.ticket.number if outbox.ticket else ""
    if outbox.kind in (OutboxMessage.Kind.CONFIRMATION, OutboxMessage.Kind.SURVEY):
        msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies to it
    for name, value in (outbox.headers or {}).items():
        msg[name] = value
    msg.set_content(outbox.body_text)
    if outbox.body_html:
        msg.add_alternative(outbox.body_html, subtype="html")
    if outbox.attachment_ids:
        from stammkunde.service.models import Attachment

        for att in Attachment.objects.filter(pk__in=outbox.attachment_ids).order_by("id"):
            content_type = att.content_type or "application/octet-stream"
            maintype, _sep, subtype = content_type.partition("/")
            with att.file.open("rb") as fh:
                msg.add_attachment(
                    fh.read(),
                    maintype=maintype,
                    subtype=subtype or "octet-stream",
                    filename=att.name,
                )
    return msg


class _Permanent(Exception):
    pass


def _backend_deliver(outbox: OutboxMessage, msg: EmailMessage, recipients: list[str]) -> None:
    """Hand the built message to a non-SMTP Django backend (console, file, test memory)."""
    from django.core.mail import EmailMessage as DjangoMessage
    from django.core.mail import get_connection

    class _Prebuilt(DjangoMessage):
        def message(self) -> Any:  # type: ignore[override]  # the MIME message is built
            return msg

    _Prebuilt(
        subject=outbox.subject,
        body=outbox.body_text,
        from_email=outbox.sender,
        to=recipients,
        headers=dict(outbox.headers or {}),
        connection=get_connection(),
    ).send(fail_silently=False)


def _smtp_deliver(outbox: OutboxMessage) -> None:
    """Hand the mail to the SMTP relay; raise _Permanent for 5xx, OSError/SMTP errors else.

    The relay is the one set on the settings page (``OutgoingServer``), else the
    ``EMAIL_*`` settings. Without the former and with another ``EMAIL_BACKEND``
    (console in development, memory in tests) the mail goes to that backend
    instead, so every mail takes this one path.
    """
    msg = outbox_build(outbox)
    recipients = [a for _, a in getaddresses([outbox.to]) if a]
    try:
        config = outgoing_config()
    except PasswordUnavailable as exc:
        raise smtplib.SMTPException(str(exc)) from exc
    if config is None and settings.EMAIL_BACKEND != SMTP_BACKEND:
        _backend_deliver(outbox, msg, recipients)
        return
    smtp = smtp_open(config or settings_config())
    try:
        envelope_from = parseaddr(outbox.sender)[1] or outbox.sender
        try:
            smtp.sendmail(envelope_from, recipients, msg.as_bytes())
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _m in exc.recipients.values()]
            if codes and all(code >= 500 for code in codes):
                raise _Permanent(f"recipient refused: {exc.recipients}") from exc
            raise
        except smtplib.SMTPResponseException as exc:
            if exc.smtp_code >= 500:
                raise _Permanent(f"{exc.smtp_code} {exc.smtp_error!r}") from exc
            raise
    finally:
        try:
            smtp.quit()
        except (smtplib.SMTPException, OSError):
            smtp.close()


def outbox_backoff(attempts: int) -> timedelta:
    """1, 2, 4, 8 ... minutes after the n-th failed attempt, at most 6 hours."""
    return min(OUTBOX_BACKOFF_BASE * (2 ** max(attempts - 1, 0)), OUTBOX_BACKOFF_MAX)


def outbox_send(*, outbox_id: int, now: datetime | None = None) -> str:
    """Send one due outbox mail; returns sent, retry, failed or skipped.

    The row is claimed with a conditional UPDATE (queued → sending) so two
    workers never send it both; it is marked sent only after the relay
    accepted it. A crash in between leaves it "sending"; after 10 minutes it is
    sent again with the same Message-ID, which mail clients collapse.
    """
    now = now or timezone.now()
    claimed = (
        OutboxMessage.objects.filter(pk=outbox_id)
        .filter(
            Q(status=OutboxMessage.Status.QUEUED, next_attempt_at__lte=now)
            | Q(status=OutboxMessage.Status.SENDING, sending_since__lt=now - STALE_SENDING)
        )
        .update(status=OutboxMessage.Status.SENDING, sending_since=now, attempts=F("attempts") + 1)
    )
    if not claimed:
        return "skipped"
    outbox = OutboxMessage.objects.select_related("ticket").get(pk=outbox_id)
    if contacts_suppressed(emails=[a for _, a in getaddresses([outbox.to]) if a]):
        _outbox_fail(outbox, "recipient address was erased (DSGVO suppression list)", now=now)
        return "failed"
    try:
        _smtp_deliver(outbox)
    except _Permanent as exc:
        _outbox_fail(outbox, str(exc), now=now)
        return "failed"
    except (smtplib.SMTPException, OSError) as exc:
        error = f"{type(exc).__name__}: {exc}"[:500]
        if outbox.attempts >= OUTBOX_MAX_ATTEMPTS:
            _outbox_fail(outbox, f"gave up after {outbox.attempts} attempts: {error}", now=now)
            return "failed"
        OutboxMessage.objects.filter(pk=outbox.pk).update(
            status=OutboxMessage.Status.QUEUED,
            last_error=error,
            sending_since=None,
            next_attempt_at=now + outbox_backoff(outbox.attempts),
        )
        return "retry"
    sent_at = timezone.now()
    OutboxMessage.objects.filter(pk=outbox.pk).update(
        status=OutboxMessage.Status.SENT, sent_at=sent_at, sending_since=None, last_error=""
    )
    # The app the mail belongs to (above channels) learns that it went out.
    hook_run("outbox_sent", kind=outbox.kind, reference_id=outbox.reference_id, sent_at=sent_at)
    return "sent"


def _outbox_fail(
    outbox: OutboxMessage,
    error: str,
    *,
    now: datetime,
    status: str = OutboxMessage.Status.FAILED,
) -> None:
    """Mark a mail failed (or bounced) for good and put a visible internal note on its ticket."""
    OutboxMessage.objects.filter(pk=outbox.pk).update(
        status=status, last_error=error[:500], sending_since=None, failed_at=now
    )
    if outbox.ticket_id is None:
        return
    from stammkunde.service import services as service
    from stammkunde.service.models import Message, Ticket

    ticket = Ticket.objects.get(pk=outbox.ticket_id)
    note = _("Email to %(to)s could not be delivered: %(error)s") % {
        "to": outbox.to,
        "error": error[:300],
    }
    try:
        with transaction.atomic():
            service.ticket_reply(
                actor=None,
                ticket=ticket,
                body=note,
                kind=Message.Kind.INTERNAL,
                channel=Channel.EMAIL,
                now=now,
            )
    except ApplicationError:
        log.warning("could not note delivery failure on ticket %s", ticket.pk)


def outbox_sweep(*, now: datetime | None = None) -> int:
    """Enqueue public email replies of the last two days that have no outbox row.

    Closes the gap between the reply's commit and its ``on_commit`` enqueue (a
    crash there would otherwise lose the mail).
    """
    from stammkunde.service.models import Message

    now = now or timezone.now()
    missing = Message.objects.filter(
        kind=Message.Kind.PUBLIC,
        direction=Message.Direction.OUTBOUND,
        channel__in=[Channel.EMAIL, Channel.WEB],
        created_at__gte=now - timedelta(days=2),
        created_at__lte=now - timedelta(minutes=1),
        outbox__isnull=True,
    ).select_related("ticket")
    count = 0
    for message in missing:
        if outbox_enqueue_reply(message) is not None:
            count += 1
    return count


def outbox_send_due(*, now: datetime | None = None, limit: int = 200) -> dict[str, int]:
    """Send every due outbox mail (queued and due, or stuck in sending); count outcomes."""
    now = now or timezone.now()
    outbox_sweep(now=now)
    due = list(
        OutboxMessage.objects.filter(
            Q(status=OutboxMessage.Status.QUEUED, next_attempt_at__lte=now)
            | Q(status=OutboxMessage.Status.SENDING, sending_since__lt=now - STALE_SENDING)
        )
        .order_by("next_attempt_at", "id")
        .values_list("pk", flat=True)[:limit]
    )
    counts: dict[str, int] = {}
    for pk in due:
        outcome = outbox_send(outbox_id=pk, now=now)
        counts[outcome] = counts.get(outcome, 0) + 1
    return counts
