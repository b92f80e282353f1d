"""Changing a ticket: fields, assignment, status; solving and closing."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from stammkunde.core.access import User
from stammkunde.core.audit import audit_record, diff, snapshot
from stammkunde.core.errors import ApplicationError, validated

from .. import sla, timeline
from ..models import (
    OPEN_STATUSES,
    Queue,
    RootCause,
    Status,
    Ticket,
)
from .events import timeline_add
from .ticket_state import (
    AUDITED_FIELDS,
    UNSET,
    assignee_check,
    status_transition,
    tags_for,
    ticket_lock,
    ticket_save,
)

if TYPE_CHECKING:
    pass


@transaction.atomic
def ticket_change(
    *,
    actor: User | None,
    ticket: Ticket,
    expected_version: int | None,
    status: str | None = None,
    assignee: Any = UNSET,
    team: Any = UNSET,
    queue: Queue | None = None,
    priority: str | None = None,
    type: str | None = None,
    category: Any = UNSET,
    customer: Any = UNSET,
    subject: str | None = None,
    tags: Iterable[str] | None = None,
    root_cause: Any = UNSET,
    resolution: str | None = None,
    now: datetime | None = None,
) -> Ticket:
    """Change fields and/or the status of a ticket under optimistic locking.

    Field changes are applied before the status change, so a root cause and a
    resolution given together with ``status="closed"`` count for closing.
    Raises ConflictError on a stale ``expected_version`` and ApplicationError on
    a forbidden transition.
    """
    now = now or timezone.now()
    locked = ticket_lock(ticket, expected_version)
    before = snapshot(locked, AUDITED_FIELDS)
    old_tags = sorted(locked.tags.values_list("name", flat=True))
    plan_before = sla.sla_plan(locked)
    sla_inputs = _sla_inputs(locked)
    for name, value in (
        ("assignee", assignee),
        ("team", team),
        ("category", category),
        ("root_cause", root_cause),
        ("customer", customer),
    ):
        if value is not UNSET:
            setattr(locked, name, value)
    for name, value in (
        ("queue", queue),
        ("priority", priority),
        ("type", type),
        ("subject", subject),
        ("resolution", resolution),
    ):
        if value is not None:
            setattr(locked, name, value.strip() if isinstance(value, str) else value)
    if (
        isinstance(locked.root_cause, RootCause)
        and not locked.root_cause.active
        and (before["root_cause"] != locked.root_cause.pk)
    ):
        raise ApplicationError(
            _("This root cause is no longer in use."),
            field_errors={"root_cause": [_("Inactive root cause.")]},
        )
    if assignee is not UNSET or queue is not None:
        assignee_check(locked)
    validated(locked, exclude=["number"])
    if locked.status in OPEN_STATUSES and _sla_inputs(locked) != sla_inputs:
        sla.sla_replan(locked, plan_before, now=now)
    if status:
        status_transition(locked, status, actor=actor, now=now)
    changes: dict[str, Any] = diff(before, snapshot(locked, AUDITED_FIELDS))
    if tags is not None:
        new_tags = tags_for(tags)
        if sorted(t.name for t in new_tags) != old_tags:
            locked.tags.set(new_tags)
            changes["tags"] = [old_tags, sorted(t.name for t in new_tags)]
    if changes:
        ticket_save(locked, now)
        audit_record(
            actor=actor,
            action="update",
            obj=locked,
            customer_id=locked.customer_id,
            changes=changes,
        )
        if "assignee" in changes:
            timeline_add(
                locked,
                kind="assigned",
                text_key=timeline.ASSIGNED,
                text_params={"user": str(locked.assignee or "–")},
                actor=actor,
                at=now,
            )
        other = sorted(set(changes) - {"status", "assignee"})
        if other:
            timeline_add(
                locked,
                kind="changed",
                text_key=timeline.CHANGED,
                text_params={"fields": other},
                actor=actor,
                at=now,
            )
    return locked


def _sla_inputs(ticket: Ticket) -> tuple[Any, ...]:
    """What chooses a ticket's SLA policy and calendar."""
    value_class = ticket.customer.value_class if ticket.customer is not None else ""
    return (ticket.queue_id, ticket.priority, value_class)


def ticket_solve(
    *,
    actor: User | None,
    ticket: Ticket,
    expected_version: int | None,
    resolution: str | None = None,
    root_cause: Any = UNSET,
) -> Ticket:
    """Mark a ticket solved (the clock stops; FCR is decided from the contacts so far)."""
    return ticket_change(
        actor=actor,
        ticket=ticket,
        expected_version=expected_version,
        status=Status.SOLVED,
        resolution=resolution,
        root_cause=root_cause,
    )


def ticket_close(
    *,
    actor: User | None,
    ticket: Ticket,
    expected_version: int | None,
    resolution: str | None = None,
    root_cause: Any = UNSET,
) -> Ticket:
    """Close a solved ticket; without FCR a root cause and a resolution are required."""
    return ticket_change(
        actor=actor,
        ticket=ticket,
        expected_version=expected_version,
        status=Status.CLOSED,
        resolution=resolution,
        root_cause=root_cause,
    )
