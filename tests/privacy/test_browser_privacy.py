"""In a real browser, in German: a customer asks for their data and then for erasure.

The agent opens the request from the customer page, records the identity check and
produces the export (JSON and PDF); the customer then asks for erasure, the agent
submits it and the team lead approves. Afterwards nothing of the person is left but
the pseudonymised orders, and the order figures are unchanged.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from stammkunde.commerce.models import Order
from stammkunde.core.services import user_create
from stammkunde.customers.models import Customer

from .factories import Person, rich_customer
from .test_erasure import database_hits

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "pw-Stammkunde-1"


def _login(page: Any, base: str, username: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_load_state()


def _open_request(page: Any, base: str, customer: Customer, kind: str) -> None:
    page.goto(f"{base}{customer.get_absolute_url()}")
    page.click("text=Neue Anfrage")
    page.select_option("select[name=kind]", kind)
    page.select_option("select[name=channel]", "email")
    page.fill("input[name=identity_method]", "Rückruf unter der bekannten Nummer")
    page.click("main button[type=submit]")
    page.wait_for_selector("#request-facts")


def test_access_then_erasure_with_a_second_persons_approval(
    browser: Any, live_server: Any, insecure_cookies: Any
) -> None:
    # given a customer with data in every app, an agent and a team lead
    agent = user_create(username="mia", password=PASSWORD, roles=["agent"])
    user_create(username="lena", password=PASSWORD, roles=["team_lead"])
    person = Person()
    customer = rich_customer(person, staff=agent)
    orders_before = list(Order.objects.values_list("number", "total"))
    base = live_server.url
    context = browser.new_context(locale="de-DE", viewport={"width": 390, "height": 844})
    page = context.new_page()
    # when the agent opens an access request from the customer page and produces the export
    _login(page, base, "mia")
    _open_request(page, base, customer, "access")
    assert "Auskunft" in page.inner_text("h1")
    page.click("#exports button[type=submit]")
    page.wait_for_selector("#exports a:text('JSON')", timeout=60_000)
    # then the JSON holds the person's data and the PDF is a PDF
    with page.expect_download() as download:
        page.click("#exports a:text('JSON')")
    data = json.loads(Path(download.value.path()).read_text(encoding="utf-8"))
    assert person.email in json.dumps(data, ensure_ascii=False)
    with page.expect_download() as pdf:
        page.click("#exports a:text('PDF')")
    assert Path(pdf.value.path()).read_bytes()[:5] == b"%PDF-"
    # and the page fits the phone's width
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    # when the customer then asks for erasure and the agent submits it
    _open_request(page, base, customer, "erasure")
    page.click("#erasure button[type=submit]")
    page.wait_for_selector("text=Wartet auf die Freigabe")
    request_url = page.url
    assert page.locator("#approve").count() == 0  # not by the same person
    # and the team lead approves
    lead = browser.new_context(locale="de-DE").new_page()
    _login(lead, base, "lena")
    lead.goto(request_url)
    lead.click("#approve")
    lead.wait_for_selector("#request-facts .badge:text('gelöscht')")
    # then nothing of the person is left but the pseudonymised orders, figures unchanged
    assert database_hits(person.secrets()) == []
    assert list(Order.objects.values_list("number", "total")) == orders_before
    assert Customer.objects.get(pk=customer.pk).erased_at is not None
