"""Loyalty test data built through the services, as production builds it."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from stammkunde.customers.models import Customer
from stammkunde.loyalty.models import LoyaltyAccount, LoyaltyProgram, Tier
from stammkunde.loyalty.services import account_enroll
from tests.customers.factories import CustomerFactory


def program(**overrides: Any) -> LoyaltyProgram:
    """A program with three tiers on spend: Basis 0, Silber 500 EUR, Gold 1500 EUR."""
    values: dict[str, Any] = {
        "name": "Radclub",
        "points_per_euro": Decimal("1"),
        "point_value": Decimal("0.01"),
        "expiry_years": 3,
    }
    values.update(overrides)
    found = LoyaltyProgram.objects.filter(name=values["name"]).first()
    if found is not None:
        return found
    created = LoyaltyProgram.objects.create(**values)
    for rank, (name, threshold, factor, discount) in enumerate(
        [("Basis", 0, "1.0", 0), ("Silber", 500, "1.25", 3), ("Gold", 1500, "1.5", 5)]
    ):
        Tier.objects.create(
            program=created,
            name=name,
            rank=rank,
            threshold=Decimal(threshold),
            points_multiplier=Decimal(factor),
            discount_percent=Decimal(discount),
        )
    return created


def account(customer: Customer | None = None, **program_overrides: Any) -> LoyaltyAccount:
    return account_enroll(
        customer=customer or CustomerFactory(), program=program(**program_overrides)
    )
