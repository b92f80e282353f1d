"""Delivery is visible: a reply the relay does not take shows as deferred, then failed, on the
ticket; an agent can send it again or log a call instead; a bounce shows as bounced."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from stammkunde.channels import selectors
from stammkunde.channels.models import ContactLog, OutboxMessage
from stammkunde.channels.services import (
    OUTBOX_MAX_ATTEMPTS,
    mail_ingest,
    outbox_send,
    outbox_send_due,
)
from stammkunde.core.models import AuditEntry
from stammkunde.service.models import Message, Ticket
from stammkunde.service.services import ticket_reply

from ..customers.factories import CustomerFactory
from .conftest import free_port, mail

pytestmark = pytest.mark.django_db


@pytest.fixture
def closed_port(settings):
    """The relay is down: nobody listens on the configured port (connection refused)."""
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_USE_TLS = False
    return settings.EMAIL_PORT


def _reply(agent, queue, django_capture_on_commit_callbacks) -> tuple[Ticket, OutboxMessage]:
    CustomerFactory(emails=["erika@example.de"])
    ticket = Ticket.objects.get(pk=mail_ingest(raw=mail()).ticket_id)
    with django_capture_on_commit_callbacks(execute=True):
        message = ticket_reply(actor=agent, ticket=ticket, body="Wir kümmern uns.")
    return ticket, OutboxMessage.objects.get(service_message=message)


def _ticket_page(client, user, ticket) -> str:
    client.force_login(user)
    response = client.get(ticket.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="de")
    assert response.status_code == 200
    return response.content.decode()


def _delivery_block(page: str, outbox: OutboxMessage) -> str:
    start = page.rindex("<div", 0, page.index(f'id="delivery-{outbox.pk}"'))
    return page[start : page.index("</div>", page.index("</div>", start) + 1)]


def test_a_reply_to_a_refusing_relay_shows_deferred_with_the_next_attempt_and_reason(
    client, agent, queue, closed_port, django_capture_on_commit_callbacks
) -> None:
    ticket, outbox = _reply(agent, queue, django_capture_on_commit_callbacks)
    assert outbox_send_due() == {"retry": 1}
    outbox.refresh_from_db()
    assert outbox.delivery_state == "deferred"
    assert "Connection refused" in outbox.last_error
    block = _delivery_block(_ticket_page(client, agent, ticket), outbox)
    assert 'data-delivery="deferred"' in block
    assert "zurückgestellt" in block
    assert "Der Mailserver war nicht erreichbar." in block
    assert "nächster Versuch" in block
    assert "gesendet" not in block


def test_after_the_last_attempt_the_reply_is_failed_on_the_ticket(
    client, agent, queue, closed_port, django_capture_on_commit_callbacks
) -> None:
    ticket, outbox = _reply(agent, queue, django_capture_on_commit_callbacks)
    now = timezone.now()
    outcomes = []
    for _ in range(OUTBOX_MAX_ATTEMPTS):
        outcomes.append(outbox_send(outbox_id=outbox.pk, now=now))
        now += timedelta(hours=7)  # past the longest back-off
    assert outcomes == ["retry"] * (OUTBOX_MAX_ATTEMPTS - 1) + ["failed"]
    outbox.refresh_from_db()
    assert outbox.status == "failed" and outbox.failed_at is not None
    block = _delivery_block(_ticket_page(client, agent, ticket), outbox)
    assert 'data-delivery="failed"' in block and "fehlgeschlagen" in block
    assert "Der Mailserver war nicht erreichbar." in block
    assert "Erneut senden" in block
    contact_link = reverse("channels:contact_log", args=[ticket.customer_id])
    assert f"{contact_link}?ticket={ticket.pk}" in block


def test_an_agent_retries_a_failed_reply_and_it_is_sent_audited(
    client, agent, queue, smtp_server, django_capture_on_commit_callbacks
) -> None:
    ticket, outbox = _reply(agent, queue, django_capture_on_commit_callbacks)
    smtp_server.reject = "550 5.1.1 mailbox unknown"
    assert outbox_send_due() == {"failed": 1}
    smtp_server.reject = None
    client.force_login(agent)
    response = client.post(reverse("channels:outbox_retry", args=[outbox.pk]))
    assert response.status_code == 302 and response["Location"] == ticket.get_absolute_url()
    outbox.refresh_from_db()
    assert (outbox.status, outbox.attempts) == ("queued", 0)
    entry = AuditEntry.objects.filter(object_type="channels.OutboxMessage").latest("id")
    assert entry.actor_id == agent.pk and entry.changes["status"] == ["failed", "queued"]
    assert outbox_send_due() == {"sent": 1}
    assert len(smtp_server.messages) == 1
    assert "gesendet" in _delivery_block(_ticket_page(client, agent, ticket), outbox)


def test_a_sent_reply_cannot_be_retried(
    client, agent, queue, smtp_server, django_capture_on_commit_callbacks
) -> None:
    ticket, outbox = _reply(agent, queue, django_capture_on_commit_callbacks)
    assert outbox_send_due() == {"sent": 1}
    client.force_login(agent)
    client.post(reverse("channels:outbox_retry", args=[outbox.pk]))
    outbox.refresh_from_db()
    assert outbox.status == "sent" and len(smtp_server.messages) == 1


def test_a_user_who_does_not_see_the_ticket_cannot_retry_its_mail(
    client, agent, partner_agent, queue, closed_port, django_capture_on_commit_callbacks
) -> None:
    _ticket, outbox = _reply(agent, queue, django_capture_on_commit_callbacks)
    outbox_send_due()
    client.force_login(partner_agent)
    assert client.post(reverse("channels:outbox_retry", args=[outbox.pk])).status_code == 404


def test_a_hard_bounce_marks_the_reply_bounced_on_the_ticket(
    client, agent, queue, smtp_server, django_capture_on_commit_callbacks
) -> None:
    ticket, outbox = _reply(agent, queue, django_capture_on_commit_callbacks)
    assert outbox_send_due() == {"sent": 1}
    dsn = (
        "From: MAILER-DAEMON@example.de\r\nTo: service@stammkunde.example\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\n"
        "Message-ID: <dsn1@example.de>\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="b"\r\n\r\n'
        "--b\r\nContent-Type: text/plain\r\n\r\nfailed\r\n"
        "--b\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.example.de\r\n\r\n"
        "Final-Recipient: rfc822; erika@example.de\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        "Diagnostic-Code: smtp; 550 5.1.1 user unknown\r\n\r\n"
        "--b\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        f"Message-ID: <{outbox.message_id}>\r\n\r\n--b--\r\n"
    ).encode()
    assert mail_ingest(raw=dsn).result == "bounce"
    outbox.refresh_from_db()
    assert outbox.status == "bounced"
    block = _delivery_block(_ticket_page(client, agent, ticket), outbox)
    assert 'data-delivery="bounced"' in block and "unzustellbar" in block
    assert Message.objects.filter(ticket=ticket, kind="internal").exists()


def test_delivery_problems_counts_states_and_lists_the_latest_failures(
    agent, queue, closed_port, django_capture_on_commit_callbacks
) -> None:
    ticket, outbox = _reply(agent, queue, django_capture_on_commit_callbacks)
    since = timezone.now() - timedelta(hours=1)
    outbox_send_due()
    figure = selectors.delivery_problems(since=since)
    assert figure["counts"] == {"queued": 0, "deferred": 1, "sent": 0, "failed": 0, "bounced": 0}
    assert figure["latest"] == []
    OutboxMessage.objects.filter(pk=outbox.pk).update(attempts=OUTBOX_MAX_ATTEMPTS - 1)
    outbox_send_due(now=timezone.now() + timedelta(hours=7))
    figure = selectors.delivery_problems(since=since)
    assert figure["counts"]["failed"] == 1 and figure["counts"]["deferred"] == 0
    assert [o.pk for o in figure["latest"]] == [outbox.pk]
    assert figure["latest"][0].ticket == ticket
    assert selectors.delivery_problems(since=timezone.now() + timedelta(days=1))["problems"] == 0


def test_the_contact_log_form_opens_with_the_ticket_preselected(
    client, agent, queue, closed_port, django_capture_on_commit_callbacks
) -> None:
    ticket, _outbox = _reply(agent, queue, django_capture_on_commit_callbacks)
    client.force_login(agent)
    url = reverse("channels:contact_log", args=[ticket.customer_id])
    page = client.get(f"{url}?ticket={ticket.pk}", HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert f'<option value="{ticket.pk}" selected>' in page
    response = client.post(
        url,
        {"channel": "phone", "direction": "out", "outcome": "resolved", "ticket": ticket.pk},
    )
    assert response.status_code == 302
    assert ContactLog.objects.filter(ticket=ticket, channel="phone").count() == 1
