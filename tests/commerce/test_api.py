from __future__ import annotations

import pytest

from stammkunde.commerce.models import Order

from ..customers.factories import CustomerFactory
from .factories import product

pytestmark = pytest.mark.django_db


def _payload(customer_id: int, **extra: object) -> dict[str, object]:
    return {
        "number": "W-1",
        "customer": customer_id,
        "ordered_at": "2026-05-01T10:00:00+02:00",
        "lines": [{"sku": "ZB-HELM-01", "quantity": 2}],
        **extra,
    }


def test_posting_the_same_order_twice_creates_it_once(agent, api_as) -> None:
    customer = CustomerFactory()
    product()
    client = api_as(agent)
    first = client.post("/api/orders/", _payload(customer.pk), format="json")
    second = client.post("/api/orders/", _payload(customer.pk), format="json")
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["total"] == "119.80"
    assert Order.objects.count() == 1


@pytest.mark.parametrize(
    "change, field",
    [
        ({"lines": []}, "lines"),
        ({"lines": [{"sku": "ZB-HELM-01", "quantity": 0}]}, "lines"),
        ({"lines": [{"sku": "UNKNOWN", "quantity": 1}]}, "lines"),
        ({"ordered_at": "gestern"}, "ordered_at"),
        ({"currency": "USD"}, "currency"),
        ({"customer": 987654}, "customer"),
    ],
)
def test_bad_order_answers_400_with_the_field(agent, api_as, change, field) -> None:
    customer = CustomerFactory()
    product()
    response = api_as(agent).post("/api/orders/", _payload(customer.pk, **change), format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert Order.objects.count() == 0


def test_partner_agent_cannot_read_orders(partner_agent, agent, api_as) -> None:
    customer = CustomerFactory()
    product()
    created = api_as(agent).post("/api/orders/", _payload(customer.pk), format="json").json()
    response = api_as(partner_agent).get(f"/api/orders/{created['id']}/")
    assert response.status_code in (403, 404)


def test_products_are_listed_and_created(admin, api_as) -> None:
    client = api_as(admin)
    response = client.post(
        "/api/products/",
        {"sku": "X1", "name": "Klingel", "category": "Zubehör", "price": "4.90"},
        format="json",
    )
    assert response.status_code == 201
    assert (
        client.post(
            "/api/products/",
            {"sku": "X2", "name": "n", "category": "c", "price": "-1"},
            format="json",
        ).status_code
        == 400
    )
    assert [p["sku"] for p in client.get("/api/products/").json()["results"]] == ["X1"]
