"""Segment rules: every field translates into one customer query; bad rules are refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from stammkunde.campaigns import services
from stammkunde.campaigns.segments import segment_queryset
from stammkunde.campaigns.selectors import segment_customers
from stammkunde.commerce.services import return_create
from stammkunde.core.errors import ApplicationError
from stammkunde.service.models import Ticket

from ..commerce.factories import order, product
from ..customers.factories import CustomerFactory
from ..service.factories import ticket
from .factories import consenting_customer, score

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 3, 10, 9, tzinfo=UTC)


def _names(rules: dict) -> set[str]:
    return set(segment_queryset(rules, now=NOW).values_list("first_name", flat=True))


@pytest.fixture
def shop():
    anna = consenting_customer(first_name="Anna")  # churning, bought a helmet, returned it
    score(anna, phase="churning", risk=0.9)
    o = order(anna, "A1", at=NOW - timedelta(days=30))
    return_create(
        actor=None,
        order_line=o.lines.get(),
        quantity=1,
        reason="defective",
        returned_at=NOW - timedelta(days=20),
    )
    bert = CustomerFactory(first_name="Bert")  # established, two bike orders long ago
    score(bert, phase="established", risk=0.1)
    product("RAD-1", price="999.00", category="Fahrräder")
    order(bert, "B1", sku="RAD-1", at=NOW - timedelta(days=400))
    order(bert, "B2", sku="RAD-1", at=NOW - timedelta(days=390))
    cleo = CustomerFactory(first_name="Cleo")  # prospect with an open complaint
    ticket(customer=cleo, type=Ticket.Type.COMPLAINT)
    return anna, bert, cleo


def test_score_fields_filter_on_the_latest_score(shop) -> None:
    assert _names({"field": "phase", "op": "eq", "value": "churning"}) == {"Anna"}
    assert _names({"field": "churn_risk", "op": "gte", "value": 0.5}) == {"Anna"}
    assert _names({"field": "phase", "op": "in", "value": ["churning", "established"]}) == {
        "Anna",
        "Bert",
    }


def test_purchase_fields_respect_the_time_window(shop) -> None:
    helmet = {"field": "purchased_product", "op": "eq", "value": "ZB-HELM-01"}
    assert _names(helmet) == {"Anna"}
    assert _names({**helmet, "within_days": 10}) == set()
    assert _names({"field": "orders_count", "op": "gte", "value": 2}) == {"Bert"}
    assert _names({"field": "orders_count", "op": "gte", "value": 2, "within_days": 100}) == set()
    assert _names({"field": "revenue", "op": "eq", "value": 0}) == {"Cleo"}
    assert _names({"field": "days_since_last_purchase", "op": "gt", "value": 180}) == {"Bert"}
    assert _names({"field": "purchased_category", "op": "eq", "value": "Zubehör"}) == {"Anna"}


def test_returns_tickets_consent_and_nesting(shop) -> None:
    assert _names({"field": "has_returns", "op": "is", "value": True}) == {"Anna"}
    assert _names({"field": "open_complaint", "op": "is", "value": True}) == {"Cleo"}
    assert _names({"field": "email_marketing_consent", "op": "is", "value": True}) == {"Anna"}
    assert _names({"field": "prospect", "op": "is", "value": True}) == {"Cleo"}
    rules = {
        "any": [
            {"field": "has_returns", "op": "is", "value": True},
            {"not": {"field": "prospect", "op": "is", "value": False}},
        ]
    }
    assert _names(rules) == {"Anna", "Cleo"}
    assert _names({"all": []}) == {"Anna", "Bert", "Cleo"}


def test_a_segment_is_one_query(shop, django_assert_num_queries) -> None:
    rules = {
        "all": [
            {"field": "phase", "op": "eq", "value": "churning"},
            {"field": "has_returns", "op": "is", "value": True, "within_days": 90},
            {"field": "orders_count", "op": "gte", "value": 1},
            {"field": "nps", "op": "lte", "value": 6, "within_days": 365},
        ]
    }
    with django_assert_num_queries(1):
        list(segment_queryset(rules, now=NOW))


@pytest.mark.parametrize(
    ("rules", "message"),
    [
        ({"field": "shoe_size", "op": "eq", "value": 42}, "Unbekanntes Feld"),
        ({"field": "churn_risk", "op": "eq", "value": "high"}, "muss eine Zahl sein"),
        ({"field": "phase", "op": "gte", "value": "new"}, "der Operator muss"),
        ({"field": "phase", "op": "eq", "value": "new", "within_days": 3}, "nicht möglich"),
        ({"all": {"field": "phase"}}, "Liste enthalten"),
        ({"field": "has_returns", "op": "is", "value": "yes"}, "mit ja"),
        ([], "muss ein Objekt sein"),
    ],
)
def test_malformed_rules_are_refused_with_a_field_error(rules, message) -> None:
    with pytest.raises(ApplicationError, match=message) as exc:
        segment_queryset(rules)
    assert "rules" in exc.value.field_errors


def test_frozen_segment_keeps_its_members(shop) -> None:
    # given
    rules = {"field": "prospect", "op": "is", "value": True}
    frozen = services.segment_save(actor=None, name="Interessenten", rules=rules, mode="frozen")
    live = services.segment_save(actor=None, name="Interessenten live", rules=rules)
    # when a new prospect arrives
    CustomerFactory(first_name="Dora")
    # then only the dynamic segment sees her
    assert set(segment_customers(frozen).values_list("first_name", flat=True)) == {"Cleo"}
    assert set(segment_customers(live).values_list("first_name", flat=True)) == {"Cleo", "Dora"}


def test_the_segment_form_answers_bad_rules_with_a_german_field_error(client, make_user) -> None:
    client.force_login(make_user("marketing"))
    response = client.post(
        "/campaigns/segments/new/",
        {
            "name": "X",
            "mode": "dynamic",
            "rules": '{"field": "churn_risk", "op": "gte", "value": "hoch"}',
        },
    )
    assert response.status_code == 200
    assert "churn_risk: der Wert muss eine Zahl sein." in response.context["form"].errors["rules"]
