from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from stammkunde.core.errors import ApplicationError, ConflictError
from stammkunde.core.models import AuditEntry
from stammkunde.customers import selectors, services
from stammkunde.customers.models import Customer, Interaction

from .factories import CustomerFactory

pytestmark = pytest.mark.django_db


def test_customer_create_normalises_email_and_phone_and_numbers_the_customer() -> None:
    # when
    customer = services.customer_create(
        actor=None,
        first_name="Erika",
        last_name="Mustermann",
        emails=[" Erika.M@Example.DE "],
        phones=["0151 2345 6789"],
    )
    # then
    assert customer.number == "K0000001"
    assert list(customer.emails.values_list("address", flat=True)) == ["erika.m@example.de"]
    assert list(customer.phones.values_list("number", flat=True)) == ["+4915123456789"]
    assert customer.is_prospect


def test_customer_create_with_invalid_phone_names_the_field_and_stores_nothing() -> None:
    with pytest.raises(ApplicationError, match="phones") as info:
        services.customer_create(actor=None, last_name="X", phones=["12"])
    assert "phones" in info.value.field_errors
    assert Customer.objects.count() == 0


def test_person_without_any_name_is_refused() -> None:
    with pytest.raises(ApplicationError, match="name"):
        services.customer_create(actor=None, emails=["a@example.de"])


def test_company_without_company_name_is_refused() -> None:
    with pytest.raises(ApplicationError):
        services.customer_create(actor=None, kind="company", last_name="Muster")


def test_customer_update_records_the_changed_fields_in_the_audit_trail(admin) -> None:
    # given
    customer = CustomerFactory(last_name="Alt")
    # when
    services.customer_update(
        actor=admin, customer=customer, data={"last_name": "Neu", "emails": ["neu@example.de"]}
    )
    # then
    entry = AuditEntry.objects.filter(customer_id=customer.pk, action="update").get()
    assert entry.actor == admin
    assert entry.changes["last_name"] == ["Alt", "Neu"]
    assert entry.changes["emails"][1] == ["neu@example.de"]


def test_stale_update_is_refused_and_overwrites_nothing(admin) -> None:
    # given two agents read version 1, the first saves
    customer = CustomerFactory(last_name="Alt")
    services.customer_update(
        actor=admin, customer=customer, data={"last_name": "Erster"}, expected_version=1
    )
    # when the second saves with the version it read
    with pytest.raises(ConflictError):
        services.customer_update(
            actor=admin, customer=customer, data={"last_name": "Zweiter"}, expected_version=1
        )
    # then
    customer.refresh_from_db()
    assert customer.last_name == "Erster"
    assert customer.version == 2


def test_update_with_unknown_field_is_refused() -> None:
    customer = CustomerFactory()
    with pytest.raises(ApplicationError, match="Unknown field"):
        services.customer_update(actor=None, customer=customer, data={"number": "K9"})


def test_latest_consent_per_purpose_and_channel_counts() -> None:
    # given
    customer = CustomerFactory()
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    services.consent_record(
        actor=None,
        customer=customer,
        purpose="marketing",
        channel="email",
        status="granted",
        source="web form",
        at=t0,
    )
    # when
    services.consent_record(
        actor=None,
        customer=customer,
        purpose="marketing",
        channel="email",
        status="withdrawn",
        source="phone",
        at=t0 + timedelta(days=3),
    )
    # then
    assert not selectors.consent_granted(
        customer_id=customer.pk, purpose="marketing", channel="email"
    )
    assert [c.status for c in selectors.consent_current(customer=customer)] == ["withdrawn"]
    assert customer.pk not in set(
        selectors.consented_customer_ids(purpose="marketing", channel="email").values_list(
            "id", flat=True
        )
    )
    assert Interaction.objects.filter(customer=customer, kind="consent").count() == 2


def test_invalid_consent_purpose_is_refused() -> None:
    customer = CustomerFactory()
    with pytest.raises(ApplicationError, match="purpose"):
        services.consent_record(
            actor=None,
            customer=customer,
            purpose="spam",
            channel="email",
            status="granted",
            source="x",
        )


def test_contact_person_only_for_companies() -> None:
    person = CustomerFactory()
    with pytest.raises(ApplicationError):
        services.contact_person_add(actor=None, customer=person, name="Chefin")
    company = services.customer_create(actor=None, kind="company", company_name="Bäckerei Huber")
    contact = services.contact_person_add(
        actor=None, customer=company, name="Frau Huber", phone="089 1234567"
    )
    assert contact.phone == "+49891234567"


def test_customer_search_finds_by_name_prefix_number_email_and_phone(admin) -> None:
    # given
    target = services.customer_create(
        actor=None,
        first_name="Jörg",
        last_name="Zünder",
        emails=["joerg@example.de"],
        phones=["+49 151 11112222"],
    )
    CustomerFactory(last_name="Anders")
    # then
    for q in ("zün", "Zünder", target.number, "joerg@", "0151 11112222"):
        found = selectors.customer_list(user=admin, filters=selectors.CustomerFilter(q=q))
        assert [c.pk for c in found] == [target.pk], q
