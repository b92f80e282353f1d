"""The inbound pipeline: one way in for every mail (file/pipe, LMTP/SMTP, IMAP).

``mail_ingest`` stores the raw bytes of every message and ends in exactly one
result. Why the order of steps:

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
from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from stammkunde.core.access import User
from stammkunde.core.audit import audit_record
from stammkunde.core.errors import ApplicationError

from .. import parsing
from ..models import InboundMessage, Mailbox, Result
from .config import mail_limits
from .routing import Quarantine, _route

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class IngestResult:
    result: str
    ticket_id: int | None
    reason: str = ""
    inbound_id: int | None = None


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


def inbound_expire(*, before: datetime, quarantine: bool, dry_run: bool) -> int:
    """Retention of inbound mail received before ``before``; return how many rows.

    ``quarantine=False``: drop the raw bytes of routed mails (ticket messages keep
    the text); ``quarantine=True``: delete quarantined mails nobody released.
    """
    if quarantine:
        qs = InboundMessage.objects.filter(received_at__lt=before, result=Result.QUARANTINED)
        if dry_run:
            return qs.count()
        InboundMessage.objects.filter(duplicate_of__in=qs.values("id")).update(duplicate_of=None)
        return qs.delete()[0]
    raw = (
        InboundMessage.objects.filter(received_at__lt=before)
        .exclude(result=Result.QUARANTINED)
        .exclude(size=0)
    )
    return raw.count() if dry_run else raw.update(raw=b"", size=0)
