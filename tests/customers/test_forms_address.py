"""The customer form takes an address (validated, German errors) and warns of duplicates."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from stammkunde.customers.models import Customer
from stammkunde.customers.services import address_save

from .factories import CustomerFactory

pytestmark = pytest.mark.django_db


def _post(**fields: Any) -> dict[str, Any]:
    body = {
        "kind": "person",
        "first_name": "Anna",
        "last_name": "Schmidt",
        "emails": "",
        "phones": "",
        "preferred_language": "de",
        "preferred_channel": "email",
        "street": "Lindenstraße 4",
        "postal_code": "10115",
        "city": "Berlin",
        "country": "DE",
    }
    body.update(fields)
    return body


def test_a_new_customer_gets_the_address_from_the_form(agent, client) -> None:
    client.force_login(agent)
    response = client.post(reverse("customers:create"), _post())
    assert response.status_code == 302
    address = Customer.objects.get(last_name="Schmidt").addresses.get()
    assert (address.street, address.postal_code, address.city, address.country) == (
        "Lindenstraße 4",
        "10115",
        "Berlin",
        "DE",
    )


def test_the_create_page_has_the_address_fields(agent, client) -> None:
    client.force_login(agent)
    page = client.get(reverse("customers:create")).content.decode()
    for name in ("street", "postal_code", "city", "country"):
        assert f'name="{name}"' in page
    assert 'id="address-fields"' in page


@pytest.mark.parametrize(
    ("country", "code", "error"),
    [
        ("DE", "1011", "Eine deutsche Postleitzahl hat 5 Ziffern."),
        ("DE", "1011a", "Eine deutsche Postleitzahl hat 5 Ziffern."),
        ("AT", "10115", "Eine österreichische Postleitzahl hat 4 Ziffern."),
    ],
)
def test_a_postal_code_that_does_not_fit_the_country_is_a_german_field_error(
    agent, client, country: str, code: str, error: str
) -> None:
    client.force_login(agent)
    response = client.post(reverse("customers:create"), _post(country=country, postal_code=code))
    assert response.status_code == 200
    assert error in response.content.decode()
    assert 'id="error-postal_code"' in response.content.decode()
    assert not Customer.objects.filter(last_name="Schmidt").exists()


def test_half_an_address_asks_for_the_rest_in_german(agent, client) -> None:
    client.force_login(agent)
    response = client.post(reverse("customers:create"), _post(street="", city=""))
    page = response.content.decode()
    assert response.status_code == 200
    assert 'id="error-street"' in page and 'id="error-city"' in page
    assert "Für die Adresse nötig." in page


def test_no_address_at_all_is_fine(agent, client) -> None:
    client.force_login(agent)
    response = client.post(reverse("customers:create"), _post(street="", postal_code="", city=""))
    assert response.status_code == 302
    assert not Customer.objects.get(last_name="Schmidt").addresses.exists()


def test_the_edit_form_shows_and_changes_the_address(agent, client) -> None:
    customer = CustomerFactory(first_name="Jan", last_name="Berg")
    address_save(
        actor=None,
        customer=customer,
        data={"street": "Alte Str. 1", "postal_code": "20095", "city": "Hamburg"},
    )
    client.force_login(agent)
    page = client.get(reverse("customers:edit", args=[customer.pk])).content.decode()
    assert 'value="Alte Str. 1"' in page and 'value="20095"' in page
    response = client.post(
        reverse("customers:edit", args=[customer.pk]),
        _post(first_name="Jan", last_name="Berg", street="Neue Str. 2", version=customer.version),
    )
    assert response.status_code == 302
    address = customer.addresses.get()
    assert (address.street, address.postal_code, address.city) == ("Neue Str. 2", "10115", "Berlin")


def test_the_same_email_warns_with_a_link_to_the_existing_customer(agent, client) -> None:
    existing = CustomerFactory(first_name="Ida", last_name="Iske", emails=["ida@example.de"])
    client.force_login(agent)
    response = client.post(
        reverse("customers:create"), _post(emails="IDA@example.de", postal_code="80331")
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert 'id="duplicate-warning"' in page and existing.get_absolute_url() in page
    assert "gleiche E-Mail-Adresse" in page
    assert Customer.objects.count() == 1


def test_the_same_name_and_postal_code_warns(agent, client) -> None:
    existing = CustomerFactory(first_name="Anna", last_name="Schmidt", emails=[])
    address_save(
        actor=None,
        customer=existing,
        data={"street": "Weg 1", "postal_code": "10115", "city": "Berlin"},
    )
    client.force_login(agent)
    page = client.post(reverse("customers:create"), _post(first_name="anna")).content.decode()
    assert "gleicher Name und gleiche Postleitzahl" in page
    assert existing.get_absolute_url() in page
    # another postal code is another person
    response = client.post(reverse("customers:create"), _post(postal_code="80331"))
    assert response.status_code == 302


def test_after_the_warning_the_user_can_still_create(agent, client) -> None:
    CustomerFactory(first_name="Ida", last_name="Iske", emails=["ida@example.de"])
    client.force_login(agent)
    response = client.post(
        reverse("customers:create"), _post(emails="ida@example.de", confirm_duplicate="1")
    )
    assert response.status_code == 302
    assert Customer.objects.count() == 2


def test_a_team_lead_is_offered_the_merge_in_import_export(make_user, client) -> None:
    CustomerFactory(first_name="Ida", last_name="Iske", emails=["ida@example.de"])
    client.force_login(make_user("team_lead"))
    page = client.post(reverse("customers:create"), _post(emails="ida@example.de")).content.decode()
    assert reverse("dataio:duplicates") in page
