"""On the demo shop the survey loop is alive: a CSAT rule on solved tickets, recent answers,
and solving an open ticket invites its customer or says on the ticket why not."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from stammkunde.demo.generator import demo_generate
from stammkunde.feedback import selectors
from stammkunde.feedback.demo import CSAT_NAME, feedback_demo_generate
from stammkunde.feedback.models import Invitation, Response, Survey, Trigger
from stammkunde.service.demo import service_demo_generate
from stammkunde.service.models import OPEN_STATUS_LIST, Ticket
from stammkunde.service.services import ticket_solve

pytestmark = pytest.mark.django_db
END = datetime(2026, 6, 30, 23, 59, tzinfo=UTC)


@pytest.fixture
def shop(db) -> None:
    demo_generate(customers=600, seed=5, end=END)
    service_demo_generate(seed=5, end=END)
    feedback_demo_generate(seed=5, end=END)


def test_the_demo_csat_survey_is_sent_on_solved_tickets_and_answers_come_in(shop) -> None:
    csat = Survey.objects.get(name=CSAT_NAME)
    assert csat.triggers.filter(
        event=Trigger.Event.TICKET_SOLVED, active=True, delay_days=0
    ).exists()
    # answers keep coming in up to the end, not only long ago: some in each of the last 3 months
    for month in range(3):
        window = (END - timedelta(days=30 * (month + 1)), END - timedelta(days=30 * month))
        assert Response.objects.filter(submitted_at__range=window).exists(), month
    assert Response.objects.filter(
        version__survey=csat, submitted_at__gt=END - timedelta(days=90)
    ).exists()
    # a solved demo ticket carries the live trigger's key: it is never surveyed twice
    invitation = Invitation.objects.filter(source_ticket__isnull=False).first()
    assert invitation is not None
    assert invitation.dedupe_key == f"ticket:{invitation.source_ticket_id}"


def test_solving_open_demo_tickets_invites_or_says_why_not(shop, capsys) -> None:
    open_tickets = list(
        Ticket.objects.filter(status__in=OPEN_STATUS_LIST, customer__isnull=False).order_by("id")[
            :40
        ]
    )
    assert open_tickets
    states: Counter[str] = Counter()
    for ticket in open_tickets:
        solved = ticket_solve(actor=None, ticket=ticket, expected_version=None)
        found: dict = {}
        selectors.ticket_survey_state_fill(ticket=solved, found=found)
        state = found["survey"]["state"]
        states[state] += 1
        invited = Invitation.objects.filter(source_ticket=solved).exists()
        assert (state in {"sent", "queued"}) == invited
        if state == "refused":
            assert found["survey"]["text"].startswith(("No survey", "Keine Umfrage"))
    with capsys.disabled():
        print(f"\nsolving {len(open_tickets)} open demo tickets: {dict(states)}")
    assert states["sent"] + states["queued"] > 0
