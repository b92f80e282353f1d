"""The SLA engine: policies, due times on the queue's calendar, pause, breach, escalation.

Due times are working time on the queue's ``BusinessCalendar``. While a ticket
waits for the customer (or is solved) the clock is paused: the due times stay
as they are, and when the clock runs again each pending due time is moved to
``now + the working time that was left at the pause``. So the working time
between start and due, minus the paused spans, always equals the policy's
target (``clock_elapsed`` states that, and the property tests check it).
Closing stops the clock for good.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from . import timeline
from .calendar import BusinessHours, add_working_time, working_minutes_between
from .models import CLOCK_RUNNING, OPEN_STATUSES, SLAPolicy, Status, Ticket

# Warn the assignee this many working minutes before a due time.
SLA_WARN_MINUTES = 60
# Built-in targets when no policy matches: 8 working hours, 2 days, 5 days.
DEFAULT_TARGETS = (8 * 60, 16 * 60, 5 * 10 * 60)
_COMPONENTS = ("first_response", "next_response", "resolution")


def policy_for(*, queue_id: int | None, value_class: str, priority: str) -> SLAPolicy | None:
    """Return the most specific policy for queue, customer value class and priority.

    An empty field on a policy matches anything; a set field beats an empty
    one, queue first, then value class, then priority.
    """
    candidates = SLAPolicy.objects.filter(
        Q(queue_id=queue_id) | Q(queue__isnull=True),
        Q(value_class=value_class) | Q(value_class=""),
        Q(priority=priority) | Q(priority=""),
    )
    best = None
    best_key = (-1, -1, -1)
    for policy in candidates:
        key = (
            int(policy.queue_id is not None),
            int(bool(policy.value_class)),
            int(bool(policy.priority)),
        )
        if key > best_key:
            best, best_key = policy, key
    return best


def _targets(ticket: Ticket) -> tuple[int, int, int]:
    policy = ticket.sla_policy
    if policy is None:
        return DEFAULT_TARGETS
    return (policy.first_response_minutes, policy.next_response_minutes, policy.resolution_minutes)


def _calendar(ticket: Ticket) -> BusinessHours:
    return ticket.queue.business_hours()


def sla_start(ticket: Ticket, *, now: datetime) -> None:
    """Pick the policy and set first-response and resolution due times (no save)."""
    value_class = ticket.customer.value_class if ticket.customer is not None else ""
    ticket.sla_policy = policy_for(
        queue_id=ticket.queue_id, value_class=value_class or "", priority=ticket.priority
    )
    first, _next, resolution = _targets(ticket)
    calendar = _calendar(ticket)
    ticket.first_response_due = add_working_time(calendar, now, first)
    ticket.resolution_due = add_working_time(calendar, now, resolution)
    ticket.next_response_due = None
    sla_refresh_due(ticket)


@dataclass(frozen=True)
class SLAPlan:
    """A ticket's calendar and targets, taken before a change that may alter them."""

    calendar: BusinessHours
    targets: tuple[int, int, int]


def sla_plan(ticket: Ticket) -> SLAPlan:
    return SLAPlan(_calendar(ticket), _targets(ticket))


def sla_replan(ticket: Ticket, before: SLAPlan, *, now: datetime) -> None:
    """Queue, priority or customer changed: pick the policy again, move the pending due times.

    The working time a component has used so far counts against its new
    target: two of eight working hours used and a new target of four hours
    leave two. Met and breached components keep their times; a paused clock
    stays paused (the time is counted up to the pause). No save.
    """
    value_class = ticket.customer.value_class if ticket.customer is not None else ""
    ticket.sla_policy = policy_for(
        queue_id=ticket.queue_id, value_class=value_class or "", priority=ticket.priority
    )
    targets, calendar = _targets(ticket), _calendar(ticket)
    at = ticket.sla_paused_at or now
    pending = (
        ticket.first_response_at is None and not ticket.first_response_breached,
        not ticket.next_response_breached,
        not ticket.resolution_breached,
    )
    for component, old_target, new_target, open_ in zip(
        _COMPONENTS, before.targets, targets, pending, strict=True
    ):
        due = getattr(ticket, f"{component}_due")
        if due is None or not open_:
            continue
        # Working minutes left under the old plan; negative when overdue.
        left = working_minutes_between(before.calendar, at, due) - working_minutes_between(
            before.calendar, due, at
        )
        used = old_target - left
        setattr(
            ticket, f"{component}_due", add_working_time(calendar, at, max(new_target - used, 0))
        )
    sla_refresh_due(ticket)


