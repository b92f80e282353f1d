"""A partner agent sees and takes only what belongs to its partner's queues (F2)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from stammkunde.core.errors import ApplicationError
from stammkunde.core.models import ServicePartner
from stammkunde.customers.selectors import timeline
from stammkunde.service import services
from stammkunde.service.models import GoodwillGrant

from ..commerce.factories import order
from ..customers.factories import CustomerFactory
from .factories import queue, ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_partners(make_user):
    own, foreign = (ServicePartner.objects.create(name=n) for n in ("Own", "Foreign"))
    return {
        "own_queue": queue("Own queue", partner=own),
        "foreign_queue": queue("Foreign queue", partner=foreign),
        "own_agent": make_user("partner_agent", partner=own),
        "foreign_agent": make_user("partner_agent", partner=foreign),
    }


def test_a_partner_agent_sees_only_its_queues_tickets_on_the_timeline(two_partners, agent):
    customer = CustomerFactory()
    order(customer, "B-77")
    mine = ticket(customer=customer, q=two_partners["own_queue"], subject="Eigenes Ticket")
    theirs = ticket(customer=customer, q=two_partners["foreign_queue"], subject="Fremdes")
    internal = ticket(customer=customer, q=queue("Intern"), subject="Internes")

    seen = timeline(user=two_partners["own_agent"], customer=customer)

    assert seen and all(mine.number in entry.summary for entry in seen)
    assert not any(theirs.number in e.summary or internal.number in e.summary for e in seen)
    assert not any(e.kind.startswith("order") for e in seen)
    everything = timeline(user=agent, customer=customer)
    assert any("B-77" in e.summary for e in everything)
    assert len(everything) > len(seen)


def test_the_customer_page_shows_a_partner_agent_no_orders_and_no_foreign_ticket(
    two_partners, client
):
    customer = CustomerFactory()
    order(customer, "B-4711")
    ticket(customer=customer, q=two_partners["own_queue"], subject="Eigenes Ticket")
    theirs = ticket(customer=customer, q=two_partners["foreign_queue"], subject="Fremdes")
    client.force_login(two_partners["own_agent"])

    for name in ("customers:detail", "customers:timeline"):
        body = client.get(reverse(name, args=[customer.pk])).content.decode()
        assert "B-4711" not in body and theirs.number not in body, name


def test_a_ticket_cannot_be_assigned_to_another_partners_agent(two_partners):
    own_ticket = ticket(q=two_partners["own_queue"])
    with pytest.raises(ApplicationError) as refused:
        services.ticket_change(
            actor=two_partners["own_agent"],
            ticket=own_ticket,
            expected_version=None,
            assignee=two_partners["foreign_agent"],
        )
    assert refused.value.code == "assignee_partner" and "assignee" in refused.value.field_errors
    own_ticket.refresh_from_db()
    assert own_ticket.assignee is None


def test_a_ticket_is_assigned_to_an_agent_of_its_queues_partner(two_partners, agent):
    own_ticket = ticket(q=two_partners["own_queue"])
    for assignee in (two_partners["own_agent"], agent):
        changed = services.ticket_change(
            actor=two_partners["own_agent"],
            ticket=own_ticket,
            expected_version=None,
            assignee=assignee,
        )
        assert changed.assignee == assignee


def test_a_new_ticket_is_not_given_to_another_partners_agent(two_partners):
    with pytest.raises(ApplicationError):
        ticket(q=two_partners["own_queue"], assignee=two_partners["foreign_agent"])


def test_the_api_refuses_another_partners_agent_as_assignee_with_a_field_error(
    two_partners, api_as
):
    own_ticket = ticket(q=two_partners["own_queue"])
    response = api_as(two_partners["own_agent"]).patch(
        f"/api/tickets/{own_ticket.pk}/",
        {"assignee": two_partners["foreign_agent"].pk},
        format="json",
    )
    assert response.status_code == 400 and "assignee" in str(response.json())
    own_ticket.refresh_from_db()
    assert own_ticket.assignee is None


@pytest.mark.parametrize("role", ["marketing", "analyst", "agent"])
def test_a_goodwill_decision_by_another_role_does_not_reveal_the_ticket(make_user, client, role):
    created = ticket()
    grant = services.goodwill_request(
        actor=make_user("agent"), ticket=created, kind="credit", amount=Decimal("80"), reason="x"
    )
    client.force_login(make_user(role))
    response = client.post(
        reverse("service:goodwill_decide", args=[grant.pk]), {"decision": "approve"}
    )
    assert response.status_code in (403, 404)
    ticket_url = reverse("service:ticket", args=[created.pk])
    assert ticket_url not in response.get("Location", "")
    assert ticket_url not in response.content.decode() and created.number not in str(response)
    grant.refresh_from_db()
    assert grant.status == GoodwillGrant.Status.REQUESTED
