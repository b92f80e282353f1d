"""Goodwill from a ticket: the service desk decides, loyalty pays out points or a voucher."""

from __future__ import annotations

from decimal import Decimal

import pytest

from stammkunde.loyalty import services as loyalty
from stammkunde.loyalty.models import LoyaltyAccount, PointsEntry, Voucher
from stammkunde.service import services as desk
from tests.service.factories import ticket

from .factories import program

pytestmark = pytest.mark.django_db


def test_goodwill_points_on_a_ticket_land_on_the_customers_card(agent) -> None:
    # given a program (1 point = 0.01 EUR) and a ticket of a customer without a card
    program()
    created = ticket()
    # when the agent grants 20 EUR as points, within the limit
    desk.goodwill_request(
        actor=agent, ticket=created, kind="points", amount=Decimal("20"), reason="Lieferverzug"
    )
    # then the customer has a card with 2,000 points linked to the ticket and the agent
    account = LoyaltyAccount.objects.get(customer=created.customer)
    entry = PointsEntry.objects.get(account=account)
    assert (account.balance, entry.kind, entry.ticket_id, entry.agent_id) == (
        2000,
        "adjust",
        created.pk,
        agent.pk,
    )


def test_a_voucher_above_the_limit_is_issued_only_after_approval(agent, make_user) -> None:
    program()
    lead = make_user("team_lead")
    created = ticket()
    grant = desk.goodwill_request(
        actor=agent, ticket=created, kind="voucher", amount=Decimal("150"), reason="Ärger"
    )
    assert not Voucher.objects.filter(customer=created.customer).exists()
    desk.goodwill_decide(actor=lead, grant=grant, approve=True)
    voucher = Voucher.objects.get(customer=created.customer)
    assert (voucher.value, voucher.max_uses, voucher.ticket_id, voucher.issued_by_id) == (
        Decimal("150.00"),
        1,
        created.pk,
        lead.pk,
    )


def test_paying_out_the_same_grant_twice_books_once(agent) -> None:
    program()
    created = ticket()
    grant = desk.goodwill_request(
        actor=agent, ticket=created, kind="voucher", amount=Decimal("10"), reason="x"
    )
    loyalty.goodwill_grant_pay_out(grant=grant)
    assert Voucher.objects.filter(customer=created.customer).count() == 1


def test_credit_notes_and_customers_without_program_are_left_alone(agent) -> None:
    grant = desk.goodwill_request(
        actor=agent, ticket=ticket(), kind="points", amount=Decimal("10"), reason="x"
    )
    assert loyalty.goodwill_grant_pay_out(grant=grant) is None
    assert not PointsEntry.objects.exists()


@pytest.mark.parametrize(
    "roles", [("agent",), ("team_lead",), ("partner_agent",), ("admin",), ("marketing",)]
)
def test_goodwill_limits_are_the_service_desks(roles, make_user, partner) -> None:
    user = make_user(*roles, partner=partner if "partner_agent" in roles else None)
    ours = loyalty.goodwill_limit_for(user)
    theirs = desk.goodwill_limit_of(user)
    assert ours == theirs or (ours is None and theirs >= Decimal("1e9"))
