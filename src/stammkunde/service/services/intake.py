"""Opening a ticket: from any channel, a follow-up, a split; FCR of earlier tickets.

Every event lands on the customer timeline.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from stammkunde.core.access import User, acting_user
from stammkunde.core.audit import audit_record, snapshot
from stammkunde.core.errors import ApplicationError, validated
from stammkunde.core.hooks import hook_run
from stammkunde.core.sequences import counter_next
from stammkunde.customers.selectors import InteractionDirection, customer_matching_email

from .. import sla, timeline
from ..fcr import FCR_WINDOW, same_matter_q
from ..models import (
    Category,
    Message,
    Priority,
    Queue,
    Team,
    Ticket,
)
from .events import timeline_add
from .ticket_state import (
    AUDITED_FIELDS,
    TicketLinks,
    assignee_check,
    tags_for,
    ticket_number_format,
)

if TYPE_CHECKING:
    from stammkunde.customers.models import Customer


@transaction.atomic
def ticket_create(
    *,
    actor: User | None,
    subject: str,
    body: str,
    queue: Queue,
    customer: Customer | None = None,
    sender_email: str = "",
    type: str = Ticket.Type.INQUIRY,
    category: Category | None = None,
    channel: str = "email",
    priority: str = Priority.NORMAL,
    team: Team | None = None,
    assignee: Any = None,
    tags: Iterable[str] = (),
    links: TicketLinks | None = None,
    from_customer: bool = True,
    follow_up_of: Ticket | None = None,
    now: datetime | None = None,
) -> Ticket:
    """Open a ticket with its first message and start the SLA clock.

    A sender email that belongs to a customer is matched at once. A new contact
    about the same matter within 7 days of a solved ticket marks that ticket as
    not solved at first contact (see docs/service-desk.md).
    """
    now = now or timezone.now()
    links = links or TicketLinks()
    if customer is None and sender_email:
        customer = customer_matching_email(address=sender_email)
    order_line, order, product = links.order_line, links.order, links.product
    if order_line is not None:
        order = order or order_line.order
        product = product or order_line.product
        if order_line.order_id != order.pk:
            raise ApplicationError(
                _("The order line belongs to another order."),
                field_errors={"order_line": [_("Not a line of this order.")]},
            )
    if order is not None and customer is not None and order.customer_id != customer.pk:
        raise ApplicationError(
            _("The order belongs to another customer."),
            field_errors={"order": [_("Not an order of this customer.")]},
        )
    if not body.strip():
        raise ApplicationError(
            _("The first message must not be empty."),
            field_errors={"body": [_("This field is required.")]},
        )
    ticket = Ticket(
        number="pending",
        subject=subject.strip(),
        customer=customer,
        sender_email=sender_email.strip().lower(),
        type=type,
        category=category,
        channel=channel,
        priority=priority,
        queue=queue,
        team=team or queue.team,
        assignee=assignee,
        order=order,
        order_line=order_line,
        product=product,
        follow_up_of=follow_up_of,
        created_at=now,
        updated_at=now,
    )
    if customer is None and not ticket.sender_email:
        raise ApplicationError(
            _("A ticket needs a customer or a sender email."),
            field_errors={"customer": [_("Choose a customer or give an email address.")]},
        )
    assignee_check(ticket)
    validated(ticket, exclude=["number"])
    ticket.number = ticket_number_format(now.year, counter_next(f"ticket-{now.year}"))
    sla.sla_start(ticket, now=now)
    ticket.save()
    if tags:
        ticket.tags.set(tags_for(tags))
    Message.objects.create(
        ticket=ticket,
        kind=Message.Kind.PUBLIC if from_customer else Message.Kind.INTERNAL,
        direction=Message.Direction.INBOUND if from_customer else Message.Direction.INTERNAL,
        author=None if from_customer else acting_user(actor),
        body=body.strip(),
        channel=channel,
        created_at=now,
    )
    audit_record(
        actor=actor,
        action="create",
        obj=ticket,
        customer_id=ticket.customer_id,
        changes=snapshot(ticket, AUDITED_FIELDS),
    )
    timeline_add(
        ticket,
        kind="created",
        text_key=timeline.CREATED,
        text_params={"type": ticket.type, "subject": ticket.subject},
        actor=actor,
        at=now,
        direction=InteractionDirection.INBOUND,
    )
    _mark_earlier_not_fcr(ticket, now=now)
    # Every channel (mail, web form, phone, survey follow-up, split) opens tickets here.
    hook_run("ticket_created", ticket=ticket)
    return ticket


def _mark_earlier_not_fcr(ticket: Ticket, *, now: datetime) -> None:
    """A new contact about the same matter breaks FCR of tickets solved within 7 days."""
    if ticket.customer_id is None:
        return
    earlier = (
        Ticket.objects.filter(same_matter_q(ticket))
        .filter(solved_at__gte=now - FCR_WINDOW, solved_at__lte=now)
        .exclude(pk=ticket.pk)
        .filter(first_contact_resolved=True)
    )
    for previous in earlier.select_for_update(of=("self",)):
        previous.first_contact_resolved = False
        previous.fcr_reason = Ticket.FcrReason.CONTACTED_AGAIN
        previous.save(update_fields=["first_contact_resolved", "fcr_reason"])
        timeline_add(
            previous,
            kind="fcr_broken",
            text_key=timeline.FCR_BROKEN,
            text_params={"number": ticket.number},
            actor=None,
            at=now,
        )
        if ticket.follow_up_of_id is None:
            ticket.follow_up_of = previous
            ticket.save(update_fields=["follow_up_of"])
