"""In a real browser: an agent grants goodwill points from the customer page, and the
customer sees them on the self-service page reached by the signed link."""

from __future__ import annotations

import pytest

from stammkunde.core.services import user_create
from stammkunde.loyalty import services

from .factories import account

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_agent_grants_goodwill_and_the_customer_sees_it_on_the_self_service_page(
    browser, live_server, insecure_cookies
) -> None:
    # given a member with 1,000 points
    user_create(username="anna", password="pw-Stammkunde-1", roles=["agent"])
    acc = account()
    services.points_earn(account=acc, points=1000, idempotency_key="seed", reason="Kauf")
    page = browser.new_page(locale="de-DE")
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", "anna")
    page.fill("input[name=password]", "pw-Stammkunde-1")
    page.click("main button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")  # the start page
    # when the agent grants 300 goodwill points from the customer page
    page.goto(f"{live_server.url}/customers/{acc.customer.pk}/")
    panel = page.locator("#panel-loyalty")
    assert "1000" in panel.inner_text()
    panel.locator("summary").click()
    panel.locator("input[name=points]").fill("300")
    panel.locator("input[name=reason]").fill("Lieferverzug")
    panel.locator("#loyalty-goodwill button[type=submit]").click()
    page.wait_for_selector(".message")
    # then the balance shows 1,300 and the history names the reason
    assert page.inner_text("#loyalty-balance") == "1300"
    assert "Lieferverzug" in page.inner_text("#loyalty-history")
    # when the customer opens the self-service link (no login) in English
    link = page.locator("#panel-loyalty a", has_text="öffnen").get_attribute("href")
    customer_page = browser.new_page()
    customer_page.goto(f"{live_server.url}{link}?lang=en")
    # then balance, QR code and history are there, in English
    assert customer_page.inner_text("#balance") == "1300"
    assert customer_page.locator("svg").count() == 1
    assert "points" in customer_page.inner_text("body")
    page.close()
    customer_page.close()
