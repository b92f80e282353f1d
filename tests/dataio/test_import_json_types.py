"""JSON Lines keep their types: numbers stay exact numbers, booleans stay booleans.

A JSON value of the wrong kind for its field (a list, an object or true/false
where text is expected) is a row error naming the line and the field, never
stored as text like "True" or "[1, 2]". A number where text is expected (a
postal code, a phone number) becomes its exact digits. Runs on PostgreSQL.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from stammkunde.commerce.models import Product
from stammkunde.customers.models import Address, Customer, PhoneNumber
from stammkunde.dataio.models import ImportJob
from stammkunde.dataio.services.imports import ImportResult, import_file

from .conftest import write

pytestmark = pytest.mark.django_db


def _jsonl(tmp_path, kind: str, lines: list[str]) -> ImportResult:
    path = write(tmp_path, f"{kind}.jsonl", "".join(line + "\n" for line in lines))
    return import_file(kind=kind, path=path, mode=ImportJob.Mode.GOOD_ROWS)


def _product(**extra: Any) -> str:
    return json.dumps({"sku": "A1", "name": "Rad", "category": "Räder", "price": 10, **extra})


def test_a_json_number_with_an_exponent_is_an_exact_amount(tmp_path) -> None:
    # given: what JSON encoders write for large or round numbers
    lines = ['{"sku": "A1", "name": "Rad", "category": "R", "price": 1.5e2, "margin_rate": 2.5E-1}']
    # when
    result = _jsonl(tmp_path, "products", lines)
    # then
    assert result.failed == 0, result.errors
    product = Product.objects.get()
    assert product.price == Decimal("150.00")
    assert product.margin_rate == Decimal("0.250")


def test_json_booleans_go_to_boolean_fields(tmp_path) -> None:
    # given / when
    result = _jsonl(tmp_path, "products", [_product(is_service=True, active=False)])
    # then
    assert result.failed == 0, result.errors
    assert Product.objects.values_list("is_service", "active").get() == (True, False)


@pytest.mark.parametrize(
    ("value", "kind"),
    [(True, "wahr/falsch"), ([1, 2], "eine Liste"), ({"de": "Rad"}, "ein Objekt")],
)
def test_a_json_value_of_the_wrong_kind_for_a_text_field_is_a_row_error(
    tmp_path, value, kind
) -> None:
    # given: line 2 has a structured name
    lines = [_product(sku="A0"), _product(name=value)]
    # when
    result = _jsonl(tmp_path, "products", lines)
    # then
    assert result.failed == 1
    error = result.errors[0]
    assert (error["line"], error["column"]) == (2, "name")
    assert error["message"] == f"{kind}, wo Text erwartet wird"
    assert list(Product.objects.values_list("name", flat=True)) == ["Rad"]


@pytest.mark.parametrize("value", [[10], {"amount": 10}, True, "zehn"])
def test_a_json_value_that_is_no_number_for_an_amount_is_a_row_error(tmp_path, value) -> None:
    # given / when
    result = _jsonl(tmp_path, "products", [_product(price=value)])
    # then
    assert result.failed == 1
    assert result.errors[0]["column"] == "price"
    assert not Product.objects.exists()


@pytest.mark.parametrize(
    "raw",
    [
        '{"sku": "A1", "name": "Rad", "category": "R", "price": NaN}',
        '{"sku": "A1", "name": "Rad", "category": "R", "price": Infinity}',
        '{"sku": "A1", "name": "Rad", "category": "R", "price": 1e999999}',
        '{"sku": "A1", "name": "Rad", "category": "R", "price": 1e20}',
        '{"sku": "A1", "name": "Rad", "category": "R", "price": ' + "9" * 29 + ".5}",
        '{"sku": "A1", "name": "Rad", "category": "R", "price": -1e29}',
        '{"sku": "A1", "name": "Rad", "category": "R", "price": ' + "9" * 5000 + "}",
    ],
)
def test_a_number_json_can_write_but_no_field_can_hold_is_a_row_error(tmp_path, raw) -> None:
    # given / when
    result = _jsonl(tmp_path, "products", [raw, _product(sku="A2")])
    # then: the row is refused, the next one stored, no database error
    assert result.failed == 1, result.errors
    assert result.errors[0]["line"] == 1
    assert list(Product.objects.values_list("sku", flat=True)) == ["A2"]


def test_json_numbers_for_text_fields_become_their_exact_digits(tmp_path) -> None:
    # given: a postal code written as a float and a phone number as an integer
    line = json.dumps(
        {
            "external_id": 1001,
            "last_name": "Krause",
            "street": "Domstr. 1",
            "postal_code": 50667.0,
            "phone": 4922112345678,
        }
    )
    line_exp = (
        '{"external_id": 1.002e3, "last_name": "Lang", "street": "Hof 2", "postal_code": 5.0667e4}'
    )
    # when
    result = _jsonl(tmp_path, "customers", [line, line_exp])
    # then
    assert result.failed == 0, result.errors
    assert sorted(Customer.objects.values_list("external_id", flat=True)) == ["1001", "1002"]
    assert set(Address.objects.values_list("postal_code", flat=True)) == {"50667"}
    assert PhoneNumber.objects.get().number == "+4922112345678"


def test_a_fraction_for_a_whole_number_field_is_a_row_error(tmp_path) -> None:
    # given
    _jsonl(tmp_path, "products", [_product(sku="A1")])
    _jsonl(tmp_path, "customers", ['{"external_id": "K1", "last_name": "A"}'])
    order = {
        "external_id": "B1",
        "customer_external_id": "K1",
        "ordered_at": "2026-03-01T10:00:00+01:00",
        "sku": "A1",
    }
    lines = [
        json.dumps({**order, "quantity": 2.5}),
        json.dumps({**order, "external_id": "B2", "quantity": 2.0, "total": 20.00}),
        json.dumps({**order, "external_id": "B3", "quantity": 10**12}),
    ]
    # when
    result = _jsonl(tmp_path, "orders", lines)
    # then
    assert result.failed == 2, result.errors
    assert [(e["line"], e["column"]) for e in result.errors] == [(1, "quantity"), (3, "quantity")]
    assert result.created == 1


def test_a_tiny_number_for_a_text_field_is_refused_not_written_out(tmp_path) -> None:
    # given: written out in full it would be a gigabyte of zeros
    line = '{"external_id": "K1", "last_name": "A", "street": "B 1", "postal_code": 1e-999999999}'
    # when
    result = _jsonl(tmp_path, "customers", [line])
    # then
    assert result.failed == 1
    assert result.errors[0]["column"] == "postal_code"
    assert "hat zu viele Stellen" in result.errors[0]["message"]
