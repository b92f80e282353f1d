"""The analyst's tile of the start page: headline figures of the latest scoring."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.urls import reverse

from stammkunde.core.access import User
from stammkunde.customers import selectors as customer_selectors

from .orm import CustomerScore


def _customers(user: User, **params: str) -> tuple[int, str]:
    """Count of the customer list under these filters, and the link to that list."""
    extra = tuple((k, v) for k, v in params.items() if k != "value_class")
    filters = customer_selectors.CustomerFilter(
        value_class=params.get("value_class", ""), extra=extra
    )
    qs = customer_selectors.customer_list(user=user, filters=filters)
    return qs.order_by().count(), f"{reverse('customers:list')}?{urlencode(params)}"


def analytics_context(user: User) -> dict[str, Any]:
    """Customers at high churn risk and per value class, each linked to the customer list."""
    high, high_url = _customers(user, risk="high")
    classes = []
    for value_class in "ABC":
        n, url = _customers(user, value_class=value_class)
        classes.append({"value_class": value_class, "count": n, "url": url})
    return {
        "n_scored": CustomerScore.objects.visible_to(user).filter(is_latest=True).count(),
        "high_risk": high,
        "high_risk_url": high_url,
        "classes": classes,
        "url": reverse("analytics:dashboard"),
    }
