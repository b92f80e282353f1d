from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from stammkunde.channels.models import OutboxMessage
from stammkunde.channels.services import mail_ingest, outbox_send_due
from stammkunde.service.models import Message, Ticket
from stammkunde.service.services import ticket_reply

from ..customers.factories import CustomerFactory
from .conftest import free_port, mail

pytestmark = pytest.mark.django_db


def _ticket_from_mail() -> Ticket:
    CustomerFactory(emails=["erika@example.de"])
    result = mail_ingest(raw=mail())
    return Ticket.objects.get(pk=result.ticket_id)


def _agent_reply(
    agent, ticket, django_capture_on_commit_callbacks, body="Wir kümmern uns."
) -> OutboxMessage:
    with django_capture_on_commit_callbacks(execute=True):
        message = ticket_reply(actor=agent, ticket=ticket, body=body)
    return OutboxMessage.objects.get(service_message=message)


def test_an_agent_reply_is_mailed_with_threading_headers_and_the_ticket_number(
    queue, agent, smtp_server, django_capture_on_commit_callbacks
) -> None:
    # given
    ticket = _ticket_from_mail()
    # when
    outbox = _agent_reply(agent, ticket, django_capture_on_commit_callbacks)
    counts = outbox_send_due()
    # then
    assert counts == {"sent": 1}
    sent = smtp_server.messages[0]
    assert sent["Message-ID"] == f"<{outbox.message_id}>"
    assert sent["In-Reply-To"] == "<m1@example.de>"
    assert "<m1@example.de>" in sent["References"]
    assert f"[#{ticket.number}]" in sent["Subject"]
    assert sent["To"] == "erika@example.de"
    assert sent.get_body(("plain",)).get_content().strip() == "Wir kümmern uns."
    assert "Wir kümmern uns." in sent.get_body(("html",)).get_content()
    assert OutboxMessage.objects.get().status == "sent"


def test_with_the_smtp_server_down_the_mail_waits_and_is_sent_once_later(
    queue, agent, settings, django_capture_on_commit_callbacks
) -> None:
    # given: nobody listens on the port
    from aiosmtpd.controller import Controller

    from .conftest import SinkHandler

    port = free_port()
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    ticket = _ticket_from_mail()
    outbox = _agent_reply(agent, ticket, django_capture_on_commit_callbacks)
    # when
    assert outbox_send_due() == {"retry": 1}
    outbox.refresh_from_db()
    assert outbox.status == "queued" and outbox.attempts == 1
    assert outbox.next_attempt_at > timezone.now()
    assert outbox_send_due() == {}  # not due yet: back-off
    handler = SinkHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        later = timezone.now() + timedelta(minutes=5)
        assert outbox_send_due(now=later) == {"sent": 1}
        assert outbox_send_due(now=later + timedelta(hours=1)) == {}
    finally:
        controller.stop()
    # then
    assert len(handler.messages) == 1
    assert OutboxMessage.objects.get().status == "sent"


def test_a_permanent_refusal_fails_the_mail_and_says_so_on_the_ticket(
    queue, agent, smtp_server, django_capture_on_commit_callbacks
) -> None:
    ticket = _ticket_from_mail()
    _agent_reply(agent, ticket, django_capture_on_commit_callbacks)
    smtp_server.reject = "550 5.1.1 mailbox unknown"
    assert outbox_send_due() == {"failed": 1}
    outbox = OutboxMessage.objects.get()
    assert outbox.status == "failed" and "550" in outbox.last_error
    note = Message.objects.filter(ticket=ticket, kind="internal").get()
    assert "erika@example.de" in note.body and "550" in note.body


def test_a_reply_logged_as_a_phone_call_is_not_mailed(
    queue, agent, django_capture_on_commit_callbacks
) -> None:
    ticket = _ticket_from_mail()
    with django_capture_on_commit_callbacks(execute=True):
        ticket_reply(actor=agent, ticket=ticket, body="Angerufen", channel="phone")
    assert OutboxMessage.objects.count() == 0


def test_enqueueing_a_reply_twice_creates_one_outbox_mail(
    queue, agent, django_capture_on_commit_callbacks
) -> None:
    from stammkunde.channels.services import outbox_enqueue_reply

    ticket = _ticket_from_mail()
    outbox = _agent_reply(agent, ticket, django_capture_on_commit_callbacks)
    assert outbox_enqueue_reply(outbox.service_message) == outbox
    assert OutboxMessage.objects.count() == 1


def test_the_full_thread_ends_up_as_one_ticket(
    queue, agent, smtp_server, django_capture_on_commit_callbacks
) -> None:
    """Customer writes, agent replies, customer answers from a client that drops References."""
    # given: the customer writes
    first = mail_ingest(raw=mail(message_id="<start@kunde.de>"))
    ticket = Ticket.objects.get(pk=first.ticket_id)
    # and the agent replies by mail
    _agent_reply(agent, ticket, django_capture_on_commit_callbacks)
    outbox_send_due()
    sent = smtp_server.messages[0]
    # when: a reply keeps only In-Reply-To to our mail
    r1 = mail_ingest(
        raw=mail(
            message_id="<r1@kunde.de>",
            subject=f"Re: {sent['Subject']}",
            in_reply_to=sent["Message-ID"],
            body="Danke!",
        )
    )
    # and another client drops References and In-Reply-To but keeps the subject
    r2 = mail_ingest(
        raw=mail(
            message_id="<r2@handy.de>",
            subject=f"AW: {sent['Subject']}",
            body="Noch eine Frage vom Handy.",
        )
    )
    # then
    assert (first.result, r1.result, r2.result) == ("new_ticket", "appended", "appended")
    assert {r1.ticket_id, r2.ticket_id} == {ticket.pk}
    assert Ticket.objects.count() == 1
    assert Message.objects.filter(ticket=ticket, direction="in").count() == 3
