"""Audit of reads: every path that shows personal data records who saw whom, batched."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from stammkunde.core.models import AuditEntry
from tests.customers.factories import CustomerFactory
from tests.service.factories import ticket

pytestmark = pytest.mark.django_db


def _views(user: Any) -> list[int]:
    return sorted(
        AuditEntry.objects.filter(action="view", actor=user).values_list("customer_id", flat=True)
    )


def test_the_customer_page_records_one_view(client: Any, agent: Any) -> None:
    customer = CustomerFactory()
    client.force_login(agent)
    client.get(reverse("customers:detail", args=[customer.pk]))
    assert _views(agent) == [customer.pk]


def test_the_ticket_page_records_who_saw_the_customer(client: Any, agent: Any) -> None:
    t = ticket()
    client.force_login(agent)
    assert client.get(reverse("service:ticket", args=[t.pk])).status_code == 200
    assert _views(agent) == [t.customer_id]


def test_a_search_result_page_records_every_customer_shown_in_one_insert(
    client: Any, agent: Any
) -> None:
    customers = [CustomerFactory(last_name="Suchmann") for _ in range(5)]
    client.force_login(agent)
    with CaptureQueriesContext(connection) as queries:
        client.get(reverse("customers:list"), {"q": "suchmann"})
    assert _views(agent) == sorted(c.pk for c in customers)
    inserts = [q for q in queries if q["sql"].startswith('INSERT INTO "core_auditentry"')]
    assert len(inserts) == 1


def test_api_list_and_detail_record_the_customers_returned(api_as: Any, agent: Any) -> None:
    a, b = CustomerFactory(), CustomerFactory()
    client = api_as(agent)
    assert client.get("/api/customers/").status_code == 200
    assert _views(agent) == sorted([a.pk, b.pk])
    client.get(f"/api/customers/{a.pk}/")
    assert _views(agent).count(a.pk) == 2


def test_api_ticket_list_records_the_tickets_customers(api_as: Any, agent: Any) -> None:
    t = ticket()
    api_as(agent).get("/api/tickets/")
    assert _views(agent) == [t.customer_id]


def test_a_refused_read_records_nothing(client: Any, partner_agent: Any) -> None:
    customer = CustomerFactory()
    client.force_login(partner_agent)
    assert client.get(reverse("customers:detail", args=[customer.pk])).status_code == 404
    assert _views(partner_agent) == []


def test_a_customer_list_export_records_who_exported_whom(make_user: Any, settings: Any) -> None:
    from stammkunde.dataio.services.exports import export_create

    settings.MEDIA_ROOT = str(settings.PRIVACY_EXPORT_DIR)
    admin = make_user("admin")
    customers = [CustomerFactory(), CustomerFactory()]
    export_create(actor=admin, kind="customers", file_format="csv", filters={})
    exported = AuditEntry.objects.filter(
        action="export", actor=admin, object_type="customers.Customer"
    )
    assert sorted(exported.values_list("customer_id", flat=True)) == sorted(c.pk for c in customers)
