from __future__ import annotations

import pytest

from stammkunde.channels.models import InboundMessage
from stammkunde.channels.services import mail_ingest
from stammkunde.customers.models import Customer
from stammkunde.service.models import Message, Ticket

from ..customers.factories import CustomerFactory
from .conftest import mail

pytestmark = pytest.mark.django_db


def test_a_mail_from_a_known_customer_opens_a_ticket_for_that_customer(queue) -> None:
    # given
    customer = CustomerFactory(emails=["erika@example.de"])
    # when
    result = mail_ingest(raw=mail())
    # then
    assert result.result == "new_ticket"
    ticket = Ticket.objects.get(pk=result.ticket_id)
    assert ticket.customer == customer
    assert ticket.channel == "email"
    assert "Bremse quietscht" in ticket.messages.get().body


def test_an_unknown_sender_becomes_a_prospect(queue) -> None:
    result = mail_ingest(raw=mail(sender="Max Neu <max@neu.de>"))
    ticket = Ticket.objects.get(pk=result.ticket_id)
    assert ticket.customer.emails.get().address == "max@neu.de"
    assert ticket.customer.last_name == "Neu"
    assert ticket.customer.is_prospect


def test_the_same_message_twice_is_a_duplicate_and_keeps_both_raws(queue) -> None:
    raw = mail()
    first = mail_ingest(raw=raw)
    second = mail_ingest(raw=b"Received: from mx2\r\n" + raw)
    assert (first.result, second.result) == ("new_ticket", "duplicate")
    assert second.ticket_id == first.ticket_id
    assert Ticket.objects.count() == 1
    assert InboundMessage.objects.count() == 2


def test_a_reply_with_in_reply_to_is_appended(queue) -> None:
    first = mail_ingest(raw=mail())
    reply = mail_ingest(
        raw=mail(
            message_id="<m2@example.de>",
            subject="Re: Bremse",
            in_reply_to="<m1@example.de>",
            body="Noch etwas.",
        )
    )
    assert reply.result == "appended"
    assert reply.ticket_id == first.ticket_id
    assert Message.objects.filter(ticket_id=first.ticket_id).count() == 2


def test_a_ticket_number_in_the_subject_threads_only_for_the_customer(queue) -> None:
    first = mail_ingest(raw=mail())
    number = Ticket.objects.get(pk=first.ticket_id).number
    own = mail_ingest(
        raw=mail(
            message_id="<m3@example.de>",
            subject=f"Re: x [#{number}]",
            body="Antwort ohne References",
        )
    )
    stranger = mail_ingest(
        raw=mail(
            sender="evil@example.org",
            message_id="<m4@example.org>",
            subject=f"Re: x [#{number}]",
            body="Ich will rein",
        )
    )
    assert own.result == "appended" and own.ticket_id == first.ticket_id
    assert stranger.result == "new_ticket" and stranger.ticket_id != first.ticket_id


def test_a_vacation_reply_opens_no_ticket(queue) -> None:
    result = mail_ingest(
        raw=mail(subject="Abwesenheitsnotiz: Bremse", headers={"Auto-Submitted": "auto-replied"})
    )
    assert result.result == "auto_reply"
    assert Ticket.objects.count() == 0


def test_without_a_queue_the_mail_is_quarantined_and_can_be_reprocessed(db) -> None:
    from stammkunde.channels.services import mail_reprocess
    from stammkunde.service.models import Queue

    result = mail_ingest(raw=mail())
    assert result.result == "quarantined"
    assert "queue" in result.reason
    Queue.objects.create(name="Kundenservice")
    again = mail_reprocess(inbound_id=result.inbound_id)
    assert again.result == "new_ticket"
    assert InboundMessage.objects.get().result == "new_ticket"
    assert Customer.objects.count() == 1
