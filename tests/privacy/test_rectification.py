"""Rectification (Art. 16): addresses and contact persons can be corrected, audited."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from stammkunde.core.models import AuditEntry
from stammkunde.customers.models import Address, ContactPerson, Customer
from stammkunde.customers.services import contact_person_add, customer_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def company() -> Customer:
    customer = customer_create(
        actor=None,
        kind="company",
        company_name="Velo GmbH",
        addresses=[{"street": "Altweg 1", "postal_code": "10115", "city": "Berlin"}],
    )
    contact_person_add(actor=None, customer=customer, name="Jan Alt", email="jan@velo.de")
    return customer


def test_staff_corrects_an_address_and_the_audit_keeps_old_and_new(
    client: Any, agent: Any, company: Customer
) -> None:
    address = company.addresses.get()
    client.force_login(agent)
    url = reverse("customers:address_edit", args=[company.pk, address.pk])
    assert client.get(url).status_code == 200
    response = client.post(
        url,
        {
            "kind": "billing",
            "street": "Neuweg 2",
            "postal_code": "10117",
            "city": "Berlin",
            "country": "de",
        },
    )
    assert response.status_code == 302
    address.refresh_from_db()
    assert (address.street, address.country) == ("Neuweg 2", "DE")
    entry = AuditEntry.objects.filter(object_type="customers.Address", action="update").get()
    assert entry.changes["street"] == ["Altweg 1", "Neuweg 2"]
    assert entry.actor == agent


def test_staff_corrects_a_contact_person_with_a_normalised_email(
    client: Any, agent: Any, company: Customer
) -> None:
    person = company.contact_persons.get()
    client.force_login(agent)
    client.post(
        reverse("customers:contact_edit", args=[company.pk, person.pk]),
        {"name": "Jan Neu", "role": "Chef", "email": "JAN.NEU@velo.de", "phone": "030 1234567"},
    )
    person.refresh_from_db()
    assert (person.name, person.email, person.phone) == (
        "Jan Neu",
        "jan.neu@velo.de",
        "+49301234567",
    )
    entry = AuditEntry.objects.filter(object_type="customers.ContactPerson", action="update").get()
    assert entry.changes["name"] == ["Jan Alt", "Jan Neu"]


def test_a_bad_phone_is_a_field_error_and_nothing_changes(
    client: Any, agent: Any, company: Customer
) -> None:
    person = company.contact_persons.get()
    client.force_login(agent)
    response = client.post(
        reverse("customers:contact_edit", args=[company.pk, person.pk]),
        {"name": "Jan Neu", "phone": "abc"},
    )
    assert response.status_code == 200
    assert "phone" in response.context["form"].errors
    person.refresh_from_db()
    assert person.name == "Jan Alt"


def test_addresses_and_contact_persons_can_be_added_and_removed(
    client: Any, agent: Any, company: Customer
) -> None:
    client.force_login(agent)
    client.post(
        reverse("customers:address_add", args=[company.pk]),
        {
            "kind": "shipping",
            "street": "Lager 3",
            "postal_code": "12345",
            "city": "Köln",
            "country": "DE",
        },
    )
    assert company.addresses.count() == 2
    client.post(reverse("customers:contact_add", args=[company.pk]), {"name": "Eva Zwei"})
    assert company.contact_persons.count() == 2
    person = ContactPerson.objects.get(name="Eva Zwei")
    client.post(reverse("customers:contact_delete", args=[company.pk, person.pk]))
    address = Address.objects.get(street="Lager 3")
    client.post(reverse("customers:address_delete", args=[company.pk, address.pk]))
    assert company.addresses.count() == 1 and company.contact_persons.count() == 1
    deleted = AuditEntry.objects.filter(action="delete", customer_id=company.pk)
    assert deleted.count() == 2


def test_a_user_without_change_permission_cannot_edit_an_address(
    client: Any, make_user: Any, company: Customer
) -> None:
    address = company.addresses.get()
    client.force_login(make_user("analyst"))
    url = reverse("customers:address_edit", args=[company.pk, address.pk])
    assert client.get(url).status_code == 403
    assert client.post(url, {"street": "x"}).status_code == 403


def test_a_partner_agent_gets_404_for_a_customer_it_does_not_see(
    client: Any, partner_agent: Any, company: Customer
) -> None:
    address = company.addresses.get()
    client.force_login(partner_agent)
    url = reverse("customers:address_edit", args=[company.pk, address.pk])
    assert client.get(url).status_code == 404


def test_the_customer_page_links_to_the_edit_forms(
    client: Any, agent: Any, company: Customer
) -> None:
    client.force_login(agent)
    page = client.get(reverse("customers:detail", args=[company.pk])).content.decode()
    assert reverse("customers:address_edit", args=[company.pk, company.addresses.get().pk]) in page
    assert reverse("customers:contact_add", args=[company.pk]) in page
