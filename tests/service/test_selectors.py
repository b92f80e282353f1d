"""FCR, SLA and root-cause figures, and the usage count of knowledge articles."""

from __future__ import annotations

from datetime import timedelta

import pytest

from stammkunde.knowledge.services import article_create
from stammkunde.service import selectors, services
from stammkunde.service.models import RootCause

from ..commerce.factories import order
from ..customers.factories import CustomerFactory
from .factories import T0, category, queue, ticket

pytestmark = pytest.mark.django_db


def _solve(agent, created, *, after=timedelta(hours=1)):
    services.ticket_reply(
        actor=agent,
        ticket=created,
        body="Erledigt",
        then_status="solved",
        now=created.created_at + after,
    )


def test_a_phone_call_after_an_email_about_the_same_order_breaks_fcr(agent) -> None:
    # given an email about an order, solved at once
    customer = CustomerFactory()
    placed = order(customer, "B300")
    email = ticket(customer=customer, channel="email", links=services.TicketLinks(order=placed))
    _solve(agent, email)
    # and another customer's email, solved at once, with no further contact
    ticket_ok = ticket(channel="email")
    _solve(agent, ticket_ok)
    # when the first customer calls about the same order two days later
    ticket(
        customer=customer,
        channel="phone",
        links=services.TicketLinks(order=placed),
        now=T0 + timedelta(days=2),
    )
    # then email FCR is 1 of 2
    by_channel = {r["key"]: r for r in selectors.fcr_report(user=agent, by="channel")}
    assert by_channel["email"]["solved"] == 2 and by_channel["email"]["fcr"] == 1
    assert by_channel["email"]["rate"] == 0.5


def test_a_contact_after_seven_days_does_not_break_fcr(agent) -> None:
    customer = CustomerFactory()
    first = ticket(customer=customer, category=category("Bremsen"))
    _solve(agent, first)
    ticket(customer=customer, category=category("Bremsen"), now=T0 + timedelta(days=8))
    assert selectors.fcr_total(user=agent)["fcr"] == 1


def test_fcr_per_agent_queue_and_category(agent, make_user) -> None:
    other = make_user("agent")
    _solve(agent, ticket(q=queue("Werkstatt"), category=category("Bremsen")))
    second = ticket(q=queue("Shop"))
    services.ticket_reply(actor=other, ticket=second, body="Foto?", then_status="waiting_customer")
    services.ticket_reply(actor=None, ticket=second, body="Hier", from_customer=True)
    services.ticket_solve(actor=other, ticket=second, expected_version=None)
    by_agent = {r["key"]: r["rate"] for r in selectors.fcr_report(user=agent, by="agent")}
    assert by_agent == {agent.username: 1.0, other.username: 0.0}
    assert {r["key"] for r in selectors.fcr_report(user=agent, by="queue")} == {"Werkstatt", "Shop"}
    assert {r["key"] for r in selectors.fcr_report(user=agent, by="category")} == {"Bremsen", "–"}


def test_partner_agents_see_figures_of_their_queues_only(agent, partner, partner_agent) -> None:
    _solve(agent, ticket(q=queue("CallPro", partner=partner)))
    _solve(agent, ticket(q=queue("Intern")))
    assert selectors.fcr_total(user=partner_agent)["solved"] == 1
    assert [r["queue__name"] for r in selectors.sla_report(user=partner_agent)] == ["CallPro"]


def test_sla_and_root_cause_reports_count_breaches_and_causes(agent) -> None:
    late = ticket()
    services.ticket_reply(actor=None, ticket=late, body="Und?", from_customer=True)
    services.ticket_reply(
        actor=agent,
        ticket=late,
        body="Sorry",
        then_status="solved",
        now=late.resolution_due + timedelta(hours=1),
    )
    services.ticket_close(
        actor=agent,
        ticket=late,
        expected_version=None,
        root_cause=RootCause.objects.create(name="Lieferant"),
        resolution="Ersatz geschickt",
    )
    report = selectors.sla_report(user=agent)
    assert report[0]["resolution_breached"] == 1 and report[0]["breach_rate"] == 1.0
    assert selectors.root_cause_report(user=agent) == [
        {"root_cause__name": "Lieferant", "tickets": 1}
    ]


def test_articles_used_in_solved_tickets_are_counted(agent) -> None:
    article = article_create(actor=agent, title="Kette wechseln", body="So geht's")
    unused = article_create(actor=agent, title="Rücksendung", body="Label drucken")
    solved, open_ = ticket(), ticket()
    services.ticket_reply(
        actor=agent,
        ticket=solved,
        body="Siehe Artikel",
        article_ids=[article.pk],
        then_status="solved",
    )
    services.ticket_reply(actor=agent, ticket=open_, body="Siehe Artikel", article_ids=[article.pk])
    counts = selectors.article_usage_counts(article_ids=[article.pk, unused.pk])
    assert counts == {article.pk: 1}


def test_inbox_views_select_the_right_tickets(agent, make_user) -> None:
    mine = ticket(assignee=agent)
    unassigned = ticket()
    waiting = ticket(assignee=make_user("agent"))
    services.ticket_reply(actor=agent, ticket=waiting, body="?", then_status="waiting_customer")

    def view(name):
        return set(
            selectors.inbox_list(user=agent, filters=selectors.InboxFilter(view=name), now=T0)
        )

    assert view("mine") == {mine}
    assert view("unassigned") == {unassigned}
    assert view("waiting") == {waiting}
    assert view("breaching") == set()
    assert mine in set(
        selectors.inbox_list(
            user=agent,
            filters=selectors.InboxFilter(view="breaching"),
            now=mine.first_response_due - timedelta(hours=1),
        )
    )
