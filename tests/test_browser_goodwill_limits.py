"""In a real browser, in German, on a phone (390 px): a goodwill limit holds over three grants.

An agent with a limit of 100 € grants two vouchers of 50 € on one ticket; the
third waits for a team lead with a note naming the limit and what is left. The
team lead finds it in the inbox, sees the note and decides; the voucher codes
and their status are on the ticket.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from stammkunde.core.services import user_create
from stammkunde.loyalty.models import Voucher
from stammkunde.service import services
from stammkunde.service.models import GoodwillGrant, Queue

from .customers.factories import CustomerFactory
from .loyalty.factories import program

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PHONE = {"width": 390, "height": 844}


def _login(browser: Any, live_server: Any, username: str) -> Any:
    page = browser.new_page(locale="de-DE", viewport=PHONE)
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "pw-Stammkunde-1")
    page.click("main button[type=submit]")
    page.wait_for_url(lambda url: "/accounts/login/" not in url)
    return page


def _grant(page: Any, amount: str, reason: str) -> None:
    page.select_option("#goodwill select[name=kind]", "voucher")
    page.fill("#goodwill input[name=amount]", amount)
    page.fill("#goodwill input[name=reason]", reason)
    page.click("#goodwill button[type=submit]")
    page.wait_for_load_state()


def test_a_team_lead_sees_a_goodwill_limit_hold_over_three_grants(
    browser, live_server, insecure_cookies
) -> None:
    # given an agent who may grant 100 € alone, and a complaint
    program()
    user_create(
        username="tom", password="pw-Stammkunde-1", roles=["agent"], goodwill_limit=Decimal("100")
    )
    user_create(username="lena", password="pw-Stammkunde-1", roles=["team_lead"])
    customer = CustomerFactory(first_name="Greta", last_name="Gärtner")
    ticket = services.ticket_create(
        actor=None,
        subject="Rahmen gerissen",
        body="Der Rahmen ist gerissen!",
        queue=Queue.objects.create(name="Kundenservice"),
        customer=customer,
        type="complaint",
    )
    # when the agent grants three vouchers of 50 € on the phone
    agent = _login(browser, live_server, "tom")
    agent.goto(f"{live_server.url}/service/tickets/{ticket.pk}/")
    for n in (1, 2, 3):
        _grant(agent, "50", f"Ärger {n}")
        agent.wait_for_selector(f"#goodwill li:has-text('Ärger {n}')", state="attached")
    # then two are granted with their voucher codes, the third waits with a German note
    grants = list(GoodwillGrant.objects.order_by("requested_at", "id"))
    assert [g.status for g in grants] == ["granted", "granted", "requested"]
    assert "Über Ihrem Limit" in agent.inner_text("main")
    codes = list(Voucher.objects.filter(customer=customer).values_list("code", flat=True))
    assert len(codes) == 2
    goodwill_text = agent.inner_text("#goodwill")
    assert all(code in goodwill_text for code in codes) and "ausgegeben" in goodwill_text
    note = "Über dem Limit pro Ticket von 100,00 €: 100,00 € sind bereits gewährt oder beantragt"
    assert note in goodwill_text and "noch frei: 0,00 €" in goodwill_text
    # and the goodwill card fits the phone's width
    box = agent.locator("#goodwill").bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    agent.close()
    # when the team lead opens the request from the inbox
    lead = _login(browser, live_server, "lena")
    lead.goto(f"{live_server.url}/service/")
    lead.click(f"#pending-goodwill >> text={ticket.number}")
    lead.wait_for_selector("#goodwill .goodwill-limit")
    # then the lead sees which limit held and what is left, and approves
    assert note in lead.inner_text("#goodwill .goodwill-limit")
    lead.click("#goodwill button[value=approve]")
    lead.wait_for_selector("#goodwill li:has-text('Ärger 3') .badge.good")
    assert GoodwillGrant.objects.get(reason="Ärger 3").status == "approved"
    assert Voucher.objects.filter(customer=customer).count() == 3
    lead.close()
