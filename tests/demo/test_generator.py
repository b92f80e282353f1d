from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.db.models import Max, Sum

from stammkunde.commerce.models import Order, Return, Subscription
from stammkunde.customers.models import Customer
from stammkunde.demo.generator import demo_generate
from stammkunde.demo.models import CustomerTruth

pytestmark = pytest.mark.django_db(transaction=True)
END = datetime(2026, 10, 31, 23, 59, 59, tzinfo=UTC)


def _fingerprint() -> tuple[int, int, object, int]:
    return (
        Customer.objects.count(),
        Order.objects.count(),
        Order.objects.aggregate(s=Sum("total"))["s"],
        Return.objects.count(),
    )


def test_demo_shop_is_deterministic_for_a_seed() -> None:
    # given
    demo_generate(customers=300, seed=7, end=END, chunk_size=100)
    first = _fingerprint()
    Return.objects.all().delete()
    Subscription.objects.all().delete()
    Order.objects.all().delete()
    Customer.objects.all().delete()
    # when
    demo_generate(customers=300, seed=7, end=END, chunk_size=100)
    # then
    assert _fingerprint() == first
    assert first[1] > 300


def test_nobody_buys_after_the_true_dropout_date() -> None:
    demo_generate(customers=500, seed=3, end=END)
    last = dict(
        Order.objects.values("customer").annotate(m=Max("ordered_at")).values_list("customer", "m")
    )
    dropped = CustomerTruth.objects.filter(dropped_out_at__isnull=False)
    assert dropped.exists()
    for truth in dropped:
        assert last[truth.customer_id] == truth.dropped_out_at


def test_prospects_have_no_orders_and_buyers_have_a_first_purchase() -> None:
    demo_generate(customers=400, seed=5, end=END)
    prospects = Customer.objects.filter(first_purchase_at__isnull=True)
    assert prospects.exists()
    assert not Order.objects.filter(customer__in=prospects).exists()
    assert not Customer.objects.filter(
        first_purchase_at__isnull=False, orders__isnull=True
    ).exists()


def test_new_customers_after_the_demo_get_fresh_numbers(agent) -> None:
    from stammkunde.customers.services import customer_create

    demo_generate(customers=50, seed=1, end=END)
    customer = customer_create(actor=None, last_name="Neu")
    assert customer.number == "K0000051"
