"""Every write of the channels app: the inbound pipeline, the outbox, the web form, contact logs.

One pipeline for all ways in (file/pipe, LMTP/SMTP, IMAP): ``mail_ingest``
stores the raw bytes of every message and ends in exactly one result. Tickets
and messages are written only through ``stammkunde.service.services``.

Why the order of steps in ``mail_ingest``:

1. the same mailbox UID again is answered from the table without parsing;
2. parsing happens outside any transaction (it is pure and may be slow);
3. in one transaction the inbound row is inserted *first* with its content
   digest (``dedupe_key`` is unique), so a concurrent or retried delivery of the
   same message blocks on, then fails on, that key and becomes a duplicate —
   before it has written any ticket;
4. any other failure rolls the transaction back and stores the message in the
   quarantine (raw bytes and reason) in a new transaction.
"""

from __future__ import annotations

import hashlib
import logging
import mimetypes
import re
import smtplib
import ssl
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, getaddresses, parseaddr
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone, translation
from django.utils.html import escape, linebreaks
from django.utils.translation import gettext as _

from stammkunde.core.access import User, acting_user
from stammkunde.core.audit import audit_record
from stammkunde.core.errors import ApplicationError
from stammkunde.customers.models import Channel, Customer, EmailAddress, Interaction
from stammkunde.customers.selectors import customer_matching_email
from stammkunde.customers.services import customer_create, interaction_record

from . import parsing
from .models import ContactLog, InboundMessage, Mailbox, OutboxMessage, Result

log = logging.getLogger(__name__)

TICKET_IN_SUBJECT = re.compile(r"\[#(\d{4}-\d{6,})\]")
STALE_SENDING = timedelta(minutes=10)
OUTBOX_MAX_ATTEMPTS = 10
OUTBOX_BACKOFF_BASE = timedelta(minutes=1)
OUTBOX_BACKOFF_MAX = timedelta(hours=6)


class Quarantine(Exception):
    """The message cannot be processed now; it goes to the quarantine with this reason."""


@dataclass(frozen=True)
class IngestResult:
    result: str
    ticket_id: int | None
    reason: str = ""
    inbound_id: int | None = None


def _setting(name: str, default: Any) -> Any:
    return getattr(settings, name, default)


def mail_limits() -> parsing.Limits:
    """The parser limits, adjustable in settings (``CHANNELS_MAX_MESSAGE_BYTES``)."""
    return parsing.Limits(max_bytes=_setting("CHANNELS_MAX_MESSAGE_BYTES", 25 * 1024 * 1024))


# --------------------------------------------------------------------------- inbound


def mail_ingest(
    *,
    raw: bytes,
    mailbox: Mailbox | None = None,
    source_uid: int | None = None,
    uidvalidity: int | None = None,
    source: str = InboundMessage.Source.FILE,
    now: datetime | None = None,
) -> IngestResult:
    """Store one raw RFC 5322 message and route it; always returns, never loses it.

    The result is one of new_ticket, appended, duplicate, auto_reply, bounce,
    quarantined. Only a failing database makes this raise (then nothing was
    stored, and the caller must not acknowledge the message).
    """
    now = now or timezone.now()
    raw = bytes(raw)
    if source_uid is not None and uidvalidity is None and mailbox is not None:
        uidvalidity = mailbox.uidvalidity
    if source_uid is not None and mailbox is not None:
        seen = (
            InboundMessage.objects.filter(mailbox=mailbox, uidvalidity=uidvalidity, uid=source_uid)
            .values_list("pk", "ticket_id")
            .first()
        )
        if seen:
            return IngestResult(
                Result.DUPLICATE, seen[1], "same mailbox UID fetched before", seen[0]
            )
    inbound = InboundMessage(
        mailbox=mailbox,
        source=source,
        uidvalidity=uidvalidity,
        uid=source_uid,
        raw=raw,
        size=len(raw),
        sha256=hashlib.sha256(raw).hexdigest(),
        received_at=now,
        result=Result.QUARANTINED,
    )
    return _process(inbound, now=now)