def sla_on_status(ticket: Ticket, *, old: str, new: str, now: datetime) -> None:
    """Pause, resume or stop the clock on a status change (no save)."""
    if new == Status.CLOSED:
        ticket.sla_paused_at = ticket.sla_paused_at or now
    elif old in CLOCK_RUNNING and new not in CLOCK_RUNNING:
        ticket.sla_paused_at = now
        if new == Status.SOLVED and ticket.resolution_due and now > ticket.resolution_due:
            ticket.resolution_breached = True
    elif old not in CLOCK_RUNNING and new in CLOCK_RUNNING and ticket.sla_paused_at:
        _resume(ticket, now=now)
    sla_refresh_due(ticket)


def _resume(ticket: Ticket, *, now: datetime) -> None:
    calendar = _calendar(ticket)
    paused_at = ticket.sla_paused_at
    assert paused_at is not None
    for component in _COMPONENTS:
        due = getattr(ticket, f"{component}_due")
        if due is not None and due > paused_at:
            left = working_minutes_between(calendar, paused_at, due)
            setattr(ticket, f"{component}_due", add_working_time(calendar, now, left))
    ticket.sla_paused_at = None


def sla_on_public_reply(ticket: Ticket, *, now: datetime) -> None:
    """An agent answered the customer: first response done, next response met (no save)."""
    if ticket.first_response_at is None:
        ticket.first_response_at = now
        if ticket.first_response_due and now > ticket.first_response_due:
            ticket.first_response_breached = True
    if ticket.next_response_due and now > ticket.next_response_due:
        ticket.next_response_breached = True
    ticket.next_response_due = None
    sla_refresh_due(ticket)


def sla_on_customer_message(ticket: Ticket, *, now: datetime) -> None:
    """The customer wrote again after our first answer: the next-response clock starts."""
    if ticket.first_response_at is not None and ticket.next_response_due is None:
        _first, next_minutes, _res = _targets(ticket)
        ticket.next_response_due = add_working_time(_calendar(ticket), now, next_minutes)
    sla_refresh_due(ticket)


def sla_refresh_due(ticket: Ticket) -> None:
    """Set ``sla_due`` to the earliest pending, unbreached due time (None while paused)."""
    pending: list[datetime] = []
    if ticket.status in CLOCK_RUNNING and ticket.sla_paused_at is None:
        if (
            ticket.first_response_at is None
            and ticket.first_response_due
            and not ticket.first_response_breached
        ):
            pending.append(ticket.first_response_due)
        if ticket.next_response_due and not ticket.next_response_breached:
            pending.append(ticket.next_response_due)
        if ticket.resolution_due and not ticket.resolution_breached:
            pending.append(ticket.resolution_due)
    due = min(pending) if pending else None
    if due != ticket.sla_due:
        ticket.sla_warned_at = None
    ticket.sla_due = due


@dataclass(frozen=True)
class SLAState:
    """What the ticket page and the API show about a ticket's SLA."""

    policy: str
    paused: bool
    first_response_due: datetime | None
    first_response_at: datetime | None
    first_response_breached: bool
    next_response_due: datetime | None
    next_response_breached: bool
    resolution_due: datetime | None
    resolution_breached: bool
    resolution_minutes_left: float | None

    def as_dict(self) -> dict[str, object]:
        return {
            k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in self.__dict__.items()
        }


def sla_state(ticket: Ticket, *, now: datetime | None = None) -> SLAState:
    """Return the SLA state of a ticket, with the working time left to resolution."""
    now = now or timezone.now()
    left = None
    if ticket.resolution_due and ticket.status in OPEN_STATUSES:
        start = ticket.sla_paused_at or now
        calendar = _calendar(ticket)
        left = (
            working_minutes_between(calendar, start, ticket.resolution_due)
            if ticket.resolution_due > start
            else -working_minutes_between(calendar, ticket.resolution_due, start)
        )
    return SLAState(
        policy=ticket.sla_policy.name if ticket.sla_policy else _("default"),
        paused=ticket.sla_paused_at is not None,
        first_response_due=ticket.first_response_due,
        first_response_at=ticket.first_response_at,
        first_response_breached=ticket.first_response_breached,
        next_response_due=ticket.next_response_due,
        next_response_breached=ticket.next_response_breached,
        resolution_due=ticket.resolution_due,
        resolution_breached=ticket.resolution_breached,
        resolution_minutes_left=round(left, 1) if left is not None else None,
    )


