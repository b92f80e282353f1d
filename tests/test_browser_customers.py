"""In a real browser: log in, search a customer, open the 360 page, switch language."""

from __future__ import annotations

import pytest

from stammkunde.core.services import user_create

from .commerce.factories import order
from .customers.factories import CustomerFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_agent_finds_a_customer_and_reads_the_360_page_in_both_languages(
    browser, live_server, insecure_cookies
) -> None:
    # given
    user_create(username="anna", password="pw-Stammkunde-1", roles=["agent"])
    customer = CustomerFactory(first_name="Greta", last_name="Gärtner")
    order(customer, "B4711")
    CustomerFactory(last_name="Anders")
    page = browser.new_page(locale="de-DE")
    # when: log in
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", "anna")
    page.fill("input[name=password]", "pw-Stammkunde-1")
    page.click("main button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")  # the start page
    page.goto(f"{live_server.url}/customers/")
    # then: German by default
    assert page.locator("h1").first.inner_text() == "Kunden"
    # when: search with htmx
    page.fill("input[name=q]", "gärt")
    page.wait_for_function("() => !document.querySelector('#results').innerText.includes('Anders')")
    page.click("text=Greta Gärtner")
    # then: the 360 page
    page.wait_for_selector("#timeline")
    assert "B4711" in page.inner_text("#panel-commerce")
    assert "Stammdaten" in page.inner_text("#master-data")
    # when: switch to English
    page.click("button[data-lang=en]")
    page.wait_for_selector("text=Master data")
    assert "Timeline" in page.inner_text("#timeline")
    page.close()
