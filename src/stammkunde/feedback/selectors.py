"""Reads of surveys, invitations and answers, always starting from the access predicate."""

from __future__ import annotations

from typing import Any

from stammkunde.core.access import User
from stammkunde.customers.models import Customer

from .models import Response


def customer_feedback_context(customer: Customer, user: User) -> dict[str, Any]:
    """Context of the customer-page panel: the latest survey answers."""
    responses = list(
        Response.objects.visible_to(user)
        .filter(customer=customer)
        .select_related("version__survey")
        .order_by("-submitted_at")[:5]
    )
    return {"responses": responses}
