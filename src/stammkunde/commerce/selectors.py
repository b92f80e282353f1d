"""Reads of orders, returns and subscriptions."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Max, Sum

from stammkunde.core.access import User
from stammkunde.customers.models import Customer

from .models import Order, Return, Subscription


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
