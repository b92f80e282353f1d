"""POST /api/ingest/orders/ and /api/ingest/returns/: idempotent by external id."""

from __future__ import annotations

from decimal import Decimal

import pytest

from stammkunde.commerce.models import Order, Return
from stammkunde.customers.models import Customer, Interaction

pytestmark = pytest.mark.django_db

ORDER = {
    "external_id": "SHOP-1",
    "customer_external_id": "POS-1001",
    "ordered_at": "2024-10-01T10:00:00+02:00",
    "channel": "shop",
    "lines": [
        {"sku": "ZB-HELM-01", "quantity": 2},
        {"sku": "WS-SCHLAUCH", "quantity": 1, "unit_price": "12.00"},
    ],
}


def test_an_order_is_stored_once_and_a_replay_changes_nothing(shop, api_as, agent) -> None:
    client = api_as(agent)
    # when
    first = client.post("/api/ingest/orders/", ORDER, format="json")
    second = client.post("/api/ingest/orders/", ORDER, format="json")
    # then
    assert first.status_code == 201, first.json()
    assert first.json()["total"] == "131.80"
    assert second.status_code == 200 and second.json()["outcome"] == "unchanged"
    assert Order.objects.count() == 1
    assert Interaction.objects.filter(kind="purchase").count() == 1
    assert Customer.objects.get(external_id="POS-1001").first_purchase_at is not None


def test_a_changed_order_with_a_known_id_is_a_conflict(shop, api_as, agent) -> None:
    client = api_as(agent)
    client.post("/api/ingest/orders/", ORDER, format="json")
    changed = {**ORDER, "lines": [{"sku": "ZB-HELM-01", "quantity": 3}]}
    response = client.post("/api/ingest/orders/", changed, format="json")
    assert response.status_code == 409
    assert Order.objects.get().lines.count() == 2


def test_only_the_status_of_a_known_order_may_change(shop, api_as, agent) -> None:
    client = api_as(agent)
    client.post("/api/ingest/orders/", ORDER, format="json")
    response = client.post("/api/ingest/orders/", {**ORDER, "status": "cancelled"}, format="json")
    assert response.status_code == 200 and response.json()["outcome"] == "updated"
    assert Order.objects.get().status == "cancelled"


def test_invalid_orders_get_400_with_field_errors(shop, api_as, agent) -> None:
    client = api_as(agent)
    bad = {**ORDER, "currency": "USD", "lines": [{"sku": "ZB-HELM-01", "quantity": 0}]}
    response = client.post("/api/ingest/orders/", bad, format="json")
    assert response.status_code == 400
    assert set(response.json()) >= {"currency", "lines"}
    unknown = client.post(
        "/api/ingest/orders/", {**ORDER, "lines": [{"sku": "NOPE", "quantity": 1}]}, format="json"
    )
    assert unknown.status_code == 400 and "lines" in unknown.json()
    nobody = client.post(
        "/api/ingest/orders/", {**ORDER, "customer_external_id": "X"}, format="json"
    )
    assert nobody.status_code == 400 and "customer_external_id" in nobody.json()


def test_an_unknown_customer_is_created_from_the_sent_details(shop, api_as, agent) -> None:
    data = {
        **ORDER,
        "external_id": "SHOP-2",
        "customer_external_id": "WEB-9",
        "customer": {"first_name": "Nina", "last_name": "Neu", "email": "nina@example.de"},
    }
    response = api_as(agent).post("/api/ingest/orders/", data, format="json")
    assert response.status_code == 201
    assert Customer.objects.get(external_id="WEB-9").emails.get().address == "nina@example.de"


@pytest.mark.parametrize("who", ["no_role_user", "partner_agent"])
def test_users_without_rights_cannot_push_orders(shop, api_as, who, request) -> None:
    response = api_as(request.getfixturevalue(who)).post(
        "/api/ingest/orders/", ORDER, format="json"
    )
    assert response.status_code == 403
    assert not Order.objects.exists()


def test_a_return_is_stored_once(shop, api_as, agent) -> None:
    client = api_as(agent)
    client.post("/api/ingest/orders/", ORDER, format="json")
    data = {
        "external_id": "R-1",
        "order_external_id": "SHOP-1",
        "sku": "ZB-HELM-01",
        "quantity": 1,
        "reason": "size",
        "returned_at": "2024-10-05T09:00:00+02:00",
    }
    first = client.post("/api/ingest/returns/", data, format="json")
    second = client.post("/api/ingest/returns/", data, format="json")
    changed = client.post("/api/ingest/returns/", {**data, "quantity": 2}, format="json")
    too_many = client.post(
        "/api/ingest/returns/", {**data, "external_id": "R-2", "quantity": 5}, format="json"
    )
    assert first.status_code == 201, first.json()
    assert Decimal(first.json()["refund"]) == Decimal("59.90")
    assert second.status_code == 200
    assert changed.status_code == 409
    assert too_many.status_code == 400 and "quantity" in too_many.json()
    assert Return.objects.count() == 1
