"""Erasure of a customer's personal data in the service desk (DSGVO Art. 17)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import Q

from stammkunde.core.personal import ERASED

from ..models import Attachment, GoodwillGrant, Message, Notification, Ticket

if TYPE_CHECKING:
    from stammkunde.customers.models import Customer


@transaction.atomic
def customer_data_erase(*, customer: Customer, emails: Iterable[str] = ()) -> dict[str, int]:
    """Blank the texts of the person's tickets, delete their attachments; keep the rows.

    Tickets stay (with the pseudonymous customer) so that volumes, SLA and FCR
    figures do not change; subjects, message bodies, resolutions, goodwill
    reasons and notification texts go, attachment files are deleted after commit.
    """
    tickets = Ticket.objects.filter(Q(customer=customer) | Q(sender_email__in=list(emails)))
    ids = list(tickets.values_list("id", flat=True))
    files = list(Attachment.objects.filter(ticket_id__in=ids).values_list("file", flat=True))
    counts = {
        "tickets": Ticket.objects.filter(id__in=ids).update(
            subject=ERASED, sender_email="", resolution=""
        ),
        "ticket_messages": Message.objects.filter(ticket_id__in=ids).update(body=ERASED),
        "ticket_attachments": Attachment.objects.filter(ticket_id__in=ids).delete()[0],
        "goodwill": GoodwillGrant.objects.filter(ticket_id__in=ids).update(
            reason=ERASED, decision_note=""
        ),
        "notifications": Notification.objects.filter(ticket_id__in=ids).update(text=ERASED),
    }

    def remove_files() -> None:
        storage = Attachment._meta.get_field("file").storage  # type: ignore[attr-defined]
        for name in files:
            if name:
                storage.delete(name)

    transaction.on_commit(remove_files)
    return counts


def closed_ticket_texts_expire(*, before: Any, dry_run: bool) -> int:
    """Retention: blank the texts of tickets closed before ``before``; return how many.

    The tickets stay for the figures (volumes, SLA, FCR); subjects, messages,
    resolutions and attachments go.
    """
    qs = Ticket.objects.filter(closed_at__lt=before).exclude(subject=ERASED)
    if dry_run:
        return qs.count()
    ids = list(qs.values_list("id", flat=True))
    files = list(Attachment.objects.filter(ticket_id__in=ids).values_list("file", flat=True))
    with transaction.atomic():
        Message.objects.filter(ticket_id__in=ids).update(body=ERASED)
        Attachment.objects.filter(ticket_id__in=ids).delete()
        count = Ticket.objects.filter(id__in=ids).update(subject=ERASED, resolution="")
    storage = Attachment._meta.get_field("file").storage  # type: ignore[attr-defined]
    for name in files:
        if name:
            storage.delete(name)
    return count
