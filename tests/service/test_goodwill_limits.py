"""Goodwill limits are cumulative: per ticket, per customer and month, per agent and month."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection, connections
from django.utils import translation

from stammkunde.service import services
from stammkunde.service.models import GoodwillGrant
from tests.conftest import require

from ..customers.factories import CustomerFactory
from .factories import ticket

pytestmark = pytest.mark.django_db

MARCH = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)


def _grant(actor: Any, on: Any, amount: str, now: datetime = MARCH) -> GoodwillGrant:
    return services.goodwill_request(
        actor=actor, ticket=on, kind="credit", amount=Decimal(amount), reason="Ärger", now=now
    )


def test_three_grants_of_50_pass_a_100_limit_only_twice(make_user) -> None:
    agent = make_user("agent", goodwill_limit=Decimal("100"))
    created = ticket()
    first, second, third = (_grant(agent, created, "50") for _ in range(3))
    assert first.status == second.status == GoodwillGrant.Status.GRANTED
    assert third.status == GoodwillGrant.Status.REQUESTED
    assert "limit per ticket" in third.limit_note and "0.00 € are left" in third.limit_note


def test_the_limit_note_is_german_and_names_what_is_left(make_user) -> None:
    agent = make_user("agent", goodwill_limit=Decimal("100"))
    created = ticket()
    _grant(agent, created, "70")
    with translation.override("de"):
        held = _grant(agent, created, "50")
    assert held.status == GoodwillGrant.Status.REQUESTED
    assert "Limit pro Ticket" in held.limit_note and "noch frei: 30,00 €" in held.limit_note
    assert created.messages.filter(body__contains="Limit pro Ticket").exists()


def test_a_grant_that_fits_what_is_left_passes(make_user) -> None:
    agent = make_user("agent", goodwill_limit=Decimal("100"))
    created = ticket()
    _grant(agent, created, "70")
    assert _grant(agent, created, "30").status == GoodwillGrant.Status.GRANTED


def test_a_waiting_request_counts_so_splitting_it_does_not_pass(agent) -> None:
    created = ticket()  # the agent role's limit is 50 €
    assert _grant(agent, created, "80").status == GoodwillGrant.Status.REQUESTED
    assert _grant(agent, created, "20").status == GoodwillGrant.Status.REQUESTED


def test_the_customer_limit_sums_over_tickets_of_the_calendar_month(make_user) -> None:
    agent = make_user("agent", goodwill_limit=Decimal("50"))
    colleague = make_user("agent", goodwill_limit=Decimal("50"))
    customer = CustomerFactory()
    # twice the limit per customer and month: 100 €, by any agent, on any ticket
    assert _grant(agent, ticket(customer=customer), "50").status == "granted"
    assert _grant(colleague, ticket(customer=customer), "50").status == "granted"
    held = _grant(agent, ticket(customer=customer), "10")
    assert held.status == "requested" and "limit per customer and month" in held.limit_note
    # a new calendar month starts afresh
    april = datetime(2026, 4, 1, 8, 0, tzinfo=UTC)
    assert _grant(agent, ticket(customer=customer), "10", now=april).status == "granted"


def test_the_agent_limit_per_month_sums_over_customers(make_user) -> None:
    agent = make_user("agent", goodwill_limit=Decimal("10"))
    for _ in range(10):  # ten times the limit per month: 100 €
        assert _grant(agent, ticket(), "10").status == "granted"
    held = _grant(agent, ticket(), "5")
    assert held.status == "requested" and "limit per agent and month" in held.limit_note


def test_an_admin_has_no_cumulative_limit(admin) -> None:
    created = ticket()
    for _ in range(3):
        assert _grant(admin, created, "5000").status == "granted"
    assert services.goodwill_limits_for(actor=admin, ticket=created) == []


def test_a_team_lead_approves_a_held_grant_and_it_counts_on_the_ticket(make_user) -> None:
    agent = make_user("agent", goodwill_limit=Decimal("100"))
    lead = make_user("team_lead")
    created = ticket()
    _grant(agent, created, "50"), _grant(agent, created, "50")
    held = _grant(agent, created, "50")
    approved = services.goodwill_decide(actor=lead, grant=held, approve=True)
    assert approved.status == GoodwillGrant.Status.APPROVED
    ticket_limit = services.goodwill_limits_for(actor=agent, ticket=created)[0]
    assert ticket_limit.scope == "ticket" and ticket_limit.used == Decimal("150")


@pytest.mark.django_db(transaction=True)
def test_two_grants_at_the_same_moment_cannot_both_pass_the_limit(make_user) -> None:
    require(connection.vendor == "postgresql", "row locks are tested on PostgreSQL")
    agent = make_user("agent", goodwill_limit=Decimal("100"))
    created = ticket()
    _grant(agent, created, "50")
    threads = 8
    barrier = threading.Barrier(threads)
    statuses: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def client() -> None:
        try:
            barrier.wait()
            grant = _grant(agent, created, "50")
            with lock:
                statuses.append(grant.status)
        except BaseException as exc:  # reported below, the thread must not die silently
            errors.append(exc)
        finally:
            connections.close_all()

    workers = [threading.Thread(target=client) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert not errors
    # exactly one more 50 € fits the 100 € limit; the others wait for a team lead
    assert sorted(statuses) == ["granted"] + ["requested"] * (threads - 1)
    granted = GoodwillGrant.objects.filter(ticket=created, status="granted")
    assert sum(g.amount for g in granted) == Decimal("100")
