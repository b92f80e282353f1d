"""In a real browser on a phone-sized screen: a reply the mail server refuses shows as failed on
the ticket, in German, with the reason, a retry button and the way to log a call instead."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from stammkunde.channels.models import OutboxMessage
from stammkunde.channels.services import OUTBOX_MAX_ATTEMPTS, mail_ingest, outbox_send_due
from stammkunde.core.services import user_create
from stammkunde.service.models import Queue, Ticket

from ..customers.factories import CustomerFactory
from .conftest import free_port, mail

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_reply_that_cannot_be_delivered_shows_as_failed_on_the_ticket_at_390_px(
    browser, live_server, insecure_cookies, settings
) -> None:
    # given a ticket from a customer's mail, and a mail server nobody listens on
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_USE_TLS = False
    user_create(username="tom", password="pw-Stammkunde-1", roles=["agent"])
    Queue.objects.create(name="Kundenservice")
    CustomerFactory(first_name="Erika", last_name="Muster", emails=["erika@example.de"])
    ticket = Ticket.objects.get(pk=mail_ingest(raw=mail()).ticket_id)
    page = browser.new_page(locale="de-DE", viewport={"width": 390, "height": 844})
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", "tom")
    page.fill("input[name=password]", "pw-Stammkunde-1")
    page.click("main button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")  # the start page
    # when the agent answers on the ticket page
    page.goto(f"{live_server.url}{ticket.get_absolute_url()}")
    page.fill("#reply-body", "Wir tauschen die Bremse kostenlos.")
    page.click("#reply-form button[type=submit]")
    page.wait_for_selector("text=Wir tauschen die Bremse kostenlos.")
    outbox = OutboxMessage.objects.get(ticket=ticket, kind="reply")
    # and the scheduled sending tries until it gives up
    now = timezone.now()
    for _ in range(OUTBOX_MAX_ATTEMPTS):
        outbox_send_due(now=now)
        now += timedelta(hours=7)
    outbox.refresh_from_db()
    assert outbox.status == "failed"
    page.reload()
    # then the reply says, on the message itself, that it failed and why
    block = page.locator(f"#delivery-{outbox.pk}")
    block.wait_for()
    text = block.inner_text()
    assert "E-Mail: fehlgeschlagen" in text
    assert "Grund: Der Mailserver war nicht erreichbar." in text
    assert "Connection refused" in text
    assert block.locator("button", has_text="Erneut senden").is_visible()
    assert block.locator("a", has_text="Anruf erfassen").is_visible()
    box = block.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390
    # nothing of the delivery notice runs off the phone screen or out of its box
    assert block.evaluate("e => e.scrollWidth <= e.clientWidth")
    # when the agent sends it again, it is queued again
    block.locator("button", has_text="Erneut senden").click()
    page.wait_for_selector("text=ist wieder in der Warteschlange")
    assert "E-Mail: in der Warteschlange" in page.locator(f"#delivery-{outbox.pk}").inner_text()
    # and choosing to call instead opens the contact log with the ticket chosen
    outbox_send_due()
    page.reload()
    page.locator(f"#delivery-{outbox.pk} a", has_text="Anruf erfassen").click()
    page.wait_for_selector("select[name=ticket]")
    assert page.input_value("select[name=ticket]") == str(ticket.pk)
