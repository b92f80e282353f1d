"""Reads of orders, returns and subscriptions."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db.models import Count, Max, Q, QuerySet, Sum

from stammkunde.core.access import User

from .models import Order, Product, Return, Subscription

if TYPE_CHECKING:
    from stammkunde.customers.models import Customer


def customer_commerce_context(customer: Customer, user: User) -> dict[str, Any]:
    """Return the last orders, returns and subscriptions for the customer page."""
    orders = list(
        Order.objects.visible_to(user)
        .filter(customer=customer)
        .prefetch_related("lines__product")
        .order_by("-ordered_at")[:10]
    )
    returns = list(
        Return.objects.visible_to(user)
        .filter(customer=customer)
        .select_related("order_line__order", "order_line__product")[:10]
    )
    subscriptions = list(Subscription.objects.visible_to(user).filter(customer=customer))
    stats = (
        Order.objects.visible_to(user)
        .filter(customer=customer)
        .aggregate(count=Count("id"), revenue=Sum("total"), last=Max("ordered_at"))
    )
    return {"orders": orders, "returns": returns, "subscriptions": subscriptions, "stats": stats}


def customer_data_export(customer: Customer) -> dict[str, Any]:
    """Orders with their lines, returns and subscriptions of ``customer`` (Art. 15)."""
    from stammkunde.core.personal import rows

    from .models import OrderLine

    orders = Order.objects.filter(customer=customer)
    return {
        "orders": rows(orders),
        "order_lines": rows(OrderLine.objects.filter(order__in=orders.values("id"))),
        "returns": rows(Return.objects.filter(customer=customer)),
        "subscriptions": rows(Subscription.objects.filter(customer=customer)),
    }


def customer_data_kept(customer: Customer) -> dict[str, int]:
    """What an erasure keeps under tax law (HGB § 257, AO § 147: 10 years), pseudonymised."""
    return {
        "orders": Order.objects.filter(customer=customer).count(),
        "returns (credit notes)": Return.objects.filter(customer=customer).count(),
        "subscriptions": Subscription.objects.filter(customer=customer).count(),
    }


# --- bulk reads for imports (dataio) and bulk hooks: one statement per batch -------------


def products_by_sku(*, skus: Sequence[str]) -> dict[str, tuple[int, Decimal]]:
    """Return ``{sku: (id, price)}`` of the stored products among ``skus``."""
    from stammkunde.core import db

    found: dict[str, tuple[int, Decimal]] = {}
    skus = list(skus)
    for start in range(0, len(skus), db.SQLITE_CHUNK):
        chunk = skus[start : start + db.SQLITE_CHUNK]
        for pid, sku, price in Product.objects.filter(sku__in=chunk).values_list(
            "id", "sku", "price"
        ):
            found[sku] = (pid, price)
    return found


def products_values_by_sku(
    *, skus: Sequence[str], fields: Sequence[str]
) -> dict[Any, dict[str, Any]]:
    """Return ``{sku: {"id": ..., field: value}}`` (fields may follow relations)."""
    from stammkunde.core import db

    return db.values_by_key(Product, key="sku", keys=skus, fields=fields)


def orders_values_by(
    *, key: str, keys: Sequence[Any], fields: Sequence[str]
) -> dict[Any, dict[str, Any]]:
    """Return ``{value: {"id": ..., field: value}}`` of orders by ``external_id`` or ``number``."""
    from stammkunde.core import db

    if key not in ("external_id", "number"):
        raise ValueError(key)
    return db.values_by_key(Order, key=key, keys=keys, fields=fields)


def orders_named(*, external_ids: set[str], numbers: set[str]) -> list[dict[str, Any]]:
    """Return id, external_id, number and customer_id of orders named by either key."""
    keys = Q(external_id__in=external_ids) | Q(number__in=numbers)
    return list(Order.objects.filter(keys).values("id", "external_id", "number", "customer_id"))  # type: ignore[arg-type]


def order_lines_returnable(*, order_ids: set[int]) -> list[dict[str, Any]]:
    """Return the lines of orders with what was returned of each (``returned``, may be None)."""
    from .models import OrderLine

    return [
        dict(row)
        for row in OrderLine.objects.filter(order_id__in=order_ids)
        .annotate(returned=Sum("returns__quantity"))
        .values("id", "order_id", "product__sku", "quantity", "unit_price", "returned")
        .order_by("id")
    ]


def returns_values_by_external_id(
    *, keys: Sequence[Any], fields: Sequence[str]
) -> dict[Any, dict[str, Any]]:
    """Return ``{external id: {"id": ..., field: value}}`` of stored returns."""
    from stammkunde.core import db

    return db.values_by_key(Return, key="external_id", keys=keys, fields=fields)


def subscriptions_values_by_external_id(
    *, keys: Sequence[Any], fields: Sequence[str]
) -> dict[Any, dict[str, Any]]:
    """Return ``{external id: {"id": ..., field: value}}`` of stored subscriptions."""
    from stammkunde.core import db

    return db.values_by_key(Subscription, key="external_id", keys=keys, fields=fields)


def orders_of_ids(*, ids: Sequence[int], customer_ids: Sequence[int]) -> list[Order]:
    """Orders among ``ids`` of the given customers, oldest first, with lines and products."""
    return list(
        Order.objects.filter(pk__in=list(ids), customer_id__in=list(customer_ids))
        .prefetch_related("lines__product")
        .order_by("ordered_at", "pk")
    )


def returns_of_ids(*, ids: Sequence[int], customer_ids: Sequence[int]) -> list[Return]:
    """Returns among ``ids`` of the given customers, oldest first, with line and order."""
    return list(
        Return.objects.filter(pk__in=list(ids), customer_id__in=list(customer_ids))
        .select_related("order_line__order")
        .order_by("returned_at", "pk")
    )


# Choices other apps pass to commerce.services (an order's channel and status, a return's
# reason) are part of the public face, so that no other app imports commerce.models for them.
OrderChannel = Order.Channel
OrderStatus = Order.Status
ReturnReason = Return.Reason


# --- reads for the feedback and channels apps -------------------------------------------


def orders_placed_between(*, after: datetime, until: datetime) -> QuerySet[Order]:
    """Orders placed in (``after``, ``until``], oldest first, with their customer."""
    return (
        Order.objects.filter(ordered_at__gt=after, ordered_at__lte=until)
        .select_related("customer")
        .order_by("ordered_at", "id")
    )


def order_of_customer(*, number: str, customer_id: int) -> Order | None:
    """The order ``number`` when it belongs to customer ``customer_id``, else None."""
    return Order.objects.filter(number=number, customer_id=customer_id).first()


# --- single lookups for the push API (dataio.services.ingest) ---------------------------


def order_by_external_id(*, external_id: str, for_update: bool = False) -> Order | None:
    """The order with this external id (with its customer), locked with ``for_update``."""
    qs = Order.objects.select_related("customer").filter(external_id=external_id)
    if for_update:
        qs = qs.select_for_update()
    return qs.first()


def order_line_fingerprint(*, order: Order) -> list[tuple[str, int, Decimal]]:
    """(sku, quantity, unit price) of each line of ``order``."""
    return list(order.lines.values_list("product__sku", "quantity", "unit_price"))


def product_prices(*, skus: Sequence[str]) -> dict[str, Decimal]:
    """``{sku: price}`` of the stored products among ``skus``."""
    return dict(Product.objects.filter(sku__in=list(skus)).values_list("sku", "price"))


def return_by_external_id(*, external_id: str) -> Return | None:
    """The return with this external id, with its line and product."""
    return (
        Return.objects.select_related("order_line__product").filter(external_id=external_id).first()
    )


def order_lines_with_left(*, order: Order, sku: str) -> list[tuple[Any, int]]:
    """The lines of ``order`` with product ``sku`` and how many of each can still be returned."""
    from .models import OrderLine

    lines = (
        OrderLine.objects.filter(order=order, product__sku=sku)
        .annotate(returned=Sum("returns__quantity"))
        .order_by("id")
    )
    return [(line, line.quantity - (line.returned or 0)) for line in lines]
