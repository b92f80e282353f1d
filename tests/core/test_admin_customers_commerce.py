"""Customers and commerce admin: every list answers, search finds, service rows are read-only."""

from __future__ import annotations

from typing import Any

import pytest
from django.apps import apps
from django.contrib import admin
from django.test import Client
from django.urls import reverse

from stammkunde.commerce.models import Order
from stammkunde.customers.models import Customer
from tests.commerce import factories as commerce_factories
from tests.customers.factories import CustomerFactory

pytestmark = pytest.mark.django_db

MODELS = [
    model
    for label in ("customers", "commerce")
    for model in apps.get_app_config(label).get_models()
    if model in admin.site._registry
]
# Written through customers.services and commerce.services: shown, never changed here.
SERVICE_WRITTEN = {
    "customer",
    "emailaddress",
    "interaction",
    "order",
    "orderline",
    "return",
    "subscription",
    "product",
    "suppressedcontact",  # written by the erasure; an admin may only delete one
}


@pytest.fixture
def superuser_client(admin_user: Any) -> Client:
    client = Client()
    client.force_login(admin_user)
    return client


@pytest.fixture
def shop() -> tuple[Customer, Customer, Order]:
    """Two customers (one a company), one order of the first, written through the services."""
    erika = CustomerFactory(first_name="Erika", last_name="Mustermann", emails=["erika@example.de"])
    firm = CustomerFactory(
        kind="company", first_name="", last_name="", company_name="Radhaus Nord GmbH", emails=[]
    )
    order = commerce_factories.order(erika, number="B-4711")
    return erika, firm, order


def _changelist(model: type, client: Client, **query: str) -> Any:
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    return client.get(url, query)


def test_customers_and_commerce_models_are_registered() -> None:
    registered = {m._meta.model_name for m in MODELS}
    assert {"customer", "interaction", "order", "product", "return", "subscription"} <= registered


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m._meta.label)
def test_every_changelist_answers(superuser_client: Client, shop: Any, model: type) -> None:
    assert _changelist(model, superuser_client).status_code == 200


@pytest.mark.parametrize(
    ("query", "found"),
    [("K", None), ("Mustermann", "erika"), ("erika@example.de", "erika"), ("Radhaus", "firm")],
)
def test_customer_search_by_number_name_and_email(
    superuser_client: Client, shop: Any, query: str, found: str | None
) -> None:
    erika, firm, _ = shop
    if found is None:  # the exact customer number
        query = erika.number
    # when
    answer = _changelist(Customer, superuser_client, q=query)
    # then
    listed = {c.pk for c in answer.context["cl"].result_list}
    assert listed == {(firm if found == "firm" else erika).pk}


@pytest.mark.parametrize("query", ["B-4711", "erika@example.de", "Mustermann"])
def test_order_search_by_number_and_by_the_customers_name_or_email(
    superuser_client: Client, shop: Any, query: str
) -> None:
    # given
    _, firm, order = shop
    commerce_factories.order(firm, number="B-9999")
    # when
    answer = _changelist(Order, superuser_client, q=query)
    # then
    assert [o.pk for o in answer.context["cl"].result_list] == [order.pk]


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m._meta.label)
def test_service_written_rows_are_read_only(admin_user: Any, rf: Any, model: type) -> None:
    request = rf.get("/")
    request.user = admin_user
    model_admin = admin.site._registry[model]
    read_only = model._meta.model_name in SERVICE_WRITTEN
    assert model_admin.has_add_permission(request) is not read_only
    assert model_admin.has_change_permission(request) is not read_only


def test_an_order_opens_read_only_with_its_lines(superuser_client: Client, shop: Any) -> None:
    # given
    _, _, order = shop
    # when
    answer = superuser_client.get(reverse("admin:commerce_order_change", args=[order.pk]))
    # then
    assert answer.status_code == 200
    assert b"B-4711" in answer.content
    assert b'name="_save"' not in answer.content
