"""Replies, internal notes and customer messages on a ticket.

* A customer message on a **solved** ticket reopens it; on a **closed** ticket it
  opens a new ticket linked to the old one (``follow_up_of``).
* An agent cannot send a public reply on a closed ticket (internal notes are allowed).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from stammkunde.core.access import User, acting_user
from stammkunde.core.errors import ApplicationError
from stammkunde.core.hooks import hook_run
from stammkunde.customers.selectors import InteractionDirection
from stammkunde.knowledge import selectors as knowledge_selectors

from .. import sla, timeline
from ..models import (
    Message,
    Status,
    Ticket,
    TicketArticle,
)
from .events import timeline_add
from .intake import ticket_create
from .ticket_state import TicketLinks, status_transition, ticket_lock, ticket_save

if TYPE_CHECKING:
    pass


@transaction.atomic
def ticket_reply(
    *,
    actor: User | None,
    ticket: Ticket,
    body: str,
    kind: str = Message.Kind.PUBLIC,
    from_customer: bool = False,
    channel: str | None = None,
    then_status: str | None = None,
    expected_version: int | None = None,
    article_ids: Iterable[int] = (),
    now: datetime | None = None,
) -> Message:
    """Add a public reply, an internal note or a customer message to a ticket.

    A customer message on a solved ticket reopens it; on a closed ticket it
    opens a new ticket linked to the old one, and the returned message belongs
    to that new ticket. Agents cannot reply publicly on a closed ticket.
    ``then_status`` changes the status in the same step (e.g. "waiting for
    customer" or "solved"); ``article_ids`` records knowledge articles used.
    """
    now = now or timezone.now()
    if not body.strip():
        raise ApplicationError(
            _("The message must not be empty."),
            field_errors={"body": [_("This field is required.")]},
        )
    if kind not in Message.Kind.values:
        raise ApplicationError(_("Unknown message kind."), field_errors={"kind": [kind]})
    locked = ticket_lock(ticket, expected_version)
    if from_customer:
        return _customer_message(actor, locked, body, channel or locked.channel, now)
    if locked.status == Status.CLOSED and kind == Message.Kind.PUBLIC:
        raise ApplicationError(
            _(
                "The ticket is closed; a public reply is not possible. The customer's next "
                "message opens a new ticket."
            ),
            code="closed",
            field_errors={"body": [_("The ticket is closed.")]},
        )
    public = kind == Message.Kind.PUBLIC
    message = Message.objects.create(
        ticket=locked,
        kind=kind,
        direction=Message.Direction.OUTBOUND if public else Message.Direction.INTERNAL,
        author=acting_user(actor),
        body=body.strip(),
        channel=channel or locked.channel,
        created_at=now,
    )
    if public:
        # The channels app emails it after commit (core.hooks, no upward import).
        hook_run("ticket_public_reply", message=message)
        sla.sla_on_public_reply(locked, now=now)
        if locked.status in (Status.NEW, Status.REOPENED) and not then_status:
            status_transition(locked, Status.OPEN, actor=actor, now=now)
    if then_status:
        status_transition(locked, then_status, actor=actor, now=now)
    if locked.assignee_id is None and public and acting_user(actor) is not None:
        locked.assignee = acting_user(actor)
    _articles_use(locked, article_ids, actor, now)
    ticket_save(locked, now)
    timeline_add(
        locked,
        kind="reply" if public else "note",
        summary=body.strip().replace("\n", " ")[:200],
        actor=actor,
        at=now,
        channel=message.channel,
        direction=InteractionDirection.OUTBOUND if public else InteractionDirection.INTERNAL,
    )
    return message


def _customer_message(
    actor: User | None, ticket: Ticket, body: str, channel: str, now: datetime
) -> Message:
    if ticket.status == Status.CLOSED:
        follow_up = ticket_create(
            actor=actor,
            subject=ticket.subject,
            body=body,
            queue=ticket.queue,
            customer=ticket.customer,
            sender_email=ticket.sender_email,
            type=ticket.type,
            category=ticket.category,
            channel=channel,
            priority=ticket.priority,
            team=ticket.team,
            assignee=ticket.assignee,
            links=TicketLinks(
                order=ticket.order, order_line=ticket.order_line, product=ticket.product
            ),
            follow_up_of=ticket,
            now=now,
        )
        timeline_add(
            ticket,
            kind="follow_up",
            text_key=timeline.FOLLOW_UP,
            text_params={"number": follow_up.number},
            actor=actor,
            at=now,
        )
        return follow_up.messages.get()
    message = Message.objects.create(
        ticket=ticket,
        kind=Message.Kind.PUBLIC,
        direction=Message.Direction.INBOUND,
        author=None,
        body=body.strip(),
        channel=channel,
        created_at=now,
    )
    if ticket.status == Status.SOLVED:
        status_transition(ticket, Status.REOPENED, actor=actor, now=now)
    elif ticket.status == Status.WAITING_CUSTOMER:
        status_transition(ticket, Status.OPEN, actor=actor, now=now)
    sla.sla_on_customer_message(ticket, now=now)
    ticket_save(ticket, now)
    timeline_add(
        ticket,
        kind="customer_message",
        summary=body.strip()[:200],
        actor=actor,
        at=now,
        channel=channel,
        direction=InteractionDirection.INBOUND,
    )
    return message


def _articles_use(
    ticket: Ticket, article_ids: Iterable[int], actor: User | None, now: datetime
) -> None:
    ids = {int(i) for i in article_ids}
    if not ids or actor is None:
        return
    visible = knowledge_selectors.article_ids_visible(user=actor, ids=ids)
    TicketArticle.objects.bulk_create(
        [
            TicketArticle(ticket=ticket, article_id=pk, used_by=acting_user(actor), used_at=now)
            for pk in visible
        ],
        ignore_conflicts=True,
    )
