"""The texts ticket events write on the customer timeline (keys and parameters, see
``customers.timeline_texts``): registered in ``ServiceConfig.ready``.

Every entry of a ticket starts with its number: ``timeline_add`` adds the
parameter ``ticket``, and each text here is registered behind "%(ticket)s: ".
Replies, notes, customer messages, attachment names and sales notes are the
words of people, not of the software: they are stored as ``summary`` only.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

CREATED = "service.ticket_created"
FCR_BROKEN = "service.ticket_fcr_broken"
STATUS = "service.ticket_status"
ASSIGNED = "service.ticket_assigned"
CHANGED = "service.ticket_changed"
MERGED = "service.ticket_merged"
SPLIT = "service.ticket_split"
FOLLOW_UP = "service.ticket_follow_up"
GOODWILL_GRANTED = "service.goodwill_granted"
GOODWILL_REQUESTED = "service.goodwill_requested"
GOODWILL_APPROVED = "service.goodwill_approved"
GOODWILL_APPROVED_NOTE = "service.goodwill_approved_note"
GOODWILL_REJECTED = "service.goodwill_rejected"
GOODWILL_REJECTED_NOTE = "service.goodwill_rejected_note"
SLA_BREACH = "service.sla_breach"
SLA_WARNING = "service.sla_warning"

# The goodwill limits (GoodwillLimit.scope) and SLA parts (sla._COMPONENTS), shown by code.
LIMIT_LABELS = {
    "ticket": _("per ticket"),
    "customer": _("per customer and month"),
    "month": _("per agent and month"),
}
SLA_PART_LABELS = {
    "first_response": _("first response"),
    "next_response": _("next response"),
    "resolution": _("resolution"),
}


def timeline_texts_register() -> None:
    from stammkunde.customers.services import (
        timeline_amount,
        timeline_amount_grouped,
        timeline_choice,
        timeline_list,
        timeline_text_register,
    )

    from .models import GoodwillGrant, Status, Ticket

    def ticket_text(key: str, text: Any, **formats: Any) -> None:
        timeline_text_register(key, format_lazy("%(ticket)s: {}", text), **formats)

    def field_name(name: str) -> str:
        try:
            return str(Ticket._meta.get_field(name).verbose_name)  # type: ignore[union-attr]
        except FieldDoesNotExist:  # a field that is gone shows its name
            return name

    status = timeline_choice(Status)
    ticket_text(CREATED, "%(type)s: %(subject)s", type=timeline_choice(Ticket.Type))
    ticket_text(FCR_BROKEN, _("contacted again about the same matter (%(number)s)"))
    ticket_text(STATUS, _("status %(old)s → %(new)s"), old=status, new=status)
    ticket_text(ASSIGNED, _("assigned to %(user)s"))
    ticket_text(CHANGED, _("changed: %(fields)s"), fields=timeline_list(field_name))
    ticket_text(MERGED, _("%(source)s merged into this ticket"))
    ticket_text(SPLIT, _("split into %(number)s"))
    ticket_text(FOLLOW_UP, _("new message opened %(number)s"))
    kind = timeline_choice(GoodwillGrant.Kind)
    ticket_text(
        GOODWILL_GRANTED,
        _("Goodwill granted: %(kind)s %(amount)s EUR (%(reason)s)"),
        kind=kind,
        amount=timeline_amount,
    )
    ticket_text(
        GOODWILL_REQUESTED,
        format_lazy(
            "{}. {}",
            _("Goodwill requested from a team lead: %(kind)s %(amount)s EUR (%(reason)s)"),
            _(
                "Above the limit %(label)s of %(limit)s €: %(used)s € are already granted or "
                "requested, %(left)s € are left."
            ),
        ),
        kind=kind,
        amount=timeline_amount,
        label=timeline_choice(LIMIT_LABELS),
        limit=timeline_amount_grouped,
        used=timeline_amount_grouped,
        left=timeline_amount_grouped,
    )
    approved = _("Goodwill %(amount)s EUR approved by %(user)s")
    rejected = _("Goodwill %(amount)s EUR rejected by %(user)s")
    ticket_text(GOODWILL_APPROVED, approved, amount=timeline_amount)
    ticket_text(GOODWILL_REJECTED, rejected, amount=timeline_amount)
    ticket_text(
        GOODWILL_APPROVED_NOTE, format_lazy("{}: %(note)s", approved), amount=timeline_amount
    )
    ticket_text(
        GOODWILL_REJECTED_NOTE, format_lazy("{}: %(note)s", rejected), amount=timeline_amount
    )
    ticket_text(
        SLA_BREACH,
        _("SLA breached on %(number)s: %(parts)s"),
        parts=timeline_list(timeline_choice(SLA_PART_LABELS)),
    )
    ticket_text(SLA_WARNING, _("SLA due in %(minutes)d working minutes on %(number)s"))
