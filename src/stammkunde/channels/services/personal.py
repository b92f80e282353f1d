"""Personal data in the channels app: erasure (Art. 17) of mails and contact notes."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Q

from stammkunde.customers.models import Customer

from ..models import ContactLog, InboundMessage, OutboxMessage


@transaction.atomic
def customer_data_erase(*, customer: Customer, emails: Any = ()) -> dict[str, int]:
    """Erase raw mails, sent mail texts and contact-log notes of ``customer`` (Art. 17).

    Rows stay for the counts; the raw bytes, addresses, subjects and bodies go.
    ``sha256`` and ``dedupe_key`` (hashes) stay so that a re-fetched copy of an
    erased mail is still recognised as already received.
    """
    from stammkunde.core.personal import ERASED
    from stammkunde.service.models import Ticket

    tickets = Ticket.objects.filter(customer=customer).values("id")
    inbound = InboundMessage.objects.filter(
        Q(ticket__in=tickets) | Q(from_address__in=list(emails))
    )
    # Replies hang on the tickets; campaign and survey mails only name the address.
    outbound = Q(ticket__in=tickets)
    for address in emails:
        if address:
            outbound |= Q(to__icontains=address)
    return {
        "inbound_mails": inbound.update(
            raw=b"", from_address="", subject="", message_id="", reason=""
        ),
        "outbound_mails": OutboxMessage.objects.filter(outbound).update(
            to="",
            headers={},
            subject=ERASED,
            body_text=ERASED,
            body_html="",
            in_reply_to="",
            references="",
            last_error="",
        ),
        "contact_logs": ContactLog.objects.filter(customer=customer).update(note=""),
    }
