from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from stammkunde.commerce.models import Order, Product
from stammkunde.commerce.services import LineInput, order_create, product_create
from stammkunde.customers.models import Customer


def product(
    sku: str = "ZB-HELM-01", price: str = "59.90", category: str = "Zubehör", **kwargs: Any
) -> Product:
    found = Product.objects.filter(sku=sku).first()
    return found or product_create(
        sku=sku, name=f"Produkt {sku}", category_name=category, price=Decimal(price), **kwargs
    )


def order(
    customer: Customer,
    number: str = "B1",
    *,
    sku: str = "ZB-HELM-01",
    quantity: int = 1,
    at: datetime | None = None,
) -> Order:
    product(sku)
    created, _ = order_create(
        actor=None,
        customer=customer,
        number=number,
        ordered_at=at or datetime(2026, 3, 1, 10, tzinfo=UTC),
        lines=[LineInput(sku=sku, quantity=quantity)],
    )
    return created