def _process(inbound: InboundMessage, *, now: datetime) -> IngestResult:
    raw = bytes(inbound.raw)
    try:
        parsed = parsing.parse_message(raw, limits=mail_limits())
    except parsing.MailRejected as exc:
        original = (
            InboundMessage.objects.filter(dedupe_key="raw:" + inbound.sha256)
            .exclude(pk=inbound.pk)
            .first()
        )
        if original is not None:
            return _store_duplicate(inbound, original)
        return _store_quarantine(inbound, reason=exc.reason, key="raw:" + inbound.sha256)
    except Exception as exc:  # noqa: BLE001 - a parser bug must not lose the message
        log.exception("parser failed on inbound message")
        return _store_quarantine(
            inbound,
            reason=f"parser error: {type(exc).__name__}: {exc}",
            key="raw:" + inbound.sha256,
        )
    inbound.message_id = parsed.message_id
    inbound.from_address = parsed.from_address[:254]
    inbound.subject = parsed.subject[:300]
    key = parsed.content_key()
    try:
        with transaction.atomic():
            inbound.dedupe_key = key
            inbound.result = Result.QUARANTINED
            inbound.reason = "processing"
            _storable(inbound)
            inbound.save()  # the claim: a twin waits here and then fails on dedupe_key
            result, ticket_id, message_pk, reason = _route(parsed, inbound, now=now)
            InboundMessage.objects.filter(pk=inbound.pk).update(
                result=result,
                ticket_id=ticket_id,
                service_message_id=message_pk,
                reason=reason[:500],
                parsed_at=timezone.now(),
            )
        return IngestResult(result, ticket_id, reason, inbound.pk)
    except IntegrityError:
        _unsave(inbound)
        original = InboundMessage.objects.filter(dedupe_key=key).first()
        if original is None and inbound.uid is not None:
            seen = InboundMessage.objects.filter(
                mailbox=inbound.mailbox, uidvalidity=inbound.uidvalidity, uid=inbound.uid
            ).first()
            if seen:
                return IngestResult(
                    Result.DUPLICATE, seen.ticket_id, "same mailbox UID fetched before", seen.pk
                )
        if original is None:
            log.exception("integrity error while ingesting")
            return _store_quarantine(
                inbound, reason="the database refused the message (integrity error)", key=None
            )
        return _store_duplicate(inbound, original)
    except Quarantine as exc:
        _unsave(inbound)
        return _store_quarantine(inbound, reason=str(exc), key=key)
    except Exception as exc:  # noqa: BLE001 - anything else: keep the raw, say why
        log.exception("inbound message failed")
        _unsave(inbound)
        return _store_quarantine(inbound, reason=f"{type(exc).__name__}: {exc}", key=key)


def _storable(inbound: InboundMessage) -> None:
    """Make the text fields storable whatever the parser let through (no NUL, no surrogates)."""
    for name in ("message_id", "from_address", "subject", "reason"):
        value = parsing.clean_text(getattr(inbound, name) or "")
        limit = getattr(InboundMessage._meta.get_field(name), "max_length", None) or len(value)
        setattr(inbound, name, value[:limit])


def _unsave(inbound: InboundMessage) -> None:
    """Forget the primary key of a row whose insert was rolled back (reprocessing keeps it)."""
    if not getattr(inbound, "_reprocessing", False):
        inbound.pk = None
        inbound._state.adding = True


def _store_quarantine(inbound: InboundMessage, *, reason: str, key: str | None) -> IngestResult:
    """Keep the raw bytes and the reason; a retried delivery of it becomes a duplicate."""
    inbound.result = Result.QUARANTINED
    inbound.reason = reason[:500]
    inbound.parsed_at = timezone.now()
    inbound.ticket = None
    inbound.service_message = None
    _storable(inbound)
    with transaction.atomic():
        if key and InboundMessage.objects.filter(dedupe_key=key).exclude(pk=inbound.pk).exists():
            key = None
        inbound.dedupe_key = key
        inbound.save()
    return IngestResult(Result.QUARANTINED, None, inbound.reason, inbound.pk)


def _store_duplicate(inbound: InboundMessage, original: InboundMessage) -> IngestResult:
    """Record the second copy (with its raw bytes) pointing at the first one."""
    inbound.result = Result.DUPLICATE
    inbound.reason = f"same content as inbound message {original.pk}"
    inbound.dedupe_key = None
    inbound.duplicate_of = original
    inbound.ticket_id = original.ticket_id
    inbound.service_message = None
    inbound.parsed_at = timezone.now()
    _storable(inbound)
    try:
        with transaction.atomic():
            inbound.save()
    except IntegrityError:  # the same mailbox UID raced in twice: the first copy is enough
        return IngestResult(Result.DUPLICATE, original.ticket_id, inbound.reason, original.pk)
    return IngestResult(Result.DUPLICATE, original.ticket_id, inbound.reason, inbound.pk)


@transaction.atomic
def mail_reprocess(*, inbound_id: int, actor: User | None = None) -> IngestResult:
    """Run a quarantined message through the pipeline again (after a fix or configuration)."""
    inbound = InboundMessage.objects.select_for_update().filter(pk=inbound_id).first()
    if inbound is None:
        raise ApplicationError(_("No such inbound message."), code="not_found")
    if inbound.result != Result.QUARANTINED:
        raise ApplicationError(
            _("Only quarantined messages can be reprocessed."), code="not_quarantined"
        )
    inbound.attempts += 1
    inbound.dedupe_key = None
    inbound.save(update_fields=["attempts", "dedupe_key"])
    inbound._reprocessing = True  # type: ignore[attr-defined]
    result = _process(inbound, now=timezone.now())
    audit_record(
        actor=actor,
        action="update",
        obj=inbound,
        changes={"reprocessed": result.result, "reason": result.reason},
    )
    return result


