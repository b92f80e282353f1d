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


def _inserts(queries: CaptureQueriesContext) -> int:
    return sum(q["sql"].startswith('INSERT INTO "core_auditentry"') for q in queries)


def test_the_inbox_records_the_customers_of_its_rows_in_one_insert(client: Any, agent: Any) -> None:
    tickets = [ticket() for _ in range(3)]
    ticket(customer=None, sender_email="fremd@example.de")  # no customer: nothing to note
    client.force_login(agent)
    with CaptureQueriesContext(connection) as queries:
        page = client.get(reverse("service:inbox"), {"view": "open"})
    assert page.status_code == 200
    assert _views(agent) == sorted(t.customer_id for t in tickets)
    assert _inserts(queries) == 1


def test_the_inbox_rows_fetched_by_htmx_are_recorded_too(client: Any, agent: Any) -> None:
    t = ticket()
    client.force_login(agent)
    client.get(reverse("service:inbox"), {"view": "open"}, headers={"HX-Request": "true"})
    assert _views(agent) == [t.customer_id]


def test_the_loyalty_api_records_the_customer_it_names(api_as: Any, agent: Any) -> None:
    from tests.loyalty.factories import account

    acc = account()
    client = api_as(agent)
    assert client.get(f"/api/loyalty/accounts/card/{acc.card_number}/").status_code == 200
    assert _views(agent) == [acc.customer_id]
    assert client.get(f"/api/loyalty/accounts/{acc.pk}/").json()["customer_name"]
    assert _views(agent) == [acc.customer_id] * 2


def test_the_merge_preview_records_both_customers(client: Any, make_user: Any) -> None:
    from stammkunde.customers.services import customer_create
    from stammkunde.dataio.models import DuplicatePair
    from stammkunde.dataio.services.dedup import duplicates_scan

    a, b = (
        customer_create(
            actor=None, first_name="Erika", last_name="Mustermann", emails=["erika@example.de"]
        )
        for _ in range(2)
    )
    duplicates_scan()
    lead = make_user("team_lead")
    client.force_login(lead)
    with CaptureQueriesContext(connection) as queries:
        page = client.get(reverse("dataio:merge", args=[DuplicatePair.objects.get().pk]))
    assert page.status_code == 200
    assert _views(lead) == sorted([a.pk, b.pk])
    assert _inserts(queries) == 1


def test_the_printable_loyalty_card_records_the_staff_member_who_opens_it(
    client: Any, agent: Any
) -> None:
    from stammkunde.loyalty.services import self_service_token
    from tests.loyalty.factories import account

    acc = account()
    url = reverse("loyalty:card_print", args=[self_service_token(acc)])
    assert client.get(url).status_code == 200  # the customer's own look: no staff read
    assert not AuditEntry.objects.filter(action="view").exists()
    client.force_login(agent)
    assert client.get(url).status_code == 200
    assert _views(agent) == [acc.customer_id]


def _letter_campaign() -> Any:
    """A letter campaign sent to everyone (no segment, no control group)."""
    from decimal import Decimal

    from stammkunde.campaigns import services
    from tests.campaigns.factories import NOW

    campaign = services.campaign_create(
        actor=None,
        data={
            "name": "Brief",
            "offer_kind": "information",
            "channel": "letter",
            "subject": "Post für Sie",
            "body": "Hallo {first_name}",
            "control_share": Decimal("0"),
        },
    )
    campaign = services.campaign_status_set(actor=None, campaign=campaign, status="active")
    services.campaign_run(actor=None, campaign=campaign, now=NOW)
    return campaign


def test_the_campaign_letters_record_every_addressee_in_one_insert(
    client: Any, make_user: Any
) -> None:
    customers = [
        CustomerFactory(
            addresses=[{"street": "Hauptstr. 1", "postal_code": "50667", "city": "Köln"}]
        )
        for _ in range(3)
    ]
    campaign = _letter_campaign()
    marketing = make_user("marketing")
    client.force_login(marketing)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("campaigns:letters", args=[campaign.pk])).status_code == 200
    assert _views(marketing) == sorted(c.pk for c in customers)
    assert _inserts(queries) == 1
    client.get(reverse("campaigns:letters_csv", args=[campaign.pk]))
    assert _views(marketing) == sorted(c.pk for c in customers * 2)


def test_the_campaign_preview_records_the_sample_it_names(client: Any, make_user: Any) -> None:
    from tests.campaigns.factories import consenting_customer, email_campaign

    customers = [consenting_customer(first_name=f"Probe{i}") for i in range(3)]
    campaign = email_campaign()
    marketing = make_user("marketing")
    client.force_login(marketing)
    with CaptureQueriesContext(connection) as queries:
        page = client.get(reverse("campaigns:preview", args=[campaign.pk]), {"action": "run"})
    shown = sorted(row["customer"].pk for row in page.context["preview"].sample)
    assert shown and set(shown) <= {c.pk for c in customers}
    assert _views(marketing) == shown
    assert _inserts(queries) == 1


def test_the_contact_log_page_records_the_customer(client: Any, agent: Any) -> None:
    customer = CustomerFactory()
    client.force_login(agent)
    assert client.get(reverse("channels:contact_log", args=[customer.pk])).status_code == 200
    assert _views(agent) == [customer.pk]
