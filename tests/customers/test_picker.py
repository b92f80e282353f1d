"""The customer picker: a customer is chosen by what the agent knows, never by an id."""

from __future__ import annotations

import pytest
from django.core.cache import caches
from django.urls import reverse

from stammkunde.service.models import Ticket

from ..service.factories import queue, ticket
from .factories import CustomerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def anna():
    return CustomerFactory(
        first_name="Anna",
        last_name="Schmidt",
        emails=["anna.schmidt@example.de"],
        addresses=[{"street": "Lindenstraße 5", "postal_code": "10115", "city": "Berlin"}],
    )


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    caches["shared"].clear()
    yield
    caches["shared"].clear()


def test_picker_offers_matching_customers_as_choices(agent, client, anna) -> None:
    client.force_login(agent)
    html = client.get(
        reverse("customers:picker"), {"field": "customer", "customer_q": "anna schmidt"}
    ).content.decode()
    assert f'name="customer" value="{anna.pk}"' in html
    assert "Anna Schmidt" in html and anna.number in html and "10115 Berlin" in html


def test_picker_keeps_the_chosen_customer_first(agent, client, anna) -> None:
    other = CustomerFactory(first_name="Bodo", last_name="Berg", emails=["bodo@example.de"])
    client.force_login(agent)
    html = client.get(
        reverse("customers:picker"), {"field": "owner", "owner_q": "anna", "owner": other.pk}
    ).content.decode()
    assert html.index(f'value="{other.pk}" checked') < html.index(f'value="{anna.pk}"')


def test_picker_answers_json_too(agent, client, anna) -> None:
    client.force_login(agent)
    body = client.get(reverse("customers:picker"), {"q": "Schmidt", "format": "json"}).json()
    assert body["results"][0] == {
        "id": anna.pk,
        "number": anna.number,
        "name": "Anna Schmidt",
        "email": "anna.schmidt@example.de",
        "place": "10115 Berlin",
    }


def test_picker_says_when_nobody_is_found(agent, client, anna) -> None:
    client.force_login(agent)
    html = client.get(reverse("customers:picker"), {"q": "xyzzy"}).content.decode()
    assert "Kunde nicht gefunden." in html  # German is the default language


def test_picker_needs_a_login_and_a_role(client, no_role_user, anna) -> None:
    response = client.get(reverse("customers:picker"), {"q": "anna"})
    assert response.status_code == 302
    client.force_login(no_role_user)
    assert client.get(reverse("customers:picker"), {"q": "anna"}).status_code == 403


def test_picker_never_offers_a_customer_the_partner_agent_may_not_see(
    partner_agent, partner, client, anna
) -> None:
    own = CustomerFactory(first_name="Anna", last_name="Schmidt", emails=["a2@example.de"])
    ticket(customer=own, q=queue("CallPro", partner=partner))
    client.force_login(partner_agent)
    html = client.get(
        reverse("customers:picker"), {"q": "anna schmidt", "customer": anna.pk}
    ).content.decode()
    assert f'value="{own.pk}"' in html
    assert f'value="{anna.pk}"' not in html and "anna.schmidt@example.de" not in html


def test_picker_is_rate_limited(agent, client, settings, anna) -> None:
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "customer_search": {"account": "3/m"}}
    client.force_login(agent)
    codes = [client.get(reverse("customers:picker"), {"q": "anna"}).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]


def test_picker_ignores_a_strange_field_name(agent, client, anna) -> None:
    client.force_login(agent)
    html = client.get(
        reverse("customers:picker"), {"field": '"><script>', "q": "anna"}
    ).content.decode()
    assert "<script>" not in html
    assert 'name="customer"' in html


# --- the picker in the new-ticket form -----------------------------------------------------


def _ticket_form(**extra: object) -> dict[str, object]:
    return {
        "subject": "Rückruf",
        "body": "Bitte zurückrufen.",
        "type": "inquiry",
        "channel": "phone",
        "priority": "normal",
        "queue": queue("Kundenservice").pk,
        **extra,
    }


def test_new_ticket_form_has_no_customer_id_field(agent, client) -> None:
    client.force_login(agent)
    html = client.get(reverse("service:create")).content.decode()
    assert 'name="customer_q"' in html and 'type="number"' not in html
    assert "kunden-id" not in html.lower() and "Kunden suchen" in html


def test_searching_without_javascript_shows_choices_and_creates_nothing(
    agent, client, anna
) -> None:
    client.force_login(agent)
    response = client.post(
        reverse("service:create"),
        _ticket_form(customer_q="anna schmidt", customer_search="1"),
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert f'name="customer" value="{anna.pk}"' in html
    assert 'value="anna schmidt"' in html  # the typed text stays
    assert not Ticket.objects.exists()


def test_typed_text_without_a_choice_asks_to_choose(agent, client, anna) -> None:
    client.force_login(agent)
    response = client.post(reverse("service:create"), _ticket_form(customer_q="Schmidt"))
    assert response.status_code == 200
    assert response.context["form"].errors["customer"] == [
        "Bitte wählen Sie den Kunden aus der Liste."
    ]
    assert not Ticket.objects.exists()


def test_text_that_finds_nobody_says_customer_not_found(agent, client, anna) -> None:
    client.force_login(agent)
    response = client.post(reverse("service:create"), _ticket_form(customer_q="xyzzy"))
    assert response.context["form"].errors["customer"] == ["Kunde nicht gefunden."]


def test_a_chosen_customer_the_agent_may_not_see_is_not_found(
    partner_agent, partner, client, anna
) -> None:
    q = queue("CallPro", partner=partner)
    client.force_login(partner_agent)
    response = client.post(
        reverse("service:create"), _ticket_form(queue=q.pk, customer=anna.pk, customer_q="")
    )
    assert response.status_code == 200
    assert response.context["form"].errors["customer"] == ["Kunde nicht gefunden."]
    assert not Ticket.objects.exists()


@pytest.mark.parametrize("raw", ["abc", "-1", "1e5", "99999999999999999999", "²"])
def test_any_typed_customer_value_is_a_field_error_not_a_500(agent, client, raw) -> None:
    client.force_login(agent)
    response = client.post(reverse("service:create"), _ticket_form(customer=raw))
    assert response.status_code == 200
    assert response.context["form"].errors["customer"] == ["Kunde nicht gefunden."]


def test_choosing_the_customer_creates_the_ticket_for_them(agent, client, anna) -> None:
    client.force_login(agent)
    response = client.post(
        reverse("service:create"), _ticket_form(customer=anna.pk, customer_q="anna schmidt")
    )
    assert response.status_code == 302
    assert Ticket.objects.get().customer == anna


def test_new_ticket_link_from_the_customer_page_preselects_the_customer(
    agent, client, anna
) -> None:
    client.force_login(agent)
    html = client.get(reverse("service:create"), {"customer": anna.pk}).content.decode()
    assert f'value="{anna.pk}" checked' in html


def test_ticket_page_links_an_unknown_sender_with_the_picker(agent, client, anna) -> None:
    unknown = ticket(customer=None, sender_email="neu@example.org")
    client.force_login(agent)
    html = client.get(unknown.get_absolute_url()).content.decode()
    assert 'name="customer_q"' in html
    form = {
        "version": unknown.version,
        "status": unknown.status,
        "queue": unknown.queue_id,
        "priority": unknown.priority,
        "type": unknown.type,
        "customer": anna.pk,
    }
    client.post(reverse("service:change", args=[unknown.pk]), form)
    unknown.refresh_from_db()
    assert unknown.customer == anna
