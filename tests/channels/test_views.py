from __future__ import annotations

import pytest
from django.core.cache import cache
from django.urls import reverse

from stammkunde.channels.models import ContactLog, InboundMessage, OutboxMessage
from stammkunde.channels.services import mail_ingest
from stammkunde.customers.models import Interaction
from stammkunde.service.models import Message, Ticket

from ..commerce.factories import order
from ..customers.factories import CustomerFactory
from .conftest import mail

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clear_rate_limit():
    cache.clear()
    yield
    cache.clear()


def _form(**overrides):
    data = {
        "type": "complaint",
        "name": "Erika Muster",
        "email": "erika@example.de",
        "order_number": "",
        "subject": "Kette springt",
        "message": "Die Kette springt ab.",
        "website": "",
    }
    data.update(overrides)
    return data


def test_the_contact_form_opens_a_ticket_and_queues_a_confirmation(queue, client) -> None:
    # given
    customer = CustomerFactory(emails=["erika@example.de"])
    shop_order = order(customer, "B1001")
    # when
    response = client.post(reverse("channels:contact"), _form(order_number="B1001"))
    # then
    assert response.status_code == 200
    ticket = Ticket.objects.get()
    assert ticket.number in response.content.decode()
    assert (ticket.customer, ticket.channel, ticket.type) == (customer, "web", "complaint")
    assert ticket.order == shop_order
    confirmation = OutboxMessage.objects.get()
    assert confirmation.kind == "confirmation" and "erika@example.de" in confirmation.to
    assert f"[#{ticket.number}]" in confirmation.subject


def test_an_order_number_of_another_customer_is_not_linked(queue, client) -> None:
    other = CustomerFactory(emails=["other@example.de"])
    order(other, "B2002")
    client.post(reverse("channels:contact"), _form(order_number="B2002"))
    ticket = Ticket.objects.get()
    assert ticket.order is None
    assert "B2002" in ticket.messages.get().body


def test_the_contact_form_speaks_english_and_german(queue, client) -> None:
    english = client.get(reverse("channels:contact"), HTTP_ACCEPT_LANGUAGE="en").content
    german = client.get(reverse("channels:contact"), HTTP_ACCEPT_LANGUAGE="de").content
    assert b"Your concern" in english
    assert b"Ihr Anliegen" in german


def test_the_honeypot_answers_like_success_but_stores_nothing(queue, client) -> None:
    response = client.post(reverse("channels:contact"), _form(website="http://spam.example"))
    assert response.status_code == 200
    assert Ticket.objects.count() == 0


def test_the_contact_form_is_rate_limited_per_address(queue, client) -> None:
    codes = [
        client.post(reverse("channels:contact"), _form(subject=f"s{i}")).status_code
        for i in range(7)
    ]
    assert codes[:5] == [200] * 5
    assert codes[5:] == [429, 429]
    assert Ticket.objects.count() == 5


def test_the_contact_form_requires_csrf(queue) -> None:
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    assert strict.post(reverse("channels:contact"), _form()).status_code == 403


def test_invalid_input_is_answered_with_field_errors(queue, client) -> None:
    response = client.post(reverse("channels:contact"), _form(email="kein-mail", message=""))
    assert response.status_code == 200
    assert Ticket.objects.count() == 0
    assert b"errorlist" in response.content


def test_only_admins_see_the_quarantine(queue, client, admin, agent, partner_agent) -> None:
    result = mail_ingest(raw=b"garbage")
    url = reverse("channels:quarantine")
    client.force_login(admin)
    page = client.get(url).content.decode()
    assert f'id="inbound-{result.inbound_id}"' in page and "no sender" in page
    for user in (agent, partner_agent):
        client.force_login(user)
        assert client.get(url).status_code == 403
        assert (
            client.get(reverse("channels:inbound_raw", args=[result.inbound_id])).status_code == 404
        )


def test_an_admin_reprocesses_a_quarantined_message(client, admin, db) -> None:
    from stammkunde.service.models import Queue

    result = mail_ingest(raw=mail())  # no queue yet
    Queue.objects.create(name="Kundenservice")
    client.force_login(admin)
    client.post(reverse("channels:reprocess", args=[result.inbound_id]))
    assert InboundMessage.objects.get().result == "new_ticket"


def test_the_original_mail_is_visible_only_with_its_ticket(
    queue, client, agent, partner_agent
) -> None:
    result = mail_ingest(raw=mail())
    client.force_login(agent)
    response = client.get(reverse("channels:inbound_raw", args=[result.inbound_id]))
    assert response.status_code == 200 and b"Bremse quietscht" in response.content
    client.force_login(partner_agent)  # the queue belongs to no partner
    assert client.get(reverse("channels:inbound_raw", args=[result.inbound_id])).status_code == 404
    assert client.get(reverse("channels:ticket_mail", args=[result.ticket_id])).status_code == 404


def test_an_agent_logs_an_inbound_call_on_a_ticket(queue, client, agent) -> None:
    # given
    customer = CustomerFactory(emails=["erika@example.de"])
    ticket = Ticket.objects.get(pk=mail_ingest(raw=mail()).ticket_id)
    client.force_login(agent)
    # when
    client.post(
        reverse("channels:contact_log", args=[customer.pk]),
        {
            "channel": "phone",
            "direction": "in",
            "duration_minutes": 4,
            "outcome": "follow_up",
            "ticket": str(ticket.pk),
            "note": "Ruft wegen Bremse an",
        },
    )
    # then
    entry = ContactLog.objects.get()
    assert (entry.channel, entry.duration_seconds, entry.ticket) == ("phone", 240, ticket)
    call = Message.objects.filter(ticket=ticket, channel="phone").get()
    assert call.direction == "in" and "4 min" in call.body


def test_a_letter_without_a_ticket_lands_on_the_timeline(queue, client, agent) -> None:
    customer = CustomerFactory()
    client.force_login(agent)
    client.post(
        reverse("channels:contact_log", args=[customer.pk]),
        {"channel": "letter", "direction": "in", "outcome": "information", "note": "Brief"},
    )
    assert Interaction.objects.filter(customer=customer, kind="contact_letter").exists()
    page = client.get(customer.get_absolute_url()).content.decode()
    assert 'id="panel-contact_log"' in page


def test_an_inbound_call_can_open_a_ticket(queue, client, agent) -> None:
    customer = CustomerFactory()
    client.force_login(agent)
    client.post(
        reverse("channels:contact_log", args=[customer.pk]),
        {
            "channel": "phone",
            "direction": "in",
            "outcome": "follow_up",
            "open_ticket": "on",
            "subject": "Rückruf wegen Rahmen",
        },
    )
    ticket = Ticket.objects.get()
    assert (ticket.customer, ticket.channel) == (customer, "phone")
    assert ContactLog.objects.get().ticket == ticket


def test_a_partner_agent_cannot_log_on_a_customer_it_cannot_see(client, partner_agent, db) -> None:
    customer = CustomerFactory()
    client.force_login(partner_agent)
    response = client.post(
        reverse("channels:contact_log", args=[customer.pk]),
        {"channel": "phone", "direction": "in", "outcome": "information"},
    )
    assert response.status_code == 404
    assert ContactLog.objects.count() == 0