# --------------------------------------------------------------------------- routing


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
    name = _setting("CHANNELS_DEFAULT_QUEUE", "")
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


def _bounce_apply(parsed: parsing.ParsedMail, *, now: datetime) -> str:
    """Mark a hard-bounced address undeliverable; mark the bounced outbox mail failed."""
    bounce = parsed.bounce
    if bounce is None or not bounce.recipient:
        return "bounce without a recognisable recipient"
    kind = "hard" if bounce.hard else "soft"
    reason = f"{kind} bounce for {bounce.recipient} {bounce.status}".strip()
    if bounce.hard:
        why = f"{bounce.status} {bounce.diagnostic}".strip()[:300] or "hard bounce"
        for row in EmailAddress.objects.select_related("customer").filter(
            address=bounce.recipient, undeliverable_at__isnull=True
        ):
            EmailAddress.objects.filter(pk=row.pk).update(
                undeliverable_at=now, undeliverable_reason=why
            )
            audit_record(
                actor=None,
                action="update",
                obj=row,
                customer_id=row.customer_id,
                changes={
                    "undeliverable_at": [None, now.isoformat()],
                    "undeliverable_reason": ["", why],
                },
            )
            interaction_record(
                customer=row.customer,
                occurred_at=now,
                channel=Channel.EMAIL,
                direction=Interaction.Direction.INBOUND,
                kind="email_bounce",
                summary=_("Email to %(address)s bounced: %(why)s")
                % {"address": row.address, "why": why},
            )
        if bounce.original_message_id:
            for out in OutboxMessage.objects.filter(message_id=bounce.original_message_id):
                _outbox_fail(out, f"bounced: {why}", now=now)
    return reason


# --------------------------------------------------------------------------- outbox


def _domain() -> str:
    address = parseaddr(settings.DEFAULT_FROM_EMAIL)[1]
    return address.rpartition("@")[2] or "stammkunde.invalid"


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
        sender=settings.DEFAULT_FROM_EMAIL,
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
    _kick(outbox.pk)
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
            "sender": settings.DEFAULT_FROM_EMAIL,
            "to": to,
            "subject": subject,
            "body_text": body,
            "body_html": linebreaks(escape(body)),
            "next_attempt_at": timezone.now(),
            "created_at": timezone.now(),
        },
    )
    transaction.on_commit(lambda: _kick(outbox.pk))
    return outbox


def _kick(outbox_id: int) -> None:
    """Try to send at once when configured (a worker or the eager runner does it)."""
    if not _setting("CHANNELS_SEND_IMMEDIATELY", True):
        return
    from .tasks import outbox_send

    try:
        outbox_send.delay(outbox_id)
    except Exception:  # noqa: BLE001 - the outbox run picks it up later
        log.warning("could not schedule sending of outbox %s", outbox_id, exc_info=True)


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
    if outbox.kind == OutboxMessage.Kind.CONFIRMATION:
        msg["Auto-Submitted"] = "auto-generated"
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


def _smtp_deliver(outbox: OutboxMessage) -> None:
    """Hand the mail to the SMTP relay; raise _Permanent for 5xx, OSError/SMTP errors else."""
    msg = outbox_build(outbox)
    recipients = [a for _, a in getaddresses([outbox.to]) if a]
    timeout = _setting("EMAIL_TIMEOUT", None) or 30
    if _setting("EMAIL_USE_SSL", False):
        smtp: smtplib.SMTP = smtplib.SMTP_SSL(
            settings.EMAIL_HOST, settings.EMAIL_PORT, timeout=timeout
        )
    else:
        smtp = smtplib.SMTP(settings.EMAIL_HOST, settings.EMAIL_PORT, timeout=timeout)
    try:
        if _setting("EMAIL_USE_TLS", False):
            smtp.starttls(context=ssl.create_default_context())
        if _setting("EMAIL_HOST_USER", ""):
            smtp.login(settings.EMAIL_HOST_USER, settings.EMAIL_HOST_PASSWORD)
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
    OutboxMessage.objects.filter(pk=outbox.pk).update(
        status=OutboxMessage.Status.SENT, sent_at=timezone.now(), sending_since=None, last_error=""
    )
    return "sent"


def _outbox_fail(outbox: OutboxMessage, error: str, *, now: datetime) -> None:
    """Mark a mail failed for good and put a visible internal note on its ticket."""
    OutboxMessage.objects.filter(pk=outbox.pk).update(
        status=OutboxMessage.Status.FAILED, last_error=error[:500], sending_since=None
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


# --------------------------------------------------------------------------- web form


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
