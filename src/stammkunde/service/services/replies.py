"""Reply templates with placeholders, and macros that set fields and reply in one step."""

from __future__ import annotations

import string
from typing import Any

from django.db import transaction

from stammkunde.core.access import User
from stammkunde.core.errors import ApplicationError

from ..models import Macro, Message, ReplyTemplate, Ticket
from .changes import ticket_change
from .conversation import ticket_reply
from .ticket_state import UNSET

PLACEHOLDERS = ("customer_name", "ticket_number", "order_number")


class _Placeholders(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"  # an unknown placeholder stays visible instead of failing


def placeholder_values(ticket: Ticket) -> dict[str, str]:
    """Return the values that templates may use for a ticket."""
    customer = ticket.customer
    order = ticket.order or (ticket.order_line.order if ticket.order_line is not None else None)
    return {
        "customer_name": customer.display_name if customer else ticket.sender_email,
        "ticket_number": ticket.number,
        "order_number": order.number if order else "",
    }


def template_render(*, template: ReplyTemplate | str, ticket: Ticket) -> str:
    """Fill ``{customer_name}``, ``{ticket_number}`` and ``{order_number}`` in a template."""
    text = template.body if isinstance(template, ReplyTemplate) else template
    try:
        return string.Formatter().vformat(text, (), _Placeholders(placeholder_values(ticket)))
    except (ValueError, IndexError, AttributeError, KeyError):
        return text  # a stray brace: send the text as written rather than fail


def template_for(*, template: ReplyTemplate, language: str) -> ReplyTemplate:
    """Return the same-named template in ``language`` when there is one."""
    return (
        ReplyTemplate.objects.filter(name=template.name, language=language, active=True).first()
        or template
    )


@transaction.atomic
def macro_apply(
    *, actor: User, ticket: Ticket, macro: Macro, expected_version: int | None
) -> Ticket:
    """Apply a macro: priority, team and tags, then the template reply, then the status."""
    changes: dict[str, Any] = {}
    if macro.set_priority:
        changes["priority"] = macro.set_priority
    if macro.set_team_id:
        changes["team"] = macro.set_team
    if macro.add_tags:
        changes["tags"] = [*ticket.tags.values_list("name", flat=True), *macro.add_tags]
    ticket = ticket_change(actor=actor, ticket=ticket, expected_version=expected_version, **changes)
    if macro.template_id:
        assert macro.template is not None
        language = ticket.customer.preferred_language if ticket.customer else "de"
        template = template_for(template=macro.template, language=language)
        ticket_reply(
            actor=actor,
            ticket=ticket,
            kind=macro.reply_kind or Message.Kind.PUBLIC,
            body=template_render(template=template, ticket=ticket),
            then_status=macro.set_status or None,
        )
    elif macro.set_status:
        ticket_change(
            actor=actor,
            ticket=ticket,
            expected_version=None,
            status=macro.set_status,
            assignee=UNSET,
        )
    if not (changes or macro.template_id or macro.set_status):
        raise ApplicationError("The macro does nothing.", code="empty_macro")
    return Ticket.objects.get(pk=ticket.pk)
