"""Goodwill within the role's limit, team-lead decisions, sales hand-over, templates, macros."""

from __future__ import annotations

from decimal import Decimal

import pytest

from stammkunde.core.errors import ApplicationError
from stammkunde.customers.models import Interaction
from stammkunde.service import services
from stammkunde.service.models import GoodwillGrant, Macro, Notification, ReplyTemplate, Status

from ..commerce.factories import order
from ..customers.factories import CustomerFactory
from .factories import ticket

pytestmark = pytest.mark.django_db


def test_goodwill_within_the_agents_limit_is_granted_at_once(agent) -> None:
    grant = services.goodwill_request(
        actor=agent, ticket=ticket(), kind="voucher", amount=Decimal("20"), reason="Lieferverzug"
    )
    assert grant.status == GoodwillGrant.Status.GRANTED and grant.decided_by == agent


def test_goodwill_above_the_limit_is_requested_and_a_team_lead_is_notified(
    agent, make_user
) -> None:
    lead = make_user("team_lead")
    created = ticket()
    grant = services.goodwill_request(
        actor=agent, ticket=created, kind="credit", amount=Decimal("80"), reason="Defekt"
    )
    assert grant.status == GoodwillGrant.Status.REQUESTED
    assert Notification.objects.filter(user=lead, kind="goodwill", ticket=created).exists()
    assert created.messages.filter(kind="internal", body__contains="team lead").exists()


def test_the_profile_limit_overrides_the_role_limit(make_user) -> None:
    generous = make_user("agent", goodwill_limit=Decimal("120"))
    assert services.goodwill_limit_of(generous) == Decimal("120")
    grant = services.goodwill_request(
        actor=generous, ticket=ticket(), kind="points", amount=Decimal("100"), reason="Treue"
    )
    assert grant.status == GoodwillGrant.Status.GRANTED


def test_a_team_lead_approves_and_the_decision_is_written_on_the_ticket(agent, make_user) -> None:
    # given a request above the agent's limit
    lead = make_user("team_lead")
    created = ticket()
    grant = services.goodwill_request(
        actor=agent, ticket=created, kind="voucher", amount=Decimal("150"), reason="Ärger"
    )
    # when the team lead approves
    decided = services.goodwill_decide(actor=lead, grant=grant, approve=True, note="ok")
    # then
    assert decided.status == GoodwillGrant.Status.APPROVED and decided.decided_by == lead
    assert created.messages.filter(body__contains="approved").exists()
    assert Notification.objects.filter(user=agent, kind="goodwill_decided").exists()
    entry = Interaction.objects.get(
        customer=created.customer, kind="ticket_goodwill", text_key="service.goodwill_approved_note"
    )
    assert entry.text_params["note"] == "ok"
    assert "approved" in entry.text  # the reader's language (English here); summary is German


def test_an_agent_cannot_decide_a_goodwill_request(agent, make_user) -> None:
    grant = services.goodwill_request(
        actor=make_user("agent"), ticket=ticket(), kind="voucher", amount=Decimal("70"), reason="x"
    )
    with pytest.raises(ApplicationError, match="team lead"):
        services.goodwill_decide(actor=agent, grant=grant, approve=True)


def test_a_team_lead_cannot_approve_above_their_own_limit(agent, make_user) -> None:
    grant = services.goodwill_request(
        actor=agent, ticket=ticket(), kind="credit", amount=Decimal("900"), reason="x"
    )
    with pytest.raises(ApplicationError, match="above your own limit"):
        services.goodwill_decide(actor=make_user("team_lead"), grant=grant, approve=True)


def test_a_rejected_request_grants_nothing(agent, make_user) -> None:
    grant = services.goodwill_request(
        actor=agent, ticket=ticket(), kind="credit", amount=Decimal("90"), reason="x"
    )
    decided = services.goodwill_decide(
        actor=make_user("team_lead"), grant=grant, approve=False, note="zu hoch"
    )
    assert decided.status == GoodwillGrant.Status.REJECTED


@pytest.mark.parametrize("amount", [Decimal("0"), Decimal("-5")])
def test_goodwill_needs_a_positive_value(agent, amount) -> None:
    with pytest.raises(ApplicationError) as exc:
        services.goodwill_request(
            actor=agent, ticket=ticket(), kind="voucher", amount=amount, reason="x"
        )
    assert "amount" in exc.value.field_errors


def test_sales_handover_puts_a_sales_note_on_the_customer_timeline(agent) -> None:
    created = ticket()
    services.sales_handover_create(
        actor=agent, ticket=created, note="Interessiert sich für ein E-Bike"
    )
    assert Interaction.objects.filter(
        customer=created.customer, kind="ticket_sales_lead", summary__contains="E-Bike"
    ).exists()


def test_template_placeholders_are_filled_and_unknown_ones_stay() -> None:
    customer = CustomerFactory(first_name="Greta", last_name="Gärtner")
    placed = order(customer, "B4711")
    created = ticket(customer=customer, links=services.TicketLinks(order=placed))
    text = services.template_render(
        template="Hallo {customer_name}, zu {ticket_number} / {order_number} {unbekannt}",
        ticket=created,
    )
    assert text == f"Hallo Greta Gärtner, zu {created.number} / B4711 {{unbekannt}}"


def test_a_macro_sets_fields_replies_in_the_customers_language_and_sets_status(agent) -> None:
    # given an English-speaking customer and a template in both languages
    customer = CustomerFactory(preferred_language="en")
    de = ReplyTemplate.objects.create(
        name="Rücksendung", language="de", body="Hallo {customer_name}"
    )
    ReplyTemplate.objects.create(name="Rücksendung", language="en", body="Hello {customer_name}")
    macro = Macro.objects.create(
        name="Retoure erklärt",
        set_priority="low",
        template=de,
        set_status="waiting_customer",
        add_tags=["retoure"],
    )
    created = ticket(customer=customer)
    # when
    result = services.macro_apply(
        actor=agent, ticket=created, macro=macro, expected_version=created.version
    )
    # then
    assert result.priority == "low" and result.status == Status.WAITING_CUSTOMER
    assert list(result.tags.values_list("name", flat=True)) == ["retoure"]
    assert result.messages.filter(direction="out").get().body.startswith("Hello ")