def clock_elapsed(
    calendar: BusinessHours, history: Sequence[tuple[datetime, str]], until: datetime
) -> float:
    """Return the SLA working minutes from the first status to ``until``.

    ``history`` is (time, new status) in time order; only spans in a running
    status count, so paused (waiting for customer, solved) and closed time never do.
    """
    total = 0.0
    for (at, status), nxt in zip(history, [*history[1:], (until, "")], strict=True):
        end = min(nxt[0], until)
        if status in CLOCK_RUNNING and end > at:
            total += working_minutes_between(calendar, at, end)
    return total


@dataclass
class EscalationResult:
    warned: int = 0
    breached: int = 0


def _leads_of(ticket: Ticket) -> list[object]:
    team = ticket.team or ticket.queue.team
    if team is not None and team.lead_id is not None:
        return [team.lead]
    return list(get_user_model().objects.filter(groups__name="team_lead", is_active=True))


def sla_escalate(*, now: datetime | None = None, batch: int = 500) -> EscalationResult:
    """Warn before and flag on breach; a breach escalates to the team lead.

    A warning goes to the assignee (or the team lead when nobody is assigned)
    once per due time; a breach sets the breach flag of each overdue part,
    writes the customer timeline and notifies the assignee and team lead(s).
    Safe to run as often as wanted: flags and ``sla_warned_at`` keep it from
    notifying twice.
    """
    from .services.events import notify, timeline_add  # noqa: PLC0415  (services import sla)

    now = now or timezone.now()
    result = EscalationResult()
    horizon = now + timedelta(days=5)  # a warning window may span a long weekend
    ids = list(
        Ticket.objects.filter(status__in=CLOCK_RUNNING, sla_due__lte=horizon)
        .order_by("sla_due")
        .values_list("id", flat=True)[:batch]
    )
    for ticket_id in ids:
        with transaction.atomic():
            ticket = (
                Ticket.objects.select_for_update(of=("self",))
                .select_related(
                    "queue__calendar", "queue__team__lead", "team__lead", "assignee", "customer"
                )
                .get(pk=ticket_id)
            )
            if ticket.sla_due is None or ticket.status not in CLOCK_RUNNING:
                continue
            if ticket.sla_due <= now:
                parts = []
                for component in _COMPONENTS:
                    due = getattr(ticket, f"{component}_due")
                    done = component == "first_response" and ticket.first_response_at
                    if (
                        due
                        and due <= now
                        and not done
                        and not getattr(ticket, f"{component}_breached")
                    ):
                        setattr(ticket, f"{component}_breached", True)
                        parts.append(component)
                ticket.escalated_at = now
                sla_refresh_due(ticket)
                ticket.save()
                text = _("SLA breached on %(number)s: %(parts)s") % {
                    "number": ticket.number,
                    "parts": ", ".join(str(timeline.SLA_PART_LABELS[p]) for p in parts),
                }
                for user in {*(_leads_of(ticket)), *([ticket.assignee] if ticket.assignee else [])}:
                    notify(user=user, ticket=ticket, kind="sla_breach", text=text, now=now)
                timeline_add(
                    ticket,
                    kind="sla_breach",
                    text_key=timeline.SLA_BREACH,
                    text_params={"number": ticket.number, "parts": parts},
                    actor=None,
                    at=now,
                )
                result.breached += 1
            elif ticket.sla_warned_at is None:
                left = working_minutes_between(_calendar(ticket), now, ticket.sla_due)
                if left <= SLA_WARN_MINUTES:
                    ticket.sla_warned_at = now
                    ticket.save(update_fields=["sla_warned_at"])
                    text = _("SLA due in %(minutes)d working minutes on %(number)s") % {
                        "minutes": round(left),
                        "number": ticket.number,
                    }
                    for user in [ticket.assignee] if ticket.assignee else _leads_of(ticket):
                        notify(user=user, ticket=ticket, kind="sla_warning", text=text, now=now)
                    timeline_add(
                        ticket,
                        kind="sla_warning",
                        text_key=timeline.SLA_WARNING,
                        text_params={"minutes": round(left), "number": ticket.number},
                        actor=None,
                        at=now,
                    )
                    result.warned += 1
    return result
