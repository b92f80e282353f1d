"""The voucher of a goodwill grant and the FCR flag are shown where agents look (in German)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from stammkunde.loyalty import services as loyalty
from stammkunde.loyalty.models import Voucher
from stammkunde.service import services
from stammkunde.service.models import Ticket
from tests.loyalty.factories import program

from .factories import ticket

pytestmark = pytest.mark.django_db


def _voucher_grant(agent, created):
    return services.goodwill_request(
        actor=agent, ticket=created, kind="voucher", amount=Decimal("20"), reason="Verzug"
    )


def test_the_ticket_and_customer_pages_show_the_voucher_code_and_its_status(client, agent) -> None:
    program()
    created = ticket()
    grant = _voucher_grant(agent, created)
    voucher = Voucher.objects.get(issue_key=f"goodwill:{grant.pk}")
    client.force_login(agent)
    page = client.get(reverse("service:ticket", args=[created.pk])).content.decode()
    assert voucher.code in page and "ausgegeben" in page
    customer_page = client.get(
        reverse("customers:detail", args=[created.customer_id])
    ).content.decode()
    assert 'id="customer-goodwill"' in customer_page and voucher.code in customer_page


def test_a_redeemed_goodwill_voucher_shows_as_redeemed(client, agent) -> None:
    program()
    created = ticket()
    grant = _voucher_grant(agent, created)
    voucher = Voucher.objects.get(issue_key=f"goodwill:{grant.pk}")
    loyalty.voucher_redeem(
        code=voucher.code, order_total="50", idempotency_key="o1", customer=created.customer
    )
    client.force_login(agent)
    page = client.get(reverse("service:ticket", args=[created.pk])).content.decode()
    assert "eingelöst" in page


def test_an_expired_goodwill_voucher_shows_as_expired(client, agent) -> None:
    program()
    created = ticket()
    grant = _voucher_grant(agent, created)
    Voucher.objects.filter(issue_key=f"goodwill:{grant.pk}").update(
        valid_until=timezone.now() - timedelta(days=1)
    )
    client.force_login(agent)
    page = client.get(reverse("service:ticket", args=[created.pk])).content.decode()
    assert "abgelaufen" in page


def test_a_held_grant_shows_the_limit_and_what_is_left_on_the_ticket(client, make_user) -> None:
    agent = make_user("agent", goodwill_limit=Decimal("100"))
    created = ticket()
    client.force_login(agent)
    for key in ("a", "b", "c"):
        client.post(
            reverse("service:goodwill", args=[created.pk]),
            {"kind": "credit", "amount": "50", "reason": "Ärger", "idempotency_key": key},
        )
    page = client.get(reverse("service:ticket", args=[created.pk])).content.decode()
    assert 'class="muted goodwill-limit"' in page and "noch frei: 0,00 €" in page


def test_the_fcr_flag_and_its_reason_show_on_the_ticket_and_in_the_list(client, agent) -> None:
    created = ticket()
    client.force_login(agent)
    solved = services.ticket_solve(actor=agent, ticket=created, expected_version=None)
    assert solved.first_contact_resolved and solved.fcr_reason == Ticket.FcrReason.ONE_CONTACT
    page = client.get(reverse("service:ticket", args=[created.pk])).content.decode()
    assert 'id="ticket-fcr"' in page and "nach einem einzigen Kundenkontakt gelöst" in page
    listing = client.get(reverse("service:inbox"), {"view": "all"}).content.decode()
    assert "FCR: ja" in listing and "nach einem einzigen Kundenkontakt gelöst" in listing


def test_a_reopened_ticket_shows_fcr_no_with_the_reason(client, agent) -> None:
    created = ticket()
    services.ticket_solve(actor=agent, ticket=created, expected_version=None)
    services.ticket_reply(
        actor=None,
        ticket=Ticket.objects.get(pk=created.pk),
        body="Geht wieder nicht",
        from_customer=True,
    )
    reopened = Ticket.objects.get(pk=created.pk)
    assert reopened.first_contact_resolved is False
    assert reopened.fcr_reason == Ticket.FcrReason.REOPENED
    client.force_login(agent)
    page = client.get(reverse("service:ticket", args=[created.pk])).content.decode()
    assert "FCR: nein" in page and "nach der Lösung wieder geöffnet" in page
