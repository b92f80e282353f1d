"""In a real browser: an agent handles a complaint from the inbox to solved.

Template, knowledge article, goodwill within the limit and above it (the team
lead approves), and the FCR report counts the ticket.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from stammkunde.core.services import user_create
from stammkunde.knowledge.services import article_create
from stammkunde.service import services
from stammkunde.service.models import GoodwillGrant, Queue, ReplyTemplate, Status, Ticket

from .commerce.factories import order
from .customers.factories import CustomerFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_agent_handles_a_complaint_end_to_end_and_the_team_lead_approves_goodwill(
    browser, live_server, insecure_cookies
) -> None:
    # given a complaint about an order in the team queue
    agent = user_create(username="tom", password="pw-Stammkunde-1", roles=["agent"])
    customer = CustomerFactory(first_name="Greta", last_name="Gärtner")
    placed = order(customer, "B4711")
    queue = Queue.objects.create(name="Kundenservice")
    ReplyTemplate.objects.create(
        name="Reklamation angenommen",
        language="de",
        body="Hallo {customer_name}, zu Bestellung {order_number}: wir senden Ersatz.",
    )
    article_create(actor=agent, title="Kette springt", body="Schaltung nachstellen lassen.")
    complaint = services.ticket_create(
        actor=None,
        subject="Kette springt nach zwei Wochen",
        body="Die Kette springt!",
        queue=queue,
        customer=customer,
        type="complaint",
        links=services.TicketLinks(order=placed),
    )
    page = browser.new_page(locale="de-DE")
    # when the agent logs in and opens the unassigned view of the inbox
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", "tom")
    page.fill("input[name=password]", "pw-Stammkunde-1")
    page.click("main button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")  # the start page
    page.click("header nav >> text=Service")
    page.wait_for_selector("#inbox")
    page.click("a[data-view=unassigned]")
    page.click(f"tr[data-ticket='{complaint.number}'] >> text={complaint.number}")
    # then the ticket page shows the customer's history
    page.wait_for_selector("#customer-360")
    assert "B4711" in page.inner_text("#customer-360")
    assert "Greta Gärtner" in page.inner_text("#customer-360")
    # when the agent picks the template, inserts the article and solves in one step
    page.select_option("#template-picker", label="Reklamation angenommen (de)")
    page.wait_for_function(
        "() => document.querySelector('#reply-body').value.includes('Greta Gärtner')"
    )
    page.fill("#knowledge input[type=search]", "Kette")
    page.click("#kb-results .insert-article")
    assert "Schaltung nachstellen" in page.input_value("#reply-body")
    assert "Bestellung B4711" in page.input_value("#reply-body")
    page.select_option("select[name=then_status]", "solved")
    page.click("#reply-form button[type=submit]")
    page.wait_for_selector(".message")
    # and grants goodwill within the limit
    page.select_option("#goodwill select[name=kind]", "voucher")
    page.fill("#goodwill input[name=amount]", "20")
    page.fill("#goodwill input[name=reason]", "Ärger mit der Kette")
    page.click("#goodwill button[type=submit]")
    page.wait_for_selector("#goodwill .badge.good")
    # then the ticket is solved at first contact, the article counted, the goodwill granted
    complaint.refresh_from_db()
    assert complaint.status == Status.SOLVED and complaint.first_contact_resolved is True
    assert complaint.assignee == agent and complaint.articles.count() == 1
    reply = complaint.messages.get(direction="out")
    assert reply.body.startswith("Hallo Greta Gärtner")
    assert GoodwillGrant.objects.get().amount == Decimal("20")
    assert Ticket.objects.get(pk=complaint.pk).first_response_at is not None
    # when the agent asks for more than the limit allows
    page.select_option("#goodwill select[name=kind]", "credit")
    page.fill("#goodwill input[name=amount]", "120")
    page.fill("#goodwill input[name=reason]", "Zweiter Ausfall")
    page.click("#goodwill button[type=submit]")
    page.wait_for_selector("#goodwill li:has-text('120')")
    page.close()
    # then the team lead finds the request in the inbox and approves it on the ticket
    user_create(username="lena", password="pw-Stammkunde-1", roles=["team_lead"])
    lead = browser.new_page(locale="de-DE")
    lead.goto(f"{live_server.url}/accounts/login/")
    lead.fill("input[name=username]", "lena")
    lead.fill("input[name=password]", "pw-Stammkunde-1")
    lead.click("main button[type=submit]")
    lead.wait_for_url(f"{live_server.url}/")  # the start page
    lead.goto(f"{live_server.url}/service/")
    lead.click(f"#pending-goodwill >> text={complaint.number}")
    lead.click("#goodwill button[value=approve]")
    lead.wait_for_selector("#goodwill li:has-text('120') .badge.good")
    assert GoodwillGrant.objects.get(amount=Decimal("120")).status == "approved"
    # and the reports count the ticket as solved at first contact
    lead.goto(f"{live_server.url}/service/reports/")
    assert "1 / 1" in lead.inner_text("#fcr-total")
    lead.close()
