"""In a real browser, in German, on a phone (390 px): a shop sets itself up without /admin/.

On a fresh install the owner completes the wizard, lands on the start page,
invites a colleague as agent, sets the business hours (a contradicting entry
first, refused with what to change) and the colleague chooses a password by the
link and logs in. Every settings page is visited and must fit the phone's width.
Then the owner connects the shop's mailbox (a real dovecot, the connection tested
first) and its outgoing server (a real SMTP peer); a customer's mail is fetched by
the scheduled poll and the agent answers it on the phone: the answer reaches the relay.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from stammkunde.service.models import BusinessCalendar

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PHONE = {"width": 390, "height": 844}
PASSWORD = "Fahrrad-Werkstatt-7"


def _fits(page: Any) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{page.url} is {width} px wide"


def _next(page: Any, button: str = "Weiter") -> None:
    page.click(f"main button:has-text('{button}')")
    page.wait_for_load_state()


def test_an_owner_sets_up_the_shop_invites_an_agent_and_sets_business_hours(
    browser, live_server, insecure_cookies
) -> None:
    owner = browser.new_page(locale="de-DE", viewport=PHONE)
    # a fresh install: the start page opens the wizard
    owner.goto(f"{live_server.url}/")
    owner.wait_for_url(re.compile(r"/settings/welcome/$"))
    assert "Schritt 1 von 4" in owner.inner_text("main")
    _fits(owner)
    owner.fill("input[name=name]", "Radhaus Müller")
    owner.fill("input[name=city]", "Köln")
    owner.select_option("select[name=state]", "NW")
    _next(owner)
    owner.fill("input[name=username]", "anna")
    owner.fill("input[name=email]", "anna@radhaus.example")
    owner.fill("input[name=password]", PASSWORD)
    _fits(owner)
    _next(owner)
    assert owner.input_value("input[name=queue_name]") == "Kundenservice"
    _next(owner)
    assert "Schritt 4 von 4" in owner.inner_text("main")
    _next(owner, "Überspringen")
    owner.wait_for_url(f"{live_server.url}/")
    assert "Stammkunde ist eingerichtet" in owner.inner_text("main")

    # the settings, through the menu (folded behind its button on a phone)
    owner.click("header details.menu > summary")
    owner.click("header nav a:has-text('Einstellungen')")
    owner.wait_for_url(re.compile(r"/settings/$"))
    _fits(owner)
    for section in ("Firma", "Geschäftszeiten und Feiertage", "Queues", "SLA-Regeln"):
        assert section in owner.inner_text("#settings-sections")

    # a colleague as agent
    owner.click("#settings-sections a:has-text('Benutzer und Rollen')")
    _fits(owner)
    owner.click("main a:has-text('Kollegen einladen')")
    owner.fill("input[name=first_name]", "Tom")
    owner.fill("input[name=username]", "tom")
    owner.fill("input[name=email]", "tom@radhaus.example")
    owner.check("input[name=roles][value=agent]")
    _fits(owner)
    owner.click("main button:has-text('Speichern')")
    owner.wait_for_selector("#password-link")
    assert "tom@radhaus.example" in owner.inner_text("#invite-result")
    link = owner.get_attribute("#password-link", "href")
    assert link

    # business hours: Monday closing before it opens is refused, then fixed
    owner.goto(f"{live_server.url}/settings/hours/")
    _fits(owner)
    owner.click("#calendars a")
    owner.fill("input[name=d0_close1]", "07:00")
    owner.click("main button:has-text('Speichern')")
    owner.wait_for_load_state()
    assert "Montag: Die Zeit endet (07:00), bevor sie beginnt (09:00)" in owner.inner_text("main")
    _fits(owner)
    owner.fill("input[name=d0_close1]", "18:00")
    owner.fill("input[name=d5_open1]", "10:00")
    owner.fill("input[name=d5_close1]", "13:00")
    owner.click("main button:has-text('Speichern')")
    owner.wait_for_url(re.compile(r"/settings/hours/$"))
    assert "Geschäftszeiten gespeichert" in owner.inner_text("main")
    assert BusinessCalendar.objects.get().opening_hours["5"] == [["10:00", "13:00"]]

    # every other settings page fits the phone
    for path in ("company/", "queues/", "queues/new/", "sla/", "sla/new/", "templates/new/"):
        owner.goto(f"{live_server.url}/settings/{path}")
        assert owner.locator("h1").count() == 1
        _fits(owner)

    # the colleague chooses a password by the link and logs in
    agent = browser.new_page(locale="de-DE", viewport=PHONE)
    agent.goto(link)
    agent.fill("input[name=new_password1]", PASSWORD)
    agent.fill("input[name=new_password2]", PASSWORD)
    agent.click("main button[type=submit]")
    agent.wait_for_load_state()
    agent.goto(f"{live_server.url}/accounts/login/")
    agent.fill("input[name=username]", "tom")
    agent.fill("input[name=password]", PASSWORD)
    agent.click("main button[type=submit]")
    agent.wait_for_url(f"{live_server.url}/")
    assert "Einstellungen" not in agent.inner_text("header")
    assert agent.goto(f"{live_server.url}/settings/").status == 403


def test_the_owner_connects_the_mailbox_and_the_agent_answers_the_first_customer_mail(
    browser, live_server, insecure_cookies, django_db_blocker
) -> None:
    # given a shop set up by the wizard's services: the owner, an agent, one queue
    import smtplib

    from aiosmtpd.controller import Controller

    from stammkunde.channels.models import OutboxMessage
    from stammkunde.core.jobs.services import job_start
    from stammkunde.core.roles import ADMIN, AGENT
    from stammkunde.core.services import user_create
    from stammkunde.service.models import Queue, Ticket
    from tests.channels.conftest import SinkHandler, free_port, mail
    from tests.channels.dovecot import PASSWORD as IMAP_PASSWORD
    from tests.channels.dovecot import USER as IMAP_USER
    from tests.channels.dovecot import running_dovecot

    user_create(username="anna", password=PASSWORD, roles=[ADMIN])
    agent_user = user_create(username="tom", password=PASSWORD, roles=[AGENT])
    queue = Queue.objects.create(name="Kundenservice")
    queue.members.add(agent_user)
    sink = SinkHandler()
    relay = Controller(sink, hostname="127.0.0.1", port=free_port())
    relay.start()
    try:
        with running_dovecot() as dovecot:
            owner = _logged_in(browser, live_server, "anna")
            # when the owner connects the mailbox (the test button first, then save)
            owner.goto(f"{live_server.url}/settings/mail/new/")
            _fits(owner)
            owner.fill("input[name=name]", "Kundenservice")
            owner.fill("input[name=address]", "service@radhaus.example")
            owner.select_option("select[name=queue]", label="Kundenservice")
            owner.fill("input[name=host]", "127.0.0.1")
            owner.fill("input[name=port]", str(dovecot.imap_port))
            owner.uncheck("input[name=use_ssl]")
            owner.fill("input[name=username]", IMAP_USER)
            owner.fill("input[name=password]", IMAP_PASSWORD)
            owner.click("main button[name=test]")
            owner.wait_for_load_state()
            assert f"Angemeldet als {IMAP_USER}" in owner.inner_text("main")
            owner.click("main button.primary:has-text('Speichern')")
            owner.wait_for_load_state()
            assert "Postfach Kundenservice gespeichert" in owner.inner_text("main")
            # and the outgoing server
            owner.goto(f"{live_server.url}/settings/mail/outgoing/")
            owner.fill("input[name=host]", "127.0.0.1")
            owner.fill("input[name=port]", str(relay.port))
            owner.uncheck("input[name=use_starttls]")
            owner.fill("input[name=sender]", "service@radhaus.example")
            owner.click("main button.primary:has-text('Speichern')")
            owner.wait_for_load_state()
            assert "Postausgangsserver gespeichert" in owner.inner_text("main")
            _fits(owner)

            # and a customer writes; the scheduled poll fetches it
            with smtplib.LMTP("127.0.0.1", dovecot.lmtp_port) as lmtp:
                lmtp.sendmail(
                    "erika@example.de",
                    [IMAP_USER],
                    mail(
                        sender="Erika Muster <erika@example.de>",
                        subject="Bremse quietscht",
                        message_id="<erste-frage@example.de>",
                        body="Meine neue Bremse quietscht. Was tun?",
                    ),
                )
            with django_db_blocker.unblock():
                job_start(kind="channels.mail_poll")
            ticket = Ticket.objects.get(subject="Bremse quietscht")
            assert ticket.queue == queue

            # then the agent answers it on a phone, in German
            agent = _logged_in(browser, live_server, "tom")
            agent.goto(f"{live_server.url}/service/?view=open")
            agent.click(f"main a:has-text('{ticket.number}')")
            agent.wait_for_load_state()
            _fits(agent)
            agent.fill("#reply-form textarea[name=body]", "Bitte die Beläge einbremsen.")
            agent.click("#reply-form button[type=submit]")
            agent.wait_for_load_state()
            outbox = OutboxMessage.objects.get(ticket=ticket, kind=OutboxMessage.Kind.REPLY)
            assert outbox.delivery_state == "sent", outbox.last_error
            sent = [m for m in sink.messages if "Bremse quietscht" in str(m["Subject"])]
            assert len(sent) == 1
            assert sent[0]["To"] == "erika@example.de"
            assert "einbremsen" in sent[0].get_body(("plain",)).get_content()
    finally:
        relay.stop()


def _logged_in(browser: Any, live_server: Any, username: str) -> Any:
    page = browser.new_page(locale="de-DE", viewport=PHONE)
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    return page
