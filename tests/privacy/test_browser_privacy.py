"""In a real browser, in German: a customer asks for their data and then for erasure.

The agent opens the request (from the customer page, or from the ticket the
customer's mail became), records the identity check and produces the export (JSON
and PDF); the customer then asks for erasure, the agent submits it and the team
lead approves. Afterwards nothing of the person is left but the pseudonymised
orders, and the figures (analytics page, start page, order totals) are unchanged.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from stammkunde.analytics.services import scoring_run
from stammkunde.channels.services import mail_ingest
from stammkunde.commerce.models import Order
from stammkunde.core.personal import ERASED
from stammkunde.core.services import user_create
from stammkunde.customers.models import Customer
from stammkunde.demo.generator import demo_generate
from stammkunde.service.models import Ticket
from tests.channels.conftest import mail

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


# --------------------------------------------------------------- from an inbound mail

#: Every figure the analytics page shows: the summary line, the model quality table
#: and the numbers behind each chart (the JSON block static/js/charts.js draws).
_ANALYTICS_FIGURES = """() => {
  const charts = {};
  for (const block of document.querySelectorAll("script[type='application/json']")) {
    const card = block.closest("section[id]");
    const figure = JSON.parse(block.textContent);
    charts[card.id + "/" + block.id.replace(/^chart-[0-9a-f]+-/, "")] = figure.data.map(
      (trace) => [trace.x ?? null, trace.y ?? null, trace.z ?? null]
    );
  }
  return {
    summary: document.querySelector("main section.card p").innerText,
    quality: [...document.querySelectorAll("#model-quality td.num")].map((td) => td.innerText),
    charts: Object.keys(charts).sort().map((key) => [key.split("/")[0], charts[key]]),
  };
}"""

#: The team lead's start tiles, their counts only (the rows hold subjects and times).
_START_FIGURES = """() => ({
  counts: [...document.querySelectorAll("#start-tiles .start-tile")].map(
    (tile) => [tile.id, [...tile.querySelectorAll(".tile-count")].map((p) => p.innerText)]
  ),
  queues: [...document.querySelectorAll("#tile-queues tbody tr")].map(
    (row) => [...row.querySelectorAll("td a")].map((a) => a.innerText)
  ),
  mail: document.querySelector("#tile-failed_mails p:nth-of-type(2)")?.innerText ?? null,
})"""


def _figures(page: Any, base: str, customer: Customer) -> dict[str, Any]:
    """What the team lead sees: analytics page, start page, the customer's order totals."""
    page.goto(f"{base}{reverse('analytics:dashboard')}")
    analytics = page.evaluate(_ANALYTICS_FIGURES)
    page.goto(f"{base}/")
    start = page.evaluate(_START_FIGURES)
    page.goto(f"{base}{customer.get_absolute_url()}")
    orders = page.inner_text("#panel-commerce")
    return {"analytics": analytics, "start": start, "orders": orders}


def _request_from_ticket(
    page: Any, base: str, ticket: Ticket, customer: Customer, kind: str
) -> None:
    page.goto(f"{base}{reverse('service:ticket', args=[ticket.pk])}")
    page.click("#ticket-privacy-request")
    assert page.input_value("input[name=customer]") == str(customer.pk)  # preselected
    page.select_option("select[name=kind]", kind)
    page.select_option("select[name=channel]", "email")
    page.fill("input[name=identity_method]", "Antwort von der hinterlegten Adresse bestätigt")
    page.click("main button[type=submit]")
    page.wait_for_selector("#request-facts")
    assert customer.number in page.inner_text("#request-facts")


def test_a_request_by_mail_from_ticket_to_erasure_leaves_the_figures_unchanged(
    browser: Any, live_server: Any, insecure_cookies: Any
) -> None:
    # given a shop with scored customers, among them one with data in every app
    agent = user_create(username="mia", password=PASSWORD, roles=["agent"])
    user_create(username="lena", password=PASSWORD, roles=["team_lead"])
    person = Person()
    customer = rich_customer(person, staff=agent)
    demo_generate(customers=150, seed=7, end=timezone.now())
    scoring_run(as_of=timezone.localdate(), distribute=False)
    # and the customer's mail asking for their data, taken in by the channels service
    sender = f"{person.first_name} {person.last_name} <{person.email}>"
    asked = mail_ingest(
        raw=mail(
            sender=sender,
            subject="Auskunft nach Art. 15 DSGVO",
            body="Bitte senden Sie mir alle Daten, die Sie über mich speichern.\n"
            f"{person.first_name} {person.last_name}, {person.street}",
            message_id="<auskunft-1@example.de>",
        )
    )
    assert asked.result == "new_ticket", asked
    ticket = Ticket.objects.get(pk=asked.ticket_id)
    assert ticket.customer_id == customer.pk and ticket.sender_email == person.email
    orders_before = list(Order.objects.values_list("number", "customer_id", "total"))
    base = live_server.url
    page = browser.new_context(locale="de-DE").new_page()
    # when the agent opens the ticket and records the request from its link
    _login(page, base, "mia")
    _request_from_ticket(page, base, ticket, customer, "access")
    assert "Auskunft" in page.inner_text("h1")
    # and produces the export
    page.click("#exports button[type=submit]")
    page.wait_for_selector("#exports a:text('JSON')", timeout=60_000)
    # then the JSON names the customer and the PDF is a PDF
    with page.expect_download() as download:
        page.click("#exports a:text('JSON')")
    exported = json.dumps(
        json.loads(Path(download.value.path()).read_text(encoding="utf-8")), ensure_ascii=False
    )
    assert customer.number in exported and person.email in exported
    assert person.last_name in exported
    with page.expect_download() as pdf:
        page.click("#exports a:text('PDF')")
    assert Path(pdf.value.path()).read_bytes()[:5] == b"%PDF-"
    # when the customer answers on the same thread and asks for erasure
    erase = mail_ingest(
        raw=mail(
            sender=sender,
            subject="Re: Auskunft nach Art. 15 DSGVO",
            body=f"Danke. Bitte löschen Sie jetzt alle meine Daten. {person.last_name}",
            message_id="<loeschung-1@example.de>",
            in_reply_to="<auskunft-1@example.de>",
        )
    )
    assert (erase.result, erase.ticket_id) == ("appended", ticket.pk), erase
    # and the agent records the erasure request from the ticket and submits it
    _request_from_ticket(page, base, ticket, customer, "erasure")
    page.click("#erasure button[type=submit]")
    page.wait_for_selector("text=Wartet auf die Freigabe")
    request_url = page.url
    assert page.locator("#approve").count() == 0  # not by the same person
    # and the team lead, having looked at the figures, approves
    lead = browser.new_context(locale="de-DE").new_page()
    _login(lead, base, "lena")
    before = _figures(lead, base, customer)
    assert "Bestellung" in before["orders"] and "€" in before["orders"]
    assert before["analytics"]["quality"] and before["analytics"]["charts"]
    lead.goto(request_url)
    lead.click("#approve")
    lead.wait_for_selector("#request-facts .badge:text('gelöscht')")
    # then the whole database holds nothing of the person
    assert database_hits(person.secrets()) == []
    # and the orders are still there, on the pseudonymised customer
    assert list(Order.objects.values_list("number", "customer_id", "total")) == orders_before
    erased = Customer.objects.get(pk=customer.pk)
    assert erased.erased_at is not None and erased.display_name == ERASED
    # and every figure the team lead sees is the same as before
    after = _figures(lead, base, customer)
    assert lead.inner_text("h1").startswith(ERASED)
    assert after == before
