"""First-contact resolution (FCR): the one definition, used by services and reports.

A ticket is **resolved at first contact** when it was solved after a single
customer contact (one inbound message, never reopened) **and** the customer
made no further contact about the same matter within 7 days after it was
solved, on any channel. "The same matter" means another ticket of the same
customer about the same order, or in the same category. See docs/service-desk.md.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _

FCR_WINDOW = timedelta(days=7)


def same_matter_q(ticket: Any) -> Q:
    """Return a filter for tickets of the same customer about the same order or category."""
    matter = Q(pk__in=[])
    if ticket.order_id:
        matter |= Q(order_id=ticket.order_id)
    if ticket.category_id:
        matter |= Q(category_id=ticket.category_id)
    return Q(customer_id=ticket.customer_id) & matter


def later_contact_exists() -> Exists:
    """An expression: the customer contacted us again about the same matter within 7 days."""
    from .models import Ticket

    return Exists(
        Ticket.objects.filter(
            customer_id=OuterRef("customer_id"),
            created_at__gt=OuterRef("solved_at"),
            created_at__lte=OuterRef("solved_at") + FCR_WINDOW,
        )
        .filter(Q(order_id=OuterRef("order_id")) | Q(category_id=OuterRef("category_id")))
        .exclude(pk=OuterRef("pk"))
    )


def fcr_state(ticket: Any, *, now: datetime | None = None) -> dict[str, Any] | None:
    """Return what the ticket page says about FCR: the flag, its reason, when it is final.

    None while the ticket was never solved. A "yes" stays provisional until the
    7-day window after solving has passed without a new contact.
    """
    if ticket.first_contact_resolved is None:
        return None
    now = now or timezone.now()
    reason = ticket.get_fcr_reason_display() if ticket.fcr_reason else ""
    if not reason:  # decided before the reason was kept
        reason = (
            _("solved at first contact")
            if ticket.first_contact_resolved
            else _("not solved at first contact")
        )
    final_on = None
    if ticket.first_contact_resolved and ticket.solved_at is not None:
        window_end = ticket.solved_at + FCR_WINDOW
        final_on = window_end if window_end > now else None
    return {"resolved": ticket.first_contact_resolved, "reason": reason, "final_on": final_on}
