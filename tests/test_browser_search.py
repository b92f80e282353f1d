"""In a real browser, on a phone-sized screen, in German: the agent finds "anna schmidt"
and opens a ticket for her without typing an id, with JavaScript and without it."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from stammkunde.core.services import user_create
from stammkunde.service.models import Queue, Ticket

from .customers.factories import CustomerFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def shop() -> dict[str, Any]:
    user_create(username="tom", password="pw-Stammkunde-1", roles=["agent"])
    anna = CustomerFactory(
        first_name="Anna",
        last_name="Schmidt",
        emails=["anna.schmidt@example.de"],
        addresses=[{"street": "Lindenstraße 5", "postal_code": "10115", "city": "Berlin"}],
    )
    for first, last in [("Annette", "Schubert"), ("Hanna", "Schmitz"), ("Anton", "Schmid")]:
        CustomerFactory(first_name=first, last_name=last)
    queue = Queue.objects.create(name="Kundenservice")
    return {"anna": anna, "queue": queue}


def _log_in(page: Any, base: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=username]", "tom")
    page.fill("input[name=password]", "pw-Stammkunde-1")
    page.click("main button[type=submit]")
    page.wait_for_url(lambda url: "/accounts/login/" not in url)  # lands on the start page


def _fill_ticket(page: Any, queue: Queue) -> None:
    page.fill("input[name=subject]", "Rückruf wegen Lieferung")
    page.fill("textarea[name=body]", "Frau Schmidt fragt, wann ihr Rad kommt.")
    page.select_option("select[name=queue]", str(queue.pk))


def test_agent_finds_anna_schmidt_and_opens_a_ticket_for_her(
    browser, live_server, insecure_cookies, shop
) -> None:
    page = browser.new_page(locale="de-DE", viewport=PHONE)
    refused: list[str] = []
    page.on(
        "console",
        lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None,
    )
    _log_in(page, live_server.url)
    # the customer list finds her by first and last name, best match first
    page.goto(f"{live_server.url}/customers/")
    page.fill("input[name=q]", "anna schmidt")
    expect(page.locator("#results tbody tr").first).to_contain_text("Anna Schmidt")
    # the new-ticket form: a search box, no id field
    page.goto(f"{live_server.url}/service/")
    page.click("text=Neues Ticket")
    assert page.locator("input[name=customer]").count() == 0  # no raw id field
    page.fill("input[name=customer_q]", "anna schmidt")
    choice = page.locator(".picker-choice", has_text="Anna Schmidt")
    choice.wait_for()
    assert "10115 Berlin" in choice.inner_text()
    choice.click()
    _fill_ticket(page, shop["queue"])
    page.click("main button.primary[type=submit]")
    page.wait_for_selector("#customer-360")
    assert "Anna Schmidt" in page.inner_text("#customer-360")
    assert Ticket.objects.get().customer == shop["anna"]
    assert refused == []


def test_without_javascript_the_picker_searches_on_submit(
    browser, live_server, insecure_cookies, shop
) -> None:
    context = browser.new_context(locale="de-DE", viewport=PHONE, java_script_enabled=False)
    page = context.new_page()
    _log_in(page, live_server.url)
    page.goto(f"{live_server.url}/service/tickets/new/")
    _fill_ticket(page, shop["queue"])
    page.fill("input[name=customer_q]", "Schmidt Anna")
    page.click("text=Kunden suchen")
    # the form comes back with the choices and keeps what was typed
    choice = page.locator(".picker-choice", has_text="Anna Schmidt")
    choice.wait_for()
    assert page.input_value("input[name=subject]") == "Rückruf wegen Lieferung"
    assert not Ticket.objects.exists()
    choice.click()
    page.click("main button.primary[type=submit]")
    page.wait_for_selector("#customer-360")
    assert Ticket.objects.get().customer == shop["anna"]
    context.close()
