"""In a real browser: the emailed link (received by a real SMTP peer) is answered, the
detractor follow-up lands in the agent's inbox, and the NPS on the report changes."""

from __future__ import annotations

import email
import re
import socket
import time
from email import policy
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from django.utils import timezone

from stammkunde.core.services import user_create
from stammkunde.feedback import services
from stammkunde.feedback.models import Response

from .conftest import consenting_customer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[bytes] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.messages.append(envelope.content)
        return "250 OK"


@pytest.fixture
def smtp_peer(settings: Any) -> Any:
    inbox = _Inbox()
    with socket.socket() as probe:  # a free port (aiosmtpd cannot start on port 0)
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    try:
        yield inbox
    finally:
        controller.stop()


def _wait_for_mail(inbox: _Inbox, timeout: float = 10.0) -> str:
    deadline = time.monotonic() + timeout
    while not inbox.messages and time.monotonic() < deadline:
        time.sleep(0.05)
    assert inbox.messages, "no mail reached the SMTP peer"
    message = email.message_from_bytes(inbox.messages[0], policy=policy.default)
    return message.get_body(preferencelist=("plain",)).get_content()


def test_customer_answers_the_emailed_link_and_the_nps_changes(
    browser, live_server, insecure_cookies, smtp_peer, settings
) -> None:
    # given: a published NPS survey triggered by solved tickets, a consenting customer
    from stammkunde.service.models import Queue, Team
    from stammkunde.service.services import ticket_create, ticket_solve

    settings.FEEDBACK_BASE_URL = live_server.url
    lead = user_create(username="lena", password="pw-Stammkunde-1", roles=["team_lead"])
    agent = user_create(username="anna", password="pw-Stammkunde-1", roles=["agent"])
    queue = Queue.objects.create(name="Werkstatt", team=Team.objects.create(name="W", lead=lead))
    survey = services.survey_create(
        actor=lead, name="NPS nach Ticket", kind="nps", title_de="Ihre Meinung zählt",
        title_en="Your opinion counts",
        questions=[
            {"type": "nps", "text_de": "Würden Sie uns weiterempfehlen?", "text_en": "Recommend?"},
            {"type": "text", "text_de": "Warum?", "text_en": "Why?", "optional": True},
        ],
        publish=True,
    )  # fmt: skip
    services.trigger_create(actor=lead, survey=survey, event="ticket_solved")
    customer = consenting_customer(first_name="Greta", last_name="Gärtner")
    ticket = ticket_create(
        actor=agent, subject="Bremse", body="quietscht", queue=queue, customer=customer,
        assignee=agent,
    )  # fmt: skip
    ticket_solve(actor=agent, ticket=ticket, expected_version=None)
    page = browser.new_page(locale="de-DE")
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", "lena")
    page.fill("input[name=password]", "pw-Stammkunde-1")
    page.click("main button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")  # the start page
    page.goto(f"{live_server.url}/feedback/report/")
    assert page.inner_text("#nps-value").strip() == "–"
    # when: solving the ticket mailed the link at once (the trigger has no delay; a later
    # trigger run does not invite again), and the customer answers it
    assert ticket.feedback_invitations.count() == 1
    assert services.triggers_run(now=timezone.now())["sent"] == 0
    body = _wait_for_mail(smtp_peer)
    link = re.search(r"https?://\S+/feedback/s/\S+/", body)
    assert link is not None, body
    customer_page = browser.new_page(locale="de-DE")
    customer_page.goto(link.group(0))
    assert "Ihre Meinung zählt" in customer_page.inner_text("h1")
    customer_page.check("input[type=radio][value='3']")
    customer_page.fill("textarea", "Drei Wochen gewartet, sehr enttäuscht.")
    customer_page.click("button[type=submit]")
    customer_page.wait_for_selector("#state-used")
    assert "Vielen Dank" in customer_page.inner_text("h1")
    # then: one response, a follow-up ticket for the agent, the NPS moved to -100
    response = Response.objects.get()
    assert response.nps == 3
    follow_up = response.follow_up_ticket
    assert follow_up is not None and follow_up.assignee == agent and follow_up.priority == "high"
    page.reload()
    assert page.inner_text("#nps-value").strip() in ("-100,0", "−100,0", "-100.0")
    page.goto(f"{live_server.url}/customers/{customer.pk}/")
    assert "NPS 3" in page.inner_text("#timeline")
    # and the agent who handled the ticket finds the follow-up in the inbox
    inbox = browser.new_page(locale="de-DE")
    inbox.goto(f"{live_server.url}/accounts/login/")
    inbox.fill("input[name=username]", "anna")
    inbox.fill("input[name=password]", "pw-Stammkunde-1")
    inbox.click("main button[type=submit]")
    inbox.wait_for_url(f"{live_server.url}/")  # the start page
    inbox.goto(f"{live_server.url}/service/?view=mine")
    assert follow_up.number in inbox.inner_text("main")
    inbox.close()
    # and the link cannot be used again
    customer_page.goto(link.group(0))
    assert customer_page.locator("#state-used").count() == 1
    page.close()
    customer_page.close()
