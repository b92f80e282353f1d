"""What every ticket use case shares: locking, saving, tags and the status rules.

Rules that live here and nowhere else:

* Status changes follow ``models.ALLOWED_TRANSITIONS``.
* A stale save (``expected_version`` differs) raises ``ConflictError``; nothing
  is overwritten.
* Closing a ticket that was not solved at first contact needs a root cause and
  a resolution.
* A reopened ticket keeps ``fcr_reason = reopened`` (the churn signal reads it).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext as _

from stammkunde.core.access import User
from stammkunde.core.errors import ApplicationError, ConflictError
from stammkunde.core.hooks import hook_run
from stammkunde.core.roles import is_internal, partner_id_of

from .. import sla, timeline
from ..models import (
    ALLOWED_TRANSITIONS,
    Message,
    Status,
    Ticket,
    TicketTag,
)
from .events import timeline_add

if TYPE_CHECKING:
    pass


AUDITED_FIELDS = (
    "subject",
    "customer",
    "type",
    "category",
    "priority",
    "queue",
    "team",
    "assignee",
    "status",
    "root_cause",
    "resolution",
    "order",
    "order_line",
    "product",
)
UNSET: Any = object()


def ticket_number_format(year: int, value: int) -> str:
    return f"{year}-{value:06d}"


def ticket_save(ticket: Ticket, now: datetime) -> None:
    ticket.version += 1
    ticket.updated_at = now
    ticket.save()


def assignee_check(ticket: Ticket) -> None:
    """Refuse an assignee who could not see the ticket: a partner agent of another partner.

    A partner agent sees only its partner's queues (``Ticket.objects.visible_to``); a
    ticket assigned to it elsewhere would hand another partner the customer's case.
    """
    assignee = ticket.assignee
    if assignee is None or is_internal(assignee):
        return
    if partner_id_of(assignee) is None or partner_id_of(assignee) != ticket.queue.partner_id:
        raise ApplicationError(
            _("%(user)s works for another service partner and cannot take tickets of this queue.")
            % {"user": assignee},
            field_errors={"assignee": [_("Not a member of this queue's service partner.")]},
            code="assignee_partner",
        )


def ticket_lock(ticket: Ticket, expected_version: int | None) -> Ticket:
    locked = (
        Ticket.objects.select_for_update(of=("self",))
        .select_related("queue__calendar", "customer", "sla_policy")
        .get(pk=ticket.pk)
    )
    if expected_version is not None and locked.version != expected_version:
        raise ConflictError(
            _(
                "Someone else changed this ticket meanwhile (now version %(v)s); "
                "nothing was saved. Reload and try again."
            )
            % {"v": locked.version},
            code="stale",
        )
    return locked


@dataclass(frozen=True)
class TicketLinks:
    """Order, order line and product a ticket is about (a return links its line)."""

    order: Any = None
    order_line: Any = None
    product: Any = None


def tags_for(names: Iterable[str]) -> list[TicketTag]:
    clean = sorted({n.strip().lower() for n in names if n and n.strip()})
    TicketTag.objects.bulk_create([TicketTag(name=n) for n in clean], ignore_conflicts=True)
    return list(TicketTag.objects.filter(name__in=clean))


def status_transition(ticket: Ticket, new: str, *, actor: User | None, now: datetime) -> None:
    """Move ``ticket`` (locked, unsaved) to status ``new`` and apply the rules of that step."""
    old = ticket.status
    if new == old:
        return
    if new not in ALLOWED_TRANSITIONS.get(old, frozenset()):
        raise ApplicationError(
            _("A ticket cannot go from %(old)s to %(new)s.")
            % {"old": Status(old).label, "new": Status(new).label},
            code="transition",
            field_errors={"status": [_("Not allowed from %(old)s.") % {"old": Status(old).label}]},
        )
    if new == Status.SOLVED:
        inbound = ticket.messages.filter(direction=Message.Direction.INBOUND).count()
        if ticket.first_contact_resolved is not False:
            ticket.first_contact_resolved = inbound <= 1
            ticket.fcr_reason = (
                Ticket.FcrReason.ONE_CONTACT if inbound <= 1 else Ticket.FcrReason.SEVERAL_CONTACTS
            )
        ticket.solved_at = now
    elif new == Status.REOPENED:
        ticket.first_contact_resolved = False
        ticket.fcr_reason = Ticket.FcrReason.REOPENED
        ticket.solved_at = None
    elif new == Status.CLOSED:
        if ticket.merged_into_id is None and ticket.first_contact_resolved is not True:
            errors = {}
            if ticket.root_cause_id is None:
                errors["root_cause"] = [_("Required: the ticket was not solved at first contact.")]
            if not ticket.resolution.strip():
                errors["resolution"] = [_("Required: the ticket was not solved at first contact.")]
            if errors:
                raise ApplicationError(
                    _(
                        "Closing a ticket not solved at first contact needs a root cause "
                        "and a resolution."
                    ),
                    code="root_cause_required",
                    field_errors=errors,
                )
        ticket.closed_at = now
    ticket.status = new
    sla.sla_on_status(ticket, old=old, new=new, now=now)
    timeline_add(
        ticket,
        kind="status",
        text_key=timeline.STATUS,
        text_params={"old": str(old), "new": str(new)},
        actor=actor,
        at=now,
    )
    if new == Status.SOLVED:
        hook_run("ticket_solved", ticket=ticket)
