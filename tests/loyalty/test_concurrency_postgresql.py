"""50 threads with their own PostgreSQL connections earn, redeem and use vouchers at once.

Each thread also replays some keys that another thread uses, so the same
request arrives twice at the same moment. Afterwards no point may be lost or
doubled (balance = sum of entries = sum of lot remainders = what the
successful requests add up to) and no single-use voucher may be used twice.
"""

from __future__ import annotations

import random
import threading
from collections import defaultdict
from typing import Any

import pytest
from django.db import connection
from django.db.models import Sum

from stammkunde.core.errors import ApplicationError
from stammkunde.loyalty import services
from stammkunde.loyalty.models import LoyaltyAccount, PointsEntry, PointsLot, Voucher
from tests.conftest import require

from .factories import account

THREADS = 50
OPS_PER_THREAD = 12
ACCOUNTS = 4
VOUCHERS = 30


@pytest.mark.django_db(transaction=True)
def test_parallel_clients_never_lose_or_double_points_nor_reuse_a_voucher() -> None:
    require(connection.vendor == "postgresql", "row locks are tested on PostgreSQL")
    # given a few accounts with points and single-use vouchers
    accounts = [account() for _ in range(ACCOUNTS)]
    for acc in accounts:
        services.points_earn(account=acc, points=1000, idempotency_key="start")
    vouchers = [
        services.voucher_issue(actor=None, kind="amount", value="5") for _ in range(VOUCHERS)
    ]
    results: dict[str, list[Any]] = defaultdict(list)
    lock = threading.Lock()
    barrier = threading.Barrier(THREADS)
    errors: list[BaseException] = []

    def client(n: int) -> None:
        rng = random.Random(n)
        try:
            barrier.wait()
            for i in range(OPS_PER_THREAD):
                acc = rng.choice(accounts)
                # Pairs of threads share keys: thread 2k and 2k+1 send the same request.
                key = f"{n // 2}-{i}"
                what = (n // 2 + i) % 3
                try:
                    if what == 0:
                        b = services.points_earn(account=acc, points=7, idempotency_key=f"e{key}")
                        kind = "earn"
                    elif what == 1:
                        b = services.points_redeem(
                            account=acc, points=40, idempotency_key=f"r{key}"
                        )
                        kind = "redeem"
                    else:
                        v = vouchers[(n // 2 + i) % VOUCHERS]
                        use = services.voucher_redeem(
                            code=v.code, order_total="20", idempotency_key=f"v{key}"
                        )
                        with lock:
                            results["voucher"].append((v.pk, use.redemption.pk))
                        continue
                    with lock:
                        results[kind].append(
                            (b.entry.account_id, b.entry.idempotency_key, b.entry.pk)
                        )
                except ApplicationError as exc:
                    with lock:
                        results["refused"].append(exc.code)
        except BaseException as exc:  # noqa: BLE001 - reported to the main thread below
            errors.append(exc)
        finally:
            connection.close()

    # when
    threads = [threading.Thread(target=client, args=(n,)) for n in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    # then
    assert not errors, errors
    for kind in ("earn", "redeem"):
        by_key: dict[tuple[int, str], set[int]] = defaultdict(set)
        for account_id, key, entry_pk in results[kind]:
            by_key[(account_id, key)].add(entry_pk)
        assert all(len(pks) == 1 for pks in by_key.values()), "a replay booked a second entry"
    for acc in accounts:
        acc = LoyaltyAccount.objects.get(pk=acc.pk)
        entries = PointsEntry.objects.filter(account=acc).aggregate(s=Sum("points"))["s"]
        lots = PointsLot.objects.filter(account=acc).aggregate(s=Sum("remaining"))["s"]
        earned = 7 * len({k for a, k, _ in results["earn"] if a == acc.pk})
        redeemed = 40 * len({k for a, k, _ in results["redeem"] if a == acc.pk})
        assert acc.balance == entries == lots == 1000 + earned - redeemed
        assert PointsLot.objects.filter(account=acc, remaining__lt=0).count() == 0
    for voucher in Voucher.objects.filter(pk__in=[v.pk for v in vouchers]):
        assert voucher.uses <= 1
        assert voucher.redemptions.count() == voucher.uses
        assert len({r for v, r in results["voucher"] if v == voucher.pk}) == voucher.uses
    assert results["earn"] and results["redeem"] and results["voucher"]
