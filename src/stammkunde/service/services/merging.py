"""Merging two tickets about one matter and splitting one about two."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from stammkunde.core.access import User, acting_user
from stammkunde.core.audit import audit_record
from stammkunde.core.errors import ApplicationError, ConflictError

from .. import sla, timeline
from ..models import (
    Attachment,
    Message,
    Status,
    Ticket,
    TicketArticle,
)
from .events import timeline_add
from .intake import ticket_create
from .ticket_state import ticket_lock, ticket_save

if TYPE_CHECKING:
    pass


@transaction.atomic
def ticket_merge(
    *,
    actor: User | None,
    source: Ticket,
    target: Ticket,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> Ticket:
    """Move everything of ``source`` into ``target`` and close ``source`` as merged.

    Both must be about the same customer (or the source has none yet).
    """
    now = now or timezone.now()
    if source.pk == target.pk:
        raise ApplicationError(
            _("A ticket cannot be merged into itself."),
            field_errors={"target": [_("Choose another ticket.")]},
        )
    first, second = sorted([source.pk, target.pk])
    locked = {
        t.pk: t
        for t in Ticket.objects.select_for_update(of=("self",))
        .select_related("queue__calendar", "customer")
        .filter(pk__in=[first, second])
        .order_by("pk")
    }
    src, dst = locked[source.pk], locked[target.pk]
    if expected_version is not None and src.version != expected_version:
        raise ConflictError(_("Someone else changed this ticket meanwhile; reload."), code="stale")
    if dst.status == Status.CLOSED or src.status == Status.CLOSED:
        raise ApplicationError(
            _("Closed tickets cannot be merged."),
            code="closed",
            field_errors={"target": [_("The ticket is closed.")]},
        )
    if src.customer_id and dst.customer_id and src.customer_id != dst.customer_id:
        raise ApplicationError(
            _("The tickets belong to different customers."),
            field_errors={"target": [_("Another customer's ticket.")]},
        )
    src.messages.update(ticket=dst)
    src.attachments.update(ticket=dst)
    src.goodwill.update(ticket=dst)
    for use in TicketArticle.objects.filter(ticket=src):
        TicketArticle.objects.get_or_create(
            ticket=dst,
            article_id=use.article_id,
            defaults={"used_by": use.used_by, "used_at": use.used_at},
        )
    Message.objects.create(
        ticket=dst,
        kind=Message.Kind.INTERNAL,
        direction=Message.Direction.INTERNAL,
        author=acting_user(actor),
        body=_("Merged from %(number)s: %(subject)s")
        % {"number": src.number, "subject": src.subject},
        channel=dst.channel,
        created_at=now,
    )
    if dst.customer_id is None and src.customer_id:
        dst.customer = src.customer
    src.merged_into = dst
    old = src.status
    src.status = Status.CLOSED
    src.closed_at = now
    sla.sla_on_status(src, old=old, new=Status.CLOSED, now=now)
    ticket_save(src, now)
    ticket_save(dst, now)
    audit_record(
        actor=actor,
        action="merge",
        obj=dst,
        customer_id=dst.customer_id,
        changes={"merged": src.number},
    )
    timeline_add(
        dst,
        kind="merged",
        text_key=timeline.MERGED,
        text_params={"source": src.number},
        actor=actor,
        at=now,
    )
    return dst


@transaction.atomic
def ticket_split(
    *,
    actor: User | None,
    ticket: Ticket,
    message_ids: Iterable[int],
    subject: str,
    now: datetime | None = None,
) -> Ticket:
    """Move some customer messages of a ticket into a new ticket about a separate matter."""
    now = now or timezone.now()
    locked = ticket_lock(ticket, None)
    ids = {int(i) for i in message_ids}
    messages = list(locked.messages.filter(pk__in=ids).order_by("created_at", "id"))
    if not messages or len(messages) != len(ids):
        raise ApplicationError(
            _("Choose messages of this ticket to split off."),
            field_errors={"message_ids": [_("Unknown messages.")]},
        )
    if locked.messages.exclude(pk__in=ids).count() == 0:
        raise ApplicationError(
            _("At least one message must stay on the ticket."),
            field_errors={"message_ids": [_("Leave one message.")]},
        )
    new = ticket_create(
        actor=actor,
        subject=subject or locked.subject,
        body=messages[0].body,
        queue=locked.queue,
        customer=locked.customer,
        sender_email=locked.sender_email,
        type=locked.type,
        category=locked.category,
        channel=messages[0].channel,
        priority=locked.priority,
        team=locked.team,
        now=now,
        from_customer=messages[0].direction == Message.Direction.INBOUND,
    )
    new.messages.all().delete()  # the moved messages keep their original time and author
    Message.objects.filter(pk__in=ids).update(ticket=new)
    Attachment.objects.filter(message_id__in=ids).update(ticket=new)
    new.split_from = locked
    new.save(update_fields=["split_from"])
    ticket_save(locked, now)
    timeline_add(
        locked,
        kind="split",
        text_key=timeline.SPLIT,
        text_params={"number": new.number},
        actor=actor,
        at=now,
    )
    return new
