"""Customers built through the service, so tests see what production creates."""

from __future__ import annotations

from typing import Any

import factory

from stammkunde.customers.models import Customer
from stammkunde.customers.services import customer_create


class CustomerFactory(factory.Factory):
    class Meta:
        model = Customer

    first_name = factory.Sequence(lambda n: f"Erika{n}")
    last_name = "Mustermann"
    emails = factory.LazyAttribute(lambda o: [f"{o.first_name.lower()}@example.de"])
    phones: list[str] = []

    @classmethod
    def _create(cls, model_class: type[Customer], *args: Any, **kwargs: Any) -> Customer:
        return customer_create(actor=None, **kwargs)
