"""Webhooks for what other apps do: handlers of their ``core.hooks``, registered in ready().

Service, loyalty and analytics sit below dataio and must not import it, so
they run a named hook and these handlers turn it into a webhook event. Each
runs in the caller's transaction (the delivery rows roll back with it) and
builds its payload only when a subscription wants the event: a loyalty
booking without subscribers costs one small query here, nothing more.
Payloads follow the import events: ``{"items": [...]}`` with ids and numbers,
no names or message text (docs/data-in-out.md, "Webhooks").
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from stammkunde.analytics.services import ChurnRiskRaise
from stammkunde.customers.selectors import customer_numbers_of

from .webhooks import webhook_emit

if TYPE_CHECKING:
    from stammkunde.loyalty.models import PointsEntry
    from stammkunde.service.models import Ticket


def _ticket_item(ticket: Ticket) -> dict[str, Any]:
    return {
        "id": ticket.pk,
        "number": ticket.number,
        "customer_id": ticket.customer_id,
        "type": ticket.type,
        "channel": ticket.channel,
        "priority": ticket.priority,
        "status": ticket.status,
    }


def ticket_created_emit(*, ticket: Ticket) -> None:
    """Emit ``ticket.created`` for a ticket opened by any channel."""
    webhook_emit(
        event="ticket.created",
        payload=lambda: {"items": [{**_ticket_item(ticket), "created_at": ticket.created_at}]},
    )


def ticket_solved_emit(*, ticket: Ticket) -> None:
    """Emit ``ticket.solved`` when a ticket is marked solved."""
    webhook_emit(
        event="ticket.solved",
        payload=lambda: {
            "items": [
                {
                    **_ticket_item(ticket),
                    "solved_at": ticket.solved_at,
                    "first_contact_resolved": ticket.first_contact_resolved,
                }
            ]
        },
    )


def points_changed_emit(*, entry: PointsEntry) -> None:
    """Emit ``points.changed`` for a booking that changed a balance (the till's hot path)."""

    def payload() -> dict[str, Any]:
        account = entry.account  # loyalty passes the entry with its account loaded
        return {
            "items": [
                {
                    "entry_id": entry.pk,
                    "account_id": entry.account_id,
                    "card_number": account.card_number,
                    "customer_id": account.customer_id,
                    "kind": entry.kind,
                    "points": entry.points,
                    "balance_after": entry.balance_after,
                    "created_at": entry.created_at,
                }
            ]
        }

    webhook_emit(event="points.changed", payload=payload)


def _customer_numbers(ids: list[int]) -> dict[int, str]:
    """Return the numbers of customers ``ids`` (of one scoring chunk) in one query."""
    return customer_numbers_of(ids=ids)


def churn_risk_raised_emit(*, scores: Sequence[ChurnRiskRaise]) -> None:
    """Emit one ``churn_risk.raised`` per scoring chunk with every raised customer in ``items``."""

    def payload() -> dict[str, Any]:
        numbers = _customer_numbers([s.customer_id for s in scores])
        return {
            "items": [
                {
                    "customer_id": s.customer_id,
                    "number": numbers.get(s.customer_id),
                    "scored_at": s.scored_at,
                    "from_band": s.from_band,
                    "to_band": s.to_band,
                    "from_risk": s.from_risk,
                    "to_risk": s.to_risk,
                }
                for s in scores
            ]
        }

    webhook_emit(event="churn_risk.raised", payload=payload)
