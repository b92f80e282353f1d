"""The API's error bodies: the stable code survives a field that is called ``code``."""

from __future__ import annotations

import pytest

from stammkunde.core.api import exception_handler
from stammkunde.core.errors import ApplicationError, ConflictError
from stammkunde.loyalty import services

pytestmark = pytest.mark.django_db


def test_a_used_up_voucher_answers_its_own_error_code(agent, api_as) -> None:
    # given: a voucher for one use, used once
    voucher = services.voucher_issue(actor=None, kind="amount", value="10")
    client = api_as(agent)
    body = {"code": voucher.code, "order_total": "40"}
    first = client.post(
        "/api/loyalty/vouchers/redeem/", body, format="json", HTTP_IDEMPOTENCY_KEY="till-1"
    )
    assert first.status_code == 201, first.content
    # when
    again = client.post(
        "/api/loyalty/vouchers/redeem/", body, format="json", HTTP_IDEMPOTENCY_KEY="till-2"
    )
    # then
    assert again.status_code == 400
    assert again.json()["code"] == "voucher_used"
    assert again.json()["field_errors"] == {"code": ["This voucher has been used up."]}


def test_an_unknown_voucher_answers_voucher_unknown(agent, api_as) -> None:
    response = api_as(agent).post(
        "/api/loyalty/vouchers/validate/", {"code": "NOPE", "order_total": "20"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "voucher_unknown"


def test_other_field_errors_stay_at_the_top_level_as_drf_puts_them() -> None:
    error = ApplicationError(
        "Too small.", code="voucher_min_order", field_errors={"order_total": ["Too small."]}
    )
    body = exception_handler(error, {}).data  # type: ignore[union-attr]
    assert body["order_total"] == ["Too small."]
    assert (body["code"], body["detail"]) == ("voucher_min_order", "Too small.")


def test_a_conflict_keeps_its_code_and_answers_409() -> None:
    error = ConflictError("Changed meanwhile.", code="stale", field_errors={"code": ["x"]})
    response = exception_handler(error, {})
    assert response is not None and response.status_code == 409
    assert response.data["code"] == "stale"
