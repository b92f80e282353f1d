"""The POS/shop API: lookup, earn, redeem, checkout, vouchers, and who may not use it."""

from __future__ import annotations

from typing import Any

import pytest

from stammkunde.loyalty import services
from stammkunde.loyalty.models import PointsEntry, Voucher

from .factories import account

pytestmark = pytest.mark.django_db


def _url(acc: Any, action: str) -> str:
    return f"/api/loyalty/accounts/{acc.pk}/{action}/"


def test_cashier_finds_the_account_by_card_number(agent, api_as) -> None:
    acc = account()
    response = api_as(agent).get(f"/api/loyalty/accounts/card/{acc.card_number}/")
    assert response.status_code == 200
    assert response.json()["id"] == acc.pk and response.json()["tier"]["name"] == "Basis"


def test_card_number_with_a_wrong_check_digit_is_400(agent, api_as) -> None:
    acc = account()
    wrong = acc.card_number[:-1] + str((int(acc.card_number[-1]) + 1) % 10)
    response = api_as(agent).get(f"/api/loyalty/accounts/card/{wrong}/")
    assert response.status_code == 400 and "card_number" in response.json()


def test_earn_with_idempotency_header_books_once_and_replays_the_first_answer(
    agent, api_as
) -> None:
    # given
    acc = account()
    client = api_as(agent)
    # when
    first = client.post(
        _url(acc, "earn"), {"points": 120}, format="json", HTTP_IDEMPOTENCY_KEY="pos-1"
    )
    client.post(_url(acc, "earn"), {"points": 5}, format="json", HTTP_IDEMPOTENCY_KEY="pos-2")
    again = client.post(
        _url(acc, "earn"), {"points": 120}, format="json", HTTP_IDEMPOTENCY_KEY="pos-1"
    )
    # then
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["entry"]["id"] == first.json()["entry"]["id"]
    assert again.json()["balance"] == first.json()["balance"] == 120
    assert PointsEntry.objects.filter(account=acc).count() == 2


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"points": -5, "idempotency_key": "k"}, "points"),
        ({"points": 1.5, "idempotency_key": "k"}, "points"),
        ({"points": "12.5", "idempotency_key": "k"}, "points"),
        ({"points": 10, "idempotency_key": "k", "currency": "USD"}, "currency"),
        ({"points": 10}, "idempotency_key"),
    ],
)
def test_bad_earn_is_400_with_the_field_and_books_nothing(agent, api_as, body, field) -> None:
    acc = account()
    response = api_as(agent).post(_url(acc, "earn"), body, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert not PointsEntry.objects.filter(account=acc).exists()


def test_redeem_above_balance_is_400(agent, api_as) -> None:
    acc = account()
    services.points_earn(account=acc, points=10, idempotency_key="e")
    response = api_as(agent).post(
        _url(acc, "redeem"), {"points": 11, "idempotency_key": "r"}, format="json"
    )
    assert response.status_code == 400 and "points" in response.json()


def test_checkout_quote_and_commit_through_the_api(agent, api_as) -> None:
    # given
    acc = account()
    services.points_earn(account=acc, points=1500, idempotency_key="e")
    voucher = services.voucher_issue(actor=None, kind="percent", value="10")
    client = api_as(agent)
    # when
    quote = client.post(
        _url(acc, "quote"), {"order_total": "50.00", "voucher_code": voucher.code}, format="json"
    ).json()
    commit = client.post(
        _url(acc, "commit"), {"quote": quote["quote"], "idempotency_key": "c1"}, format="json"
    )
    replay = client.post(
        _url(acc, "commit"), {"quote": quote["quote"], "idempotency_key": "c1"}, format="json"
    )
    # then 5 EUR voucher, 1500 points = 15 EUR, 30 EUR to pay
    assert (quote["voucher_discount"], quote["points"], quote["payable"]) == ("5.00", 1500, "30.00")
    assert (commit.status_code, replay.status_code) == (201, 200)
    assert commit.json()["balance"] == replay.json()["balance"] == 0
    assert Voucher.objects.get(pk=voucher.pk).uses == 1


def test_a_quote_cannot_be_committed_on_another_account(agent, api_as) -> None:
    acc, other = account(), account()
    services.points_earn(account=acc, points=100, idempotency_key="e")
    client = api_as(agent)
    quote = client.post(_url(acc, "quote"), {"order_total": "5.00"}, format="json").json()
    response = client.post(
        _url(other, "commit"), {"quote": quote["quote"], "idempotency_key": "x"}, format="json"
    )
    assert response.status_code == 400 and "quote" in response.json()


def test_voucher_validate_and_redeem(agent, api_as) -> None:
    voucher = services.voucher_issue(actor=None, kind="amount", value="10", min_order="30")
    client = api_as(agent)
    small = client.post(
        "/api/loyalty/vouchers/validate/",
        {"code": voucher.code, "order_total": "20"},
        format="json",
    )
    ok = client.post(
        "/api/loyalty/vouchers/validate/",
        {"code": voucher.code, "order_total": "40"},
        format="json",
    )
    used = client.post(
        "/api/loyalty/vouchers/redeem/",
        {"code": voucher.code.lower(), "order_total": "40"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="till-7",
    )
    again = client.post(
        "/api/loyalty/vouchers/redeem/",
        {"code": voucher.code, "order_total": "40", "idempotency_key": "till-8"},
        format="json",
    )
    assert small.status_code == 400 and "order_total" in small.json()
    assert ok.status_code == 200 and ok.json()["discount"] == "10.00"
    assert used.status_code == 201
    assert again.status_code == 400 and "code" in again.json()


def test_unknown_voucher_is_400(agent, api_as) -> None:
    response = api_as(agent).post(
        "/api/loyalty/vouchers/validate/", {"code": "NOPE", "order_total": "20"}, format="json"
    )
    assert response.status_code == 400 and "code" in response.json()


@pytest.mark.parametrize("who", ["partner_agent", "no_role_user"])
def test_users_outside_the_business_cannot_see_or_book(who, request, api_as) -> None:
    # given
    user = request.getfixturevalue(who)
    acc = account()
    client = api_as(user)
    # when / then
    assert client.get(f"/api/loyalty/accounts/{acc.pk}/").status_code in (403, 404)
    assert client.get(f"/api/loyalty/accounts/card/{acc.card_number}/").status_code in (403, 404)
    assert client.get(_url(acc, "entries")).status_code in (403, 404)
    post = client.post(_url(acc, "earn"), {"points": 5, "idempotency_key": "x"}, format="json")
    assert post.status_code in (403, 404)
    voucher = services.voucher_issue(actor=None, kind="amount", value="5")
    response = client.post(
        "/api/loyalty/vouchers/redeem/",
        {"code": voucher.code, "order_total": "20", "idempotency_key": "y"},
        format="json",
    )
    assert response.status_code in (403, 404)
    assert not PointsEntry.objects.filter(account=acc).exists()
    assert Voucher.objects.get(pk=voucher.pk).uses == 0


def test_analyst_may_read_but_not_book(make_user, api_as) -> None:
    analyst = make_user("analyst")
    acc = account()
    client = api_as(analyst)
    assert client.get(f"/api/loyalty/accounts/{acc.pk}/").status_code == 200
    assert (
        client.post(
            _url(acc, "earn"), {"points": 5, "idempotency_key": "x"}, format="json"
        ).status_code
        == 403
    )


def test_anonymous_is_refused(client) -> None:
    acc = account()
    assert client.get(f"/api/loyalty/accounts/{acc.pk}/").status_code in (401, 403)


def test_history_lists_entries_newest_first(agent, api_as, django_assert_max_num_queries) -> None:
    acc = account()
    for i in range(5):
        services.points_earn(account=acc, points=10 + i, idempotency_key=f"e{i}")
    with django_assert_max_num_queries(8):
        response = api_as(agent).get(_url(acc, "entries"))
    assert [e["points"] for e in response.json()["results"]] == [14, 13, 12, 11, 10]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ([10], "non_field_errors"),
        ({"reason": "no points"}, "points"),
        ({"points": 10, "reason": "x" * 301}, "reason"),
        ({"points": 10, "reason": 5}, "reason"),
        ({"points": 10, "currency": None}, "currency"),
        ({"points": 10, "currency": "CHF"}, "currency"),
        ({"points": 1.5}, "points"),
    ],
)
@pytest.mark.parametrize("action", ["earn", "redeem"])
def test_a_bad_body_is_400_with_the_field_and_books_nothing(agent, api_as, body, field, action):
    acc = account()
    response = api_as(agent).post(
        _url(acc, action), body, format="json", HTTP_IDEMPOTENCY_KEY="bad-1"
    )
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert PointsEntry.objects.filter(account=acc).count() == 0
