from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from stammkunde.commerce.models import Order
from stammkunde.commerce.services import LineInput, order_create, return_create
from stammkunde.core.errors import ApplicationError

from ..customers.factories import CustomerFactory
from .factories import order, product

pytestmark = pytest.mark.django_db


def test_order_total_is_the_sum_of_its_lines_and_the_prospect_becomes_a_customer() -> None:
    # given
    customer = CustomerFactory()
    product("A", "10.50")
    product("B", "3.25")
    at = datetime(2026, 2, 2, 12, tzinfo=UTC)
    # when
    created, was_new = order_create(
        actor=None,
        customer=customer,
        number="B1",
        ordered_at=at,
        lines=[LineInput("A", 2), LineInput("B", 1)],
    )
    # then
    assert was_new
    assert created.total == Decimal("24.25")
    customer.refresh_from_db()
    assert customer.first_purchase_at == at
    assert customer.interactions.filter(kind="purchase").count() == 1


def test_the_same_order_number_twice_books_once() -> None:
    customer = CustomerFactory()
    first = order(customer, "B9")
    again, created = order_create(
        actor=None,
        customer=customer,
        number="B9",
        ordered_at=first.ordered_at,
        lines=[LineInput("ZB-HELM-01", 1)],
    )
    assert not created and again.pk == first.pk
    assert Order.objects.count() == 1


def test_order_with_unknown_product_stores_nothing() -> None:
    customer = CustomerFactory()
    with pytest.raises(ApplicationError, match="Unknown product"):
        order_create(
            actor=None,
            customer=customer,
            number="B1",
            ordered_at=datetime(2026, 1, 1, tzinfo=UTC),
            lines=[LineInput("NOPE", 1)],
        )
    assert Order.objects.count() == 0


def test_order_in_other_currency_is_refused() -> None:
    customer = CustomerFactory()
    product("A")
    with pytest.raises(ApplicationError, match="EUR"):
        order_create(
            actor=None,
            customer=customer,
            number="B1",
            currency="USD",
            ordered_at=datetime(2026, 1, 1, tzinfo=UTC),
            lines=[LineInput("A", 1)],
        )


def test_return_of_more_than_was_bought_is_refused() -> None:
    customer = CustomerFactory()
    line = order(customer, quantity=2).lines.get()
    return_create(
        actor=None,
        order_line=line,
        quantity=1,
        reason="defective",
        returned_at=datetime(2026, 3, 5, tzinfo=UTC),
    )
    with pytest.raises(ApplicationError, match="Only 1"):
        return_create(
            actor=None,
            order_line=line,
            quantity=2,
            reason="defective",
            returned_at=datetime(2026, 3, 6, tzinfo=UTC),
        )
