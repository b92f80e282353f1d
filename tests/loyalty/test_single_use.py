"""Single use: a checkout quote, a voucher and a goodwill form book once, whatever key comes.

The idempotency key makes a retry safe; it must not turn one basket into two
bookings. A quote is booked once: the same key replays the first answer,
another key is refused (409 ``quote_used``) and books nothing.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse
from django.utils import translation

from stammkunde.core.errors import ConflictError
from stammkunde.loyalty import services
from stammkunde.loyalty.models import LoyaltyAccount, PointsEntry, Voucher, VoucherRedemption

from .factories import account

pytestmark = pytest.mark.django_db


def _url(acc: Any, action: str) -> str:
    return f"/api/loyalty/accounts/{acc.pk}/{action}/"


def _commit(client: Any, acc: Any, quote: str, key: str) -> Any:
    return client.post(_url(acc, "commit"), {"quote": quote, "idempotency_key": key}, format="json")


def test_a_booked_quote_sent_again_with_a_new_key_is_409_and_books_nothing(agent, api_as) -> None:
    # given a 899 EUR basket paid with points and a voucher that may be used three times
    acc = account()
    services.points_earn(account=acc, points=100_000, idempotency_key="e")
    voucher = services.voucher_issue(actor=None, kind="amount", value="50", max_uses=3)
    client = api_as(agent)
    quote = client.post(
        _url(acc, "quote"),
        {"order_total": "899.00", "points": 20_000, "voucher_code": voucher.code},
        format="json",
    ).json()["quote"]
    first = _commit(client, acc, quote, "till-1")
    # when the till sends the same quote again under new keys
    second = _commit(client, acc, quote, "till-2")
    third = _commit(client, acc, quote, "till-3")
    # then
    assert first.status_code == 201
    assert (second.status_code, second.json()["code"]) == (409, "quote_used")
    assert third.status_code == 409
    acc.refresh_from_db()
    assert acc.balance == 80_000
    assert PointsEntry.objects.filter(account=acc, kind="redeem").count() == 1
    assert Voucher.objects.get(pk=voucher.pk).uses == 1


def test_the_same_key_replays_the_first_answer_of_a_quote(agent, api_as) -> None:
    acc = account()
    services.points_earn(account=acc, points=1000, idempotency_key="e")
    client = api_as(agent)
    quote = client.post(_url(acc, "quote"), {"order_total": "5.00"}, format="json").json()
    first = _commit(client, acc, quote["quote"], "k")
    services.points_earn(account=acc, points=7, idempotency_key="later")
    again = _commit(client, acc, quote["quote"], "k")
    assert (first.status_code, again.status_code) == (201, 200)
    body = again.json()
    assert body["replayed"] is True
    assert {k: body[k] for k in ("points", "balance")} == {"points": 500, "balance": 500}


def test_a_quote_that_books_nothing_is_still_used_once(agent, api_as) -> None:
    # a member without points: the quote redeems nothing, but it is still one quote
    acc = account()
    client = api_as(agent)
    quote = client.post(_url(acc, "quote"), {"order_total": "5.00"}, format="json").json()
    assert quote["points"] == 0
    assert _commit(client, acc, quote["quote"], "a").status_code == 201
    assert _commit(client, acc, quote["quote"], "a").status_code == 200
    assert _commit(client, acc, quote["quote"], "b").status_code == 409


def test_quote_used_is_explained_in_german(agent, api_as) -> None:
    acc = account()
    client = api_as(agent)
    quote = client.post(_url(acc, "quote"), {"order_total": "5.00"}, format="json").json()
    _commit(client, acc, quote["quote"], "a")
    response = client.post(
        _url(acc, "commit"),
        {"quote": quote["quote"], "idempotency_key": "b"},
        format="json",
        HTTP_ACCEPT_LANGUAGE="de",
    )
    assert response.status_code == 409
    assert "bereits gebucht" in response.json()["detail"]


def test_a_key_used_for_one_quote_cannot_book_another() -> None:
    acc = account()
    services.points_earn(account=acc, points=1000, idempotency_key="e")
    one = services.checkout_quote(account=acc, order_total="3.00")
    other = services.checkout_quote(account=acc, order_total="3.00")
    services.checkout_commit(token=one.token, idempotency_key="k")
    with pytest.raises(ConflictError) as refused:
        services.checkout_commit(token=other.token, idempotency_key="k")
    assert refused.value.code == "idempotency_key_reused"
    assert LoyaltyAccount.objects.get(pk=acc.pk).balance == 700


def test_two_quotes_of_the_same_basket_in_the_same_second_are_two_quotes() -> None:
    # Two customers' baskets with equal terms: each quote books once, both book.
    acc = account()
    services.points_earn(account=acc, points=1000, idempotency_key="e")
    one = services.checkout_quote(account=acc, order_total="2.00")
    two = services.checkout_quote(account=acc, order_total="2.00")
    assert one.token != two.token
    services.checkout_commit(token=one.token, idempotency_key="a")
    services.checkout_commit(token=two.token, idempotency_key="b")
    assert LoyaltyAccount.objects.get(pk=acc.pk).balance == 600


def test_a_key_of_a_direct_redemption_is_not_taken_for_a_checkout_replay() -> None:
    acc = account()
    services.points_earn(account=acc, points=1000, idempotency_key="e")
    services.points_redeem(account=acc, points=300, idempotency_key="k")
    quote = services.checkout_quote(account=acc, order_total="3.00")
    with pytest.raises(ConflictError) as refused:
        services.checkout_commit(token=quote.token, idempotency_key="k")
    assert refused.value.code == "idempotency_key_reused"


def test_a_single_use_voucher_is_refused_under_any_other_key(agent, api_as) -> None:
    voucher = services.voucher_issue(actor=None, kind="amount", value="10")
    client = api_as(agent)
    codes: list[int] = []
    for key in ("a", "b", "c"):
        response = client.post(
            "/api/loyalty/vouchers/redeem/",
            {"code": voucher.code, "order_total": "40", "idempotency_key": key},
            format="json",
        )
        codes.append(response.status_code)
    assert codes == [201, 400, 400]
    assert VoucherRedemption.objects.filter(voucher=voucher).count() == 1


def _goodwill_voucher(client: Any, customer_pk: int, key: str) -> Any:
    body = {"kind": "voucher", "amount": "20", "reason": "Entschuldigung", "idempotency_key": key}
    return client.post(reverse("loyalty:goodwill", args=[customer_pk]), body)


def test_a_goodwill_voucher_form_sent_twice_issues_one_voucher(agent, client) -> None:
    acc = account()
    client.force_login(agent)
    _goodwill_voucher(client, acc.customer.pk, "goodwill:form-1")
    _goodwill_voucher(client, acc.customer.pk, "goodwill:form-1")
    assert Voucher.objects.filter(customer=acc.customer).count() == 1
    # a new form (new key) is a new decision
    _goodwill_voucher(client, acc.customer.pk, "goodwill:form-2")
    assert Voucher.objects.filter(customer=acc.customer).count() == 2


def test_a_goodwill_voucher_key_of_another_customer_issues_a_new_voucher(agent, client) -> None:
    one, two = account(), account()
    client.force_login(agent)
    _goodwill_voucher(client, one.customer.pk, "goodwill:same")
    _goodwill_voucher(client, two.customer.pk, "goodwill:same")
    assert Voucher.objects.filter(customer=two.customer).count() == 1


def test_messages_stay_english_without_a_language() -> None:
    acc = account()
    quote = services.checkout_quote(account=acc, order_total="1.00")
    services.checkout_commit(token=quote.token, idempotency_key="a")
    with translation.override("en"), pytest.raises(ConflictError, match="already been booked"):
        services.checkout_commit(token=quote.token, idempotency_key="b")
