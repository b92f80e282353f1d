"""SLA due times, the paused clock, breaches and the escalation job."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from hypothesis import example, given, settings
from hypothesis import strategies as st

from stammkunde.customers.models import Interaction
from stammkunde.service import services, sla
from stammkunde.service.calendar import add_working_time
from stammkunde.service.models import (
    CLOCK_RUNNING,
    BusinessCalendar,
    Notification,
    Queue,
    SLAPolicy,
    Status,
    Team,
    Ticket,
)
from stammkunde.service.tasks import sla_escalate_task

from ..customers.factories import CustomerFactory
from .factories import T0, queue, ticket

BERLIN = ZoneInfo("Europe/Berlin")


@pytest.mark.django_db
def test_the_most_specific_policy_wins() -> None:
    support = queue()
    SLAPolicy.objects.create(
        name="Standard",
        first_response_minutes=480,
        next_response_minutes=480,
        resolution_minutes=2400,
    )
    SLAPolicy.objects.create(
        name="Support A",
        queue=support,
        value_class="A",
        first_response_minutes=60,
        next_response_minutes=120,
        resolution_minutes=600,
    )
    SLAPolicy.objects.create(
        name="A urgent",
        value_class="A",
        priority="urgent",
        first_response_minutes=30,
        next_response_minutes=60,
        resolution_minutes=300,
    )
    assert (
        sla.policy_for(queue_id=support.pk, value_class="A", priority="urgent").name == "Support A"
    )
    assert sla.policy_for(queue_id=None, value_class="A", priority="urgent").name == "A urgent"
    assert sla.policy_for(queue_id=support.pk, value_class="C", priority="low").name == "Standard"


@pytest.mark.django_db
def test_due_times_follow_the_queue_calendar_and_the_customers_value_class() -> None:
    # given an A customer and a one-hour first response policy
    SLAPolicy.objects.create(
        name="A",
        value_class="A",
        first_response_minutes=60,
        next_response_minutes=120,
        resolution_minutes=600,
    )
    customer = CustomerFactory()
    customer.value_class = "A"
    customer.save()
    # when a ticket arrives Friday 17:30 Berlin
    friday = datetime(2026, 3, 13, 17, 30, tzinfo=BERLIN)
    created = ticket(customer=customer, now=friday)
    # then the first response is due Monday 08:30 and resolution the following Monday 8:30
    assert created.first_response_due == datetime(2026, 3, 16, 8, 30, tzinfo=BERLIN)
    assert created.resolution_due == datetime(2026, 3, 16, 17, 30, tzinfo=BERLIN)


@pytest.mark.django_db
def test_waiting_for_the_customer_pauses_the_clock(agent) -> None:
    # given a ticket with a resolution due in 40 working hours
    created = ticket()
    due_before = created.resolution_due
    # when the agent waits for the customer for a whole working week
    services.ticket_reply(
        actor=agent,
        ticket=created,
        body="Foto bitte?",
        then_status="waiting_customer",
        now=T0 + timedelta(hours=1),
    )
    created.refresh_from_db()
    assert created.sla_due is None and created.sla_paused_at is not None
    services.ticket_reply(
        actor=None,
        ticket=created,
        body="Hier",
        from_customer=True,
        now=T0 + timedelta(days=7, hours=1),
    )
    # then the resolution due moves by the paused working time
    created.refresh_from_db()
    assert created.resolution_due == due_before + timedelta(days=7)
    assert created.sla_paused_at is None and created.next_response_due is not None


@pytest.mark.django_db
def test_solving_late_flags_a_resolution_breach(agent) -> None:
    created = ticket()
    late = created.resolution_due + timedelta(minutes=1)
    services.ticket_reply(actor=agent, ticket=created, body="Sorry", then_status="solved", now=late)
    created.refresh_from_db()
    assert created.resolution_breached and created.first_response_breached


@pytest.mark.django_db
def test_escalation_warns_before_and_escalates_to_the_team_lead_on_breach(make_user) -> None:
    # given a ticket assigned to an agent in a team with a lead
    lead, agent = make_user("team_lead"), make_user("agent")
    team = Team.objects.create(name="Werkstatt", lead=lead)
    q = Queue.objects.create(name="Werkstatt", team=team)
    created = ticket(q=q, assignee=agent)
    due = created.first_response_due
    # when the job runs 30 minutes before the due time
    result = sla.sla_escalate(now=due - timedelta(minutes=30))
    # then the assignee is warned once
    assert result.warned == 1
    assert Notification.objects.filter(user=agent, kind="sla_warning").count() == 1
    assert sla.sla_escalate(now=due - timedelta(minutes=20)).warned == 0
    # when it runs after the due time
    result = sla.sla_escalate(now=due + timedelta(minutes=1))
    # then the breach is flagged, the lead notified and the timeline written
    created.refresh_from_db()
    assert result.breached == 1 and created.first_response_breached
    assert Notification.objects.filter(user=lead, kind="sla_breach").exists()
    assert Interaction.objects.filter(customer=created.customer, kind="ticket_sla_breach").exists()
    assert sla.sla_escalate(now=due + timedelta(minutes=2)).breached == 0


@pytest.mark.django_db
def test_escalation_runs_as_a_command_and_as_a_celery_task(capsys) -> None:
    created = ticket()
    call_command(
        "sla", "escalate", "--now", (created.first_response_due + timedelta(minutes=5)).isoformat()
    )
    assert "1 breached" in capsys.readouterr().out
    assert set(sla_escalate_task.delay().get()) == {"warned", "breached"}


@pytest.mark.django_db
def test_sla_state_reports_working_minutes_left() -> None:
    created = ticket()
    state = sla.sla_state(created, now=T0 + timedelta(hours=1))
    assert state.resolution_minutes_left == 5 * 600 - 60
    assert state.as_dict()["paused"] is False


def test_a_pause_over_a_public_holiday_leaves_the_holiday_out_of_the_time_left() -> None:
    # given a ticket in an NW queue due Friday 2 January 09:00 Berlin, 60 working minutes
    # after New Year's Day (a public holiday) began
    nw = Queue(name="x", calendar=BusinessCalendar(name="NW", state="NW"))
    ticket_ = Ticket(status=Status.OPEN, queue=nw)
    ticket_.resolution_due = datetime(2026, 1, 2, 9, 0, tzinfo=BERLIN)
    # when it is solved at 01:01 on New Year's Day and reopened at 20:15 the same day
    sla.sla_on_status(
        ticket_, old=Status.OPEN, new=Status.SOLVED, now=datetime(2026, 1, 1, 1, 1, tzinfo=BERLIN)
    )
    ticket_.status = Status.SOLVED
    sla.sla_on_status(
        ticket_,
        old=Status.SOLVED,
        new=Status.REOPENED,
        now=datetime(2026, 1, 1, 20, 15, tzinfo=BERLIN),
    )
    # then the 60 minutes left still end on Friday at 09:00, not a working day later
    assert ticket_.resolution_due == datetime(2026, 1, 2, 9, 0, tzinfo=BERLIN)


# The engine's pause/resume must agree with the plain definition of the clock:
# the working time in running statuses from creation to the due time equals the target.
PAUSED = [Status.WAITING_CUSTOMER, Status.SOLVED]
RUNNING = [Status.OPEN, Status.WAITING_THIRD_PARTY, Status.REOPENED]


@settings(max_examples=60, deadline=None)
@given(
    start=st.datetimes(
        min_value=datetime(2026, 1, 1), max_value=datetime(2026, 12, 1), timezones=st.just(UTC)
    ),
    target=st.integers(60, 3000),
    steps=st.lists(st.tuples(st.booleans(), st.integers(1, 5000)), max_size=6),
)
# Solved on New Year's Day (a holiday in NW) and reopened that evening: 60 minutes are left.
@example(start=datetime(2026, 1, 1, tzinfo=UTC), target=60, steps=[(True, 1), (False, 1154)])
def test_paused_and_solved_time_never_counts_toward_the_resolution_due(
    start, target, steps
) -> None:
    # The engine works on the ticket's queue calendar, so the model must use that very
    # calendar: with a bare queue (no holidays) against an NW model, a pause over a
    # holiday was measured with the holiday as a working day on one side only.
    ticket_ = Ticket(
        status=Status.NEW,
        queue=Queue(name="x", calendar=BusinessCalendar(name="NW", state="NW")),
    )
    calendar = ticket_.queue.business_hours()
    ticket_.resolution_due = add_working_time(calendar, start, target)
    history = [(start, Status.NEW)]
    now = start
    for pause, gap in steps:
        now = now + timedelta(minutes=gap)
        running = ticket_.status in CLOCK_RUNNING
        if running and ticket_.resolution_due <= now:
            break  # breached while running: no shift any more
        new = (PAUSED if pause else RUNNING)[gap % 2 if pause else gap % 3]
        if new == ticket_.status or (ticket_.status == Status.SOLVED and new != Status.REOPENED):
            continue
        sla.sla_on_status(ticket_, old=ticket_.status, new=new, now=now)
        ticket_.status = new
        history.append((now, new))
    if ticket_.status in CLOCK_RUNNING and ticket_.resolution_due > now:
        assert sla.clock_elapsed(calendar, history, ticket_.resolution_due) == pytest.approx(target)


@pytest.mark.django_db
def test_moving_a_ticket_to_a_stricter_queue_moves_its_due_times_by_the_time_used() -> None:
    # given a ticket in a queue without a policy (8 working hours to first response)
    # and a queue whose policy promises an answer within one working hour
    express = queue("Express")
    SLAPolicy.objects.create(
        name="Express",
        queue=express,
        first_response_minutes=60,
        next_response_minutes=60,
        resolution_minutes=600,
    )
    t = ticket()
    assert t.first_response_due == add_working_time(
        t.queue.business_hours(), T0, sla.DEFAULT_TARGETS[0]
    )
    # when it is moved there after 30 working minutes
    later = T0 + timedelta(minutes=30)
    moved = services.ticket_change(
        actor=None, ticket=t, expected_version=t.version, queue=express, now=later
    )
    # then the policy is Express, and 30 of its minutes are used already
    calendar = express.business_hours()
    assert moved.sla_policy is not None and moved.sla_policy.name == "Express"
    assert moved.first_response_due == T0 + timedelta(minutes=60)
    assert moved.resolution_due == add_working_time(calendar, later, 600 - 30)
    assert moved.sla_due == moved.first_response_due
    moved.refresh_from_db()
    assert moved.first_response_due == T0 + timedelta(minutes=60)
    # when it goes back after another 60 minutes (90 used, overdue under Express)
    back = services.ticket_change(
        actor=None,
        ticket=moved,
        expected_version=moved.version,
        queue=queue("Support"),
        now=later + timedelta(minutes=60),
    )
    # then the default targets apply again, minus the 90 minutes used
    assert back.sla_policy is None
    assert back.first_response_due == add_working_time(
        calendar, later + timedelta(minutes=60), sla.DEFAULT_TARGETS[0] - 90
    )
