from __future__ import annotations

import pytest
from django.urls import reverse

from stammkunde.core.models import AuditEntry
from stammkunde.customers.models import Customer

from ..commerce.factories import order
from .factories import CustomerFactory

pytestmark = pytest.mark.django_db


def test_customer_page_shows_master_data_orders_and_timeline(agent, client) -> None:
    # given
    customer = CustomerFactory(last_name="Sommer")
    order(customer, "B777")
    client.force_login(agent)
    # when
    html = client.get(customer.get_absolute_url()).content.decode()
    # then
    assert "Sommer" in html
    assert "B777" in html
    assert 'id="timeline"' in html and "Bestellung B777" in html


def test_opening_a_customer_page_is_audited(agent, client) -> None:
    customer = CustomerFactory()
    client.force_login(agent)
    client.get(customer.get_absolute_url())
    assert AuditEntry.objects.filter(customer_id=customer.pk, action="view", actor=agent).exists()


def test_customer_list_query_count_does_not_grow_with_the_page(
    agent, client, django_assert_max_num_queries
):
    for _ in range(60):
        CustomerFactory()
    client.force_login(agent)
    # session, user, roles, customers, e-mails, two permission checks, and the read audit:
    # one batched insert for the whole page (in its own savepoint)
    with django_assert_max_num_queries(11):
        response = client.get(reverse("customers:list"))
    assert response.status_code == 200
    assert response.content.decode().count("/customers/") >= 50


def test_htmx_search_returns_only_the_result_table(agent, client) -> None:
    CustomerFactory(last_name="Zander")
    client.force_login(agent)
    html = client.get(
        reverse("customers:list"), {"q": "zan"}, HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "Zander" in html
    assert "<html" not in html


def test_edit_form_shows_field_errors_and_keeps_input(agent, client) -> None:
    customer = CustomerFactory(last_name="Alt")
    client.force_login(agent)
    response = client.post(
        reverse("customers:edit", args=[customer.pk]),
        {
            "kind": "person",
            "last_name": "Neu",
            "emails": "kaputt",
            "phones": "",
            "preferred_language": "de",
            "preferred_channel": "email",
            "version": 1,
        },
    )
    assert response.status_code == 200
    assert "kaputt" in response.content.decode()
    customer.refresh_from_db()
    assert customer.last_name == "Alt"


def test_create_form_creates_a_customer(agent, client) -> None:
    client.force_login(agent)
    response = client.post(
        reverse("customers:create"),
        {
            "kind": "person",
            "first_name": "Ida",
            "last_name": "Iske",
            "emails": "ida@example.de",
            "phones": "",
            "preferred_language": "de",
            "preferred_channel": "email",
        },
    )
    assert response.status_code == 302
    assert Customer.objects.get().last_name == "Iske"


def test_consent_form_records_consent(agent, client) -> None:
    customer = CustomerFactory()
    client.force_login(agent)
    client.post(
        reverse("customers:consent_add", args=[customer.pk]),
        {"purpose": "feedback", "channel": "email", "status": "granted", "source": "Telefon"},
    )
    assert customer.consents.get().status == "granted"


def test_unknown_customer_is_404(agent, client) -> None:
    client.force_login(agent)
    assert client.get(reverse("customers:detail", args=[999999])).status_code == 404
