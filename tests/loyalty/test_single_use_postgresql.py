"""Racing tills on PostgreSQL: one quote, one voucher, many keys at the same moment.

Each thread has its own connection and waits at a barrier, so the requests
reach the database together. Exactly one booking may win; the others are
refused (quote used, voucher used) and book nothing.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection

from stammkunde.core.errors import ApplicationError
from stammkunde.loyalty import services
from stammkunde.loyalty.models import (
    CheckoutBooking,
    LoyaltyAccount,
    PointsEntry,
    Voucher,
    VoucherRedemption,
)
from tests.conftest import require

from .factories import account

THREADS = 12


def _race(work: Callable[[int], Any]) -> tuple[list[Any], list[str]]:
    """Run ``work(n)`` in THREADS threads at once; return the answers and the refusal codes."""
    barrier = threading.Barrier(THREADS)
    lock = threading.Lock()
    answers: list[Any] = []
    refused: list[str] = []
    errors: list[BaseException] = []

    def client(n: int) -> None:
        try:
            barrier.wait()
            try:
                answer = work(n)
            except ApplicationError as exc:
                with lock:
                    refused.append(exc.code)
            else:
                with lock:
                    answers.append(answer)
        except BaseException as exc:  # noqa: BLE001 - reported to the main thread below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=client, args=(n,)) for n in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    return answers, refused


@pytest.mark.django_db(transaction=True)
def test_one_quote_sent_by_racing_tills_with_different_keys_books_once() -> None:
    require(connection.vendor == "postgresql", "row locks are tested on PostgreSQL")
    # given a quote that redeems points and a voucher that allows many uses
    acc = account()
    services.points_earn(account=acc, points=100_000, idempotency_key="start")
    voucher = services.voucher_issue(actor=None, kind="amount", value="50", max_uses=THREADS)
    quote = services.checkout_quote(
        account=acc, order_total="899.00", points=20_000, voucher_code=voucher.code
    )
    # when every thread commits it, pairs of threads with the same key
    answers, refused = _race(
        lambda n: services.checkout_commit(token=quote.token, idempotency_key=f"till-{n // 2}")
    )
    # then one booking; its twin replays it; everyone else is told the quote is used
    assert sorted(a.replayed for a in answers) == [False, True]
    assert refused == ["quote_used"] * (THREADS - 2)
    assert CheckoutBooking.objects.count() == 1
    assert PointsEntry.objects.filter(account=acc, kind="redeem").count() == 1
    assert LoyaltyAccount.objects.get(pk=acc.pk).balance == 80_000
    assert Voucher.objects.get(pk=voucher.pk).uses == 1


@pytest.mark.django_db(transaction=True)
def test_a_single_use_voucher_redeemed_by_racing_tills_is_used_once() -> None:
    require(connection.vendor == "postgresql", "row locks are tested on PostgreSQL")
    voucher = services.voucher_issue(actor=None, kind="amount", value="5")
    answers, refused = _race(
        lambda n: services.voucher_redeem(
            code=voucher.code, order_total="20", idempotency_key=f"till-{n}"
        )
    )
    assert len(answers) == 1 and refused == ["voucher_used"] * (THREADS - 1)
    assert VoucherRedemption.objects.filter(voucher=voucher).count() == 1
    assert Voucher.objects.get(pk=voucher.pk).uses == 1


@pytest.mark.django_db(transaction=True)
def test_a_voucher_for_three_uses_is_used_three_times_by_racing_tills() -> None:
    require(connection.vendor == "postgresql", "row locks are tested on PostgreSQL")
    voucher = services.voucher_issue(actor=None, kind="amount", value="5", max_uses=3)
    answers, refused = _race(
        lambda n: services.voucher_redeem(
            code=voucher.code, order_total="20", idempotency_key=f"till-{n}"
        )
    )
    assert len(answers) == 3 and refused == ["voucher_used"] * (THREADS - 3)
    assert Voucher.objects.get(pk=voucher.pk).uses == 3


@pytest.mark.django_db(transaction=True)
def test_a_goodwill_voucher_sent_twice_at_once_issues_one(make_user) -> None:
    require(connection.vendor == "postgresql", "unique constraints race on PostgreSQL")
    agent = make_user("agent")
    acc = account()
    answers, refused = _race(
        lambda n: (
            services.voucher_goodwill_issue(
                actor=agent,
                customer=acc.customer,
                value="20",
                reason="Entschuldigung",
                idempotency_key="goodwill:form-1",
            ).pk
        )
    )
    assert len(set(answers)) == 1 and not refused
    assert Voucher.objects.filter(customer=acc.customer).count() == 1
