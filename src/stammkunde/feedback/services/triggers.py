"""Triggers: who is invited when (a solved ticket, an order, a period, a lifecycle phase)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from stammkunde.commerce import selectors as commerce_selectors
from stammkunde.core.hooks import hook_run
from stammkunde.customers import selectors as customer_selectors
from stammkunde.service import selectors as service_selectors

from ..models import Invitation, Trigger
from .invitations import InvitationSuppressed, invitation_create, invitation_send

# How far back a trigger run looks for solved tickets and orders it has not handled yet.
TRIGGER_LOOKBACK = timedelta(days=14)
FEEDBACK = customer_selectors.ConsentPurpose.FEEDBACK
EMAIL = customer_selectors.Channel.EMAIL


def _candidates(trigger: Trigger, now: datetime) -> Iterable[dict[str, Any]]:
    """Yield invitation arguments for the customers a trigger selects at ``now``."""
    due = now - timedelta(days=trigger.delay_days)
    surveyed = Invitation.objects.filter(version__survey=trigger.survey)
    if trigger.event == Trigger.Event.TICKET_SOLVED:
        tickets = service_selectors.tickets_solved_between(
            after=due - TRIGGER_LOOKBACK, until=due
        ).exclude(pk__in=surveyed.filter(source_ticket__isnull=False).values("source_ticket_id"))
        for t in tickets:
            yield {"customer": t.customer, "source_ticket": t, "dedupe_key": f"ticket:{t.pk}"}
    elif trigger.event == Trigger.Event.ORDER:
        orders = commerce_selectors.orders_placed_between(
            after=due - TRIGGER_LOOKBACK, until=due
        ).exclude(pk__in=surveyed.filter(source_order__isnull=False).values("source_order_id"))
        for o in orders:
            yield {"customer": o.customer, "source_order": o, "dedupe_key": f"order:{o.pk}"}
    elif trigger.event == Trigger.Event.PERIODIC:
        period = max(trigger.period_days, 1)
        recent = surveyed.filter(created_at__gt=now - timedelta(days=period)).values("customer_id")
        index = int(now.timestamp() // 86400) // period
        # Ids first, then rows in chunks: no read cursor stays open while the caller
        # writes (on SQLite a writer with an open read snapshot fails at once).
        ids = list(
            customer_selectors.buyers_consented(purpose=FEEDBACK, channel=EMAIL)
            .exclude(id__in=recent)
            .order_by("id")
            .values_list("id", flat=True)
        )
        for start in range(0, len(ids), 500):
            chunk = customer_selectors.customers_by_ids(ids=ids[start : start + 500])
            for pk in ids[start : start + 500]:
                if pk in chunk:
                    yield {"customer": chunk[pk], "dedupe_key": f"periodic:{pk}:{index}"}
    elif trigger.event == Trigger.Event.PHASE:
        # Analytics (above feedback) records the phase changes; it answers this hook.
        entered: list[tuple[int, int]] = []
        hook_run(
            "phase_entries",
            phase=trigger.phase,
            since=timezone.localdate(now - TRIGGER_LOOKBACK),
            until=timezone.localdate(now),
            found=entered,
        )
        customers = customer_selectors.customers_by_ids(ids=[c for _, c in entered])
        for change_id, customer_id in entered:
            if customer_id in customers:
                yield {"customer": customers[customer_id], "dedupe_key": f"phase:{change_id}"}


def ticket_solved_triggers() -> QuerySet[Trigger]:
    """The active "after a ticket is solved" triggers of active, published surveys."""
    return Trigger.objects.filter(
        event=Trigger.Event.TICKET_SOLVED,
        active=True,
        survey__active=True,
        survey__current_version__isnull=False,
    ).select_related("survey__current_version")


def invitation_for_solved_ticket(*, ticket: Any) -> list[Invitation]:
    """Invite the customer at once when a ticket is solved (the ``ticket_solved`` hook).

    Only triggers without a delay act here; with a delay the hourly trigger run
    sends the invitation when it is due. The survey rules (consent, address,
    minimum gap, once per ticket) apply as always; a refusal leaves the ticket
    solved. Each invitation is its own savepoint: nothing of the solve is lost.
    """
    if ticket.customer_id is None:
        return []
    now = ticket.solved_at or timezone.now()
    sent = []
    for trigger in ticket_solved_triggers().filter(delay_days=0):
        try:
            with transaction.atomic():
                invitation = invitation_create(
                    survey=trigger.survey,
                    trigger=trigger,
                    customer=ticket.customer,
                    source_ticket=ticket,
                    dedupe_key=f"ticket:{ticket.pk}",
                    now=now,
                )
                invitation_send(invitation=invitation, now=now)
        except InvitationSuppressed:
            continue  # the ticket page says why (feedback.selectors.ticket_survey_state)
        sent.append(invitation)
    return sent


def triggers_run(*, now: datetime | None = None, limit: int | None = None) -> dict[str, int]:
    """Evaluate every active trigger: invite and mail the selected customers.

    Idempotent: each ticket, order, period and phase change is surveyed at most
    once per survey. Returns counts: ``sent`` and one per suppression reason.
    Each invitation is its own transaction, so a failure loses nothing else.
    """
    now = now or timezone.now()
    counts: dict[str, int] = {"sent": 0}
    triggers = Trigger.objects.filter(
        active=True, survey__active=True, survey__current_version__isnull=False
    ).select_related("survey__current_version")
    for trigger in triggers:
        for args in _candidates(trigger, now):
            if limit is not None and counts["sent"] >= limit:
                break
            try:
                with transaction.atomic():
                    invitation = invitation_create(
                        survey=trigger.survey, trigger=trigger, now=now, **args
                    )
                    invitation_send(invitation=invitation, now=now)
            except InvitationSuppressed as exc:
                counts[exc.code] = counts.get(exc.code, 0) + 1
                continue
            counts["sent"] += 1
        Trigger.objects.filter(pk=trigger.pk).update(last_run_at=now)
    return counts
